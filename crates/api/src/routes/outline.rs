//! What an instance holds: the resource outlines (`/resources/outline/…`), counted from the
//! stored APIs, groups and apps, the distinct tags of its APIs (`/tags`), and the limits it
//! enforces (`/project/configs`, `/restriction`).

use crate::doc::{BadRequest, PageOf, Resource};
use axum::Json;
use axum::extract::State;
use portico_model::Page;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{AppQuery, Scope};
use crate::{ApiResult, AppState, views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_quantities))
        .routes(routes!(group_quantities))
        .routes(routes!(app_quantities))
        .routes(routes!(tags))
        .routes(routes!(limits))
        .routes(routes!(restriction))
}

#[utoipa::path(get, path = "/resources/outline/apis", tag = "instances", responses((status = 200, description = "The counts of the instance's APIs", body = Resource)))]
async fn api_quantities(State(state): State<AppState>, scope: Scope) -> ApiResult<Json<Value>> {
    Ok(Json(views::outline::api_quantities(&state.store.outline(&scope.instance_id).await?)))
}

#[utoipa::path(get, path = "/resources/outline/groups", tag = "instances", responses((status = 200, description = "The counts of the instance's API groups", body = Resource)))]
async fn group_quantities(State(state): State<AppState>, scope: Scope) -> ApiResult<Json<Value>> {
    Ok(Json(views::outline::group_quantities(&state.store.outline(&scope.instance_id).await?)))
}

#[utoipa::path(get, path = "/resources/outline/apps", tag = "instances", responses((status = 200, description = "The counts of the instance's apps", body = Resource)))]
async fn app_quantities(State(state): State<AppState>, scope: Scope) -> ApiResult<Json<Value>> {
    Ok(Json(views::outline::app_quantities(&state.store.outline(&scope.instance_id).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/tags", tag = "apis", params(PageQuery), responses((status = 200, description = "One page of the distinct tags of the instance's APIs", body = PageOf), BadRequest))]
async fn tags(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<PageQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let found = state.store.api_tags(&scope.instance_id, page).await?;
    Ok(Json(views::list("tags", found, |tag| Value::String(tag.clone()))))
}

#[utoipa::path(get, path = "/project/configs", tag = "instances", params(PageQuery), responses((status = 200, description = "One page of the limits Portico enforces", body = PageOf), BadRequest))]
async fn limits(_scope: Scope, AppQuery(q): AppQuery<PageQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(views::outline::limits(Page::new(q.offset, q.limit)?)))
}

#[utoipa::path(get, path = "/restriction", tag = "instances", responses((status = 200, description = "The networks the instance may not use: none", body = Resource)))]
async fn restriction(_scope: Scope) -> Json<Value> {
    Json(views::outline::no_restriction())
}
