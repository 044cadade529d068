//! Export and import of API definitions (`…/openapi/export`, `…/openapi/import`), their
//! asynchronous variants and the task they leave (`…/async-tasks/{task_id}`). The same handlers
//! serve APIG (`apigw`) and ROMA Connect (`apic`); [`Flavor`] carries the few differences.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_model::{new_id, now};
use portico_openapi::ImportFormReader;
use portico_store::{AsyncTask, TaskStatus, TaskType};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::doc::{BadRequest, FileBody, InConflict, JsonBody, Resource, UploadForm};
use crate::extract::{AppQuery, Flavor, Scope};
use crate::services::openapi;
use crate::{ApiError, ApiResult, AppState, download};

pub fn routes() -> OpenApiRouter<AppState> {
    // Documents are large: the authentication layer already caps every body at `MAX_BODY`,
    // so axum's own 2 MiB default must not cut an import shorter.
    let uploads = OpenApiRouter::new()
        .routes(routes!(import))
        .routes(routes!(async_import))
        .layer(DefaultBodyLimit::max(crate::auth::MAX_BODY));
    OpenApiRouter::new().routes(routes!(export)).routes(routes!(async_export)).routes(routes!(show_task)).merge(uploads)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    oas_version: Option<String>,
}

#[utoipa::path(post, path = "/openapi/export", tag = "openapi", params(ExportQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "The document", content((Resource = "application/json"), (FileBody = "application/x-yaml"))), BadRequest, InConflict))]
async fn export(
    State(state): State<AppState>,
    scope: Scope,
    flavor: Flavor,
    AppQuery(query): AppQuery<ExportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let prepared = openapi::prepare_export(&state, &scope, flavor, query.oas_version.as_deref(), &body).await?;
    let (file_name, content_type) = (prepared.file_name().to_owned(), prepared.content_type());
    Ok(download::attachment(&file_name, content_type, move |writer| prepared.write(writer)))
}

#[utoipa::path(post, path = "/openapi/async-export", tag = "openapi", params(ExportQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 202, description = "Accepted", body = Resource), BadRequest, InConflict))]
async fn async_export(
    State(state): State<AppState>,
    scope: Scope,
    flavor: Flavor,
    AppQuery(query): AppQuery<ExportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let prepared = openapi::prepare_export(&state, &scope, flavor, query.oas_version.as_deref(), &body).await?;
    let task = start_task(&state, &scope, TaskType::Export).await?;
    let store = state.store.clone();
    let (instance_id, task_id) = (scope.instance_id.clone(), task.id.clone());
    tokio::spawn(async move {
        let written = match tokio::task::spawn_blocking(move || prepared.write_task_result()).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(e)) => Err(ApiError::internal(&e)),
            Err(e) => Err(ApiError::internal(&e)),
        };
        finish_task(store.as_ref(), &instance_id, &task_id, written).await;
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "task_id": task.id }))).into_response())
}

async fn start_task(state: &AppState, scope: &Scope, task_type: TaskType) -> ApiResult<AsyncTask> {
    let now = now();
    let task = AsyncTask {
        id: new_id(),
        task_type,
        status: TaskStatus::Processing,
        result: None,
        created_at: now,
        updated_at: now,
    };
    state.store.create_task(&scope.instance_id, &task).await?;
    Ok(task)
}

/// Records how a task ended: its result, or the error it failed with.
async fn finish_task(store: &dyn portico_store::Store, instance_id: &str, task_id: &str, ended: ApiResult<Value>) {
    let (status, result) = match ended {
        Ok(result) => (TaskStatus::Succeed, result),
        Err(e) => (TaskStatus::Failed, e.to_json()),
    };
    let text = result.to_string();
    if let Err(error) = store.update_task(instance_id, task_id, status, Some(&text), now()).await {
        tracing::error!(%error, task_id, "could not record the end of an async task");
    }
}

#[utoipa::path(get, path = "/async-tasks/{task_id}", tag = "openapi", responses((status = 200, description = "Found", body = Resource)))]
async fn show_task(
    State(state): State<AppState>,
    scope: Scope,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let id = params.get("task_id").map(String::as_str).unwrap_or_default();
    let task = state.store.task(&scope.instance_id, id).await?;
    Ok(Json(json!({
        "task_id": task.id,
        "task_status": task.status.as_str(),
        "task_type": task.task_type.as_str(),
        "task_result": task.result,
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

/// The import form as it arrives; [`ImportFormReader`] says what its fields mean.
type ImportForm = portico_openapi::ImportForm<Bytes>;

/// A request that is not `multipart/form-data` (or has no boundary) is answered like a malformed
/// form, not with axum's plain-text rejection.
async fn read_form(multipart: Result<Multipart, MultipartRejection>) -> ApiResult<ImportForm> {
    let mut multipart = multipart.map_err(|e| ApiError::invalid_because("body", &e.body_text()))?;
    let mut form = ImportFormReader::default();
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::invalid_because("body", &e.body_text());
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        form.field(&name, field.bytes().await.map_err(malformed)?)?;
    }
    Ok(form.finish()?)
}

#[utoipa::path(post, path = "/openapi/import", tag = "openapi", params(ImportQuery), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn import(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(query): AppQuery<ImportQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Value>> {
    let form = read_form(multipart).await?;
    Ok(Json(openapi::run_import(&state, &scope.instance_id, form, query.dry_run).await?))
}

#[utoipa::path(post, path = "/openapi/async-import", tag = "openapi", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 202, description = "Accepted", body = Resource), BadRequest, InConflict))]
async fn async_import(
    State(state): State<AppState>,
    scope: Scope,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let form = read_form(multipart).await?;
    let task = start_task(&state, &scope, TaskType::Import).await?;
    let (instance_id, task_id) = (scope.instance_id.clone(), task.id.clone());
    tokio::spawn(async move {
        let imported = openapi::run_import(&state, &instance_id, form, false).await;
        finish_task(state.store.as_ref(), &instance_id, &task_id, imported).await;
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "task_id": task.id }))).into_response())
}
