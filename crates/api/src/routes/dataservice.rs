//! DataArts Studio DataService (`/v1/{project_id}/service/…`, `huaweicloudsdkdataartsstudio`):
//! the API catalog of a workspace (catalogs, APIs of five kinds, publishing to a Portico
//! gateway instance, authorization status), and its Excel export (zip of workbooks of at most
//! 200 APIs, workbook by ids, template) and import (→ job).
//!
//! Every request names its workspace in the `workspace` header ([`Ws`]); every store call takes
//! it. Errors are [`DsError`]s (`DLM.xxxx`).

use crate::doc::{BadRequest, FileBody, InConflict, JsonBody, Resource, UploadForm};
use crate::views::dataservice::{catalog_view, details, overview, publish_message};
use std::collections::HashMap;
use std::io::Write;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, RawPathParams, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use portico_model::{
    AuthorizationStatus, DlmType, DsApi, DsApiDefinition, DsApiType, DsCatalog, FieldError, Page, PublishStatus,
    RELEASE_ENV_ID, ROOT_CATALOG_ID, new_id, now, parse_body,
};
use portico_store::{DsApiFilter, DsJob, Workspace};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{DsError, DsResult};
use crate::{AppState, Caller, download, workbook};

/// APIs per workbook of the export zip (seed 003).
pub const APIS_PER_WORKBOOK: u32 = 200;
/// Largest workbook the import takes (the SDK documents "< 4 MB").
const MAX_IMPORT: usize = 4 * 1024 * 1024;
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_apis, create_api))
        .routes(routes!(delete_apis))
        .routes(routes!(show_api, update_api))
        .routes(routes!(publish_info))
        .routes(routes!(publish))
        .routes(routes!(action))
        .routes(routes!(authorize))
        .routes(routes!(create_catalog))
        .routes(routes!(delete_catalogs))
        .routes(routes!(show_catalog, update_catalog))
        .routes(routes!(child_catalogs))
        .routes(routes!(catalog_apis))
        .routes(routes!(export_zip))
        .routes(routes!(export_excel))
        .routes(routes!(export_template))
        .routes(routes!(import_excel).layer(DefaultBodyLimit::max(crate::auth::MAX_BODY)))
        .routes(routes!(show_job))
}

/// The workspace a request acts in and who calls. The edition (`Dlm-Type`) is checked, and
/// otherwise ignored: both editions share one catalog here.
pub struct Ws {
    workspace: Workspace,
    user: String,
}

impl FromRequestParts<AppState> for Ws {
    type Rejection = DsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, DsError> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| DsError::workspace())?;
        let project_id = params.iter().find(|(k, _)| *k == "project_id").map(|(_, v)| v.to_owned()).unwrap_or_default();
        let workspace = parts
            .headers
            .get("workspace")
            .and_then(|v| v.to_str().ok())
            .filter(|w| {
                (1..=64).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            })
            .ok_or_else(DsError::workspace)?
            .to_owned();
        let dlm_type = parts.headers.get("dlm-type").map(|v| v.to_str().unwrap_or("?"));
        DlmType::parse(dlm_type)?;
        let user = parts.extensions.get::<Caller>().map(|c| c.user_name.clone()).unwrap_or_default();
        Ok(Ws { workspace: Workspace { project_id, workspace }, user })
    }
}

fn epoch_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Filter times as the SDK documents them (`2024-02-29T16:00:00.000Z`), or epoch milliseconds.
fn parse_time(field: &str, value: Option<&str>) -> DsResult<Option<i64>> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(None) };
    if let Ok(ms) = value.parse::<i64>() {
        return Ok(Some(ms));
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| Some(epoch_ms(t)))
        .map_err(|_| FieldError::Invalid(field.into()).into())
}

fn parse_enum<T>(field: &str, value: Option<&str>, parse: fn(&str) -> Option<T>) -> DsResult<Option<T>> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| FieldError::Invalid(field.into()).into()),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

// ------------------------------------------------------------------------------------- APIs

#[utoipa::path(post, path = "/apis", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn create_api(State(state): State<AppState>, ws: Ws, body: Bytes) -> DsResult<Json<Value>> {
    let definition = DsApiDefinition::from_json(&body)?;
    let now = epoch_ms(now());
    let api = DsApi {
        id: new_id(),
        authorization_status: definition.initial_authorization(),
        definition,
        create_user: ws.user.clone(),
        create_time: now,
        update_time: now,
        publish_status: PublishStatus::NotPublished,
        publications: Vec::new(),
    };
    state.store.ds_create_api(&ws.workspace, &api).await?;
    Ok(Json(json!({ "id": api.id })))
}

#[derive(Deserialize)]
struct ApiPath {
    api_id: String,
}

#[utoipa::path(put, path = "/apis/{api_id}", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn update_api(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<ApiPath>,
    body: Bytes,
) -> DsResult<StatusCode> {
    let existing = state.store.ds_api(&ws.workspace, &p.api_id).await?;
    let definition = DsApiDefinition::from_json_in(&body, &existing.definition.catalog_id)?;
    let authorization_status = match (existing.authorization_status, definition.initial_authorization()) {
        (AuthorizationStatus::Authorized, AuthorizationStatus::Unauthorized) => AuthorizationStatus::Authorized,
        (_, fresh) => fresh,
    };
    let api = DsApi { definition, update_time: epoch_ms(now()), authorization_status, ..existing };
    state.store.ds_update_api(&ws.workspace, &api).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/apis/{api_id}", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn show_api(State(state): State<AppState>, ws: Ws, Path(p): Path<ApiPath>) -> DsResult<Json<Value>> {
    Ok(Json(details(&state.store.ds_api(&ws.workspace, &p.api_id).await?)))
}

/// Query of ListApis; `tags` may repeat, so the query is read pair by pair.
fn list_filter(query: Option<&str>) -> DsResult<(DsApiFilter, Page)> {
    let mut single: HashMap<String, String> = HashMap::new();
    let mut tags = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "tags" => tags.extend(value.split(',').filter(|t| !t.is_empty()).map(str::to_owned)),
            _ => {
                single.insert(key.into_owned(), value.into_owned());
            }
        }
    }
    let get = |k: &str| single.get(k).map(String::as_str);
    let number = |k: &str| -> DsResult<Option<i64>> {
        get(k).map(|v| v.parse::<i64>().map_err(|_| DsError::from(FieldError::Invalid(k.into())))).transpose()
    };
    let page = Page::new(number("offset")?, number("limit")?)?;
    let filter = DsApiFilter {
        name: non_empty(get("name").map(str::to_owned)),
        description: non_empty(get("description").map(str::to_owned)),
        create_user: non_empty(get("create_user").map(str::to_owned)),
        table_name: non_empty(get("table_name").map(str::to_owned)),
        tags,
        api_type: parse_enum("api_type", get("api_type"), DsApiType::parse)?,
        publish_status: parse_enum("publish_status", get("publish_status"), PublishStatus::parse)?,
        authorization_status: None,
        start_time: parse_time("start_time", get("start_time"))?,
        end_time: parse_time("end_time", get("end_time"))?,
        catalog_id: None,
    };
    Ok((filter, page))
}

#[utoipa::path(get, path = "/apis", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn list_apis(State(state): State<AppState>, ws: Ws, uri: axum::http::Uri) -> DsResult<Json<Value>> {
    let (filter, page) = list_filter(uri.query())?;
    let apis = state.store.ds_list_apis(&ws.workspace, &filter, page).await?;
    Ok(Json(json!({ "total": apis.total, "records": apis.items.iter().map(overview).collect::<Vec<_>>() })))
}

/// A JSON array of ids (batch delete, export by ids).
fn id_list(body: &[u8], field: &str) -> DsResult<Vec<String>> {
    let ids: Vec<String> =
        serde_json::from_slice(body).map_err(|_| DsError::from(FieldError::Invalid(field.into())))?;
    if ids.is_empty() {
        return Err(FieldError::Missing(field.into()).into());
    }
    Ok(ids)
}

#[utoipa::path(post, path = "/apis/batch-delete", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn delete_apis(State(state): State<AppState>, ws: Ws, body: Bytes) -> DsResult<StatusCode> {
    let ids = id_list(&body, "ids")?;
    state.store.ds_delete_apis(&ws.workspace, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/apis/{api_id}/publish-info", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn publish_info(State(state): State<AppState>, ws: Ws, Path(p): Path<ApiPath>) -> DsResult<Json<Value>> {
    let api = state.store.ds_api(&ws.workspace, &p.api_id).await?;
    let messages: Vec<Value> = api.publications.iter().map(|p| publish_message(&api, p)).collect();
    Ok(Json(json!({ "total": messages.len(), "publish_messages": messages })))
}

#[derive(Deserialize)]
struct InstancePath {
    api_id: String,
    instance_id: String,
}

/// `GatewayDTO`.
#[derive(Deserialize)]
struct GatewayTarget {
    apig_type: Option<String>,
    apig_instance_id: Option<String>,
    group_id_in_apig: Option<String>,
}

/// Checks that the gateway instance of the path is in the caller's project.
async fn gateway_instance(state: &AppState, ws: &Ws, instance_id: &str) -> DsResult<()> {
    state.store.instance(&ws.workspace.project_id, instance_id).await?;
    Ok(())
}

#[utoipa::path(post, path = "/apis/{api_id}/instances/{instance_id}/publish", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn publish(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<InstancePath>,
    body: Bytes,
) -> DsResult<StatusCode> {
    let target: GatewayTarget = parse_body(&body, &["group_id_in_apig"])?;
    if target.apig_instance_id.as_ref().is_some_and(|id| !id.is_empty() && *id != p.instance_id) {
        return Err(DsError::invalid_because("apig_instance_id", "It must be the instance of the path."));
    }
    if target.apig_type.as_deref().is_some_and(|t| !["APIG", "APIGW", "ROMA_APIC"].contains(&t)) {
        return Err(FieldError::Invalid("apig_type".into()).into());
    }
    gateway_instance(&state, &ws, &p.instance_id).await?;
    let api = state.store.ds_api(&ws.workspace, &p.api_id).await?;
    let group_id = target.group_id_in_apig.unwrap_or_default();
    let gateway = api.definition.gateway_definition(&group_id)?;
    state.store.ds_publish(&ws.workspace, &p.api_id, &p.instance_id, gateway, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `ApiActionDTO`.
#[derive(Deserialize)]
struct ActionBody {
    action: String,
}

#[utoipa::path(post, path = "/apis/{api_id}/instances/{instance_id}/action", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn action(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<InstancePath>,
    body: Bytes,
) -> DsResult<StatusCode> {
    let body: ActionBody = parse_body(&body, &["action"])?;
    if body.action != "UNPUBLISH" {
        return Err(DsError::invalid_because("action", "Portico supports UNPUBLISH."));
    }
    gateway_instance(&state, &ws, &p.instance_id).await?;
    state.store.ds_unpublish(&ws.workspace, &p.api_id, &p.instance_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `ApiParaForAuthorizeToInstance`.
#[derive(Deserialize)]
struct AuthorizeBody {
    app_ids: Vec<String>,
}

#[utoipa::path(post, path = "/apis/{api_id}/instances/{instance_id}/authorize", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn authorize(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<InstancePath>,
    body: Bytes,
) -> DsResult<StatusCode> {
    let body: AuthorizeBody = parse_body(&body, &["app_ids"])?;
    if body.app_ids.is_empty() {
        return Err(FieldError::Missing("app_ids".into()).into());
    }
    gateway_instance(&state, &ws, &p.instance_id).await?;
    let api = state.store.ds_api(&ws.workspace, &p.api_id).await?;
    let publication = api.publications.iter().find(|x| x.instance_id == p.instance_id).ok_or_else(|| {
        DsError::from(portico_store::StoreError::NotFound {
            kind: portico_store::Kind::DsPublication,
            id: p.api_id.clone(),
        })
    })?;
    // The apps are authorized for the gateway API in RELEASE, as the APIG route would do it; an
    // app authorized before stays so.
    let gateway_api = [publication.gateway_api_id.clone()];
    let granted =
        state.store.authorize_apps(&p.instance_id, RELEASE_ENV_ID, &body.app_ids, &gateway_api, now()).await?;
    for (_, _, outcome) in granted {
        match outcome {
            Ok(_) | Err(portico_store::StoreError::Conflict(portico_store::Conflict::AppAuthorized(..))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    state.store.ds_authorize(&ws.workspace, &p.api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --------------------------------------------------------------------------------- catalogs

/// `ApiCatalogCreateParaDTO` / `ApiCatalogUpdateParaDTO`.
#[derive(Deserialize)]
struct CatalogBody {
    pid: Option<String>,
    name: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct CatalogPath {
    catalog_id: String,
}

#[utoipa::path(post, path = "/servicecatalogs", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn create_catalog(State(state): State<AppState>, ws: Ws, body: Bytes) -> DsResult<Json<Value>> {
    let body: CatalogBody = parse_body(&body, &["name"])?;
    DsCatalog::validate(&body.name, body.description.as_deref())?;
    let now = epoch_ms(now());
    let catalog = DsCatalog {
        id: new_id(),
        pid: non_empty(body.pid).unwrap_or_else(|| ROOT_CATALOG_ID.to_owned()),
        name: body.name,
        description: body.description,
        create_user: ws.user.clone(),
        create_time: now,
        update_time: now,
        update_user: ws.user.clone(),
    };
    state.store.ds_create_catalog(&ws.workspace, &catalog).await?;
    Ok(Json(catalog_view(&catalog)))
}

/// Every catalog of the workspace by id, for paths.
async fn catalog_index(state: &AppState, ws: &Workspace) -> DsResult<HashMap<String, DsCatalog>> {
    Ok(state.store.ds_catalogs(ws).await?.into_iter().map(|c| (c.id.clone(), c)).collect())
}

/// `/a/b` for a catalog (`/` for the root).
fn catalog_path(index: &HashMap<String, DsCatalog>, id: &str) -> String {
    let mut names = Vec::new();
    let mut current = index.get(id);
    while let Some(c) = current {
        if names.len() > index.len() {
            break;
        }
        names.push(c.name.as_str());
        current = index.get(&c.pid);
    }
    names.reverse();
    format!("/{}", names.join("/"))
}

#[utoipa::path(get, path = "/servicecatalogs/{catalog_id}", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn show_catalog(State(state): State<AppState>, ws: Ws, Path(p): Path<CatalogPath>) -> DsResult<Json<Value>> {
    let index = catalog_index(&state, &ws.workspace).await?;
    let (catalogs, apis) = state.store.ds_catalog_counts(&ws.workspace, &p.catalog_id).await?;
    let mut view = match index.get(&p.catalog_id) {
        Some(c) => catalog_view(c),
        None if p.catalog_id == ROOT_CATALOG_ID => json!({ "catalog_id": ROOT_CATALOG_ID, "name": "/" }),
        None => {
            return Err(
                portico_store::StoreError::NotFound { kind: portico_store::Kind::DsCatalog, id: p.catalog_id }.into()
            );
        }
    };
    view["path"] = json!(catalog_path(&index, &p.catalog_id));
    view["catalog_total"] = json!(catalogs);
    view["api_total"] = json!(apis);
    Ok(Json(view))
}

#[utoipa::path(put, path = "/servicecatalogs/{catalog_id}", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update_catalog(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<CatalogPath>,
    body: Bytes,
) -> DsResult<Json<Value>> {
    let body: CatalogBody = parse_body(&body, &["name"])?;
    DsCatalog::validate(&body.name, body.description.as_deref())?;
    let index = catalog_index(&state, &ws.workspace).await?;
    let existing = index.get(&p.catalog_id).cloned().ok_or_else(|| {
        DsError::from(portico_store::StoreError::NotFound {
            kind: portico_store::Kind::DsCatalog,
            id: p.catalog_id.clone(),
        })
    })?;
    let catalog = DsCatalog {
        name: body.name,
        description: body.description,
        update_time: epoch_ms(now()),
        update_user: ws.user.clone(),
        ..existing
    };
    state.store.ds_update_catalog(&ws.workspace, &catalog).await?;
    Ok(Json(catalog_view(&catalog)))
}

/// `ApiCatalogDeleteParaDTO`.
#[derive(Deserialize)]
struct CatalogIds {
    ids: Vec<String>,
}

#[utoipa::path(post, path = "/servicecatalogs/batch-delete", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest, InConflict))]
async fn delete_catalogs(State(state): State<AppState>, ws: Ws, body: Bytes) -> DsResult<StatusCode> {
    let body: CatalogIds = parse_body(&body, &["ids"])?;
    if body.ids.is_empty() {
        return Err(FieldError::Missing("ids".into()).into());
    }
    state.store.ds_delete_catalogs(&ws.workspace, &body.ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn page_of(uri: &axum::http::Uri) -> DsResult<Page> {
    let (_, page) = list_filter(uri.query())?;
    Ok(page)
}

#[utoipa::path(get, path = "/servicecatalogs/{catalog_id}/catalogs", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn child_catalogs(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<CatalogPath>,
    uri: axum::http::Uri,
) -> DsResult<Json<Value>> {
    let page = page_of(&uri)?;
    let children = state.store.ds_child_catalogs(&ws.workspace, &p.catalog_id, page).await?;
    Ok(Json(
        json!({ "total": children.total, "catalogs": children.items.iter().map(catalog_view).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(get, path = "/servicecatalogs/{catalog_id}/apis", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn catalog_apis(
    State(state): State<AppState>,
    ws: Ws,
    Path(p): Path<CatalogPath>,
    uri: axum::http::Uri,
) -> DsResult<Json<Value>> {
    let page = page_of(&uri)?;
    let filter = DsApiFilter { catalog_id: Some(p.catalog_id), ..DsApiFilter::default() };
    let apis = state.store.ds_list_apis(&ws.workspace, &filter, page).await?;
    Ok(Json(json!({ "total": apis.total, "apis": apis.items.iter().map(overview).collect::<Vec<_>>() })))
}

// ------------------------------------------------------------------------- export, import

/// `ApiParam`, the export zip's filter.
#[derive(Deserialize, Default)]
struct ExportFilter {
    name: Option<String>,
    create_user: Option<String>,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    table_name: Option<String>,
    publish_status_type: Option<String>,
    api_specific_type_str: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    authorization_status_type: Option<String>,
}

impl ExportFilter {
    fn into_filter(self) -> DsResult<DsApiFilter> {
        Ok(DsApiFilter {
            api_type: parse_enum("api_specific_type_str", self.api_specific_type_str.as_deref(), DsApiType::parse)?,
            publish_status: parse_enum(
                "publish_status_type",
                self.publish_status_type.as_deref(),
                PublishStatus::parse,
            )?,
            authorization_status: parse_enum(
                "authorization_status_type",
                self.authorization_status_type.as_deref(),
                AuthorizationStatus::parse,
            )?,
            start_time: parse_time("start_time", self.start_time.as_deref())?,
            end_time: parse_time("end_time", self.end_time.as_deref())?,
            name: non_empty(self.name),
            description: non_empty(self.description),
            create_user: non_empty(self.create_user),
            table_name: non_empty(self.table_name),
            tags: self.tags.into_iter().filter(|t| !t.is_empty()).collect(),
            catalog_id: None,
        })
    }
}

fn stamp() -> String {
    let t = now();
    format!("{:04}{:02}{:02}{:02}{:02}{:02}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute(), t.second())
}

/// The export zip (seed 003): one workbook per 200 matching APIs, in creation order, each
/// read, written and sent before the next is read, so memory holds one workbook at a time.
#[utoipa::path(post, path = "/export/zip", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "A zip of workbooks", body = FileBody, content_type = "application/zip"), BadRequest, InConflict))]
async fn export_zip(State(state): State<AppState>, ws: Ws, body: Bytes) -> DsResult<Response> {
    let filter = if body.is_empty() { ExportFilter::default() } else { parse_body(&body, &[])? };
    let filter = filter.into_filter()?;
    let index = catalog_index(&state, &ws.workspace).await?;
    let first = state.store.ds_list_apis(&ws.workspace, &filter, Page { offset: 0, limit: APIS_PER_WORKBOOK }).await?;
    let (store, workspace, runtime) = (state.store.clone(), ws.workspace.clone(), tokio::runtime::Handle::current());
    let file_name = format!("dataservice_apis_{}.zip", stamp());
    Ok(download::attachment(&file_name, "application/zip", move |out| -> Result<(), String> {
        let mut zip = zip::ZipWriter::new_stream(out);
        // The workbooks are zip files already: storing them beats deflating them again.
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let files = first.total.div_ceil(u64::from(APIS_PER_WORKBOOK)).max(1);
        let mut page = first.items;
        for n in 0..files {
            if n > 0 {
                let next = Page { offset: n as u32 * APIS_PER_WORKBOOK, limit: APIS_PER_WORKBOOK };
                page =
                    runtime.block_on(store.ds_list_apis(&workspace, &filter, next)).map_err(|e| e.to_string())?.items;
            }
            let bytes = workbook::write(&page, &|id| catalog_path(&index, id)).map_err(|e| e.to_string())?;
            zip.start_file(format!("dataservice_apis_{:03}.xlsx", n + 1), options).map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        zip.finish().map_err(|e| e.to_string())?;
        Ok(())
    }))
}

fn workbook_response(file_name: &str, bytes: Vec<u8>) -> Response {
    download::attachment(file_name, XLSX, move |out| out.write_all(&bytes))
}

/// Export by ids: one workbook.
#[utoipa::path(post, path = "/export/excel", tag = "dataservice", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "The workbook", body = FileBody, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), BadRequest, InConflict))]
async fn export_excel(State(state): State<AppState>, ws: Ws, body: Bytes) -> DsResult<Response> {
    let ids = id_list(&body, "body")?;
    if ids.len() > APIS_PER_WORKBOOK as usize {
        return Err(DsError::invalid_because("body", "At most 200 APIs go in one workbook; use the export zip."));
    }
    let apis = state.store.ds_apis_by_id(&ws.workspace, &ids).await?;
    let index = catalog_index(&state, &ws.workspace).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook::write(&apis, &|id| catalog_path(&index, id)))
        .await
        .map_err(|e| DsError::internal(&e))?
        .map_err(|e| DsError::internal(&e))?;
    Ok(workbook_response(&format!("dataservice_apis_{}.xlsx", stamp()), bytes))
}

#[utoipa::path(get, path = "/export/excel-template", tag = "dataservice", responses((status = 200, description = "The empty workbook", body = FileBody, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn export_template(_ws: Ws) -> DsResult<Response> {
    let bytes = workbook::write(&[], &|_| String::new()).map_err(|e| DsError::internal(&e))?;
    Ok(workbook_response("dataservice_template.xlsx", bytes))
}

/// Reads the multipart form's `file`.
async fn upload(multipart: Result<Multipart, MultipartRejection>) -> DsResult<Bytes> {
    let mut multipart = multipart.map_err(|e| DsError::invalid_because("body", &e.body_text()))?;
    let malformed = |e: axum::extract::multipart::MultipartError| DsError::invalid_because("body", &e.body_text());
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        if field.name() == Some("file") {
            let file = field.bytes().await.map_err(malformed)?;
            if file.len() >= MAX_IMPORT {
                return Err(DsError::invalid_because("file", "The workbook must be smaller than 4 MB."));
            }
            return Ok(file);
        }
    }
    Err(FieldError::Missing("file".into()).into())
}

/// Imports a workbook into the workspace, all or nothing, and records the job: a file that is
/// not a workbook is refused at once; a workbook whose rows fail makes a `FAILED` job saying why.
#[utoipa::path(post, path = "/import/excel", tag = "dataservice", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn import_excel(
    State(state): State<AppState>,
    ws: Ws,
    multipart: Result<Multipart, MultipartRejection>,
) -> DsResult<Json<Value>> {
    let file = upload(multipart).await?;
    let parsed = tokio::task::spawn_blocking(move || workbook::read(&file)).await.map_err(|e| DsError::internal(&e))?;
    let outcome = match parsed {
        Err(workbook::ReadError::Unreadable(reason)) => return Err(DsError::workbook(&reason)),
        Err(e @ workbook::ReadError::Row { .. }) => Err(e.to_string()),
        Ok(items) => match state.store.ds_import(&ws.workspace, &items, &ws.user, epoch_ms(now())).await {
            Ok(ids) => Ok(ids),
            Err(e @ (portico_store::StoreError::Conflict(_) | portico_store::StoreError::NotFound { .. })) => {
                Err(e.to_string())
            }
            Err(e) => return Err(e.into()),
        },
    };
    let (status, result) = match outcome {
        Ok(ids) => ("SUCCESS", json!({ "imported": ids.len(), "api_ids": ids })),
        Err(reason) => ("FAILED", json!({ "imported": 0, "error": reason })),
    };
    let job = DsJob { id: new_id(), status: status.into(), result: result.to_string(), created_at: now() };
    state.store.ds_create_job(&ws.workspace, &job).await?;
    Ok(Json(json!({ "job_id": job.id })))
}

#[derive(Deserialize)]
struct JobPath {
    job_id: String,
}

#[utoipa::path(get, path = "/jobs/{job_id}", tag = "dataservice", responses((status = 200, description = "Found", body = Resource)))]
async fn show_job(State(state): State<AppState>, ws: Ws, Path(p): Path<JobPath>) -> DsResult<Json<Value>> {
    let job = state.store.ds_job(&ws.workspace, &p.job_id).await?;
    let result: Value = serde_json::from_str(&job.result).map_err(|e| DsError::internal(&e))?;
    Ok(Json(json!({
        "job_id": job.id,
        "status": job.status,
        "result": result,
        "create_time": epoch_ms(job.created_at),
    })))
}
