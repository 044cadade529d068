//! ACL policies (`/acls`) and their bindings to publish records (`/acl-bindings`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use portico_model::{AclInput, Page, new_id, now};
use portico_store::{AclFilter, BoundPolicyFilter, PolicyKind};
use serde::Deserialize;
use serde_json::{Value, json};

use super::apps::non_empty;
use super::bindings::{ActionQuery, BindingQuery, batch_unbind, bind_body, ids_body, unbind_one};
use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::list as paged;
use crate::{ApiError, ApiResult, AppState, policy_views as views};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/acls", get(list).post(create).put(batch_delete))
        .route("/acls/{acl_id}", get(show).put(update).delete(remove))
        .route("/acl-bindings", axum::routing::post(bind).put(batch_unbind_route))
        .route("/acl-bindings/{acl_bindings_id}", delete(unbind))
        .route("/acl-bindings/binded-apis", get(bound_apis))
        .route("/acl-bindings/unbinded-apis", get(unbound_apis))
        .route("/acl-bindings/binded-acls", get(bound_acls))
}

#[derive(Deserialize)]
struct AclId {
    acl_id: String,
}

async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let acl = AclInput::from_json(&body)?.into_acl(new_id(), now());
    state.store.create_acl(&scope.instance_id, &acl).await?;
    Ok((StatusCode::CREATED, Json(views::acl_plain(&acl))))
}

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

async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<AclId>) -> ApiResult<Json<Value>> {
    Ok(Json(views::acl_plain(&state.store.acl(&scope.instance_id, &p.acl_id).await?.acl)))
}

async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<AclId>) -> ApiResult<StatusCode> {
    let outcome = state.store.delete_acls(&scope.instance_id, std::slice::from_ref(&p.acl_id)).await?;
    match outcome.into_iter().next() {
        Some((_, result)) => result?,
        None => return Err(ApiError::internal(&"empty delete outcome")),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `BatchDeleteAclV2`: `{success_count, failure: [{acl_id, acl_name, error_code, error_msg}]}`.
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

#[derive(Deserialize)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    acl_type: Option<String>,
    entity_type: Option<String>,
    precise_search: Option<String>,
}

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

async fn bind(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let (acl_id, publish_ids) = bind_body(&body, "acl_id")?;
    let bindings = state.store.bind_policy(&scope.instance_id, PolicyKind::Acl, &acl_id, &publish_ids, now()).await?;
    let items: Vec<Value> = bindings.iter().map(views::acl_binding).collect();
    Ok((StatusCode::CREATED, Json(json!({ "acl_bindings": items }))))
}

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

async fn unbind(State(state): State<AppState>, scope: Scope, Path(p): Path<BindingId>) -> ApiResult<StatusCode> {
    unbind_one(&state, &scope, PolicyKind::Acl, &p.acl_bindings_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn bound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let acl_id = BindingQuery::required(&q.acl_id, "acl_id")?;
    let found = state.store.list_bound_apis(&scope.instance_id, PolicyKind::Acl, &acl_id, &q.apis(), q.page()?).await?;
    Ok(Json(paged("apis", found, views::bound_api_for_acl)))
}

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
