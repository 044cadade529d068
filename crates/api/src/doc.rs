//! Portico's own OpenAPI document (`GET /openapi.json`), generated from the routes.
//!
//! Every handler carries a `#[utoipa::path]` and is mounted with `utoipa_axum::routes!`, so the
//! router and the document come from one source: a route cannot be served without being
//! described. The handlers describe what they answer themselves (success, `400`, `409`); what the
//! route *layers* add is added here, once, by walking the assembled paths, because that is where
//! those layers are applied: authentication (`401`, `403`) and its body limit (`413`) on `/v2` and
//! `/v1`, the instance or workspace scope and the objects a path names (`404`), any store failure
//! (`500`), the `workspace` header of DataService, and the path parameters of the prefixes the
//! routers are nested under (`{project_id}`, `{instance_id}`).
//!
//! The bodies are the APIG wire forms, which the handlers build as JSON views: the document
//! pins the envelope (the error body, a page's `size` and `total`) and leaves each resource an
//! open object.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

/// The error body of every management route: `{"error_code":"APIG.xxxx","error_msg":"…"}`
/// (DataService: `DLM.xxxx`). `ApiError` renders exactly this type.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `APIG.xxxx` or `DLM.xxxx`, listed in `docs/errors.md`.
    pub error_code: &'static str,
    /// Human-readable message.
    pub error_msg: String,
}

fn schema(json: Value) -> RefOr<Schema> {
    serde_json::from_value(json).expect("the schemas below are valid OpenAPI schemas")
}

/// Declares a schema written as JSON, for bodies the handlers build as JSON views.
macro_rules! json_schema {
    ($(#[$doc:meta])* $name:ident = $json:tt) => {
        $(#[$doc])*
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                schema(json!($json))
            }
        }
        impl ToSchema for $name {}
    };
}

json_schema!(
    /// One resource in its APIG wire form.
    Resource = { "type": "object", "description": "The resource in its APIG wire form" }
);
json_schema!(
    /// A JSON request body; the handler validates it and answers `400` with the field at fault.
    JsonBody = { "type": "object", "description": "The operation's JSON body (see the SDK's request type)" }
);
json_schema!(
    /// One page of a list: `size` items of `total`, under a key named for them (`apis`, …).
    PageOf = {
        "type": "object",
        "required": ["size", "total"],
        "properties": {
            "size": { "type": "integer", "minimum": 0, "description": "Items on this page" },
            "total": { "type": "integer", "minimum": 0, "description": "Items in the whole list" }
        }
    }
);
json_schema!(
    /// A downloaded file.
    FileBody = { "type": "string", "format": "binary" }
);
json_schema!(
    /// A `multipart/form-data` upload: the file, and the operation's other form fields.
    UploadForm = {
        "type": "object",
        "required": ["file"],
        "properties": { "file": { "type": "string", "format": "binary" } }
    }
);
json_schema!(
    /// IAM's error body, `{"error": {"code", "message", "title"}}`, of the token endpoint.
    IamError = {
        "type": "object",
        "required": ["error"],
        "properties": { "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": { "type": "integer" },
                "message": { "type": "string" },
                "title": { "type": ["string", "null"] }
            }
        } }
    }
);
json_schema!(
    /// A plain-text answer.
    PlainText = { "type": "string" }
);

fn error_response(description: &str) -> RefOr<Response> {
    serde_json::from_value(json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    }))
    .expect("an error response is a valid OpenAPI response")
}

/// `400`: a parameter or the body is missing, malformed or invalid.
pub struct BadRequest;

impl IntoResponses for BadRequest {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("400".into(), error_response("A parameter or the body is missing or invalid"))])
    }
}

/// `409`: the change clashes with what exists (a taken name, a bound or used object).
pub struct InConflict;

impl IntoResponses for InConflict {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("409".into(), error_response("The change conflicts with existing objects"))])
    }
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// The document of `routes`: the operations they describe, completed with what their layers add.
pub fn complete(mut api: OpenApi) -> Value {
    api.info.title = "Portico management API".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "Huawei Cloud APIG v2, ROMA Connect and DataArts DataService management operations as Portico serves them"
            .into(),
    );
    api.info.license = None;
    api.info.contact = None;
    let components = api.components.get_or_insert_default();
    components.schemas.insert("ErrorBody".into(), ErrorBody::schema());
    let mut doc = serde_json::to_value(&api).expect("an OpenAPI document serialises");
    doc["components"]["securitySchemes"] = json!({
        "token": { "type": "apiKey", "in": "header", "name": "X-Auth-Token",
                   "description": "An IAM token from POST /v3/auth/tokens (its X-Subject-Token header)" },
        "signature": { "type": "apiKey", "in": "header", "name": "Authorization",
                       "description": "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=…, Signature=… over the request, with X-Sdk-Date" }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                if let Some(operation) = item.get_mut(method) {
                    complete_operation(path, method, operation);
                }
            }
        }
    }
    doc
}

fn complete_operation(path: &str, method: &str, operation: &mut Value) {
    let operation = operation.as_object_mut().expect("an operation is an object");
    let product = if path.contains("/apic/") { "roma_" } else { "" };
    let id = operation.get("operationId").and_then(Value::as_str).unwrap_or(method).to_owned();
    let tag = operation.get("tags").and_then(|t| t[0].as_str()).unwrap_or("portico").to_owned();
    operation.insert("operationId".into(), format!("{product}{tag}_{id}").into());

    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    let parameters = parameters.as_array_mut().expect("parameters are a list");
    for name in path_parameters(path) {
        if !parameters.iter().any(|p| p["in"] == "path" && p["name"] == name) {
            parameters.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
        }
    }
    if path.starts_with("/v1/") {
        parameters.push(json!({ "name": "workspace", "in": "header", "required": true,
            "description": "The DataArts Studio workspace id",
            "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" } }));
    }
    if parameters.is_empty() {
        operation.remove("parameters");
    }

    if !(path.starts_with("/v2/") || path.starts_with("/v1/")) {
        return;
    }
    operation.insert("security".into(), json!([{ "token": [] }, { "signature": [] }]));
    let has_body = operation.contains_key("requestBody");
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let responses = responses.as_object_mut().expect("responses are a map");
    let mut add = |status: &str, description: &str| {
        responses.entry(status).or_insert_with(|| error_json(description));
    };
    add("401", "Missing, forged or expired credentials");
    add("403", "The caller is not a member of the project, or read-only");
    add("404", "The project's instance, workspace or a named object does not exist");
    add("500", "System error (the cause is logged)");
    if has_body {
        add("413", "The body exceeds the limit");
    }
    if path.starts_with("/v1/") {
        add("400", "The workspace header is missing or not a workspace id, or a parameter is invalid");
    }
}

fn error_json(description: &str) -> Value {
    serde_json::to_value(error_response(description)).expect("a response serialises")
}

/// `{name}` segments of a path template, in order.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}
