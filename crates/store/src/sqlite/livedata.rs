//! [`LivedataStore`] on SQLite (migration `0004_livedata.sql`).

use async_trait::async_trait;
use portico_model::{DataSource, LdApi, LdDeployment, LdScript, LdTestRun, Page, Paged, RomaApp, ld_status, new_id};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, Transaction};
use time::OffsetDateTime;

use super::{
    SqliteStore, check_api_conflicts, doc_in, env_in, from_doc, group_exists, insert_apis, policies, publish_in,
    push_text_filter, to_doc, unique_or,
};
use crate::livedata::{DataSourceFilter, FrontendApi, LdApiFilter, LdApiUpdate, LdImportAction, LdImportMode};
use crate::{Conflict, Kind, LivedataStore, Result, StoreError, TextMatch};

type Tx = Transaction<'static, Sqlite>;

/// The conflict a custom backend named `name` at `route` would cause in `app_id`, other than
/// `except`.
async fn ld_conflict(
    tx: &mut sqlx::SqliteConnection,
    app_id: &str,
    name: Option<&str>,
    route: Option<(&str, &str)>,
    except: Option<&str>,
) -> Result<Option<Conflict>> {
    let except = except.unwrap_or("");
    if let Some(name) = name {
        let taken = sqlx::query("SELECT 1 FROM livedata_apis WHERE app_id = ? AND name = ? AND id <> ?")
            .bind(app_id)
            .bind(name)
            .bind(except)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Ok(Some(Conflict::LdApiName(name.into())));
        }
    }
    if let Some((method, path)) = route {
        let taken = sqlx::query("SELECT 1 FROM livedata_apis WHERE app_id = ? AND method = ? AND path = ? AND id <> ?")
            .bind(app_id)
            .bind(method)
            .bind(path)
            .bind(except)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Ok(Some(Conflict::LdApiRoute(format!("{method} {path}"))));
        }
    }
    Ok(None)
}

async fn check_ld_conflicts(tx: &mut Tx, api: &LdApi, except: Option<&str>) -> Result<()> {
    let route = Some((api.method.as_str(), api.path.as_str()));
    match ld_conflict(tx, &api.roma_app_id, Some(&api.name), route, except).await? {
        Some(conflict) => Err(conflict.into()),
        None => Ok(()),
    }
}

async fn roma_app_in(tx: &mut sqlx::SqliteConnection, instance_id: &str, id: &str) -> Result<RomaApp> {
    doc_in(tx, "roma_apps", Kind::RomaApp, instance_id, id).await
}

async fn ld_api_in(tx: &mut Tx, instance_id: &str, id: &str) -> Result<LdApi> {
    doc_in(&mut **tx, "livedata_apis", Kind::LdApi, instance_id, id).await
}

async fn insert_ld_api(tx: &mut Tx, instance_id: &str, api: &LdApi) -> Result<()> {
    roma_app_in(tx, instance_id, &api.roma_app_id).await?;
    check_ld_conflicts(tx, api, None).await?;
    sqlx::query(
        "INSERT INTO livedata_apis (id, instance_id, app_id, name, method, path, status, doc) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&api.id)
    .bind(instance_id)
    .bind(&api.roma_app_id)
    .bind(&api.name)
    .bind(&api.method)
    .bind(&api.path)
    .bind(api.status)
    .bind(to_doc(api)?)
    .execute(&mut **tx)
    .await?;
    record_sources(tx, instance_id, api).await
}

async fn replace_ld_api(tx: &mut Tx, instance_id: &str, api: &LdApi) -> Result<()> {
    roma_app_in(tx, instance_id, &api.roma_app_id).await?;
    check_ld_conflicts(tx, api, Some(&api.id)).await?;
    sqlx::query(
        "UPDATE livedata_apis SET app_id = ?, name = ?, method = ?, path = ?, status = ?, doc = ? \
         WHERE instance_id = ? AND id = ?",
    )
    .bind(&api.roma_app_id)
    .bind(&api.name)
    .bind(&api.method)
    .bind(&api.path)
    .bind(api.status)
    .bind(to_doc(api)?)
    .bind(instance_id)
    .bind(&api.id)
    .execute(&mut **tx)
    .await?;
    record_sources(tx, instance_id, api).await
}

/// Checks the data source of each script, fills in its name and kind, and records which data
/// sources the backend uses.
async fn resolve_sources(tx: &mut Tx, instance_id: &str, scripts: &mut [LdScript]) -> Result<()> {
    for (i, script) in scripts.iter_mut().enumerate() {
        let Some(ds_id) = script.ds_id.as_deref() else { continue };
        let source: DataSource =
            doc_in(&mut **tx, "data_sources", Kind::DataSource, instance_id, ds_id).await.map_err(|e| match e {
                StoreError::NotFound { .. } => StoreError::BadReference {
                    field: format!("scripts[{i}].ds_id"),
                    message: format!("The data source {ds_id} does not exist"),
                },
                other => other,
            })?;
        script.ds_name = Some(source.datasource_name);
        script.ds_type = Some(source.datasource_type.to_ascii_lowercase());
    }
    Ok(())
}

async fn record_sources(tx: &mut Tx, instance_id: &str, api: &LdApi) -> Result<()> {
    sqlx::query("DELETE FROM livedata_sources WHERE ld_api_id = ?").bind(&api.id).execute(&mut **tx).await?;
    for ds_id in api.scripts.iter().filter_map(|s| s.ds_id.as_deref()) {
        let exists = sqlx::query("SELECT 1 FROM data_sources WHERE instance_id = ? AND id = ?")
            .bind(instance_id)
            .bind(ds_id)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::BadReference {
                field: "scripts.ds_id".into(),
                message: format!("The data source {ds_id} does not exist"),
            });
        }
        sqlx::query("INSERT OR IGNORE INTO livedata_sources (ld_api_id, ds_id) VALUES (?, ?)")
            .bind(&api.id)
            .bind(ds_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn push_ld_filters(q: &mut QueryBuilder<Sqlite>, instance_id: &str, filter: &LdApiFilter) {
    q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
    if let Some(app_id) = &filter.app_id {
        q.push(" AND app_id = ").push_bind(app_id.clone());
    }
    if let Some(app_name) = &filter.app_name {
        q.push(" AND app_id IN (SELECT id FROM roma_apps WHERE 1 = 1");
        push_text_filter(q, "name", app_name);
        q.push(")");
    }
    if let Some(name) = &filter.name {
        push_text_filter(q, "name", name);
    }
    if let Some(path) = &filter.path {
        push_text_filter(q, "path", path);
    }
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status);
    }
    if let Some(ids) = &filter.ids {
        q.push(" AND id IN (SELECT value FROM json_each(").push_bind(serde_json::json!(ids).to_string()).push("))");
    }
}

fn decode_data_source(row: &SqliteRow) -> Result<DataSource> {
    from_doc(row, "doc")
}

#[async_trait]
impl LivedataStore for SqliteStore {
    async fn create_roma_app(&self, instance_id: &str, app: &RomaApp, secret: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO roma_apps (id, instance_id, name, sealed_secret, doc) VALUES (?, ?, ?, ?, ?)")
            .bind(&app.id)
            .bind(instance_id)
            .bind(&app.name)
            .bind(self.secrets.seal(secret)?)
            .bind(to_doc(app)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::RomaAppName(app.name.clone())))?;
        self.commit(tx).await
    }

    async fn roma_app(&self, instance_id: &str, id: &str) -> Result<RomaApp> {
        doc_in(&self.pool, "roma_apps", Kind::RomaApp, instance_id, id).await
    }

    async fn list_roma_apps(&self, instance_id: &str, name: Option<&TextMatch>, page: Page) -> Result<Paged<RomaApp>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(name) = name {
                push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "roma_apps", "seq", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn delete_roma_app(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let app = roma_app_in(&mut tx, instance_id, id).await?;
        for (table, label) in
            [("data_sources", "integration application"), ("livedata_apis", "integration application")]
        {
            let owned = sqlx::query(AssertSqlSafe(format!("SELECT name FROM {table} WHERE app_id = ? LIMIT 1")))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = owned {
                return Err(Conflict::InUse(label, app.name, row.try_get("name")?).into());
            }
        }
        sqlx::query("DELETE FROM roma_apps WHERE id = ?").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
    }

    async fn create_data_source(&self, instance_id: &str, source: &DataSource, password: Option<&str>) -> Result<()> {
        let mut tx = self.write().await?;
        roma_app_in(&mut tx, instance_id, &source.app_id).await?;
        let sealed = password.map(|p| self.secrets.seal(p)).transpose()?;
        sqlx::query(
            "INSERT INTO data_sources (id, instance_id, app_id, name, kind, sealed_password, doc) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&source.datasource_id)
        .bind(instance_id)
        .bind(&source.app_id)
        .bind(&source.datasource_name)
        .bind(&source.datasource_type)
        .bind(sealed)
        .bind(to_doc(source)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::DataSourceName(source.datasource_name.clone())))?;
        self.commit(tx).await
    }

    async fn data_source(&self, instance_id: &str, id: &str) -> Result<(DataSource, Option<String>)> {
        let row = sqlx::query("SELECT doc, sealed_password FROM data_sources WHERE instance_id = ? AND id = ?")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::DataSource, id))?;
        let sealed: Option<String> = row.try_get("sealed_password")?;
        Ok((decode_data_source(&row)?, sealed.map(|s| self.secrets.open(&s)).transpose()?))
    }

    async fn list_data_sources(
        &self,
        instance_id: &str,
        filter: &DataSourceFilter,
        page: Page,
    ) -> Result<Paged<DataSource>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(app_id) = &filter.app_id {
                q.push(" AND app_id = ").push_bind(app_id.clone());
            }
            if let Some(kind) = &filter.datasource_type {
                q.push(" AND kind = ").push_bind(kind.to_ascii_uppercase());
            }
            if let Some(name) = &filter.name {
                push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "data_sources", "seq", filters, page, decode_data_source).await
    }

    async fn delete_data_source(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let source: DataSource = doc_in(&mut *tx, "data_sources", Kind::DataSource, instance_id, id).await?;
        let user = sqlx::query(
            "SELECT a.name FROM livedata_sources s JOIN livedata_apis a ON a.id = s.ld_api_id WHERE s.ds_id = ? LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = user {
            return Err(Conflict::InUse("data source", source.datasource_name, row.try_get("name")?).into());
        }
        sqlx::query("DELETE FROM data_sources WHERE id = ?").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
    }

    async fn create_ld_api(&self, instance_id: &str, api: &LdApi) -> Result<()> {
        let mut tx = self.write().await?;
        insert_ld_api(&mut tx, instance_id, api).await?;
        self.commit(tx).await
    }

    async fn update_ld_api(&self, instance_id: &str, id: &str, change: &LdApiUpdate<'_>) -> Result<LdApi> {
        let mut tx = self.write().await?;
        let stored = ld_api_in(&mut tx, instance_id, id).await?;
        let next = change(&stored)?;
        replace_ld_api(&mut tx, instance_id, &next).await?;
        self.commit(tx).await?;
        Ok(next)
    }

    async fn ld_api(&self, instance_id: &str, id: &str) -> Result<LdApi> {
        doc_in(&self.pool, "livedata_apis", Kind::LdApi, instance_id, id).await
    }

    async fn list_ld_apis(&self, instance_id: &str, filter: &LdApiFilter, page: Page) -> Result<Paged<LdApi>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| push_ld_filters(q, instance_id, filter);
        self.paged("doc", "livedata_apis", "seq", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn export_ld_apis(&self, instance_id: &str, filter: &LdApiFilter) -> Result<Vec<LdApi>> {
        let mut q = QueryBuilder::new("SELECT doc FROM livedata_apis");
        push_ld_filters(&mut q, instance_id, filter);
        q.push(" ORDER BY path, method, seq");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(|r| from_doc(r, "doc")).collect()
    }

    async fn delete_ld_api(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let api = ld_api_in(&mut tx, instance_id, id).await?;
        if api.status == ld_status::DEPLOYED {
            return Err(Conflict::LdApiDeployed(api.name).into());
        }
        sqlx::query("DELETE FROM livedata_apis WHERE id = ?").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
    }

    async fn ld_api_conflict(
        &self,
        instance_id: &str,
        app_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str)>,
    ) -> Result<Option<Conflict>> {
        let mut conn = self.pool.acquire().await?;
        roma_app_in(&mut conn, instance_id, app_id).await?;
        ld_conflict(&mut conn, app_id, name, route, None).await
    }

    async fn set_ld_scripts(
        &self,
        instance_id: &str,
        id: &str,
        api_type: &str,
        mut scripts: Vec<LdScript>,
        now: OffsetDateTime,
    ) -> Result<LdApi> {
        let mut tx = self.write().await?;
        let mut api = ld_api_in(&mut tx, instance_id, id).await?;
        resolve_sources(&mut tx, instance_id, &mut scripts).await?;
        api.api_type = api_type.to_string();
        api.scripts = scripts;
        api.modified_time = now;
        if api.status == ld_status::PENDING {
            api.status = ld_status::DEVELOPING;
        }
        replace_ld_api(&mut tx, instance_id, &api).await?;
        self.commit(tx).await?;
        Ok(api)
    }

    async fn deploy_ld_api(
        &self,
        instance_id: &str,
        id: &str,
        frontend: Option<FrontendApi>,
        now: OffsetDateTime,
    ) -> Result<LdDeployment> {
        let mut tx = self.write().await?;
        let mut api = ld_api_in(&mut tx, instance_id, id).await?;
        if api.scripts.is_empty() {
            return Err(Conflict::LdApiStatus(api.name, "has no scripts; add them before deploying").into());
        }
        let (mut group_id, mut env_id, mut api_id) = (None, None, None);
        if let Some(FrontendApi { api: front, env_id: env }) = frontend {
            env_in(&mut tx, instance_id, &env).await?;
            group_exists(&mut tx, instance_id, &front.definition.group_id).await?;
            check_api_conflicts(&mut tx, &front, None).await?;
            insert_apis(&mut tx, instance_id, std::slice::from_ref(&front)).await?;
            policies::record_references(&mut tx, instance_id, &front).await?;
            publish_in(&mut tx, instance_id, &env, &front, Some("deployed from a custom backend"), now).await?;
            group_id = Some(front.definition.group_id.clone());
            env_id = Some(env);
            api_id = Some(front.id.clone());
        }
        api.status = ld_status::DEPLOYED;
        api.modified_time = now;
        replace_ld_api(&mut tx, instance_id, &api).await?;
        let deployment = LdDeployment {
            id: new_id(),
            ld_api_id: api.id.clone(),
            group_id,
            env_id,
            api_id,
            deploy_time: now,
            api_definition: api,
        };
        sqlx::query("INSERT INTO livedata_deployments (id, ld_api_id, doc) VALUES (?, ?, ?)")
            .bind(&deployment.id)
            .bind(id)
            .bind(to_doc(&deployment)?)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(deployment)
    }

    async fn undeploy_ld_api(&self, instance_id: &str, id: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let mut api = ld_api_in(&mut tx, instance_id, id).await?;
        if api.status != ld_status::DEPLOYED {
            return Err(Conflict::LdApiStatus(api.name, "is not deployed").into());
        }
        let last = sqlx::query("SELECT doc FROM livedata_deployments WHERE ld_api_id = ? ORDER BY seq DESC LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = last {
            let deployment: LdDeployment = from_doc(&row, "doc")?;
            if let (Some(api_id), Some(env_id)) = (deployment.api_id, deployment.env_id) {
                sqlx::query("DELETE FROM publications WHERE instance_id = ? AND api_id = ? AND env_id = ?")
                    .bind(instance_id)
                    .bind(api_id)
                    .bind(env_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        api.status = ld_status::DEVELOPING;
        api.modified_time = now;
        replace_ld_api(&mut tx, instance_id, &api).await?;
        self.commit(tx).await
    }

    async fn ld_deployments(&self, instance_id: &str, id: &str, page: Page) -> Result<Paged<LdDeployment>> {
        self.ld_api(instance_id, id).await?;
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE ld_api_id = ").push_bind(id.to_string());
        };
        self.paged("doc", "livedata_deployments", "seq DESC", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn record_ld_test(&self, instance_id: &str, run: &LdTestRun) -> Result<LdTestRun> {
        let mut tx = self.write().await?;
        ld_api_in(&mut tx, instance_id, &run.ld_api_id).await?;
        let inserted = sqlx::query("INSERT INTO livedata_tests (ld_api_id, doc) VALUES (?, '{}')")
            .bind(&run.ld_api_id)
            .execute(&mut *tx)
            .await?;
        let recorded = LdTestRun { test_id: inserted.last_insert_rowid(), ..run.clone() };
        sqlx::query("UPDATE livedata_tests SET doc = ? WHERE test_id = ?")
            .bind(to_doc(&recorded)?)
            .bind(recorded.test_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(recorded)
    }

    async fn ld_tests(&self, instance_id: &str, id: &str, page: Page) -> Result<Paged<LdTestRun>> {
        self.ld_api(instance_id, id).await?;
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE ld_api_id = ").push_bind(id.to_string());
        };
        self.paged("doc", "livedata_tests", "test_id DESC", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn import_ld_apis(
        &self,
        instance_id: &str,
        apis: Vec<LdApi>,
        mode: LdImportMode,
    ) -> Result<Vec<std::result::Result<LdImportAction, StoreError>>> {
        let mut tx = self.write().await?;
        let mut outcome = Vec::with_capacity(apis.len());
        for mut api in apis {
            let existing = sqlx::query(
                "SELECT doc FROM livedata_apis WHERE instance_id = ? AND app_id = ? AND method = ? AND path = ?",
            )
            .bind(instance_id)
            .bind(&api.roma_app_id)
            .bind(&api.method)
            .bind(&api.path)
            .fetch_optional(&mut *tx)
            .await?;
            let result = match existing {
                Some(row) => {
                    let stored: LdApi = from_doc(&row, "doc")?;
                    match mode {
                        LdImportMode::Merge => Ok(LdImportAction::Kept(stored.id)),
                        LdImportMode::Override => {
                            api.id = stored.id.clone();
                            api.created_time = stored.created_time;
                            match import_scripts(&mut tx, instance_id, &mut api).await {
                                Ok(()) => {
                                    // Matched on (application, method, path), the fields a
                                    // deployment fixes; a deployed backend stays deployed.
                                    if stored.status == ld_status::DEPLOYED {
                                        api.status = ld_status::DEPLOYED;
                                    }
                                    replace_ld_api(&mut tx, instance_id, &api)
                                        .await
                                        .map(|()| LdImportAction::Updated(stored.id))
                                }
                                Err(e) => Err(e),
                            }
                        }
                    }
                }
                None => match import_scripts(&mut tx, instance_id, &mut api).await {
                    Ok(()) => insert_ld_api(&mut tx, instance_id, &api).await.map(|()| LdImportAction::Created(api.id)),
                    Err(e) => Err(e),
                },
            };
            match result {
                Err(StoreError::Database(e)) => return Err(StoreError::Database(e)),
                other => outcome.push(other),
            }
        }
        self.commit(tx).await?;
        Ok(outcome)
    }
}

/// An imported backend's scripts: their data sources must exist in the instance. Its status
/// follows from them (pending without scripts, developing with), whatever the document says:
/// only a deployment makes a backend deployed.
async fn import_scripts(tx: &mut Tx, instance_id: &str, api: &mut LdApi) -> Result<()> {
    resolve_sources(tx, instance_id, &mut api.scripts).await?;
    api.status = if api.scripts.is_empty() { ld_status::PENDING } else { ld_status::DEVELOPING };
    Ok(())
}
