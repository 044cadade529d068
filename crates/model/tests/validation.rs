//! Validation of `ApiCreate` bodies: every case is a mutation of one valid body and the error
//! it must produce (or none).

use portico_model::{ApiDefinition, FieldError, ParamLocation};
use serde_json::{Value, json};

fn valid() -> Value {
    json!({
        "name": "harness_api", "type": 1, "version": "v1", "req_protocol": "HTTPS", "req_method": "GET",
        "req_uri": "/harness/{id}", "auth_type": "APP", "cors": false, "match_mode": "NORMAL",
        "backend_type": "HTTP", "group_id": "g1", "result_normal_sample": "{\"ok\": true}",
        "req_params": [
            {"name": "id", "type": "STRING", "location": "PATH", "required": 1, "valid_enable": 2},
            {"name": "q", "type": "NUMBER", "location": "QUERY", "default_value": "5", "required": 2,
             "valid_enable": 1, "min_num": 1, "max_num": 10},
            {"name": "X-Trace", "type": "STRING", "location": "HEADER", "required": 2}
        ],
        "backend_params": [
            {"origin": "REQUEST", "name": "bid", "location": "PATH", "value": "id"},
            {"origin": "CONSTANT", "name": "X-Const", "location": "HEADER", "value": "c1"},
            {"origin": "SYSTEM", "name": "X-Src-Ip", "location": "HEADER", "value": "sourceIp"}
        ],
        "backend_api": {"url_domain": "backend.example.com:8080", "req_protocol": "HTTP", "req_method": "GET",
                        "req_uri": "/v1/items/{bid}", "timeout": 5000, "retry_count": "-1"},
        "policy_https": [{
            "name": "policy_one", "effect_mode": "ANY", "url_domain": "other.example.com",
            "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/v2/items", "timeout": 1000,
            "conditions": [
                {"condition_origin": "param", "req_param_name": "q", "condition_type": "exact", "condition_value": "7"},
                {"condition_origin": "source", "condition_value": "10.0.0.0/8,192.168.1.1"},
                {"condition_origin": "system", "sys_param_name": "req_method", "condition_type": "enum", "condition_value": "GET,POST"}
            ]
        }]
    })
}

/// Applies `mutate` to the valid body and checks the outcome.
fn check(mutate: impl FnOnce(&mut Value), expected: Option<FieldError>) {
    let mut body = valid();
    mutate(&mut body);
    let result = ApiDefinition::from_json(body.to_string().as_bytes());
    assert_eq!(result.err(), expected, "body: {body}");
}

fn missing(f: &str) -> Option<FieldError> {
    Some(FieldError::Missing(f.into()))
}

fn invalid(f: &str) -> Option<FieldError> {
    Some(FieldError::Invalid(f.into()))
}

#[test]
fn the_valid_body_passes() {
    check(|_| {}, None);
}

#[test]
fn required_fields_are_missing_not_invalid() {
    check(|b| drop(b.as_object_mut().unwrap().remove("req_uri")), missing("req_uri"));
    check(|b| b["name"] = json!(""), missing("name"));
    check(|b| b["group_id"] = Value::Null, missing("group_id"));
    check(|b| drop(b["req_params"][1].as_object_mut().unwrap().remove("type")), missing("req_params[1].type"));
    check(|b| drop(b["backend_api"].as_object_mut().unwrap().remove("timeout")), missing("backend_api.timeout"));
    check(
        |b| drop(b["policy_https"][0]["conditions"][0].as_object_mut().unwrap().remove("condition_value")),
        missing("policy_https[0].conditions[0].condition_value"),
    );
}

#[test]
fn wrong_types_and_enums_name_the_field() {
    check(|b| b["req_method"] = json!("FETCH"), invalid("req_method"));
    check(|b| b["type"] = json!("one"), invalid("type"));
    check(|b| b["req_params"][0]["location"] = json!("BODY"), invalid("req_params[0].location"));
    check(|b| b["backend_api"]["timeout"] = json!("slow"), invalid("backend_api.timeout"));
}

#[test]
fn malformed_json_is_its_own_error() {
    let err = ApiDefinition::from_json(b"{\"name\": ").unwrap_err();
    assert!(matches!(err, FieldError::MalformedJson(_)));
    let err = ApiDefinition::from_json(b"[1, 2]").unwrap_err();
    assert!(matches!(err, FieldError::MalformedJson(_)));
}

#[test]
fn values_follow_the_apig_rules() {
    check(|b| b["name"] = json!("ab"), invalid("name"));
    check(|b| b["name"] = json!("_starts_badly"), invalid("name"));
    check(|b| b["name"] = json!("名字可以是中文"), None);
    check(|b| b["type"] = json!(3), invalid("type"));
    check(|b| b["req_uri"] = json!("no/leading/slash"), invalid("req_uri"));
    // Braces only around a parameter, and one `+` marks a greedy one (found by fuzz/fuzz_targets/routes.rs).
    check(|b| b["req_uri"] = json!("/har}ness/{id}"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness/{id}}"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness/{id++}"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness/{id+}"), None);
    // A frontend parameter is a whole segment, a greedy one the last.
    check(|b| b["req_uri"] = json!("/harness/x-{id}"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness/{id}-x"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness/{id+}/"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness/{id+}/more"), invalid("req_uri"));
    check(|b| b["remark"] = json!("x".repeat(256)), invalid("remark"));
    check(|b| b["tags"] = json!(["ok", "9bad"]), invalid("tags"));
    check(|b| b["content_type"] = json!("text/html"), invalid("content_type"));
    check(|b| b["backend_api"]["timeout"] = json!(0), invalid("backend_api.timeout"));
    check(|b| b["backend_api"]["timeout"] = json!(600_001), invalid("backend_api.timeout"));
    check(|b| b["backend_api"]["retry_count"] = json!("11"), invalid("backend_api.retry_count"));
    check(|b| b["backend_api"]["url_domain"] = json!("bad host:80"), invalid("backend_api.url_domain"));
    check(|b| b["backend_api"]["url_domain"] = json!("#backend_host#"), None);
}

#[test]
fn cross_field_rules() {
    check(|b| b["backend_type"] = json!("FUNCTION"), invalid("func_info"));
    check(|b| b["backend_type"] = json!("MOCK"), invalid("mock_info"));
    check(|b| drop(b.as_object_mut().unwrap().remove("backend_api")), invalid("backend_api"));
    check(|b| b["auth_type"] = json!("AUTHORIZER"), invalid("authorizer_id"));
    check(
        |b| {
            b["auth_type"] = json!("AUTHORIZER");
            b["authorizer_id"] = json!("a1");
        },
        None,
    );
    check(|b| b["auth_opt"] = json!({"app_code_auth_type": "HEADER"}), None);
    check(
        |b| {
            b["auth_type"] = json!("IAM");
            b["auth_opt"] = json!({"app_code_auth_type": "HEADER"});
        },
        invalid("auth_opt"),
    );
    // A {param} of the path needs a PATH parameter, and a PATH parameter needs its {param}.
    check(|b| b["req_uri"] = json!("/harness/{id}/{other}"), invalid("req_uri"));
    check(|b| b["req_uri"] = json!("/harness"), invalid("req_params[0].location"));
    // A REQUEST backend parameter maps an existing frontend parameter.
    check(|b| b["backend_params"][0]["value"] = json!("nope"), invalid("backend_params[0].value"));
    check(|b| b["backend_params"][2]["value"] = json!("$context.notAThing"), invalid("backend_params[2].value"));
    // The backend path's {bid} must be filled by a PATH backend parameter.
    check(|b| b["backend_api"]["req_uri"] = json!("/v1/{missing}"), invalid("backend_api.req_uri"));
    check(|b| b["backend_api"]["vpc_channel_status"] = json!(1), missing("backend_api.vpc_channel_info"));
    check(|b| drop(b["backend_api"].as_object_mut().unwrap().remove("url_domain")), missing("backend_api.url_domain"));
}

#[test]
fn parameter_rules() {
    check(|b| b["req_params"][2]["name"] = json!("x-trace"), None);
    check(
        |b| {
            b["req_params"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "x-TRACE", "type": "STRING", "location": "HEADER"}))
        },
        invalid("req_params[3].name"),
    );
    check(|b| b["req_params"][1]["min_num"] = json!(20), invalid("req_params[1].min_num"));
    check(|b| b["req_params"][1]["default_value"] = json!("abc"), invalid("req_params[1].default_value"));
    check(|b| b["req_params"][1]["default_value"] = json!("11"), invalid("req_params[1].default_value"));
    check(|b| b["req_params"][1]["valid_enable"] = json!(3), invalid("req_params[1].valid_enable"));
    check(|b| b["req_params"][1]["enumerations"] = json!("1,2,3"), invalid("req_params[1].default_value"));
    check(|b| b["req_params"][1]["enumerations"] = json!("1,5,9"), None);
}

#[test]
fn policy_rules() {
    check(|b| b["policy_https"][0]["conditions"] = json!([]), invalid("policy_https[0].conditions"));
    check(
        |b| b["policy_https"][0]["conditions"][0]["req_param_name"] = json!("nope"),
        invalid("policy_https[0].conditions[0].req_param_name"),
    );
    check(
        |b| b["policy_https"][0]["conditions"][1]["condition_value"] = json!("10.0.0.0/33"),
        invalid("policy_https[0].conditions[1].condition_value"),
    );
    check(|b| b["policy_https"][0]["conditions"][0]["condition_type"] = json!("pattern"), None);
    check(
        |b| {
            b["policy_https"][0]["conditions"][0]["condition_type"] = json!("pattern");
            b["policy_https"][0]["conditions"][0]["condition_value"] = json!("([unclosed");
        },
        invalid("policy_https[0].conditions[0].condition_value"),
    );
    check(
        |b| drop(b["policy_https"][0]["conditions"][2].as_object_mut().unwrap().remove("condition_type")),
        missing("policy_https[0].conditions[2].condition_type"),
    );
    check(|b| b["policy_https"][0]["name"] = json!("1bad"), invalid("policy_https[0].name"));
    check(
        |b| {
            let copy = b["policy_https"][0].clone();
            b["policy_https"].as_array_mut().unwrap().push(copy);
        },
        invalid("policies[1].name"),
    );
}

#[test]
fn prepare_assigns_ids_links_parameters_and_keeps_ids_across_updates() {
    let mut def = ApiDefinition::from_json(valid().to_string().as_bytes()).unwrap();
    let now = portico_model::now();
    def.prepare(None, now);
    let id_param = &def.req_params[0];
    assert_eq!(id_param.id.len(), 32);
    assert_eq!(id_param.required, 1, "PATH parameters are always required");
    assert_eq!(def.req_params[2].required, 2, "other parameters default to optional");
    assert_eq!(def.backend_params[0].req_param_id.as_deref(), Some(id_param.id.as_str()));
    assert_eq!(def.backend_params[1].req_param_id, None);
    let condition = &def.policy_https[0].common.conditions[0];
    assert_eq!(condition.req_param_id.as_deref(), Some(def.req_params[1].id.as_str()));
    assert_eq!(condition.req_param_location, Some(ParamLocation::Query));
    let backend = def.backend_api.as_ref().unwrap();
    assert_eq!((backend.stamp.status, backend.stamp.register_time), (1, now));

    let mut updated = ApiDefinition::from_json(valid().to_string().as_bytes()).unwrap();
    updated.prepare(Some(&def), now + time::Duration::hours(1));
    assert_eq!(updated.req_params[0].id, def.req_params[0].id);
    assert_eq!(updated.policy_https[0].common.id, def.policy_https[0].common.id);
    let updated_backend = updated.backend_api.as_ref().unwrap();
    assert_eq!(updated_backend.stamp.id, backend.stamp.id);
    assert_eq!(updated_backend.stamp.register_time, now);
    assert_eq!(updated_backend.stamp.update_time, now + time::Duration::hours(1));
}

#[test]
fn only_the_named_backend_is_kept() {
    let mut body = valid();
    body["mock_info"] = json!({"result_content": "hi"});
    let def = ApiDefinition::from_json(body.to_string().as_bytes()).unwrap();
    assert!(def.mock_info.is_none());
    assert!(def.backend_api.is_some());
}

#[test]
fn errors_inside_a_policy_name_the_field() {
    check(|b| b["policy_https"][0]["effect_mode"] = json!("SOME"), invalid("policy_https[0].effect_mode"));
    check(
        |b| b["policy_https"][0]["conditions"][0]["condition_origin"] = json!("moon"),
        invalid("policy_https[0].conditions[0].condition_origin"),
    );
    check(|b| b["policy_https"][0]["req_method"] = json!("FETCH"), invalid("policy_https[0].req_method"));
}
