//! Custom backends (ROMA Connect livedata APIs) ⇄ a Swagger 2.0 document. Huawei's extension
//! names for these are not published; Portico's are `x-livedata-api` (the backend's fields),
//! `x-livedata-scripts` (its scripts) and `x-livedata-default` (`docs/livedata.md`).
//!
//! As for APIs, the writer streams: each path item is serialised when its last operation has
//! arrived (the caller passes the backends ordered by path), and no document tree is built.

use std::cell::RefCell;
use std::io;

use portico_model::{FieldError, LdApi, LdApiInput, LdScriptsInput, new_id};
use serde::ser::{self, Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::export::PrintableJson;
use crate::read::read_value;
use crate::{DocumentError, Format, WriteError, keys};

/// Writes the Swagger 2.0 document of `apis` (ordered by path, then method) titled `title`.
pub fn write_livedata<'a, W, I>(title: &str, apis: I, format: Format, writer: W) -> Result<(), WriteError>
where
    W: io::Write,
    I: IntoIterator<Item = &'a LdApi>,
{
    let document = Document { title, apis: RefCell::new(Some(apis.into_iter())) };
    let mut writer = writer;
    match format {
        Format::Json => {
            let formatter = PrintableJson(serde_json::ser::PrettyFormatter::new());
            document.serialize(&mut serde_json::Serializer::with_formatter(&mut writer, formatter))?
        }
        Format::Yaml => crate::yaml::to_writer(&mut writer, &document)?,
    }
    Ok(writer.flush()?)
}

struct Document<'t, I> {
    title: &'t str,
    apis: RefCell<Option<I>>,
}

impl<'a, I: Iterator<Item = &'a LdApi>> Serialize for Document<'_, I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("swagger", "2.0")?;
        map.serialize_entry("info", &json!({ "title": self.title, "version": "1.0" }))?;
        let apis = self.apis.borrow_mut().take().ok_or_else(|| ser::Error::custom("document written twice"))?;
        map.serialize_entry("paths", &Paths(RefCell::new(Some(apis))))?;
        map.end()
    }
}

struct Paths<I>(RefCell<Option<I>>);

impl<'a, I: Iterator<Item = &'a LdApi>> Serialize for Paths<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let apis = self.0.borrow_mut().take().ok_or_else(|| ser::Error::custom("paths written twice"))?;
        let mut map = s.serialize_map(None)?;
        let mut current: Option<(String, Map<String, Value>)> = None;
        for api in apis {
            if current.as_ref().is_some_and(|(path, _)| *path != api.path) {
                let (path, item) = current.take().unwrap_or_default();
                map.serialize_entry(&path, &item)?;
            }
            let (_, item) = current.get_or_insert_with(|| (api.path.clone(), Map::new()));
            let method = api.method.to_ascii_lowercase();
            if item.contains_key(&method) {
                return Err(ser::Error::custom(format!("{} {} written twice", api.method, api.path)));
            }
            item.insert(method, operation(api));
        }
        if let Some((path, item)) = current {
            map.serialize_entry(&path, &item)?;
        }
        map.end()
    }
}

fn swagger_location(location: &str) -> &'static str {
    match location {
        "Headers" => "header",
        "Body" => "body",
        _ => "query",
    }
}

fn operation(api: &LdApi) -> Value {
    let parameters: Vec<Value> = api
        .parameters
        .iter()
        .map(|p| {
            let mut param = Map::new();
            param.insert("name".into(), json!(p.name));
            param.insert("in".into(), json!(swagger_location(&p.location)));
            param.insert("required".into(), json!(p.required));
            if let Some(d) = &p.description {
                param.insert("description".into(), json!(d));
            }
            if p.location == "Body" {
                param.insert("schema".into(), json!({ "type": "string" }));
                if let Some(d) = &p.default {
                    param.insert(keys::LIVEDATA_DEFAULT.into(), json!(d));
                }
            } else {
                param.insert("type".into(), json!("string"));
                if let Some(d) = &p.default {
                    param.insert("default".into(), json!(d));
                }
            }
            Value::Object(param)
        })
        .collect();
    let mut own = json!({
        "version": api.version,
        "content_type": api.content_type,
        "roma_app_id": api.roma_app_id,
        "return_format": api.return_format,
        "type": api.api_type,
        "status": api.status,
    });
    if let Some(id) = &api.api_signature_id {
        own["api_signature_id"] = json!(id);
    }
    let scripts: Vec<Value> = api
        .scripts
        .iter()
        .map(|s| {
            let mut script = json!({
                "type": s.script_type,
                "object_name": s.object_name,
                "content": s.content,
                "enable_result_paging": s.enable_result_paging,
                "enable_preparestatement": s.enable_preparestatement,
            });
            for (key, value) in [("ds_id", &s.ds_id), ("ds_name", &s.ds_name), ("ds_type", &s.ds_type)] {
                if let Some(v) = value {
                    script[key] = json!(v);
                }
            }
            script
        })
        .collect();
    let mut op = Map::new();
    op.insert("operationId".into(), json!(api.name));
    if let Some(d) = &api.description {
        op.insert("description".into(), json!(d));
    }
    op.insert("produces".into(), json!([api.content_type]));
    op.insert("parameters".into(), Value::Array(parameters));
    op.insert("responses".into(), json!({ "default": { "description": "response of the custom backend" } }));
    op.insert(keys::LIVEDATA_API.into(), own);
    op.insert(keys::LIVEDATA_SCRIPTS.into(), Value::Array(scripts));
    Value::Object(op)
}

/// One operation of an imported document.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLdApi {
    /// Its path.
    pub path: String,
    /// Its method, upper case.
    pub method: String,
    /// The custom backend (new id, the given time), validated as a created one is, or why not.
    pub api: Result<LdApi, FieldError>,
}

const METHODS: [&str; 4] = ["get", "put", "post", "delete"];

/// Reads a document written by [`write_livedata`] (JSON or YAML) into custom backends; every
/// operation goes through the validation of `CreateLiveDataApiV2` and
/// `CreateLiveDataApiScriptV2`.
pub fn parse_livedata(bytes: &[u8], now: OffsetDateTime) -> Result<Vec<ParsedLdApi>, DocumentError> {
    let doc = read_value(bytes)?;
    if doc.get("swagger").and_then(Value::as_str) != Some("2.0") {
        return Err(DocumentError::NotOpenApi("a custom backend document is Swagger 2.0 (`swagger: \"2.0\"`)".into()));
    }
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| DocumentError::NotOpenApi("`paths` is missing or not an object".into()))?;
    let mut apis = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            apis.push(ParsedLdApi {
                path: path.clone(),
                method: "-".into(),
                api: Err(FieldError::Invalid("paths".into())),
            });
            continue;
        };
        for (method, op) in item.iter().filter(|(k, _)| METHODS.contains(&k.as_str())) {
            let method = method.to_ascii_uppercase();
            let api = read_operation(path, &method, op, new_id(), now);
            apis.push(ParsedLdApi { path: path.clone(), method, api });
        }
    }
    Ok(apis)
}

fn ld_location(location: &str) -> Option<&'static str> {
    match location {
        "header" => Some("Headers"),
        "query" => Some("Parameters"),
        "body" => Some("Body"),
        _ => None,
    }
}

fn read_operation(path: &str, method: &str, op: &Value, id: String, now: OffsetDateTime) -> Result<LdApi, FieldError> {
    let own = op.get(keys::LIVEDATA_API).cloned().unwrap_or_else(|| json!({}));
    let mut parameters = Vec::new();
    for (i, p) in op.get("parameters").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let location = p
            .get("in")
            .and_then(Value::as_str)
            .and_then(ld_location)
            .ok_or_else(|| FieldError::Invalid(format!("parameters[{i}].in")))?;
        let default = if location == "Body" { p.get(keys::LIVEDATA_DEFAULT) } else { p.get("default") };
        let mut param = json!({ "name": p.get("name"), "in": location, "required": p.get("required").cloned().unwrap_or(json!(false)) });
        if let Some(d) = default {
            param["default"] = d.clone();
        }
        if let Some(d) = p.get("description") {
            param["description"] = d.clone();
        }
        parameters.push(param);
    }
    let mut wire = json!({
        "name": op.get("operationId"),
        "path": path,
        "method": method,
        "parameters": parameters,
    });
    if let Some(d) = op.get("description") {
        wire["description"] = d.clone();
    }
    for key in ["version", "content_type", "roma_app_id", "return_format", "api_signature_id"] {
        if let Some(v) = own.get(key) {
            wire[key] = v.clone();
        }
    }
    let input = LdApiInput::from_value(&wire)?;
    let mut api = input.create(id, now);
    let scripts = op.get(keys::LIVEDATA_SCRIPTS).and_then(Value::as_array).filter(|s| !s.is_empty());
    if let Some(scripts) = scripts {
        let api_type = own.get("type").cloned().unwrap_or(json!("data"));
        let body = json!({ "api_type": api_type, "scripts": scripts });
        let parsed = LdScriptsInput::from_json(body.to_string().as_bytes(), now)?;
        api.api_type = parsed.api_type;
        api.scripts = parsed.scripts;
    }
    Ok(api)
}
