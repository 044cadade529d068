//! The SQLite engine: one file in the data directory, WAL journal, `synchronous=FULL` so an
//! acknowledged write survives a crash, and `BEGIN IMMEDIATE` for every writing transaction so
//! concurrent writers queue on the lock instead of failing half-way.

mod livedata;
mod policies;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use async_trait::async_trait;
use portico_model::{
    Api, ApiGroup, Credential, EnvVariable, Environment, Instance, Page, Paged, Project, RELEASE_ENV_ID,
    RELEASE_ENV_NAME, User, new_id,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod dataservice;
mod openapi;

use crate::cache::{ReadCache, invalidate};
use crate::secrets::{KEY_FILE, SecretBox};
use crate::{
    ApiContext, ApiFilter, ApiVersion, AsyncTask, BatchOutcome, Bootstrap, Conflict, GroupFilter, ImportOutcome,
    ImportRequest, Kind, LiveApi, LiveSet, Publication, Result, Store, StoreError, TaskStatus, TextMatch,
    VariableFilter,
};

/// Rows SQLite's worker thread may read ahead of the task consuming them. sqlx's default of 50
/// made a 10,000-row export mostly thread hand-offs (measured: `finish_task_switch` on top of
/// the profile); a longer queue lets the worker and the consumer run in batches.
const ROW_BUFFER: usize = 1024;

/// Bytes of the database file SQLite reads through a memory map rather than `read()` calls:
/// API documents span several pages, and copying each page out of the kernel was a tenth of a
/// large export's time. Only address space; the kernel's page cache holds the data either way.
const MMAP_SIZE: &str = "1073741824";

/// The embedded engine.
///
/// It caches instances and API details in memory (`ReadCache`), which is sound because one
/// `portico serve` process owns a SQLite file: the CLI commands that open it too write only
/// projects, users and credentials, which are never cached.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    generation: Arc<AtomicU64>,
    instances: Arc<ReadCache<(String, String), Instance>>,
    api_contexts: Arc<ReadCache<(String, String), Arc<ApiContext>>>,
    secrets: Arc<SecretBox>,
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

fn from_doc<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text)?)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Maps a unique violation to `conflict`, passing other errors through.
fn unique_or(e: sqlx::Error, conflict: Conflict) -> StoreError {
    if is_unique_violation(&e) { conflict.into() } else { e.into() }
}

fn push_text_filter(q: &mut QueryBuilder<Sqlite>, column: &str, filter: &TextMatch) {
    match filter {
        TextMatch::Exact(v) => {
            q.push(format!(" AND {column} = ")).push_bind(v.clone());
        }
        TextMatch::Contains(v) => {
            let escaped = v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            q.push(format!(" AND {column} LIKE ")).push_bind(format!("%{escaped}%")).push(" ESCAPE '\\'");
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies the migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("mmap_size", MMAP_SIZE)
            .row_buffer_size(ROW_BUFFER);
        Self::connect(options, SecretBox::load_or_create(&path.with_file_name(KEY_FILE))?).await
    }

    /// Opens a database from a `sqlite:` URL; the secrets key lives beside the file (an
    /// in-memory database gets a key for the life of the process).
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("mmap_size", MMAP_SIZE)
            .row_buffer_size(ROW_BUFFER);
        let file = options.get_filename();
        let secrets = if file.as_os_str().is_empty() || file == Path::new(":memory:") {
            SecretBox::ephemeral()
        } else {
            SecretBox::load_or_create(&file.with_file_name(KEY_FILE))?
        };
        Self::connect(options, secrets).await
    }

    async fn connect(options: SqliteConnectOptions, secrets: SecretBox) -> Result<SqliteStore> {
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        let generation = Arc::new(AtomicU64::new(0));
        Ok(SqliteStore {
            pool,
            instances: Arc::new(ReadCache::new(generation.clone())),
            api_contexts: Arc::new(ReadCache::new(generation.clone())),
            secrets: Arc::new(secrets),
            generation,
        })
    }

    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Commits a transaction opened by [`SqliteStore::write`]; every write ends here, so the
    /// read cache learns of every change.
    async fn commit(&self, tx: Transaction<'static, Sqlite>) -> Result<()> {
        tx.commit().await?;
        invalidate(&self.generation);
        Ok(())
    }

    async fn paged<T>(
        &self,
        select: &str,
        from_where: &str,
        order: &str,
        filters: impl Fn(&mut QueryBuilder<Sqlite>),
        page: Page,
        decode: impl Fn(&SqliteRow) -> Result<T>,
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
        let rows = sqlx::query("SELECT project_id FROM user_projects WHERE user_id = ? ORDER BY project_id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn decode_user(&self, row: &SqliteRow) -> Result<User> {
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
}

/// The `doc` of the object `id` of `table` in the instance; tables are fixed names in this file.
async fn doc_in<'e, T: DeserializeOwned>(
    executor: impl sqlx::SqliteExecutor<'e>,
    table: &'static str,
    kind: Kind,
    instance_id: &str,
    id: &str,
) -> Result<T> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT doc FROM {table} WHERE instance_id = ? AND id = ?")))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| StoreError::not_found(kind, id))?;
    from_doc(&row, "doc")
}

/// Renames and rewrites a named object (group or environment) of the instance.
async fn update_named_doc(
    tx: &mut Transaction<'static, Sqlite>,
    table: &'static str,
    kind: Kind,
    instance_id: &str,
    (id, name, doc): (&str, &str, String),
    conflict: Conflict,
) -> Result<()> {
    let updated =
        sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET name = ?, doc = ? WHERE instance_id = ? AND id = ?")))
            .bind(name)
            .bind(doc)
            .bind(instance_id)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_or(e, conflict))?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found(kind, id));
    }
    Ok(())
}

async fn env_in(tx: &mut Transaction<'static, Sqlite>, instance_id: &str, env_id: &str) -> Result<Environment> {
    doc_in(&mut **tx, "envs", Kind::Environment, instance_id, env_id).await
}

async fn api_in(tx: &mut Transaction<'static, Sqlite>, instance_id: &str, api_id: &str) -> Result<Api> {
    doc_in(&mut **tx, "apis", Kind::Api, instance_id, api_id).await
}

async fn group_exists(tx: &mut Transaction<'static, Sqlite>, instance_id: &str, group_id: &str) -> Result<()> {
    sqlx::query("SELECT 1 FROM api_groups WHERE instance_id = ? AND id = ?")
        .bind(instance_id)
        .bind(group_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or_else(|| StoreError::not_found(Kind::Group, group_id))
}

async fn route_conflict(
    conn: &mut sqlx::SqliteConnection,
    group_id: &str,
    name: Option<&str>,
    route: Option<(&str, &str, &str)>,
    except_id: Option<&str>,
) -> Result<Option<Conflict>> {
    let except = except_id.unwrap_or("");
    if let Some(name) = name {
        let taken = sqlx::query("SELECT 1 FROM apis WHERE group_id = ? AND name = ? AND id <> ?")
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
            "SELECT 1 FROM apis WHERE group_id = ? AND req_method = ? AND req_uri = ? AND match_mode = ? AND id <> ?",
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

fn api_route(api: &Api) -> (&str, &str, &str) {
    let d = &api.definition;
    (d.req_method.as_str(), d.req_uri.as_str(), d.match_mode.as_str())
}

async fn check_api_conflicts(tx: &mut Transaction<'static, Sqlite>, api: &Api, except: Option<&str>) -> Result<()> {
    let d = &api.definition;
    match route_conflict(tx, &d.group_id, Some(&d.name), Some(api_route(api)), except).await? {
        Some(conflict) => Err(conflict.into()),
        None => Ok(()),
    }
}

fn api_tags(api: &Api) -> Result<String> {
    to_doc(&api.definition.tags)
}

/// Rows per multi-row `INSERT`: one statement instead of 500 round trips to SQLite's thread,
/// and 12 × 500 bound values stay far below SQLite's limit.
const INSERT_BATCH: usize = 500;

/// Inserts the rows of new APIs.
async fn insert_apis(tx: &mut Transaction<'static, Sqlite>, instance_id: &str, apis: &[Api]) -> Result<()> {
    for batch in apis.chunks(INSERT_BATCH) {
        let rows: Vec<(&Api, String, String)> =
            batch.iter().map(|api| Ok((api, api_tags(api)?, to_doc(api)?))).collect::<Result<_>>()?;
        let mut insert = QueryBuilder::<Sqlite>::new(
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
async fn replace_api(tx: &mut Transaction<'static, Sqlite>, instance_id: &str, api: &Api) -> Result<()> {
    let d = &api.definition;
    sqlx::query(
        "UPDATE apis SET group_id = ?, name = ?, req_protocol = ?, req_method = ?, req_uri = ?, match_mode = ?, \
         auth_type = ?, api_type = ?, tags = ?, doc = ? WHERE instance_id = ? AND id = ?",
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

const PUBLICATION_COLUMNS: &str = "p.publish_id, p.api_id, p.env_id, p.version_id, p.remark, p.publish_time, \
     e.name AS env_name, json_extract(v.snapshot, '$.name') AS api_name";
const PUBLICATION_FROM: &str = "publications p \
     JOIN envs e ON e.instance_id = p.instance_id AND e.id = p.env_id \
     JOIN api_versions v ON v.id = p.version_id";

fn decode_publication(row: &SqliteRow) -> Result<Publication> {
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

const VERSION_COLUMNS: &str = "v.id, CAST(v.number AS TEXT) AS version_no, v.api_id, v.env_id, v.remark, v.publish_time, v.snapshot, \
     COALESCE(e.name, '') AS env_name, (p.version_id IS NOT NULL) AS is_current";
const VERSION_FROM: &str = "api_versions v \
     LEFT JOIN envs e ON e.instance_id = v.instance_id AND e.id = v.env_id \
     LEFT JOIN publications p ON p.api_id = v.api_id AND p.env_id = v.env_id AND p.version_id = v.id";

fn decode_version(row: &SqliteRow) -> Result<ApiVersion> {
    Ok(ApiVersion {
        version_id: row.try_get("id")?,
        version_no: row.try_get("version_no")?,
        api_id: row.try_get("api_id")?,
        env_id: row.try_get("env_id")?,
        env_name: row.try_get("env_name")?,
        remark: row.try_get("remark")?,
        publish_time: parse_ts(&row.try_get::<String, _>("publish_time")?)?,
        is_current: row.try_get("is_current")?,
        snapshot: from_doc(row, "snapshot")?,
    })
}

async fn publication_in(
    tx: &mut Transaction<'static, Sqlite>,
    api_id: &str,
    env_id: &str,
) -> Result<Option<Publication>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PUBLICATION_COLUMNS} FROM {PUBLICATION_FROM} WHERE p.api_id = ? AND p.env_id = ?"
    )))
    .bind(api_id)
    .bind(env_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(decode_publication).transpose()
}

/// Publishes the current definition of `api` in `env_id`: a new version, and the publication
/// (kept, or created and bound to the policies the definition declares) pointing at it.
async fn publish_in(
    tx: &mut Transaction<'static, Sqlite>,
    instance_id: &str,
    env_id: &str,
    api: &Api,
    remark: Option<&str>,
    now: OffsetDateTime,
) -> Result<Publication> {
    let version_id = new_id();
    sqlx::query(
        "INSERT INTO api_versions (id, instance_id, api_id, env_id, number, remark, publish_time, snapshot) \
         VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(number), 0) + 1 FROM api_versions WHERE api_id = ?), ?, ?, ?)",
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
    let (publication, created) = make_live(tx, instance_id, &api.id, env_id, &version_id, remark, now).await?;
    if created {
        policies::bind_declared_policies(tx, instance_id, api, &publication.publish_id, env_id, now).await?;
    }
    Ok(publication)
}

/// Points the (api, env) publication at `version_id`, creating the publication if needed
/// (then `true`).
async fn make_live(
    tx: &mut Transaction<'static, Sqlite>,
    instance_id: &str,
    api_id: &str,
    env_id: &str,
    version_id: &str,
    remark: Option<&str>,
    now: OffsetDateTime,
) -> Result<(Publication, bool)> {
    let fresh_publish_id = new_id();
    sqlx::query(
        "INSERT INTO publications (publish_id, instance_id, api_id, env_id, version_id, remark, publish_time) \
         VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (api_id, env_id) DO UPDATE SET version_id = excluded.version_id, \
         remark = excluded.remark, publish_time = excluded.publish_time",
    )
    .bind(&fresh_publish_id)
    .bind(instance_id)
    .bind(api_id)
    .bind(env_id)
    .bind(version_id)
    .bind(remark)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    let publication =
        publication_in(tx, api_id, env_id).await?.ok_or_else(|| StoreError::not_found(Kind::Publication, api_id))?;
    let created = publication.publish_id == fresh_publish_id;
    Ok((publication, created))
}

async fn insert_project(tx: &mut Transaction<'static, Sqlite>, project: &Project) -> Result<()> {
    sqlx::query("INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)")
        .bind(&project.id)
        .bind(&project.name)
        .bind(ts(project.created_at))
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_or(e, Conflict::ProjectName(project.name.clone())))?;
    Ok(())
}

async fn insert_user(tx: &mut Transaction<'static, Sqlite>, user: &User) -> Result<()> {
    sqlx::query("INSERT INTO users (id, name, password_hash, readonly, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(&user.id)
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.readonly)
        .bind(ts(user.created_at))
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_or(e, Conflict::UserName(user.name.clone())))?;
    for project in &user.projects {
        let exists = sqlx::query("SELECT 1 FROM projects WHERE id = ?").bind(project).fetch_optional(&mut **tx).await?;
        if exists.is_none() {
            return Err(StoreError::not_found(Kind::Project, project));
        }
        sqlx::query("INSERT INTO user_projects (user_id, project_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(&user.id)
            .bind(project)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn insert_credential(tx: &mut Transaction<'static, Sqlite>, credential: &Credential) -> Result<()> {
    sqlx::query("INSERT INTO credentials (access_key, secret_key, user_id, created_at) VALUES (?, ?, ?, ?)")
        .bind(&credential.access_key)
        .bind(&credential.secret_key)
        .bind(&credential.user_id)
        .bind(ts(credential.created_at))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_instance(tx: &mut Transaction<'static, Sqlite>, instance: &Instance) -> Result<()> {
    sqlx::query("INSERT INTO instances (id, project_id, name, doc) VALUES (?, ?, ?, ?)")
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
    sqlx::query("INSERT INTO envs (instance_id, id, name, doc) VALUES (?, ?, ?, ?)")
        .bind(&instance.id)
        .bind(&release.id)
        .bind(&release.name)
        .bind(to_doc(&release)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn not_published(api_id: &str, env_id: &str) -> StoreError {
    StoreError::not_found(Kind::Publication, &format!("of API {api_id} in environment {env_id}"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn setting_or_insert(&self, key: &str, proposed: &str) -> Result<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(proposed)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = ?").bind(key).fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        let mut tx = self.write().await?;
        insert_project(&mut tx, project).await?;
        self.commit(tx).await
    }

    async fn project(&self, id_or_name: &str) -> Result<Project> {
        let row =
            sqlx::query("SELECT id, name, created_at FROM projects WHERE id = ? OR name = ? ORDER BY id = ? DESC")
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
        insert_user(&mut tx, user).await?;
        self.commit(tx).await
    }

    async fn user_by_name(&self, name: &str) -> Result<User> {
        let row = sqlx::query("SELECT * FROM users WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::User, name))?;
        self.decode_user(&row).await
    }

    async fn create_credential(&self, credential: &Credential) -> Result<()> {
        let mut tx = self.write().await?;
        insert_credential(&mut tx, credential).await?;
        self.commit(tx).await
    }

    async fn credential(&self, access_key: &str) -> Result<(Credential, User)> {
        let row = sqlx::query(
            "SELECT c.access_key, c.secret_key, c.created_at AS c_created, u.* \
             FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.access_key = ?",
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
        insert_instance(&mut tx, instance).await?;
        self.commit(tx).await
    }

    async fn bootstrap(&self, b: &Bootstrap) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("SELECT 1 FROM settings WHERE key = 'bootstrapped'").fetch_optional(&mut *tx).await?;
        if done.is_some() {
            return Ok(false);
        }
        insert_project(&mut tx, &b.project).await?;
        insert_user(&mut tx, &b.admin).await?;
        insert_credential(&mut tx, &b.credential).await?;
        insert_instance(&mut tx, &b.instance).await?;
        for (key, value) in [("bootstrapped", "true"), ("domain", b.domain.as_str())] {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?)")
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
                let row = sqlx::query("SELECT doc FROM instances WHERE project_id = ? AND id = ?")
                    .bind(project_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::not_found(Kind::Instance, id))?;
                from_doc(&row, "doc")
            })
            .await
    }

    async fn api_context(&self, instance_id: &str, api_id: &str) -> Result<Arc<ApiContext>> {
        let key = (instance_id.to_string(), api_id.to_string());
        self.api_contexts
            .get_or_load(&key, async {
                let api: Api = doc_in(&self.pool, "apis", Kind::Api, instance_id, api_id).await?;
                let group =
                    doc_in(&self.pool, "api_groups", Kind::Group, instance_id, &api.definition.group_id).await?;
                let publications = self.publications(instance_id, std::slice::from_ref(&api.id)).await?;
                Ok(Arc::new(ApiContext { api, group, publications }))
            })
            .await
    }

    async fn list_instances(&self, project_id: &str, name: Option<&str>, page: Page) -> Result<Paged<Instance>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE project_id = ").push_bind(project_id.to_string());
            if let Some(name) = name {
                push_text_filter(q, "name", &TextMatch::Contains(name.to_string()));
            }
        };
        self.paged("doc", "instances", "seq", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn delete_instance(&self, project_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        // Existence in *this* project first, so another project learns nothing about the instance.
        sqlx::query("SELECT 1 FROM instances WHERE project_id = ? AND id = ?")
            .bind(project_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Instance, id))?;
        let groups: i64 = sqlx::query("SELECT COUNT(*) FROM api_groups WHERE instance_id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if groups > 0 {
            return Err(Conflict::InstanceHasGroups(id.into()).into());
        }
        let deleted = sqlx::query("DELETE FROM instances WHERE project_id = ? AND id = ?")
            .bind(project_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found(Kind::Instance, id));
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO api_groups (id, instance_id, name, doc) VALUES (?, ?, ?, ?)")
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
        update_named_doc(
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
        doc_in(&self.pool, "api_groups", Kind::Group, instance_id, id).await
    }

    async fn list_groups(&self, instance_id: &str, filter: &GroupFilter, page: Page) -> Result<Paged<ApiGroup>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = &filter.id {
                q.push(" AND id = ").push_bind(id.clone());
            }
            if let Some(name) = &filter.name {
                push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "api_groups", "seq", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn group_name_taken(&self, instance_id: &str, name: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM api_groups WHERE instance_id = ? AND name = ?")
            .bind(instance_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn delete_group(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        group_exists(&mut tx, instance_id, id).await?;
        let apis: i64 = sqlx::query("SELECT COUNT(*) FROM apis WHERE group_id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if apis > 0 {
            return Err(Conflict::GroupHasApis(id.into()).into());
        }
        sqlx::query("DELETE FROM env_variables WHERE group_id = ?").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM api_groups WHERE id = ?").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_env(&self, instance_id: &str, env: &Environment) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO envs (instance_id, id, name, doc) VALUES (?, ?, ?, ?)")
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
        update_named_doc(&mut tx, "envs", Kind::Environment, instance_id, target, Conflict::EnvName(env.name.clone()))
            .await?;
        self.commit(tx).await
    }

    async fn env(&self, instance_id: &str, id: &str) -> Result<Environment> {
        doc_in(&self.pool, "envs", Kind::Environment, instance_id, id).await
    }

    async fn list_envs(&self, instance_id: &str, name: Option<&str>, page: Page) -> Result<Paged<Environment>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(name) = name {
                push_text_filter(q, "name", &TextMatch::Contains(name.to_string()));
            }
        };
        self.paged("doc", "envs", "seq", filters, page, |r| from_doc(r, "doc")).await
    }

    async fn delete_env(&self, instance_id: &str, id: &str) -> Result<()> {
        if id == RELEASE_ENV_ID {
            return Err(Conflict::BuiltInEnv.into());
        }
        let mut tx = self.write().await?;
        env_in(&mut tx, instance_id, id).await?;
        let published: i64 = sqlx::query("SELECT COUNT(*) FROM publications WHERE instance_id = ? AND env_id = ?")
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
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE instance_id = ? AND {column} = ?")))
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
        group_exists(&mut tx, instance_id, &variable.group_id).await?;
        env_in(&mut tx, instance_id, &variable.env_id).await?;
        sqlx::query(
            "INSERT INTO env_variables (id, instance_id, group_id, env_id, name, value) VALUES (?, ?, ?, ?, ?, ?)",
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
        let updated = sqlx::query("UPDATE env_variables SET value = ? WHERE instance_id = ? AND id = ?")
            .bind(value)
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found(Kind::Variable, id));
        }
        self.commit(tx).await?;
        self.variable(instance_id, id).await
    }

    async fn variable(&self, instance_id: &str, id: &str) -> Result<EnvVariable> {
        let row = sqlx::query("SELECT * FROM env_variables WHERE instance_id = ? AND id = ?")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Variable, id))?;
        decode_variable(&row)
    }

    async fn list_variables(
        &self,
        instance_id: &str,
        filter: &VariableFilter,
        page: Page,
    ) -> Result<Paged<EnvVariable>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(group) = &filter.group_id {
                q.push(" AND group_id = ").push_bind(group.clone());
            }
            if let Some(env) = &filter.env_id {
                q.push(" AND env_id = ").push_bind(env.clone());
            }
            if let Some(name) = &filter.variable_name {
                push_text_filter(q, "name", name);
            }
        };
        self.paged("*", "env_variables", "seq", filters, page, decode_variable).await
    }

    async fn delete_variable(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM env_variables WHERE instance_id = ? AND id = ?")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found(Kind::Variable, id));
        }
        self.commit(tx).await
    }

    async fn create_api(&self, instance_id: &str, api: &Api) -> Result<()> {
        let mut tx = self.write().await?;
        group_exists(&mut tx, instance_id, &api.definition.group_id).await?;
        check_api_conflicts(&mut tx, api, None).await?;
        insert_apis(&mut tx, instance_id, std::slice::from_ref(api)).await?;
        policies::record_references(&mut tx, instance_id, api).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn update_api(&self, instance_id: &str, api: &Api) -> Result<()> {
        let mut tx = self.write().await?;
        api_in(&mut tx, instance_id, &api.id).await?;
        group_exists(&mut tx, instance_id, &api.definition.group_id).await?;
        check_api_conflicts(&mut tx, api, Some(&api.id)).await?;
        replace_api(&mut tx, instance_id, api).await?;
        policies::record_references(&mut tx, instance_id, api).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn api(&self, instance_id: &str, id: &str) -> Result<Api> {
        doc_in(&self.pool, "apis", Kind::Api, instance_id, id).await
    }

    async fn list_apis(&self, instance_id: &str, filter: &ApiFilter, page: Page) -> Result<Paged<Api>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
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
                push_text_filter(q, "name", name);
            }
            if let Some(uri) = &filter.req_uri {
                push_text_filter(q, "req_uri", uri);
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
                policies::push_vpc_channel_filter(q, channel);
            }
            match &filter.tag {
                Some(Some(tag)) => {
                    q.push(" AND EXISTS (SELECT 1 FROM json_each(apis.tags) WHERE value = ")
                        .push_bind(tag.clone())
                        .push(")");
                }
                Some(None) => {
                    q.push(" AND tags = '[]'");
                }
                None => {}
            }
        };
        self.paged("doc", "apis", "seq", filters, page, |r| from_doc(r, "doc")).await
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
        group_exists(&mut tx, instance_id, group_id).await?;
        route_conflict(&mut tx, group_id, name, route, except_id).await
    }

    async fn delete_api(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        api_in(&mut tx, instance_id, id).await?;
        for table in ["publications", "api_versions"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE api_id = ?")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM apis WHERE id = ?").bind(id).execute(&mut *tx).await?;
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
        env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(api_ids.len());
        for api_id in api_ids {
            let api = match api_in(&mut tx, instance_id, api_id).await {
                Ok(api) => api,
                Err(e @ StoreError::NotFound { .. }) => {
                    outcome.push((api_id.clone(), Err(e)));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let publication = publish_in(&mut tx, instance_id, env_id, &api, remark, now).await?;
            outcome.push((api_id.clone(), Ok(publication)));
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn offline(&self, instance_id: &str, env_id: &str, api_ids: &[String]) -> Result<BatchOutcome> {
        let mut tx = self.write().await?;
        env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(api_ids.len());
        for api_id in api_ids {
            if let Err(e) = api_in(&mut tx, instance_id, api_id).await {
                outcome.push((api_id.clone(), Err(e)));
                continue;
            }
            let Some(publication) = publication_in(&mut tx, api_id, env_id).await? else {
                outcome.push((api_id.clone(), Err(not_published(api_id, env_id))));
                continue;
            };
            sqlx::query("DELETE FROM publications WHERE api_id = ? AND env_id = ?")
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
        let rows = sqlx::query("SELECT id FROM apis WHERE instance_id = ? AND group_id = ? ORDER BY seq")
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
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {PUBLICATION_COLUMNS} FROM {PUBLICATION_FROM} WHERE p.instance_id = "
        ));
        q.push_bind(instance_id.to_string()).push(" AND p.api_id IN (");
        let mut ids = q.separated(", ");
        for id in api_ids {
            ids.push_bind(id.clone());
        }
        q.push(") ORDER BY p.seq");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode_publication).collect()
    }

    async fn list_versions(
        &self,
        instance_id: &str,
        api_id: &str,
        env_id: Option<&str>,
        page: Page,
    ) -> Result<Paged<ApiVersion>> {
        self.api(instance_id, api_id).await?;
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE v.instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND v.api_id = ").push_bind(api_id.to_string());
            if let Some(env) = env_id {
                q.push(" AND v.env_id = ").push_bind(env.to_string());
            }
        };
        self.paged(VERSION_COLUMNS, VERSION_FROM, "v.seq DESC", filters, page, decode_version).await
    }

    async fn version(&self, instance_id: &str, version_id: &str) -> Result<ApiVersion> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} WHERE v.instance_id = ? AND v.id = ?"
        )))
        .bind(instance_id)
        .bind(version_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Version, version_id))?;
        decode_version(&row)
    }

    async fn switch_version(
        &self,
        instance_id: &str,
        api_id: &str,
        version_id: &str,
        now: OffsetDateTime,
    ) -> Result<Publication> {
        let mut tx = self.write().await?;
        api_in(&mut tx, instance_id, api_id).await?;
        let row = sqlx::query("SELECT api_id, env_id, remark FROM api_versions WHERE instance_id = ? AND id = ?")
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
        let (publication, _) =
            make_live(&mut tx, instance_id, api_id, &env_id, version_id, remark.as_deref(), now).await?;
        self.commit(tx).await?;
        Ok(publication)
    }

    async fn runtime(&self, instance_id: &str, api_id: &str, env_id: &str) -> Result<ApiVersion> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} WHERE v.instance_id = ? AND v.api_id = ? AND v.env_id = ? \
             AND p.version_id IS NOT NULL"
        )))
        .bind(instance_id)
        .bind(api_id)
        .bind(env_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_published(api_id, env_id))?;
        decode_version(&row)
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

    async fn fail_unfinished_tasks(&self, reason: &str, now: OffsetDateTime) -> Result<u64> {
        self.fail_unfinished_tasks_impl(reason, now).await
    }

    // ---- Data plane (issue 6) -------------------------------------------------------------

    async fn live_routes(&self) -> Result<LiveSet> {
        // One read transaction: the reads see the same snapshot of the database.
        let mut tx = self.pool.begin().await?;
        // Pages of publications (keyset on seq), decoded page by page, so the raw rows of a large
        // table are never all in memory beside the decoded snapshots.
        let mut apis = Vec::new();
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(
                "SELECT p.seq, p.instance_id, i.project_id, p.env_id, e.name AS env_name, p.publish_id, v.snapshot \
                 FROM publications p JOIN api_versions v ON v.id = p.version_id \
                 JOIN instances i ON i.id = p.instance_id \
                 JOIN envs e ON e.instance_id = p.instance_id AND e.id = p.env_id \
                 WHERE p.seq > ? ORDER BY p.seq LIMIT 2000",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            for row in &rows {
                apis.push(LiveApi {
                    instance_id: row.try_get("instance_id")?,
                    project_id: row.try_get("project_id")?,
                    env_id: row.try_get("env_id")?,
                    env_name: row.try_get("env_name")?,
                    publish_id: row.try_get("publish_id")?,
                    snapshot: from_doc(row, "snapshot")?,
                });
            }
        }
        let live_groups = "SELECT a.group_id FROM publications p JOIN apis a ON a.id = p.api_id";
        let groups =
            sqlx::query(AssertSqlSafe(format!("SELECT doc FROM api_groups WHERE id IN ({live_groups}) ORDER BY seq")))
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| from_doc(row, "doc"))
                .collect::<Result<Vec<_>>>()?;
        let variables = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, env_id, group_id, name, value FROM env_variables WHERE group_id IN ({live_groups}) ORDER BY seq"
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(decode_variable)
        .collect::<Result<Vec<_>>>()?;
        let policies = self.live_policies(&mut tx).await?;
        tx.commit().await?;
        Ok(LiveSet { apis, groups, variables, policies })
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

fn decode_variable(row: &SqliteRow) -> Result<EnvVariable> {
    Ok(EnvVariable {
        id: row.try_get("id")?,
        env_id: row.try_get("env_id")?,
        group_id: row.try_get("group_id")?,
        variable_name: row.try_get("name")?,
        variable_value: row.try_get("value")?,
    })
}
