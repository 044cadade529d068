//! ACL policies (`/acls`) and their bindings to publish records (`/acl-bindings`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{AclInput, Page, new_id, now};
use portico_store::{AclFilter, BoundPolicyFilter, PolicyKind};
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
use crate::{ApiError, ApiResult, AppState, views::policies as views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create, batch_delete))
        .routes(routes!(show, update, remove))
        .routes(routes!(bind, batch_unbind_route))
        .routes(routes!(unbind))
        .routes(routes!(bound_apis))
        .routes(routes!(unbound_apis))
        .routes(routes!(bound_acls))
}

#[derive(Deserialize)]
struct AclId {
    acl_id: String,
}

#[utoipa::path(post, path = "/acls", tag = "acls", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let acl = AclInput::from_json(&body)?.into_acl(new_id(), now());
    state.store.create_acl(&scope.instance_id, &acl).await?;
    Ok((StatusCode::CREATED, Json(views::acl_plain(&acl))))
}

#[utoipa::path(put, path = "/acls/{acl_id}", tag = "acls", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AclId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let acl = AclInput::from_json(&body)?.into_acl(p.acl_id, now());
    let updated = state.store.update_acl(&scope.instance_id, &acl).await?;
    Ok(Json(views::acl_plain(&updated.acl)))
}

#[utoipa::path(get, path = "/acls/{acl_id}", tag = "acls", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<AclId>) -> ApiResult<Json<Value>> {
    Ok(Json(views::acl_plain(&state.store.acl(&scope.instance_id, &p.acl_id).await?.acl)))
}

#[utoipa::path(delete, path = "/acls/{acl_id}", tag = "acls", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<AclId>) -> ApiResult<StatusCode> {
    let outcome = state.store.delete_acls(&scope.instance_id, std::slice::from_ref(&p.acl_id)).await?;
    match outcome.into_iter().next() {
        Some((_, result)) => result?,
        None => return Err(ApiError::internal(&"empty delete outcome")),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `BatchDeleteAclV2`: `{success_count, failure: [{acl_id, acl_name, error_code, error_msg}]}`.
#[utoipa::path(put, path = "/acls", tag = "acls", params(ActionQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn batch_delete(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<ActionQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    q.require_delete()?;
    let ids = ids_body(&body, "acls")?;
    let outcome = state.store.delete_acls(&scope.instance_id, &ids).await?;
    let mut failure = Vec::new();
    let mut success_count = 0;
    for (id, result) in outcome {
        match result {
            Ok(()) => success_count += 1,
            Err(e) => {
                let e = ApiError::from(e);
                failure.push(json!({ "acl_id": id, "error_code": e.code, "error_msg": e.message }));
            }
        }
    }
    Ok(Json(json!({ "success_count": success_count, "failure": failure })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    acl_type: Option<String>,
    entity_type: Option<String>,
    precise_search: Option<String>,
}

#[utoipa::path(get, path = "/acls", tag = "acls", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = AclFilter {
        id: non_empty(q.id),
        name: text_match(q.name, "name", q.precise_search.as_deref()),
        acl_type: non_empty(q.acl_type),
        entity_type: non_empty(q.entity_type),
    };
    let found = state.store.list_acls(&scope.instance_id, &filter, page).await?;
    Ok(Json(paged("acls", found, views::acl)))
}

#[utoipa::path(post, path = "/acl-bindings", tag = "acls", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn bind(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let (acl_id, publish_ids) = bind_body(&body, "acl_id")?;
    let bindings = state.store.bind_policy(&scope.instance_id, PolicyKind::Acl, &acl_id, &publish_ids, now()).await?;
    let items: Vec<Value> = bindings.iter().map(views::acl_binding).collect();
    Ok((StatusCode::CREATED, Json(json!({ "acl_bindings": items }))))
}

#[utoipa::path(put, path = "/acl-bindings", tag = "acls", params(ActionQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn batch_unbind_route(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<ActionQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    q.require_delete()?;
    let ids = ids_body(&body, "acl_bindings")?;
    Ok(Json(batch_unbind(&state, &scope, PolicyKind::Acl, &ids).await?))
}

#[derive(Deserialize)]
struct BindingId {
    acl_bindings_id: String,
}

#[utoipa::path(delete, path = "/acl-bindings/{acl_bindings_id}", tag = "acls", responses((status = 204, description = "Done"), InConflict))]
async fn unbind(State(state): State<AppState>, scope: Scope, Path(p): Path<BindingId>) -> ApiResult<StatusCode> {
    unbind_one(&state, &scope, PolicyKind::Acl, &p.acl_bindings_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/acl-bindings/binded-apis", tag = "acls", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let acl_id = BindingQuery::required(&q.acl_id, "acl_id")?;
    let found = state.store.list_bound_apis(&scope.instance_id, PolicyKind::Acl, &acl_id, &q.apis(), q.page()?).await?;
    Ok(Json(paged("apis", found, views::bound_api_for_acl)))
}

#[utoipa::path(get, path = "/acl-bindings/unbinded-apis", tag = "acls", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn unbound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let acl_id = BindingQuery::required(&q.acl_id, "acl_id")?;
    let found =
        state.store.list_unbound_apis(&scope.instance_id, PolicyKind::Acl, &acl_id, &q.apis(), q.page()?).await?;
    Ok(Json(paged("apis", found, views::unbound_api_for_acl)))
}

#[utoipa::path(get, path = "/acl-bindings/binded-acls", tag = "acls", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_acls(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let api_id = BindingQuery::required(&q.api_id, "api_id")?;
    state.store.api(&scope.instance_id, &api_id).await?;
    let filter = BoundPolicyFilter {
        env_id: q.env(&state, &scope).await?,
        policy_id: non_empty(q.acl_id.clone()),
        policy_name: non_empty(q.acl_name.clone()),
    };
    let found =
        state.store.list_bound_policies(&scope.instance_id, PolicyKind::Acl, &api_id, &filter, q.page()?).await?;
    Ok(Json(paged("acls", found, views::acl_for_api)))
}
