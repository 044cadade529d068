//! Export and import of API definitions: what an export carries (the group's APIs streamed from
//! the store, the objects they are bound to or refer to) and how an import's document becomes a
//! store import. The document form of every object is `portico_openapi`'s; this module reads the
//! store and hands typed objects across.

use std::collections::HashMap;
use std::io::Write;

use portico_model::{Api, ApiGroup, Page, Paged, RELEASE_ENV_ID, is_display_name, new_id, now, parse_body};
use portico_openapi::{
    Define, DocumentDomain, Export, ExtensionObjects, FormMode, Format, ImportContext, ImportForm, OasVersion,
    References, keys,
};
use portico_store::{
    ExtendMode, ImportAction, ImportRequest, ImportTarget, ImportedDomain, Result as StoreResult, StoreError,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::extract::{Flavor, Scope};
use crate::{ApiError, ApiResult, AppState};

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
pub(crate) struct PreparedExport {
    oas: OasVersion,
    define: Define,
    format: Format,
    extension: &'static str,
    version: String,
    file_name: String,
    group: ApiGroup,
    /// `host` / `servers`: as APIG writes it, the first domain bound to the group, else its subdomain.
    host: String,
    apis: mpsc::Receiver<StoreResult<Vec<Api>>>,
    objects: ExtensionObjects,
    names: HashMap<String, String>,
}

/// Why an export stopped half-way: the store failed reading, or the writer failed writing.
pub(crate) type ExportFailure = Box<dyn std::error::Error + Send + Sync>;

impl PreparedExport {
    /// Writes the document on the calling (blocking) thread as the APIs arrive.
    pub(crate) fn write<W: Write>(self, writer: W) -> Result<(), ExportFailure> {
        let export = Export {
            oas: self.oas,
            define: self.define,
            title: &self.group.name,
            description: self.group.remark.as_deref(),
            version: &self.version,
            host: &self.host,
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

    /// Writes the whole document into the result of an asynchronous export task.
    pub(crate) fn write_task_result(self) -> Result<Value, ExportFailure> {
        let mut document = Vec::new();
        let extension = self.extension;
        let stem = self.file_name.trim_end_matches(&format!(".{extension}")).to_owned();
        self.write(&mut document)?;
        Ok(json!({
            "FileName": stem,
            "FileType": format!(".{extension}"),
            "Comment": String::from_utf8_lossy(&document),
        }))
    }

    pub(crate) fn file_name(&self) -> &str {
        &self.file_name
    }

    pub(crate) fn content_type(&self) -> &'static str {
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

/// Checks an export request and starts reading what it writes.
pub(crate) async fn prepare_export(
    state: &AppState,
    scope: &Scope,
    flavor: Flavor,
    oas_version: Option<&str>,
    body: &[u8],
) -> ApiResult<PreparedExport> {
    let store = &state.store;
    let instance_id = scope.instance_id.as_str();
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
    let group = store.group(instance_id, &request.group_id).await?;
    let env = match &env_id {
        Some(id) => Some(store.env(instance_id, id).await?),
        None => None,
    };
    let bound_in = env_id.as_deref().filter(|_| define == Define::All);
    let exported = match (&request.apis, bound_in) {
        (None, None) => Vec::new(),
        _ => store.export_api_ids(instance_id, &group.id, env_id.as_deref()).await?,
    };
    if let Some(wanted) = &request.apis {
        let in_group = store.group_api_ids(instance_id, &group.id).await?;
        for id in wanted {
            if !in_group.contains(id) {
                return Err(ApiError::invalid_because("apis", &format!("API {id} is not in group {}.", group.id)));
            }
            if !exported.contains(id) {
                let env_name = env.as_ref().map(|e| e.name.as_str()).unwrap_or_default();
                return Err(ApiError::invalid_because("apis", &format!("API {id} is not published in {env_name}.")));
            }
        }
    }
    let (mut objects, names) = export_objects(state, instance_id, define, &group.id, bound_in, &exported).await?;
    let bound = store.group_domains(instance_id, &group.id).await?;
    let apis = store.export_apis(instance_id, &group.id, env_id.as_deref(), request.apis.as_deref()).await?;
    let version = request.version.unwrap_or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]-[hour]:[minute]:[second]");
        now().format(&format).unwrap_or_default()
    });
    let scope_name = env.as_ref().map(|e| e.name.as_str()).unwrap_or("DRAFT");
    let file_name = format!("{}-{}-{}-{}.{extension}", group.name, scope_name, define.as_str(), version);
    let host = bound.first().map_or_else(|| group.sl_domain.clone(), |b| b.domain.url_domain.clone());
    if matches!(define, Define::All | Define::Dev) {
        objects.domains = bound
            .into_iter()
            .map(|b| DocumentDomain { domain: b.domain, certificate: b.certificate.map(|(name, _)| name) })
            .collect();
    }
    Ok(PreparedExport { oas, define, format, extension, version, file_name, group, host, apis, objects, names })
}

/// Every page of a list, for the few lists an export or import reads whole (authorizers,
/// channels, gateway responses: tens of objects, not thousands).
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

/// What an export carries besides the APIs: with `bound_in` (`all` in an environment), the
/// throttles and ACLs bound there to the `exported` APIs; at `all` and `dev`, the custom
/// authorizers and the group's gateway responses; at every level, the names of the VPC channels
/// and gateway responses the APIs refer to by id.
async fn export_objects(
    state: &AppState,
    instance_id: &str,
    define: Define,
    group_id: &str,
    bound_in: Option<&str>,
    exported: &[String],
) -> ApiResult<(ExtensionObjects, HashMap<String, String>)> {
    let store = &state.store;
    let mut objects = ExtensionObjects::default();
    if let Some(env_id) = bound_in {
        (objects.policies, objects.bound) = store.bound_policies(instance_id, env_id, exported).await?;
    }
    let responses = all_pages(|page| store.list_gateway_responses(instance_id, group_id, page)).await?;
    let any_channel = Default::default();
    let channels = all_pages(|page| store.list_vpc_channels(instance_id, &any_channel, page)).await?;
    let mut names: HashMap<String, String> = channels.into_iter().map(|c| (c.id, c.name)).collect();
    names.extend(responses.iter().map(|r| (r.id.clone(), r.name.clone())));
    if matches!(define, Define::All | Define::Dev) {
        let any_authorizer = Default::default();
        let authorizers = all_pages(|page| store.list_authorizers(instance_id, &any_authorizer, page)).await?;
        authorizers.iter().for_each(|a| objects.add_authorizer(a));
        objects.policies.gateway_responses = responses;
    }
    Ok((objects, names))
}

/// Runs an import and renders its result: `{group_id, success, failure, ignore}`.
pub(crate) async fn run_import(
    state: &AppState,
    instance_id: &str,
    form: ImportForm<bytes::Bytes>,
    dry_run: bool,
) -> ApiResult<Value> {
    let new_group_id = new_id();
    let group_id = form.group_id.clone().filter(|_| !form.create_group).unwrap_or_else(|| new_group_id.clone());
    let references = references(state, instance_id, (!form.create_group).then_some(group_id.as_str())).await?;
    let known_responses = references.responses.clone();
    let context = ImportContext { group_id: group_id.clone(), mock_mode: form.mock_mode, references };
    let file = form.file.clone();
    let mut document = tokio::task::spawn_blocking(move || portico_openapi::parse(&file, &context))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::invalid_because("file_name", &e.to_string()))?;
    let policies = portico_openapi::document_policies(&mut document.extensions, &known_responses)?;
    let domains = portico_openapi::document_domains(&mut document.extensions)?
        .into_iter()
        .map(|d| ImportedDomain {
            field: portico_openapi::domain_field(&d.domain.url_domain),
            domain: d.domain,
            certificate: d.certificate,
        })
        .collect();
    // The APIs name the group's responses; those the group does not have yet are created by
    // this import, under the ids given here.
    let created_responses: HashMap<&str, &str> = policies
        .gateway_responses
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
        domains,
        extend_mode: match form.extend_mode {
            FormMode::Merge => ExtendMode::Merge,
            FormMode::Override => ExtendMode::Override,
        },
        overwrite: form.api_mode == FormMode::Override,
        dry_run,
        now: now(),
    };
    let outcome = state.store.import_apis(instance_id, request).await.map_err(|e| match e {
        // The references that fail a whole import: a domain's, whose field is already where the
        // document defines it, and a throttling policy's special, named within its policy.
        StoreError::BadReference { field, message } if !field.starts_with(keys::PORTICO_DOMAINS) => {
            StoreError::BadReference { field: portico_openapi::ratelimit_field(&field), message }
        }
        other => other,
    })?;
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
                let refused = ApiError::from(StoreError::BadReference { field, message });
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

/// One entry of an import's `failure` list.
pub(crate) fn failure_entry(path: &str, method: &str, error: ApiError) -> Value {
    json!({"path": path, "method": method, "error_code": error.code, "error_msg": error.message})
}
