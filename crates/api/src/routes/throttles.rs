//! Request throttling policies (`/throttles`), their special throttles, and their bindings to
//! publish records (`/throttle-bindings`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{Page, ThrottleInput, ThrottleSpecial, new_id, now, special_from_json, special_limits_from_json};
use portico_store::{BoundPolicyFilter, PolicyKind, SpecialFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::non_empty;
use super::bindings::{ActionQuery, BindingQuery, batch_unbind, bind_body, ids_body, unbind_one};
use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::list as paged;
use crate::{ApiResult, AppState, views::policies as views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(list_specials, create_special))
        .routes(routes!(update_special, delete_special))
        .routes(routes!(bind, batch_delete))
        .routes(routes!(unbind))
        .routes(routes!(bound_apis))
        .routes(routes!(unbound_apis))
        .routes(routes!(bound_throttles))
}

#[derive(Deserialize)]
struct ThrottleId {
    throttle_id: String,
}

#[utoipa::path(post, path = "/throttles", tag = "throttles", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let throttle = ThrottleInput::from_json(&body)?.into_throttle(new_id(), now());
    state.store.create_throttle(&scope.instance_id, &throttle).await?;
    let summary = state.store.throttle(&scope.instance_id, &throttle.id).await?;
    Ok((StatusCode::CREATED, Json(views::throttle(&summary))))
}

#[utoipa::path(put, path = "/throttles/{throttle_id}", tag = "throttles", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ThrottleId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = ThrottleInput::from_json(&body)?;
    let existing = state.store.throttle(&scope.instance_id, &p.throttle_id).await?.throttle;
    let throttle = input.into_throttle(existing.id, existing.create_time);
    Ok(Json(views::throttle(&state.store.update_throttle(&scope.instance_id, &throttle).await?)))
}

#[utoipa::path(get, path = "/throttles/{throttle_id}", tag = "throttles", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<ThrottleId>) -> ApiResult<Json<Value>> {
    Ok(Json(views::throttle(&state.store.throttle(&scope.instance_id, &p.throttle_id).await?)))
}

#[utoipa::path(delete, path = "/throttles/{throttle_id}", tag = "throttles", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<ThrottleId>) -> ApiResult<StatusCode> {
    state.store.delete_throttle(&scope.instance_id, &p.throttle_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    precise_search: Option<String>,
}

#[utoipa::path(get, path = "/throttles", tag = "throttles", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let name = text_match(q.name, "name", q.precise_search.as_deref());
    let id = non_empty(q.id);
    let found = state.store.list_throttles(&scope.instance_id, id.as_deref(), name.as_ref(), page).await?;
    Ok(Json(paged("throttles", found, views::throttle)))
}

#[derive(Deserialize)]
struct SpecialId {
    throttle_id: String,
    strategy_id: String,
}

#[utoipa::path(post, path = "/throttles/{throttle_id}/throttle-specials", tag = "throttles", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_special(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ThrottleId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (object_type, object_id, call_limits) = special_from_json(&body)?;
    let special = ThrottleSpecial {
        id: new_id(),
        throttle_id: p.throttle_id,
        object_name: object_id.clone(),
        object_type,
        object_id,
        call_limits,
        apply_time: now(),
    };
    let special = state.store.create_special(&scope.instance_id, &special).await?;
    Ok((StatusCode::CREATED, Json(views::special(&special))))
}

#[utoipa::path(put, path = "/throttles/{throttle_id}/throttle-specials/{strategy_id}", tag = "throttles", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update_special(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<SpecialId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let call_limits = special_limits_from_json(&body)?;
    let special = state.store.update_special(&scope.instance_id, &p.throttle_id, &p.strategy_id, call_limits).await?;
    Ok(Json(views::special(&special)))
}

#[utoipa::path(delete, path = "/throttles/{throttle_id}/throttle-specials/{strategy_id}", tag = "throttles", responses((status = 204, description = "Done"), InConflict))]
async fn delete_special(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<SpecialId>,
) -> ApiResult<StatusCode> {
    state.store.delete_special(&scope.instance_id, &p.throttle_id, &p.strategy_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SpecialQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    object_type: Option<String>,
    app_name: Option<String>,
    user: Option<String>,
}

#[utoipa::path(get, path = "/throttles/{throttle_id}/throttle-specials", tag = "throttles", params(SpecialQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_specials(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ThrottleId>,
    AppQuery(q): AppQuery<SpecialQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = SpecialFilter {
        object_type: non_empty(q.object_type),
        app_name: non_empty(q.app_name),
        user: non_empty(q.user),
    };
    let found = state.store.list_specials(&scope.instance_id, &p.throttle_id, &filter, page).await?;
    Ok(Json(paged("throttle_specials", found, views::special)))
}

#[utoipa::path(post, path = "/throttle-bindings", tag = "throttles", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn bind(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let (policy_id, publish_ids) = bind_body(&body, "strategy_id")?;
    let bindings =
        state.store.bind_policy(&scope.instance_id, PolicyKind::Throttle, &policy_id, &publish_ids, now()).await?;
    let applys: Vec<Value> = bindings.iter().map(views::throttle_binding).collect();
    Ok((StatusCode::CREATED, Json(json!({ "throttle_applys": applys }))))
}

#[utoipa::path(put, path = "/throttle-bindings", tag = "throttles", params(ActionQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn batch_delete(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<ActionQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    q.require_delete()?;
    let ids = ids_body(&body, "throttle_bindings")?;
    Ok(Json(batch_unbind(&state, &scope, PolicyKind::Throttle, &ids).await?))
}

#[derive(Deserialize)]
struct BindingId {
    throttle_binding_id: String,
}

#[utoipa::path(delete, path = "/throttle-bindings/{throttle_binding_id}", tag = "throttles", responses((status = 204, description = "Done"), InConflict))]
async fn unbind(State(state): State<AppState>, scope: Scope, Path(p): Path<BindingId>) -> ApiResult<StatusCode> {
    unbind_one(&state, &scope, PolicyKind::Throttle, &p.throttle_binding_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/throttle-bindings/binded-apis", tag = "throttles", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let throttle_id = BindingQuery::required(&q.throttle_id, "throttle_id")?;
    let found = state
        .store
        .list_bound_apis(&scope.instance_id, PolicyKind::Throttle, &throttle_id, &q.apis(), q.page()?)
        .await?;
    Ok(Json(paged("apis", found, views::bound_api_for_throttle)))
}

#[utoipa::path(get, path = "/throttle-bindings/unbinded-apis", tag = "throttles", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn unbound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let throttle_id = BindingQuery::required(&q.throttle_id, "throttle_id")?;
    let found = state
        .store
        .list_unbound_apis(&scope.instance_id, PolicyKind::Throttle, &throttle_id, &q.apis(), q.page()?)
        .await?;
    Ok(Json(paged("apis", found, |p| views::api_for_throttle(p, None))))
}

#[utoipa::path(get, path = "/throttle-bindings/binded-throttles", tag = "throttles", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_throttles(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let api_id = BindingQuery::required(&q.api_id, "api_id")?;
    state.store.api(&scope.instance_id, &api_id).await?;
    let filter = BoundPolicyFilter {
        env_id: q.env(&state, &scope).await?,
        policy_id: non_empty(q.throttle_id.clone()),
        policy_name: non_empty(q.throttle_name.clone()),
    };
    let found =
        state.store.list_bound_policies(&scope.instance_id, PolicyKind::Throttle, &api_id, &filter, q.page()?).await?;
    Ok(Json(paged("throttles", found, views::throttle_for_api)))
}
