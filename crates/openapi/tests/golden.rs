//! Hand-written documents and checked-in exports.
//!
//! - `golden/import/*.yaml` are the worked example of `shared/spec/extensions.md` §7 (Swagger
//!   verbatim, OpenAPI 3 with `default` instead of `default-cors` response keys, which OpenAPI
//!   3.0 forbids); the tests import them and check the definitions field by field, as §7's
//!   "Expected management-API view" says.
//! - `golden/export/*` are exports of a fixed set of APIs. After an intended change of the
//!   export format, regenerate them with `UPDATE_GOLDEN=1 cargo test -p portico-openapi --test
//!   golden` and review the diff. Every file in `golden/` passes `openapi-spec-validator`.
//!
//! Also here: unknown `x-*` fields surviving import → export, the reader's tolerance for
//! variants found in APIG's own documents, and the failures it reports.

mod common;

use std::path::PathBuf;

use common::{GROUP_ID, Setting, definition, export, stored};
use portico_model::{
    Api, ApiDefinition, AuthType, BackendProtocol, BackendType, ConditionOrigin, ConditionType, EffectMode, FieldError,
    InvocationType, MatchMode, Method, NetworkType, ParamLocation, ParamOrigin, ParamType, ReqProtocol,
};
use portico_openapi::{DocumentError, Format, ImportContext, OasVersion, ParsedDocument, References, parse};
use serde_json::{Value, json};

const RESPONSE_ID: &str = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";

fn golden(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(path)
}

fn context() -> ImportContext {
    let mut references = References::default();
    references.responses.insert("default".into(), RESPONSE_ID.into());
    ImportContext { group_id: GROUP_ID.into(), references, mock_mode: false }
}

fn import(doc: &str) -> ParsedDocument {
    parse(doc.as_bytes(), &context()).expect("a document")
}

/// Every API of the document, which must all import.
fn definitions(doc: &ParsedDocument) -> Vec<ApiDefinition> {
    doc.apis
        .iter()
        .map(|a| match &a.definition {
            Ok(d) => {
                let mut d = d.clone();
                d.prepare(None, common::now());
                d
            }
            Err(e) => panic!("{} {}: {e}", a.method, a.path),
        })
        .collect()
}

fn check_worked_example(doc: &ParsedDocument) {
    assert_eq!(doc.title.as_deref(), Some("orders_demo"));
    assert_eq!(doc.description.as_deref(), Some("Orders demo group"));
    assert!(doc.extensions.contains_key("x-apigateway-ratelimits"));
    assert!(doc.extensions.contains_key("x-apigateway-access-controls"));
    let places: Vec<(&str, &str)> = doc.apis.iter().map(|a| (a.path.as_str(), a.method.as_str())).collect();
    assert_eq!(places, [("/orders/{orderId}", "GET"), ("/orders/mock", "GET"), ("/orders/fn", "ANY")]);
    let defs = definitions(doc);
    let [get, mock, func] = &defs[..] else { panic!("three APIs") };

    // get_order
    assert_eq!(get.name, "get_order");
    assert_eq!(get.remark.as_deref(), Some("Read one order"));
    assert_eq!(get.group_id, GROUP_ID);
    assert_eq!(get.api_type, 1);
    assert_eq!(get.req_protocol, ReqProtocol::Https);
    assert_eq!(get.req_method, Method::Get);
    assert_eq!(get.req_uri, "/orders/{orderId}");
    assert_eq!(get.auth_type, AuthType::None);
    assert_eq!(get.match_mode, MatchMode::Normal);
    assert!(!get.cors);
    assert_eq!(get.is_send_fg_body_base64, Some(true));
    assert_eq!(get.response_id.as_deref(), Some(RESPONSE_ID));
    assert_eq!(get.result_normal_sample.as_deref(), Some(r#"{"id":"o-1"}"#));
    assert_eq!(get.result_failure_sample.as_deref(), Some(r#"{"error":"not found"}"#));
    assert_eq!(get.backend_type, BackendType::Http);
    let b = get.backend_api.as_ref().unwrap();
    assert_eq!(b.url_domain.as_deref(), Some("backend.example.com:8443"));
    assert_eq!(b.req_protocol, BackendProtocol::Https);
    assert_eq!(b.req_method, Method::Get);
    assert_eq!(b.req_uri, "/v1/orders/{id}");
    assert_eq!(b.timeout, 5000);
    assert_eq!(b.retry_count, "-1");
    assert_eq!(b.vpc_channel_status, 2);
    assert_eq!(b.enable_client_ssl, Some(false));
    assert_eq!(b.remark.as_deref(), Some(""));
    let params: Vec<(&str, ParamLocation, ParamType, i32)> =
        get.req_params.iter().map(|p| (p.name.as_str(), p.location, p.param_type, p.required)).collect();
    assert_eq!(
        params,
        [
            ("orderId", ParamLocation::Path, ParamType::String, 1),
            ("verbose", ParamLocation::Query, ParamType::Number, 2),
            ("X-Tenant", ParamLocation::Header, ParamType::String, 1),
        ]
    );
    let [order_id, verbose, tenant] = &get.req_params[..] else { unreachable!() };
    assert_eq!(order_id.max_size, Some(32));
    assert_eq!(order_id.remark.as_deref(), Some("order id"));
    assert_eq!(order_id.pass_through, Some(1));
    assert_eq!((verbose.min_num, verbose.max_num), (Some(0), Some(1)));
    assert_eq!(verbose.default_value.as_deref(), Some("0"));
    assert_eq!(verbose.valid_enable, 2);
    assert_eq!(tenant.pass_through, Some(1));
    let backend: Vec<(&str, ParamLocation, ParamOrigin, &str)> =
        get.backend_params.iter().map(|p| (p.name.as_str(), p.location, p.origin, p.value.as_str())).collect();
    assert_eq!(
        backend,
        [
            ("id", ParamLocation::Path, ParamOrigin::Request, "orderId"),
            ("X-Caller", ParamLocation::Header, ParamOrigin::Constant, "apig"),
            ("X-Client-Ip", ParamLocation::Header, ParamOrigin::System, "$context.sourceIp"),
        ]
    );
    assert_eq!(get.backend_params[0].remark.as_deref(), Some("frontend path param orderId"));
    assert_eq!(get.backend_params[0].req_param_id.as_ref(), Some(&order_id.id));
    assert_eq!(get.policy_https.len(), 1);
    let policy = &get.policy_https[0];
    assert_eq!(policy.common.name, "vip_tenant");
    assert_eq!(policy.common.effect_mode, EffectMode::All);
    assert_eq!(policy.url_domain.as_deref(), Some("vip.example.com:8443"));
    assert_eq!((policy.req_protocol, policy.req_method), (BackendProtocol::Https, Method::Get));
    assert_eq!(policy.req_uri, "/v1/orders/{id}");
    assert_eq!(policy.timeout, Some(5000));
    assert_eq!(policy.vpc_channel_status, 2);
    assert_eq!(policy.common.backend_params.len(), 1);
    assert_eq!(policy.common.backend_params[0].value, "orderId");
    let [tenant_is_vip, from_office] = &policy.common.conditions[..] else { panic!("two conditions") };
    assert_eq!(tenant_is_vip.condition_origin, ConditionOrigin::Param);
    assert_eq!(tenant_is_vip.req_param_name.as_deref(), Some("X-Tenant"));
    assert_eq!(tenant_is_vip.req_param_location, Some(ParamLocation::Header));
    assert_eq!(tenant_is_vip.condition_type, Some(ConditionType::Exact));
    assert_eq!(tenant_is_vip.condition_value, "vip");
    assert_eq!(from_office.condition_origin, ConditionOrigin::Source);
    assert_eq!(from_office.condition_type, Some(ConditionType::Pattern));
    assert_eq!(from_office.condition_value, "10.0.0.0/8");
    assert!(get.policy_functions.is_empty() && get.policy_mocks.is_empty());
    // The throttle and ACL bindings are kept as they are, for whoever creates the bindings.
    assert_eq!(get.openapi_extensions.get("x-apigateway-ratelimit"), Some(&json!("orders_tps")));
    assert_eq!(get.openapi_extensions.get("x-apigateway-access-control"), Some(&json!("office_only")));

    // mock_orders
    assert_eq!(mock.name, "mock_orders");
    assert_eq!(mock.api_type, 2);
    assert_eq!(mock.auth_type, AuthType::App);
    assert!(mock.cors);
    assert_eq!(mock.backend_type, BackendType::Mock);
    let m = mock.mock_info.as_ref().unwrap();
    assert_eq!(m.result_content.as_deref(), Some(r#"{"orders":[]}"#));
    assert!(mock.req_params.is_empty() && mock.backend_params.is_empty());

    // orders_fn
    assert_eq!(func.name, "orders_fn");
    assert_eq!(func.req_method, Method::Any);
    assert_eq!(func.auth_type, AuthType::Iam);
    assert_eq!(func.match_mode, MatchMode::Swa);
    assert_eq!(func.backend_type, BackendType::Function);
    let f = func.func_info.as_ref().unwrap();
    assert_eq!(f.function_urn, "urn:fss:eu-de:0123456789abcdef0123456789abcdef:function:default:orders");
    assert_eq!(f.invocation_type, InvocationType::Sync);
    assert_eq!(f.network_type, NetworkType::V1);
    assert_eq!(f.timeout, 5000);
    assert_eq!(f.version.as_deref(), Some("latest"));
    assert_eq!(func.req_params[0].enumerations.as_deref(), Some("list,count"));
    assert_eq!(func.backend_params[0].location, ParamLocation::Query);
}

#[test]
fn imports_the_worked_example_swagger() {
    let doc = import(&std::fs::read_to_string(golden("import/orders_demo.swagger.yaml")).unwrap());
    assert_eq!(doc.oas, OasVersion::V2);
    assert!(doc.extensions.contains_key("x-apigateway-responses"));
    check_worked_example(&doc);
}

#[test]
fn imports_the_worked_example_openapi() {
    let doc = import(&std::fs::read_to_string(golden("import/orders_demo.openapi.yaml")).unwrap());
    assert_eq!(doc.oas, OasVersion::V3);
    // Kept from `components`, as a document-level map.
    assert_eq!(doc.extensions.get("x-apigateway-responses"), Some(&json!({"default": {}})));
    check_worked_example(&doc);
}

/// Both forms of the worked example describe the same APIs.
#[test]
fn the_worked_example_is_the_same_in_both_versions() {
    let v2 = definitions(&import(&std::fs::read_to_string(golden("import/orders_demo.swagger.yaml")).unwrap()));
    let v3 = definitions(&import(&std::fs::read_to_string(golden("import/orders_demo.openapi.yaml")).unwrap()));
    let v2: Vec<Value> = v2.iter().map(common::comparable).collect();
    let v3: Vec<Value> = v3.iter().map(common::comparable).collect();
    assert_eq!(v2, v3, "{}", common::differences(&Value::from(v2.clone()), &Value::from(v3.clone())));
}

const AUTHORIZER_ID: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const CHANNEL_ID: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
const MEMBER_GROUP_ID: &str = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";

/// APIs beyond the worked example: gRPC through a VPC channel with a custom authorizer on a
/// `{name+}` path, the same path and method in exact match mode (`x-portico-operations`), a
/// member-group backend with a mock policy, a function backend with function policies, and the
/// parameter and API fields only `x-portico-*` carries.
fn extra_apis() -> Vec<Value> {
    vec![
        json!({
            "name": "grpc_stream", "type": 1, "group_id": GROUP_ID, "req_protocol": "GRPCS",
            "req_method": "POST", "req_uri": "/stream/{name+}", "match_mode": "SWA",
            "auth_type": "AUTHORIZER", "authorizer_id": AUTHORIZER_ID, "backend_type": "GRPC",
            "req_params": [{"name": "name", "type": "STRING", "location": "PATH"}],
            "backend_api": {"req_protocol": "GRPCS", "req_method": "POST", "req_uri": "/svc.Stream/Open",
                            "timeout": 60000, "vpc_channel_status": 1,
                            "vpc_channel_info": {"vpc_channel_id": CHANNEL_ID, "vpc_channel_proxy_host": "grpc.internal"}},
        }),
        json!({
            "name": "stream_exact", "type": 2, "group_id": GROUP_ID, "req_protocol": "BOTH",
            "req_method": "POST", "req_uri": "/stream/{name}", "auth_type": "APP",
            "auth_opt": {"app_code_auth_type": "HEADER"}, "backend_type": "HTTP", "cors": true,
            "req_params": [{"name": "name", "type": "STRING", "location": "PATH"}],
            "backend_api": {"req_protocol": "HTTP", "req_method": "POST", "req_uri": "/stream/{name}",
                            "timeout": 5000, "retry_count": "3", "vpc_channel_status": 4,
                            "member_group_url_infos": [{"member_group_id": MEMBER_GROUP_ID, "req_protocol": "HTTPS",
                                                        "req_method": "POST", "req_uri": "/blue/{name}"}]},
            "backend_params": [{"name": "name", "location": "PATH", "origin": "REQUEST", "value": "name"}],
            "policy_mocks": [{"name": "maintenance", "effect_mode": "ANY", "result_content": "{\"down\":true}",
                              "conditions": [
                                  {"condition_origin": "system", "sys_param_name": "req_method",
                                   "condition_type": "exact", "condition_value": "POST"},
                                  {"condition_origin": "cookie", "cookie_param_name": "beta",
                                   "condition_type": "enum", "condition_value": "1,yes"}]}],
        }),
        json!({
            "name": "price_quote", "type": 1, "group_id": GROUP_ID, "req_protocol": "HTTPS",
            "req_method": "GET", "req_uri": "/quotes", "auth_type": "NONE", "backend_type": "FUNCTION",
            "version": "v2", "trace_enabled": true, "sampling_strategy": "RATE", "sampling_param": "10",
            "body_remark": "none", "roma_app_id": "roma-1", "domain_name": "api.example.com", "tag": "legacy",
            "content_type": "application/json", "tags": ["pricing", "v2"],
            "openapi_extensions": {"x-team": {"owner": "pricing", "oncall": ["a", "b"]}},
            "req_params": [
                {"name": "amount", "type": "NUMBER", "location": "QUERY", "required": 1, "valid_enable": 1,
                 "enumerations": "1.50,2,2", "default_value": "1.50", "min_num": 0, "max_num": 100,
                 "sample_value": "2", "remark": "yes"},
                {"name": "currency", "type": "STRING", "location": "HEADER", "default_value": "EUR",
                 "regular": "^[A-Z]{3}$", "json_schema": "{\"type\":\"string\"}", "orchestrations": ["f0f0"],
                 "pass_through": 2, "openapi_extensions": {"x-iso": 4217}},
            ],
            "func_info": {"function_urn": "urn:fss:eu-de:0123456789abcdef:function:default:quote",
                          "invocation_type": "async", "network_type": "V2", "timeout": 120000,
                          "alias_urn": "urn:fss:eu-de:0123456789abcdef:function:default:quote:!prod"},
            "backend_params": [{"name": "X-Request-Id", "location": "HEADER", "origin": "SYSTEM",
                                "value": "$context.requestId", "remark": "trace"}],
            "policy_functions": [{"name": "big_orders", "effect_mode": "ALL",
                                  "function_urn": "urn:fss:eu-de:0123456789abcdef:function:default:big",
                                  "invocation_type": "sync", "network_type": "V1",
                                  "conditions": [
                                      {"condition_origin": "frontend_authorizer", "condition_type": "pattern",
                                       "frontend_authorizer_param_name": "$context.authorizer.frontend.tier",
                                       "condition_value": "^gold$"},
                                      {"condition_origin": "orchestration", "mapped_param_name": "size",
                                       "mapped_param_location": "header", "condition_value": "large"},
                                      {"condition_origin": "param", "req_param_name": "amount",
                                       "condition_type": "exact", "condition_value": "2"}]}],
        }),
    ]
}

fn golden_apis() -> (Vec<Api>, Setting) {
    let doc = import(&std::fs::read_to_string(golden("import/orders_demo.swagger.yaml")).unwrap());
    let mut apis: Vec<Api> = definitions(&doc).into_iter().map(stored).collect();
    apis.extend(extra_apis().into_iter().map(|wire| stored(definition(wire))));
    let mut setting = Setting { group_extensions: doc.extensions.clone(), ..Setting::default() };
    setting.names.insert(CHANNEL_ID.into(), "grpc_channel".into());
    setting.names.insert(MEMBER_GROUP_ID.into(), "blue".into());
    setting.names.insert(RESPONSE_ID.into(), "default".into());
    let authorizer = json!({"type": "FRONTEND", "authorizer_type": "FUNC",
                            "authorizer_uri": "urn:fss:eu-de:0123456789abcdef:function:default:auth",
                            "network_type": "V1", "ttl": 60});
    setting
        .objects
        .authorizers
        .insert(AUTHORIZER_ID.into(), ("tenant_auth".into(), authorizer.as_object().unwrap().clone()));
    (apis, setting)
}

const EXPORTS: [(OasVersion, Format, &str); 4] = [
    (OasVersion::V2, Format::Json, "export/orders_demo.swagger.json"),
    (OasVersion::V2, Format::Yaml, "export/orders_demo.swagger.yaml"),
    (OasVersion::V3, Format::Json, "export/orders_demo.openapi.json"),
    (OasVersion::V3, Format::Yaml, "export/orders_demo.openapi.yaml"),
];

#[test]
fn exports_match_the_golden_files() {
    let (apis, setting) = golden_apis();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for (oas, format, file) in EXPORTS {
        let doc = export(&setting, &apis, oas, format);
        let path = golden(file);
        if update {
            std::fs::write(&path, &doc).unwrap();
            continue;
        }
        let expected = std::fs::read(&path).unwrap_or_default();
        if expected != doc {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from the export; if intended: UPDATE_GOLDEN=1 cargo test -p portico-openapi --test golden"
    );
}

/// The golden exports import back to the APIs they came from.
#[test]
fn golden_exports_import_back() {
    let (apis, setting) = golden_apis();
    let mut context = context();
    context.references.vpc_channels.insert("grpc_channel".into(), CHANNEL_ID.into());
    context.references.vpc_channels.insert("blue".into(), MEMBER_GROUP_ID.into());
    for (oas, format, file) in EXPORTS {
        let doc = parse(&std::fs::read(golden(file)).unwrap(), &context).unwrap();
        assert_eq!(doc.oas, oas);
        let back = definitions(&doc);
        assert_eq!(back.len(), apis.len(), "{file}");
        for api in &apis {
            let again = back.iter().find(|d| d.name == api.definition.name).unwrap();
            let (want, got) = (common::comparable(&api.definition), common::comparable(again));
            assert_eq!(want, got, "{file}: {}\n{}", api.definition.name, common::differences(&want, &got));
        }
        let again: Vec<Api> = back.into_iter().map(stored).collect();
        let second = Setting { group_extensions: doc.extensions.clone(), ..setting.clone() };
        assert_eq!(export(&second, &again, oas, format), std::fs::read(golden(file)).unwrap(), "{file}");
    }
}

/// Unknown `x-` fields of the root, an operation and a parameter are kept and written again.
#[test]
fn unknown_extensions_survive_import_and_export() {
    for (oas, head, param) in [
        (OasVersion::V2, "swagger: '2.0'", "type: string"),
        (OasVersion::V3, "openapi: 3.0.3", "schema: {type: string}"),
    ] {
        let text = format!(
            "{head}
info: {{title: ext_demo, version: '1'}}
x-root-note: {{owner: team-a, since: 2020}}
paths:
  /things:
    get:
      operationId: list_things
      x-operation-note: [1, two, {{three: 3}}]
      x-apigateway-ratelimit: things_tps
      parameters:
        - name: q
          in: query
          {param}
          x-param-note: keep me
          x-apigateway-pass-through: always
      responses: {{default: {{description: ok}}}}
      x-apigateway-backend:
        type: MOCK
        mockEndpoints: {{result-content: '[]'}}
"
        );
        let doc = import(&text);
        assert_eq!(doc.extensions.get("x-root-note"), Some(&json!({"owner": "team-a", "since": 2020})));
        let defs = definitions(&doc);
        let def = &defs[0];
        assert_eq!(def.openapi_extensions.get("x-operation-note"), Some(&json!([1, "two", {"three": 3}])));
        assert_eq!(def.openapi_extensions.get("x-apigateway-ratelimit"), Some(&json!("things_tps")));
        assert!(!def.openapi_extensions.contains_key("x-apigateway-backend"), "interpreted keys are not kept");
        assert_eq!(def.req_params[0].openapi_extensions.get("x-param-note"), Some(&json!("keep me")));
        assert_eq!(def.req_params[0].openapi_extensions.len(), 1);

        let setting = Setting { group_extensions: doc.extensions.clone(), ..Setting::default() };
        for format in [Format::Json, Format::Yaml] {
            let out = export(&setting, &[stored(def.clone())], oas, format);
            let out: Value = yaml_serde::from_slice(&out).unwrap();
            assert_eq!(out["x-root-note"], json!({"owner": "team-a", "since": 2020}));
            let op = &out["paths"]["/things"]["get"];
            assert_eq!(op["x-operation-note"], json!([1, "two", {"three": 3}]));
            assert_eq!(op["x-apigateway-ratelimit"], json!("things_tps"));
            assert_eq!(op["parameters"][0]["x-param-note"], json!("keep me"));
        }
    }
}

/// An extension named like a key the exporter writes itself is not written a second time
/// (JSON would get a duplicate key): the interpreted field wins. Only the management API can
/// create such an extension; an import never keeps interpreted keys.
#[test]
fn extensions_do_not_shadow_interpreted_keys() {
    let wire = json!({
        "name": "shadow", "type": 1, "group_id": GROUP_ID, "req_protocol": "HTTPS", "req_method": "GET",
        "req_uri": "/shadow", "auth_type": "NONE", "backend_type": "MOCK", "mock_info": {},
        "openapi_extensions": {"x-apigateway-cors": "yes please", "x-apigateway-match-mode": "SWA", "x-other": 1},
        "req_params": [{"name": "q", "type": "STRING", "location": "QUERY",
                        "openapi_extensions": {"x-apigateway-pass-through": "sometimes", "x-other": 2}}],
    });
    let api = stored(definition(wire));
    for oas in [OasVersion::V2, OasVersion::V3] {
        let out =
            String::from_utf8(export(&Setting::default(), std::slice::from_ref(&api), oas, Format::Json)).unwrap();
        assert_eq!(out.matches("\"x-apigateway-cors\"").count(), 1, "{out}");
        assert_eq!(out.matches("\"x-apigateway-match-mode\"").count(), 1, "{out}");
        assert_eq!(out.matches("\"x-apigateway-pass-through\"").count(), 0, "{out}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        let op = &doc["paths"]["/shadow"]["get"];
        assert_eq!(op["x-apigateway-cors"], json!(false));
        assert_eq!(op["x-other"], json!(1));
        assert_eq!(op["parameters"][0]["x-other"], json!(2));
    }
}

// ---- reader tolerance -------------------------------------------------------------------------

fn swagger(paths: &str) -> String {
    format!("swagger: '2.0'\ninfo: {{title: t_demo, version: '1'}}\npaths:\n{paths}")
}

fn only_api(text: &str) -> ApiDefinition {
    let doc = import(text);
    assert_eq!(doc.apis.len(), 1);
    definitions(&doc).remove(0)
}

#[test]
fn backend_parameter_locations_in_either_case() {
    for (lower, upper) in [("path", "PATH"), ("query", "QUERY"), ("header", "HEADER")] {
        for spelling in [lower, upper, "Header"] {
            let location = if spelling == "Header" { "HEADER" } else { upper };
            let text = swagger(&format!(
                "  /a:
    get:
      operationId: api_a
      responses: {{default: {{description: ok}}}}
      x-apigateway-backend:
        type: HTTP
        parameters: [{{name: x, value: v, in: {spelling}, origin: constant}}]
        httpEndpoints: {{address: b.example.com, scheme: http, method: get, path: '/b{}'}}
",
                if location == "PATH" { "/{x}" } else { "" }
            ));
            let def = only_api(&text);
            assert_eq!(def.backend_params[0].location.as_str(), location, "{spelling}");
            assert_eq!(def.backend_params[0].origin, ParamOrigin::Constant);
        }
    }
}

#[test]
fn frontend_parameter_locations_in_either_case() {
    let text = swagger(
        "  /a:
    get:
      operationId: api_a
      parameters: [{name: q, in: QUERY, type: string}, {name: h, in: Header, type: number}]
      responses: {default: {description: ok}}
",
    );
    let def = only_api(&text);
    assert_eq!(def.req_params[0].location, ParamLocation::Query);
    assert_eq!(def.req_params[1].location, ParamLocation::Header);
    assert_eq!(def.req_params[1].param_type, ParamType::Number);
}

#[test]
fn conditions_in_the_older_spelling() {
    let text = swagger(
        "  /a:
    get:
      operationId: api_a
      parameters: [{name: tier, in: query, type: string}]
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: b.example.com, scheme: https, method: GET, path: /b}
      x-apigateway-backend-policies:
        - type: HTTP
          name: gold_tier
          httpEndpoints: {address: gold.example.com, scheme: https, method: GET, path: /gold}
          conditions:
            - {type: equal, value: gold, origin: request_parameter, parameter_name: tier}
            - {type: enum, value: 'a,b', origin: request, parameter: tier}
",
    );
    let def = only_api(&text);
    let conditions = &def.policy_https[0].common.conditions;
    for (c, kind) in conditions.iter().zip([ConditionType::Exact, ConditionType::Enum]) {
        assert_eq!(c.condition_origin, ConditionOrigin::Param);
        assert_eq!(c.req_param_name.as_deref(), Some("tier"));
        assert_eq!(c.condition_type, Some(kind));
    }
    assert_eq!(def.policy_https[0].timeout, None, "a policy without timeout keeps none");
}

/// Huawei's exports write 0 for all four unset bounds; a single 0/0 pair is a real bound.
#[test]
fn zero_bounds_from_huawei_exports_are_unset() {
    let text = swagger(
        "  /a:
    get:
      operationId: api_a
      parameters:
        - {name: q, in: query, type: string, maximum: 0, minimum: 0, maxLength: 0, minLength: 0,
           x-apigateway-pass-through: always, x-apigateway-sample: '', x-apigateway-orchestrations: []}
        - {name: n, in: query, type: number, maximum: 0, minimum: 0}
      responses: {default: {description: ok}}
",
    );
    let def = only_api(&text);
    let q = &def.req_params[0];
    assert_eq!((q.min_num, q.max_num, q.min_size, q.max_size), (None, None, None, None));
    assert!(q.orchestrations.is_empty());
    let n = &def.req_params[1];
    assert_eq!((n.min_num, n.max_num), (Some(0), Some(0)));
}

/// APIG's own OpenAPI 3 exports answer with a `default-cors` response holding the samples.
#[test]
fn samples_in_a_default_cors_response() {
    let text = "openapi: 3.0.1
info: {title: t_demo, version: '1'}
paths:
  /a:
    get:
      operationId: api_a
      responses:
        default-cors:
          description: response example
          x-apigateway-result-normal-sample: '{\"ok\":true}'
          x-apigateway-result-failure-sample: oops
";
    let def = only_api(text);
    assert_eq!(def.result_normal_sample.as_deref(), Some("{\"ok\":true}"));
    assert_eq!(def.result_failure_sample.as_deref(), Some("oops"));
}

#[test]
fn base_path_prefixes_every_path() {
    let text = "swagger: '2.0'
info: {title: t_demo, version: '1'}
basePath: /v1/
paths:
  /orders/{id}:
    get:
      operationId: api_a
      parameters: [{name: id, in: path, required: true, type: string}]
      responses: {default: {description: ok}}
";
    let doc = import(text);
    assert_eq!(doc.apis[0].path, "/v1/orders/{id}");
    assert_eq!(definitions(&doc)[0].req_uri, "/v1/orders/{id}");
}

/// Path-level parameters apply to every operation of the path unless the operation declares
/// the same name and location itself; `$ref`s to shared parameters and schemas resolve.
#[test]
fn shared_and_referenced_parameters() {
    let v2 = "swagger: '2.0'
info: {title: t_demo, version: '1'}
parameters:
  Tenant: {name: X-Tenant, in: header, required: true, type: string, maxLength: 8}
paths:
  /orders/{id}:
    parameters:
      - {name: id, in: path, required: true, type: string}
      - {name: verbose, in: query, type: string}
    get:
      operationId: get_one
      parameters:
        - $ref: '#/parameters/Tenant'
        - {name: verbose, in: query, type: number}
      responses: {default: {description: ok}}
    delete:
      operationId: delete_one
      responses: {default: {description: ok}}
";
    let v3 = "openapi: 3.0.3
info: {title: t_demo, version: '1'}
components:
  parameters:
    Tenant: {name: X-Tenant, in: header, required: true, schema: {$ref: '#/components/schemas/Short'}}
  schemas:
    Short: {type: string, maxLength: 8}
paths:
  /orders/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: verbose, in: query, schema: {type: string}}
    get:
      operationId: get_one
      parameters:
        - $ref: '#/components/parameters/Tenant'
        - {name: verbose, in: query, schema: {type: number}}
      responses: {default: {description: ok}}
    delete:
      operationId: delete_one
      responses: {default: {description: ok}}
";
    for text in [v2, v3] {
        let defs = definitions(&import(text));
        let get = &defs[0];
        let params: Vec<(&str, ParamLocation, ParamType)> =
            get.req_params.iter().map(|p| (p.name.as_str(), p.location, p.param_type)).collect();
        assert_eq!(
            params,
            [
                ("X-Tenant", ParamLocation::Header, ParamType::String),
                ("verbose", ParamLocation::Query, ParamType::Number),
                ("id", ParamLocation::Path, ParamType::String),
            ]
        );
        assert_eq!(get.req_params[0].max_size, Some(8));
        assert_eq!(get.req_params[0].required, 1);
        let delete: Vec<&str> = defs[1].req_params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(delete, ["id", "verbose"]);
    }
}

#[test]
fn json_or_yaml_by_content() {
    let json = r#"  {"swagger": "2.0", "info": {"title": "t_demo", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "api_a", "responses": {"default": {"description": "ok"}}}}}}"#;
    let with_bom = format!("\u{feff}{json}");
    let flow_yaml = "{swagger: '2.0', info: {title: t_demo, version: '1'}, paths: {/a: {get: {operationId: api_a}}}}";
    let block_yaml =
        "swagger: '2.0'\ninfo: {title: t_demo, version: '1'}\npaths:\n  /a:\n    get: {operationId: api_a}\n";
    for text in [json, &with_bom, flow_yaml, block_yaml] {
        let def = only_api(text);
        assert_eq!((def.name.as_str(), def.req_method, def.req_uri.as_str()), ("api_a", Method::Get, "/a"), "{text}");
        // No backend: a mock, answering with the success sample (none here).
        assert_eq!(def.backend_type, BackendType::Mock);
    }
}

// ---- failures ---------------------------------------------------------------------------------

/// A parameter APIG cannot represent fails its API alone, naming the parameter's `in`.
#[test]
fn unsupported_parameters_fail_their_api_alone() {
    let v2 = "swagger: '2.0'
info: {title: t_demo, version: '1'}
paths:
  /ok:
    get: {operationId: fine_api, responses: {default: {description: ok}}}
  /form:
    post:
      operationId: form_api
      parameters: [{name: q, in: query, type: string}, {name: f, in: formData, type: string}]
      responses: {default: {description: ok}}
  /body:
    post:
      operationId: body_api
      parameters: [{name: b, in: body, schema: {type: object}}]
      responses: {default: {description: ok}}
";
    let v3 = "openapi: 3.0.3
info: {title: t_demo, version: '1'}
paths:
  /ok:
    get: {operationId: fine_api, responses: {default: {description: ok}}}
  /cookie:
    get:
      operationId: cookie_api
      parameters: [{name: session, in: cookie, schema: {type: string}}]
      responses: {default: {description: ok}}
";
    let doc = import(v2);
    assert!(doc.apis[0].definition.is_ok());
    assert_eq!(doc.apis[1].definition, Err(FieldError::Invalid("parameters[1].in".into())));
    assert_eq!(doc.apis[2].definition, Err(FieldError::Invalid("parameters[0].in".into())));
    let doc = import(v3);
    assert!(doc.apis[0].definition.is_ok());
    assert_eq!(doc.apis[1].definition, Err(FieldError::Invalid("parameters[0].in".into())));
}

/// An operation the management API would refuse fails with the management API's field name.
#[test]
fn invalid_operations_fail_naming_the_field() {
    let text = swagger(
        "  /a/{id}:
    get:
      operationId: no_path_param
      responses: {default: {description: ok}}
  /b:
    get:
      operationId: x
      responses: {default: {description: ok}}
  /c:
    get:
      operationId: bad_type
      responses: {default: {description: ok}}
      x-apigateway-request-type: protected
",
    );
    let doc = import(&text);
    assert_eq!(doc.apis[0].definition, Err(FieldError::Invalid("req_uri".into())));
    assert_eq!(doc.apis[1].definition, Err(FieldError::Invalid("name".into())));
    assert_eq!(doc.apis[2].definition, Err(FieldError::Invalid("x-apigateway-request-type".into())));
}

#[test]
fn documents_that_are_not_openapi() {
    let syntax = |e: &DocumentError| matches!(e, DocumentError::Syntax(_));
    let not_openapi = |e: &DocumentError| matches!(e, DocumentError::NotOpenApi(_));
    let cases = [
        ("{\"openapi\": ", true),
        ("key: [unclosed", true),
        ("[1, 2]", false),
        ("{\"info\": {\"title\": \"x\"}, \"paths\": {}}", false),
        ("swagger: '1.2'\npaths: {}\n", false),
        ("openapi: 3.0.0\ninfo: {title: x, version: '1'}\n", false),
    ];
    // (document, whether it is a syntax error rather than a non-OpenAPI one)
    for (text, is_syntax) in cases {
        match parse(text.as_bytes(), &context()) {
            Err(e) => assert!(if is_syntax { syntax(&e) } else { not_openapi(&e) }, "{text}: {e:?}"),
            Ok(_) => panic!("{text} parsed"),
        }
    }
}

/// An operation without `operationId` gets a name from its method and path; a long,
/// non-ASCII method (only `x-portico-operations` can have one) fails cleanly.
#[test]
fn generated_names_and_odd_methods() {
    let long = "é".repeat(200);
    let text = swagger(&format!(
        "  /orders/{{id}}:
    get:
      parameters: [{{name: id, in: path, required: true, type: string}}]
      responses: {{default: {{description: ok}}}}
    x-portico-operations:
      - {{method: '{long}', responses: {{default: {{description: ok}}}}}}
"
    ));
    let doc = import(&text);
    assert_eq!(doc.apis[0].definition.as_ref().map(|d| d.name.as_str()), Ok("GET_orders_id"));
    assert_eq!(doc.apis[1].definition, Err(FieldError::Invalid("req_method".into())));
}
