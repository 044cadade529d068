//! Export and import of API definitions (`…/openapi/export`, `…/openapi/import`), their
//! asynchronous variants and the task they leave (`…/async-tasks/{task_id}`). The same handlers
//! serve APIG (`apigw`) and ROMA Connect (`apic`); [`Flavor`] carries the few differences.

use crate::doc::{BadRequest, FileBody, InConflict, JsonBody, Resource, UploadForm};
use std::collections::HashMap;
use std::io::Write;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_model::{Api, ApiGroup, FieldError, Page, Paged, RELEASE_ENV_ID, is_display_name, new_id, now, parse_body};
use portico_openapi::{
    Define, Export, ExtensionObjects, FormMode, Format, ImportContext, ImportFormReader, OasVersion, References,
};
use portico_store::{
    AsyncTask, ExtendMode, ImportAction, ImportRequest, ImportTarget, PolicyImport, Result as StoreResult, TaskStatus,
    TaskType,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::extract::{AppQuery, Flavor, Scope};
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

#[derive(Deserialize)]
struct ExportBody {
    group_id: String,
    env_id: Option<String>,
    define: Option<String>,
    #[serde(rename = "type")]
    format: Option<String>,
    version: Option<String>,
    apis: Option<Vec<String>>,
}

/// A checked export request: what remains is writing it, with the APIs as the store streams
/// them.
struct PreparedExport {
    oas: OasVersion,
    define: Define,
    format: Format,
    extension: &'static str,
    version: String,
    file_name: String,
    group: ApiGroup,
    apis: mpsc::Receiver<StoreResult<Vec<Api>>>,
    objects: ExtensionObjects,
    names: HashMap<String, String>,
}

/// Why an export stopped half-way: the store failed reading, or the writer failed writing.
type ExportFailure = Box<dyn std::error::Error + Send + Sync>;

impl PreparedExport {
    /// Writes the document on the calling (blocking) thread as the APIs arrive.
    fn write<W: Write>(self, writer: W) -> Result<(), ExportFailure> {
        let export = Export {
            oas: self.oas,
            define: self.define,
            title: &self.group.name,
            description: self.group.remark.as_deref(),
            version: &self.version,
            host: &self.group.sl_domain,
            objects: &self.objects,
            names: &self.names,
            group_extensions: &self.group.openapi_extensions,
        };
        let mut receiver = self.apis;
        let mut failure = None;
        let apis = std::iter::from_fn(|| match receiver.blocking_recv()? {
            Ok(batch) => Some(batch),
            Err(e) => {
                failure = Some(e);
                None
            }
        })
        .flatten();
        let written = portico_openapi::write(&export, apis, self.format, writer);
        // A read error ends the APIs early: the document would be complete but short of APIs,
        // so it must fail, not pass for the whole group.
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(written?),
        }
    }

    fn content_type(&self) -> &'static str {
        match self.format {
            Format::Json => "application/json",
            Format::Yaml => "application/x-yaml",
        }
    }
}

fn parse_choice<T>(value: Option<&str>, default: T, field: &str, parse: impl Fn(&str) -> Option<T>) -> ApiResult<T> {
    match value {
        None => Ok(default),
        Some(v) => parse(v).ok_or_else(|| ApiError::invalid(field)),
    }
}

async fn prepare_export(
    state: &AppState,
    scope: &Scope,
    flavor: Flavor,
    oas_version: Option<&str>,
    body: &[u8],
) -> ApiResult<PreparedExport> {
    let request: ExportBody = parse_body(body, &["group_id"])?;
    let define = parse_choice(request.define.as_deref(), Define::Spec, "define", Define::parse)?;
    let extension = match request.format.as_deref() {
        None | Some("json") => "json",
        Some("yaml") => "yaml",
        Some("yml") => "yml",
        Some(_) => return Err(ApiError::invalid("type")),
    };
    let format = Format::parse(extension).unwrap_or(Format::Json);
    let oas = parse_choice(oas_version, OasVersion::V2, "oas_version", OasVersion::parse)?;
    let env_id = match (define, request.env_id.filter(|e| !e.is_empty()), flavor) {
        (Define::Dev, _, _) => None,
        (_, Some(env_id), _) => Some(env_id),
        (_, None, Flavor::Roma) => Some(RELEASE_ENV_ID.to_owned()),
        (_, None, Flavor::Apig) => return Err(ApiError::missing("env_id")),
    };
    let group = state.store.group(&scope.instance_id, &request.group_id).await?;
    let env = match &env_id {
        Some(id) => Some(state.store.env(&scope.instance_id, id).await?),
        None => None,
    };
    let only = match request.apis {
        None => None,
        Some(wanted) => {
            let in_group = state.store.group_api_ids(&scope.instance_id, &group.id).await?;
            let exported = state.store.export_api_ids(&scope.instance_id, &group.id, env_id.as_deref()).await?;
            for id in &wanted {
                if !in_group.contains(id) {
                    return Err(ApiError::invalid_because("apis", &format!("API {id} is not in group {}.", group.id)));
                }
                if !exported.contains(id) {
                    let env_name = env.as_ref().map(|e| e.name.as_str()).unwrap_or_default();
                    return Err(ApiError::invalid_because(
                        "apis",
                        &format!("API {id} is not published in {env_name}."),
                    ));
                }
            }
            Some(wanted)
        }
    };
    let (objects, names) = extension_objects(state, &scope.instance_id, define, &group.id, env_id.as_deref()).await?;
    let apis = state.store.export_apis(&scope.instance_id, &group.id, env_id.as_deref(), only.as_deref()).await?;
    let version = request.version.unwrap_or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]-[hour]:[minute]:[second]");
        now().format(&format).unwrap_or_default()
    });
    let scope_name = env.as_ref().map(|e| e.name.as_str()).unwrap_or("DRAFT");
    let file_name = format!("{}-{}-{}-{}.{extension}", group.name, scope_name, define.as_str(), version);
    Ok(PreparedExport { oas, define, format, extension, version, file_name, group, apis, objects, names })
}

/// Every page of a list, for the few lists an export reads whole (authorizers, channels,
/// gateway responses: tens of objects, not thousands).
async fn all_pages<T, F>(mut page_of: impl FnMut(Page) -> F) -> ApiResult<Vec<T>>
where
    F: std::future::Future<Output = StoreResult<Paged<T>>>,
{
    let mut items = Vec::new();
    loop {
        let page = Page { offset: items.len() as u32, limit: 500 };
        let got = page_of(page).await?;
        let done = got.items.len() < 500;
        items.extend(got.items);
        if done {
            return Ok(items);
        }
    }
}

/// What an export carries besides the APIs: at `all`, the throttles and ACLs bound to the APIs
/// in the environment (`PolicyStore::extension_objects`); at `all` and `dev`, the custom
/// authorizers as security schemes and the group's gateway responses; at every level, the
/// names of the VPC channels and gateway responses the APIs refer to by id.
async fn extension_objects(
    state: &AppState,
    instance_id: &str,
    define: Define,
    group_id: &str,
    env_id: Option<&str>,
) -> ApiResult<(ExtensionObjects, HashMap<String, String>)> {
    let store = &state.store;
    let mut objects = ExtensionObjects::default();
    if let (Define::All, Some(env_id)) = (define, env_id) {
        let ids = store.export_api_ids(instance_id, group_id, Some(env_id)).await?;
        let bound = store.extension_objects(instance_id, env_id, &ids).await?;
        objects.root = bound.root;
        objects.per_api = bound.per_api;
    }
    let responses = all_pages(|page| store.list_gateway_responses(instance_id, group_id, page)).await?;
    let any_channel = Default::default();
    let channels = all_pages(|page| store.list_vpc_channels(instance_id, &any_channel, page)).await?;
    let mut names: HashMap<String, String> = channels.into_iter().map(|c| (c.id, c.name)).collect();
    names.extend(responses.iter().map(|r| (r.id.clone(), r.name.clone())));
    if matches!(define, Define::All | Define::Dev) {
        let any_authorizer = Default::default();
        let authorizers = all_pages(|page| store.list_authorizers(instance_id, &any_authorizer, page)).await?;
        objects.authorizers =
            authorizers.into_iter().map(|a| (a.id.clone(), (a.name.clone(), authorizer_object(&a)))).collect();
        if !responses.is_empty() {
            let map = responses.iter().map(|r| (r.name.clone(), gateway_response_object(r))).collect();
            objects.root.insert(portico_openapi::keys::RESPONSES.to_owned(), map);
        }
    }
    Ok((objects, names))
}

/// `x-apigateway-authorizer` (extensions.md §2.12: snake_case keys).
fn authorizer_object(a: &portico_model::Authorizer) -> portico_openapi::Object {
    let mut o = json!({
        "type": a.kind, "authorizer_type": a.authorizer_type, "authorizer_uri": a.authorizer_uri,
        "network_type": a.network_type, "need_body": a.need_body, "ttl": a.ttl,
        "identities": a.identities,
    });
    for (key, value) in [
        ("authorizer_version", &a.authorizer_version),
        ("authorizer_alias_uri", &a.authorizer_alias_uri),
        ("user_data", &a.user_data),
    ] {
        if let Some(v) = value {
            o[key] = Value::from(v.as_str());
        }
    }
    match o {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// One entry of `x-apigateway-responses`: error type → `{status, body: {media type: template}}`.
fn gateway_response_object(r: &portico_model::GatewayResponse) -> Value {
    let types: serde_json::Map<String, Value> = r
        .responses
        .iter()
        .map(|(kind, info)| {
            let mut object = json!({"status": info.status, "body": {"application/json": info.body}});
            if !info.headers.is_empty() {
                object["headers"] = json!(info.headers);
            }
            (kind.clone(), object)
        })
        .collect();
    Value::Object(types)
}

#[utoipa::path(post, path = "/openapi/export", tag = "openapi", params(ExportQuery), request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "The document", content((Resource = "application/json"), (FileBody = "application/x-yaml"))), BadRequest, InConflict))]
async fn export(
    State(state): State<AppState>,
    scope: Scope,
    flavor: Flavor,
    AppQuery(query): AppQuery<ExportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let prepared = prepare_export(&state, &scope, flavor, query.oas_version.as_deref(), &body).await?;
    let (file_name, content_type) = (prepared.file_name.clone(), prepared.content_type());
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
    let prepared = prepare_export(&state, &scope, flavor, query.oas_version.as_deref(), &body).await?;
    let task = start_task(&state, &scope, TaskType::Export).await?;
    let store = state.store.clone();
    let (instance_id, task_id) = (scope.instance_id.clone(), task.id.clone());
    tokio::spawn(async move {
        let written = tokio::task::spawn_blocking(move || {
            let mut document = Vec::new();
            let extension = prepared.extension;
            let stem = prepared.file_name.trim_end_matches(&format!(".{extension}")).to_owned();
            prepared.write(&mut document).map(|()| {
                json!({
                    "FileName": stem,
                    "FileType": format!(".{extension}"),
                    "Comment": String::from_utf8_lossy(&document),
                })
            })
        })
        .await;
        let (status, result) = match written {
            Ok(Ok(result)) => (TaskStatus::Succeed, result),
            Ok(Err(e)) => (TaskStatus::Failed, json!({"error_code": "APIG.9999", "error_msg": e.to_string()})),
            Err(e) => (TaskStatus::Failed, json!({"error_code": "APIG.9999", "error_msg": e.to_string()})),
        };
        finish_task(store.as_ref(), &instance_id, &task_id, status, &result).await;
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

async fn finish_task(
    store: &dyn portico_store::Store,
    instance_id: &str,
    task_id: &str,
    status: TaskStatus,
    result: &Value,
) {
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

/// Runs an import and renders its result: `{group_id, success, failure, ignore}`.
async fn run_import(state: &AppState, instance_id: &str, form: ImportForm, dry_run: bool) -> ApiResult<Value> {
    let new_group_id = new_id();
    let group_id = form.group_id.clone().filter(|_| !form.create_group).unwrap_or_else(|| new_group_id.clone());
    let references = references(state, instance_id, (!form.create_group).then_some(group_id.as_str())).await?;
    let known_responses = references.responses.clone();
    let context = ImportContext { group_id: group_id.clone(), mock_mode: form.mock_mode, references };
    let file = form.file.clone();
    let document = tokio::task::spawn_blocking(move || portico_openapi::parse(&file, &context))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::invalid_because("file_name", &e.to_string()))?;
    let mut document = document;
    let mut policies = policy_import(&mut document.extensions)?;
    policies.responses = response_import(&mut document.extensions, &known_responses)?;
    // The APIs name the group's responses; those the group does not have yet are created by
    // this import, under the ids given here.
    let created_responses: HashMap<&str, &str> = policies
        .responses
        .iter()
        .filter(|r| !known_responses.contains_key(&r.name))
        .map(|r| (r.name.as_str(), r.id.as_str()))
        .collect();
    let target = if form.create_group {
        let title = document.title.clone().unwrap_or_default();
        if !is_display_name(&title) {
            return Err(ApiError::invalid_because("info.title", "A new group is named after the document's title."));
        }
        let mut group = ApiGroup::new(title, document.description.clone(), &state.config.group_domain_suffix, now());
        group.id = new_group_id;
        group.sl_domain = format!("{}.{}", group.id, state.config.group_domain_suffix);
        group.openapi_extensions = document.extensions.clone();
        ImportTarget::NewGroup(group)
    } else {
        ImportTarget::Existing { group_id, extensions: document.extensions.clone() }
    };
    let mut failure = Vec::new();
    let mut accepted = Vec::new();
    let mut definitions = Vec::new();
    for api in document.apis {
        match api.definition {
            Ok(mut definition) => {
                if let Some(id) = definition.response_id.as_deref().and_then(|name| created_responses.get(name)) {
                    definition.response_id = Some(id.to_string());
                }
                if let Some(app_id) = &form.app_id {
                    definition.roma_app_id = Some(app_id.clone());
                }
                accepted.push((api.path, api.method));
                definitions.push(definition);
            }
            Err(error) => failure.push(failure_entry(&api.path, &api.method, ApiError::from(error))),
        }
    }
    let request = ImportRequest {
        target,
        apis: definitions,
        policies,
        extend_mode: match form.extend_mode {
            FormMode::Merge => ExtendMode::Merge,
            FormMode::Override => ExtendMode::Override,
        },
        overwrite: form.api_mode == FormMode::Override,
        dry_run,
        now: now(),
    };
    let outcome = state.store.import_apis(instance_id, request).await?;
    let (mut success, mut ignore) = (Vec::new(), Vec::new());
    for ((path, method), action) in accepted.into_iter().zip(outcome.actions) {
        match action {
            ImportAction::Created(id) => {
                success.push(json!({"path": path, "method": method, "action": "create", "id": id}))
            }
            ImportAction::Updated(id) => {
                success.push(json!({"path": path, "method": method, "action": "update", "id": id}))
            }
            ImportAction::Ignored(id) => ignore.push(json!({"path": path, "method": method, "id": id})),
            ImportAction::Failed(conflict) => failure.push(failure_entry(&path, &method, ApiError::from(conflict))),
            ImportAction::BadReference { field, message } => {
                let refused = ApiError::from(portico_store::StoreError::BadReference { field, message });
                failure.push(failure_entry(&path, &method, refused));
            }
        }
    }
    let mut result = json!({ "group_id": outcome.group_id, "success": success, "failure": failure, "ignore": ignore });
    if dry_run {
        result["dry_run"] = Value::Bool(true);
    }
    Ok(result)
}

/// The throttling policies and ACLs a document defines at its root, in management-API form,
/// checked by the same rules as a create; the two maps are taken out of `extensions` (they
/// become objects, not group extension fields). A bad policy fails the whole import, naming it.
fn policy_import(extensions: &mut portico_openapi::Object) -> ApiResult<PolicyImport> {
    use portico_model::{AclInput, ThrottleInput, ThrottleSpecial, special_from_json};
    let now = now();
    let mut import = PolicyImport::default();
    let bad = |map: &str, name: &str, e: FieldError| {
        let field = match &e {
            FieldError::Missing(f) | FieldError::Invalid(f) => f.clone(),
            FieldError::MalformedJson(_) => "body".into(),
        };
        ApiError::invalid_because(&format!("{map}.{name}"), &format!("The policy is invalid: {field}."))
    };
    if let Some(Value::Object(throttles)) = extensions.remove(portico_openapi::keys::RATELIMITS) {
        for (name, policy) in throttles {
            let field = |key: &str| policy.get(key).cloned().unwrap_or(Value::Null);
            let shared = policy.get("shared").and_then(Value::as_bool).unwrap_or(false);
            let body = json!({
                "name": name, "api_call_limits": field("api-limit"), "user_call_limits": field("user-limit"),
                "app_call_limits": field("app-limit"), "ip_call_limits": field("ip-limit"),
                "time_interval": field("interval"), "time_unit": field("unit"), "type": if shared { 2 } else { 1 },
            });
            let body = Value::Object(
                body.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            );
            let throttle = ThrottleInput::from_json(body.to_string().as_bytes())
                .map_err(|e| bad(portico_openapi::keys::RATELIMITS, &name, e))?
                .into_throttle(String::new(), now);
            let mut specials = Vec::new();
            for special in policy.get("special").and_then(Value::as_array).into_iter().flatten() {
                let body = json!({"object_type": special.get("type"), "object_id": special.get("instance"),
                    "call_limits": special.get("limit")});
                let (object_type, object_id, call_limits) = special_from_json(body.to_string().as_bytes())
                    .map_err(|e| bad(portico_openapi::keys::RATELIMITS, &name, e))?;
                specials.push(ThrottleSpecial {
                    id: String::new(),
                    throttle_id: String::new(),
                    object_name: object_id.clone(),
                    object_type,
                    object_id,
                    call_limits,
                    apply_time: now,
                });
            }
            import.throttles.push((throttle, specials));
        }
    }
    if let Some(Value::Object(acls)) = extensions.remove(portico_openapi::keys::ACCESS_CONTROLS) {
        for (name, policy) in acls {
            let body = json!({"acl_name": name, "acl_type": policy.get("acl-type"),
                "entity_type": policy.get("entity-type"), "acl_value": policy.get("value")});
            let acl = AclInput::from_json(body.to_string().as_bytes())
                .map_err(|e| bad(portico_openapi::keys::ACCESS_CONTROLS, &name, e))?
                .into_acl(String::new(), now);
            import.acls.push(acl);
        }
    }
    Ok(import)
}

/// The gateway responses a document defines (`x-apigateway-responses`, taken out of
/// `extensions`: they become the group's objects), checked by the rules of a create; a name the
/// group has keeps its id, a new one gets a fresh id. A bad response fails the whole import.
fn response_import(
    extensions: &mut portico_openapi::Object,
    known: &HashMap<String, String>,
) -> ApiResult<Vec<portico_model::GatewayResponse>> {
    let Some(Value::Object(responses)) = extensions.remove(portico_openapi::keys::RESPONSES) else {
        return Ok(Vec::new());
    };
    let now = now();
    let mut imported = Vec::with_capacity(responses.len());
    for (name, types) in responses {
        let types: serde_json::Map<String, Value> = types
            .as_object()
            .into_iter()
            .flatten()
            .map(|(kind, info)| {
                // The document keys the body template by media type; APIG keeps one template.
                let body = info.get("body").and_then(Value::as_object).and_then(|b| b.values().next());
                let headers = info.get("headers").cloned().unwrap_or_else(|| json!([]));
                (kind.clone(), json!({"status": info.get("status"), "body": body, "headers": headers}))
            })
            .collect();
        let body = json!({"name": name, "responses": types});
        let (name, responses) = portico_model::responses_from_json(body.to_string().as_bytes()).map_err(|e| {
            let field = match &e {
                FieldError::Missing(f) | FieldError::Invalid(f) => f.clone(),
                FieldError::MalformedJson(_) => "body".into(),
            };
            ApiError::invalid_because(
                &format!("{}.{name}", portico_openapi::keys::RESPONSES),
                &format!("The gateway response is invalid: {field}."),
            )
        })?;
        let id = known.get(&name).cloned().unwrap_or_else(new_id);
        imported.push(portico_model::GatewayResponse {
            id,
            group_id: String::new(),
            name,
            responses,
            create_time: now,
            update_time: now,
        });
    }
    Ok(imported)
}

/// What names in a document refer to: the instance's VPC channels and custom authorizers, and
/// the gateway responses of the group imported into.
async fn references(state: &AppState, instance_id: &str, group_id: Option<&str>) -> ApiResult<References> {
    let store = &state.store;
    let (any_channel, any_authorizer) = (Default::default(), Default::default());
    let channels = all_pages(|page| store.list_vpc_channels(instance_id, &any_channel, page)).await?;
    let authorizers = all_pages(|page| store.list_authorizers(instance_id, &any_authorizer, page)).await?;
    let responses = match group_id {
        Some(group_id) => all_pages(|page| store.list_gateway_responses(instance_id, group_id, page)).await?,
        None => Vec::new(),
    };
    Ok(References {
        vpc_channels: channels.into_iter().map(|c| (c.name, c.id)).collect(),
        authorizers: authorizers.into_iter().map(|a| (a.name, a.id)).collect(),
        responses: responses.into_iter().map(|r| (r.name, r.id)).collect(),
    })
}

pub(super) fn failure_entry(path: &str, method: &str, error: ApiError) -> Value {
    json!({"path": path, "method": method, "error_code": error.code, "error_msg": error.message})
}

#[utoipa::path(post, path = "/openapi/import", tag = "openapi", params(ImportQuery), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn import(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(query): AppQuery<ImportQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Value>> {
    let form = read_form(multipart).await?;
    Ok(Json(run_import(&state, &scope.instance_id, form, query.dry_run).await?))
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
        let (status, result) = match run_import(&state, &instance_id, form, false).await {
            Ok(result) => (TaskStatus::Succeed, result),
            Err(e) => (TaskStatus::Failed, json!({"error_code": e.code, "error_msg": e.message})),
        };
        finish_task(state.store.as_ref(), &instance_id, &task_id, status, &result).await;
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "task_id": task.id }))).into_response())
}
