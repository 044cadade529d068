//! The engine for many nodes: PostgreSQL.

use std::path::Path;

use sqlx::Postgres;
use sqlx::postgres::PgPoolOptions;

use super::SqlStore;
use crate::secrets::SecretBox;
use crate::{Result, StoreError};

/// The store on PostgreSQL.
pub type PgStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    /// Connects to `url` (`postgres://…`) and applies the migrations. The secrets key is the
    /// file `key_file` (created when missing): every node needs the same one.
    pub async fn connect_url(url: &str, key_file: &Path) -> Result<PgStore> {
        let secrets = SecretBox::load_or_create(key_file)?;
        let pool = PgPoolOptions::new().max_connections(16).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        Ok(Self::on(pool, secrets))
    }
}
