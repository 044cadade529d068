//! Signature keys (`/signs`) and their bindings to publish records (`/sign-bindings`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{Page, Signature, new_id, now, signature_from_json};
use portico_store::{
    ApiContext, BoundApi, BoundPolicy, BoundPolicyFilter, PolicyKind, PublishedApi, PublishedApiFilter,
    SignatureSummary,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::non_empty;
use super::bindings::{BindingQuery, bind_body, unbind_one};
use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::{list as paged, object, rfc3339};
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

/// `SignatureWithBindNum`.
fn view(s: &SignatureSummary) -> Value {
    let mut map = object(&s.signature);
    map.insert("bind_num".into(), json!(s.bind_num));
    map.insert("ldapi_bind_num".into(), json!(0));
    Value::Object(map)
}

/// `SignApiBindingBase`, plus the key's credentials for `SignApiBindingInfo`.
fn binding_view(b: &BoundApi, signature: Option<&Map<String, Value>>) -> Value {
    let p = &b.api;
    let mut map = match json!({
        "id": b.binding.id, "publish_id": p.publish_id, "api_id": p.api_id, "api_name": p.api_name,
        "api_type": p.api_type, "api_remark": p.api_remark, "group_name": p.group_name, "env_id": p.env_id,
        "env_name": p.env_name, "binding_time": rfc3339(b.binding.create_time), "sign_id": b.binding.policy_id,
        "sign_name": b.binding.policy_name, "req_method": p.req_method, "tags": p.tags,
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(sign) = signature {
        for key in ["sign_key", "sign_secret", "sign_type"] {
            map.insert(key.into(), sign.get(key).cloned().unwrap_or(Value::Null));
        }
    }
    Value::Object(map)
}

/// `SignApiBindingInfo` of a key bound to the API of `context`.
fn bound_sign_view(b: &BoundPolicy, context: &ApiContext) -> Value {
    let api = &context.api;
    let mut map = b.policy.clone();
    for key in ["id", "name", "create_time", "update_time", "sign_algorithm"] {
        map.remove(key);
    }
    let fields = json!({
        "id": b.binding.id, "sign_id": b.binding.policy_id, "sign_name": b.binding.policy_name,
        "publish_id": b.binding.publish_id, "api_id": api.id, "api_name": api.definition.name,
        "api_type": api.definition.api_type, "api_remark": api.definition.remark, "group_name": context.group.name,
        "env_id": b.binding.env_id, "env_name": b.env_name, "binding_time": rfc3339(b.binding.create_time),
        "req_method": api.definition.req_method.as_str(), "tags": api.definition.tags,
    });
    if let Value::Object(fields) = fields {
        map.extend(fields);
    }
    Value::Object(map)
}

/// `ApiForSign`.
fn unbound_view(p: &PublishedApi) -> Value {
    json!({
        "id": p.api_id, "name": p.api_name, "type": p.api_type, "remark": p.api_remark, "auth_type": p.auth_type,
        "req_method": p.req_method, "req_uri": p.req_uri, "group_id": p.group_id, "group_name": p.group_name,
        "publish_id": p.publish_id, "run_env_id": p.env_id, "run_env_name": p.env_name, "tags": p.tags,
    })
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
