//! Publishing: one API (`/apis/action`), a batch (`/apis/publish`), version history and
//! switching (`/apis/publish/{api_id}`), the live definition (`/apis/runtime/{api_id}`) and one
//! version (`/apis/versions/{version_id}`; DELETE takes it offline where it is in effect).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{Page, RELEASE_ENV_ID, now, parse_body};
use portico_store::{ApiVersion, BatchOutcome, Publication, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apis::ApiId;
use crate::extract::{AppQuery, Scope};
use crate::{ApiError, ApiResult, AppState, views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(action))
        .routes(routes!(batch))
        .routes(routes!(list_versions, switch_version))
        .routes(routes!(runtime))
        .routes(routes!(version, offline_version))
}

/// Most APIs one batch may name.
const MAX_BATCH: usize = 1000;

#[derive(Clone, Copy, PartialEq)]
enum Action {
    Online,
    Offline,
}

impl Action {
    fn parse(value: Option<&str>) -> ApiResult<Action> {
        match value {
            None | Some("") => Err(ApiError::missing("action")),
            Some("online") => Ok(Action::Online),
            Some("offline") => Ok(Action::Offline),
            Some(_) => Err(ApiError::invalid("action")),
        }
    }
}

fn check_remark(remark: Option<&str>) -> ApiResult<()> {
    match remark {
        Some(r) if r.chars().count() > 255 => Err(ApiError::invalid("remark")),
        _ => Ok(()),
    }
}

async fn apply(
    state: &AppState,
    scope: &Scope,
    action: Action,
    env_id: &str,
    apis: &[String],
    remark: Option<&str>,
) -> ApiResult<BatchOutcome> {
    let outcome = match action {
        Action::Online => state.store.publish(&scope.instance_id, env_id, apis, remark, now()).await?,
        Action::Offline => state.store.offline(&scope.instance_id, env_id, apis).await?,
    };
    Ok(outcome)
}

#[derive(Deserialize)]
struct ActionBody {
    action: String,
    env_id: String,
    api_id: String,
    remark: Option<String>,
}

#[utoipa::path(post, path = "/apis/action", tag = "publish", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn action(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let body: ActionBody = parse_body(&body, &["action", "env_id", "api_id"])?;
    let action = Action::parse(Some(&body.action))?;
    check_remark(body.remark.as_deref())?;
    let outcome =
        apply(&state, &scope, action, &body.env_id, std::slice::from_ref(&body.api_id), body.remark.as_deref()).await?;
    let (_, result) = outcome.into_iter().next().ok_or_else(|| ApiError::internal(&"empty publish outcome"))?;
    let status = if action == Action::Online { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(views::publication(&result?))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ActionQuery {
    action: Option<String>,
}

#[derive(Deserialize)]
struct BatchBody {
    #[serde(default)]
    apis: Vec<String>,
    group_id: Option<String>,
    env_id: String,
    remark: Option<String>,
}

fn failure(api_id: &str, error: StoreError) -> Value {
    let error = ApiError::from(error);
    json!({ "api_id": api_id, "api_name": "", "error_code": error.code, "error_msg": error.message })
}

#[utoipa::path(post, path = "/apis/publish", tag = "publish", params(ActionQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn batch(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<ActionQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let action = Action::parse(q.action.as_deref())?;
    let body: BatchBody = parse_body(&body, &["env_id"])?;
    check_remark(body.remark.as_deref())?;
    if body.apis.len() > MAX_BATCH {
        return Err(ApiError::invalid("apis"));
    }
    let apis = match (&body.apis[..], body.group_id.as_deref().filter(|g| !g.is_empty())) {
        ([], None) => return Err(ApiError::missing("apis")),
        ([], Some(group_id)) => {
            state.store.group(&scope.instance_id, group_id).await?;
            state.store.group_api_ids(&scope.instance_id, group_id).await?
        }
        (apis, _) => apis.to_vec(),
    };
    let outcome = apply(&state, &scope, action, &body.env_id, &apis, body.remark.as_deref()).await?;
    let (mut success, mut failures) = (Vec::new(), Vec::new());
    for (api_id, result) in outcome {
        match result {
            Ok(p) => success.push(views::publication(&p)),
            Err(e) => failures.push(failure(&api_id, e)),
        }
    }
    Ok(Json(json!({ "success": success, "failure": failures })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct VersionsQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    env_id: Option<String>,
    env_name: Option<String>,
}

#[utoipa::path(get, path = "/apis/publish/{api_id}", tag = "publish", params(VersionsQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_versions(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ApiId>,
    AppQuery(q): AppQuery<VersionsQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let env_id = match (q.env_id.filter(|e| !e.is_empty()), q.env_name.filter(|n| !n.is_empty())) {
        (Some(id), _) => Some(id),
        (None, Some(name)) => {
            let envs = state.store.list_envs(&scope.instance_id, Some(&name), Page { offset: 0, limit: 500 }).await?;
            let env = envs.items.into_iter().find(|e| e.name == name);
            Some(env.map(|e| e.id).ok_or_else(|| {
                ApiError::from(StoreError::NotFound { kind: portico_store::Kind::Environment, id: name })
            })?)
        }
        (None, None) => None,
    };
    let found = state.store.list_versions(&scope.instance_id, &p.api_id, env_id.as_deref(), page).await?;
    Ok(Json(views::list("api_versions", found, views::version_entry)))
}

#[derive(Deserialize)]
struct SwitchBody {
    version_id: String,
}

#[utoipa::path(put, path = "/apis/publish/{api_id}", tag = "publish", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn switch_version(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ApiId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: SwitchBody = parse_body(&body, &["version_id"])?;
    let publication = state.store.switch_version(&scope.instance_id, &p.api_id, &body.version_id, now()).await?;
    Ok(Json(views::publication(&publication)))
}

async fn render_version(state: &AppState, scope: &Scope, version: &ApiVersion) -> ApiResult<Value> {
    // A snapshot's group is gone only if the API moved to another group since and the old one
    // was deleted; a failing database is still an error.
    let group = match state.store.group(&scope.instance_id, &version.snapshot.definition.group_id).await {
        Ok(group) => Some(group),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let publications: Vec<Publication> =
        state.store.publications(&scope.instance_id, std::slice::from_ref(&version.api_id)).await?;
    let publish_id = publications.iter().find(|p| p.version_id == version.version_id).map(|p| p.publish_id.as_str());
    Ok(views::version_details(version, group.as_ref(), publish_id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RuntimeQuery {
    env_id: Option<String>,
}

#[utoipa::path(get, path = "/apis/runtime/{api_id}", tag = "publish", params(RuntimeQuery), responses((status = 200, description = "Found", body = Resource), BadRequest))]
async fn runtime(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ApiId>,
    AppQuery(q): AppQuery<RuntimeQuery>,
) -> ApiResult<Json<Value>> {
    let env_id = q.env_id.filter(|e| !e.is_empty()).unwrap_or_else(|| RELEASE_ENV_ID.to_string());
    state.store.api(&scope.instance_id, &p.api_id).await?;
    let version = state.store.runtime(&scope.instance_id, &p.api_id, &env_id).await?;
    Ok(Json(render_version(&state, &scope, &version).await?))
}

#[derive(Deserialize)]
struct VersionId {
    version_id: String,
}

#[utoipa::path(get, path = "/apis/versions/{version_id}", tag = "publish", responses((status = 200, description = "Found", body = Resource)))]
async fn version(State(state): State<AppState>, scope: Scope, Path(p): Path<VersionId>) -> ApiResult<Json<Value>> {
    let version = state.store.version(&scope.instance_id, &p.version_id).await?;
    Ok(Json(render_version(&state, &scope, &version).await?))
}

/// APIG's DeleteApiByVersionIdV2: "takes an API version in effect offline; the API can no longer
/// be called in the environment where that version was in effect" (the SDK's own description).
#[utoipa::path(delete, path = "/apis/versions/{version_id}", tag = "publish", responses((status = 204, description = "Taken offline"), BadRequest))]
async fn offline_version(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<VersionId>,
) -> ApiResult<StatusCode> {
    state.store.offline_version(&scope.instance_id, &p.version_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
