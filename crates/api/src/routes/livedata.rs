//! ROMA Connect custom backends (livedata APIs, `…/apic/instances/{instance_id}/livedata-apis`):
//! create, update, list, show, delete, check, scripts, deploy and undeploy with their history,
//! test runs with theirs, and the custom backend export and import (seed 002).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use portico_model::{
    Api, ApiDefinition, FieldError, LdApi, LdApiInput, LdDeployInput, LdParameter, LdScriptsInput, LdTestRun, Page,
    new_id, now, parse_body, test_parameters_from_json,
};
use portico_openapi::Format;
use portico_store::{FrontendApi, LdApiFilter, LdImportAction, LdImportMode, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::apps::non_empty;
use super::groups::text_match;
use super::openapi::{failure_entry, form_mode};
use super::roma_apps::{app_names, list_livedata_sources};
use crate::download;
use crate::extract::{AppQuery, Scope};
use crate::views::{list as paged, object};
use crate::{ApiError, ApiResult, AppState, Caller};

/// The host a deployed custom backend's frontend API forwards to. The data plane does not
/// execute custom backends yet (`docs/livedata.md`), so it names no real server.
const LIVEDATA_HOST: &str = "livedata.portico.invalid";

/// Mounted on the `apic` prefix only.
pub fn routes() -> Router<AppState> {
    let uploads = Router::new()
        .route("/openapi/livedata-apis/import", post(import))
        .layer(DefaultBodyLimit::max(crate::auth::MAX_BODY));
    Router::new()
        .route("/livedata-apis", get(list).post(create))
        .route("/livedata-apis/check", post(check))
        .route("/livedata-apis/{ld_api_id}", get(show).put(update).delete(remove))
        .route("/livedata-apis/{ld_api_id}/scripts", post(set_scripts))
        .route("/livedata-apis/{ld_api_id}/deploy", get(deployments).post(deploy))
        .route("/livedata-apis/{ld_api_id}/undeploy", post(undeploy))
        .route("/livedata-apis/{ld_api_id}/test", get(tests).post(test))
        .route("/data-sources", get(list_livedata_sources))
        .route("/openapi/livedata-apis/export", post(export))
        .merge(uploads)
}

/// `LdApiInfo`.
fn view(api: &LdApi, instance_id: &str, app_name: &str) -> Value {
    let mut map = object(api);
    map.insert("instance".into(), json!(instance_id));
    map.insert("roma_app_name".into(), json!(app_name));
    Value::Object(map)
}

async fn render(state: &AppState, instance_id: &str, api: &LdApi) -> ApiResult<Value> {
    let app = state.store.roma_app(instance_id, &api.roma_app_id).await?;
    Ok(view(api, instance_id, &app.name))
}

#[derive(Deserialize)]
struct LdApiId {
    ld_api_id: String,
}

async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let api = LdApiInput::from_json(&body)?.create(new_id(), now());
    state.store.create_ld_api(&scope.instance_id, &api).await?;
    Ok((StatusCode::CREATED, Json(render(&state, &scope.instance_id, &api).await?)))
}

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

async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<LdApiId>) -> ApiResult<Json<Value>> {
    let api = state.store.ld_api(&scope.instance_id, &p.ld_api_id).await?;
    Ok(Json(render(&state, &scope.instance_id, &api).await?))
}

async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<LdApiId>) -> ApiResult<StatusCode> {
    state.store.delete_ld_api(&scope.instance_id, &p.ld_api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
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
/// gives others) in the body's group, forwarding to the custom backend.
fn frontend_api(api: &LdApi, deploy: &LdDeployInput) -> Result<FrontendApi, FieldError> {
    let mut body = json!({
        "name": api.name, "type": 1, "version": api.version,
        "req_protocol": deploy.protocol, "req_method": deploy.method.as_deref().unwrap_or(&api.method),
        "req_uri": deploy.path.as_deref().unwrap_or(&api.path), "auth_type": deploy.auth_type,
        "cors": deploy.cors, "match_mode": "NORMAL", "backend_type": "HTTP", "group_id": deploy.group_id,
        "roma_app_id": api.roma_app_id, "remark": format!("Frontend of custom backend {}", api.id),
        "backend_api": {
            "url_domain": LIVEDATA_HOST, "req_protocol": "HTTP", "req_method": api.method, "req_uri": api.path,
            "timeout": deploy.backend_timeout.unwrap_or(5000),
            "retry_count": deploy.retry_count.clone().unwrap_or_else(|| "-1".into()),
        },
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

fn deployment_view(d: &portico_model::LdDeployment, instance_id: &str, app_name: &str) -> Value {
    let mut map = object(d);
    map.insert("api_definition".into(), view(&d.api_definition, instance_id, app_name));
    Value::Object(map)
}

async fn deploy(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<LdApiId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = LdDeployInput::from_json(&body)?;
    let api = state.store.ld_api(&scope.instance_id, &p.ld_api_id).await?;
    let frontend = if input.deploy_front_api { Some(frontend_api(&api, &input)?) } else { None };
    let deployment = state.store.deploy_ld_api(&scope.instance_id, &p.ld_api_id, frontend, now()).await?;
    let app = state.store.roma_app(&scope.instance_id, &api.roma_app_id).await?;
    Ok((StatusCode::CREATED, Json(deployment_view(&deployment, &scope.instance_id, &app.name))))
}

async fn undeploy(State(state): State<AppState>, scope: Scope, Path(p): Path<LdApiId>) -> ApiResult<StatusCode> {
    state.store.undeploy_ld_api(&scope.instance_id, &p.ld_api_id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
}

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

/// A test run's history entry (`LdApiTestHistoryInfoV2`) has no `debug_log`.
fn test_history_view(run: &LdTestRun) -> Value {
    let mut map = object(run);
    map.remove("debug_log");
    Value::Object(map)
}

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

/// `DebugLiveDataApiV2`: runs the backend's scripts against their data sources and records the
/// run. A script that fails is a failed run (`test_status_code` 400 or 500 with the reason),
/// not an error of this request; a data source Portico cannot execute is (`APIG.2030`).
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
    let mut sources = Vec::with_capacity(api.scripts.len());
    for script in &api.scripts {
        let ds_id = script.ds_id.as_deref().ok_or_else(|| {
            ApiError::not_executable("function scripts (api_type function) are stored but not executable here")
        })?;
        let (source, password) = state.store.data_source(&scope.instance_id, ds_id).await?;
        if source.connection()?.is_none() {
            return Err(ApiError::not_executable(
                &portico_livedata::ExecError::NotExecutable(source.datasource_type).to_string(),
            ));
        }
        sources.push((source, password));
    }
    let started = Instant::now();
    let mut log = Vec::new();
    let mut result = Map::new();
    let mut status = "200";
    for (script, (source, password)) in api.scripts.iter().zip(&sources) {
        log.push(format!(
            "running {} script {} on data source {}",
            script.script_type, script.object_name, source.datasource_name
        ));
        match portico_livedata::run(source, password.as_deref(), script, &values).await {
            Ok(rows) => {
                log.push(format!("{}: {} rows", script.object_name, rows.as_array().map_or(0, Vec::len)));
                result.insert(script.object_name.clone(), rows);
            }
            Err(e) => {
                status = match e {
                    portico_livedata::ExecError::Script(_) => "400",
                    _ => "500",
                };
                log.push(format!("{}: failed: {e}", script.object_name));
                result = Map::from_iter([("error".to_string(), json!(e.to_string()))]);
                break;
            }
        }
    }
    let request: Map<String, Value> = values.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let run = LdTestRun {
        test_id: 0,
        ld_api_id: api.id.clone(),
        test_status_code: status.into(),
        test_request: Value::Object(request).to_string(),
        test_response: Value::Object(result).to_string(),
        test_used_time: started.elapsed().as_millis() as i64,
        test_operator: caller.user_name,
        test_method: api.method.clone(),
        test_date: now(),
        debug_log: log,
    };
    let recorded = state.store.record_ld_test(&scope.instance_id, &run).await?;
    Ok(Json(Value::Object(object(&recorded))))
}

#[derive(Deserialize)]
struct ExportBody {
    app_id: Option<String>,
    format: Option<String>,
    apis: Option<Vec<String>>,
    status: Option<i32>,
}

/// `ExportLiveDataApiDefinitionsV2`: the selected custom backends as a Swagger 2.0 file.
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
async fn import(State(state): State<AppState>, scope: Scope, mut multipart: Multipart) -> ApiResult<Json<Value>> {
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::invalid_because("body", &e.body_text());
    let mut file = None;
    let mut mode = LdImportMode::Merge;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file_name" => file = Some(field.bytes().await.map_err(malformed)?),
            "api_mode" => {
                let value = field.text().await.map_err(malformed)?;
                mode = if form_mode(&name, &value)? { LdImportMode::Override } else { LdImportMode::Merge };
            }
            "extend_mode" => drop(form_mode(&name, &field.text().await.map_err(malformed)?)?),
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
