//! Portico's data plane: it serves the published APIs.
//!
//! A [`RouteTable`] is built from the store's live publications ([`portico_store::Store::live_routes`])
//! and held by the [`Gateway`] behind an atomic pointer; [`watch`] rebuilds and swaps it when the
//! store's generation changes, so publishing and taking offline take effect without a restart
//! and without disturbing requests in flight. Each request runs the phases described in
//! [`pipeline`]: route → plugins (CORS) → ACL → auth (NONE, IAM, APP) → ACL → throttling →
//! parameters → backend selection → proxy → response → logging. The pure parts ([`routes`], [`params`], [`backend`]) do no I/O and
//! are unit-tested on their own.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn portico_store::Store>, key: std::sync::Arc<portico_auth::token::TokenKey>) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use portico_gateway::{Authenticator, Gateway, GatewayConfig};
//! let seen = store.generation();
//! let table = portico_gateway::load_routes(store.as_ref()).await?;
//! let gateway = Arc::new(Gateway::new(table, store.clone(), Authenticator::new(key), GatewayConfig::default())?);
//! tokio::spawn(portico_gateway::watch(store, gateway.clone(), seen, std::time::Duration::from_millis(200)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//! portico_gateway::serve(listener, gateway, None, Default::default(), Default::default(), std::future::pending()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod acl;
pub mod apps;
pub mod auth;
pub mod authorizers;
pub mod backend;
pub mod body;
pub mod channels;
pub mod client_address;
pub mod context;
mod cors;
pub mod entry;
pub mod error;
mod ip;
pub mod metrics;
pub mod params;
pub mod pipeline;
pub mod policies;
mod proxy;
pub mod responses;
pub mod routes;
mod server;
pub mod throttle;
pub mod tls;
pub mod versions;

pub use auth::{Authenticator, Caller};
pub use client_address::{ClientAddressing, Origin, TrustedProxies};
pub use context::{Ctx, Plugin};
pub use error::{ErrorSource, GatewayError};
pub use pipeline::{Gateway, GatewayConfig};
pub use routes::RouteTable;
pub use server::{ConnectionLimits, load_routes, serve, serve_on_threads, serve_with, watch};
