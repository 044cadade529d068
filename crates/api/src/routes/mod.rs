//! The routes, one module per family of operations. Paths follow the SDK's `resource_path`s.

mod acls;
mod apis;
mod apps;
mod authorizers;
mod bindings;
mod compare;
mod dataservice;
mod gateway_responses;
mod groups;
mod iam;
mod instances;
mod livedata;
mod openapi;
mod publish;
mod roma_apps;
mod signatures;
mod throttles;
mod vpc_channels;

use axum::middleware;
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::extract::Flavor;
use crate::{AppState, auth};

/// Everything under `/v2/{project_id}/apigw/instances/{instance_id}`, and the same again under
/// ROMA Connect's `/v2/{project_id}/apic/instances/{instance_id}`: handlers that differ between
/// the two ask for the [`Flavor`].
fn instance_routes(flavor: Flavor) -> Router<AppState> {
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
        .merge(openapi::routes())
        .merge(compare::routes())
        .layer(Extension(flavor))
}

/// Ready when the store answers: a load balancer takes a node whose database is unreachable
/// out of rotation (`/health` only says the process is up).
async fn ready(axum::extract::State(state): axum::extract::State<AppState>) -> crate::ApiResult<&'static str> {
    state.store.ready().await?;
    Ok("READY")
}

pub fn router(state: AppState) -> Router<AppState> {
    let management = Router::new()
        .nest("/v2/{project_id}/apigw/instances/{instance_id}", instance_routes(Flavor::Apig))
        .nest("/v2/{project_id}/apic/instances/{instance_id}", instance_routes(Flavor::Roma).merge(livedata::routes()))
        .nest("/v2/{project_id}/instances/{instance_id}", roma_apps::app_routes())
        .nest("/v2/{project_id}/fdi/instances/{instance_id}", roma_apps::data_source_routes())
        .merge(instances::routes())
        .nest("/v1/{project_id}/service", dataservice::routes())
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate));
    Router::new()
        .route("/health", get(|| async { "OK" }))
        .route("/ready", get(ready))
        .route("/v3/auth/tokens", post(iam::create_token))
        .merge(livedata::runtime_routes())
        .merge(management)
}
