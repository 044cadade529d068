//! What differs between the databases [`SqlStore`](super::SqlStore) runs on. Everything else —
//! every query, every transaction, every rule — is written once, generic over [`Engine`].
//!
//! Queries number their placeholders `$1`, `$2`, …: PostgreSQL requires it, and sqlx binds
//! SQLite's `$N` parameters by their number too, so the same text binds the same way on both.

use std::future::Future;

use sqlx::{Pool, Postgres, Sqlite, Transaction};

/// A database the SQL engine runs on.
pub trait Engine: sqlx::Database {
    /// Opens a writing transaction. Writers queue one behind the other for the whole
    /// transaction, so the checks a write makes (conflicts, references) hold when it commits.
    /// Other nodes learn of the `change` when it commits.
    fn begin_write(
        pool: &Pool<Self>,
        change: Change,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Self>>> + Send;

    /// Opens a transaction whose reads all see one snapshot of the database.
    fn begin_snapshot(pool: &Pool<Self>) -> impl Future<Output = sqlx::Result<Transaction<'static, Self>>> + Send;

    /// Rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The text at `key` of the JSON object in `column` (a number as its digits), to compare
    /// with a bound text.
    fn json_text(column: &str, key: &str) -> String;

    /// The start of a condition "the JSON array at `array_key` of `column` (the column itself
    /// when `None`) has an element whose text at `element_key` (the element itself when
    /// `None`) equals …": the caller binds the value as text and closes the parenthesis.
    fn json_array_has(column: &str, array_key: Option<&str>, element_key: Option<&str>) -> String;

    /// The JSON object in `column` with its `key` set to the text `value` (an SQL expression).
    fn json_with_text(column: &str, key: &str, value: &str) -> String;

    /// A condition "`haystack` contains the next bound value" (`haystack` is an expression).
    fn contains(haystack: &str) -> String;

    /// An aggregate: the text of one JSON array holding, for each selected row, the array of
    /// `values` (SQL expressions), in no particular order; `[]` when no row matches. Reading many
    /// narrow rows as this one value saves sqlx's per-row hand-off, which at 100,000 rows costs
    /// far more than the query (see BENCHMARKS.md, "Gateway").
    fn json_rows(values: &[&str]) -> String;

    /// `column`'s JSON text as a JSON value, to nest in a [`Engine::json_rows`] row.
    fn json_value(column: &str) -> String;

    /// A `FROM` item `t` with a row per element of the JSON array of strings in `column`, its
    /// text in `t.value`, which compares byte by byte on both engines.
    fn json_array_texts(column: &str) -> String;

    /// The case-insensitive `LIKE` operator.
    const LIKE: &'static str;

    /// A statement that makes the generated key `column` of `table` continue after the largest
    /// value in the table, once a restore has written the values; `None` where the database
    /// does that by itself.
    fn restart_identity(table: &str, column: &str) -> Option<String>;
}

/// What a write may change, for the data plane: whether its route table must be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Anything, what is live included.
    Live,
    /// API definitions or tasks only: publications serve their own versions.
    Definitions,
}

/// The payload of a [`Change::Definitions`] notification on [`CHANGES_CHANNEL`].
pub(super) const DEFINITIONS_PAYLOAD: &str = "definitions";

/// Every writer takes this advisory lock on PostgreSQL: one writer at a time across all nodes,
/// as `BEGIN IMMEDIATE` gives on SQLite.
const WRITE_LOCK: i64 = 0x0070_6f72_7469_636f; // "portico" in ASCII

/// The PostgreSQL channel every writing transaction notifies.
pub(super) const CHANGES_CHANNEL: &str = "portico_changes";

impl Engine for Sqlite {
    async fn begin_write(pool: &Pool<Self>, _: Change) -> sqlx::Result<Transaction<'static, Self>> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn begin_snapshot(pool: &Pool<Self>) -> sqlx::Result<Transaction<'static, Self>> {
        // A SQLite read transaction sees one snapshot from its first read (WAL).
        pool.begin().await
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn json_text(column: &str, key: &str) -> String {
        format!("CAST(json_extract({column}, '$.{key}') AS TEXT)")
    }

    fn json_array_has(column: &str, array_key: Option<&str>, element_key: Option<&str>) -> String {
        let array = match array_key {
            Some(key) => format!("json_each({column}, '$.{key}')"),
            None => format!("json_each({column})"),
        };
        let element = match element_key {
            Some(key) => format!("CAST(json_extract(e.value, '$.{key}') AS TEXT)"),
            None => "e.value".to_owned(),
        };
        format!("EXISTS (SELECT 1 FROM {array} e WHERE {element} = ")
    }

    fn json_with_text(column: &str, key: &str, value: &str) -> String {
        format!("json_set({column}, '$.{key}', {value})")
    }

    fn contains(haystack: &str) -> String {
        format!("instr({haystack}, ")
    }

    fn json_rows(values: &[&str]) -> String {
        format!("json_group_array(json_array({}))", values.join(", "))
    }

    fn json_value(column: &str) -> String {
        format!("json({column})")
    }

    fn json_array_texts(column: &str) -> String {
        // SQLite compares text with BINARY unless told otherwise.
        format!("json_each({column}) AS t")
    }

    const LIKE: &'static str = "LIKE";

    fn restart_identity(_: &str, _: &str) -> Option<String> {
        // An INTEGER PRIMARY KEY continues after the largest rowid by itself.
        None
    }
}

impl Engine for Postgres {
    async fn begin_write(pool: &Pool<Self>, change: Change) -> sqlx::Result<Transaction<'static, Self>> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
        // Delivered to every node when (and only if) the transaction commits.
        let notify = match change {
            Change::Live => format!("NOTIFY {CHANGES_CHANNEL}"),
            Change::Definitions => format!("NOTIFY {CHANGES_CHANNEL}, '{DEFINITIONS_PAYLOAD}'"),
        };
        sqlx::query(sqlx::AssertSqlSafe(notify)).execute(&mut *tx).await?;
        Ok(tx)
    }

    async fn begin_snapshot(pool: &Pool<Self>) -> sqlx::Result<Transaction<'static, Self>> {
        pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn json_text(column: &str, key: &str) -> String {
        format!("({column}::jsonb ->> '{key}')")
    }

    fn json_array_has(column: &str, array_key: Option<&str>, element_key: Option<&str>) -> String {
        let array = match array_key {
            Some(key) => format!("jsonb_array_elements({column}::jsonb -> '{key}')"),
            None => format!("jsonb_array_elements({column}::jsonb)"),
        };
        let element = match element_key {
            Some(key) => format!("e.value ->> '{key}'"),
            None => "e.value #>> '{}'".to_owned(),
        };
        format!("EXISTS (SELECT 1 FROM {array} e(value) WHERE {element} = ")
    }

    fn json_with_text(column: &str, key: &str, value: &str) -> String {
        format!("jsonb_set({column}::jsonb, '{{{key}}}', to_jsonb(({value})::text))::text")
    }

    fn contains(haystack: &str) -> String {
        format!("strpos({haystack}, ")
    }

    fn json_rows(values: &[&str]) -> String {
        format!("COALESCE(json_agg(json_build_array({}))::text, '[]')", values.join(", "))
    }

    fn json_value(column: &str) -> String {
        format!("({column})::json")
    }

    fn json_array_texts(column: &str) -> String {
        format!(
            "LATERAL (SELECT e.value COLLATE \"C\" AS value FROM jsonb_array_elements_text({column}::jsonb) AS e(value)) AS t"
        )
    }

    const LIKE: &'static str = "ILIKE";

    fn restart_identity(table: &str, column: &str) -> Option<String> {
        Some(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        ))
    }
}
