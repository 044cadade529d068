//! Signature keys (`/signs`) and their bindings to publish records (`/sign-bindings`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use crate::views::signatures::{binding_view, bound_sign_view, unbound_view, view};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{Page, Signature, new_id, now, signature_from_json};
use portico_store::{BoundPolicyFilter, PolicyKind, PublishedApiFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::non_empty;
use super::bindings::{BindingQuery, bind_body, unbind_one};
use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::{list as paged, object};
use crate::{ApiResult, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, remove))
        .routes(routes!(bind))
        .routes(routes!(unbind))
        .routes(routes!(bound_apis))
        .routes(routes!(unbound_apis))
        .routes(routes!(bound_signs))
}

#[derive(Deserialize)]
struct SignId {
    sign_id: String,
}

#[utoipa::path(post, path = "/signs", tag = "signatures", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = now();
    let signature = signature_from_json(&body, new_id(), now, now)?;
    state.store.create_signature(&scope.instance_id, &signature).await?;
    Ok((StatusCode::CREATED, Json(Value::Object(object(&signature)))))
}

#[utoipa::path(put, path = "/signs/{sign_id}", tag = "signatures", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<SignId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let existing: Signature = state.store.signature(&scope.instance_id, &p.sign_id).await?.signature;
    let signature = signature_from_json(&body, existing.id, existing.create_time, now())?;
    let updated = state.store.update_signature(&scope.instance_id, &signature).await?;
    Ok(Json(Value::Object(object(&updated.signature))))
}

#[utoipa::path(delete, path = "/signs/{sign_id}", tag = "signatures", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<SignId>) -> ApiResult<StatusCode> {
    state.store.delete_signature(&scope.instance_id, &p.sign_id).await?;
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

#[utoipa::path(get, path = "/signs", tag = "signatures", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let name = text_match(q.name, "name", q.precise_search.as_deref());
    let id = non_empty(q.id);
    let found = state.store.list_signatures(&scope.instance_id, id.as_deref(), name.as_ref(), page).await?;
    Ok(Json(paged("signs", found, view)))
}

#[utoipa::path(post, path = "/sign-bindings", tag = "signatures", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn bind(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let (sign_id, publish_ids) = bind_body(&body, "sign_id")?;
    let bindings = state.store.bind_policy(&scope.instance_id, PolicyKind::Sign, &sign_id, &publish_ids, now()).await?;
    let signature = Value::Object(object(&state.store.signature(&scope.instance_id, &sign_id).await?.signature));
    let all = Page { offset: 0, limit: 500 };
    let mut items = Vec::with_capacity(bindings.len());
    for binding in &bindings {
        let filter = PublishedApiFilter {
            api_id: Some(binding.api_id.clone()),
            env_id: Some(binding.env_id.clone()),
            ..Default::default()
        };
        let found = state.store.list_bound_apis(&scope.instance_id, PolicyKind::Sign, &sign_id, &filter, all).await?;
        items.extend(found.items.iter().map(|b| binding_view(b, signature.as_object())));
    }
    Ok((StatusCode::CREATED, Json(json!({ "bindings": items }))))
}

#[derive(Deserialize)]
struct BindingId {
    sign_bindings_id: String,
}

#[utoipa::path(delete, path = "/sign-bindings/{sign_bindings_id}", tag = "signatures", responses((status = 204, description = "Done"), InConflict))]
async fn unbind(State(state): State<AppState>, scope: Scope, Path(p): Path<BindingId>) -> ApiResult<StatusCode> {
    unbind_one(&state, &scope, PolicyKind::Sign, &p.sign_bindings_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/sign-bindings/binded-apis", tag = "signatures", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let sign_id = BindingQuery::required(&q.sign_id, "sign_id")?;
    let found =
        state.store.list_bound_apis(&scope.instance_id, PolicyKind::Sign, &sign_id, &q.apis(), q.page()?).await?;
    Ok(Json(paged("bindings", found, |b| binding_view(b, None))))
}

#[utoipa::path(get, path = "/sign-bindings/unbinded-apis", tag = "signatures", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn unbound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let sign_id = BindingQuery::required(&q.sign_id, "sign_id")?;
    let found =
        state.store.list_unbound_apis(&scope.instance_id, PolicyKind::Sign, &sign_id, &q.apis(), q.page()?).await?;
    Ok(Json(paged("apis", found, unbound_view)))
}

/// `ListSignatureKeysBindedToApiV2`: `SignApiBindingInfo` of each key bound to the API.
#[utoipa::path(get, path = "/sign-bindings/binded-signs", tag = "signatures", params(BindingQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_signs(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<BindingQuery>,
) -> ApiResult<Json<Value>> {
    let api_id = BindingQuery::required(&q.api_id, "api_id")?;
    let context = state.store.api_context(&scope.instance_id, &api_id).await?;
    let filter = BoundPolicyFilter {
        env_id: non_empty(q.env_id.clone()),
        policy_id: non_empty(q.sign_id.clone()),
        policy_name: non_empty(q.sign_name.clone()),
    };
    let found =
        state.store.list_bound_policies(&scope.instance_id, PolicyKind::Sign, &api_id, &filter, q.page()?).await?;
    Ok(Json(paged("bindings", found, |b| bound_sign_view(b, &context))))
}
