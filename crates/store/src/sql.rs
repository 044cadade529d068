//! The SQL engine, written once and run on SQLite (the embedded default: one file in the data
//! directory, WAL journal, `synchronous=FULL` so an acknowledged write survives a crash) and
//! PostgreSQL (many nodes on one database). What differs between the two is in [`Engine`];
//! every writing transaction queues behind the others (`BEGIN IMMEDIATE` on SQLite, an advisory
//! lock on PostgreSQL), so concurrent writers wait instead of failing half-way.

mod dataservice;
mod engine;
mod livedata;
mod nodes;
mod openapi;
mod policies;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use async_trait::async_trait;
use portico_model::{
    Api, ApiGroup, Credential, EnvVariable, Environment, Instance, Page, Paged, Project, RELEASE_ENV_ID,
    RELEASE_ENV_NAME, User, new_id,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{AssertSqlSafe, Pool, QueryBuilder, Row, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use engine::{Change, Engine};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::cache::{LiveGeneration, ReadCache, invalidate};
use crate::secrets::SecretBox;
use crate::{
    ApiContext, ApiFilter, ApiVersion, AsyncTask, BatchOutcome, Bootstrap, Conflict, GroupFilter, Heartbeat,
    ImportOutcome, ImportRequest, Kind, LiveApi, LiveSet, Publication, Result, RouteKey, Store, StoreError, TaskStatus,
    TextMatch, VariableFilter,
};

type Tx<DB> = Transaction<'static, DB>;

/// Publications read per query by [`SqlStore::live_apis`].
const LIVE_PAGE: i64 = 4096;

/// The store on a SQL database.
///
/// On SQLite it caches instances and API details in memory (`ReadCache`), kept coherent by a
/// generation counter that every commit bumps. On PostgreSQL several nodes write, so nothing is
/// cached; the counter still moves on every node's commit (`LISTEN`/`NOTIFY`), which is how each
/// node's data plane learns of a change.
pub struct SqlStore<DB: Engine> {
    pool: Pool<DB>,
    /// Moves on every commit: the read caches follow it.
    generation: Arc<AtomicU64>,
    /// Moves on every commit that may change what is live (`Store::generation`): the data
    /// plane waits on it ([`Store::live_changed`]) and rebuilds its route table when it moves.
    live_generation: Arc<LiveGeneration>,
    instances: Arc<ReadCache<(String, String), Instance>>,
    api_contexts: Arc<ReadCache<(String, String), Arc<ApiContext>>>,
    secrets: Arc<SecretBox>,
    /// This handle's node (`Store::node_id`): the tasks it creates are its own.
    node_id: Arc<str>,
    /// Other processes write the same database (PostgreSQL).
    shared: bool,
}

impl<DB: Engine> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            generation: self.generation.clone(),
            live_generation: self.live_generation.clone(),
            instances: self.instances.clone(),
            api_contexts: self.api_contexts.clone(),
            secrets: self.secrets.clone(),
            node_id: self.node_id.clone(),
            shared: self.shared,
        }
    }
}

fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("every UTC time formats as RFC 3339")
}

fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

fn to_doc<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Maps a unique violation to `conflict`, passing other errors through.
fn unique_or(e: sqlx::Error, conflict: Conflict) -> StoreError {
    if is_unique_violation(&e) { conflict.into() } else { e.into() }
}

impl<DB: Engine> SqlStore<DB> {
    /// A store on `pool`, whose migrations have run; `shared` when other processes write the
    /// same database, which rules out caching reads in this one.
    fn on(pool: Pool<DB>, secrets: SecretBox, shared: bool) -> Self {
        let generation = Arc::new(AtomicU64::new(0));
        SqlStore {
            pool,
            instances: Arc::new(ReadCache::new(generation.clone(), !shared)),
            api_contexts: Arc::new(ReadCache::new(generation.clone(), !shared)),
            secrets: Arc::new(secrets),
            generation,
            live_generation: Arc::new(LiveGeneration::default()),
            node_id: new_id().into(),
            shared,
        }
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
    async fn write(&self) -> Result<Tx<DB>> {
        Ok(DB::begin_write(&self.pool, Change::Live).await?)
    }

    /// [`SqlStore::write`] for a write that [`SqlStore::commit_definitions`] ends.
    async fn write_definitions(&self) -> Result<Tx<DB>> {
        Ok(DB::begin_write(&self.pool, Change::Definitions).await?)
    }

    /// Commits a transaction opened by [`SqlStore::write`]; every write ends here, so the
    /// read cache learns of every change.
    async fn commit(&self, tx: Tx<DB>) -> Result<()> {
        tx.commit().await?;
        invalidate(&self.generation);
        self.live_generation.advance();
        Ok(())
    }

    /// [`SqlStore::commit`] for a write (opened by [`SqlStore::write_definitions`]) that
    /// changes API definitions or tasks alone, never what is live: a publication serves its own
    /// version and route key, so creating or editing a definition leaves the data plane's table
    /// as it is (at 100,000 routes a rebuild takes a CPU for a good part of a second).
    async fn commit_definitions(&self, tx: Tx<DB>) -> Result<()> {
        tx.commit().await?;
        invalidate(&self.generation);
        Ok(())
    }

    async fn paged<T>(
        &self,
        select: &str,
        from_where: &str,
        order: &str,
        filters: impl Fn(&mut QueryBuilder<DB>),
        page: Page,
        decode: impl Fn(&DB::Row) -> Result<T>,
    ) -> Result<Paged<T>> {
        let mut count = QueryBuilder::new(format!("SELECT COUNT(*) FROM {from_where}"));
        filters(&mut count);
        let total: i64 = count.build().fetch_one(&self.pool).await?.try_get(0)?;
        let mut list = QueryBuilder::new(format!("SELECT {select} FROM {from_where}"));
        filters(&mut list);
        list.push(format!(" ORDER BY {order} LIMIT "))
            .push_bind(page.limit as i64)
            .push(" OFFSET ")
            .push_bind(page.offset as i64);
        let rows = list.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(decode).collect::<Result<Vec<T>>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn user_projects(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT project_id FROM user_projects WHERE user_id = $1 ORDER BY project_id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn decode_user(&self, row: &DB::Row) -> Result<User> {
        let id: String = row.try_get("id")?;
        Ok(User {
            projects: self.user_projects(&id).await?,
            id,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            readonly: row.try_get("readonly")?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        })
    }

    async fn route_conflict(
        conn: &mut DB::Connection,
        group_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str, &str)>,
        except_id: Option<&str>,
    ) -> Result<Option<Conflict>> {
        let except = except_id.unwrap_or("");
        if let Some(name) = name {
            let taken = sqlx::query("SELECT 1 FROM apis WHERE group_id = $1 AND name = $2 AND id <> $3")
                .bind(group_id)
                .bind(name)
                .bind(except)
                .fetch_optional(&mut *conn)
                .await?;
            if taken.is_some() {
                return Ok(Some(Conflict::ApiName(name.to_string())));
            }
        }
        if let Some((method, uri, mode)) = route {
            let taken = sqlx::query(
                "SELECT 1 FROM apis WHERE group_id = $1 AND req_method = $2 AND req_uri = $3 AND match_mode = $4 AND id <> $5",
            )
            .bind(group_id)
            .bind(method)
            .bind(uri)
            .bind(mode)
            .bind(except)
            .fetch_optional(&mut *conn)
            .await?;
            if taken.is_some() {
                return Ok(Some(Conflict::ApiRoute(format!("{method} {uri} ({mode})"))));
            }
        }
        Ok(None)
    }

    /// Every live publication, oldest first. The publications come in pages of
    /// [`LIVE_PAGE`] rows, each page one JSON value ([`Engine::json_rows`]): one row at a time
    /// through sqlx costs about 10 µs each, a second at 100,000 routes. Paging keeps each
    /// value small, so every page reuses the memory the previous one freed: one 36 MB value
    /// cost as much again in fresh pages for the kernel to zero. The names that all of an
    /// environment's publications share (its instance's project, its own name) come from a
    /// second, small query.
    async fn live_apis(&self, tx: &mut Tx<DB>) -> Result<Vec<LiveApi>> {
        let rows = DB::json_rows(&[
            "p.seq",
            "p.instance_id",
            "p.env_id",
            "p.publish_id",
            "p.version_id",
            "p.api_id",
            &DB::json_value("p.route"),
        ]);
        let page = format!("SELECT {rows} FROM (SELECT * FROM publications WHERE seq > $1 ORDER BY seq LIMIT $2) p");
        let mut names: HashMap<(String, String), (String, String)> = HashMap::new();
        for row in sqlx::query(
            "SELECT l.instance_id, l.env_id, i.project_id, e.name AS env_name \
             FROM (SELECT DISTINCT instance_id, env_id FROM publications) l \
             JOIN instances i ON i.id = l.instance_id JOIN envs e ON e.instance_id = l.instance_id AND e.id = l.env_id",
        )
        .fetch_all(&mut **tx)
        .await?
        {
            let env = (row.try_get("instance_id")?, row.try_get("env_id")?);
            names.insert(env, (row.try_get("project_id")?, row.try_get("env_name")?));
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM publications").fetch_one(&mut **tx).await?;
        let mut live = Vec::with_capacity(usize::try_from(count).unwrap_or_default());
        let mut after = i64::MIN;
        loop {
            let text: String = sqlx::query_scalar(AssertSqlSafe(page.as_str()))
                .bind(after)
                .bind(LIVE_PAGE)
                .fetch_one(&mut **tx)
                .await?;
            type Row = (i64, String, String, String, String, String, RouteKey);
            let mut rows: Vec<Row> = serde_json::from_str(&text)?;
            rows.sort_unstable_by_key(|row| row.0);
            let full = rows.len() as i64 == LIVE_PAGE;
            after = rows.last().map_or(after, |row| row.0);
            live.extend(rows.into_iter().filter_map(
                |(_, instance_id, env_id, publish_id, version_id, api_id, route)| {
                    let env = (instance_id, env_id);
                    let (project_id, env_name) = names.get(&env)?.clone();
                    let (instance_id, env_id) = env;
                    Some(LiveApi { instance_id, project_id, env_id, env_name, publish_id, version_id, api_id, route })
                },
            ));
            if !full {
                return Ok(live);
            }
        }
    }

    fn from_doc<T: DeserializeOwned>(row: &DB::Row, column: &str) -> Result<T> {
        let text: String = row.try_get(column)?;
        Ok(serde_json::from_str(&text)?)
    }

    fn push_text_filter(q: &mut QueryBuilder<DB>, column: &str, filter: &TextMatch) {
        match filter {
            TextMatch::Exact(v) => {
                q.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
            TextMatch::Contains(v) => {
                let escaped = v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                q.push(format!(" AND {column} {} ", DB::LIKE)).push_bind(format!("%{escaped}%")).push(" ESCAPE '\\'");
            }
        }
    }

    /// The `doc` of the object `id` of `table` in the instance; tables are fixed names in this file.
    async fn doc_in<'e, T: DeserializeOwned>(
        executor: impl sqlx::Executor<'e, Database = DB>,
        table: &'static str,
        kind: Kind,
        instance_id: &str,
        id: &str,
    ) -> Result<T> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT doc FROM {table} WHERE instance_id = $1 AND id = $2")))
            .bind(instance_id)
            .bind(id)
            .fetch_optional(executor)
            .await?
            .ok_or_else(|| StoreError::not_found(kind, id))?;
        Self::from_doc(&row, "doc")
    }

    /// Renames and rewrites a named object (group or environment) of the instance.
    async fn update_named_doc(
        tx: &mut Tx<DB>,
        table: &'static str,
        kind: Kind,
        instance_id: &str,
        (id, name, doc): (&str, &str, String),
        conflict: Conflict,
    ) -> Result<()> {
        let updated = sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET name = $1, doc = $2 WHERE instance_id = $3 AND id = $4"
        )))
        .bind(name)
        .bind(doc)
        .bind(instance_id)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_or(e, conflict))?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(kind, id));
        }
        Ok(())
    }

    async fn env_in(tx: &mut Tx<DB>, instance_id: &str, env_id: &str) -> Result<Environment> {
        Self::doc_in(&mut **tx, "envs", Kind::Environment, instance_id, env_id).await
    }

    async fn api_in(tx: &mut Tx<DB>, instance_id: &str, api_id: &str) -> Result<Api> {
        Self::doc_in(&mut **tx, "apis", Kind::Api, instance_id, api_id).await
    }

    async fn group_exists(tx: &mut Tx<DB>, instance_id: &str, group_id: &str) -> Result<()> {
        sqlx::query("SELECT 1 FROM api_groups WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(group_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found(Kind::Group, group_id))
    }

    async fn check_api_conflicts(tx: &mut Tx<DB>, api: &Api, except: Option<&str>) -> Result<()> {
        let d = &api.definition;
        match Self::route_conflict(tx, &d.group_id, Some(&d.name), Some(api_route(api)), except).await? {
            Some(conflict) => Err(conflict.into()),
            None => Ok(()),
        }
    }

    /// Inserts the rows of new APIs.
    async fn insert_apis(tx: &mut Tx<DB>, instance_id: &str, apis: &[Api]) -> Result<()> {
        for batch in apis.chunks(INSERT_BATCH) {
            let rows: Vec<(&Api, String, String)> =
                batch.iter().map(|api| Ok((api, api_tags(api)?, to_doc(api)?))).collect::<Result<_>>()?;
            let mut insert = QueryBuilder::<DB>::new(
                "INSERT INTO apis (id, instance_id, group_id, name, req_protocol, req_method, req_uri, match_mode, \
                 auth_type, api_type, tags, doc) ",
            );
            insert.push_values(rows, |mut row, (api, tags, doc)| {
                let d = &api.definition;
                row.push_bind(api.id.clone())
                    .push_bind(instance_id.to_owned())
                    .push_bind(d.group_id.clone())
                    .push_bind(d.name.clone())
                    .push_bind(d.req_protocol.as_str())
                    .push_bind(d.req_method.as_str())
                    .push_bind(d.req_uri.clone())
                    .push_bind(d.match_mode.as_str())
                    .push_bind(d.auth_type.as_str())
                    .push_bind(d.api_type)
                    .push_bind(tags)
                    .push_bind(doc);
            });
            insert.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Rewrites the row of an existing API (its columns and its document).
    async fn replace_api(tx: &mut Tx<DB>, instance_id: &str, api: &Api) -> Result<()> {
        let d = &api.definition;
        sqlx::query(
            "UPDATE apis SET group_id = $1, name = $2, req_protocol = $3, req_method = $4, req_uri = $5, match_mode = $6, \
             auth_type = $7, api_type = $8, tags = $9, doc = $10 WHERE instance_id = $11 AND id = $12",
        )
        .bind(&d.group_id)
        .bind(&d.name)
        .bind(d.req_protocol.as_str())
        .bind(d.req_method.as_str())
        .bind(&d.req_uri)
        .bind(d.match_mode.as_str())
        .bind(d.auth_type.as_str())
        .bind(d.api_type)
        .bind(api_tags(api)?)
        .bind(to_doc(api)?)
        .bind(instance_id)
        .bind(&api.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    fn decode_publication(row: &DB::Row) -> Result<Publication> {
        Ok(Publication {
            publish_id: row.try_get("publish_id")?,
            api_id: row.try_get("api_id")?,
            api_name: row.try_get("api_name")?,
            env_id: row.try_get("env_id")?,
            env_name: row.try_get("env_name")?,
            version_id: row.try_get("version_id")?,
            remark: row.try_get("remark")?,
            publish_time: parse_ts(&row.try_get::<String, _>("publish_time")?)?,
        })
    }

    fn decode_version(row: &DB::Row) -> Result<ApiVersion> {
        Ok(ApiVersion {
            version_id: row.try_get("id")?,
            version_no: row.try_get("version_no")?,
            api_id: row.try_get("api_id")?,
            env_id: row.try_get("env_id")?,
            env_name: row.try_get("env_name")?,
            remark: row.try_get("remark")?,
            publish_time: parse_ts(&row.try_get::<String, _>("publish_time")?)?,
            is_current: row.try_get("is_current")?,
            snapshot: Self::from_doc(row, "snapshot")?,
        })
    }

    async fn publication_in(tx: &mut Tx<DB>, api_id: &str, env_id: &str) -> Result<Option<Publication>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM {PUBLICATION_FROM} WHERE p.api_id = $1 AND p.env_id = $2",
            publication_columns::<DB>()
        )))
        .bind(api_id)
        .bind(env_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(Self::decode_publication).transpose()
    }

    /// Publishes the current definition of `api` in `env_id`: a new version, and the publication
    /// (kept, or created and bound to the policies the definition declares) pointing at it.
    pub(crate) async fn publish_in(
        tx: &mut Tx<DB>,
        instance_id: &str,
        env_id: &str,
        api: &Api,
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Publication> {
        let version_id = new_id();
        sqlx::query(
            "INSERT INTO api_versions (id, instance_id, api_id, env_id, number, remark, publish_time, snapshot) \
             VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(number), 0) + 1 FROM api_versions WHERE api_id = $5), $6, $7, $8)",
        )
        .bind(&version_id)
        .bind(instance_id)
        .bind(&api.id)
        .bind(env_id)
        .bind(&api.id)
        .bind(remark)
        .bind(ts(now))
        .bind(to_doc(api)?)
        .execute(&mut **tx)
        .await?;
        let (publication, created) =
            Self::make_live(tx, instance_id, &api.id, env_id, &version_id, &RouteKey::of(api), remark, now).await?;
        if created {
            Self::bind_declared_policies(tx, instance_id, api, &publication.publish_id, env_id, now).await?;
        }
        Ok(publication)
    }

    /// Points the (api, env) publication at `version_id` (routed by `route`), creating the
    /// publication if needed (then `true`).
    #[allow(clippy::too_many_arguments)]
    async fn make_live(
        tx: &mut Tx<DB>,
        instance_id: &str,
        api_id: &str,
        env_id: &str,
        version_id: &str,
        route: &RouteKey,
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(Publication, bool)> {
        let fresh_publish_id = new_id();
        sqlx::query(
            "INSERT INTO publications (publish_id, instance_id, api_id, env_id, version_id, route, remark, publish_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (api_id, env_id) DO UPDATE SET version_id = excluded.version_id, route = excluded.route, \
             remark = excluded.remark, publish_time = excluded.publish_time",
        )
        .bind(&fresh_publish_id)
        .bind(instance_id)
        .bind(api_id)
        .bind(env_id)
        .bind(version_id)
        .bind(serde_json::to_string(route)?)
        .bind(remark)
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        let publication = Self::publication_in(tx, api_id, env_id)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Publication, api_id))?;
        let created = publication.publish_id == fresh_publish_id;
        Ok((publication, created))
    }

    async fn insert_project(tx: &mut Tx<DB>, project: &Project) -> Result<()> {
        sqlx::query("INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&project.id)
            .bind(&project.name)
            .bind(ts(project.created_at))
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_or(e, Conflict::ProjectName(project.name.clone())))?;
        Ok(())
    }

    async fn insert_user(tx: &mut Tx<DB>, user: &User) -> Result<()> {
        sqlx::query("INSERT INTO users (id, name, password_hash, readonly, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&user.id)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.readonly)
            .bind(ts(user.created_at))
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_or(e, Conflict::UserName(user.name.clone())))?;
        for project in &user.projects {
            let exists =
                sqlx::query("SELECT 1 FROM projects WHERE id = $1").bind(project).fetch_optional(&mut **tx).await?;
            if exists.is_none() {
                return Err(StoreError::not_found(Kind::Project, project));
            }
            sqlx::query("INSERT INTO user_projects (user_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&user.id)
                .bind(project)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn insert_credential(tx: &mut Tx<DB>, credential: &Credential) -> Result<()> {
        sqlx::query("INSERT INTO credentials (access_key, secret_key, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&credential.access_key)
            .bind(&credential.secret_key)
            .bind(&credential.user_id)
            .bind(ts(credential.created_at))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn insert_instance(tx: &mut Tx<DB>, instance: &Instance) -> Result<()> {
        sqlx::query("INSERT INTO instances (id, project_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&instance.id)
            .bind(&instance.project_id)
            .bind(&instance.instance_name)
            .bind(to_doc(instance)?)
            .execute(&mut **tx)
            .await?;
        let release = Environment {
            id: RELEASE_ENV_ID.into(),
            name: RELEASE_ENV_NAME.into(),
            remark: Some("Production environment, built in".into()),
            create_time: instance.create_time,
        };
        sqlx::query("INSERT INTO envs (instance_id, id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&instance.id)
            .bind(&release.id)
            .bind(&release.name)
            .bind(to_doc(&release)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    fn decode_variable(row: &DB::Row) -> Result<EnvVariable> {
        Ok(EnvVariable {
            id: row.try_get("id")?,
            env_id: row.try_get("env_id")?,
            group_id: row.try_get("group_id")?,
            variable_name: row.try_get("name")?,
            variable_value: row.try_get("value")?,
        })
    }
}

fn api_route(api: &Api) -> (&str, &str, &str) {
    let d = &api.definition;
    (d.req_method.as_str(), d.req_uri.as_str(), d.match_mode.as_str())
}

fn api_tags(api: &Api) -> Result<String> {
    to_doc(&api.definition.tags)
}

/// Rows per multi-row `INSERT`: one statement instead of 500 round trips to SQLite's thread,
/// and 12 × 500 bound values stay far below SQLite's limit.
const INSERT_BATCH: usize = 500;

fn publication_columns<DB: Engine>() -> String {
    format!(
        "p.publish_id, p.api_id, p.env_id, p.version_id, p.remark, p.publish_time, e.name AS env_name, {} AS api_name",
        DB::json_text("v.snapshot", "name")
    )
}
const PUBLICATION_FROM: &str = "publications p \
     JOIN envs e ON e.instance_id = p.instance_id AND e.id = p.env_id \
     JOIN api_versions v ON v.id = p.version_id";

const VERSION_COLUMNS: &str = "v.id, CAST(v.number AS TEXT) AS version_no, v.api_id, v.env_id, v.remark, v.publish_time, v.snapshot, \
     COALESCE(e.name, '') AS env_name, (p.version_id IS NOT NULL) AS is_current";
const VERSION_FROM: &str = "api_versions v \
     LEFT JOIN envs e ON e.instance_id = v.instance_id AND e.id = v.env_id \
     LEFT JOIN publications p ON p.api_id = v.api_id AND p.env_id = v.env_id AND p.version_id = v.id";

fn not_published(api_id: &str, env_id: &str) -> StoreError {
    StoreError::not_found(Kind::Publication, &format!("of API {api_id} in environment {env_id}"))
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
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
    async fn setting_or_insert(&self, key: &str, proposed: &str) -> Result<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(proposed)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_project(&mut tx, project).await?;
        self.commit(tx).await
    }

    async fn project(&self, id_or_name: &str) -> Result<Project> {
        let row =
            sqlx::query("SELECT id, name, created_at FROM projects WHERE id = $1 OR name = $2 ORDER BY id = $3 DESC")
                .bind(id_or_name)
                .bind(id_or_name)
                .bind(id_or_name)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Project, id_or_name))?;
        Ok(Project {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        })
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_user(&mut tx, user).await?;
        self.commit(tx).await
    }

    async fn user_by_name(&self, name: &str) -> Result<User> {
        let row = sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::User, name))?;
        self.decode_user(&row).await
    }

    async fn create_credential(&self, credential: &Credential) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_credential(&mut tx, credential).await?;
        self.commit(tx).await
    }

    async fn credential(&self, access_key: &str) -> Result<(Credential, User)> {
        let row = sqlx::query(
            "SELECT c.access_key, c.secret_key, c.created_at AS c_created, u.* \
             FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.access_key = $1",
        )
        .bind(access_key)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Credential, access_key))?;
        let user = self.decode_user(&row).await?;
        let credential = Credential {
            access_key: row.try_get("access_key")?,
            secret_key: row.try_get("secret_key")?,
            user_id: user.id.clone(),
            created_at: parse_ts(&row.try_get::<String, _>("c_created")?)?,
        };
        Ok((credential, user))
    }

    async fn create_instance(&self, instance: &Instance) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_instance(&mut tx, instance).await?;
        self.commit(tx).await
    }

    async fn bootstrap(&self, b: &Bootstrap) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("SELECT 1 FROM settings WHERE key = 'bootstrapped'").fetch_optional(&mut *tx).await?;
        if done.is_some() {
            return Ok(false);
        }
        Self::insert_project(&mut tx, &b.project).await?;
        Self::insert_user(&mut tx, &b.admin).await?;
        Self::insert_credential(&mut tx, &b.credential).await?;
        Self::insert_instance(&mut tx, &b.instance).await?;
        for (key, value) in [("bootstrapped", "true"), ("domain", b.domain.as_str())] {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    async fn instance(&self, project_id: &str, id: &str) -> Result<Instance> {
        let key = (project_id.to_string(), id.to_string());
        self.instances
            .get_or_load(&key, async {
                let row = sqlx::query("SELECT doc FROM instances WHERE project_id = $1 AND id = $2")
                    .bind(project_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::not_found(Kind::Instance, id))?;
                Self::from_doc(&row, "doc")
            })
            .await
    }

    async fn api_context(&self, instance_id: &str, api_id: &str) -> Result<Arc<ApiContext>> {
        let key = (instance_id.to_string(), api_id.to_string());
        self.api_contexts
            .get_or_load(&key, async {
                let api: Api = Self::doc_in(&self.pool, "apis", Kind::Api, instance_id, api_id).await?;
                let group =
                    Self::doc_in(&self.pool, "api_groups", Kind::Group, instance_id, &api.definition.group_id).await?;
                let publications = self.publications(instance_id, std::slice::from_ref(&api.id)).await?;
                Ok(Arc::new(ApiContext { api, group, publications }))
            })
            .await
    }

    async fn list_instances(&self, project_id: &str, name: Option<&str>, page: Page) -> Result<Paged<Instance>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE project_id = ").push_bind(project_id.to_string());
            if let Some(name) = name {
                Self::push_text_filter(q, "name", &TextMatch::Contains(name.to_string()));
            }
        };
        self.paged("doc", "instances", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_instance(&self, project_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        // Existence in *this* project first, so another project learns nothing about the instance.
        sqlx::query("SELECT 1 FROM instances WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Instance, id))?;
        let groups: i64 = sqlx::query("SELECT COUNT(*) FROM api_groups WHERE instance_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if groups > 0 {
            return Err(Conflict::InstanceHasGroups(id.into()).into());
        }
        let deleted = sqlx::query("DELETE FROM instances WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::Instance, id));
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO api_groups (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&group.id)
            .bind(instance_id)
            .bind(&group.name)
            .bind(to_doc(group)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::GroupName(group.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()> {
        let target = (group.id.as_str(), group.name.as_str(), to_doc(group)?);
        let mut tx = self.write().await?;
        Self::update_named_doc(
            &mut tx,
            "api_groups",
            Kind::Group,
            instance_id,
            target,
            Conflict::GroupName(group.name.clone()),
        )
        .await?;
        self.commit(tx).await
    }

    async fn group(&self, instance_id: &str, id: &str) -> Result<ApiGroup> {
        Self::doc_in(&self.pool, "api_groups", Kind::Group, instance_id, id).await
    }

    async fn list_groups(&self, instance_id: &str, filter: &GroupFilter, page: Page) -> Result<Paged<ApiGroup>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = &filter.id {
                q.push(" AND id = ").push_bind(id.clone());
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "api_groups", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn group_name_taken(&self, instance_id: &str, name: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM api_groups WHERE instance_id = $1 AND name = $2")
            .bind(instance_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn delete_group(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::group_exists(&mut tx, instance_id, id).await?;
        let apis: i64 = sqlx::query("SELECT COUNT(*) FROM apis WHERE group_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if apis > 0 {
            return Err(Conflict::GroupHasApis(id.into()).into());
        }
        sqlx::query("DELETE FROM env_variables WHERE group_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM api_groups WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_env(&self, instance_id: &str, env: &Environment) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO envs (instance_id, id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(instance_id)
            .bind(&env.id)
            .bind(&env.name)
            .bind(to_doc(env)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::EnvName(env.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_env(&self, instance_id: &str, env: &Environment) -> Result<()> {
        if env.id == RELEASE_ENV_ID {
            return Err(Conflict::BuiltInEnv.into());
        }
        let target = (env.id.as_str(), env.name.as_str(), to_doc(env)?);
        let mut tx = self.write().await?;
        Self::update_named_doc(
            &mut tx,
            "envs",
            Kind::Environment,
            instance_id,
            target,
            Conflict::EnvName(env.name.clone()),
        )
        .await?;
        self.commit(tx).await
    }

    async fn env(&self, instance_id: &str, id: &str) -> Result<Environment> {
        Self::doc_in(&self.pool, "envs", Kind::Environment, instance_id, id).await
    }

    async fn list_envs(&self, instance_id: &str, name: Option<&str>, page: Page) -> Result<Paged<Environment>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(name) = name {
                Self::push_text_filter(q, "name", &TextMatch::Contains(name.to_string()));
            }
        };
        self.paged("doc", "envs", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_env(&self, instance_id: &str, id: &str) -> Result<()> {
        if id == RELEASE_ENV_ID {
            return Err(Conflict::BuiltInEnv.into());
        }
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, id).await?;
        let published: i64 = sqlx::query("SELECT COUNT(*) FROM publications WHERE instance_id = $1 AND env_id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if published > 0 {
            return Err(Conflict::EnvHasPublishedApis(id.into()).into());
        }
        for table in ["env_variables", "api_versions", "envs"] {
            let column = if table == "envs" { "id" } else { "env_id" };
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE instance_id = $1 AND {column} = $2")))
                .bind(instance_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_variable(&self, instance_id: &str, variable: &EnvVariable) -> Result<()> {
        let mut tx = self.write().await?;
        Self::group_exists(&mut tx, instance_id, &variable.group_id).await?;
        Self::env_in(&mut tx, instance_id, &variable.env_id).await?;
        sqlx::query(
            "INSERT INTO env_variables (id, instance_id, group_id, env_id, name, value) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&variable.id)
        .bind(instance_id)
        .bind(&variable.group_id)
        .bind(&variable.env_id)
        .bind(&variable.variable_name)
        .bind(&variable.variable_value)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::VariableName(variable.variable_name.clone())))?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn update_variable(&self, instance_id: &str, id: &str, value: &str) -> Result<EnvVariable> {
        let mut tx = self.write().await?;
        let updated = sqlx::query("UPDATE env_variables SET value = $1 WHERE instance_id = $2 AND id = $3")
            .bind(value)
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(Kind::Variable, id));
        }
        self.commit(tx).await?;
        self.variable(instance_id, id).await
    }

    async fn variable(&self, instance_id: &str, id: &str) -> Result<EnvVariable> {
        let row = sqlx::query("SELECT * FROM env_variables WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Variable, id))?;
        Self::decode_variable(&row)
    }

    async fn list_variables(
        &self,
        instance_id: &str,
        filter: &VariableFilter,
        page: Page,
    ) -> Result<Paged<EnvVariable>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(group) = &filter.group_id {
                q.push(" AND group_id = ").push_bind(group.clone());
            }
            if let Some(env) = &filter.env_id {
                q.push(" AND env_id = ").push_bind(env.clone());
            }
            if let Some(name) = &filter.variable_name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged("*", "env_variables", "seq", filters, page, Self::decode_variable).await
    }

    async fn delete_variable(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM env_variables WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::Variable, id));
        }
        self.commit(tx).await
    }

    async fn create_api(&self, instance_id: &str, api: &Api) -> Result<()> {
        let mut tx = self.write_definitions().await?;
        Self::group_exists(&mut tx, instance_id, &api.definition.group_id).await?;
        Self::check_api_conflicts(&mut tx, api, None).await?;
        Self::insert_apis(&mut tx, instance_id, std::slice::from_ref(api)).await?;
        Self::record_references(&mut tx, instance_id, api).await?;
        self.commit_definitions(tx).await?;
        Ok(())
    }

    async fn update_api(&self, instance_id: &str, api: &Api) -> Result<()> {
        let mut tx = self.write_definitions().await?;
        Self::api_in(&mut tx, instance_id, &api.id).await?;
        Self::group_exists(&mut tx, instance_id, &api.definition.group_id).await?;
        Self::check_api_conflicts(&mut tx, api, Some(&api.id)).await?;
        Self::replace_api(&mut tx, instance_id, api).await?;
        Self::record_references(&mut tx, instance_id, api).await?;
        self.commit_definitions(tx).await?;
        Ok(())
    }

    async fn api(&self, instance_id: &str, id: &str) -> Result<Api> {
        Self::doc_in(&self.pool, "apis", Kind::Api, instance_id, id).await
    }

    async fn list_apis(&self, instance_id: &str, filter: &ApiFilter, page: Page) -> Result<Paged<Api>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            let exact = [
                ("id", &filter.id),
                ("group_id", &filter.group_id),
                ("req_protocol", &filter.req_protocol),
                ("req_method", &filter.req_method),
                ("auth_type", &filter.auth_type),
            ];
            for (column, value) in exact {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
            if let Some(uri) = &filter.req_uri {
                Self::push_text_filter(q, "req_uri", uri);
            }
            if let Some(t) = filter.api_type {
                q.push(" AND api_type = ").push_bind(t);
            }
            if let Some(env) = &filter.env_id {
                q.push(" AND EXISTS (SELECT 1 FROM publications p WHERE p.api_id = apis.id AND p.env_id = ")
                    .push_bind(env.clone())
                    .push(")");
            }
            if let Some(channel) = &filter.vpc_channel_name {
                Self::push_vpc_channel_filter(q, channel);
            }
            match &filter.tag {
                Some(Some(tag)) => {
                    q.push(format!(" AND {}", DB::json_array_has("apis.tags", None, None)))
                        .push_bind(tag.clone())
                        .push(")");
                }
                Some(None) => {
                    q.push(" AND tags = '[]'");
                }
                None => {}
            }
        };
        self.paged("doc", "apis", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn api_conflict(
        &self,
        instance_id: &str,
        group_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str, &str)>,
        except_id: Option<&str>,
    ) -> Result<Option<Conflict>> {
        let mut tx = self.pool.begin().await?;
        Self::group_exists(&mut tx, instance_id, group_id).await?;
        Self::route_conflict(&mut tx, group_id, name, route, except_id).await
    }

    async fn delete_api(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::api_in(&mut tx, instance_id, id).await?;
        for table in ["publications", "api_versions"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE api_id = $1")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM apis WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn publish(
        &self,
        instance_id: &str,
        env_id: &str,
        api_ids: &[String],
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<BatchOutcome> {
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(api_ids.len());
        for api_id in api_ids {
            let api = match Self::api_in(&mut tx, instance_id, api_id).await {
                Ok(api) => api,
                Err(e @ StoreError::NotFound { .. }) => {
                    outcome.push((api_id.clone(), Err(e)));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let publication = Self::publish_in(&mut tx, instance_id, env_id, &api, remark, now).await?;
            outcome.push((api_id.clone(), Ok(publication)));
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn offline(&self, instance_id: &str, env_id: &str, api_ids: &[String]) -> Result<BatchOutcome> {
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(api_ids.len());
        for api_id in api_ids {
            if let Err(e) = Self::api_in(&mut tx, instance_id, api_id).await {
                outcome.push((api_id.clone(), Err(e)));
                continue;
            }
            let Some(publication) = Self::publication_in(&mut tx, api_id, env_id).await? else {
                outcome.push((api_id.clone(), Err(not_published(api_id, env_id))));
                continue;
            };
            sqlx::query("DELETE FROM publications WHERE api_id = $1 AND env_id = $2")
                .bind(api_id)
                .bind(env_id)
                .execute(&mut *tx)
                .await?;
            outcome.push((api_id.clone(), Ok(publication)));
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn group_api_ids(&self, instance_id: &str, group_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM apis WHERE instance_id = $1 AND group_id = $2 ORDER BY seq")
            .bind(instance_id)
            .bind(group_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn publications(&self, instance_id: &str, api_ids: &[String]) -> Result<Vec<Publication>> {
        if api_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<DB>::new(format!(
            "SELECT {} FROM {PUBLICATION_FROM} WHERE p.instance_id = ",
            publication_columns::<DB>()
        ));
        q.push_bind(instance_id.to_string()).push(" AND p.api_id IN (");
        let mut ids = q.separated(", ");
        for id in api_ids {
            ids.push_bind(id.clone());
        }
        q.push(") ORDER BY p.seq");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(Self::decode_publication).collect()
    }

    async fn list_versions(
        &self,
        instance_id: &str,
        api_id: &str,
        env_id: Option<&str>,
        page: Page,
    ) -> Result<Paged<ApiVersion>> {
        self.api(instance_id, api_id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE v.instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND v.api_id = ").push_bind(api_id.to_string());
            if let Some(env) = env_id {
                q.push(" AND v.env_id = ").push_bind(env.to_string());
            }
        };
        self.paged(VERSION_COLUMNS, VERSION_FROM, "v.seq DESC", filters, page, Self::decode_version).await
    }

    async fn version(&self, instance_id: &str, version_id: &str) -> Result<ApiVersion> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} WHERE v.instance_id = $1 AND v.id = $2"
        )))
        .bind(instance_id)
        .bind(version_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Version, version_id))?;
        Self::decode_version(&row)
    }

    async fn switch_version(
        &self,
        instance_id: &str,
        api_id: &str,
        version_id: &str,
        now: OffsetDateTime,
    ) -> Result<Publication> {
        let mut tx = self.write().await?;
        Self::api_in(&mut tx, instance_id, api_id).await?;
        let row =
            sqlx::query("SELECT api_id, env_id, remark, snapshot FROM api_versions WHERE instance_id = $1 AND id = $2")
                .bind(instance_id)
                .bind(version_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Version, version_id))?;
        let owner: String = row.try_get("api_id")?;
        if owner != api_id {
            return Err(Conflict::ForeignVersion(version_id.into()).into());
        }
        let env_id: String = row.try_get("env_id")?;
        let remark: Option<String> = row.try_get("remark")?;
        let route = RouteKey::of(&Self::from_doc(&row, "snapshot")?);
        let (publication, _) =
            Self::make_live(&mut tx, instance_id, api_id, &env_id, version_id, &route, remark.as_deref(), now).await?;
        self.commit(tx).await?;
        Ok(publication)
    }

    async fn runtime(&self, instance_id: &str, api_id: &str, env_id: &str) -> Result<ApiVersion> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} WHERE v.instance_id = $1 AND v.api_id = $2 AND v.env_id = $3 \
             AND p.version_id IS NOT NULL"
        )))
        .bind(instance_id)
        .bind(api_id)
        .bind(env_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_published(api_id, env_id))?;
        Self::decode_version(&row)
    }

    async fn export_apis(
        &self,
        instance_id: &str,
        group_id: &str,
        env_id: Option<&str>,
        only: Option<&[String]>,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Vec<Api>>>> {
        Ok(self.export_apis_impl(instance_id, group_id, env_id, only))
    }

    async fn export_api_ids(&self, instance_id: &str, group_id: &str, env_id: Option<&str>) -> Result<Vec<String>> {
        self.export_api_ids_impl(instance_id, group_id, env_id).await
    }

    async fn import_apis(&self, instance_id: &str, request: ImportRequest) -> Result<ImportOutcome> {
        self.import_apis_impl(instance_id, request).await
    }

    async fn create_task(&self, instance_id: &str, task: &AsyncTask) -> Result<()> {
        self.create_task_impl(instance_id, task).await
    }

    async fn update_task(
        &self,
        instance_id: &str,
        id: &str,
        status: TaskStatus,
        result: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.update_task_impl(instance_id, id, status, result, now).await
    }

    async fn task(&self, instance_id: &str, id: &str) -> Result<AsyncTask> {
        self.task_impl(instance_id, id).await
    }

    fn node_id(&self) -> &str {
        &self.node_id
    }

    async fn heartbeat(&self, now: OffsetDateTime, lease: time::Duration, reason: &str) -> Result<Heartbeat> {
        self.heartbeat_impl(now, lease, reason).await
    }

    async fn leave(&self, now: OffsetDateTime, reason: &str) -> Result<u64> {
        self.leave_impl(now, reason).await
    }

    // ---- Data plane (issue 6) -------------------------------------------------------------

    async fn live_routes(&self) -> Result<LiveSet> {
        // One read transaction: the reads see the same snapshot of the database.
        let mut tx = DB::begin_snapshot(&self.pool).await?;
        let apis = self.live_apis(&mut tx).await?;
        // `EXISTS`, not `IN (SELECT …)`: SQLite would build a 100,000-row index of group ids.
        let live_group = |group_id: &str| {
            format!(
                "EXISTS (SELECT 1 FROM apis a JOIN publications p ON p.api_id = a.id WHERE a.group_id = {group_id})"
            )
        };
        let groups = sqlx::query(AssertSqlSafe(format!(
            "SELECT doc FROM api_groups g WHERE {} ORDER BY seq",
            live_group("g.id")
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Self::from_doc(row, "doc"))
        .collect::<Result<Vec<_>>>()?;
        let variables = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, env_id, group_id, name, value FROM env_variables v WHERE {} ORDER BY seq",
            live_group("v.group_id")
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Self::decode_variable)
        .collect::<Result<Vec<_>>>()?;
        let policies = self.live_policies(&mut tx).await?;
        tx.commit().await?;
        Ok(LiveSet { apis, groups, variables, policies })
    }

    fn generation(&self) -> u64 {
        self.live_generation.current()
    }

    async fn live_changed(&self, seen: u64) {
        self.live_generation.changed_since(seen).await
    }

    async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
