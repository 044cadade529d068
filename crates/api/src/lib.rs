//! Portico's management HTTP API on axum: the Huawei Cloud APIG v2 wire contract (instances,
//! groups, environments, variables, APIs, publishing and versions, export and import, apps,
//! throttling policies, ACLs, signature keys, custom authorizers, VPC channels, gateway
//! responses), ROMA Connect's integration applications, data sources and custom backends,
//! DataArts DataService's API catalog, and the IAM token endpoint.
//!
//! [`app`] builds the whole router from an [`AppState`]; `portico serve` binds it, and the
//! integration tests bind it on port 0. Handlers are thin: they extract, call the
//! [`portico_store::Store`] (or a service, where a request is more than a store call), and
//! render a view from `views`; all errors go through [`ApiError`].
#![warn(missing_docs)]

mod auth;
mod doc;
mod download;
mod error;
mod extract;
mod lockout;
mod metrics;
mod routes;
mod services;
mod startup;
mod views;
mod workbook;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::response::IntoResponse;
use portico_auth::token::TokenKey;
use portico_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use auth::Caller;
pub use error::{ApiError, ApiResult};
pub use governor::Quota;
pub use startup::{DEFAULT_DOMAIN, FirstStart, StartupError};

/// Settings of the management API that come from configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Lifetime of issued tokens.
    pub token_ttl: time::Duration,
    /// Suffix of the subdomain each group gets: `<group id>.<suffix>`.
    pub group_domain_suffix: String,
    /// The account (IAM domain) name users log in under.
    pub domain_name: String,
    /// `host:port` at which the gateway reaches this server's custom backend runtime
    /// (`/livedata-runtime/…`): the backend of the frontend APIs that deployments create.
    pub livedata_runtime: Option<String>,
    /// Where custom backend scripts find their data sources (the SQLite directory).
    pub livedata_places: portico_livedata::Places,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Key that signs and checks tokens.
    pub token_key: Arc<TokenKey>,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// Failed logins and signature checks, per principal and source IP.
    pub failures: Arc<lockout::FailureLimiter>,
    /// Renders `GET /metrics` (Prometheus text); `None` answers 404.
    pub metrics: Option<MetricsRenderer>,
}

/// What renders `GET /metrics`: the binary installs the Prometheus recorder and passes its
/// rendering here, so this crate needs no exporter.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// `/openapi.json`, serialised once when the router is built.
#[derive(Clone)]
struct Document(axum::body::Bytes);

impl IntoResponse for Document {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
struct HexRequestId;

impl MakeRequestId for HexRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        portico_model::new_id().parse().ok().map(RequestId::new)
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::internal(&"handler panicked").into_response()
}

/// The whole management router: `/health`, `/v3/auth/tokens`, the `/v2/…` APIG and ROMA routes
/// and the `/v1/{project_id}/service/…` DataArts DataService routes.
/// Every route is in the OpenAPI document served at `/openapi.json`, without authentication.
pub fn app(state: AppState) -> Router {
    let (routes, api) = routes::router(state.clone()).split_for_parts();
    let document = Document(serde_json::to_vec(&doc::complete(api)).expect("a JSON value serialises").into());
    Router::new()
        .merge(routes)
        .layer(axum::Extension(document))
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::record))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(REQUEST_ID, HexRequestId))
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
