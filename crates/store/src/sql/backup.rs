//! [`BackupStore`] on both engines: every table worth keeping, read in one snapshot and written
//! row by row, and a restore that inserts them row by row in one writing transaction.
//!
//! Not copied, because they belong to the running nodes and not to the data: `nodes` (each
//! server's lease; the restored servers take their own), `async_tasks` and `ds_jobs` (transient
//! export/import tasks and Excel import jobs, whose node and files do not move along), and
//! `_sqlx_migrations` (the target applies its own). Failed-login lockouts and throttling
//! counters live in each process's memory, never in the database.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;
use tokio::io::AsyncWrite;

use super::{Engine, SqlStore, Tx, ts};
use crate::backup::{
    BACKUP_FORMAT, BACKUP_VERSION, BackupError, BackupHeader, BackupReader, BackupStore, BackupSummary, BackupWriter,
    Line, TableStart,
};

/// How a column is read, written and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Text,
    OptionalText,
    /// A 32-bit integer (`INTEGER` on PostgreSQL).
    Int,
    /// A 64-bit integer (`BIGINT`).
    BigInt,
    /// A generated 64-bit key (`seq`): PostgreSQL's identity restarts after the restored values.
    Identity,
    Bool,
}

use Column::*;

struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Column)],
}

/// The tables a backup holds, in an order where each row's references come before it, and
/// their columns as of the latest migration (a backup carries its migration and a restore
/// needs the same, so this list changes with the migrations).
const TABLES: &[Table] = &[
    Table { name: "settings", columns: &[("key", Text), ("value", Text)] },
    Table { name: "projects", columns: &[("seq", Identity), ("id", Text), ("name", Text), ("created_at", Text)] },
    Table {
        name: "users",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("name", Text),
            ("password_hash", Text),
            ("readonly", Bool),
            ("created_at", Text),
        ],
    },
    Table { name: "user_projects", columns: &[("user_id", Text), ("project_id", Text)] },
    Table {
        name: "credentials",
        columns: &[("access_key", Text), ("secret_key", Text), ("user_id", Text), ("created_at", Text)],
    },
    Table {
        name: "instances",
        columns: &[("seq", Identity), ("id", Text), ("project_id", Text), ("name", Text), ("doc", Text)],
    },
    Table {
        name: "api_groups",
        columns: &[("seq", Identity), ("id", Text), ("instance_id", Text), ("name", Text), ("doc", Text)],
    },
    Table {
        name: "envs",
        columns: &[("seq", Identity), ("instance_id", Text), ("id", Text), ("name", Text), ("doc", Text)],
    },
    Table {
        name: "env_variables",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("group_id", Text),
            ("env_id", Text),
            ("name", Text),
            ("value", Text),
        ],
    },
    Table {
        name: "apis",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("group_id", Text),
            ("name", Text),
            ("req_protocol", Text),
            ("req_method", Text),
            ("req_uri", Text),
            ("match_mode", Text),
            ("auth_type", Text),
            ("api_type", Int),
            ("tags", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "api_versions",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("api_id", Text),
            ("env_id", Text),
            ("number", Int),
            ("remark", OptionalText),
            ("publish_time", Text),
            ("snapshot", Text),
        ],
    },
    Table {
        name: "publications",
        columns: &[
            ("seq", Identity),
            ("publish_id", Text),
            ("instance_id", Text),
            ("api_id", Text),
            ("env_id", Text),
            ("version_id", Text),
            ("remark", OptionalText),
            ("publish_time", Text),
            ("route", OptionalText),
        ],
    },
    Table {
        name: "apps",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("name", Text),
            ("app_key", Text),
            ("sealed_secret", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "app_codes",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("app_id", Text),
            ("code_hash", Text),
            ("sealed_code", Text),
            ("create_time", Text),
        ],
    },
    Table {
        name: "app_auths",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("app_id", Text),
            ("publish_id", Text),
            ("api_id", Text),
            ("env_id", Text),
            ("auth_time", Text),
        ],
    },
    Table {
        name: "throttles",
        columns: &[("seq", Identity), ("id", Text), ("instance_id", Text), ("name", Text), ("doc", Text)],
    },
    Table {
        name: "throttle_specials",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("throttle_id", Text),
            ("object_type", Text),
            ("object_id", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "acls",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("name", Text),
            ("entity_type", Text),
            ("acl_type", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "policy_bindings",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("kind", Text),
            ("policy_id", Text),
            ("publish_id", Text),
            ("api_id", Text),
            ("env_id", Text),
            ("create_time", Text),
        ],
    },
    Table {
        name: "authorizers",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("name", Text),
            ("kind", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "api_refs",
        columns: &[("api_id", Text), ("instance_id", Text), ("kind", Text), ("ref_id", Text), ("field", Text)],
    },
    Table {
        name: "vpc_channels",
        columns: &[("seq", Identity), ("id", Text), ("instance_id", Text), ("name", Text), ("doc", Text)],
    },
    Table {
        name: "signs",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("name", Text),
            ("sealed_secret", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "gateway_responses",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("group_id", Text),
            ("name", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "roma_apps",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("name", Text),
            ("sealed_secret", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "data_sources",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("app_id", Text),
            ("name", Text),
            ("kind", Text),
            ("sealed_password", OptionalText),
            ("doc", Text),
        ],
    },
    Table {
        name: "livedata_apis",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("app_id", Text),
            ("name", Text),
            ("method", Text),
            ("path", Text),
            ("status", Int),
            ("doc", Text),
        ],
    },
    Table { name: "livedata_sources", columns: &[("ld_api_id", Text), ("ds_id", Text)] },
    Table {
        name: "livedata_deployments",
        columns: &[("seq", Identity), ("id", Text), ("ld_api_id", Text), ("doc", Text)],
    },
    Table { name: "livedata_tests", columns: &[("test_id", Identity), ("ld_api_id", Text), ("doc", Text)] },
    Table {
        name: "ds_catalogs",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("project_id", Text),
            ("workspace", Text),
            ("pid", Text),
            ("name", Text),
            ("doc", Text),
        ],
    },
    Table {
        name: "ds_apis",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("project_id", Text),
            ("workspace", Text),
            ("catalog_id", Text),
            ("name", Text),
            ("description", OptionalText),
            ("create_user", Text),
            ("tags", Text),
            ("table_name", OptionalText),
            ("api_type", Text),
            ("publish_status", Text),
            ("authorization_status", Text),
            ("create_time", BigInt),
            ("doc", Text),
        ],
    },
    // `rowid`: SQLite's implicit row id, a column of its own on PostgreSQL; it orders the rows.
    Table {
        name: "ds_publications",
        columns: &[
            ("rowid", Identity),
            ("id", Text),
            ("api_id", Text),
            ("instance_id", Text),
            ("group_id", Text),
            ("gateway_api_id", Text),
        ],
    },
    // The private key stays sealed: `sealed_key` is copied as it is.
    Table {
        name: "certificates",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("project_id", Text),
            ("name", Text),
            ("cert_content", Text),
            ("sealed_key", Text),
            ("trusted_root_ca", OptionalText),
            ("doc", Text),
        ],
    },
    Table {
        name: "domains",
        columns: &[
            ("seq", Identity),
            ("id", Text),
            ("instance_id", Text),
            ("group_id", Text),
            ("url_domain", Text),
            ("ssl_id", OptionalText),
            ("doc", Text),
        ],
    },
];

/// Tables a restore does not fill but wants empty: the target is not in use.
const NOT_COPIED: &[&str] = &["nodes", "async_tasks", "ds_jobs"];

fn refused(message: impl Into<String>) -> BackupError {
    BackupError::Refused(message.into())
}

impl Table {
    fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|(name, _)| (*name).to_owned()).collect()
    }

    fn column_list(&self) -> String {
        self.columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }

    /// `SELECT` of every column, in the order rows were created (by their key without one).
    fn select(&self) -> String {
        let order = match self.columns.iter().find(|(_, kind)| *kind == Identity) {
            Some((key, _)) => (*key).to_owned(),
            None => self.column_list(),
        };
        format!("SELECT {} FROM {} ORDER BY {order}", self.column_list(), self.name)
    }
}

#[async_trait]
impl<DB> BackupStore for SqlStore<DB>
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
    for<'q> Option<i64>: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    async fn backup(
        &self,
        out: &mut (dyn AsyncWrite + Unpin + Send),
        now: OffsetDateTime,
    ) -> Result<BackupSummary, BackupError> {
        let mut tx = DB::begin_snapshot(&self.pool).await?;
        let header = BackupHeader {
            format: BACKUP_FORMAT.into(),
            version: BACKUP_VERSION,
            migration: migration_level(&mut tx).await?,
            engine: <DB as sqlx::Database>::NAME.into(),
            created_at: ts(now),
            secrets_key_sha256: self.secrets.fingerprint.clone(),
        };
        let mut writer = BackupWriter::new(out);
        writer.line(&header).await?;
        for table in TABLES {
            writer.line(&TableStart { table: table.name.into(), columns: table.column_names() }).await?;
            let mut rows = sqlx::query(AssertSqlSafe(table.select())).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                let values = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| read_value::<DB>(&row, i, *kind))
                    .collect::<Result<Vec<Value>, sqlx::Error>>()?;
                writer.line(&values).await?;
                writer.rows += 1;
            }
        }
        let rows = writer.finish().await?;
        tx.rollback().await?;
        Ok(BackupSummary { tables: TABLES.len() as u64, rows })
    }

    async fn restore(&self, mut backup: BackupReader<'_>) -> Result<BackupSummary, BackupError> {
        let header = backup.header().clone();
        if header.secrets_key_sha256 != self.secrets.fingerprint {
            return Err(refused(format!(
                "the backup's sealed secrets need the secrets.key whose fingerprint is {}, and this \
                 data directory's key is {}: put the source's secrets.key in place first",
                header.secrets_key_sha256, self.secrets.fingerprint
            )));
        }
        let mut tx = self.write().await?;
        let level = migration_level(&mut tx).await?;
        if header.migration != level {
            return Err(refused(format!(
                "the backup is at schema migration {} and this database at {level}: restore it with the \
                 Portico version that took it",
                header.migration
            )));
        }
        for table in TABLES.iter().map(|t| t.name).chain(NOT_COPIED.iter().copied()) {
            let any = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) t")))
                .fetch_one(&mut *tx)
                .await?
                .try_get::<i64, _>(0)?;
            if any > 0 {
                return Err(refused(format!(
                    "the target database is not empty (table {table} has rows): restore into a new data \
                     directory or an empty database"
                )));
            }
        }
        let mut rows = 0u64;
        let mut tables = TABLES.iter();
        let mut batch = Batch { table: None, rows: Vec::new(), bytes: 0 };
        loop {
            match backup.next(rows).await? {
                Line::Table(start) => {
                    batch.flush::<DB>(&mut tx).await?;
                    let table = tables.next().filter(|t| t.name == start.table).ok_or_else(|| {
                        refused(format!("table {:?} is not the one this build expects here", start.table))
                    })?;
                    if start.columns != table.column_names() {
                        return Err(refused(format!("the columns of table {} are not this build's", table.name)));
                    }
                    batch.table = Some(table);
                }
                Line::Row(values, bytes) => {
                    let table = batch.table.ok_or_else(|| refused("the backup has a row before any table"))?;
                    batch.rows.push(typed(table, values)?);
                    batch.bytes += bytes;
                    rows += 1;
                    if batch.rows.len() >= BATCH_ROWS || batch.bytes >= BATCH_BYTES {
                        batch.flush::<DB>(&mut tx).await?;
                    }
                }
                Line::End => {
                    batch.flush::<DB>(&mut tx).await?;
                    break;
                }
            }
        }
        if let Some(missing) = tables.next() {
            return Err(refused(format!("the backup has no table {}", missing.name)));
        }
        for table in TABLES {
            for (column, _) in table.columns.iter().filter(|(_, kind)| *kind == Identity) {
                if let Some(sql) = DB::restart_identity(table.name, column) {
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
                }
            }
        }
        self.commit(tx).await?;
        Ok(BackupSummary { tables: TABLES.len() as u64, rows })
    }
}

/// The latest migration applied to the database.
async fn migration_level<DB>(tx: &mut Tx<DB>) -> Result<i64, BackupError>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> Option<i64>: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let level: Option<i64> =
        sqlx::query("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&mut **tx).await?.try_get(0)?;
    level.ok_or_else(|| refused("the database has no migration applied"))
}

fn read_value<DB>(row: &DB::Row, i: usize, kind: Column) -> Result<Value, sqlx::Error>
where
    DB: Engine,
    for<'q> String: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    Ok(match kind {
        Text => Value::from(row.try_get::<String, _>(i)?),
        OptionalText => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::from),
        Int => Value::from(row.try_get::<i32, _>(i)?),
        BigInt | Identity => Value::from(row.try_get::<i64, _>(i)?),
        Bool => Value::from(row.try_get::<bool, _>(i)?),
    })
}

/// A value of a row, checked against its column.
enum Bound {
    Text(String),
    OptionalText(Option<String>),
    Int(i32),
    BigInt(i64),
    Bool(bool),
}

/// The row's values, each checked against its column's kind.
fn typed(table: &Table, values: Vec<Value>) -> Result<Vec<Bound>, BackupError> {
    if values.len() != table.columns.len() {
        return Err(refused(format!("a row of table {} has {} values", table.name, values.len())));
    }
    table
        .columns
        .iter()
        .zip(values)
        .map(|((column, kind), value)| {
            let wrong = || refused(format!("a row of table {} has a wrong {column}: {value}", table.name));
            Ok(match (kind, &value) {
                (Text, Value::String(s)) => Bound::Text(s.clone()),
                (OptionalText, Value::String(s)) => Bound::OptionalText(Some(s.clone())),
                (OptionalText, Value::Null) => Bound::OptionalText(None),
                (Int, Value::Number(n)) => {
                    Bound::Int(n.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(wrong)?)
                }
                (BigInt | Identity, Value::Number(n)) => Bound::BigInt(n.as_i64().ok_or_else(wrong)?),
                (Bool, Value::Bool(b)) => Bound::Bool(*b),
                _ => return Err(wrong()),
            })
        })
        .collect()
}

/// Rows a restore inserts with one statement: far fewer round trips to PostgreSQL than a
/// statement per row, and at most 15 columns × 200 rows of parameters, well below either
/// engine's limit.
const BATCH_ROWS: usize = 200;
/// Bytes of backup lines a batch holds at most, whatever the rows' size.
const BATCH_BYTES: usize = 8 << 20;

/// The rows of one table waiting for their `INSERT`.
struct Batch {
    table: Option<&'static Table>,
    rows: Vec<Vec<Bound>>,
    bytes: usize,
}

impl Batch {
    async fn flush<DB>(&mut self, tx: &mut Tx<DB>) -> Result<(), BackupError>
    where
        DB: Engine,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        DB::Arguments: sqlx::IntoArguments<DB>,
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let Some(table) = self.table else { return Ok(()) };
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut insert =
            sqlx::QueryBuilder::<DB>::new(format!("INSERT INTO {} ({}) ", table.name, table.column_list()));
        insert.push_values(self.rows.drain(..), |mut row, values| {
            for value in values {
                match value {
                    Bound::Text(v) => row.push_bind(v),
                    Bound::OptionalText(v) => row.push_bind(v),
                    Bound::Int(v) => row.push_bind(v),
                    Bound::BigInt(v) => row.push_bind(v),
                    Bound::Bool(v) => row.push_bind(v),
                };
            }
        });
        insert.build().execute(&mut **tx).await?;
        self.bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migration that adds a table or a column must say here whether backups copy it: a table
    /// the list forgets would be lost by every restore.
    #[tokio::test]
    async fn every_table_and_column_is_copied_or_known_not_to_be() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SqliteStore::open(&dir.path().join("portico.db")).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> '_sqlx_migrations'")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let mut known: Vec<&str> = TABLES.iter().map(|t| t.name).chain(NOT_COPIED.iter().copied()).collect();
        known.sort_unstable();
        let mut found: Vec<&str> = tables.iter().map(String::as_str).collect();
        found.sort_unstable();
        assert_eq!(found, known, "tables in the schema / in TABLES and NOT_COPIED");
        for table in TABLES {
            let columns: Vec<String> =
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{}')", table.name)))
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            // SQLite's implicit rowid is no column of the table's declaration.
            let listed: Vec<String> = table.column_names().into_iter().filter(|c| c != "rowid").collect();
            assert_eq!(columns, listed, "the columns of {}", table.name);
        }
    }
}
