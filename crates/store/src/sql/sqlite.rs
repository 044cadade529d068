//! The embedded engine: a SQLite file in the data directory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::SqlStore;
use crate::secrets::{KEY_FILE, SecretBox};
use crate::{Result, StoreError};

/// Rows SQLite's worker thread may read ahead of the task consuming them. sqlx's default of 50
/// made a 10,000-row export mostly thread hand-offs (measured: `finish_task_switch` on top of
/// the profile); a longer queue lets the worker and the consumer run in batches.
const ROW_BUFFER: usize = 1024;

/// Bytes of the database file SQLite reads through a memory map rather than `read()` calls:
/// API documents span several pages, and copying each page out of the kernel was a tenth of a
/// large export's time. Only address space; the kernel's page cache holds the data either way.
const MMAP_SIZE: &str = "1073741824";

/// The store on SQLite. Its read cache is sound because one `portico serve` process owns a
/// SQLite file: the CLI commands that open it too write only projects, users and credentials,
/// which are never cached.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database file and applies the migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let options = options(SqliteConnectOptions::new().filename(path));
        Self::connect(options, SecretBox::load_or_create(&path.with_file_name(KEY_FILE))?).await
    }

    /// Opens a database from a `sqlite:` URL; the secrets key lives beside the file (an
    /// in-memory database gets a key for the life of the process).
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        let options = options(SqliteConnectOptions::from_str(url)?);
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
        Ok(Self::on(pool, secrets, false))
    }
}

fn options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
        .pragma("mmap_size", MMAP_SIZE)
        .row_buffer_size(ROW_BUFFER)
}
