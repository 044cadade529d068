//! The engine for many nodes: PostgreSQL.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgSslMode};
use sqlx::{PgPool, Postgres};

use super::SqlStore;
use super::engine::{CHANGES_CHANNEL, DEFINITIONS_PAYLOAD};
use crate::cache::{LiveGeneration, invalidate};
use crate::secrets::SecretBox;
use crate::{Result, StoreError};

/// The store on PostgreSQL.
pub type PgStore = SqlStore<Postgres>;

/// How long the store waits on PostgreSQL, so that a database that is down or stuck costs a
/// request a bounded time (an error the API answers 503) instead of holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgTimeouts {
    /// Waiting for a pooled connection, connecting included: while the server refuses
    /// connections, sqlx retries until this runs out.
    pub acquire: Duration,
    /// The longest a statement may run, enforced by the server (`statement_timeout`).
    pub statement: Duration,
}

impl Default for PgTimeouts {
    /// 5 s for a connection (sqlx's own default, 30 s, outlasts most clients' patience and a
    /// load balancer's health check); 60 s for a statement, which a batch publish of thousands
    /// of APIs or a large import may need.
    fn default() -> Self {
        PgTimeouts { acquire: Duration::from_secs(5), statement: Duration::from_secs(60) }
    }
}

impl SqlStore<Postgres> {
    /// Connects to `url` (`postgres://…`, its `sslmode` and `sslrootcert` read as libpq reads
    /// them: see `connect_options`) and applies the migrations. The secrets key is the file
    /// `key_file` (created when missing): every node needs the same one.
    pub async fn connect_url(url: &str, key_file: &Path, timeouts: PgTimeouts) -> Result<PgStore> {
        let secrets = SecretBox::load_or_create(key_file)?;
        let statement_timeout = timeouts.statement.as_millis().to_string();
        let options = connect_options(url)?.options([("statement_timeout", statement_timeout.as_str())]);
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(timeouts.acquire).connect_with(options).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        let store = Self::on(pool.clone(), secrets, true);
        tokio::spawn(follow_changes(listener, pool, store.generation.clone(), store.live_generation.clone()));
        Ok(store)
    }
}

/// The options of a `postgres://` URL as libpq reads it where sqlx reads it otherwise: with a
/// root certificate given (`sslrootcert`), `sslmode=require` verifies the server's chain as
/// `verify-ca` does. (`portico-livedata` reads its data sources' URLs the same way.)
fn connect_options(url: &str) -> Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)?;
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let has_root_cert = form_urlencoded::parse(query.as_bytes()) // sqlx's spellings of libpq's `sslrootcert`.
        .any(|(key, _)| matches!(&*key, "sslrootcert" | "ssl-root-cert" | "ssl-ca"))
        || std::env::var_os("PGSSLROOTCERT").is_some();
    Ok(match options.get_ssl_mode() {
        PgSslMode::Require if has_root_cert => options.ssl_mode(PgSslMode::VerifyCa),
        _ => options,
    })
}

/// Moves the generations on every node's commit, so that `Store::generation` (which the data
/// plane waits on) sees writes made through other nodes; a write of definitions alone moves only
/// the cache's (`generation`). A lost connection may have lost notifications: both move once
/// more when a new one listens (not before, or a commit in between would go unseen).
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
            Ok(Some(_)) => any_change(),
            Ok(None) | Err(_) => {
                tracing::warn!("lost the PostgreSQL change notifications; reconnecting");
                let Some(again) = listen_again(&pool).await else { return };
                listener = again;
                any_change();
            }
        }
    }
}

/// A new listener on the changes channel, once the database takes one (every second until
/// then); `None` when the store is closed.
async fn listen_again(pool: &PgPool) -> Option<PgListener> {
    loop {
        if pool.is_closed() {
            return None;
        }
        let listening = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(CHANGES_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listening.await {
            Ok(listener) => return Some(listener),
            Err(error) => tracing::debug!(%error, "the change notifications cannot listen yet"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
