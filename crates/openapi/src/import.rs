//! Document → API definitions. A document is read into a `serde_json::Value` (JSON or YAML,
//! told apart by content), each operation is translated into the management API's wire form,
//! and that goes through `ApiDefinition::from_value`: an imported API passes exactly the rules a
//! created one does, and a bad operation fails alone, naming the field.

use std::collections::HashMap;

use portico_model::{ApiDefinition, FieldError};
use serde_json::{Map, Value, json};

use crate::read::{MAX_DEPTH, read_value};
use crate::{OasVersion, Object, keys};

/// What the document's names refer to in the instance it is imported into.
#[derive(Debug, Clone, Default)]
pub struct References {
    /// VPC channel ids by name.
    pub vpc_channels: HashMap<String, String>,
    /// Gateway response ids by name.
    pub responses: HashMap<String, String>,
    /// Custom authorizer ids by name.
    pub authorizers: HashMap<String, String>,
}

/// How to read a document.
#[derive(Debug, Clone, Default)]
pub struct ImportContext {
    /// The group the APIs go to (possibly one about to be created).
    pub group_id: String,
    /// Names to ids.
    pub references: References,
    /// Give every API a mock backend, whatever the document says (`mock_mode`).
    pub mock_mode: bool,
}

/// A document that cannot be imported at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    /// Neither JSON nor YAML.
    #[error("the file is neither JSON nor YAML: {0}")]
    Syntax(String),
    /// Parsed, but not a Swagger 2.0 or OpenAPI 3 document.
    #[error("the file is not a Swagger 2.0 or OpenAPI 3.x document: {0}")]
    NotOpenApi(String),
    /// Mappings and sequences nested deeper than the limit.
    #[error("the file nests mappings and sequences deeper than {MAX_DEPTH} levels, the limit")]
    TooDeep,
    /// YAML aliases that would expand the document past its budget of values, or that
    /// `yaml_serde` refuses to replay that often.
    #[error(
        "the file's YAML aliases expand it too far: past {0} values (its length in bytes plus 100,000), or its aliases replayed more than 100 times per node of the file"
    )]
    TooLarge(usize),
}

/// One operation of the document and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedApi {
    /// The path key it was found under.
    pub path: String,
    /// Its method (`ANY` for `x-apigateway-any-method`).
    pub method: String,
    /// The definition, or why the operation cannot be imported.
    pub definition: Result<ApiDefinition, FieldError>,
}

/// A whole document.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDocument {
    /// Which specification it follows.
    pub oas: OasVersion,
    /// `info.title`: the name of a group created for it.
    pub title: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// Document-level `x-` fields, kept for the group.
    pub extensions: Object,
    /// Every operation, in document order.
    pub apis: Vec<ParsedApi>,
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Reads a document (JSON or YAML, Swagger 2.0 or OpenAPI 3.x).
pub fn parse(bytes: &[u8], context: &ImportContext) -> Result<ParsedDocument, DocumentError> {
    let doc = read_value(bytes)?;
    let root = doc.as_object().ok_or_else(|| DocumentError::NotOpenApi("the top level is not an object".into()))?;
    let oas = if root.get("swagger").and_then(Value::as_str) == Some("2.0") {
        OasVersion::V2
    } else if root.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with("3.")) {
        OasVersion::V3
    } else {
        return Err(DocumentError::NotOpenApi("neither `swagger: \"2.0\"` nor `openapi: 3.x`".into()));
    };
    let paths = match root.get("paths") {
        Some(Value::Object(paths)) => paths,
        None => return Err(DocumentError::NotOpenApi("`paths` is missing".into())),
        Some(_) => return Err(DocumentError::NotOpenApi("`paths` is not an object".into())),
    };
    let info = root.get("info");
    let text = |key: &str| info.and_then(|i| i.get(key)).and_then(Value::as_str).map(str::to_owned);
    let reader = Reader { oas, root, context };
    let base_path = match oas {
        OasVersion::V2 => root.get("basePath").and_then(Value::as_str).unwrap_or("").trim_end_matches('/'),
        OasVersion::V3 => "",
    };
    let mut apis = Vec::new();
    for (key, item) in paths {
        let path = format!("{base_path}{key}");
        let Some(item) = item.as_object() else {
            apis.push(ParsedApi { path, method: "-".into(), definition: Err(FieldError::Invalid("paths".into())) });
            continue;
        };
        let shared_params = item.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        let mut operations: Vec<(String, &Value)> = Vec::new();
        for (k, op) in item {
            if METHODS.contains(&k.as_str()) {
                operations.push((k.to_ascii_uppercase(), op));
            } else if k == keys::ANY_METHOD {
                operations.push(("ANY".into(), op));
            } else if k == keys::PORTICO_OPERATIONS {
                for op in op.as_array().into_iter().flatten() {
                    let method = op.get("method").and_then(Value::as_str).unwrap_or("").to_ascii_uppercase();
                    operations.push((method, op));
                }
            }
        }
        for (method, op) in operations {
            let definition = reader.operation(&path, &method, op, shared_params);
            apis.push(ParsedApi { path: path.clone(), method, definition });
        }
    }
    let mut extensions: Object =
        root.iter().filter(|(k, _)| k.starts_with("x-")).map(|(k, v)| (k.clone(), v.clone())).collect();
    // OpenAPI 3 documents may keep document-level maps under `components` (Huawei puts
    // `x-apigateway-responses` there, extensions.md §2.11/§2.14): they count as the root's,
    // which wins when both have a key.
    if let Some(Value::Object(components)) = root.get("components").filter(|_| oas == OasVersion::V3) {
        for (k, v) in components.iter().filter(|(k, _)| k.starts_with("x-")) {
            extensions.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(ParsedDocument { oas, title: text("title"), description: text("description"), extensions, apis })
}

struct Reader<'a> {
    oas: OasVersion,
    root: &'a Map<String, Value>,
    context: &'a ImportContext,
}

fn invalid(field: impl Into<String>) -> FieldError {
    FieldError::Invalid(field.into())
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// A scalar as the management API's string fields hold it.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn integer(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
}

/// Copies `from[key]` into `to[wire]` when present.
fn copy(to: &mut Map<String, Value>, wire: &str, from: &Value, key: &str) {
    if let Some(v) = from.get(key).filter(|v| !v.is_null()) {
        to.insert(wire.into(), v.clone());
    }
}

fn resolve(names: &HashMap<String, String>, name: &str) -> String {
    names.get(name).cloned().unwrap_or_else(|| name.to_owned())
}

/// The fields of `x-portico-api` that may be set from a document.
const PORTICO_API_FIELDS: [&str; 11] = [
    "version",
    "trace_enabled",
    "sampling_strategy",
    "sampling_param",
    "body_remark",
    "roma_app_id",
    "domain_name",
    "tag",
    "authorizer_id",
    "auth_opt",
    "req_protocol",
];

impl Reader<'_> {
    fn operation(&self, path: &str, method: &str, op: &Value, shared: &[Value]) -> Result<ApiDefinition, FieldError> {
        if !op.is_object() {
            return Err(invalid("operation"));
        }
        // TRACE, and whatever an `x-portico-operations` entry may name, is no APIG method.
        if portico_model::Method::parse(method).is_none() {
            return Err(invalid("req_method"));
        }
        let mut api = Map::new();
        let name = str_of(op, "operationId").map(str::to_owned).unwrap_or_else(|| generated_name(method, path));
        api.insert("name".into(), name.into());
        let api_type = match str_of(op, keys::REQUEST_TYPE) {
            None | Some("public") => 1,
            Some("private") => 2,
            Some(_) => return Err(invalid(keys::REQUEST_TYPE)),
        };
        api.insert("type".into(), api_type.into());
        api.insert("req_protocol".into(), self.protocol(op).into());
        api.insert("req_method".into(), method.into());
        let req_uri = match str_of(op, keys::PORTICO_REQ_URI) {
            Some(uri) if uri.replace("+}", "}") == path => uri.to_owned(),
            Some(_) => return Err(invalid(keys::PORTICO_REQ_URI)),
            None => path.to_owned(),
        };
        api.insert("req_uri".into(), req_uri.into());
        self.security(op, &mut api)?;
        copy(&mut api, "cors", op, keys::CORS);
        copy(&mut api, "match_mode", op, keys::MATCH_MODE);
        copy(&mut api, "is_send_fg_body_base64", op, keys::FG_BASE64);
        copy(&mut api, "content_type", op, keys::CONTENT_TYPE);
        if let Some(response) = str_of(op, keys::RESPONSE) {
            api.insert("response_id".into(), resolve(&self.context.references.responses, response).into());
        }
        api.insert("group_id".into(), self.context.group_id.clone().into());
        let description = str_of(op, "description").or_else(|| str_of(op, "summary"));
        if let Some(d) = description {
            api.insert("remark".into(), d.into());
        }
        copy(&mut api, "tags", op, "tags");
        self.samples(op, &mut api);
        let params = self.parameters(op, shared)?;
        api.insert("req_params".into(), Value::Array(params));
        self.backend(op, &mut api)?;
        if let Some(Value::Object(portico)) = op.get(keys::PORTICO_API) {
            for field in PORTICO_API_FIELDS {
                copy(&mut api, field, &Value::Object(portico.clone()), field);
            }
        }
        let extensions: Map<String, Value> = op
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("x-") && !keys::OPERATION_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !extensions.is_empty() {
            api.insert("openapi_extensions".into(), Value::Object(extensions));
        }
        ApiDefinition::from_value(Value::Object(api))
    }

    fn protocol(&self, op: &Value) -> &'static str {
        let schemes: Vec<String> = match self.oas {
            OasVersion::V2 => op
                .get("schemes")
                .or_else(|| self.root.get("schemes"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
                .collect(),
            OasVersion::V3 => op
                .get("servers")
                .or_else(|| self.root.get("servers"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| str_of(s, "url").and_then(|u| u.split_once("://")).map(|(s, _)| s.to_ascii_lowercase()))
                .collect(),
        };
        let http = schemes.iter().any(|s| s == "http");
        let https = schemes.iter().any(|s| s == "https");
        match (http, https) {
            (true, true) => "BOTH",
            (true, false) => "HTTP",
            _ => "HTTPS",
        }
    }

    fn security_schemes(&self) -> Option<&Map<String, Value>> {
        match self.oas {
            OasVersion::V2 => self.root.get("securityDefinitions"),
            OasVersion::V3 => self.root.get("components").and_then(|c| c.get("securitySchemes")),
        }
        .and_then(Value::as_object)
    }

    fn security(&self, op: &Value, api: &mut Map<String, Value>) -> Result<(), FieldError> {
        let requirement = op.get("security").or_else(|| self.root.get("security"));
        let scheme_name = requirement
            .and_then(Value::as_array)
            .and_then(|list| list.first())
            .and_then(Value::as_object)
            .and_then(|r| r.keys().next());
        let Some(scheme_name) = scheme_name else {
            api.insert("auth_type".into(), "NONE".into());
            return Ok(());
        };
        let scheme = self.security_schemes().and_then(|s| s.get(scheme_name)).ok_or_else(|| invalid("security"))?;
        let authorizer = scheme.get(keys::AUTHORIZER);
        match (str_of(scheme, keys::AUTH_TYPE), authorizer) {
            (Some("AppSigv1"), _) => {
                api.insert("auth_type".into(), "APP".into());
                let opt = scheme.get(keys::AUTH_OPT).and_then(|o| str_of(o, "appcode-auth-type"));
                if opt.is_some_and(|o| o.eq_ignore_ascii_case("header")) {
                    api.insert("auth_opt".into(), json!({"app_code_auth_type": "HEADER"}));
                }
            }
            (Some("IAM"), _) => {
                api.insert("auth_type".into(), "IAM".into());
            }
            (Some("AUTHORIZER"), _) | (_, Some(_)) => {
                api.insert("auth_type".into(), "AUTHORIZER".into());
                let id = match str_of(scheme, keys::PORTICO_AUTHORIZER_ID) {
                    Some(id) => id.to_owned(),
                    None => {
                        let name = authorizer
                            .and_then(|a| str_of(a, "name"))
                            .or_else(|| scheme_name.strip_prefix("apig-auth-custom-"))
                            .unwrap_or(scheme_name);
                        resolve(&self.context.references.authorizers, name)
                    }
                };
                api.insert("authorizer_id".into(), id.into());
            }
            _ => return Err(invalid(format!("security.{scheme_name}"))),
        }
        Ok(())
    }

    fn samples(&self, op: &Value, api: &mut Map<String, Value>) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else { return };
        for (wire, key) in
            [("result_normal_sample", keys::NORMAL_SAMPLE), ("result_failure_sample", keys::FAILURE_SAMPLE)]
        {
            let found = responses.get(key).or_else(|| responses.values().find_map(|r| r.get(key)));
            if let Some(sample) = found.and_then(scalar_text) {
                api.insert(wire.into(), sample.into());
            }
        }
    }

    /// Follows a local `$ref` (`#/parameters/x`, `#/components/parameters/x`).
    fn dereference<'v>(&'v self, v: &'v Value) -> Option<&'v Value> {
        match str_of(v, "$ref") {
            None => Some(v),
            Some(r) => {
                let pointer = r.strip_prefix('#')?;
                let mut target = self.root.get(pointer.split('/').nth(1)?)?;
                for part in pointer.split('/').skip(2) {
                    target = target.get(part.replace("~1", "/").replace("~0", "~"))?;
                }
                Some(target)
            }
        }
    }

    fn parameters(&self, op: &Value, shared: &[Value]) -> Result<Vec<Value>, FieldError> {
        let own = op.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        let mut resolved: Vec<&Value> = Vec::new();
        for (i, p) in own.iter().enumerate() {
            resolved.push(self.dereference(p).ok_or_else(|| invalid(format!("parameters[{i}]")))?);
        }
        for p in shared.iter().filter_map(|p| self.dereference(p)) {
            let location = |v: &Value| str_of(v, "in").map(str::to_ascii_lowercase);
            let same = |o: &&Value| str_of(o, "name") == str_of(p, "name") && location(o) == location(p);
            if !resolved.iter().any(same) {
                resolved.push(p);
            }
        }
        resolved
            .iter()
            .enumerate()
            .map(|(i, p)| self.parameter(p).map_err(|f| invalid(format!("parameters[{i}].{f}"))))
            .collect()
    }

    /// One parameter in wire form; the error names the offending document key.
    fn parameter(&self, p: &Value) -> Result<Value, &'static str> {
        let mut out = Map::new();
        out.insert("name".into(), str_of(p, "name").ok_or("name")?.into());
        // OpenAPI spells locations in lower case; APIG's backend parameters use either case,
        // and so may a hand-written document here.
        let location = match str_of(p, "in").map(str::to_ascii_lowercase).as_deref() {
            Some("path") => "PATH",
            Some("query") => "QUERY",
            Some("header") => "HEADER",
            _ => return Err("in"),
        };
        out.insert("location".into(), location.into());
        let schema = match self.oas {
            OasVersion::V2 => p,
            OasVersion::V3 => p.get("schema").and_then(|s| self.dereference(s)).unwrap_or(&Value::Null),
        };
        let number = matches!(str_of(schema, "type"), Some("number" | "integer"));
        out.insert("type".into(), if number { "NUMBER" } else { "STRING" }.into());
        let required = p.get("required").and_then(Value::as_bool).unwrap_or(false) || location == "PATH";
        out.insert("required".into(), if required { 1 } else { 2 }.into());
        copy(&mut out, "remark", p, "description");
        match p.get(keys::PORTICO_DEFAULT).or_else(|| schema.get("default")).map(scalar_text) {
            Some(Some(d)) => drop(out.insert("default_value".into(), d.into())),
            Some(None) => return Err("default"),
            None => {}
        }
        if let Some(list) = p.get(keys::PORTICO_ENUMERATIONS) {
            out.insert("enumerations".into(), scalar_text(list).ok_or(keys::PORTICO_ENUMERATIONS)?.into());
        } else if let Some(items) = schema.get("enum") {
            let items: Option<Vec<String>> = items.as_array().ok_or("enum")?.iter().map(scalar_text).collect();
            out.insert("enumerations".into(), items.ok_or("enum")?.join(",").into());
        }
        // Huawei's exports write all four bounds as 0 when none is set (extensions.md §2.13), so
        // that reads as "no bounds"; a single 0/0 pair is a real bound. (Portico writes four
        // zeros only for a parameter that has them all set to 0, which admits no value at all;
        // that one does not survive a round trip.)
        let bounds =
            [("min_num", "minimum"), ("max_num", "maximum"), ("min_size", "minLength"), ("max_size", "maxLength")];
        let unset = bounds.iter().all(|(_, key)| schema.get(key).and_then(integer) == Some(0));
        for (wire, key) in bounds.into_iter().filter(|_| !unset) {
            if let Some(v) = schema.get(key) {
                out.insert(wire.into(), integer(v).ok_or(key)?.into());
            }
        }
        copy(&mut out, "regular", schema, "pattern");
        match str_of(p, keys::PASS_THROUGH) {
            Some("always") => drop(out.insert("pass_through".into(), 1.into())),
            Some("never") => drop(out.insert("pass_through".into(), 2.into())),
            Some(_) => return Err(keys::PASS_THROUGH),
            None => {}
        }
        if let Some(sample) = p.get(keys::SAMPLE).or_else(|| p.get("example")).and_then(scalar_text) {
            out.insert("sample_value".into(), sample.into());
        }
        copy(&mut out, "orchestrations", p, keys::ORCHESTRATIONS);
        let validate = p.get(keys::PORTICO_VALIDATION).and_then(Value::as_bool).unwrap_or(false);
        out.insert("valid_enable".into(), if validate { 1 } else { 2 }.into());
        copy(&mut out, "json_schema", p, keys::PORTICO_JSON_SCHEMA);
        let extensions: Map<String, Value> = p
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("x-") && !keys::PARAMETER_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !extensions.is_empty() {
            out.insert("openapi_extensions".into(), Value::Object(extensions));
        }
        Ok(Value::Object(out))
    }

    fn backend(&self, op: &Value, api: &mut Map<String, Value>) -> Result<(), FieldError> {
        let backend = op.get(keys::BACKEND).filter(|_| !self.context.mock_mode);
        let Some(backend) = backend else {
            api.insert("backend_type".into(), "MOCK".into());
            let content = api.get("result_normal_sample").cloned();
            api.insert("mock_info".into(), json!({ "result_content": content }));
            return Ok(());
        };
        let kind =
            str_of(backend, "type").map(str::to_ascii_uppercase).ok_or_else(|| invalid("x-apigateway-backend.type"))?;
        let endpoint =
            self.endpoint(&kind, backend, Some(5000)).map_err(|f| invalid(format!("{}.{f}", keys::BACKEND)))?;
        let authorizer = backend.get("authorizerId").cloned();
        let (backend_type, field) = match endpoint {
            Endpoint::Http(mut b) => {
                if let Some(a) = authorizer {
                    b.insert("authorizer_id".into(), a);
                }
                let grpc = matches!(b.get("req_protocol").and_then(Value::as_str), Some("GRPC" | "GRPCS"));
                (if grpc { "GRPC" } else { "HTTP" }, ("backend_api", b))
            }
            Endpoint::Function(mut f) => {
                if let Some(a) = authorizer {
                    f.insert("authorizer_id".into(), a);
                }
                ("FUNCTION", ("func_info", f))
            }
            Endpoint::Mock(mut m) => {
                if let Some(a) = authorizer {
                    m.insert("authorizer_id".into(), a);
                }
                ("MOCK", ("mock_info", m))
            }
        };
        api.insert("backend_type".into(), backend_type.into());
        api.insert(field.0.into(), Value::Object(field.1));
        let params = backend_params(backend).map_err(|f| invalid(format!("{}.parameters{f}", keys::BACKEND)))?;
        api.insert("backend_params".into(), Value::Array(params));
        let policies = op.get(keys::BACKEND_POLICIES).map(|p| p.as_array().ok_or(keys::BACKEND_POLICIES));
        let policies = policies.transpose().map_err(invalid)?.map(Vec::as_slice).unwrap_or(&[]);
        let (mut https, mut functions, mut mocks) = (Vec::new(), Vec::new(), Vec::new());
        for (i, p) in policies.iter().enumerate() {
            let (list, policy) = self.policy(p).map_err(|f| invalid(format!("{}[{i}].{f}", keys::BACKEND_POLICIES)))?;
            match list {
                PolicyList::Http => https.push(policy),
                PolicyList::Function => functions.push(policy),
                PolicyList::Mock => mocks.push(policy),
            }
        }
        api.insert("policy_https".into(), Value::Array(https));
        api.insert("policy_functions".into(), Value::Array(functions));
        api.insert("policy_mocks".into(), Value::Array(mocks));
        Ok(())
    }

    /// The endpoint object of a backend or policy of `kind`, in wire form. An API's backend
    /// needs a timeout (`default_timeout`); a policy's is optional and stays absent when absent.
    fn endpoint(&self, kind: &str, owner: &Value, default_timeout: Option<i64>) -> Result<Endpoint, String> {
        let (key, status) = match kind {
            "HTTP" => ("httpEndpoints", 2),
            "HTTP-VPC" => ("httpVpcEndpoints", 1),
            "HTTP-VPC-MEMBER-GROUP" => ("httpVpcMemberGroupEndpoints", 4),
            "FUNCTION" => {
                let f = owner.get("functionEndpoints").ok_or("functionEndpoints")?;
                let mut out = Map::new();
                for (wire, key) in [
                    ("function_urn", "function-urn"),
                    ("version", "version"),
                    ("invocation_type", "invocation-type"),
                    ("network_type", "network-type"),
                    ("alias_urn", "alias-urn"),
                    ("timeout", "timeout"),
                    ("remark", "description"),
                    ("req_protocol", "req_protocol"),
                ] {
                    copy(&mut out, wire, f, key);
                }
                out.entry("network_type").or_insert_with(|| "V1".into());
                if let Some(t) = default_timeout {
                    out.entry("timeout").or_insert_with(|| t.into());
                }
                return Ok(Endpoint::Function(out));
            }
            "MOCK" => {
                let m = owner.get("mockEndpoints").unwrap_or(&Value::Null);
                let mut out = Map::new();
                copy(&mut out, "result_content", m, "result-content");
                copy(&mut out, "remark", m, "description");
                copy(&mut out, "version", m, "version");
                return Ok(Endpoint::Mock(out));
            }
            _ => return Err("type".into()),
        };
        let e = owner.get(key).filter(|e| e.is_object()).ok_or(key)?;
        let mut out = Map::new();
        copy(&mut out, "url_domain", e, "address");
        if let Some(name) = str_of(e, "name") {
            let mut channel = json!({ "vpc_channel_id": resolve(&self.context.references.vpc_channels, name) });
            if let Some(h) = e.get("proxyHost") {
                channel["vpc_channel_proxy_host"] = h.clone();
            }
            out.insert("vpc_channel_info".into(), channel);
        }
        if let Some(Value::Array(infos)) = e.get("memberGroupUrlInfos") {
            let infos: Vec<Value> = infos
                .iter()
                .map(|m| {
                    let mut o = json!({
                        "member_group_id": resolve(&self.context.references.vpc_channels, str_of(m, "name").unwrap_or("")),
                        "req_protocol": str_of(m, "scheme").unwrap_or("").to_ascii_uppercase(),
                        "req_method": str_of(m, "method").unwrap_or("").to_ascii_uppercase(),
                    });
                    if let Some(p) = m.get("path") {
                        o["req_uri"] = p.clone();
                    }
                    o
                })
                .collect();
            out.insert("member_group_url_infos".into(), infos.into());
        }
        out.insert("vpc_channel_status".into(), status.into());
        let upper = |k: &str| str_of(e, k).map(|s| Value::from(s.to_ascii_uppercase()));
        out.insert("req_protocol".into(), upper("scheme").ok_or(format!("{key}.scheme"))?);
        out.insert("req_method".into(), upper("method").ok_or(format!("{key}.method"))?);
        copy(&mut out, "req_uri", e, "path");
        copy(&mut out, "timeout", e, "timeout");
        if let Some(t) = default_timeout {
            out.entry("timeout").or_insert_with(|| t.into());
        }
        if let Some(retry) = e.get("retryCount") {
            out.insert("retry_count".into(), scalar_text(retry).ok_or(format!("{key}.retryCount"))?.into());
        }
        copy(&mut out, "enable_client_ssl", e, "enableClientSsl");
        copy(&mut out, "enable_sm_channel", e, "enableSmChannel");
        copy(&mut out, "remark", e, "description");
        copy(&mut out, "version", e, "version");
        Ok(Endpoint::Http(out))
    }

    fn policy(&self, p: &Value) -> Result<(PolicyList, Value), String> {
        let kind = str_of(p, "type").map(str::to_ascii_uppercase).ok_or("type")?;
        let mut out = match self.endpoint(&kind, p, None)? {
            Endpoint::Http(mut b) => {
                // A policy's HTTP backend has no remark, version or client TLS of its own.
                for field in ["remark", "version", "enable_client_ssl"] {
                    b.remove(field);
                }
                (PolicyList::Http, b)
            }
            Endpoint::Function(mut f) => {
                f.remove("remark");
                (PolicyList::Function, f)
            }
            Endpoint::Mock(mut m) => {
                m.remove("remark");
                m.remove("version");
                (PolicyList::Mock, m)
            }
        };
        let fields = &mut out.1;
        copy(fields, "name", p, "name");
        fields.insert("effect_mode".into(), str_of(p, "effectMode").unwrap_or("ALL").to_ascii_uppercase().into());
        copy(fields, "authorizer_id", p, "authorizerId");
        fields.insert("backend_params".into(), backend_params(p).map_err(|f| format!("parameters{f}"))?.into());
        let conditions = p.get("conditions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        let conditions: Result<Vec<Value>, String> = conditions
            .iter()
            .enumerate()
            .map(|(i, c)| condition(c).map_err(|f| format!("conditions[{i}].{f}")))
            .collect();
        fields.insert("conditions".into(), conditions?.into());
        Ok((out.0, Value::Object(out.1)))
    }
}

enum Endpoint {
    Http(Map<String, Value>),
    Function(Map<String, Value>),
    Mock(Map<String, Value>),
}

enum PolicyList {
    Http,
    Function,
    Mock,
}

fn backend_params(owner: &Value) -> Result<Vec<Value>, String> {
    let list = owner.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            let mut out = Map::new();
            copy(&mut out, "name", p, "name");
            copy(&mut out, "value", p, "value");
            let location = str_of(p, "in").ok_or(format!("[{i}].in"))?;
            out.insert("location".into(), location.to_ascii_uppercase().into());
            let origin = str_of(p, "origin").ok_or(format!("[{i}].origin"))?;
            out.insert("origin".into(), origin.to_ascii_uppercase().into());
            copy(&mut out, "remark", p, "description");
            Ok(Value::Object(out))
        })
        .collect()
}

fn condition(c: &Value) -> Result<Value, &'static str> {
    let mut out = Map::new();
    if let Some(t) = str_of(c, "type") {
        let t = match t {
            "equal" | "exact" => "exact",
            "enum" => "enum",
            "pattern" => "pattern",
            _ => return Err("type"),
        };
        out.insert("condition_type".into(), t.into());
    }
    out.insert("condition_value".into(), c.get("value").and_then(scalar_text).ok_or("value")?.into());
    let origin = match str_of(c, "origin").ok_or("origin")? {
        "request" | "request_parameter" | "param" => "param",
        "source" | "system" | "cookie" | "frontend_authorizer" | "orchestration" => str_of(c, "origin").unwrap_or(""),
        _ => return Err("origin"),
    };
    out.insert("condition_origin".into(), origin.into());
    let wire = [
        "req_param_name",
        "sys_param_name",
        "cookie_param_name",
        "frontend_authorizer_param_name",
        "mapped_param_name",
        "mapped_param_location",
    ];
    for (wire, key) in wire.iter().zip(crate::export::CONDITION_NAMES) {
        copy(&mut out, wire, c, key);
    }
    if !out.contains_key("req_param_name") {
        copy(&mut out, "req_param_name", c, "parameter_name");
    }
    Ok(Value::Object(out))
}

/// A name for an operation without `operationId`: method and path, e.g. `GET_orders_id`.
fn generated_name(method: &str, path: &str) -> String {
    let mut name = String::from(method);
    for part in path.split('/').filter(|p| !p.is_empty()) {
        name.push('_');
        name.extend(part.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)));
    }
    let end = name.char_indices().nth(255).map_or(name.len(), |(i, _)| i);
    name.truncate(end);
    name
}
