//! The engine for many nodes: PostgreSQL.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use super::SqlStore;
use super::engine::{CHANGES_CHANNEL, DEFINITIONS_PAYLOAD};
use crate::cache::{LiveGeneration, invalidate};
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
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        let store = Self::on(pool.clone(), secrets, true);
        tokio::spawn(follow_changes(listener, pool, store.generation.clone(), store.live_generation.clone()));
        Ok(store)
    }
}

/// Moves the generations on every node's commit, so that `Store::generation` (which the data
/// plane waits on) sees writes made through other nodes; a write of definitions alone moves only
/// the cache's (`generation`). A lost connection may have lost notifications: both move once
/// more when it is back.
async fn follow_changes(
    mut listener: PgListener,
    pool: PgPool,
    generation: Arc<AtomicU64>,
    live_generation: Arc<LiveGeneration>,
) {
    let any_change = || {
        invalidate(&generation);
        live_generation.advance();
    };
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) if notification.payload() == DEFINITIONS_PAYLOAD => invalidate(&generation),
            Ok(_) => any_change(),
            Err(e) => {
                tracing::warn!(error = %e, "lost the PostgreSQL change notifications; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if pool.is_closed() {
                    return;
                }
                any_change();
            }
        }
    }
}
