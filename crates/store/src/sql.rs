//! The SQL engine, written once and run on SQLite (the embedded default: one file in the data
//! directory, WAL journal, `synchronous=FULL` so an acknowledged write survives a crash) and
//! PostgreSQL (many nodes on one database). What differs between the two is in [`Engine`];
//! every writing transaction queues behind the others (`BEGIN IMMEDIATE` on SQLite, an advisory
//! lock on PostgreSQL), so concurrent writers wait instead of failing half-way.

mod accounts;
mod acls;
mod apps;
mod authorizers;
mod backup;
mod bindings;
mod dataservice;
mod definitions;
mod domains;
mod engine;
mod gateway_responses;
mod live;
mod livedata;
mod nodes;
mod openapi;
mod postgres;
mod publish;
mod references;
mod signatures;
mod sqlite;
mod store;
mod throttles;
mod vpc_channels;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use portico_model::{Instance, Page, Paged, new_id};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{AssertSqlSafe, Pool, QueryBuilder, Row, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use engine::{Change, Engine};
pub use postgres::{PgStore, PgTimeouts};
pub use sqlite::SqliteStore;

use crate::cache::{LiveGeneration, ReadCache, invalidate};
use crate::secrets::SecretBox;
use crate::{ApiContext, Conflict, Kind, Result, StoreError, TextMatch};

type Tx<DB> = Transaction<'static, DB>;

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
    /// plane waits on it ([`crate::Store::live_changed`]) and rebuilds its route table when it moves.
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

    fn from_doc<T: DeserializeOwned>(row: &DB::Row, column: &str) -> Result<T> {
        let text: String = row.try_get(column)?;
        Ok(serde_json::from_str(&text)?)
    }

    /// `AND column = value`, or `AND column LIKE %value%` with the value's own `%`, `_` and `\`
    /// escaped: the one place a filter becomes a pattern.
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
}
