//! Gateway responses of a group (`/api-groups/{group_id}/gateway-responses`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use crate::views::gateway_responses::{type_view, view};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{
    GatewayResponse, Page, is_response_type, new_id, now, response_info_from_json, responses_from_json,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{AppQuery, Scope};
use crate::views::list as paged;
use crate::{ApiError, ApiResult, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(show, update, remove)).routes(routes!(
        show_type,
        update_type,
        reset_type
    ))
}

#[derive(Deserialize)]
struct GroupId {
    group_id: String,
}

#[derive(Deserialize)]
struct ResponseId {
    group_id: String,
    response_id: String,
}

#[derive(Deserialize)]
struct TypeId {
    group_id: String,
    response_id: String,
    response_type: String,
}

impl TypeId {
    fn kind(&self) -> ApiResult<&str> {
        if is_response_type(&self.response_type) {
            Ok(&self.response_type)
        } else {
            Err(ApiError::invalid("response_type"))
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(post, path = "/api-groups/{group_id}/gateway-responses", tag = "gateway_responses", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<GroupId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (name, responses) = responses_from_json(&body)?;
    let now = now();
    let response =
        GatewayResponse { id: new_id(), group_id: p.group_id, name, responses, create_time: now, update_time: now };
    state.store.create_gateway_response(&scope.instance_id, &response).await?;
    Ok((StatusCode::CREATED, Json(view(&response))))
}

#[utoipa::path(get, path = "/api-groups/{group_id}/gateway-responses", tag = "gateway_responses", params(PageQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<GroupId>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let found = state.store.list_gateway_responses(&scope.instance_id, &p.group_id, page).await?;
    Ok(Json(paged("responses", found, view)))
}

#[utoipa::path(get, path = "/api-groups/{group_id}/gateway-responses/{response_id}", tag = "gateway_responses", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<ResponseId>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&state.store.gateway_response(&scope.instance_id, &p.group_id, &p.response_id).await?)))
}

#[utoipa::path(put, path = "/api-groups/{group_id}/gateway-responses/{response_id}", tag = "gateway_responses", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ResponseId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (name, responses) = responses_from_json(&body)?;
    let now = now();
    let change = |r: &mut GatewayResponse| {
        r.name = name.clone();
        r.responses = responses.clone();
        r.update_time = now;
    };
    let response =
        state.store.update_gateway_response(&scope.instance_id, &p.group_id, &p.response_id, &change).await?;
    Ok(Json(view(&response)))
}

#[utoipa::path(delete, path = "/api-groups/{group_id}/gateway-responses/{response_id}", tag = "gateway_responses", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<ResponseId>) -> ApiResult<StatusCode> {
    state.store.delete_gateway_response(&scope.instance_id, &p.group_id, &p.response_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api-groups/{group_id}/gateway-responses/{response_id}/{response_type}", tag = "gateway_responses", responses((status = 200, description = "Found", body = Resource), BadRequest))]
async fn show_type(State(state): State<AppState>, scope: Scope, Path(p): Path<TypeId>) -> ApiResult<Json<Value>> {
    let kind = p.kind()?;
    let response = state.store.gateway_response(&scope.instance_id, &p.group_id, &p.response_id).await?;
    Ok(Json(type_view(&response, kind)))
}

#[utoipa::path(put, path = "/api-groups/{group_id}/gateway-responses/{response_id}/{response_type}", tag = "gateway_responses", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update_type(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<TypeId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let kind = p.kind()?;
    let custom = response_info_from_json(&body)?;
    let now = now();
    let change = |r: &mut GatewayResponse| {
        r.responses.insert(kind.to_string(), custom.clone());
        r.update_time = now;
    };
    let response =
        state.store.update_gateway_response(&scope.instance_id, &p.group_id, &p.response_id, &change).await?;
    Ok(Json(type_view(&response, kind)))
}

/// `DeleteGatewayResponseTypeV2`: the type answers its default again.
#[utoipa::path(delete, path = "/api-groups/{group_id}/gateway-responses/{response_id}/{response_type}", tag = "gateway_responses", responses((status = 204, description = "Done"), InConflict, BadRequest))]
async fn reset_type(State(state): State<AppState>, scope: Scope, Path(p): Path<TypeId>) -> ApiResult<StatusCode> {
    let kind = p.kind()?;
    let now = now();
    let change = |r: &mut GatewayResponse| {
        r.responses.remove(kind);
        r.update_time = now;
    };
    state.store.update_gateway_response(&scope.instance_id, &p.group_id, &p.response_id, &change).await?;
    Ok(StatusCode::NO_CONTENT)
}
