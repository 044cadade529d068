//! [`LivedataStore`] (migration `0004_livedata.sql`).

use async_trait::async_trait;
use portico_model::{DataSource, LdApi, LdDeployment, LdScript, LdTestRun, Page, Paged, RomaApp, ld_status, new_id};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use time::OffsetDateTime;

use super::{Engine, SqlStore, Tx, to_doc, unique_or};
use crate::livedata::{DataSourceFilter, FrontendApi, LdApiFilter, LdApiUpdate, LdImportAction, LdImportMode};
use crate::{Conflict, Kind, LivedataStore, Result, StoreError, TextMatch};

#[async_trait]
impl<DB> LivedataStore for SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    async fn create_roma_app(&self, instance_id: &str, app: &RomaApp, secret: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO roma_apps (id, instance_id, name, sealed_secret, doc) VALUES ($1, $2, $3, $4, $5)")
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
        Self::doc_in(&self.pool, "roma_apps", Kind::RomaApp, instance_id, id).await
    }

    async fn list_roma_apps(&self, instance_id: &str, name: Option<&TextMatch>, page: Page) -> Result<Paged<RomaApp>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(name) = name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "roma_apps", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn update_roma_app(&self, instance_id: &str, app: &RomaApp) -> Result<()> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE roma_apps SET name = $1, doc = $2 WHERE instance_id = $3 AND id = $4")
            .bind(&app.name)
            .bind(to_doc(app)?)
            .bind(instance_id)
            .bind(&app.id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::RomaAppName(app.name.clone())))?;
        if DB::rows_affected(&changed) == 0 {
            return Err(StoreError::not_found(Kind::RomaApp, &app.id));
        }
        self.commit(tx).await
    }

    async fn roma_app_secret(&self, instance_id: &str, id: &str) -> Result<String> {
        let row = sqlx::query("SELECT sealed_secret FROM roma_apps WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::RomaApp, id))?;
        self.secrets.open(&row.try_get::<String, _>("sealed_secret")?)
    }

    async fn set_roma_app_secret(&self, instance_id: &str, id: &str, secret: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE roma_apps SET sealed_secret = $1 WHERE instance_id = $2 AND id = $3")
            .bind(self.secrets.seal(secret)?)
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&changed) == 0 {
            return Err(StoreError::not_found(Kind::RomaApp, id));
        }
        self.commit(tx).await
    }

    async fn delete_roma_app(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let app = Self::roma_app_in(&mut tx, instance_id, id).await?;
        for (table, label) in
            [("data_sources", "integration application"), ("livedata_apis", "integration application")]
        {
            let owned = sqlx::query(AssertSqlSafe(format!("SELECT name FROM {table} WHERE app_id = $1 LIMIT 1")))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = owned {
                return Err(Conflict::InUse(label, app.name, row.try_get("name")?).into());
            }
        }
        sqlx::query("DELETE FROM roma_apps WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
    }

    async fn create_data_source(&self, instance_id: &str, source: &DataSource, password: Option<&str>) -> Result<()> {
        let mut tx = self.write().await?;
        Self::roma_app_in(&mut tx, instance_id, &source.app_id).await?;
        let sealed = password.map(|p| self.secrets.seal(p)).transpose()?;
        sqlx::query(
            "INSERT INTO data_sources (id, instance_id, app_id, name, kind, sealed_password, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        let row = sqlx::query("SELECT doc, sealed_password FROM data_sources WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::DataSource, id))?;
        let sealed: Option<String> = row.try_get("sealed_password")?;
        Ok((Self::decode_data_source(&row)?, sealed.map(|s| self.secrets.open(&s)).transpose()?))
    }

    async fn list_data_sources(
        &self,
        instance_id: &str,
        filter: &DataSourceFilter,
        page: Page,
    ) -> Result<Paged<DataSource>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(app_id) = &filter.app_id {
                q.push(" AND app_id = ").push_bind(app_id.clone());
            }
            if let Some(kind) = &filter.datasource_type {
                q.push(" AND kind = ").push_bind(kind.to_ascii_uppercase());
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "data_sources", "seq", filters, page, Self::decode_data_source).await
    }

    async fn delete_data_source(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let source: DataSource = Self::doc_in(&mut *tx, "data_sources", Kind::DataSource, instance_id, id).await?;
        let user = sqlx::query(
            "SELECT a.name FROM livedata_sources s JOIN livedata_apis a ON a.id = s.ld_api_id WHERE s.ds_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = user {
            return Err(Conflict::InUse("data source", source.datasource_name, row.try_get("name")?).into());
        }
        sqlx::query("DELETE FROM data_sources WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
    }

    async fn create_ld_api(&self, instance_id: &str, api: &LdApi) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_ld_api(&mut tx, instance_id, api).await?;
        self.commit(tx).await
    }

    async fn update_ld_api(&self, instance_id: &str, id: &str, change: &LdApiUpdate<'_>) -> Result<LdApi> {
        let mut tx = self.write().await?;
        let stored = Self::ld_api_in(&mut tx, instance_id, id).await?;
        let next = change(&stored)?;
        Self::replace_ld_api(&mut tx, instance_id, &next).await?;
        self.commit(tx).await?;
        Ok(next)
    }

    async fn ld_api(&self, instance_id: &str, id: &str) -> Result<LdApi> {
        Self::doc_in(&self.pool, "livedata_apis", Kind::LdApi, instance_id, id).await
    }

    async fn list_ld_apis(&self, instance_id: &str, filter: &LdApiFilter, page: Page) -> Result<Paged<LdApi>> {
        let filters = |q: &mut QueryBuilder<DB>| Self::push_ld_filters(q, instance_id, filter);
        self.paged("doc", "livedata_apis", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn export_ld_apis(&self, instance_id: &str, filter: &LdApiFilter) -> Result<Vec<LdApi>> {
        let mut q = QueryBuilder::new("SELECT doc FROM livedata_apis");
        Self::push_ld_filters(&mut q, instance_id, filter);
        q.push(" ORDER BY path, method, seq");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(|r| Self::from_doc(r, "doc")).collect()
    }

    async fn delete_ld_api(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let api = Self::ld_api_in(&mut tx, instance_id, id).await?;
        if api.status == ld_status::DEPLOYED {
            return Err(Conflict::LdApiDeployed(api.name).into());
        }
        sqlx::query("DELETE FROM livedata_apis WHERE id = $1").bind(id).execute(&mut *tx).await?;
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
        Self::roma_app_in(&mut conn, instance_id, app_id).await?;
        Self::ld_conflict(&mut conn, app_id, name, route, None).await
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
        let mut api = Self::ld_api_in(&mut tx, instance_id, id).await?;
        Self::resolve_sources(&mut tx, instance_id, &mut scripts).await?;
        api.api_type = api_type.to_string();
        api.scripts = scripts;
        api.modified_time = now;
        if api.status == ld_status::PENDING {
            api.status = ld_status::DEVELOPING;
        }
        Self::replace_ld_api(&mut tx, instance_id, &api).await?;
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
        let mut api = Self::ld_api_in(&mut tx, instance_id, id).await?;
        if api.scripts.is_empty() {
            return Err(Conflict::LdApiStatus(api.name, "has no scripts; add them before deploying").into());
        }
        let (mut group_id, mut env_id, mut api_id) = (None, None, None);
        if let Some(FrontendApi { api: front, env_id: env }) = frontend {
            Self::env_in(&mut tx, instance_id, &env).await?;
            Self::group_exists(&mut tx, instance_id, &front.definition.group_id).await?;
            Self::check_api_conflicts(&mut tx, &front, None).await?;
            Self::insert_apis(&mut tx, instance_id, std::slice::from_ref(&front)).await?;
            Self::record_references(&mut tx, instance_id, &front).await?;
            Self::publish_in(&mut tx, instance_id, &env, &front, Some("deployed from a custom backend"), now).await?;
            group_id = Some(front.definition.group_id.clone());
            env_id = Some(env);
            api_id = Some(front.id.clone());
        }
        api.status = ld_status::DEPLOYED;
        api.modified_time = now;
        Self::replace_ld_api(&mut tx, instance_id, &api).await?;
        let deployment = LdDeployment {
            id: new_id(),
            ld_api_id: api.id.clone(),
            group_id,
            env_id,
            api_id,
            deploy_time: now,
            api_definition: api,
        };
        sqlx::query("INSERT INTO livedata_deployments (id, ld_api_id, doc) VALUES ($1, $2, $3)")
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
        let mut api = Self::ld_api_in(&mut tx, instance_id, id).await?;
        if api.status != ld_status::DEPLOYED {
            return Err(Conflict::LdApiStatus(api.name, "is not deployed").into());
        }
        let last = sqlx::query("SELECT doc FROM livedata_deployments WHERE ld_api_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = last {
            let deployment: LdDeployment = Self::from_doc(&row, "doc")?;
            if let (Some(api_id), Some(env_id)) = (deployment.api_id, deployment.env_id) {
                sqlx::query("DELETE FROM publications WHERE instance_id = $1 AND api_id = $2 AND env_id = $3")
                    .bind(instance_id)
                    .bind(api_id)
                    .bind(env_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        api.status = ld_status::DEVELOPING;
        api.modified_time = now;
        Self::replace_ld_api(&mut tx, instance_id, &api).await?;
        self.commit(tx).await
    }

    async fn ld_deployments(&self, instance_id: &str, id: &str, page: Page) -> Result<Paged<LdDeployment>> {
        self.ld_api(instance_id, id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE ld_api_id = ").push_bind(id.to_string());
        };
        self.paged("doc", "livedata_deployments", "seq DESC", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn record_ld_test(&self, instance_id: &str, run: &LdTestRun) -> Result<LdTestRun> {
        let mut tx = self.write().await?;
        Self::ld_api_in(&mut tx, instance_id, &run.ld_api_id).await?;
        let inserted = sqlx::query("INSERT INTO livedata_tests (ld_api_id, doc) VALUES ($1, '{}') RETURNING test_id")
            .bind(&run.ld_api_id)
            .fetch_one(&mut *tx)
            .await?;
        let recorded = LdTestRun { test_id: inserted.try_get("test_id")?, ..run.clone() };
        sqlx::query("UPDATE livedata_tests SET doc = $1 WHERE test_id = $2")
            .bind(to_doc(&recorded)?)
            .bind(recorded.test_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(recorded)
    }

    async fn ld_tests(&self, instance_id: &str, id: &str, page: Page) -> Result<Paged<LdTestRun>> {
        self.ld_api(instance_id, id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE ld_api_id = ").push_bind(id.to_string());
        };
        self.paged("doc", "livedata_tests", "test_id DESC", filters, page, |r| Self::from_doc(r, "doc")).await
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
                "SELECT doc FROM livedata_apis WHERE instance_id = $1 AND app_id = $2 AND method = $3 AND path = $4",
            )
            .bind(instance_id)
            .bind(&api.roma_app_id)
            .bind(&api.method)
            .bind(&api.path)
            .fetch_optional(&mut *tx)
            .await?;
            let result = match existing {
                Some(row) => {
                    let stored: LdApi = Self::from_doc(&row, "doc")?;
                    match mode {
                        LdImportMode::Merge => Ok(LdImportAction::Kept(stored.id)),
                        LdImportMode::Override => {
                            api.id = stored.id.clone();
                            api.created_time = stored.created_time;
                            match Self::import_scripts(&mut tx, instance_id, &mut api).await {
                                Ok(()) => {
                                    // Matched on (application, method, path), the fields a
                                    // deployment fixes; a deployed backend stays deployed.
                                    if stored.status == ld_status::DEPLOYED {
                                        api.status = ld_status::DEPLOYED;
                                    }
                                    Self::replace_ld_api(&mut tx, instance_id, &api)
                                        .await
                                        .map(|()| LdImportAction::Updated(stored.id))
                                }
                                Err(e) => Err(e),
                            }
                        }
                    }
                }
                None => match Self::import_scripts(&mut tx, instance_id, &mut api).await {
                    Ok(()) => {
                        Self::insert_ld_api(&mut tx, instance_id, &api).await.map(|()| LdImportAction::Created(api.id))
                    }
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

impl<DB> SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    /// The conflict a custom backend named `name` at `route` would cause in `app_id`, other than
    /// `except`.
    async fn ld_conflict(
        tx: &mut DB::Connection,
        app_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str)>,
        except: Option<&str>,
    ) -> Result<Option<Conflict>> {
        let except = except.unwrap_or("");
        if let Some(name) = name {
            let taken = sqlx::query("SELECT 1 FROM livedata_apis WHERE app_id = $1 AND name = $2 AND id <> $3")
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
            let taken =
                sqlx::query("SELECT 1 FROM livedata_apis WHERE app_id = $1 AND method = $2 AND path = $3 AND id <> $4")
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

    async fn check_ld_conflicts(tx: &mut Tx<DB>, api: &LdApi, except: Option<&str>) -> Result<()> {
        let route = Some((api.method.as_str(), api.path.as_str()));
        match Self::ld_conflict(tx, &api.roma_app_id, Some(&api.name), route, except).await? {
            Some(conflict) => Err(conflict.into()),
            None => Ok(()),
        }
    }

    async fn roma_app_in(tx: &mut DB::Connection, instance_id: &str, id: &str) -> Result<RomaApp> {
        Self::doc_in(tx, "roma_apps", Kind::RomaApp, instance_id, id).await
    }

    async fn ld_api_in(tx: &mut Tx<DB>, instance_id: &str, id: &str) -> Result<LdApi> {
        Self::doc_in(&mut **tx, "livedata_apis", Kind::LdApi, instance_id, id).await
    }

    async fn insert_ld_api(tx: &mut Tx<DB>, instance_id: &str, api: &LdApi) -> Result<()> {
        Self::roma_app_in(tx, instance_id, &api.roma_app_id).await?;
        Self::check_ld_conflicts(tx, api, None).await?;
        sqlx::query(
            "INSERT INTO livedata_apis (id, instance_id, app_id, name, method, path, status, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
        Self::record_sources(tx, instance_id, api).await
    }

    async fn replace_ld_api(tx: &mut Tx<DB>, instance_id: &str, api: &LdApi) -> Result<()> {
        Self::roma_app_in(tx, instance_id, &api.roma_app_id).await?;
        Self::check_ld_conflicts(tx, api, Some(&api.id)).await?;
        sqlx::query(
            "UPDATE livedata_apis SET app_id = $1, name = $2, method = $3, path = $4, status = $5, doc = $6 \
             WHERE instance_id = $7 AND id = $8",
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
        Self::record_sources(tx, instance_id, api).await
    }

    /// Checks the data source of each script, fills in its name and kind, and records which data
    /// sources the backend uses.
    async fn resolve_sources(tx: &mut Tx<DB>, instance_id: &str, scripts: &mut [LdScript]) -> Result<()> {
        for (i, script) in scripts.iter_mut().enumerate() {
            let Some(ds_id) = script.ds_id.as_deref() else { continue };
            let source: DataSource = Self::doc_in(&mut **tx, "data_sources", Kind::DataSource, instance_id, ds_id)
                .await
                .map_err(|e| match e {
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

    async fn record_sources(tx: &mut Tx<DB>, instance_id: &str, api: &LdApi) -> Result<()> {
        sqlx::query("DELETE FROM livedata_sources WHERE ld_api_id = $1").bind(&api.id).execute(&mut **tx).await?;
        for ds_id in api.scripts.iter().filter_map(|s| s.ds_id.as_deref()) {
            let exists = sqlx::query("SELECT 1 FROM data_sources WHERE instance_id = $1 AND id = $2")
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
            sqlx::query("INSERT INTO livedata_sources (ld_api_id, ds_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&api.id)
                .bind(ds_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    fn push_ld_filters(q: &mut QueryBuilder<DB>, instance_id: &str, filter: &LdApiFilter) {
        q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
        if let Some(app_id) = &filter.app_id {
            q.push(" AND app_id = ").push_bind(app_id.clone());
        }
        if let Some(app_name) = &filter.app_name {
            q.push(" AND app_id IN (SELECT id FROM roma_apps WHERE 1 = 1");
            Self::push_text_filter(q, "name", app_name);
            q.push(")");
        }
        if let Some(name) = &filter.name {
            Self::push_text_filter(q, "name", name);
        }
        if let Some(path) = &filter.path {
            Self::push_text_filter(q, "path", path);
        }
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status);
        }
        if let Some(ids) = &filter.ids {
            q.push(" AND id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.clone());
            }
            q.push(")");
        }
    }

    fn decode_data_source(row: &DB::Row) -> Result<DataSource> {
        Self::from_doc(row, "doc")
    }

    /// An imported backend's scripts: their data sources must exist in the instance. Its status
    /// follows from them (pending without scripts, developing with), whatever the document says:
    /// only a deployment makes a backend deployed.
    async fn import_scripts(tx: &mut Tx<DB>, instance_id: &str, api: &mut LdApi) -> Result<()> {
        Self::resolve_sources(tx, instance_id, &mut api.scripts).await?;
        api.status = if api.scripts.is_empty() { ld_status::PENDING } else { ld_status::DEVELOPING };
        Ok(())
    }
}
