//! The routes, one module per family of operations. Paths follow the SDK's `resource_path`s.

mod acls;
mod apis;
mod apps;
mod authorizers;
mod bindings;
mod gateway_responses;
mod groups;
mod iam;
mod instances;
mod publish;
mod signatures;
mod throttles;
mod vpc_channels;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::{AppState, auth};

/// Everything under `/v2/{project_id}/apigw/instances/{instance_id}`. Written once so the ROMA
/// Connect prefix (`apic`) can mount the same routes.
fn instance_routes() -> Router<AppState> {
    Router::new()
        .merge(groups::routes())
        .merge(apis::routes())
        .merge(publish::routes())
        .merge(apps::routes())
        .merge(throttles::routes())
        .merge(acls::routes())
        .merge(authorizers::routes())
        .merge(vpc_channels::routes())
        .merge(signatures::routes())
        .merge(gateway_responses::routes())
}

pub fn router(state: AppState) -> Router<AppState> {
    let management = Router::new()
        .nest("/v2/{project_id}/apigw/instances/{instance_id}", instance_routes())
        .merge(instances::routes())
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate));
    Router::new()
        .route("/health", get(|| async { "OK" }))
        .route("/v3/auth/tokens", post(iam::create_token))
        .merge(management)
}
