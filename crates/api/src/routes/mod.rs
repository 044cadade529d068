//! The routes, one module per family of operations. Paths follow the SDK's `resource_path`s.
//! Every route is mounted with `utoipa_axum::routes!` from handlers that carry their
//! `#[utoipa::path]`, so the router and `/openapi.json` cannot drift apart (see `crate::doc`).

mod acls;
mod apis;
mod apps;
mod authorizers;
mod bindings;
mod certificates;
mod compare;
mod dataservice;
mod domains;
mod gateway_responses;
mod groups;
mod iam;
mod instances;
mod livedata;
mod not_applicable;
mod openapi;
mod outline;
mod publish;
mod roma_apps;
mod signatures;
mod throttles;
mod vpc_channels;

use axum::Extension;
use axum::extract::State;
use axum::middleware;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::doc::{ErrorBody, PlainText};
use crate::extract::Flavor;
use crate::{ApiError, ApiResult, AppState, Document, auth};

/// Everything under `/v2/{project_id}/apigw/instances/{instance_id}`, and the same again under
/// ROMA Connect's `/v2/{project_id}/apic/instances/{instance_id}`: handlers that differ between
/// the two ask for the [`Flavor`].
fn instance_routes(flavor: Flavor) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(groups::routes())
        .merge(apis::routes())
        .merge(publish::routes())
        .merge(apps::routes())
        .merge(throttles::routes())
        .merge(acls::routes())
        .merge(authorizers::routes())
        .merge(vpc_channels::routes())
        .merge(signatures::routes())
        .merge(domains::routes())
        .merge(gateway_responses::routes())
        .merge(openapi::routes())
        .merge(compare::routes())
        .merge(outline::routes())
        .merge(not_applicable::instance_routes())
        .layer(Extension(flavor))
}

#[utoipa::path(get, path = "/health", tag = "service", responses(
    (status = 200, description = "The process accepts requests", body = PlainText, content_type = "text/plain")))]
async fn health() -> &'static str {
    "OK"
}

/// Ready when the store answers: a load balancer takes a node whose database is unreachable
/// out of rotation (`/health` only says the process is up).
#[utoipa::path(get, path = "/ready", tag = "service", responses(
    (status = 200, description = "The database answers", body = PlainText, content_type = "text/plain"),
    (status = 503, description = "The database does not answer (within 1 s)", body = ErrorBody)))]
async fn ready(State(state): State<AppState>) -> ApiResult<&'static str> {
    // A probe that hangs is as bad as a failed one, and a load balancer's probe gives up after
    // a few seconds: shorter than the pool's wait for a connection (`PgTimeouts::acquire`).
    match tokio::time::timeout(READY_TIMEOUT, state.store.ready()).await {
        Ok(Ok(())) => Ok("READY"),
        Ok(Err(e)) => Err(ApiError::not_ready(&e)),
        Err(_) => Err(ApiError::not_ready(&"no answer within 1 s")),
    }
}

/// How long `/ready` waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Prometheus text: the data plane's series and the management API's, when the server was
/// given a renderer (`AppState::with_metrics`; `portico serve` does).
#[utoipa::path(get, path = "/metrics", tag = "service", responses(
    (status = 200, description = "Prometheus text exposition", body = PlainText, content_type = "text/plain"),
    (status = 404, description = "This server renders no metrics", body = ErrorBody)))]
async fn metrics(State(state): State<AppState>) -> ApiResult<String> {
    state.metrics.as_ref().map(|render| render()).ok_or_else(ApiError::no_route)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses(
    (status = 200, description = "The OpenAPI document of this server", body = crate::doc::Resource)))]
async fn openapi_json(Extension(document): Extension<Document>) -> axum::response::Response {
    document.into_response()
}

pub fn router(state: AppState) -> OpenApiRouter<AppState> {
    let management = OpenApiRouter::new()
        .nest("/v2/{project_id}/apigw/instances/{instance_id}", instance_routes(Flavor::Apig))
        .nest("/v2/{project_id}/apic/instances/{instance_id}", instance_routes(Flavor::Roma).merge(livedata::routes()))
        .nest("/v2/{project_id}/apigw", certificates::routes())
        .nest("/v2/{project_id}/apic", certificates::routes())
        .nest("/v2/{project_id}/instances/{instance_id}", roma_apps::app_routes())
        .nest("/v2/{project_id}/fdi/instances/{instance_id}", roma_apps::data_source_routes())
        .merge(instances::routes())
        .merge(not_applicable::project_routes())
        .nest("/v1/{project_id}/service", dataservice::routes().merge(not_applicable::dataservice_routes()))
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate));
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(iam::create_token))
        .merge(livedata::runtime_routes())
        .merge(management)
}
