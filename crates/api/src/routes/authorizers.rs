//! Custom authorizers (`/authorizers`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use crate::views::authorizers::view;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{Page, authorizer_from_json, new_id, now};
use portico_store::AuthorizerFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::non_empty;
use crate::extract::{AppQuery, Scope};
use crate::views::list as paged;
use crate::{ApiResult, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(show, update, remove))
}

#[derive(Deserialize)]
struct AuthorizerId {
    authorizer_id: String,
}

#[utoipa::path(post, path = "/authorizers", tag = "authorizers", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let authorizer = authorizer_from_json(&body, new_id(), now())?;
    state.store.create_authorizer(&scope.instance_id, &authorizer).await?;
    Ok((StatusCode::CREATED, Json(view(&authorizer))))
}

#[utoipa::path(put, path = "/authorizers/{authorizer_id}", tag = "authorizers", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AuthorizerId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let existing = state.store.authorizer(&scope.instance_id, &p.authorizer_id).await?;
    let authorizer = authorizer_from_json(&body, existing.id, existing.create_time)?;
    state.store.update_authorizer(&scope.instance_id, &authorizer).await?;
    Ok(Json(view(&authorizer)))
}

#[utoipa::path(get, path = "/authorizers/{authorizer_id}", tag = "authorizers", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<AuthorizerId>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&state.store.authorizer(&scope.instance_id, &p.authorizer_id).await?)))
}

#[utoipa::path(delete, path = "/authorizers/{authorizer_id}", tag = "authorizers", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<AuthorizerId>) -> ApiResult<StatusCode> {
    state.store.delete_authorizer(&scope.instance_id, &p.authorizer_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[utoipa::path(get, path = "/authorizers", tag = "authorizers", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = AuthorizerFilter { id: non_empty(q.id), name: non_empty(q.name), kind: non_empty(q.kind) };
    let found = state.store.list_authorizers(&scope.instance_id, &filter, page).await?;
    Ok(Json(paged("authorizer_list", found, view)))
}
