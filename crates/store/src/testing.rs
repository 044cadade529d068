//! For test suites that play against every engine (feature `testing`): one function gives a
//! fresh, empty store, on PostgreSQL when `PORTICO_TEST_POSTGRES` names a server (a database
//! of its own per call), on a SQLite file in `dir` otherwise. `scripts/test.sh` runs the
//! suites once per engine. [`PgCluster`] is a server of a test's own, with chosen settings.

mod cluster;

pub use cluster::{PgCluster, TestAuthority};

use std::path::Path;
use std::sync::Arc;

use sqlx::Connection;

use crate::secrets::KEY_FILE;
use portico_model::{Credential, Instance, Project, User, new_id, now};

use crate::{Bootstrap, PgStore, PgTimeouts, Result, SqliteStore, Store, StoreError};

/// The variable naming the PostgreSQL server (an admin URL) the suites use.
pub const POSTGRES_VAR: &str = "PORTICO_TEST_POSTGRES";

/// The engine the suites run on: `"postgres"` or `"sqlite"`.
pub fn engine() -> &'static str {
    if std::env::var_os(POSTGRES_VAR).is_some() { "postgres" } else { "sqlite" }
}

/// Where [`fresh_store`] notes the PostgreSQL database it created, for [`reopen_store`].
const DATABASE_NOTE: &str = "postgres.url";

/// A new, empty store whose files (the SQLite database, the secrets key) live in `dir`.
pub async fn fresh_store(dir: &Path) -> Result<Arc<dyn Store>> {
    if let Ok(admin_url) = std::env::var(POSTGRES_VAR) {
        let name = format!("portico_test_{}", portico_model::new_id());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await?;
        admin.close().await?;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => format!("{admin_url}/{name}"),
        };
        std::fs::write(dir.join(DATABASE_NOTE), &url).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
    }
    reopen_store(dir).await
}

/// The store [`fresh_store`] made in `dir`, opened again (as a restarted server would).
pub async fn reopen_store(dir: &Path) -> Result<Arc<dyn Store>> {
    match std::fs::read_to_string(dir.join(DATABASE_NOTE)) {
        Ok(url) => Ok(Arc::new(PgStore::connect_url(&url, &dir.join(KEY_FILE), PgTimeouts::default()).await?)),
        Err(_) => Ok(Arc::new(SqliteStore::open(&dir.join("portico.db")).await?)),
    }
}

/// Runs `statements` on the database of the store [`fresh_store`] made in `dir`, past the
/// store: for tests that put a database back in an older shape (a migration's backfill).
pub async fn execute(dir: &Path, statements: &[&str]) -> Result<()> {
    let script = sqlx::AssertSqlSafe(statements.join(";\n"));
    match std::fs::read_to_string(dir.join(DATABASE_NOTE)) {
        Ok(url) => {
            let mut db = sqlx::PgConnection::connect(&url).await?;
            sqlx::raw_sql(script).execute(&mut db).await?;
            db.close().await?;
        }
        Err(_) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("portico.db"));
            let mut db = sqlx::SqliteConnection::connect_with(&options).await?;
            sqlx::raw_sql(script).execute(&mut db).await?;
            db.close().await?;
        }
    }
    Ok(())
}

/// What a first start writes: a `default` project with its `admin` (access key `AK`, secret
/// `secret_key`) and its `default` instance, in the `portico` account.
pub fn sample_bootstrap(secret_key: &str) -> Bootstrap {
    let now = now();
    let project = Project { id: new_id(), name: "default".into(), created_at: now };
    let admin = User {
        id: new_id(),
        name: "admin".into(),
        password_hash: "x".into(),
        readonly: false,
        projects: vec![project.id.clone()],
        created_at: now,
    };
    let credential = Credential {
        access_key: "AK".into(),
        secret_key: secret_key.into(),
        user_id: admin.id.clone(),
        created_at: now,
    };
    let instance = Instance {
        id: new_id(),
        project_id: project.id.clone(),
        instance_name: "default".into(),
        description: None,
        create_time: now,
    };
    Bootstrap { project, admin, credential, instance, domain: "portico".into() }
}
