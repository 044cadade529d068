//! Helpers shared by the round-trip and golden tests.
#![allow(dead_code)]

use std::collections::HashMap;

use portico_model::{Api, ApiDefinition, new_id};
use portico_openapi::{Define, Export, ExtensionObjects, Format, OasVersion, Object, sort_by_path, write};
use serde_json::Value;
use time::OffsetDateTime;

pub const GROUP_ID: &str = "0123456789abcdef0123456789abcdef";

/// A fixed time so that documents do not depend on the clock.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_714_564_800).unwrap()
}

/// A definition in management-API wire form, validated and prepared as the server would.
pub fn definition(wire: Value) -> ApiDefinition {
    let mut def = match ApiDefinition::from_value(wire.clone()) {
        Ok(def) => def,
        Err(e) => panic!("generated an invalid API ({e}):\n{}", serde_json::to_string_pretty(&wire).unwrap()),
    };
    def.prepare(None, now());
    def
}

/// A stored API around a prepared definition.
pub fn stored(definition: ApiDefinition) -> Api {
    Api { id: new_id(), status: 1, register_time: now(), update_time: now(), definition }
}

/// Everything an export needs besides the APIs.
#[derive(Clone)]
pub struct Setting {
    pub title: String,
    pub version: String,
    pub host: String,
    pub objects: ExtensionObjects,
    pub names: HashMap<String, String>,
    pub group_extensions: Object,
}

impl Default for Setting {
    fn default() -> Self {
        Setting {
            title: "orders_demo".into(),
            version: "2024-05-01-12:00:00".into(),
            host: "orders.example.com".into(),
            objects: ExtensionObjects::default(),
            names: HashMap::new(),
            group_extensions: Object::new(),
        }
    }
}

pub fn export(setting: &Setting, apis: &[Api], oas: OasVersion, format: Format) -> Vec<u8> {
    export_with(setting, apis, oas, format, Define::Dev)
}

pub fn export_with(setting: &Setting, apis: &[Api], oas: OasVersion, format: Format, define: Define) -> Vec<u8> {
    let mut refs: Vec<&Api> = apis.iter().collect();
    sort_by_path(&mut refs);
    let export = Export {
        oas,
        define,
        title: &setting.title,
        description: None,
        version: &setting.version,
        host: &setting.host,
        objects: &setting.objects,
        names: &setting.names,
        group_extensions: &setting.group_extensions,
    };
    let mut out = Vec::new();
    write(&export, refs, format, &mut out).expect("export");
    out
}

/// The definition without what the server assigns (ids, times, status, the group), so that an
/// imported definition can be compared with the one it was exported from.
pub fn comparable(def: &ApiDefinition) -> Value {
    let mut v = serde_json::to_value(def).unwrap();
    strip(&mut v);
    v
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in ["id", "req_param_id", "register_time", "update_time", "status", "group_id"] {
                map.remove(key);
            }
            for (key, value) in map.iter_mut() {
                if key != "openapi_extensions" {
                    strip(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// Where two JSON values differ, as `pointer: left != right` lines.
pub fn differences(left: &Value, right: &Value) -> String {
    let mut out = Vec::new();
    diff("", left, right, &mut out);
    out.join("\n")
}

fn diff(at: &str, left: &Value, right: &Value, out: &mut Vec<String>) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for (k, lv) in l {
                match r.get(k) {
                    Some(rv) => diff(&format!("{at}/{k}"), lv, rv, out),
                    None => out.push(format!("{at}/{k}: {lv} != (absent)")),
                }
            }
            for (k, rv) in r {
                if !l.contains_key(k) {
                    out.push(format!("{at}/{k}: (absent) != {rv}"));
                }
            }
        }
        (Value::Array(l), Value::Array(r)) if l.len() == r.len() => {
            for (i, (lv, rv)) in l.iter().zip(r).enumerate() {
                diff(&format!("{at}/{i}"), lv, rv, out);
            }
        }
        _ if left != right => out.push(format!("{at}: {left} != {right}")),
        _ => {}
    }
}
