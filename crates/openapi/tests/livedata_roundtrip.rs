//! Property test of the custom backend (livedata) document: for generated valid custom
//! backends, `write_livedata` (JSON or YAML) → `parse_livedata` gives back every field the
//! management API accepts (everything but the id, the times and the status, which an import
//! assigns), and writing the parsed backends again gives the same bytes.

use portico_model::{LdApi, LdApiInput, LdScriptsInput, encode_base64, now};
use portico_openapi::{Format, parse_livedata, write_livedata};
use proptest::prelude::*;
use serde_json::{Value, json};

fn parameter() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("Headers"), Just("Parameters"), Just("Body")],
        "[a-z][a-z0-9_.-]{0,10}",
        proptest::option::of("[ -~&&[^<>]]{0,12}"),
        proptest::option::of("[ -~&&[^<>]]{0,12}"),
        any::<bool>(),
    )
        .prop_map(|(location, name, default, description, required)| {
            let name = if location == "Body" { "application/json".to_string() } else { name };
            let mut p = json!({ "name": name, "in": location, "required": required });
            if let Some(d) = default {
                p["default"] = json!(d);
            }
            if let Some(d) = description {
                p["description"] = json!(d);
            }
            p
        })
}

fn script() -> impl Strategy<Value = Value> {
    ("[a-f0-9]{32}", prop_oneof![Just("SQL"), Just("SP")], "[a-z_]{1,8}", "[ -~]{1,40}", any::<(bool, bool)>())
        .prop_map(|(ds_id, kind, object_name, sql, (paging, prepare))| {
            json!({ "ds_id": ds_id, "type": kind, "object_name": object_name, "content": encode_base64(sql.as_bytes()),
                    "enable_result_paging": paging, "enable_preparestatement": prepare })
        })
}

fn backend() -> impl Strategy<Value = LdApi> {
    (
        "[a-z][a-z0-9_]{2,12}",
        "(/[a-z0-9_.-]{1,6}){1,3}",
        prop_oneof![Just("GET"), Just("PUT"), Just("POST"), Just("DELETE")],
        proptest::option::of("[ -~&&[^<>]]{0,20}"),
        "[0-9a-z_.-]{1,6}",
        any::<bool>(),
        proptest::option::of("[a-f0-9]{32}"),
        proptest::collection::vec(parameter(), 0..4),
        proptest::collection::vec(script(), 0..3),
    )
        .prop_map(|(name, path, method, description, version, return_format, signature, parameters, scripts)| {
            let mut wire = json!({
                "name": name, "path": path, "method": method, "version": version,
                "content_type": "application/json", "roma_app_id": "0123456789abcdef0123456789abcdef",
                "return_format": return_format, "parameters": parameters,
            });
            if let Some(d) = description {
                wire["description"] = json!(d);
            }
            if let Some(s) = signature {
                wire["api_signature_id"] = json!(s);
            }
            let now = now();
            let mut api =
                LdApiInput::from_value(&wire).expect("valid by construction").create(portico_model::new_id(), now);
            if !scripts.is_empty() {
                let body = json!({ "api_type": "data", "scripts": scripts }).to_string();
                let parsed = LdScriptsInput::from_json(body.as_bytes(), now).expect("valid by construction");
                api.scripts = parsed.scripts;
                api.status = 3;
            }
            api
        })
}

/// Unique (method, path) pairs, ordered as the store gives them: by path, then method.
fn backends() -> impl Strategy<Value = Vec<LdApi>> {
    proptest::collection::vec(backend(), 0..6).prop_map(|mut apis| {
        apis.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        apis.dedup_by(|a, b| a.path == b.path && a.method == b.method);
        apis
    })
}

fn comparable(api: &LdApi) -> Value {
    let mut v = serde_json::to_value(api).unwrap();
    let map = v.as_object_mut().unwrap();
    for key in ["id", "created_time", "modified_time", "status"] {
        map.remove(key);
    }
    for s in map["scripts"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.remove("created_time");
        s.remove("modified_time");
    }
    v
}

fn written(apis: &[LdApi], format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    write_livedata("livedata-apis", apis, format, &mut out).expect("writes");
    out
}

proptest! {
    #[test]
    fn write_then_parse_keeps_every_field(apis in backends(), yaml in any::<bool>()) {
        let format = if yaml { Format::Yaml } else { Format::Json };
        let document = written(&apis, format);
        let parsed = parse_livedata(&document, now()).expect("a written document parses");
        let back: Vec<LdApi> = parsed.into_iter().map(|p| p.api.expect("every written backend is valid")).collect();
        prop_assert_eq!(back.iter().map(comparable).collect::<Vec<_>>(), apis.iter().map(comparable).collect::<Vec<_>>());
        let mut again = back.clone();
        for (b, a) in again.iter_mut().zip(&apis) {
            b.status = a.status;
        }
        prop_assert_eq!(written(&again, format), document);
    }
}

#[test]
fn a_backend_written_twice_is_an_error_not_a_broken_document() {
    let api = LdApiInput::from_value(&json!({
        "name": "twice", "path": "/t", "method": "GET", "version": "1", "content_type": "application/json",
        "roma_app_id": "0123456789abcdef0123456789abcdef",
    }))
    .unwrap()
    .create("a".into(), now());
    let mut out = Vec::new();
    assert!(write_livedata("t", [&api, &api], Format::Json, &mut out).is_err());
}
