//! APIs: `/apis` (create, list, show = ShowDetailsOfApiV2, update, delete) and `/apis/check`,
//! with the validation rules of `ApiCreate`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// `base` with the value at JSON `pointer` replaced (or added to its parent object).
fn with(base: &Value, pointer: &str, value: Value) -> Value {
    let mut doc = base.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent} in the base body"));
    match parent {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().expect("an index")] = value,
        _ => panic!("{pointer} is inside a scalar"),
    }
    doc
}

/// `base` without the key at JSON `pointer`.
fn without(base: &Value, pointer: &str) -> Value {
    let mut doc = base.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let removed = doc.pointer_mut(parent).and_then(Value::as_object_mut).and_then(|m| m.remove(key));
    assert!(removed.is_some(), "{pointer} is not in the base body");
    doc
}

async fn group_id(app: &TestApp) -> String {
    app.create_group().await["id"].as_str().unwrap().to_string()
}

fn function_body(group_id: &str, name: &str) -> Value {
    json!({
        "name": name, "type": 2, "req_protocol": "HTTPS", "req_method": "POST", "req_uri": format!("/{name}"),
        "auth_type": "IAM", "backend_type": "FUNCTION", "group_id": group_id,
        "func_info": { "function_urn": "urn:fss:cn-north-4:0123:function:default:hello", "invocation_type": "sync",
                       "network_type": "V2", "version": "latest", "timeout": 5000 },
        "policy_functions": [{
            "name": "async_policy", "effect_mode": "ALL",
            "function_urn": "urn:fss:cn-north-4:0123:function:default:bye", "invocation_type": "async",
            "network_type": "V1", "timeout": 3000,
            "conditions": [{ "condition_origin": "cookie", "cookie_param_name": "variant", "condition_type": "exact",
                             "condition_value": "b" }]
        }]
    })
}

fn mock_body(group_id: &str, name: &str) -> Value {
    json!({
        "name": name, "type": 1, "req_protocol": "BOTH", "req_method": "ANY", "req_uri": format!("/{name}"),
        "match_mode": "SWA", "auth_type": "NONE", "backend_type": "MOCK", "group_id": group_id,
        "mock_info": { "result_content": "{\"mocked\": true}", "remark": "canned" },
        "policy_mocks": [{
            "name": "mock_policy", "effect_mode": "ANY", "result_content": "other",
            "conditions": [{ "condition_origin": "source", "condition_value": "127.0.0.1" }]
        }]
    })
}

#[tokio::test]
async fn create_returns_the_whole_api_info() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let gid = group["id"].as_str().unwrap();
    let body = api_body(gid, "minimal_api", "/minimal");
    let (status, api) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_contains(&body, &api, "api");
    assert_hex_id(&api["id"]);
    assert_eq!(api["status"], 1);
    assert_time(&api["register_time"]);
    assert_time(&api["update_time"]);
    assert_eq!(api["group_name"], group["name"]);
    assert_eq!(api["group_version"], "V1");
    assert_eq!(api["arrange_necessary"], 2);
    for key in ["run_env_id", "run_env_name", "publish_id", "publish_time"] {
        assert_eq!(api[key], "", "{key} of an unpublished API");
    }
    // Defaults APIG fills in.
    assert_eq!(api["match_mode"], "NORMAL");
    assert_eq!(api["cors"], false);
    assert_eq!(api["tags"], json!([]));
    assert_eq!(api["req_params"], json!([]));
    assert_eq!(api["backend_api"]["retry_count"], "-1");
    assert_eq!(api["backend_api"]["vpc_channel_status"], 2);
    // The backend carries its own bookkeeping.
    assert_hex_id(&api["backend_api"]["id"]);
    assert_eq!(api["backend_api"]["status"], 1);
    assert_time(&api["backend_api"]["register_time"]);
    assert_time(&api["backend_api"]["update_time"]);
    // The group as ApiGroupCommonInfo.
    let info = &api["api_group_info"];
    for key in ["id", "name", "status", "sl_domain", "register_time", "update_time", "on_sell_status"] {
        assert_eq!(info[key], group[key], "api_group_info.{key}");
    }
    assert_eq!(info["url_domains"], json!([]));
    assert_eq!(info["sl_domain_access_enabled"], true);

    assert_eq!(app.api_details(api["id"].as_str().unwrap()).await, api, "ShowDetailsOfApiV2 = what create returned");
}

#[tokio::test]
async fn the_full_model_round_trips_field_for_field() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let body = full_api_body(&gid, "full_story");
    let (status, created) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let api = app.api_details(created["id"].as_str().unwrap()).await;
    assert_eq!(api, created);
    assert_contains(&body, &api, "api");

    // Every sub-object has its id.
    let params = api["req_params"].as_array().unwrap();
    for p in params {
        assert_hex_id(&p["id"]);
    }
    let param_id = |name: &str| params.iter().find(|p| p["name"] == name).unwrap()["id"].clone();
    let backend_params = api["backend_params"].as_array().unwrap();
    for p in backend_params {
        assert_hex_id(&p["id"]);
    }
    // REQUEST backend parameters point at the frontend parameter they map.
    assert_eq!(backend_params[0]["req_param_id"], param_id("id"));
    assert_eq!(backend_params[1]["req_param_id"], param_id("q"));
    assert!(backend_params[2].get("req_param_id").is_none_or(Value::is_null));
    assert!(backend_params[3].get("req_param_id").is_none_or(Value::is_null));

    let policy = &api["policy_https"][0];
    assert_hex_id(&policy["id"]);
    assert_hex_id(&policy["backend_params"][0]["id"]);
    assert_eq!(policy["backend_params"][0]["req_param_id"], param_id("id"));
    let conditions = policy["conditions"].as_array().unwrap();
    for c in conditions {
        assert_hex_id(&c["id"]);
    }
    assert_eq!(conditions[0]["req_param_id"], param_id("q"));
    assert_eq!(conditions[0]["req_param_location"], "QUERY");
    assert!(conditions[1].get("req_param_id").is_none_or(Value::is_null));

    // Ids are distinct.
    let mut ids: Vec<&str> = vec![api["id"].as_str().unwrap(), api["backend_api"]["id"].as_str().unwrap()];
    ids.extend(params.iter().chain(backend_params).chain(conditions).map(|o| o["id"].as_str().unwrap()));
    ids.push(policy["id"].as_str().unwrap());
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "ids repeat: {ids:?}");

    // Neither a function nor a mock backend on an HTTP API.
    for key in ["func_info", "mock_info"] {
        assert!(api.get(key).is_none_or(Value::is_null), "{key}: {api}");
    }
    assert_eq!(api["policy_functions"], json!([]));
    assert_eq!(api["policy_mocks"], json!([]));
}

#[tokio::test]
async fn function_and_mock_backends() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;

    let body = function_body(&gid, "fn_api");
    let (status, api) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_contains(&body, &api, "api");
    assert_hex_id(&api["func_info"]["id"]);
    assert_eq!(api["func_info"]["status"], 1);
    assert_time(&api["func_info"]["register_time"]);
    assert_hex_id(&api["policy_functions"][0]["id"]);
    assert!(api.get("backend_api").is_none_or(Value::is_null));
    assert_eq!(app.api_details(api["id"].as_str().unwrap()).await, api);

    // A mock API: a backend_api sent along is ignored, as APIG does.
    let body = with(&mock_body(&gid, "mock_api"), "/backend_api", api_body(&gid, "x", "/x")["backend_api"].clone());
    let (status, api) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_contains(&without(&body, "/backend_api"), &api, "api");
    assert!(api.get("backend_api").is_none_or(Value::is_null), "{api}");
    assert_hex_id(&api["mock_info"]["id"]);
    assert_hex_id(&api["policy_mocks"][0]["id"]);
    assert_eq!(app.api_details(api["id"].as_str().unwrap()).await, api);
}

#[tokio::test]
async fn parameter_defaults_follow_apig() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let body = with(
        &api_body(&gid, "defaults_api", "/items/{id}"),
        "/req_params",
        json!([
            { "name": "id", "type": "STRING", "location": "PATH", "required": 2 },
            { "name": "q", "type": "STRING", "location": "QUERY" }
        ]),
    );
    let (status, api) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_eq!(api["req_params"][0]["required"], 1, "PATH parameters are always required");
    assert_eq!(api["req_params"][1]["required"], 2, "others default to optional");
    assert_eq!(api["req_params"][1]["valid_enable"], 2);
}

#[tokio::test]
async fn update_replaces_the_draft_and_keeps_ids() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let body = full_api_body(&gid, "to_update");
    let (_, created) = app.create_api(&body).await;
    let id = created["id"].as_str().unwrap();

    let mut changed = with(&body, "/name", json!("updated_name"));
    changed = with(&changed, "/remark", json!("changed remark"));
    changed = with(&changed, "/backend_api/timeout", json!(9000));
    let (status, updated) = app.put(&format!("/apis/{id}"), &changed).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_contains(&changed, &updated, "api");
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["register_time"], created["register_time"]);
    assert!(updated["update_time"].as_str() >= created["update_time"].as_str());
    assert_eq!(updated["backend_api"]["id"], created["backend_api"]["id"], "the backend keeps its id");
    assert_eq!(updated["backend_api"]["register_time"], created["backend_api"]["register_time"]);
    assert_eq!(updated["req_params"][0]["id"], created["req_params"][0]["id"], "parameters keep their ids");
    assert_eq!(updated["backend_params"][0]["id"], created["backend_params"][0]["id"]);
    assert_eq!(updated["policy_https"][0]["id"], created["policy_https"][0]["id"], "policies keep their ids");
    assert_eq!(app.api_details(id).await, updated);

    // Server-assigned fields in the body are ignored.
    let forged = with(&with(&changed, "/id", json!("f".repeat(32))), "/status", json!(7));
    let (status, again) = app.put(&format!("/apis/{id}"), &forged).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], created["id"]);
    assert_eq!(again["status"], 1);

    // Switching the backend kind drops the old backend.
    let (status, mocked) = app.put(&format!("/apis/{id}"), &mock_body(&gid, "now_a_mock")).await;
    assert_eq!(status, StatusCode::OK, "{mocked}");
    assert!(mocked.get("backend_api").is_none_or(Value::is_null));
    assert_eq!(mocked["policy_https"], json!([]));
    assert_eq!(mocked["backend_params"], json!([]));
}

#[tokio::test]
async fn update_can_move_an_api_to_another_group() {
    let app = spawn_app().await;
    let (g1, g2) = (group_id(&app).await, group_id(&app).await);
    let api = app.new_api(&g1).await;
    let id = api["id"].as_str().unwrap();
    let moved = with(&api_body(&g2, api["name"].as_str().unwrap(), "/moved"), "/group_id", json!(g2));
    let (status, updated) = app.put(&format!("/apis/{id}"), &moved).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["group_id"], g2.as_str());
    assert_eq!(updated["api_group_info"]["id"], g2.as_str());
    // g1 is now empty and deletable.
    assert_eq!(app.delete(&format!("/api-groups/{g1}")).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn delete_removes_the_api() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let api = app.new_api(&gid).await;
    let id = api["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/apis/{id}")).await, (StatusCode::NO_CONTENT, Value::Null));
    let gone = app.get(&format!("/apis/{id}")).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3002");
    assert_eq!(gone.1["error_msg"], format!("API {id} does not exist"));
    assert_error(&app.delete(&format!("/apis/{id}")).await, StatusCode::NOT_FOUND, "APIG.3002");
    let (_, list) = app.get("/apis").await;
    assert_list(&list, "apis", 0, 0);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_error(&app.get(&format!("/apis/{unknown}")).await, StatusCode::NOT_FOUND, "APIG.3002");
    let update = app.put(&format!("/apis/{unknown}"), &api_body(&gid, "nobody", "/nobody")).await;
    assert_error(&update, StatusCode::NOT_FOUND, "APIG.3002");
    assert_error(&app.delete(&format!("/apis/{unknown}")).await, StatusCode::NOT_FOUND, "APIG.3002");
    let orphan = app.create_api(&api_body(unknown, "orphan_api", "/orphan")).await;
    assert_error(&orphan, StatusCode::NOT_FOUND, "APIG.3001");
    assert_eq!(orphan.1["error_msg"], format!("API group {unknown} does not exist"));
    let api = app.new_api(&gid).await;
    let to_nowhere =
        app.put(&format!("/apis/{}", api["id"].as_str().unwrap()), &api_body(unknown, "x_api", "/x")).await;
    assert_error(&to_nowhere, StatusCode::NOT_FOUND, "APIG.3001");
}

#[tokio::test]
async fn duplicate_names_and_routes_conflict_within_a_group() {
    let app = spawn_app().await;
    let (g1, g2) = (group_id(&app).await, group_id(&app).await);
    assert_eq!(app.create_api(&api_body(&g1, "orders", "/orders")).await.0, StatusCode::CREATED);

    let same_name = app.create_api(&api_body(&g1, "orders", "/other")).await;
    assert_error(&same_name, StatusCode::CONFLICT, "APIG.3301");
    let same_route = app.create_api(&api_body(&g1, "orders_again", "/orders")).await;
    assert_error(&same_route, StatusCode::CONFLICT, "APIG.3302");

    // A different method, match mode or group is a different route.
    let post = with(&api_body(&g1, "orders_post", "/orders"), "/req_method", json!("POST"));
    assert_eq!(app.create_api(&post).await.0, StatusCode::CREATED);
    let prefix = with(&api_body(&g1, "orders_prefix", "/orders"), "/match_mode", json!("SWA"));
    assert_eq!(app.create_api(&prefix).await.0, StatusCode::CREATED);
    assert_eq!(app.create_api(&api_body(&g2, "orders", "/orders")).await.0, StatusCode::CREATED);

    // An update into someone else's name or route conflicts too; keeping one's own does not.
    let (_, other) = app.create_api(&api_body(&g1, "other_api", "/other_api")).await;
    let path = format!("/apis/{}", other["id"].as_str().unwrap());
    assert_error(&app.put(&path, &api_body(&g1, "orders", "/other_api")).await, StatusCode::CONFLICT, "APIG.3301");
    assert_error(&app.put(&path, &api_body(&g1, "other_api", "/orders")).await, StatusCode::CONFLICT, "APIG.3302");
    assert_eq!(app.put(&path, &api_body(&g1, "other_api", "/other_api")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn check_finds_taken_names_and_routes() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let (_, api) = app.create_api(&api_body(&gid, "checked", "/checked")).await;

    let free = app.post("/apis/check", &json!({ "group_id": gid, "name": "free_name", "type": "name" })).await;
    assert_eq!(free, (StatusCode::NO_CONTENT, Value::Null));
    let taken = app.post("/apis/check", &json!({ "group_id": gid, "name": "checked", "type": "name" })).await;
    assert_error(&taken, StatusCode::CONFLICT, "APIG.3301");

    let route = json!({ "group_id": gid, "req_method": "GET", "req_uri": "/checked", "match_mode": "NORMAL",
                        "type": "path" });
    assert_error(&app.post("/apis/check", &route).await, StatusCode::CONFLICT, "APIG.3302");
    let swa = with(&route, "/match_mode", json!("SWA"));
    assert_eq!(app.post("/apis/check", &swa).await.0, StatusCode::NO_CONTENT);
    // The API itself does not conflict with itself.
    let own = with(&route, "/api_id", api["id"].clone());
    assert_eq!(app.post("/apis/check", &own).await.0, StatusCode::NO_CONTENT);
    // Without `type`, whatever is given is checked.
    let both = json!({ "group_id": gid, "name": "fresh", "req_method": "GET", "req_uri": "/checked" });
    assert_error(&app.post("/apis/check", &both).await, StatusCode::CONFLICT, "APIG.3302");

    assert_missing(&app.post("/apis/check", &json!({ "name": "x" })).await, "group_id");
    assert_missing(&app.post("/apis/check", &json!({ "group_id": gid, "type": "name" })).await, "name");
    assert_missing(
        &app.post("/apis/check", &json!({ "group_id": gid, "type": "path", "req_uri": "/a" })).await,
        "req_method",
    );
    assert_missing(
        &app.post("/apis/check", &json!({ "group_id": gid, "type": "path", "req_method": "GET" })).await,
        "req_uri",
    );
    assert_invalid(&app.post("/apis/check", &json!({ "group_id": gid, "type": "both" })).await, "type");
    let unknown =
        app.post("/apis/check", &json!({ "group_id": "0123456789abcdef0123456789abcdef", "name": "x" })).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "APIG.3001");
}

#[tokio::test]
async fn missing_required_fields_are_apig_2001() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let base = full_api_body(&gid, "required_base");
    let cases: Vec<(Value, &str)> = vec![
        (without(&base, "/name"), "name"),
        (with(&base, "/name", json!("")), "name"),
        (with(&base, "/name", Value::Null), "name"),
        (without(&base, "/type"), "type"),
        (without(&base, "/req_protocol"), "req_protocol"),
        (without(&base, "/req_method"), "req_method"),
        (without(&base, "/req_uri"), "req_uri"),
        (without(&base, "/auth_type"), "auth_type"),
        (without(&base, "/backend_type"), "backend_type"),
        (without(&base, "/group_id"), "group_id"),
        (without(&base, "/req_params/0/name"), "req_params[0].name"),
        (without(&base, "/req_params/1/type"), "req_params[1].type"),
        (without(&base, "/req_params/2/location"), "req_params[2].location"),
        (without(&base, "/backend_params/0/origin"), "backend_params[0].origin"),
        (without(&base, "/backend_params/2/value"), "backend_params[2].value"),
        (without(&base, "/backend_api/timeout"), "backend_api.timeout"),
        (without(&base, "/backend_api/req_uri"), "backend_api.req_uri"),
        (without(&base, "/backend_api/url_domain"), "backend_api.url_domain"),
        (with(&base, "/backend_api/vpc_channel_status", json!(1)), "backend_api.vpc_channel_info"),
        (with(&base, "/backend_api/vpc_channel_status", json!(4)), "backend_api.member_group_url_infos"),
        (without(&base, "/policy_https/0/name"), "policy_https[0].name"),
        (without(&base, "/policy_https/0/effect_mode"), "policy_https[0].effect_mode"),
        (without(&base, "/policy_https/0/conditions"), "policy_https[0].conditions"),
        (without(&base, "/policy_https/0/req_uri"), "policy_https[0].req_uri"),
        (without(&base, "/policy_https/0/url_domain"), "policy_https[0].url_domain"),
        (without(&base, "/policy_https/0/backend_params/0/name"), "policy_https[0].backend_params[0].name"),
        (
            without(&base, "/policy_https/0/conditions/0/condition_value"),
            "policy_https[0].conditions[0].condition_value",
        ),
        (without(&base, "/policy_https/0/conditions/0/condition_type"), "policy_https[0].conditions[0].condition_type"),
        (without(&base, "/policy_https/0/conditions/0/req_param_name"), "policy_https[0].conditions[0].req_param_name"),
        (without(&base, "/policy_https/0/conditions/2/sys_param_name"), "policy_https[0].conditions[2].sys_param_name"),
        (without(&function_body(&gid, "fn_base"), "/func_info/function_urn"), "func_info.function_urn"),
        (without(&function_body(&gid, "fn_base"), "/func_info/timeout"), "func_info.timeout"),
        (
            without(&function_body(&gid, "fn_base"), "/policy_functions/0/function_urn"),
            "policy_functions[0].function_urn",
        ),
    ];
    let (_, api) = app.create_api(&base).await;
    let update = format!("/apis/{}", api["id"].as_str().expect("the base body is valid"));
    for (body, field) in cases {
        assert_missing(&app.create_api(&body).await, field);
        assert_missing(&app.put(&update, &body).await, field);
    }
}

#[tokio::test]
async fn invalid_values_are_apig_2011_naming_the_field() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let base = full_api_body(&gid, "invalid_base");
    let mut extra_header = base.clone();
    extra_header["req_params"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "x-trace", "type": "STRING", "location": "HEADER" }));
    let mut two_policies = base.clone();
    let policy = two_policies["policy_https"][0].clone();
    two_policies["policy_https"].as_array_mut().unwrap().push(policy);
    let mut six_conditions = base.clone();
    let condition = json!({ "condition_origin": "source", "condition_value": "10.0.0.1" });
    six_conditions["policy_https"][0]["conditions"] = json!(vec![condition; 6]);
    let many_tags: Vec<String> = (0..11).map(|i| format!("tag{i}")).collect();

    let cases: Vec<(Value, &str)> = vec![
        // Top level.
        (with(&base, "/name", json!("ab")), "name"),
        (with(&base, "/name", json!("-starts-with-dash")), "name"),
        (with(&base, "/name", json!("n".repeat(256))), "name"),
        (with(&base, "/name", json!("semi;colon")), "name"),
        (with(&base, "/name", json!(123)), "name"),
        (with(&base, "/type", json!(3)), "type"),
        (with(&base, "/type", json!("1")), "type"),
        (with(&base, "/req_protocol", json!("FTP")), "req_protocol"),
        (with(&base, "/req_method", json!("FETCH")), "req_method"),
        (with(&base, "/auth_type", json!("BASIC")), "auth_type"),
        (with(&base, "/backend_type", json!("SOAP")), "backend_type"),
        (with(&base, "/match_mode", json!("PREFIX")), "match_mode"),
        (with(&base, "/cors", json!("yes")), "cors"),
        (with(&base, "/version", json!("v".repeat(17))), "version"),
        (with(&base, "/remark", json!("r".repeat(256))), "remark"),
        (with(&base, "/result_normal_sample", json!("s".repeat(20481))), "result_normal_sample"),
        (with(&base, "/auth_type", json!("AUTHORIZER")), "authorizer_id"),
        (with(&base, "/auth_type", json!("NONE")), "auth_opt"),
        (with(&base, "/tags", json!(["1tag"])), "tags"),
        (with(&base, "/tags", json!([""])), "tags"),
        (with(&base, "/tags", json!(["has space"])), "tags"),
        (with(&base, "/tags", json!(many_tags)), "tags"),
        (with(&base, "/content_type", json!("text/html")), "content_type"),
        (with(&base, "/trace_enabled", json!(true)), "sampling_strategy"),
        (with(&base, "/sampling_param", json!("101")), "sampling_param"),
        // The frontend path and its parameters.
        (with(&base, "/req_uri", json!("no/leading/slash/{id}")), "req_uri"),
        (with(&base, "/req_uri", json!("/double//slash/{id}")), "req_uri"),
        (with(&base, "/req_uri", json!("/has space/{id}")), "req_uri"),
        (with(&base, "/req_uri", json!("/unclosed/{id")), "req_uri"),
        (with(&base, "/req_uri", json!("/x/{id}/{undeclared}")), "req_uri"),
        (with(&base, "/req_uri", json!(format!("/{}{{id}}", "p".repeat(512)))), "req_uri"),
        (with(&base, "/req_uri", json!("/no/placeholder")), "req_params[0].location"),
        (with(&base, "/req_params/0/location", json!("QUERY")), "req_uri"),
        (with(&base, "/req_params/1/name", json!("1q")), "req_params[1].name"),
        (with(&base, "/req_params/1/name", json!("q".repeat(33))), "req_params[1].name"),
        (with(&base, "/req_params/1/name", json!("page")), "req_params[2].name"),
        (extra_header, "req_params[4].name"),
        (with(&base, "/req_params/1/type", json!("BOOLEAN")), "req_params[1].type"),
        (with(&base, "/req_params/1/location", json!("BODY")), "req_params[1].location"),
        (with(&base, "/req_params/1/required", json!(3)), "req_params[1].required"),
        (with(&base, "/req_params/1/valid_enable", json!(0)), "req_params[1].valid_enable"),
        (with(&base, "/req_params/3/pass_through", json!(3)), "req_params[3].pass_through"),
        (with(&base, "/req_params/1/remark", json!("r".repeat(256))), "req_params[1].remark"),
        (with(&base, "/req_params/2/default_value", json!("many")), "req_params[2].default_value"),
        (with(&base, "/req_params/2/default_value", json!("500")), "req_params[2].default_value"),
        (with(&base, "/req_params/2/min_num", json!(200)), "req_params[2].min_num"),
        (with(&base, "/req_params/1/min_size", json!(-1)), "req_params[1].min_size"),
        // Backend parameters.
        (with(&base, "/backend_params/0/value", json!("no_such_param")), "backend_params[0].value"),
        (with(&base, "/backend_params/3/value", json!("$context.bogus")), "backend_params[3].value"),
        (with(&base, "/backend_params/2/name", json!("1const")), "backend_params[2].name"),
        (with(&base, "/backend_params/2/name", json!("x-src-ip")), "backend_params[3].name"),
        (with(&base, "/backend_params/1/origin", json!("BODY")), "backend_params[1].origin"),
        (with(&base, "/backend_params/2/value", json!("v".repeat(256))), "backend_params[2].value"),
        // The HTTP backend.
        (without(&base, "/backend_api"), "backend_api"),
        (with(&base, "/backend_api/timeout", json!(0)), "backend_api.timeout"),
        (with(&base, "/backend_api/timeout", json!(600_001)), "backend_api.timeout"),
        (with(&base, "/backend_api/timeout", json!("5000")), "backend_api.timeout"),
        (with(&base, "/backend_api/retry_count", json!("11")), "backend_api.retry_count"),
        (with(&base, "/backend_api/retry_count", json!("often")), "backend_api.retry_count"),
        (with(&base, "/backend_api/req_uri", json!("/v1/items/{unfilled}")), "backend_api.req_uri"),
        (with(&base, "/backend_api/req_uri", json!("relative")), "backend_api.req_uri"),
        (with(&base, "/backend_api/url_domain", json!("bad domain")), "backend_api.url_domain"),
        (with(&base, "/backend_api/url_domain", json!("backend.example.com:70000")), "backend_api.url_domain"),
        (with(&base, "/backend_api/vpc_channel_status", json!(3)), "backend_api.vpc_channel_status"),
        (with(&base, "/backend_api/req_protocol", json!("GRPC")), "backend_api.req_protocol"),
        (with(&base, "/backend_api/req_method", json!("BREW")), "backend_api.req_method"),
        (with(&base, "/backend_type", json!("FUNCTION")), "func_info"),
        (with(&base, "/backend_type", json!("MOCK")), "mock_info"),
        // Backend policies and their conditions.
        (with(&base, "/policy_https/0/name", json!("ab")), "policy_https[0].name"),
        (with(&base, "/policy_https/0/name", json!("dash-name")), "policy_https[0].name"),
        (with(&base, "/policy_https/0/conditions", json!([])), "policy_https[0].conditions"),
        (six_conditions, "policy_https[0].conditions"),
        (two_policies, "policies[1].name"),
        (with(&base, "/policy_https/0/req_uri", json!("/canary/{nope}")), "policy_https[0].req_uri"),
        (with(&base, "/policy_https/0/timeout", json!(0)), "policy_https[0].timeout"),
        (with(&base, "/policy_https/0/retry_count", json!("12")), "policy_https[0].retry_count"),
        (
            with(&base, "/policy_https/0/backend_params/0/value", json!("nope")),
            "policy_https[0].backend_params[0].value",
        ),
        (
            with(&base, "/policy_https/0/conditions/0/req_param_name", json!("nope")),
            "policy_https[0].conditions[0].req_param_name",
        ),
        (
            with(&base, "/policy_https/0/conditions/1/condition_value", json!("10.0.0.0/33")),
            "policy_https[0].conditions[1].condition_value",
        ),
        (
            with(&base, "/policy_https/0/conditions/1/condition_value", json!("not-an-address")),
            "policy_https[0].conditions[1].condition_value",
        ),
        (
            with(&base, "/policy_https/0/conditions/2/sys_param_name", json!("req_host")),
            "policy_https[0].conditions[2].sys_param_name",
        ),
        (
            with(
                &with(&base, "/policy_https/0/conditions/0/condition_type", json!("pattern")),
                "/policy_https/0/conditions/0/condition_value",
                json!("(["),
            ),
            "policy_https[0].conditions[0].condition_value",
        ),
        // Function and mock backends.
        (
            with(
                &with(&function_body(&gid, "fn_base"), "/func_info/network_type", json!("V1")),
                "/func_info/timeout",
                json!(60_001),
            ),
            "func_info.timeout",
        ),
        (with(&function_body(&gid, "fn_base"), "/func_info/timeout", json!(600_001)), "func_info.timeout"),
        (
            with(&function_body(&gid, "fn_base"), "/func_info/invocation_type", json!("later")),
            "func_info.invocation_type",
        ),
        (with(&function_body(&gid, "fn_base"), "/policy_functions/0/timeout", json!(0)), "policy_functions[0].timeout"),
        (with(&mock_body(&gid, "mock_base"), "/mock_info/remark", json!("r".repeat(256))), "mock_info.remark"),
        (with(&mock_body(&gid, "mock_base"), "/policy_mocks/0/name", json!("9policy")), "policy_mocks[0].name"),
    ];
    let (_, api) = app.create_api(&base).await;
    let update = format!("/apis/{}", api["id"].as_str().expect("the base body is valid"));
    assert_all_invalid(&app, &update, cases).await;
    let (_, list) = app.get("/apis").await;
    assert_list(&list, "apis", 1, 1);
}

/// Creates and updates with each body; every one must be 400 `APIG.2011` naming its field.
/// All mismatches are reported together.
async fn assert_all_invalid(app: &TestApp, update: &str, cases: Vec<(Value, &str)>) {
    let mut wrong = Vec::new();
    for (body, field) in cases {
        let expected =
            format!("Invalid parameter value,parameterName:{field}. Please refer to the support documentation");
        for (what, response) in [("create", app.create_api(&body).await), ("update", app.put(update, &body).await)] {
            let (status, body) = &response;
            if *status != StatusCode::BAD_REQUEST
                || body["error_code"] != "APIG.2011"
                || body["error_msg"] != expected.as_str()
            {
                wrong.push(format!("{what} expecting {field}: {status} {body}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong answers:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn invalid_enums_inside_backend_policies_name_the_field() {
    // The common part of a policy is `#[serde(flatten)]`ed into `PolicyHttp`/`PolicyFunction`/
    // `PolicyMock`, and serde_path_to_error cannot see through flatten: a bad enum in there is
    // reported as `policy_https[0]` instead of the field. (Found by this suite; not fixed.)
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let base = full_api_body(&gid, "policy_enum_base");
    let (_, api) = app.create_api(&base).await;
    let update = format!("/apis/{}", api["id"].as_str().expect("the base body is valid"));
    let cases: Vec<(Value, &str)> = vec![
        (with(&base, "/policy_https/0/effect_mode", json!("SOME")), "policy_https[0].effect_mode"),
        (
            with(&base, "/policy_https/0/conditions/0/condition_origin", json!("header")),
            "policy_https[0].conditions[0].condition_origin",
        ),
        (
            with(&base, "/policy_https/0/conditions/0/condition_type", json!("fuzzy")),
            "policy_https[0].conditions[0].condition_type",
        ),
        (
            with(&base, "/policy_https/0/backend_params/0/location", json!("BODY")),
            "policy_https[0].backend_params[0].location",
        ),
        (with(&mock_body(&gid, "mock_enum"), "/policy_mocks/0/effect_mode", json!(1)), "policy_mocks[0].effect_mode"),
        (
            with(&function_body(&gid, "fn_enum"), "/policy_functions/0/conditions/0/condition_origin", json!("x")),
            "policy_functions[0].conditions[0].condition_origin",
        ),
    ];
    assert_all_invalid(&app, &update, cases).await;
}

#[tokio::test]
async fn values_at_the_edges_of_the_rules_are_accepted() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let base = full_api_body(&gid, "edge_base");
    let cases: Vec<Value> = vec![
        with(&base, "/name", json!("用户 API".replace(' ', "_"))),
        with(&base, "/name", json!("abc")),
        with(&base, "/backend_api/timeout", json!(600_000)),
        with(&base, "/backend_api/timeout", json!(1)),
        with(&base, "/backend_api/retry_count", json!("10")),
        with(&base, "/backend_api/url_domain", json!("#backend_host#:8080")),
        with(&base, "/backend_api/url_domain", json!("10.1.2.3")),
        with(&base, "/backend_params/3/value", json!("$context.authorizer.frontend.user_id")),
        with(&base, "/backend_params/3/value", json!("requestId")),
        with(&base, "/tags", json!(["标签", "a-*#%.:_"])),
        with(&base, "/req_uri", json!("/edge/{id+}")),
        with(&base, "/policy_https/0/conditions/1/condition_value", json!("::1,2001:db8::/32")),
        with(&function_body(&gid, "fn_edge"), "/func_info/timeout", json!(600_000)),
    ];
    for (i, body) in cases.into_iter().enumerate() {
        let body = with(&body, "/name", json!(format!("{}_{i}", body["name"].as_str().unwrap())));
        let body = with(&body, "/req_uri", json!(format!("/e{i}{}", body["req_uri"].as_str().unwrap())));
        let (status, api) = app.create_api(&body).await;
        assert_eq!(status, StatusCode::CREATED, "case {i}: {api}");
        assert_contains(&body, &api, &format!("case {i}"));
    }
}

#[tokio::test]
async fn malformed_bodies_are_400_not_500() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let api = app.new_api(&gid).await;
    let update = app.inst(&format!("/apis/{}", api["id"].as_str().unwrap()));
    let bodies: [&[u8]; 8] =
        [b"{", b"", b"null", b"42", b"[]", b"{\"name\": }", b"{\"name\":\"a\"}{", "{\"name\":\"\u{7f}".as_bytes()];
    for (method, path) in
        [(Method::POST, app.inst("/apis")), (Method::PUT, update), (Method::POST, app.inst("/apis/check"))]
    {
        for body in bodies {
            let response = app.signed_raw(method.clone(), &path, body).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{method} {path} {body:?}: {}", response.body);
            assert_eq!(response.body["error_code"], "APIG.2002", "{}", response.body);
        }
    }
    // Nesting deeper than the parser's limit.
    let deep = format!("{{\"name\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let response = app.signed_raw(Method::POST, &app.inst("/apis"), deep.as_bytes()).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
    // Valid JSON of the wrong shape is a field error, not a 500 either.
    let nested = with(&api_body(&gid, "nested", "/nested"), "/req_params", json!({ "name": "x" }));
    assert_invalid(&app.create_api(&nested).await, "req_params");
    let nested = with(&api_body(&gid, "nested", "/nested"), "/backend_api", json!("http://x"));
    assert_invalid(&app.create_api(&nested).await, "backend_api");
    let deep = with(&api_body(&gid, "nested", "/nested"), "/req_params", json!([["name"]]));
    assert_eq!(app.create_api(&deep).await.0, StatusCode::BAD_REQUEST);
}

/// Three APIs over two groups, with tags, methods and auth types to filter on.
async fn seed_list(app: &TestApp) -> (String, String, Vec<String>) {
    let (g1, g2) = (group_id(app).await, group_id(app).await);
    let bodies = [
        with(&api_body(&g1, "list_alpha", "/alpha"), "/tags", json!(["red"])),
        with(
            &with(
                &with(&api_body(&g1, "list_alpha_two", "/alpha/two"), "/req_method", json!("POST")),
                "/auth_type",
                json!("APP"),
            ),
            "/req_protocol",
            json!("HTTP"),
        ),
        with(&with(&api_body(&g2, "list_beta", "/beta"), "/tags", json!(["red", "blue"])), "/type", json!(2)),
    ];
    let mut ids = Vec::new();
    for body in &bodies {
        let (status, api) = app.create_api(body).await;
        assert_eq!(status, StatusCode::CREATED, "{api}");
        ids.push(api["id"].as_str().unwrap().to_string());
    }
    (g1, g2, ids)
}

#[tokio::test]
async fn list_items_are_the_brief_form_by_default() {
    let app = spawn_app().await;
    let gid = group_id(&app).await;
    let (_, created) = app.create_api(&full_api_body(&gid, "listed_full")).await;
    let (status, body) = app.get("/apis").await;
    assert_eq!(status, StatusCode::OK);
    let item = &assert_list(&body, "apis", 1, 1)[0];
    for key in ["id", "name", "req_uri", "req_params", "group_id", "group_name", "register_time", "update_time", "tags"]
    {
        assert_eq!(item[key], created[key], "{key}");
    }
    for key in ["run_env_id", "run_env_name", "publish_id", "publish_time"] {
        assert_eq!(item[key], "", "{key}");
    }
    for key in ["backend_params", "policy_https", "policy_functions", "policy_mocks", "func_info", "mock_info"] {
        assert!(item.get(key).is_none(), "{key} is not part of ApiInfoPerPage: {item}");
    }
    assert!(item.get("backend_api").is_none(), "brief has no backend: {item}");
    assert!(item.get("api_group_info").is_none(), "brief has no group: {item}");

    let (_, body) = app.get(&format!("/apis{}", query(&[("return_data_mode", "include_group")]))).await;
    let item = &body["apis"][0];
    assert_eq!(item["api_group_info"], created["api_group_info"]);
    assert!(item.get("backend_api").is_none());

    let (_, body) = app.get(&format!("/apis{}", query(&[("return_data_mode", "include_group_backend")]))).await;
    let item = &body["apis"][0];
    assert_eq!(item["api_group_info"], created["api_group_info"]);
    assert_eq!(item["backend_api"], created["backend_api"]);
    assert!(item.get("backend_params").is_none());

    let (_, body) = app.get(&format!("/apis{}", query(&[("return_data_mode", "brief")]))).await;
    assert!(body["apis"][0].get("api_group_info").is_none());

    assert_invalid(
        &app.get(&format!("/apis{}", query(&[("return_data_mode", "everything")]))).await,
        "return_data_mode",
    );
}

/// Query parameters of one list request.
type Query<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn list_filters() {
    let app = spawn_app().await;
    let (g1, g2, ids) = seed_list(&app).await;
    let env = app.create_env().await;
    app.publish(&ids[2], env["id"].as_str().unwrap()).await;

    let listed = |body: &Value| -> Vec<String> {
        body["apis"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect()
    };
    let env_id = env["id"].as_str().unwrap();
    let cases: Vec<(Query, Vec<&String>)> = vec![
        (vec![], vec![&ids[0], &ids[1], &ids[2]]),
        (vec![("name", "alpha")], vec![&ids[0], &ids[1]]),
        (vec![("name", "list_alpha"), ("precise_search", "name")], vec![&ids[0]]),
        (vec![("name", "ALPHA_two"), ("precise_search", "name")], vec![]),
        (vec![("group_id", &g1)], vec![&ids[0], &ids[1]]),
        (vec![("group_id", &g2)], vec![&ids[2]]),
        (vec![("req_method", "POST")], vec![&ids[1]]),
        (vec![("req_method", "GET"), ("group_id", &g1)], vec![&ids[0]]),
        (vec![("req_protocol", "HTTP")], vec![&ids[1]]),
        (vec![("auth_type", "APP")], vec![&ids[1]]),
        (vec![("type", "2")], vec![&ids[2]]),
        (vec![("req_uri", "/alpha")], vec![&ids[0], &ids[1]]),
        (vec![("req_uri", "/alpha"), ("precise_search", "req_uri")], vec![&ids[0]]),
        (vec![("req_uri", "/alpha"), ("name", "two"), ("precise_search", "req_uri,name")], vec![]),
        (vec![("id", &ids[1])], vec![&ids[1]]),
        (vec![("tags", "red")], vec![&ids[0], &ids[2]]),
        (vec![("tags", "blue")], vec![&ids[2]]),
        (vec![("tags", "re")], vec![]),
        (vec![("tags", "#no_tags#")], vec![&ids[1]]),
        (vec![("env_id", env_id)], vec![&ids[2]]),
        (vec![("env_id", RELEASE)], vec![]),
        (vec![("name", ""), ("group_id", "")], vec![&ids[0], &ids[1], &ids[2]]),
    ];
    for (filters, expected) in cases {
        let (status, body) = app.get(&format!("/apis{}", query(&filters))).await;
        assert_eq!(status, StatusCode::OK, "{filters:?}: {body}");
        assert_list(&body, "apis", expected.len(), expected.len() as u64);
        assert_eq!(listed(&body), expected.into_iter().cloned().collect::<Vec<_>>(), "{filters:?}");
    }
    assert_invalid(&app.get(&format!("/apis{}", query(&[("type", "public")]))).await, "type");
}

#[tokio::test]
async fn list_pages() {
    let app = spawn_app().await;
    let (_, _, ids) = seed_list(&app).await;
    let (_, page) = app.get(&format!("/apis{}", query(&[("offset", "1"), ("limit", "1")]))).await;
    assert_eq!(assert_list(&page, "apis", 1, 3)[0]["id"], ids[1].as_str());
    let (_, page) = app.get(&format!("/apis{}", query(&[("offset", "2"), ("limit", "5")]))).await;
    assert_eq!(assert_list(&page, "apis", 1, 3)[0]["id"], ids[2].as_str());
    let (_, beyond) = app.get(&format!("/apis{}", query(&[("offset", "3")]))).await;
    assert_list(&beyond, "apis", 0, 3);
    let (_, filtered) = app.get(&format!("/apis{}", query(&[("tags", "red"), ("offset", "1")]))).await;
    assert_eq!(assert_list(&filtered, "apis", 1, 2)[0]["id"], ids[2].as_str());
    assert_invalid(&app.get(&format!("/apis{}", query(&[("limit", "0")]))).await, "limit");
    assert_invalid(&app.get(&format!("/apis{}", query(&[("limit", "501")]))).await, "limit");
    let (status, _) = app.get(&format!("/apis{}", query(&[("limit", "500")]))).await;
    assert_eq!(status, StatusCode::OK);
}
