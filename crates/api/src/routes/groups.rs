//! API groups, environments and environment variables.

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use crate::views::domains::group_with_domains;
use crate::views::groups::{env_view, variable_view};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{
    ApiGroup, EnvInput, EnvVariable, EnvVariableInput, Environment, GroupCheck, GroupInput, Page, new_id, now,
};
use portico_store::{Conflict, GroupFilter, TextMatch, VariableFilter};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{AppQuery, Scope};
use crate::{ApiResult, AppState, views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(check_group))
        .routes(routes!(show_group, update_group, delete_group))
        .routes(routes!(list_envs, create_env))
        .routes(routes!(update_env, delete_env))
        .routes(routes!(list_variables, create_variable))
        .routes(routes!(show_variable, update_variable, delete_variable))
}

type Created = (StatusCode, Json<Value>);

/// `precise_search` lists the fields a list matches exactly; the others match as substrings.
pub fn text_match(value: Option<String>, field: &str, precise: Option<&str>) -> Option<TextMatch> {
    let exact = precise.is_some_and(|p| p.split(',').any(|f| f.trim() == field));
    value.filter(|v| !v.is_empty()).map(|v| if exact { TextMatch::Exact(v) } else { TextMatch::Contains(v) })
}

#[derive(Deserialize)]
struct GroupId {
    group_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GroupQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    precise_search: Option<String>,
}

#[utoipa::path(get, path = "/api-groups", tag = "groups", params(GroupQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_groups(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<GroupQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = GroupFilter { id: q.id, name: text_match(q.name, "name", q.precise_search.as_deref()) };
    let found = state.store.list_groups(&scope.instance_id, &filter, page).await?;
    Ok(Json(views::list("groups", found, views::group)))
}

#[utoipa::path(post, path = "/api-groups", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_group(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Created> {
    let input = GroupInput::from_json(&body)?;
    let group = ApiGroup::new(input.name, input.remark, &state.config.group_domain_suffix, now());
    state.store.create_group(&scope.instance_id, &group).await?;
    Ok((StatusCode::CREATED, Json(views::group(&group))))
}

#[utoipa::path(post, path = "/api-groups/check", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn check_group(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<StatusCode> {
    let check = GroupCheck::from_json(&body)?;
    if state.store.group_name_taken(&scope.instance_id, &check.group_name).await? {
        return Err(Conflict::GroupName(check.group_name).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api-groups/{group_id}", tag = "groups", responses((status = 200, description = "Found", body = Resource)))]
async fn show_group(State(state): State<AppState>, scope: Scope, Path(p): Path<GroupId>) -> ApiResult<Json<Value>> {
    let group = state.store.group(&scope.instance_id, &p.group_id).await?;
    let domains = state.store.group_domains(&scope.instance_id, &p.group_id).await?;
    Ok(Json(group_with_domains(&group, &domains)))
}

#[utoipa::path(put, path = "/api-groups/{group_id}", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update_group(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<GroupId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = GroupInput::from_json(&body)?;
    let mut group = state.store.group(&scope.instance_id, &p.group_id).await?;
    group.name = input.name;
    group.remark = input.remark;
    group.update_time = now();
    state.store.update_group(&scope.instance_id, &group).await?;
    Ok(Json(views::group(&group)))
}

#[utoipa::path(delete, path = "/api-groups/{group_id}", tag = "groups", responses((status = 204, description = "Done"), InConflict))]
async fn delete_group(State(state): State<AppState>, scope: Scope, Path(p): Path<GroupId>) -> ApiResult<StatusCode> {
    state.store.delete_group(&scope.instance_id, &p.group_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EnvId {
    env_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EnvQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    name: Option<String>,
}

#[utoipa::path(get, path = "/envs", tag = "groups", params(EnvQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_envs(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<EnvQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let found = state.store.list_envs(&scope.instance_id, q.name.as_deref().filter(|n| !n.is_empty()), page).await?;
    Ok(Json(views::list("envs", found, env_view)))
}

#[utoipa::path(post, path = "/envs", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_env(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Created> {
    let input = EnvInput::from_json(&body)?;
    let env = Environment { id: new_id(), name: input.name, remark: input.remark, create_time: now() };
    state.store.create_env(&scope.instance_id, &env).await?;
    Ok((StatusCode::CREATED, Json(env_view(&env))))
}

#[utoipa::path(put, path = "/envs/{env_id}", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update_env(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<EnvId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = EnvInput::from_json(&body)?;
    let mut env = state.store.env(&scope.instance_id, &p.env_id).await?;
    env.name = input.name;
    env.remark = input.remark;
    state.store.update_env(&scope.instance_id, &env).await?;
    Ok(Json(env_view(&env)))
}

#[utoipa::path(delete, path = "/envs/{env_id}", tag = "groups", responses((status = 204, description = "Done"), InConflict))]
async fn delete_env(State(state): State<AppState>, scope: Scope, Path(p): Path<EnvId>) -> ApiResult<StatusCode> {
    state.store.delete_env(&scope.instance_id, &p.env_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct VariableId {
    variable_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct VariableQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    group_id: Option<String>,
    env_id: Option<String>,
    variable_name: Option<String>,
    precise_search: Option<String>,
}

#[utoipa::path(get, path = "/env-variables", tag = "groups", params(VariableQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_variables(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<VariableQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = VariableFilter {
        group_id: q.group_id.filter(|g| !g.is_empty()),
        env_id: q.env_id.filter(|e| !e.is_empty()),
        variable_name: text_match(q.variable_name, "variable_name", q.precise_search.as_deref()),
    };
    let found = state.store.list_variables(&scope.instance_id, &filter, page).await?;
    Ok(Json(views::list("variables", found, variable_view)))
}

#[utoipa::path(post, path = "/env-variables", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_variable(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Created> {
    let input = EnvVariableInput::from_json(&body)?;
    let variable = EnvVariable {
        id: new_id(),
        env_id: input.env_id,
        group_id: input.group_id,
        variable_name: input.variable_name,
        variable_value: input.variable_value,
    };
    state.store.create_variable(&scope.instance_id, &variable).await?;
    Ok((StatusCode::CREATED, Json(variable_view(&variable))))
}

#[utoipa::path(get, path = "/env-variables/{variable_id}", tag = "groups", responses((status = 200, description = "Found", body = Resource)))]
async fn show_variable(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<VariableId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(variable_view(&state.store.variable(&scope.instance_id, &p.variable_id).await?)))
}

#[utoipa::path(put, path = "/env-variables/{variable_id}", tag = "groups", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update_variable(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<VariableId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let value = EnvVariableInput::value_from_json(&body)?;
    let variable = state.store.update_variable(&scope.instance_id, &p.variable_id, &value).await?;
    Ok(Json(variable_view(&variable)))
}

#[utoipa::path(delete, path = "/env-variables/{variable_id}", tag = "groups", responses((status = 204, description = "Done"), InConflict))]
async fn delete_variable(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<VariableId>,
) -> ApiResult<StatusCode> {
    state.store.delete_variable(&scope.instance_id, &p.variable_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
