//! Export and import of API definitions: `…/openapi/export`, `…/openapi/import`, the async
//! variants and `…/async-tasks/{task_id}`, on the APIG (`apigw`) and ROMA (`apic`) paths.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A group with a published API (RELEASE) and a draft-only one; returns (group id, published
/// API id, draft API id).
async fn setup(app: &TestApp) -> (String, String, String) {
    let group_id = app.create_group().await["id"].as_str().unwrap().to_string();
    let published = app.new_api(&group_id).await["id"].as_str().unwrap().to_string();
    let draft = app.new_api(&group_id).await["id"].as_str().unwrap().to_string();
    app.publish(&published, RELEASE).await;
    (group_id, published, draft)
}

fn document(bytes: &[u8]) -> Value {
    match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => yaml_serde::from_slice(bytes).expect("the export is JSON or YAML"),
    }
}

fn operations(doc: &Value) -> Vec<&Value> {
    doc["paths"].as_object().unwrap().values().flat_map(|item| item.as_object().unwrap().values()).collect()
}

fn error(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("an error body is JSON")
}

#[tokio::test]
async fn export_refuses_bad_requests_with_the_seed_errors() {
    let app = spawn_app().await;
    let (group_id, api_id, _) = setup(&app).await;

    let (status, _, body) = app.export("apigw", "", &json!({"define": "all"})).await;
    assert_missing(&(status, error(&body)), "group_id");
    let (status, _, body) = app.export("apigw", "", &json!({"group_id": group_id, "define": "all"})).await;
    assert_missing(&(status, error(&body)), "env_id");
    let unknown = "c77f5e81d9cb4424bf704ef2b0ac7600";
    let (status, _, body) = app.export("apigw", "", &json!({"group_id": unknown, "env_id": RELEASE})).await;
    let body = error(&body);
    assert_error(&(status, body.clone()), StatusCode::NOT_FOUND, "APIG.3001");
    assert_eq!(body["error_msg"], format!("API group {unknown} does not exist"));
    for (query, body, field) in [
        ("", json!({"group_id": group_id, "env_id": RELEASE, "define": "full"}), "define"),
        ("", json!({"group_id": group_id, "env_id": RELEASE, "type": "xml"}), "type"),
        ("?oas_version=3.1", json!({"group_id": group_id, "env_id": RELEASE}), "oas_version"),
    ] {
        let (status, _, bytes) = app.export("apigw", query, &body).await;
        assert_invalid(&(status, error(&bytes)), field);
    }
    let (status, _, body) =
        app.export("apigw", "", &json!({"group_id": group_id, "env_id": RELEASE, "apis": [api_id, unknown]})).await;
    let body = error(&body);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error_msg"].as_str().unwrap().contains(unknown), "{body}");
}

#[tokio::test]
async fn definition_levels_choose_versions_and_content() {
    let app = spawn_app().await;
    let (group_id, published, draft) = setup(&app).await;
    let name_of = |id: &str| {
        let id = id.to_string();
        let app = &app;
        async move { app.api_details(&id).await["name"].as_str().unwrap().to_string() }
    };
    let (published_name, draft_name) = (name_of(&published).await, name_of(&draft).await);

    let (status, headers, bytes) = app.export("apigw", "", &json!({"group_id": group_id, "env_id": RELEASE})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.contains("-RELEASE-spec-"),
        "{disposition}"
    );
    let spec = document(&bytes);
    assert_eq!(spec["swagger"], "2.0");
    let ops = operations(&spec);
    assert_eq!(ops.len(), 1, "only the API published in RELEASE: {spec}");
    assert_eq!(ops[0]["operationId"], published_name.as_str());
    assert!(ops[0].get("x-apigateway-backend").is_none(), "spec has no backend");

    let (_, _, bytes) = app
        .export(
            "apigw",
            "?oas_version=3.0",
            &json!({"group_id": group_id, "env_id": RELEASE, "define": "proxy", "type": "yaml"}),
        )
        .await;
    assert!(!bytes.starts_with(b"{"), "YAML was asked for");
    let proxy = document(&bytes);
    assert!(proxy["openapi"].as_str().unwrap().starts_with("3.0"));
    assert_eq!(operations(&proxy)[0]["x-apigateway-backend"]["type"], "HTTP");

    let (_, _, bytes) = app.export("apigw", "", &json!({"group_id": group_id, "define": "dev"})).await;
    let dev = document(&bytes);
    let mut names: Vec<&str> = operations(&dev).iter().map(|o| o["operationId"].as_str().unwrap()).collect();
    names.sort();
    let mut expected = [published_name.as_str(), draft_name.as_str()];
    expected.sort();
    assert_eq!(names, expected, "dev exports every draft");

    let (_, _, bytes) = app.export("apigw", "", &json!({"group_id": group_id, "define": "dev", "apis": [draft]})).await;
    let selected = document(&bytes);
    let only: Vec<&str> = operations(&selected).iter().map(|o| o["operationId"].as_str().unwrap()).collect();
    assert_eq!(only, [draft_name.as_str()], "apis selects");
    let (status, _, bytes) =
        app.export("apigw", "", &json!({"group_id": group_id, "env_id": RELEASE, "apis": [draft]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the draft is not published: {}", String::from_utf8_lossy(&bytes));
}

#[tokio::test]
async fn the_roma_path_serves_the_same_export_with_release_as_default() {
    let app = spawn_app().await;
    let (group_id, _, _) = setup(&app).await;
    let (status, _, bytes) = app.export("apic", "", &json!({"group_id": group_id, "define": "all"})).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(operations(&document(&bytes)).len(), 1);
}

fn without_volatile(mut doc: Value) -> Value {
    let o = doc.as_object_mut().unwrap();
    o.remove("info");
    o.remove("host");
    o.remove("servers");
    for item in o["paths"].as_object_mut().unwrap().values_mut() {
        for op in item.as_object_mut().unwrap().values_mut() {
            op.as_object_mut().unwrap().remove("servers");
        }
    }
    doc
}

#[tokio::test]
async fn export_import_export_round_trips_over_http() {
    let app = spawn_app().await;
    let (group_id, _, _) = setup(&app).await;
    for oas in ["2.0", "3.0"] {
        let query = format!("?oas_version={oas}");
        let (_, _, bytes) = app.export("apigw", &query, &json!({"group_id": group_id, "define": "dev"})).await;
        let mut first = document(&bytes);
        first["info"]["title"] = Value::from(format!("copy_{}", unique()));
        let (status, result) =
            app.upload("/openapi/import", &[("is_create_group", "true")], first.to_string().as_bytes()).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        assert_eq!(result["success"].as_array().unwrap().len(), 2, "{result}");
        assert!(result["failure"].as_array().unwrap().is_empty(), "{result}");
        assert!(result["success"].as_array().unwrap().iter().all(|s| s["action"] == "create"));
        let copy = result["group_id"].as_str().unwrap();
        assert_ne!(copy, group_id);
        let (_, _, bytes) = app.export("apigw", &query, &json!({"group_id": copy, "define": "dev"})).await;
        assert_eq!(without_volatile(document(&bytes)), without_volatile(first), "OpenAPI {oas}");
    }
}

#[tokio::test]
async fn import_modes_decide_what_happens_to_existing_apis() {
    let app = spawn_app().await;
    let (group_id, published, _) = setup(&app).await;
    let (_, _, bytes) = app.export("apigw", "", &json!({"group_id": group_id, "define": "dev"})).await;
    let mut doc = document(&bytes);
    let name = app.api_details(&published).await["name"].clone();
    let (path, item) =
        doc["paths"].as_object_mut().unwrap().iter_mut().find(|(_, i)| i["get"]["operationId"] == name).unwrap();
    let path = path.clone();
    item["get"]["description"] = Value::from("changed by import");
    let file = doc.to_string();
    let existing = [("is_create_group", "false"), ("group_id", group_id.as_str())];

    let (status, merged) = app.upload("/openapi/import", &existing, file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["ignore"].as_array().unwrap().len(), 2, "merge keeps both existing APIs: {merged}");
    assert!(merged["ignore"].as_array().unwrap().iter().any(|i| i["path"] == path.as_str() && i["method"] == "GET"));

    let overriding = [existing[0], existing[1], ("api_mode", "override")];
    let (status, dry) = app.upload("/openapi/import?dry_run=true", &overriding, file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert!(dry["success"].as_array().unwrap().iter().all(|s| s["action"] == "update"), "{dry}");
    assert_ne!(app.api_details(&published).await["remark"], "changed by import", "a dry run writes nothing");

    let (status, applied) = app.upload("/openapi/import", &overriding, file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    let updated: Vec<&str> = applied["success"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(updated.contains(&published.as_str()), "override keeps the id: {applied}");
    assert_eq!(app.api_details(&published).await["remark"], "changed by import");
}

#[tokio::test]
async fn a_bad_operation_fails_alone_and_a_bad_file_fails_the_import() {
    let app = spawn_app().await;
    let title = format!("imported_{}", unique());
    let file = format!(
        r#"swagger: "2.0"
info: {{title: {title}, version: "1"}}
paths:
  /good:
    get:
      operationId: good_api
      responses: {{default: {{description: ok}}}}
  /bad:
    post:
      operationId: bad_api
      parameters:
        - {{name: payload, in: formData, type: string}}
      responses: {{default: {{description: ok}}}}
"#
    );
    let (status, result) = app.upload("/openapi/import", &[], file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"][0]["path"], "/good");
    assert_eq!(result["failure"][0]["path"], "/bad");
    assert_eq!(result["failure"][0]["method"], "POST");
    assert_eq!(result["failure"][0]["error_code"], "APIG.2011");
    assert!(result["failure"][0]["error_msg"].as_str().unwrap().contains("parameters[0].in"), "{result}");
    let (_, group) = app.get(&format!("/api-groups/{}", result["group_id"].as_str().unwrap())).await;
    assert_eq!(group["name"], title.as_str());

    let (status, body) = app.upload("/openapi/import", &[], b"{not: [a document").await;
    assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "APIG.2011");
    assert!(body["error_msg"].as_str().unwrap().contains("parameterName:file_name. the file is neither JSON nor YAML"));
    let (status, body) = app.upload("/openapi/import", &[("is_create_group", "false")], file.as_bytes()).await;
    assert_missing(&(status, body), "group_id");
    let (status, body) = app.upload("/openapi/import", &[("api_mode", "replace")], file.as_bytes()).await;
    assert_invalid(&(status, body), "api_mode");
    let (status, body) = app.upload("/openapi/import", &[], file.as_bytes()).await;
    assert_eq!(status, StatusCode::CONFLICT, "the group name is taken now: {body}");
}

async fn wait_for_task(app: &TestApp, task_id: &str) -> Value {
    for _ in 0..200 {
        let (status, task) = app.get(&format!("/async-tasks/{task_id}")).await;
        assert_eq!(status, StatusCode::OK, "{task}");
        if task["task_status"] != "processing" && task["task_status"] != "waiting" {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("task {task_id} did not finish");
}

#[tokio::test]
async fn async_export_and_import_leave_a_task_with_the_result() {
    let app = spawn_app().await;
    let (group_id, _, _) = setup(&app).await;
    let (status, accepted) = app.post("/openapi/async-export", &json!({"group_id": group_id, "define": "dev"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let task = wait_for_task(&app, accepted["task_id"].as_str().unwrap()).await;
    assert_eq!(task["task_type"], "export_api");
    assert_eq!(task["task_status"], "succeed", "{task}");
    let result: Value = serde_json::from_str(task["task_result"].as_str().unwrap()).unwrap();
    assert_eq!(result["FileType"], ".json");
    let mut doc: Value = serde_json::from_str(result["Comment"].as_str().unwrap()).unwrap();
    assert_eq!(operations(&doc).len(), 2);

    doc["info"]["title"] = Value::from(format!("async_{}", unique()));
    let (status, accepted) = app.upload("/openapi/async-import", &[], doc.to_string().as_bytes()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let task = wait_for_task(&app, accepted["task_id"].as_str().unwrap()).await;
    assert_eq!(task["task_type"], "import_api");
    assert_eq!(task["task_status"], "succeed", "{task}");
    let result: Value = serde_json::from_str(task["task_result"].as_str().unwrap()).unwrap();
    assert_eq!(result["success"].as_array().unwrap().len(), 2, "{result}");

    let (status, body) = app.get("/async-tasks/c77f5e81d9cb4424bf704ef2b0ac7600").await;
    assert_error(&(status, body), StatusCode::NOT_FOUND, "APIG.3022");
}

#[tokio::test]
async fn an_async_export_that_fails_records_a_system_error_not_its_cause() {
    let app = spawn_app().await;
    let (group_id, _, _) = setup(&app).await;
    portico_store::testing::execute(app.data_dir(), &["UPDATE apis SET doc = 'not a stored API'"]).await.unwrap();
    let (status, accepted) = app.post("/openapi/async-export", &json!({"group_id": group_id, "define": "dev"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let task = wait_for_task(&app, accepted["task_id"].as_str().unwrap()).await;
    assert_eq!(task["task_status"], "failed", "{task}");
    let result: Value = serde_json::from_str(task["task_result"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!({"error_code": "APIG.9999", "error_msg": "System error"}));
}

#[tokio::test]
async fn documents_larger_than_axum_default_limit_import() {
    let app = spawn_app().await;
    let padding = "x".repeat(3 * 1024 * 1024);
    let file = json!({
        "swagger": "2.0",
        "info": {"title": format!("big_{}", unique()), "version": "1"},
        "x-padding": padding,
        "paths": {"/big": {"get": {"operationId": "big_api", "responses": {"default": {"description": "ok"}}}}}
    });
    let (status, result) = app.upload("/openapi/import", &[], file.to_string().as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"].as_array().unwrap().len(), 1, "{result}");
}

#[tokio::test]
async fn define_all_carries_the_throttles_and_acls_bound_in_the_environment() {
    let app = spawn_app().await;
    let (group_id, published, _) = setup(&app).await;
    let details = app.api_details(&published).await;
    let publish_id = details["publish_id"].as_str().unwrap().to_string();
    let throttle_body = json!({"name": "orders_tps", "api_call_limits": 100, "user_call_limits": 50,
        "app_call_limits": 40, "ip_call_limits": 20, "time_interval": 1, "time_unit": "SECOND", "type": 1});
    let (status, throttle) = app.post("/throttles", &throttle_body).await;
    assert_eq!(status, StatusCode::CREATED, "{throttle}");
    let (status, bound) =
        app.post("/throttle-bindings", &json!({"strategy_id": throttle["id"], "publish_ids": [publish_id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let acl_body =
        json!({"acl_name": "office_only", "acl_type": "PERMIT", "entity_type": "IP", "acl_value": "10.0.0.0/8"});
    let (status, acl) = app.post("/acls", &acl_body).await;
    assert_eq!(status, StatusCode::CREATED, "{acl}");
    let (status, bound) = app.post("/acl-bindings", &json!({"acl_id": acl["id"], "publish_ids": [publish_id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");

    let (_, _, bytes) =
        app.export("apigw", "", &json!({"group_id": group_id, "env_id": RELEASE, "define": "all"})).await;
    let doc = document(&bytes);
    assert_eq!(doc["x-apigateway-ratelimits"]["orders_tps"]["api-limit"], 100, "{doc}");
    assert_eq!(doc["x-apigateway-access-controls"]["office_only"]["acl-type"], "PERMIT", "{doc}");
    let op = operations(&doc).into_iter().find(|o| o["operationId"] == details["name"]).unwrap().clone();
    assert_eq!(op["x-apigateway-ratelimit"], "orders_tps");
    assert_eq!(op["x-apigateway-access-control"], "office_only");

    let (_, _, bytes) =
        app.export("apigw", "", &json!({"group_id": group_id, "env_id": RELEASE, "define": "proxy"})).await;
    let doc = document(&bytes);
    assert!(doc.get("x-apigateway-ratelimits").is_none(), "only define=all carries policies");
}

#[tokio::test]
async fn an_import_creates_or_reuses_the_policies_it_defines_by_extend_mode() {
    let app = spawn_app().await;
    let doc = |limit: i64, title: &str| {
        json!({
            "swagger": "2.0",
            "info": {"title": title, "version": "1"},
            "paths": {"/p": {"get": {"operationId": "p_api", "responses": {"default": {"description": "ok"}},
                                      "x-apigateway-ratelimit": "imported_tps"}}},
            "x-apigateway-ratelimits": {"imported_tps": {"api-limit": limit, "user-limit": 5, "interval": 1,
                                                          "unit": "SECOND", "shared": true}},
            "x-apigateway-access-controls": {"imported_acl": {"acl-type": "DENY", "entity-type": "IP",
                                                              "value": "10.0.0.0/8"}}
        })
        .to_string()
    };

    let (status, result) = app.upload("/openapi/import", &[], doc(100, &format!("p_{}", unique())).as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let created = imported_throttles(&app).await;
    assert_eq!(created.len(), 1, "the policy is created");
    assert_eq!((created[0]["api_call_limits"].clone(), created[0]["type"].clone()), (json!(100), json!(2)));
    let (_, acls) = app.get("/acls?name=imported_acl").await;
    assert_eq!(acls["acls"][0]["acl_value"], "10.0.0.0/8", "{acls}");
    let (_, group) = app.get(&format!("/api-groups/{}", result["group_id"].as_str().unwrap())).await;
    assert!(group.get("openapi_extensions").is_none_or(|e| e.get("x-apigateway-ratelimits").is_none()), "{group}");

    let (status, _) = app.upload("/openapi/import", &[], doc(200, &format!("p_{}", unique())).as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let kept = imported_throttles(&app).await;
    assert_eq!((kept.len(), kept[0]["api_call_limits"].clone()), (1, json!(100)), "merge reuses the existing one");

    let overriding = [("extend_mode", "override")];
    let (status, _) = app.upload("/openapi/import", &overriding, doc(200, &format!("p_{}", unique())).as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let replaced = imported_throttles(&app).await;
    assert_eq!(
        (replaced[0]["id"].clone(), replaced[0]["api_call_limits"].clone()),
        (kept[0]["id"].clone(), json!(200))
    );

    let mut bad: Value = serde_json::from_str(&doc(0, &format!("p_{}", unique()))).unwrap();
    bad["x-apigateway-ratelimits"]["imported_tps"]["unit"] = json!("FORTNIGHT");
    let (status, body) = app.upload("/openapi/import", &[], bad.to_string().as_bytes()).await;
    assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "APIG.2011");
    assert!(body["error_msg"].as_str().unwrap().contains("x-apigateway-ratelimits.imported_tps"), "{body}");
}

/// A document whose one API names a throttling policy (with an app and a user special), an ACL
/// and a gateway response, all defined at its root.
fn bound_document(title: &str, special_app: &str, acl_value: &str, throttled_status: u16) -> String {
    json!({
        "swagger": "2.0",
        "info": {"title": title, "version": "1"},
        "paths": {"/bound": {"get": {"operationId": "bound_api", "responses": {"default": {"description": "ok"}},
            "x-apigateway-ratelimit": "bound_tps", "x-apigateway-access-control": "bound_acl",
            "x-apigateway-response": "custom"}}},
        "x-apigateway-ratelimits": {"bound_tps": {"api-limit": 100, "app-limit": 10, "interval": 1, "unit": "SECOND",
            "special": [{"type": "APP", "instance": special_app, "limit": 7},
                        {"type": "USER", "instance": "u1", "limit": 3}]}},
        "x-apigateway-access-controls": {"bound_acl": {"acl-type": "PERMIT", "entity-type": "IP", "value": acl_value}},
        "x-apigateway-responses": {"custom": {"THROTTLED": {"status": throttled_status,
            "body": {"application/json": "{\"slow\":true}"}, "headers": [{"key": "Retry-After", "value": "1"}]}}}
    })
    .to_string()
}

async fn bound_ids(app: &TestApp, family: &str, key: &str, id: &str) -> Vec<Value> {
    let (status, list) = app.get(&format!("/{family}-bindings/binded-apis?{key}={id}")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    // ApiForThrottle names the API `id`, AclBindApiInfo `api_id`.
    list["apis"].as_array().unwrap().iter().map(|a| a.get("api_id").unwrap_or(&a["id"]).clone()).collect()
}

#[tokio::test]
async fn an_import_brings_specials_acls_and_responses_and_its_bindings_take_effect_when_published() {
    let app = spawn_app().await;
    let (_, consumer) = app.post("/apps", &json!({ "name": "import_app" })).await;
    let consumer_id = consumer["id"].as_str().unwrap();
    let (status, result) = app
        .upload(
            "/openapi/import",
            &[],
            bound_document(&format!("b_{}", unique()), consumer_id, "10.0.0.0/8", 429).as_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let group_id = result["group_id"].as_str().unwrap().to_string();
    let api_id = result["success"][0]["id"].as_str().unwrap().to_string();

    let (_, responses) = app.get(&format!("/api-groups/{group_id}/gateway-responses")).await;
    let custom = responses["responses"].as_array().unwrap().iter().find(|r| r["name"] == "custom").unwrap().clone();
    assert_eq!(app.api_details(&api_id).await["response_id"], custom["id"], "the API names the created response");
    let (_, throttled) = app
        .get(&format!("/api-groups/{group_id}/gateway-responses/{}/THROTTLED", custom["id"].as_str().unwrap()))
        .await;
    assert_eq!(throttled["THROTTLED"]["status"], 429, "{throttled}");
    assert_eq!(throttled["THROTTLED"]["headers"][0]["key"], "Retry-After", "{throttled}");
    let throttle = imported_throttles_named(&app, "bound_tps").await.remove(0);
    let throttle_id = throttle["id"].as_str().unwrap().to_string();
    let (_, specials) = app.get(&format!("/throttles/{throttle_id}/throttle-specials")).await;
    let names: Vec<&Value> =
        specials["throttle_specials"].as_array().unwrap().iter().map(|s| &s["object_name"]).collect();
    assert_eq!(names, [&json!("import_app"), &json!("u1")], "{specials}");
    let (_, acls) = app.get("/acls?name=bound_acl").await;
    let acl_id = acls["acls"][0]["id"].as_str().unwrap().to_string();

    assert!(bound_ids(&app, "throttle", "throttle_id", &throttle_id).await.is_empty(), "nothing is published yet");
    app.publish(&api_id, RELEASE).await;
    assert_eq!(bound_ids(&app, "throttle", "throttle_id", &throttle_id).await, [json!(api_id)]);
    assert_eq!(bound_ids(&app, "acl", "acl_id", &acl_id).await, [json!(api_id)]);
    let (_, _, bytes) =
        app.export("apigw", "", &json!({"group_id": group_id, "env_id": RELEASE, "define": "all"})).await;
    let doc = document(&bytes);
    assert_eq!(doc["x-apigateway-responses"]["custom"]["THROTTLED"]["status"], 429, "{doc}");
    assert_eq!(operations(&doc)[0]["x-apigateway-ratelimit"], "bound_tps", "{doc}");

    // A binding removed by hand stays removed while the API stays published; a new publish
    // record (after going offline) takes the declared bindings again.
    let (_, list) = app.get(&format!("/throttle-bindings/binded-apis?throttle_id={throttle_id}")).await;
    let binding = list["apis"][0]["throttle_apply_id"].as_str().unwrap().to_string();
    assert_eq!(app.delete(&format!("/throttle-bindings/{binding}")).await.0, StatusCode::NO_CONTENT);
    app.publish(&api_id, RELEASE).await;
    assert!(bound_ids(&app, "throttle", "throttle_id", &throttle_id).await.is_empty());
    app.offline(&api_id, RELEASE).await;
    app.publish(&api_id, RELEASE).await;
    assert_eq!(bound_ids(&app, "throttle", "throttle_id", &throttle_id).await, [json!(api_id)]);

    // extend_mode=override rewrites the objects in place; the response keeps its id.
    let form = [
        ("is_create_group", "false"),
        ("group_id", group_id.as_str()),
        ("extend_mode", "override"),
        ("api_mode", "override"),
    ];
    let (status, result) = app
        .upload("/openapi/import", &form, bound_document("ignored", consumer_id, "192.168.0.0/16", 503).as_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let (_, acl) = app.get(&format!("/acls/{acl_id}")).await;
    assert_eq!(acl["acl_value"], "192.168.0.0/16");
    let (_, throttled) = app
        .get(&format!("/api-groups/{group_id}/gateway-responses/{}/THROTTLED", custom["id"].as_str().unwrap()))
        .await;
    assert_eq!(throttled["THROTTLED"]["status"], 503, "{throttled}");

    // One transaction: a special naming a missing app fails the whole import.
    let broken = bound_document(&format!("b_{}", unique()), "0123456789abcdef0123456789abcdef", "10.1.0.0/16", 429)
        .replace("bound_acl", "never_acl");
    let (status, body) = app.upload("/openapi/import", &[("extend_mode", "override")], broken.as_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error_msg"].as_str().unwrap().contains("special[0].instance"), "{body}");
    let (_, acls) = app.get("/acls?name=never_acl").await;
    assert_eq!(acls["total"], 0, "{acls}");
    let (_, acl) = app.get(&format!("/acls/{acl_id}")).await;
    assert_eq!(acl["acl_value"], "192.168.0.0/16", "the failed import changed nothing");
}

async fn imported_throttles_named(app: &TestApp, name: &str) -> Vec<Value> {
    let (_, list) = app.get(&format!("/throttles?name={name}&precise_search=name")).await;
    list["throttles"].as_array().unwrap().clone()
}

async fn imported_throttles(app: &TestApp) -> Vec<Value> {
    let (_, list) = app.get("/throttles?name=imported_tps&precise_search=name").await;
    list["throttles"].as_array().unwrap().clone()
}

#[tokio::test]
async fn imported_references_are_checked_and_recorded_as_a_create_would() {
    let app = spawn_app().await;
    let authorizer = json!({
        "name": "imported_auth", "type": "FRONTEND", "authorizer_type": "FUNC",
        "authorizer_uri": "urn:fss:region:project:function:default:auth:latest", "network_type": "V1", "ttl": 0,
        "need_body": false,
    });
    let (status, authorizer) = app.post("/authorizers", &authorizer).await;
    assert_eq!(status, StatusCode::CREATED, "{authorizer}");
    let operation = |name: &str, scheme: &str| json!({"operationId": name, "security": [{scheme: []}], "responses": {"default": {"description": "ok"}}});
    let file = json!({
        "swagger": "2.0",
        "info": {"title": format!("refs_{}", unique()), "version": "1"},
        "paths": {"/known": {"get": operation("known_api", "apig-auth-custom-imported_auth")},
                  "/unknown": {"get": operation("unknown_api", "apig-auth-custom-nobody")}},
        "securityDefinitions": {
            "apig-auth-custom-imported_auth": {"type": "apiKey", "name": "unused", "in": "header",
                                               "x-apigateway-auth-type": "AUTHORIZER"},
            "apig-auth-custom-nobody": {"type": "apiKey", "name": "unused", "in": "header",
                                        "x-apigateway-auth-type": "AUTHORIZER"}
        }
    });
    let (status, result) = app.upload("/openapi/import", &[], file.to_string().as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"][0]["path"], "/known", "{result}");
    assert_eq!(result["failure"][0]["path"], "/unknown", "{result}");
    assert_eq!(result["failure"][0]["error_code"], "APIG.2015", "{result}");
    let imported = app.api_details(result["success"][0]["id"].as_str().unwrap()).await;
    assert_eq!(imported["authorizer_id"], authorizer["id"]);
    let in_use = app.delete(&format!("/authorizers/{}", authorizer["id"].as_str().unwrap())).await;
    assert_error(&in_use, StatusCode::CONFLICT, "APIG.3323");
}

/// Nesting and alias expansion are bounded before the document is built.
#[tokio::test]
async fn an_import_nesting_too_deeply_or_expanding_aliases_too_far_is_refused_naming_the_limit() {
    let app = spawn_app().await;
    let brackets = "[".repeat(100_000);
    let mappings: String = (0..400).map(|level| format!("{}k{level}:\n", " ".repeat(level))).collect();
    for (what, file) in [("brackets", brackets.as_str()), ("block mappings", mappings.as_str())] {
        let (status, body) = app.upload("/openapi/import", &[], file.as_bytes()).await;
        assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "APIG.2011");
        let message = body["error_msg"].as_str().unwrap();
        assert!(message.contains("deeper than 128 levels"), "{what}: {message}");
    }

    let laughs: String = (1..10)
        .map(|level| format!("l{level}: &l{level} [{}]\n", vec![format!("*l{}", level - 1); 10].join(",")))
        .collect();
    let laughs = format!("l0: &l0 [lol]\n{laughs}");
    let wide = format!("a: &a [{}]\nb: [{}]\n", vec!["x"; 16_000].join(","), vec!["*a"; 16_000].join(","));
    for (what, file) in [("billion laughs", laughs), ("wide aliases", wide)] {
        let (status, body) = app.upload("/openapi/import", &[], file.as_bytes()).await;
        assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "APIG.2011");
        let message = body["error_msg"].as_str().unwrap();
        assert!(message.contains("YAML aliases expand it too far"), "{what}: {message}");
    }
}

/// An operation that takes its `security` through a YAML merge key keeps it.
#[tokio::test]
async fn merge_keys_carry_authentication_into_an_operation() {
    let app = spawn_app().await;
    let file = format!(
        r#"swagger: "2.0"
info: {{title: merged_{}, version: "1"}}
securityDefinitions:
  apig-auth-iam: {{type: apiKey, name: unused, in: header, x-apigateway-auth-type: IAM}}
paths:
  /secured:
    get: &secured
      operationId: secured_api
      security:
        - apig-auth-iam: []
      responses: {{default: {{description: ok}}}}
  /merged:
    get:
      <<: *secured
      operationId: merged_api
"#,
        unique()
    );
    let (status, result) = app.upload("/openapi/import", &[], file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let merged = result["success"].as_array().unwrap().iter().find(|api| api["path"] == "/merged").expect("imported");
    let (_, api) = app.get(&format!("/apis/{}", merged["id"].as_str().unwrap())).await;
    assert_eq!(api["name"], "merged_api");
    assert_eq!(api["auth_type"], "IAM", "{api}");
}
