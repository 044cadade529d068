//! ROMA Connect custom backends (livedata APIs, `…/apic/instances/{instance_id}/livedata-apis`):
//! create, update, list, show, delete, check, scripts, deploy and undeploy with their history,
//! test runs with theirs, and the custom backend export and import (seed 002).

use crate::doc::{BadRequest, FileBody, InConflict, JsonBody, PageOf, Resource, UploadForm};
use crate::views::livedata::{deployment_view, test_history_view, view};
use std::time::Instant;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Json};
use hmac::{Hmac, Mac};
use portico_model::{
    Api, ApiDefinition, FieldError, LdApi, LdApiInput, LdDeployInput, LdParameter, LdScriptsInput, LdTestRun, Page,
    new_id, now, parse_body, test_parameters_from_json,
};
use portico_openapi::{FormMode, Format};
use portico_store::{FrontendApi, LdApiFilter, LdImportAction, LdImportMode, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::apps::non_empty;
use super::groups::text_match;
use super::roma_apps::app_names;
use crate::download;
use crate::extract::{AppQuery, Scope};
use crate::services::openapi::failure_entry;
use crate::views::{list as paged, object};
use crate::{ApiError, ApiResult, AppState, Caller};

/// The backend host of a frontend API when the server was not told where the gateway reaches
/// it (`AppState::with_livedata_runtime`): an address that resolves nowhere.
const NO_RUNTIME: &str = "livedata.portico.invalid";

/// The header by which the runtime knows a call comes from the frontend API of a deployment.
const RUNTIME_KEY_HEADER: &str = "x-portico-livedata-key";

/// The custom backend runtime: what the frontend APIs of deployments forward to. Outside the
/// `/v2` authentication: a call must carry the deployment's key instead.
pub fn runtime_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/livedata-runtime/{instance_id}/{ld_api_id}", any(runtime))
}

/// The MAC behind a custom backend's runtime key: HMAC-SHA256 of its instance and id under
/// the server's token key, so nothing is stored and a key opens one backend.
fn runtime_mac(state: &AppState, instance_id: &str, ld_api_id: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.token_key.to_hex().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("livedata-runtime\n{instance_id}\n{ld_api_id}").as_bytes());
    mac
}

fn runtime_key(state: &AppState, instance_id: &str, ld_api_id: &str) -> String {
    hex::encode(runtime_mac(state, instance_id, ld_api_id).finalize().into_bytes())
}

/// Whether `given` is the backend's runtime key (compared in constant time).
fn runtime_key_matches(state: &AppState, instance_id: &str, ld_api_id: &str, given: &str) -> bool {
    hex::decode(given).is_ok_and(|given| runtime_mac(state, instance_id, ld_api_id).verify_slice(&given).is_ok())
}

/// Mounted on the `apic` prefix only.
pub fn routes() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new().routes(routes!(import)).layer(DefaultBodyLimit::max(crate::auth::MAX_BODY));
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(check))
        .routes(routes!(show, update, remove))
        .routes(routes!(set_scripts))
        .routes(routes!(deployments, deploy))
        .routes(routes!(undeploy))
        .routes(routes!(tests, test))
        .routes(routes!(super::roma_apps::list_livedata_sources))
        .routes(routes!(export))
        .merge(uploads)
}

async fn render(state: &AppState, instance_id: &str, api: &LdApi) -> ApiResult<Value> {
    let app = state.store.roma_app(instance_id, &api.roma_app_id).await?;
    Ok(view(api, instance_id, &app.name))
}

#[derive(Deserialize)]
struct LdApiId {
    ld_api_id: String,
}

#[utoipa::path(post, path = "/livedata-apis", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let api = LdApiInput::from_json(&body)?.create(new_id(), now());
    state.store.create_ld_api(&scope.instance_id, &api).await?;
    Ok((StatusCode::CREATED, Json(render(&state, &scope.instance_id, &api).await?)))
}

#[utoipa::path(put, path = "/livedata-apis/{ld_api_id}", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<LdApiId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = LdApiInput::from_json(&body)?;
    let now = now();
    let change = |stored: &LdApi| input.clone().apply_to(stored, now);
    let api = state.store.update_ld_api(&scope.instance_id, &p.ld_api_id, &change).await?;
    Ok(Json(render(&state, &scope.instance_id, &api).await?))
}

#[utoipa::path(get, path = "/livedata-apis/{ld_api_id}", tag = "livedata", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<LdApiId>) -> ApiResult<Json<Value>> {
    let api = state.store.ld_api(&scope.instance_id, &p.ld_api_id).await?;
    Ok(Json(render(&state, &scope.instance_id, &api).await?))
}

#[utoipa::path(delete, path = "/livedata-apis/{ld_api_id}", tag = "livedata", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<LdApiId>) -> ApiResult<StatusCode> {
    state.store.delete_ld_api(&scope.instance_id, &p.ld_api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    app_id: Option<String>,
    app_name: Option<String>,
    name: Option<String>,
    status: Option<String>,
    path: Option<String>,
    precise_search: Option<String>,
}

fn parse_status(value: Option<&str>, field: &str) -> ApiResult<Option<i32>> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("1") => Ok(Some(1)),
        Some("3") => Ok(Some(3)),
        Some("4") => Ok(Some(4)),
        Some(_) => Err(ApiError::invalid(field)),
    }
}

#[utoipa::path(get, path = "/livedata-apis", tag = "livedata", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let precise = q.precise_search.as_deref();
    let filter = LdApiFilter {
        app_id: non_empty(q.app_id),
        app_name: text_match(q.app_name, "app_name", precise),
        name: text_match(q.name, "name", precise),
        path: text_match(q.path, "path", precise),
        status: parse_status(q.status.as_deref(), "status")?,
        ids: None,
    };
    let found = state.store.list_ld_apis(&scope.instance_id, &filter, page).await?;
    let names = app_names(state.store.as_ref(), &scope.instance_id, found.items.iter().map(|a| &a.roma_app_id)).await?;
    let instance_id = scope.instance_id.clone();
    Ok(Json(paged("apis", found, |a| {
        view(a, &instance_id, names.get(&a.roma_app_id).map(String::as_str).unwrap_or_default())
    })))
}

/// `LdApiCheckInfo`: is a name, or a (method, path), still free in the application?
#[derive(Deserialize)]
struct CheckBody {
    #[serde(rename = "type")]
    check_type: String,
    ld_api_name: Option<String>,
    ld_api_method: Option<String>,
    ld_api_path: Option<String>,
    roma_app_id: String,
}

#[utoipa::path(post, path = "/livedata-apis/check", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn check(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<StatusCode> {
    let body: CheckBody = parse_body(&body, &["type", "roma_app_id"])?;
    fn required<'a>(value: &'a Option<String>, field: &str) -> ApiResult<&'a str> {
        value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing(field))
    }
    let (name, route) = match body.check_type.as_str() {
        "name" => (Some(required(&body.ld_api_name, "ld_api_name")?), None),
        "path" => {
            let method = required(&body.ld_api_method, "ld_api_method")?;
            (None, Some((method, required(&body.ld_api_path, "ld_api_path")?)))
        }
        _ => return Err(ApiError::invalid("type")),
    };
    match state.store.ld_api_conflict(&scope.instance_id, &body.roma_app_id, name, route).await? {
        Some(conflict) => Err(conflict.into()),
        None => Ok(StatusCode::NO_CONTENT),
    }
}

#[utoipa::path(post, path = "/livedata-apis/{ld_api_id}/scripts", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn set_scripts(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<LdApiId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = now();
    let input = LdScriptsInput::from_json(&body, now)?;
    let api = state.store.set_ld_scripts(&scope.instance_id, &p.ld_api_id, &input.api_type, input.scripts, now).await?;
    Ok((StatusCode::CREATED, Json(render(&state, &scope.instance_id, &api).await?)))
}

/// The frontend API a deployment creates: the backend's method and path (unless the body
/// gives others) in the body's group, forwarding to this server's runtime for the backend with
/// the backend's runtime key as a constant header.
fn frontend_api(
    state: &AppState,
    instance_id: &str,
    api: &LdApi,
    deploy: &LdDeployInput,
) -> Result<FrontendApi, FieldError> {
    let runtime = state.config.livedata_runtime.as_deref().unwrap_or(NO_RUNTIME);
    let mut body = json!({
        "name": api.name, "type": 1, "version": api.version,
        "req_protocol": deploy.protocol, "req_method": deploy.method.as_deref().unwrap_or(&api.method),
        "req_uri": deploy.path.as_deref().unwrap_or(&api.path), "auth_type": deploy.auth_type,
        "cors": deploy.cors, "match_mode": "NORMAL", "backend_type": "HTTP", "group_id": deploy.group_id,
        "roma_app_id": api.roma_app_id, "remark": format!("Frontend of custom backend {}", api.id),
        "backend_api": {
            "url_domain": runtime, "req_protocol": "HTTP", "req_method": api.method,
            "req_uri": format!("/livedata-runtime/{instance_id}/{}", api.id),
            "timeout": deploy.backend_timeout.unwrap_or(5000),
            "retry_count": deploy.retry_count.clone().unwrap_or_else(|| "-1".into()),
        },
        "backend_params": [{
            "origin": "CONSTANT", "name": RUNTIME_KEY_HEADER, "location": "HEADER",
            "value": runtime_key(state, instance_id, &api.id), "remark": "authenticates the gateway to the runtime",
        }],
    });
    if let Some(id) = &deploy.authorizer_id {
        body["authorizer_id"] = json!(id);
    }
    let mut definition = ApiDefinition::from_value(body)?;
    let now = now();
    definition.prepare(None, now);
    let env_id = deploy.env_id.clone().unwrap_or_default();
    Ok(FrontendApi { api: Api { id: new_id(), status: 1, register_time: now, update_time: now, definition }, env_id })
}

#[utoipa::path(post, path = "/livedata-apis/{ld_api_id}/deploy", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn deploy(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<LdApiId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = LdDeployInput::from_json(&body)?;
    let api = state.store.ld_api(&scope.instance_id, &p.ld_api_id).await?;
    let frontend =
        if input.deploy_front_api { Some(frontend_api(&state, &scope.instance_id, &api, &input)?) } else { None };
    let deployment = state.store.deploy_ld_api(&scope.instance_id, &p.ld_api_id, frontend, now()).await?;
    let app = state.store.roma_app(&scope.instance_id, &api.roma_app_id).await?;
    Ok((StatusCode::CREATED, Json(deployment_view(&deployment, &scope.instance_id, &app.name))))
}

#[utoipa::path(post, path = "/livedata-apis/{ld_api_id}/undeploy", tag = "livedata", responses((status = 204, description = "Done"), InConflict))]
async fn undeploy(State(state): State<AppState>, scope: Scope, Path(p): Path<LdApiId>) -> ApiResult<StatusCode> {
    state.store.undeploy_ld_api(&scope.instance_id, &p.ld_api_id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/livedata-apis/{ld_api_id}/deploy", tag = "livedata", params(PageQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn deployments(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<LdApiId>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let api = state.store.ld_api(&scope.instance_id, &p.ld_api_id).await?;
    let app = state.store.roma_app(&scope.instance_id, &api.roma_app_id).await?;
    let found = state.store.ld_deployments(&scope.instance_id, &p.ld_api_id, page).await?;
    Ok(Json(paged("histories", found, |d| deployment_view(d, &scope.instance_id, &app.name))))
}

#[utoipa::path(get, path = "/livedata-apis/{ld_api_id}/test", tag = "livedata", params(PageQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn tests(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<LdApiId>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let found = state.store.ld_tests(&scope.instance_id, &p.ld_api_id, page).await?;
    Ok(Json(paged("histories", found, test_history_view)))
}

/// The value of each parameter for a test: the one sent (its `default`), else the backend's
/// default; a required parameter without either is refused.
fn test_values(api: &LdApi, sent: &[LdParameter]) -> ApiResult<Vec<(String, String)>> {
    let mut values: Vec<(String, String)> =
        sent.iter().filter_map(|p| p.default.clone().map(|v| (p.name.clone(), v))).collect();
    for p in &api.parameters {
        if values.iter().any(|(name, _)| *name == p.name) {
            continue;
        }
        match &p.default {
            Some(v) => values.push((p.name.clone(), v.clone())),
            None if p.required => return Err(ApiError::missing(&format!("parameters.{}", p.name))),
            None => {}
        }
    }
    Ok(values)
}

/// What running a custom backend's scripts gave.
struct Execution {
    /// "200", or "400"/"500" when a script failed.
    status: &'static str,
    /// `{object_name: rows}`, or `{"error": reason}`.
    result: Map<String, Value>,
    /// One line per step.
    log: Vec<String>,
    /// The failure, when a script failed.
    failure: Option<portico_livedata::ExecError>,
}

/// Runs each script of `api` (it has some: testing checks, deploying requires them) in turn
/// against its data source with `values`. A data source
/// Portico does not execute is refused before anything runs (`APIG.2030`).
async fn execute(
    state: &AppState,
    instance_id: &str,
    api: &LdApi,
    values: &[(String, String)],
) -> ApiResult<Execution> {
    let mut sources = Vec::with_capacity(api.scripts.len());
    for script in &api.scripts {
        let ds_id = script.ds_id.as_deref().ok_or_else(|| {
            ApiError::not_executable("function scripts (api_type function) are stored but not executable here")
        })?;
        let (source, password) = state.store.data_source(instance_id, ds_id).await?;
        if source.connection()?.is_none() {
            let refusal = portico_livedata::ExecError::NotExecutable(source.datasource_type);
            return Err(ApiError::not_executable(&refusal.to_string()));
        }
        sources.push((source, password));
    }
    let mut run = Execution { status: "200", result: Map::new(), log: Vec::new(), failure: None };
    for (script, (source, password)) in api.scripts.iter().zip(&sources) {
        run.log.push(format!(
            "running {} script {} on data source {}",
            script.script_type, script.object_name, source.datasource_name
        ));
        let places = &state.config.livedata_places;
        match portico_livedata::run(source, password.as_deref(), script, values, places).await {
            Ok(rows) => {
                run.log.push(format!("{}: {} rows", script.object_name, rows.as_array().map_or(0, Vec::len)));
                run.result.insert(script.object_name.clone(), rows);
            }
            Err(e) => {
                run.status = match e {
                    portico_livedata::ExecError::Script(_) => "400",
                    _ => "500",
                };
                run.log.push(format!("{}: failed: {e}", script.object_name));
                run.result = Map::from_iter([("error".to_string(), json!(e.to_string()))]);
                run.failure = Some(e);
                break;
            }
        }
    }
    Ok(run)
}

/// `DebugLiveDataApiV2`: runs the backend's scripts against their data sources and records the
/// run. A script that fails is a failed run (`test_status_code` 400 or 500 with the reason),
/// not an error of this request; a data source Portico cannot execute is (`APIG.2030`).
#[utoipa::path(post, path = "/livedata-apis/{ld_api_id}/test", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn test(
    State(state): State<AppState>,
    scope: Scope,
    Extension(caller): Extension<Caller>,
    Path(p): Path<LdApiId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let sent = test_parameters_from_json(&body)?;
    let api = state.store.ld_api(&scope.instance_id, &p.ld_api_id).await?;
    if api.scripts.is_empty() {
        return Err(
            StoreError::Conflict(portico_store::Conflict::LdApiStatus(api.name, "has no scripts to test")).into()
        );
    }
    let values = test_values(&api, &sent)?;
    let started = Instant::now();
    let run = execute(&state, &scope.instance_id, &api, &values).await?;
    let request: Map<String, Value> = values.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let record = LdTestRun {
        test_id: 0,
        ld_api_id: api.id.clone(),
        test_status_code: run.status.into(),
        test_request: Value::Object(request).to_string(),
        test_response: Value::Object(run.result).to_string(),
        test_used_time: started.elapsed().as_millis() as i64,
        test_operator: caller.user_name,
        test_method: api.method.clone(),
        test_date: now(),
        debug_log: run.log,
    };
    let recorded = state.store.record_ld_test(&scope.instance_id, &record).await?;
    Ok(Json(Value::Object(object(&recorded))))
}

#[derive(Deserialize)]
struct RuntimePath {
    instance_id: String,
    ld_api_id: String,
}

/// The custom backend runtime: a deployed backend run with the request's parameters (query
/// pairs for `Parameters`, headers for `Headers`, the body for `Body`), answering
/// `{object_name: rows}`. Called by the gateway through a deployment's frontend API, which
/// sends the backend's key.
async fn runtime(
    State(state): State<AppState>,
    Path(p): Path<RuntimePath>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let key = headers.get(RUNTIME_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !runtime_key_matches(&state, &p.instance_id, &p.ld_api_id, key) {
        return Err(ApiError::unauthenticated());
    }
    let api = state.store.ld_api(&p.instance_id, &p.ld_api_id).await?;
    if api.status != portico_model::ld_status::DEPLOYED {
        return Err(StoreError::Conflict(portico_store::Conflict::LdApiStatus(api.name, "is not deployed")).into());
    }
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let sent: Vec<LdParameter> = api
        .parameters
        .iter()
        .filter_map(|param| {
            let value = match param.location.as_str() {
                "Parameters" => pairs.iter().find(|(k, _)| *k == param.name).map(|(_, v)| v.clone()),
                "Headers" => headers.get(param.name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned),
                _ => (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
            }?;
            Some(LdParameter { default: Some(value), ..param.clone() })
        })
        .collect();
    let values = test_values(&api, &sent)?;
    let run = execute(&state, &p.instance_id, &api, &values).await?;
    match run.failure {
        None => Ok(Json(Value::Object(run.result)).into_response()),
        Some(e @ portico_livedata::ExecError::Script(_)) => Err(ApiError::script_failed(&e.to_string())),
        Some(e) => Err(ApiError::internal(&e)),
    }
}

#[derive(Deserialize)]
struct ExportBody {
    app_id: Option<String>,
    format: Option<String>,
    apis: Option<Vec<String>>,
    status: Option<i32>,
}

/// `ExportLiveDataApiDefinitionsV2`: the selected custom backends as a Swagger 2.0 file.
#[utoipa::path(post, path = "/openapi/livedata-apis/export", tag = "livedata", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "The document", content((Resource = "application/json"), (FileBody = "application/x-yaml"))), BadRequest, InConflict))]
async fn export(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Response> {
    let body: ExportBody = if body.iter().all(u8::is_ascii_whitespace) {
        ExportBody { app_id: None, format: None, apis: None, status: None }
    } else {
        parse_body(&body, &[])?
    };
    let format = match body.format.as_deref() {
        None | Some("") | Some("json") => Format::Json,
        Some("yaml") | Some("yml") => Format::Yaml,
        Some(_) => return Err(ApiError::invalid("format")),
    };
    let status = parse_status(body.status.map(|s| s.to_string()).as_deref(), "status")?;
    let app_id = non_empty(body.app_id);
    let title = match &app_id {
        Some(id) => state.store.roma_app(&scope.instance_id, id).await?.name,
        None => "livedata-apis".to_string(),
    };
    let ids = body.apis.filter(|ids| !ids.is_empty());
    let filter = LdApiFilter { app_id, status, ids: ids.clone(), ..LdApiFilter::default() };
    let apis = state.store.export_ld_apis(&scope.instance_id, &filter).await?;
    if let Some(ids) = ids
        && let Some(missing) = ids.iter().find(|id| !apis.iter().any(|a| &a.id == *id))
    {
        return Err(ApiError::invalid_because(
            "apis",
            &format!("Custom backend {missing} does not exist or does not match app_id and status"),
        ));
    }
    let (extension, content_type) = match format {
        Format::Json => ("json", "application/json"),
        Format::Yaml => ("yaml", "application/x-yaml"),
    };
    Ok(download::attachment(&format!("livedata-apis.{extension}"), content_type, move |writer| {
        portico_openapi::write_livedata(&title, &apis, format, writer)
    }))
}

/// `ImportLiveDataApiDefinitionsV2`: multipart `extend_mode`, `api_mode`, `file_name`.
#[utoipa::path(post, path = "/openapi/livedata-apis/import", tag = "livedata", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn import(
    State(state): State<AppState>,
    scope: Scope,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Value>> {
    let mut multipart = multipart.map_err(|e| ApiError::invalid_because("body", &e.body_text()))?;
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::invalid_because("body", &e.body_text());
    let mut file = None;
    let mut mode = LdImportMode::Merge;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file_name" => file = Some(field.bytes().await.map_err(malformed)?),
            "api_mode" => {
                let value = field.text().await.map_err(malformed)?;
                mode = match FormMode::parse(&name, &value)? {
                    FormMode::Merge => LdImportMode::Merge,
                    FormMode::Override => LdImportMode::Override,
                };
            }
            "extend_mode" => drop(FormMode::parse(&name, &field.text().await.map_err(malformed)?)?),
            _ => {}
        }
    }
    let file = file.ok_or_else(|| ApiError::missing("file_name"))?;
    let parsed = portico_openapi::parse_livedata(&file, now())
        .map_err(|e| ApiError::invalid_because("file_name", &e.to_string()))?;
    let mut failure = Vec::new();
    let mut valid = Vec::new();
    for item in parsed {
        match item.api {
            Ok(api) => valid.push(api),
            Err(e) => failure.push(failure_entry(&item.path, &item.method, e.into())),
        }
    }
    let routes: Vec<(String, String)> = valid.iter().map(|a| (a.path.clone(), a.method.clone())).collect();
    let outcome = state.store.import_ld_apis(&scope.instance_id, valid, mode).await?;
    let mut success = Vec::new();
    for ((path, method), result) in routes.into_iter().zip(outcome) {
        match result {
            Ok(action) => {
                let (action, id) = match action {
                    LdImportAction::Created(id) => ("create", id),
                    LdImportAction::Updated(id) => ("update", id),
                    LdImportAction::Kept(id) => ("skip", id),
                };
                success.push(json!({ "path": path, "method": method, "action": action, "id": id }));
            }
            Err(e) => failure.push(failure_entry(&path, &method, e.into())),
        }
    }
    let result = if failure.is_empty() {
        "success"
    } else if success.is_empty() {
        "failure"
    } else {
        "partial"
    };
    Ok(Json(json!({ "success": success, "failure": failure, "swagger": { "id": new_id(), "result": result } })))
}
