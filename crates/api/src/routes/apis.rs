//! APIs: create, update, delete, list, check, and `ShowDetailsOfApiV2` (seed 004).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use std::collections::HashMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_model::{Api, ApiDefinition, ApiGroup, MatchMode, Page, new_id, now, parse_body};
use portico_store::{ApiContext, ApiFilter, Store};
use serde::Deserialize;
use serde_json::Value;

use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::{self, ApiDetails, ListDetail};
use crate::{ApiError, ApiResult, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(check)).routes(routes!(show, update, delete))
}

#[derive(Deserialize)]
pub struct ApiId {
    pub api_id: String,
}

/// Responds with the API as `ShowDetailsOfApiV2` shows it.
async fn details(store: &dyn Store, instance_id: &str, api_id: &str) -> ApiResult<Response> {
    let context = store.api_context(instance_id, api_id).await?;
    let ApiContext { api, group, publications } = context.as_ref();
    Ok(Json(ApiDetails::new(api, Some(group), publications)).into_response())
}

#[utoipa::path(post, path = "/apis", tag = "apis", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Response> {
    let mut definition = ApiDefinition::from_json(&body)?;
    let group = state.store.group(&scope.instance_id, &definition.group_id).await?;
    let now = now();
    definition.prepare(None, now);
    let api = Api { id: new_id(), status: 1, register_time: now, update_time: now, definition };
    state.store.create_api(&scope.instance_id, &api).await?;
    Ok((StatusCode::CREATED, Json(ApiDetails::new(&api, Some(&group), &[]))).into_response())
}

#[utoipa::path(put, path = "/apis/{api_id}", tag = "apis", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(State(state): State<AppState>, scope: Scope, Path(p): Path<ApiId>, body: Bytes) -> ApiResult<Response> {
    let mut definition = ApiDefinition::from_json(&body)?;
    let existing = state.store.api(&scope.instance_id, &p.api_id).await?;
    let now = now();
    definition.prepare(Some(&existing.definition), now);
    let api = Api { definition, update_time: now, ..existing };
    state.store.update_api(&scope.instance_id, &api).await?;
    details(state.store.as_ref(), &scope.instance_id, &api.id).await
}

#[utoipa::path(get, path = "/apis/{api_id}", tag = "apis", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<ApiId>) -> ApiResult<Response> {
    details(state.store.as_ref(), &scope.instance_id, &p.api_id).await
}

#[utoipa::path(delete, path = "/apis/{api_id}", tag = "apis", responses((status = 204, description = "Done"), InConflict))]
async fn delete(State(state): State<AppState>, scope: Scope, Path(p): Path<ApiId>) -> ApiResult<StatusCode> {
    state.store.delete_api(&scope.instance_id, &p.api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    group_id: Option<String>,
    req_protocol: Option<String>,
    req_method: Option<String>,
    req_uri: Option<String>,
    auth_type: Option<String>,
    env_id: Option<String>,
    #[serde(rename = "type")]
    api_type: Option<i32>,
    precise_search: Option<String>,
    return_data_mode: Option<String>,
    tags: Option<String>,
    vpc_channel_name: Option<String>,
}

fn list_detail(mode: Option<&str>) -> ApiResult<ListDetail> {
    let mut detail = ListDetail::default();
    for part in mode.unwrap_or("brief").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "brief" => {}
            "include_group" => detail.group = true,
            "include_group_backend" => {
                detail.group = true;
                detail.backend = true;
            }
            _ => return Err(ApiError::invalid("return_data_mode")),
        }
    }
    Ok(detail)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

#[utoipa::path(get, path = "/apis", tag = "apis", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let detail = list_detail(q.return_data_mode.as_deref())?;
    let precise = q.precise_search.as_deref();
    let filter = ApiFilter {
        id: non_empty(q.id),
        name: text_match(q.name, "name", precise),
        group_id: non_empty(q.group_id),
        req_protocol: non_empty(q.req_protocol),
        req_method: non_empty(q.req_method),
        req_uri: text_match(q.req_uri, "req_uri", precise),
        auth_type: non_empty(q.auth_type),
        env_id: non_empty(q.env_id),
        api_type: q.api_type,
        tag: non_empty(q.tags).map(|t| (t != "#no_tags#").then_some(t)),
        vpc_channel_name: non_empty(q.vpc_channel_name),
    };
    let found = state.store.list_apis(&scope.instance_id, &filter, page).await?;
    let ids: Vec<String> = found.items.iter().map(|a| a.id.clone()).collect();
    let publications = state.store.publications(&scope.instance_id, &ids).await?;
    let mut groups: HashMap<String, ApiGroup> = HashMap::new();
    for api in &found.items {
        let group_id = &api.definition.group_id;
        if !groups.contains_key(group_id) {
            groups.insert(group_id.clone(), state.store.group(&scope.instance_id, group_id).await?);
        }
    }
    Ok(Json(views::list("apis", found, |api| {
        views::api_list_item(api, groups.get(&api.definition.group_id), &publications, detail)
    })))
}

/// `ApiCheckInfoV2`: is a name, or a route, still free in the group?
#[derive(Deserialize)]
struct CheckBody {
    group_id: String,
    name: Option<String>,
    req_method: Option<String>,
    req_uri: Option<String>,
    match_mode: Option<MatchMode>,
    api_id: Option<String>,
    #[serde(rename = "type")]
    check_type: Option<String>,
}

#[utoipa::path(post, path = "/apis/check", tag = "apis", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn check(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<StatusCode> {
    let body: CheckBody = parse_body(&body, &["group_id"])?;
    let (check_name, check_route) = match body.check_type.as_deref() {
        Some("name") => (true, false),
        Some("path") => (false, true),
        None => (body.name.is_some(), body.req_uri.is_some()),
        Some(_) => return Err(ApiError::invalid("type")),
    };
    let name = if check_name { Some(body.name.as_deref().ok_or_else(|| ApiError::missing("name"))?) } else { None };
    let mode = body.match_mode.unwrap_or(MatchMode::Normal);
    let route = if check_route {
        let method = body.req_method.as_deref().ok_or_else(|| ApiError::missing("req_method"))?;
        let uri = body.req_uri.as_deref().ok_or_else(|| ApiError::missing("req_uri"))?;
        Some((method, uri, mode.as_str()))
    } else {
        None
    };
    let conflict =
        state.store.api_conflict(&scope.instance_id, &body.group_id, name, route, body.api_id.as_deref()).await?;
    match conflict {
        Some(c) => Err(c.into()),
        None => Ok(StatusCode::NO_CONTENT),
    }
}
