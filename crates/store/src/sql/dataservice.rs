//! [`DataServiceStore`]: DataArts DataService catalogs, APIs, publications and import jobs.

use std::collections::HashMap;

use async_trait::async_trait;
use portico_model::{
    Api, ApiDefinition, AuthorizationStatus, DsApi, DsCatalog, DsPublication, Page, Paged, PublishStatus,
    RELEASE_ENV_ID, ROOT_CATALOG_ID, new_id,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use time::OffsetDateTime;

use super::{Engine, SqlStore, Tx, parse_ts, to_doc, ts, unique_or};
use crate::{
    Conflict, DataServiceStore, DsApiFilter, DsImportItem, DsJob, Kind, Result, StoreError, TextMatch, Workspace,
};

#[async_trait]
impl<DB> DataServiceStore for SqlStore<DB>
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
    async fn ds_create_catalog(&self, ws: &Workspace, catalog: &DsCatalog) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_catalog(&mut tx, ws, catalog).await?;
        self.commit(tx).await
    }

    async fn ds_update_catalog(&self, ws: &Workspace, catalog: &DsCatalog) -> Result<()> {
        let mut tx = self.write().await?;
        let updated = sqlx::query(
            "UPDATE ds_catalogs SET name = $1, doc = $2 WHERE project_id = $3 AND workspace = $4 AND id = $5",
        )
        .bind(&catalog.name)
        .bind(to_doc(catalog)?)
        .bind(&ws.project_id)
        .bind(&ws.workspace)
        .bind(&catalog.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::DsCatalogName(catalog.name.clone())))?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(Kind::DsCatalog, &catalog.id));
        }
        self.commit(tx).await
    }

    async fn ds_catalogs(&self, ws: &Workspace) -> Result<Vec<DsCatalog>> {
        let rows = sqlx::query("SELECT doc FROM ds_catalogs WHERE project_id = $1 AND workspace = $2 ORDER BY seq")
            .bind(&ws.project_id)
            .bind(&ws.workspace)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::decode_catalog).collect()
    }

    async fn ds_child_catalogs(&self, ws: &Workspace, pid: &str, page: Page) -> Result<Paged<DsCatalog>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            Self::push_workspace(q, ws);
            q.push(" AND pid = ").push_bind(pid.to_owned());
        };
        self.paged("doc", "ds_catalogs", "seq", filters, page, Self::decode_catalog).await
    }

    async fn ds_catalog_counts(&self, ws: &Workspace, id: &str) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM ds_catalogs WHERE project_id = $1 AND workspace = $2 AND pid = $3), \
                    (SELECT COUNT(*) FROM ds_apis WHERE project_id = $1 AND workspace = $2 AND catalog_id = $3)",
        )
        .bind(&ws.project_id)
        .bind(&ws.workspace)
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get::<i64, _>(0)? as u64, row.try_get::<i64, _>(1)? as u64))
    }

    async fn ds_delete_catalogs(&self, ws: &Workspace, ids: &[String]) -> Result<()> {
        let mut tx = self.write().await?;
        for id in ids {
            let deleted = sqlx::query(
                "DELETE FROM ds_catalogs WHERE project_id = $1 AND workspace = $2 AND id = $3 \
                 RETURNING EXISTS (SELECT 1 FROM ds_catalogs WHERE project_id = $1 AND workspace = $2 AND pid = $3) \
                        OR EXISTS (SELECT 1 FROM ds_apis WHERE project_id = $1 AND workspace = $2 AND catalog_id = $3)",
            )
            .bind(&ws.project_id)
            .bind(&ws.workspace)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::DsCatalog, id))?;
            if deleted.try_get::<bool, _>(0)? {
                return Err(Conflict::DsCatalogNotEmpty(id.clone()).into());
            }
        }
        self.commit(tx).await
    }

    async fn ds_create_api(&self, ws: &Workspace, api: &DsApi) -> Result<()> {
        let mut tx = self.write().await?;
        Self::write_api(&mut tx, ws, api, false).await?;
        self.commit(tx).await
    }

    async fn ds_update_api(&self, ws: &Workspace, api: &DsApi) -> Result<()> {
        let mut tx = self.write().await?;
        Self::write_api(&mut tx, ws, api, true).await?;
        self.commit(tx).await
    }

    async fn ds_api(&self, ws: &Workspace, id: &str) -> Result<DsApi> {
        let mut conn = self.pool.acquire().await?;
        Self::ds_api_in(&mut conn, ws, id).await
    }

    async fn ds_list_apis(&self, ws: &Workspace, filter: &DsApiFilter, page: Page) -> Result<Paged<DsApi>> {
        let filters = |q: &mut QueryBuilder<DB>| Self::push_api_filter(q, ws, filter);
        let paged = self.paged("doc", "ds_apis", "seq", filters, page, |r| Self::from_doc(r, "doc")).await?;
        let mut conn = self.pool.acquire().await?;
        Ok(Paged { items: Self::with_publications(&mut conn, paged.items).await?, total: paged.total })
    }

    async fn ds_apis_by_id(&self, ws: &Workspace, ids: &[String]) -> Result<Vec<DsApi>> {
        let mut conn = self.pool.acquire().await?;
        let mut apis = Vec::with_capacity(ids.len());
        for id in ids {
            apis.push(Self::ds_api_in(&mut conn, ws, id).await?);
        }
        Ok(apis)
    }

    async fn ds_delete_apis(&self, ws: &Workspace, ids: &[String]) -> Result<()> {
        let mut tx = self.write().await?;
        for id in ids {
            let api = Self::ds_api_in(&mut tx, ws, id).await?;
            if !api.publications.is_empty() {
                return Err(Conflict::DsApiPublished(api.definition.name).into());
            }
            sqlx::query("DELETE FROM ds_apis WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        self.commit(tx).await
    }

    async fn ds_publish(
        &self,
        ws: &Workspace,
        api_id: &str,
        instance_id: &str,
        mut gateway: ApiDefinition,
        now: OffsetDateTime,
    ) -> Result<DsPublication> {
        let mut tx = self.write().await?;
        Self::ds_api_in(&mut tx, ws, api_id).await?;
        Self::group_exists(&mut tx, instance_id, &gateway.group_id).await?;
        let earlier =
            sqlx::query("SELECT id, gateway_api_id FROM ds_publications WHERE api_id = $1 AND instance_id = $2")
                .bind(api_id)
                .bind(instance_id)
                .fetch_optional(&mut *tx)
                .await?;
        let earlier_api = match &earlier {
            Some(row) => match Self::api_in(&mut tx, instance_id, &row.try_get::<String, _>("gateway_api_id")?).await {
                Ok(api) => Some(api),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        gateway.prepare(earlier_api.as_ref().map(|a| &a.definition), now);
        let api = match earlier_api {
            Some(existing) => {
                let api = Api { definition: gateway, update_time: now, ..existing };
                Self::check_api_conflicts(&mut tx, &api, Some(&api.id)).await?;
                Self::replace_api(&mut tx, instance_id, &api).await?;
                api
            }
            None => {
                let api = Api { id: new_id(), status: 1, register_time: now, update_time: now, definition: gateway };
                Self::check_api_conflicts(&mut tx, &api, None).await?;
                Self::insert_apis(&mut tx, instance_id, std::slice::from_ref(&api)).await?;
                api
            }
        };
        Self::record_references(&mut tx, instance_id, &api).await?;
        Self::publish_in(&mut tx, instance_id, RELEASE_ENV_ID, &api, Some("published by DataArts DataService"), now)
            .await?;
        let publication_id = match &earlier {
            Some(row) => row.try_get::<String, _>("id")?,
            None => new_id(),
        };
        sqlx::query(
            "INSERT INTO ds_publications (id, api_id, instance_id, group_id, gateway_api_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (api_id, instance_id) DO UPDATE SET group_id = excluded.group_id, \
             gateway_api_id = excluded.gateway_api_id",
        )
        .bind(&publication_id)
        .bind(api_id)
        .bind(instance_id)
        .bind(&api.definition.group_id)
        .bind(&api.id)
        .execute(&mut *tx)
        .await?;
        Self::refresh_publish_status(&mut tx, api_id).await?;
        let published = Self::ds_api_in(&mut tx, ws, api_id).await?;
        self.commit(tx).await?;
        published
            .publications
            .into_iter()
            .find(|p| p.instance_id == instance_id)
            .ok_or_else(|| StoreError::not_found(Kind::DsPublication, api_id))
    }

    async fn ds_unpublish(&self, ws: &Workspace, api_id: &str, instance_id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let api = Self::ds_api_in(&mut tx, ws, api_id).await?;
        let publication = api
            .publications
            .iter()
            .find(|p| p.instance_id == instance_id)
            .ok_or_else(|| StoreError::not_found(Kind::DsPublication, api_id))?;
        if Self::publication_in(&mut tx, &publication.gateway_api_id, RELEASE_ENV_ID).await?.is_some() {
            sqlx::query("DELETE FROM publications WHERE api_id = $1 AND env_id = $2")
                .bind(&publication.gateway_api_id)
                .bind(RELEASE_ENV_ID)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM ds_publications WHERE api_id = $1 AND instance_id = $2")
            .bind(api_id)
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
        Self::refresh_publish_status(&mut tx, api_id).await?;
        self.commit(tx).await
    }

    async fn ds_authorize(&self, ws: &Workspace, api_id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::ds_api_in(&mut tx, ws, api_id).await?;
        let status = AuthorizationStatus::Authorized.as_str();
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE ds_apis SET authorization_status = $1, doc = {} \
             WHERE id = $2 AND authorization_status <> 'NO_AUTHORIZATION_REQUIRED'",
            DB::json_with_text("doc", "authorization_status", "$1")
        )))
        .bind(status)
        .bind(api_id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    async fn ds_import(
        &self,
        ws: &Workspace,
        items: &[DsImportItem],
        create_user: &str,
        now_ms: i64,
    ) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let mut catalogs: HashMap<(String, String), String> = HashMap::new();
        for row in sqlx::query("SELECT id, pid, name FROM ds_catalogs WHERE project_id = $1 AND workspace = $2")
            .bind(&ws.project_id)
            .bind(&ws.workspace)
            .fetch_all(&mut *tx)
            .await?
        {
            catalogs.insert((row.try_get("pid")?, row.try_get("name")?), row.try_get("id")?);
        }
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            let mut parent = ROOT_CATALOG_ID.to_owned();
            for name in &item.catalog_path {
                let key = (parent.clone(), name.clone());
                parent = match catalogs.get(&key) {
                    Some(id) => id.clone(),
                    None => {
                        let catalog = DsCatalog {
                            id: new_id(),
                            pid: parent,
                            name: name.clone(),
                            description: None,
                            create_user: create_user.to_owned(),
                            create_time: now_ms,
                            update_time: now_ms,
                            update_user: create_user.to_owned(),
                        };
                        Self::insert_catalog(&mut tx, ws, &catalog).await?;
                        catalogs.insert(key, catalog.id.clone());
                        catalog.id
                    }
                };
            }
            let mut definition = item.definition.clone();
            definition.catalog_id = parent;
            let api = DsApi {
                id: new_id(),
                authorization_status: definition.initial_authorization(),
                definition,
                create_user: create_user.to_owned(),
                create_time: now_ms,
                update_time: now_ms,
                publish_status: PublishStatus::NotPublished,
                publications: Vec::new(),
            };
            Self::write_api(&mut tx, ws, &api, false).await?;
            ids.push(api.id);
        }
        self.commit(tx).await?;
        Ok(ids)
    }

    async fn ds_create_job(&self, ws: &Workspace, job: &DsJob) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO ds_jobs (id, project_id, workspace, status, result, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&job.id)
        .bind(&ws.project_id)
        .bind(&ws.workspace)
        .bind(&job.status)
        .bind(&job.result)
        .bind(ts(job.created_at))
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    async fn ds_job(&self, ws: &Workspace, id: &str) -> Result<DsJob> {
        sqlx::query("SELECT * FROM ds_jobs WHERE project_id = $1 AND workspace = $2 AND id = $3")
            .bind(&ws.project_id)
            .bind(&ws.workspace)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(Self::decode_job)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(Kind::DsJob, id))
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
    fn push_workspace(q: &mut QueryBuilder<DB>, ws: &Workspace) {
        q.push(" WHERE project_id = ")
            .push_bind(ws.project_id.clone())
            .push(" AND workspace = ")
            .push_bind(ws.workspace.clone());
    }

    fn push_contains(q: &mut QueryBuilder<DB>, column: &str, value: &Option<String>) {
        if let Some(v) = value {
            Self::push_text_filter(q, column, &TextMatch::Contains(v.clone()));
        }
    }

    fn push_api_filter(q: &mut QueryBuilder<DB>, ws: &Workspace, filter: &DsApiFilter) {
        Self::push_workspace(q, ws);
        Self::push_contains(q, "name", &filter.name);
        Self::push_contains(q, "description", &filter.description);
        Self::push_contains(q, "create_user", &filter.create_user);
        Self::push_contains(q, "table_name", &filter.table_name);
        for tag in &filter.tags {
            q.push(format!(" AND {}", DB::json_array_has("ds_apis.tags", None, None))).push_bind(tag.clone()).push(")");
        }
        let exact = [
            ("api_type", filter.api_type.map(|t| t.as_str())),
            ("publish_status", filter.publish_status.map(|s| s.as_str())),
            ("authorization_status", filter.authorization_status.map(|s| s.as_str())),
            ("catalog_id", filter.catalog_id.as_deref()),
        ];
        for (column, value) in exact {
            if let Some(v) = value {
                q.push(format!(" AND {column} = ")).push_bind(v.to_owned());
            }
        }
        if let Some(t) = filter.start_time {
            q.push(" AND create_time >= ").push_bind(t);
        }
        if let Some(t) = filter.end_time {
            q.push(" AND create_time <= ").push_bind(t);
        }
    }

    fn decode_catalog(row: &DB::Row) -> Result<DsCatalog> {
        Self::from_doc(row, "doc")
    }

    fn decode_job(row: &DB::Row) -> Result<DsJob> {
        Ok(DsJob {
            id: row.try_get("id")?,
            status: row.try_get("status")?,
            result: row.try_get("result")?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        })
    }

    /// Fills in the publications of `apis` (one query for all of them).
    async fn with_publications(conn: &mut DB::Connection, mut apis: Vec<DsApi>) -> Result<Vec<DsApi>> {
        if apis.is_empty() {
            return Ok(apis);
        }
        let mut q = QueryBuilder::<DB>::new(
            "SELECT p.id, p.api_id, p.instance_id, p.group_id, p.gateway_api_id, i.name AS instance_name \
             FROM ds_publications p JOIN instances i ON i.id = p.instance_id WHERE p.api_id IN (",
        );
        let mut list = q.separated(", ");
        for api in &apis {
            list.push_bind(api.id.clone());
        }
        q.push(") ORDER BY p.rowid");
        let mut by_api: HashMap<String, Vec<DsPublication>> = HashMap::new();
        for row in q.build().fetch_all(&mut *conn).await? {
            by_api.entry(row.try_get("api_id")?).or_default().push(DsPublication {
                id: row.try_get("id")?,
                instance_id: row.try_get("instance_id")?,
                instance_name: row.try_get("instance_name")?,
                group_id: row.try_get("group_id")?,
                gateway_api_id: row.try_get("gateway_api_id")?,
            });
        }
        for api in &mut apis {
            api.publications = by_api.remove(&api.id).unwrap_or_default();
        }
        Ok(apis)
    }

    async fn ds_api_in(conn: &mut DB::Connection, ws: &Workspace, id: &str) -> Result<DsApi> {
        let row = sqlx::query("SELECT doc FROM ds_apis WHERE project_id = $1 AND workspace = $2 AND id = $3")
            .bind(&ws.project_id)
            .bind(&ws.workspace)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::DsApi, id))?;
        let api = Self::from_doc(&row, "doc")?;
        Ok(Self::with_publications(conn, vec![api]).await?.remove(0))
    }

    async fn catalog_exists(tx: &mut Tx<DB>, ws: &Workspace, id: &str) -> Result<()> {
        if id == ROOT_CATALOG_ID {
            return Ok(());
        }
        sqlx::query("SELECT 1 FROM ds_catalogs WHERE project_id = $1 AND workspace = $2 AND id = $3")
            .bind(&ws.project_id)
            .bind(&ws.workspace)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found(Kind::DsCatalog, id))
    }

    async fn insert_catalog(tx: &mut Tx<DB>, ws: &Workspace, catalog: &DsCatalog) -> Result<()> {
        Self::catalog_exists(tx, ws, &catalog.pid).await?;
        sqlx::query(
            "INSERT INTO ds_catalogs (id, project_id, workspace, pid, name, doc) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&catalog.id)
        .bind(&ws.project_id)
        .bind(&ws.workspace)
        .bind(&catalog.pid)
        .bind(&catalog.name)
        .bind(to_doc(catalog)?)
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_or(e, Conflict::DsCatalogName(catalog.name.clone())))?;
        Ok(())
    }

    /// Writes the row of a new API, or (with `replace`) rewrites an existing one.
    async fn write_api(tx: &mut Tx<DB>, ws: &Workspace, api: &DsApi, replace: bool) -> Result<()> {
        let d = &api.definition;
        Self::catalog_exists(tx, ws, &d.catalog_id).await?;
        let stored = DsApi { publications: Vec::new(), ..api.clone() };
        let sql = if replace {
            "UPDATE ds_apis SET catalog_id = $3, name = $4, description = $5, tags = $6, table_name = $7, api_type = $8, \
             publish_status = $9, authorization_status = $10, doc = $11, create_user = $13, create_time = $14 \
             WHERE id = $1 AND project_id = $2 AND workspace = $12"
        } else {
            "INSERT INTO ds_apis (id, project_id, catalog_id, name, description, tags, table_name, api_type, \
             publish_status, authorization_status, doc, workspace, create_user, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        };
        let written = sqlx::query(sql)
            .bind(&api.id)
            .bind(&ws.project_id)
            .bind(&d.catalog_id)
            .bind(&d.name)
            .bind(&d.description)
            .bind(to_doc(&d.tags)?)
            .bind(d.table_name())
            .bind(d.api_type.as_str())
            .bind(api.publish_status.as_str())
            .bind(api.authorization_status.as_str())
            .bind(to_doc(&stored)?)
            .bind(&ws.workspace)
            .bind(&api.create_user)
            .bind(api.create_time)
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_or(e, Conflict::DsApiName(d.name.clone())))?;
        if DB::rows_affected(&written) == 0 {
            return Err(StoreError::not_found(Kind::DsApi, &api.id));
        }
        Ok(())
    }

    /// Sets an API's publish status from its remaining publications.
    async fn refresh_publish_status(tx: &mut Tx<DB>, api_id: &str) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE ds_apis SET publish_status = s.status, doc = {} \
             FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM ds_publications WHERE api_id = $1) \
                   THEN 'PUBLISHED' ELSE 'NOT_PUBLISHED' END AS status) s WHERE id = $1",
            DB::json_with_text("doc", "publish_status", "s.status")
        )))
        .bind(api_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
