//! Property tests of the lossless round trip: for a generated group of valid APIs,
//! export (`dev`, Swagger 2.0 or OpenAPI 3.0, JSON or YAML) → import → export gives the same
//! document byte for byte, and the imported definitions equal the originals up to what the
//! server assigns (ids, times, status).
//!
//! The generator draws its choices from a vector of random numbers ("choice sequence"), so that
//! proptest shrinks a failure towards the first option of every choice: the simplest API that
//! still fails. It builds the management API's wire JSON, valid by construction (see
//! `crates/model/src/rules.rs`), and runs it through `ApiDefinition::from_value` and `prepare`.
//!
//! What the round trip does not keep, by design (so the generator does not produce it):
//! - an `openapi_extensions` entry named like a key the writer interprets (`x-apigateway-cors`,
//!   `x-portico-api`, …): the interpreted field is written, the entry is not;
//! - a parameter whose four bounds are all 0: Huawei's exports mean "no bounds" by that;
//! - the order of the group's APIs: a document groups them by path;
//! - unknown `x-*` fields anywhere but the root, operations and parameters (path items, `info`,
//!   responses, components, security schemes): the model has no place for them.
//!
//! With `PORTICO_DUMP_DIR=<dir>` every export is also written to `<dir>`, for an outside check
//! such as `openapi-spec-validator`.

mod common;

use std::collections::{HashMap, HashSet};

use common::{GROUP_ID, Setting, comparable, definition, export, stored};
use portico_model::{Api, ApiDefinition};
use portico_openapi::{Define, Format, ImportContext, OasVersion, References, parse};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Draws choices from a recorded sequence; past its end every choice is the first option.
struct Choices<'a> {
    data: &'a [u32],
    pos: usize,
}

impl Choices<'_> {
    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.next() as usize % n }
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() as i64 % (hi - lo + 1))
    }

    fn flag(&mut self) -> bool {
        self.below(2) == 1
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Texts that are awkward in JSON or YAML.
const TEXTS: &[&str] = &[
    "plain text",
    "",
    "line one\nline two",
    "  leading and trailing  ",
    "# not a comment",
    "key: value",
    "- item",
    "'single' \"double\"",
    "yes",
    "null",
    "~",
    "true",
    "0x1F",
    "1e3",
    "010",
    "中文说明",
    "tab\there",
    "{\"json\":[1,2]}",
    "emoji 😀 and \u{2028} separator",
    "cr\r\nlf and \u{85} next line",
    "del \u{7f} bell \u{7}",
    "ends with colon:",
    "<< merge",
    "= value",
    "!tag",
    "&anchor *alias",
    "@at `tick` %pct",
    "1:20",
    "2024-05-01",
    "1_000",
    "+1",
    ".inf",
    "NaN",
    "ON",
];

const FRONTEND_PATHS: &[&str] = &[
    "/orders",
    "/orders/{id}",
    "/orders/{id}/lines/{line_no}",
    "/files/{path+}",
    "/files/{path}",
    "/",
    "/v1.0/a-b_c~d",
    "/users/{user.name}/profile",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "ANY"];
const SYSTEM_VALUES: &[&str] = &[
    "$context.sourceIp",
    "$context.stage",
    "$context.apiId",
    "$context.requestId",
    "$context.authorizer.frontend.user",
    "$context.authorizer.backend.token",
    "serverName",
];
const AUTHORIZER_IDS: &[&str] = &["a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"];
const CHANNEL_IDS: &[&str] = &["c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"];
const MEMBER_GROUP_IDS: &[&str] = &["d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0", "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"];
const RESPONSE_IDS: &[&str] = &["e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0", "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"];

fn text(c: &mut Choices) -> String {
    c.pick(TEXTS).to_owned()
}

/// Sets `key` half of the time, to what `value` draws.
fn set_maybe<V: Into<Value>>(
    obj: &mut Map<String, Value>,
    c: &mut Choices,
    key: &str,
    value: impl FnOnce(&mut Choices) -> V,
) {
    if c.flag() {
        let v = value(c).into();
        obj.insert(key.into(), v);
    }
}

/// Any JSON value an extension may hold.
fn extension_value(c: &mut Choices, depth: u32) -> Value {
    match c.below(if depth > 1 { 5 } else { 7 }) {
        0 => Value::from(text(c)),
        1 => Value::from(c.range(-1000, 1000)),
        2 => Value::from(c.flag()),
        3 => Value::Null,
        4 => Value::from(c.pick(&[0.5, -2.25, 1e10])),
        5 => (0..c.below(3)).map(|_| extension_value(c, depth + 1)).collect(),
        _ => {
            let mut m = Map::new();
            for i in 0..c.below(3) {
                m.insert(format!("k{i}"), extension_value(c, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// Extensions Portico does not interpret. `x-apigateway-ratelimit` & co are APIG's, but at
/// `dev` level without bound objects they are just kept.
fn extensions(c: &mut Choices, keys: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for _ in 0..c.below(3) {
        let key = c.pick(keys);
        m.insert(key.to_owned(), extension_value(c, 0));
    }
    m
}

/// A frontend parameter in wire form.
fn req_param(c: &mut Choices, name: &str, location: &str) -> Value {
    let mut p = Map::new();
    p.insert("name".into(), name.into());
    p.insert("location".into(), location.into());
    let number = c.flag();
    p.insert("type".into(), if number { "NUMBER" } else { "STRING" }.into());
    match c.below(3) {
        0 => {}
        1 => drop(p.insert("required".into(), 1.into())),
        _ => drop(p.insert("required".into(), 2.into())),
    }
    let validate = c.flag();
    if validate || c.flag() {
        p.insert("valid_enable".into(), if validate { 1 } else { 2 }.into());
    }
    // Candidate values: every default is drawn from them, so it passes the enumeration and the
    // bounds below when validation is on.
    let items: Vec<&str> = if number {
        let pool = ["1", "2", "1.50", "-3", "10", "0", "2.5", "1e2", "-0", "1.0"];
        (0..1 + c.below(4)).map(|_| c.pick(&pool)).collect()
    } else {
        let pool = ["red", "green", "a b", "123", "true", "null", "yes", "x:y", "中文", "-"];
        (0..1 + c.below(4)).map(|_| c.pick(&pool)).collect()
    };
    if c.flag() {
        p.insert("enumerations".into(), items.join(",").into());
    }
    if number {
        if c.flag() {
            p.insert("min_num".into(), c.range(-10, -3).into());
        }
        if c.flag() {
            p.insert("max_num".into(), c.range(100, 1000).into());
        }
    } else {
        if c.flag() {
            p.insert("min_size".into(), c.range(0, 1).into());
        }
        if c.flag() {
            p.insert("max_size".into(), c.range(5, 64).into());
        }
    }
    if c.flag() {
        let default = c.pick(&items);
        p.insert("default_value".into(), default.into());
    }
    set_maybe(&mut p, c, "sample_value", text);
    set_maybe(&mut p, c, "remark", text);
    if c.flag() {
        let regular = c.pick(&["^[a-z]+$", "\\d{1,3}", "(?i)abc|def", "[#: ]"]);
        p.insert("regular".into(), regular.into());
    }
    set_maybe(&mut p, c, "json_schema", |_| "{\"type\":\"string\"}");
    if c.flag() {
        p.insert("pass_through".into(), c.range(1, 2).into());
    }
    if c.flag() {
        let ids: Vec<Value> = (0..1 + c.below(2)).map(|i| format!("f{i}f{}", c.range(0, 9)).into()).collect();
        p.insert("orchestrations".into(), ids.into());
    }
    let ext = extensions(c, &["x-vendor-flag", "x-example-note", "x-apigateway-access-control"]);
    if !ext.is_empty() {
        p.insert("openapi_extensions".into(), Value::Object(ext));
    }
    Value::Object(p)
}

/// Backend parameters: those a backend path needs, then a few more.
fn backend_params(c: &mut Choices, path_names: &[&str], frontend: &[(String, String)]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut taken: Vec<(String, String)> = Vec::new();
    let mut add = |c: &mut Choices, name: String, location: &str, out: &mut Vec<Value>| {
        let key = (name.to_ascii_lowercase(), location.to_owned());
        if taken.contains(&key) {
            return;
        }
        taken.push(key);
        let origin = if frontend.is_empty() { c.below(2) + 1 } else { c.below(3) };
        let (origin, value) = match origin {
            0 => ("REQUEST", c.pick(frontend).0),
            1 => ("CONSTANT", c.pick(&["apig", "a,b", "#not env#", "0"]).to_owned()),
            _ => ("SYSTEM", c.pick(SYSTEM_VALUES).to_owned()),
        };
        let mut p = json!({"name": name, "location": location, "origin": origin, "value": value});
        if c.flag() {
            p["remark"] = text(c).into();
        }
        out.push(p);
    };
    for name in path_names {
        add(c, (*name).to_owned(), "PATH", &mut out);
    }
    for _ in 0..c.below(4) {
        let name = c.pick(&["X-Caller", "x-caller", "tenant", "b.id", "Trace_Id"]).to_owned();
        let location = c.pick(&["QUERY", "HEADER", "PATH"]);
        add(c, name, location, &mut out);
    }
    out
}

/// The `{name}` / `{name+}` placeholders of a path.
fn placeholders(path: &str) -> Vec<&str> {
    path.split('{').skip(1).filter_map(|p| p.split_once('}')).map(|(n, _)| n.trim_end_matches('+')).collect()
}

/// A backend path and the placeholder names it needs filled.
fn backend_path(c: &mut Choices) -> (&'static str, Vec<&'static str>) {
    c.pick(&[
        ("/backend", vec![]),
        ("/v1/orders/{bid}", vec!["bid"]),
        ("/#env_prefix#/items/{bid}/x/{other}", vec!["bid", "other"]),
        ("/", vec![]),
    ])
}

fn http_target(c: &mut Choices, obj: &mut Map<String, Value>, grpc: bool) {
    let status = if grpc { c.pick(&[1, 2]) } else { c.pick(&[1, 2, 4]) };
    if status != 2 || c.flag() {
        obj.insert("vpc_channel_status".into(), status.into());
    }
    match status {
        2 => {
            let domain = c.pick(&["backend.example.com:8443", "10.0.0.1", "#backend_host#", "svc.local:#port_var#"]);
            obj.insert("url_domain".into(), domain.into());
        }
        1 => {
            let mut info = json!({"vpc_channel_id": c.pick(CHANNEL_IDS)});
            if c.flag() {
                info["vpc_channel_proxy_host"] = c.pick(&["inner.example.com", "a:80"]).into();
            }
            obj.insert("vpc_channel_info".into(), info);
        }
        _ => {
            let infos: Vec<Value> = (0..1 + c.below(2))
                .map(|i| {
                    let mut m = json!({
                        "member_group_id": MEMBER_GROUP_IDS[i],
                        "req_protocol": c.pick(&["HTTP", "HTTPS"]),
                        "req_method": c.pick(&METHODS[..7]),
                    });
                    if c.flag() {
                        m["req_uri"] = c.pick(&["/mg", "/mg/{bid}"]).into();
                    }
                    m
                })
                .collect();
            obj.insert("member_group_url_infos".into(), infos.into());
            if c.flag() {
                obj.insert("vpc_channel_info".into(), json!({"vpc_channel_id": c.pick(CHANNEL_IDS)}));
            }
        }
    }
    let protocol = if grpc { c.pick(&["GRPC", "GRPCS"]) } else { c.pick(&["HTTP", "HTTPS"]) };
    obj.insert("req_protocol".into(), protocol.into());
    obj.insert("req_method".into(), c.pick(METHODS).into());
    if c.flag() {
        obj.insert("retry_count".into(), c.range(-1, 10).to_string().into());
    }
    set_maybe(obj, c, "enable_sm_channel", |c| c.flag());
}

fn function_target(c: &mut Choices, obj: &mut Map<String, Value>) {
    obj.insert(
        "function_urn".into(),
        c.pick(&["urn:fss:eu-de:0123456789abcdef:function:default:orders", "urn:fss:x:y:function:z:f"]).into(),
    );
    obj.insert("invocation_type".into(), c.pick(&["sync", "async"]).into());
    obj.insert("network_type".into(), c.pick(&["V1", "V2"]).into());
    set_maybe(obj, c, "version", |c| c.pick(&["latest", "v2"]));
    set_maybe(obj, c, "alias_urn", |_| "urn:fss:eu-de:0123456789abcdef:function:default:orders:!prod");
    set_maybe(obj, c, "req_protocol", |c| c.pick(&["HTTPS", "GRPCS"]));
}

fn condition(c: &mut Choices, frontend: &[(String, String)]) -> Value {
    let types = ["exact", "enum", "pattern"];
    let mut cond = Map::new();
    let origins = if frontend.is_empty() { 5 } else { 6 };
    let (origin, typed) = match c.below(origins) {
        0 => {
            cond.insert("sys_param_name".into(), c.pick(&["req_path", "req_method", "reqPath"]).into());
            ("system", true)
        }
        1 => {
            cond.insert("cookie_param_name".into(), c.pick(&["session", "a b;c"]).into());
            ("cookie", true)
        }
        2 => {
            let name = c.pick(&["$context.authorizer.frontend.user", "$context.authorizer.frontend.x"]);
            cond.insert("frontend_authorizer_param_name".into(), name.into());
            ("frontend_authorizer", true)
        }
        3 => {
            cond.insert("mapped_param_name".into(), c.pick(&["mapped", "m2"]).into());
            cond.insert("mapped_param_location".into(), c.pick(&["header", "query"]).into());
            ("orchestration", false)
        }
        4 => ("source", false),
        _ => {
            cond.insert("req_param_name".into(), c.pick(frontend).0.into());
            ("param", true)
        }
    };
    cond.insert("condition_origin".into(), origin.into());
    let kind = if typed || c.flag() { Some(c.pick(&types)) } else { None };
    if let Some(k) = kind {
        cond.insert("condition_type".into(), k.into());
    }
    let value = if origin == "source" {
        c.pick(&["10.0.0.0/8", "192.168.1.10,10.1.0.0/16", "::1"])
    } else if kind == Some("pattern") {
        c.pick(&["^/orders/.*$", "a|b", "[0-9]+"])
    } else {
        c.pick(&["vip", "a,b,c", "GET", "1.50"])
    };
    cond.insert("condition_value".into(), value.into());
    Value::Object(cond)
}

fn policy_common(
    c: &mut Choices,
    name: String,
    frontend: &[(String, String)],
    path_names: &[&str],
) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("name".into(), name.into());
    p.insert("effect_mode".into(), c.pick(&["ALL", "ANY"]).into());
    p.insert("backend_params".into(), backend_params(c, path_names, frontend).into());
    let conditions: Vec<Value> = (0..1 + c.below(5)).map(|_| condition(c, frontend)).collect();
    p.insert("conditions".into(), conditions.into());
    set_maybe(&mut p, c, "authorizer_id", |c| c.pick(AUTHORIZER_IDS));
    p
}

/// One API in wire form. `taken` holds (method, path, match mode) of the APIs before it.
fn api(c: &mut Choices, index: usize, taken: &mut HashSet<(String, String, String)>) -> Value {
    let mut a = Map::new();
    let name = format!("{}{index}", c.pick(&["get_order", "Orders.list", "9api", "api-x(1)_"]));
    a.insert("name".into(), name.into());
    a.insert("type".into(), c.range(1, 2).into());
    a.insert("group_id".into(), GROUP_ID.into());
    let mut method = c.pick(METHODS).to_owned();
    let mut path = c.pick(FRONTEND_PATHS).to_owned();
    let mut mode = c.pick(&["NORMAL", "SWA"]).to_owned();
    for attempt in 0.. {
        if taken.insert((method.clone(), path.clone(), mode.clone())) {
            break;
        }
        mode = if mode == "NORMAL" { "SWA" } else { "NORMAL" }.into();
        if attempt % 2 == 1 {
            path = FRONTEND_PATHS[(attempt / 2) % FRONTEND_PATHS.len()].to_owned();
            method = METHODS[(attempt / 2 / FRONTEND_PATHS.len()) % METHODS.len()].to_owned();
        }
    }
    if mode != "NORMAL" || c.flag() {
        a.insert("match_mode".into(), mode.into());
    }
    a.insert("req_method".into(), method.into());
    a.insert("req_uri".into(), path.clone().into());
    a.insert("req_protocol".into(), c.pick(&["HTTP", "HTTPS", "BOTH", "GRPCS"]).into());

    // Frontend parameters: the path's placeholders, then query and header ones.
    let mut params = Vec::new();
    let mut frontend: Vec<(String, String)> = Vec::new();
    for name in placeholders(&path) {
        frontend.push((name.to_owned(), "PATH".into()));
    }
    for _ in 0..c.below(5) {
        let name = c.pick(&["q", "page", "X-Tenant", "x-tenant", "a.b", "Z9_-", "verbose"]).to_owned();
        let location = c.pick(&["QUERY", "HEADER"]).to_owned();
        let clash = frontend.iter().any(|(n, l)| n.eq_ignore_ascii_case(&name) && *l == location);
        if !clash {
            frontend.push((name, location));
        }
    }
    for (name, location) in &frontend {
        params.push(req_param(c, name, location));
    }
    if !params.is_empty() || c.flag() {
        a.insert("req_params".into(), params.into());
    }

    match c.below(6) {
        0 => {}
        1 => drop(a.insert("auth_type".into(), "APP".into())),
        2 => {
            a.insert("auth_type".into(), "APP".into());
            a.insert("auth_opt".into(), json!({"app_code_auth_type": "HEADER"}));
        }
        3 => drop(a.insert("auth_type".into(), "IAM".into())),
        _ => {
            a.insert("auth_type".into(), "AUTHORIZER".into());
            a.insert("authorizer_id".into(), c.pick(AUTHORIZER_IDS).into());
        }
    }
    a.entry("auth_type").or_insert_with(|| "NONE".into());
    if !a.contains_key("auth_opt") && c.flag() {
        a.insert("auth_opt".into(), json!({"app_code_auth_type": "DISABLE"}));
    }
    if !a.contains_key("authorizer_id") && c.below(4) == 0 {
        a.insert("authorizer_id".into(), c.pick(AUTHORIZER_IDS).into());
    }
    set_maybe(&mut a, c, "cors", |c| c.flag());
    set_maybe(&mut a, c, "version", |c| c.pick(&["v1.2", "2024.05", "1"]));
    match c.below(3) {
        0 => {}
        1 => drop(a.insert("trace_enabled".into(), false.into())),
        _ => {
            a.insert("trace_enabled".into(), true.into());
            a.insert("sampling_strategy".into(), "RATE".into());
            a.insert("sampling_param".into(), c.range(0, 100).to_string().into());
        }
    }
    set_maybe(&mut a, c, "remark", text);
    set_maybe(&mut a, c, "body_remark", text);
    set_maybe(&mut a, c, "result_normal_sample", text);
    set_maybe(&mut a, c, "result_failure_sample", text);
    if c.flag() {
        let tags: Vec<&str> = (0..c.below(4)).map(|_| c.pick(&["orders", "v1.0", "a-b*c#d%e", "标签"])).collect();
        let mut unique: Vec<&str> = Vec::new();
        tags.into_iter().for_each(|t| {
            if !unique.contains(&t) {
                unique.push(t)
            }
        });
        a.insert("tags".into(), unique.into());
    }
    set_maybe(&mut a, c, "response_id", |c| c.pick(RESPONSE_IDS));
    set_maybe(&mut a, c, "roma_app_id", |_| "roma-app-1");
    set_maybe(&mut a, c, "domain_name", |_| "api.example.com");
    set_maybe(&mut a, c, "tag", |c| c.pick(&["legacy", "x"]));
    set_maybe(&mut a, c, "content_type", |c| {
        c.pick(&["application/json", "application/xml", "multipart/form-data", "text/plain"])
    });
    set_maybe(&mut a, c, "is_send_fg_body_base64", |c| c.flag());

    // The backend.
    let backend = c.pick(&["HTTP", "GRPC", "FUNCTION", "MOCK"]);
    a.insert("backend_type".into(), backend.into());
    let mut path_names: Vec<&str> = Vec::new();
    match backend {
        "HTTP" | "GRPC" => {
            let mut b = Map::new();
            http_target(c, &mut b, backend == "GRPC");
            let (uri, names) = backend_path(c);
            b.insert("req_uri".into(), uri.into());
            path_names = names;
            b.insert("timeout".into(), c.pick(&[1, 5000, 600_000]).into());
            set_maybe(&mut b, c, "remark", text);
            set_maybe(&mut b, c, "version", |_| "v1");
            set_maybe(&mut b, c, "enable_client_ssl", |c| c.flag());
            set_maybe(&mut b, c, "authorizer_id", |c| c.pick(AUTHORIZER_IDS));
            a.insert("backend_api".into(), b.into());
        }
        "FUNCTION" => {
            let mut f = Map::new();
            function_target(c, &mut f);
            let v1 = f["network_type"] == "V1";
            f.insert("timeout".into(), (if v1 { c.pick(&[1, 60_000]) } else { c.pick(&[5000, 600_000]) }).into());
            set_maybe(&mut f, c, "remark", text);
            set_maybe(&mut f, c, "authorizer_id", |c| c.pick(AUTHORIZER_IDS));
            a.insert("func_info".into(), f.into());
        }
        _ => {
            let mut m = Map::new();
            set_maybe(&mut m, c, "result_content", text);
            set_maybe(&mut m, c, "remark", text);
            set_maybe(&mut m, c, "version", |_| "v1");
            set_maybe(&mut m, c, "authorizer_id", |c| c.pick(AUTHORIZER_IDS));
            a.insert("mock_info".into(), m.into());
        }
    }
    a.insert("backend_params".into(), backend_params(c, &path_names, &frontend).into());

    // Backend policies of every kind.
    let (mut https, mut functions, mut mocks) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..c.below(4) {
        let name = format!("{}{i}", c.pick(&["vip_tenant", "Policy", "p9_"]));
        match c.below(3) {
            0 => {
                let (uri, names) = backend_path(c);
                let mut p = policy_common(c, name, &frontend, &names);
                http_target(c, &mut p, backend == "GRPC");
                p.insert("req_uri".into(), uri.into());
                set_maybe(&mut p, c, "timeout", |c| c.pick(&[1, 5000, 600_000]));
                https.push(Value::Object(p));
            }
            1 => {
                let mut p = policy_common(c, name, &frontend, &[]);
                function_target(c, &mut p);
                set_maybe(&mut p, c, "timeout", |c| c.pick(&[1, 5000]));
                functions.push(Value::Object(p));
            }
            _ => {
                let mut p = policy_common(c, name, &frontend, &[]);
                set_maybe(&mut p, c, "result_content", text);
                mocks.push(Value::Object(p));
            }
        }
    }
    for (key, list) in [("policy_https", https), ("policy_functions", functions), ("policy_mocks", mocks)] {
        if !list.is_empty() || c.flag() {
            a.insert(key.into(), list.into());
        }
    }
    let ext = extensions(
        c,
        &["x-vendor-flag", "x-apigateway-ratelimit", "x-apigateway-plugins", "x-amazon-apigateway-integration"],
    );
    if !ext.is_empty() {
        a.insert("openapi_extensions".into(), Value::Object(ext));
    }
    Value::Object(a)
}

/// A group of 1–8 valid APIs and the group's own extensions.
fn group(data: &[u32]) -> (Vec<Api>, Map<String, Value>) {
    let mut c = Choices { data, pos: 0 };
    let mut taken = HashSet::new();
    let count = 1 + c.below(8);
    let apis = (0..count).map(|i| stored(definition(api(&mut c, i, &mut taken)))).collect();
    let group_extensions = extensions(&mut c, &["x-group-owner", "x-tagGroups", "x-apigateway-ratelimits"]);
    (apis, group_extensions)
}

/// Names for some of the referenced ids (others are written as ids), and their inverse.
fn names() -> (HashMap<String, String>, References) {
    let mut names = HashMap::new();
    names.insert(CHANNEL_IDS[0].to_owned(), "channel_a".to_owned());
    names.insert(MEMBER_GROUP_IDS[0].to_owned(), "group_a".to_owned());
    names.insert(RESPONSE_IDS[0].to_owned(), "default".to_owned());
    let mut references = References::default();
    for (id, name) in &names {
        let map = if id == RESPONSE_IDS[0] { &mut references.responses } else { &mut references.vpc_channels };
        map.insert(name.clone(), id.clone());
    }
    (names, references)
}

fn setting(group_extensions: Map<String, Value>) -> (Setting, References) {
    let (names, references) = names();
    let mut setting = Setting { names, group_extensions, ..Setting::default() };
    let authorizer =
        json!({"type": "FRONTEND", "authorizer_type": "FUNC", "authorizer_uri": "urn:fss:x:y:function:z:auth"});
    setting
        .objects
        .authorizers
        .insert(AUTHORIZER_IDS[0].to_owned(), ("auth_one".to_owned(), authorizer.as_object().unwrap().clone()));
    (setting, references)
}

const COMBINATIONS: [(OasVersion, Format); 4] = [
    (OasVersion::V2, Format::Json),
    (OasVersion::V2, Format::Yaml),
    (OasVersion::V3, Format::Json),
    (OasVersion::V3, Format::Yaml),
];

fn check_round_trip(data: &[u32]) -> Result<(), TestCaseError> {
    let (apis, group_extensions) = group(data);
    let (setting, references) = setting(group_extensions);
    let context = ImportContext { group_id: GROUP_ID.into(), references, mock_mode: false };
    for (oas, format) in COMBINATIONS {
        let first = export(&setting, &apis, oas, format);
        let text = String::from_utf8(first.clone()).unwrap();
        dump(&first, oas, format);
        let parsed = parse(&first, &context).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed.apis.len(), apis.len(), "{:?} {:?}\n{}", oas, format, text);
        // (a) every API imports.
        let mut imported: Vec<ApiDefinition> = Vec::new();
        for p in &parsed.apis {
            match &p.definition {
                Ok(d) => imported.push(d.clone()),
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "{oas:?} {format:?}: {} {} failed: {e}\n{text}",
                        p.method, p.path
                    )));
                }
            }
        }
        prop_assert_eq!(&parsed.extensions, &setting.group_extensions);
        // (c) the definitions survive, up to server-assigned fields.
        for original in &apis {
            let back = imported.iter().find(|d| d.name == original.definition.name);
            let back = back.ok_or_else(|| TestCaseError::fail(format!("{} missing", original.definition.name)))?;
            let mut back = back.clone();
            back.prepare(None, common::now());
            let (want, got) = (comparable(&original.definition), comparable(&back));
            if want != got {
                let name = &original.definition.name;
                let diff = common::differences(&want, &got);
                return Err(TestCaseError::fail(format!("{oas:?} {format:?}: {name} changed:\n{diff}\n{text}")));
            }
        }
        // The other definition levels import too (`spec` has no backends: mocks).
        for define in [Define::Spec, Define::Proxy, Define::All].into_iter().filter(|_| format == Format::Json) {
            let doc = common::export_with(&setting, &apis, oas, format, define);
            dump(&doc, oas, format);
            let parsed = parse(&doc, &context).map_err(|e| TestCaseError::fail(format!("{define:?}: {e}")))?;
            for p in &parsed.apis {
                if let Err(e) = &p.definition {
                    return Err(TestCaseError::fail(format!(
                        "{define:?} {oas:?} {format:?}: {} {}: {e}",
                        p.method, p.path
                    )));
                }
            }
        }
        // (b) export again: the same bytes.
        let again: Vec<Api> = imported
            .into_iter()
            .map(|mut d| {
                d.prepare(None, common::now());
                stored(d)
            })
            .collect();
        let second_setting = Setting { group_extensions: parsed.extensions.clone(), ..setting.clone() };
        let second = export(&second_setting, &again, oas, format);
        if first != second {
            let second = String::from_utf8_lossy(&second);
            let (a, b): (Vec<&str>, Vec<&str>) = (text.lines().collect(), second.lines().collect());
            let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
            let from = at.saturating_sub(15);
            return Err(TestCaseError::fail(format!(
                "{oas:?} {format:?}: second export differs at line {at}:\n--- first\n{}\n--- second\n{}",
                a[from..(at + 5).min(a.len())].join("\n"),
                b[from..(at + 5).min(b.len())].join("\n")
            )));
        }
    }
    Ok(())
}

/// With `PORTICO_DUMP_DIR` set, every first export is also written there, for an outside
/// validator: `openapi-spec-validator $PORTICO_DUMP_DIR/*`.
fn dump(doc: &[u8], oas: OasVersion, format: Format) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let Some(dir) = std::env::var_os("PORTICO_DUMP_DIR") else { return };
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let ext = if format == Format::Json { "json" } else { "yaml" };
    let path = std::path::Path::new(&dir).join(format!("{n:05}-{oas:?}.{ext}"));
    std::fs::write(path, doc).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 80, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn export_import_export_is_lossless(data in prop::collection::vec(any::<u32>(), 600)) {
        check_round_trip(&data)?;
    }
}

/// The generator is meant to cover every kind of backend, parameter, condition and auth type
/// within the property's cases; this checks that it does on a fixed sample of seeds.
#[test]
fn generator_covers_the_model() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(any::<u32>(), 600);
    let mut seen: HashSet<String> = HashSet::new();
    for _ in 0..96 {
        let data = strategy.new_tree(&mut runner).unwrap().current();
        let (apis, _) = group(&data);
        let mut operations = HashSet::new();
        for api in &apis {
            let d = &api.definition;
            let key = (d.req_uri.replace("+}", "}"), d.req_method);
            if !operations.insert(key) {
                seen.insert("x-portico-operations".into());
            }
            if d.req_uri.contains("+}") {
                seen.insert("{name+}".into());
            }
            if d.req_params.iter().any(|p| p.enumerations.as_deref().is_some_and(|e| e.contains("1.50"))) {
                seen.insert("non-canonical number".into());
            }
            if d.trace_enabled == Some(true) {
                seen.insert("trace".into());
            }
            seen.insert(format!("backend {}", d.backend_type));
            if let Some(b) = &d.backend_api {
                seen.insert(format!("vpc {} {}", b.vpc_channel_status, b.req_protocol));
            }
            seen.insert(format!("auth {}", d.auth_type));
            seen.insert(format!("method {}", d.req_method));
            seen.insert(format!("protocol {}", d.req_protocol));
            for p in &d.req_params {
                seen.insert(format!("param {} {}", p.location, p.param_type));
            }
            for p in d.backend_params.iter().chain(d.policies().flat_map(|p| &p.backend_params)) {
                seen.insert(format!("origin {}", p.origin));
            }
            for p in d.policies() {
                seen.insert(format!("effect {}", p.effect_mode));
                for c in &p.conditions {
                    seen.insert(format!("condition {}", c.condition_origin));
                    if let Some(t) = c.condition_type {
                        seen.insert(format!("type {t}"));
                    }
                }
            }
            if !d.policy_https.is_empty() {
                seen.insert("policy http".into());
            }
            if !d.policy_functions.is_empty() {
                seen.insert("policy function".into());
            }
            if !d.policy_mocks.is_empty() {
                seen.insert("policy mock".into());
            }
        }
    }
    let expected = [
        "backend HTTP",
        "backend GRPC",
        "backend FUNCTION",
        "backend MOCK",
        "vpc 1 HTTP",
        "vpc 2 HTTPS",
        "vpc 4 HTTP",
        "vpc 1 GRPC",
        "vpc 2 GRPCS",
        "auth NONE",
        "auth APP",
        "auth IAM",
        "auth AUTHORIZER",
        "method ANY",
        "method GET",
        "protocol GRPCS",
        "protocol BOTH",
        "param PATH STRING",
        "param QUERY NUMBER",
        "param HEADER STRING",
        "origin REQUEST",
        "origin CONSTANT",
        "origin SYSTEM",
        "effect ALL",
        "effect ANY",
        "condition param",
        "condition source",
        "condition system",
        "condition cookie",
        "condition frontend_authorizer",
        "condition orchestration",
        "type exact",
        "type enum",
        "type pattern",
        "policy http",
        "policy function",
        "policy mock",
        "x-portico-operations",
        "{name+}",
        "non-canonical number",
        "trace",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|e| !seen.contains(*e)).collect();
    assert!(missing.is_empty(), "the generator never produced {missing:?}");
}

fn nodes(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.values().map(|c| 1 + nodes(c)).sum(),
        Value::Array(a) => a.iter().map(|c| 1 + nodes(c)).sum(),
        _ => 0,
    }
}

/// Replaces or removes the `target`-th node (in document order) of `doc`.
fn mutate(doc: &mut Value, target: &mut usize, replacement: &Value, remove: bool) -> bool {
    let children: Vec<String> = match doc {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => (0..a.len()).map(|i| i.to_string()).collect(),
        _ => return false,
    };
    for key in children {
        if *target == 0 {
            match doc {
                Value::Object(m) if remove => drop(m.shift_remove(&key)),
                Value::Object(m) => m[&key] = replacement.clone(),
                Value::Array(a) => a[key.parse::<usize>().unwrap()] = replacement.clone(),
                _ => {}
            }
            return true;
        }
        *target -= 1;
        let child = match doc {
            Value::Object(m) => m.get_mut(&key).unwrap(),
            Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
        if mutate(child, target, replacement, remove) {
            return true;
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// A damaged document never panics the reader: it imports, fails per API, or is refused.
    #[test]
    fn damaged_documents_do_not_panic(
        data in prop::collection::vec(any::<u32>(), 600),
        edits in prop::collection::vec((any::<usize>(), 0usize..12, any::<bool>()), 1..6),
        v3 in any::<bool>(),
    ) {
        let (apis, group_extensions) = group(&data);
        let (setting, references) = setting(group_extensions);
        let oas = if v3 { OasVersion::V3 } else { OasVersion::V2 };
        let mut doc: Value = serde_json::from_slice(&export(&setting, &apis, oas, Format::Json)).unwrap();
        let replacements = [
            Value::Null, json!(""), json!("x"), json!(0), json!(-1), json!(1e300), json!([]), json!({}),
            json!(true), json!("é".repeat(200)), json!({"$ref": "#/nowhere/at/all"}), json!([{"$ref": "#/"}]),
        ];
        for (target, which, remove) in edits {
            let mut at = target % nodes(&doc).max(1);
            mutate(&mut doc, &mut at, &replacements[which], remove);
        }
        let context = ImportContext { group_id: GROUP_ID.into(), references, mock_mode: false };
        let _ = parse(&serde_json::to_vec(&doc).unwrap(), &context);
    }
}
