//! Publishing: `/apis/action`, `/apis/publish` (batch), `/apis/publish/{api_id}` (history,
//! switching), `/apis/runtime/{api_id}` and `/apis/versions/{version_id}`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A group with one API and one extra environment.
async fn setup(app: &TestApp) -> (String, String, String) {
    let group = app.create_group().await;
    let group_id = group["id"].as_str().unwrap().to_string();
    let api = app.new_api(&group_id).await;
    let env = app.create_env().await;
    (group_id, api["id"].as_str().unwrap().to_string(), env["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn publish_returns_the_publish_record() {
    let app = spawn_app().await;
    let (_, api_id, _) = setup(&app).await;
    let name = app.api_details(&api_id).await["name"].clone();
    let (status, record) = app.action("online", &api_id, RELEASE).await;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    assert_hex_id(&record["publish_id"]);
    assert_hex_id(&record["version_id"]);
    assert_eq!(record["api_id"], api_id.as_str());
    assert_eq!(record["api_name"], name);
    assert_eq!(record["env_id"], RELEASE);
    assert_eq!(record["remark"], "test");
    assert_time(&record["publish_time"]);

    let details = app.api_details(&api_id).await;
    assert_eq!(details["run_env_id"], RELEASE);
    assert_eq!(details["run_env_name"], "RELEASE");
    assert_eq!(details["publish_id"], record["publish_id"]);
    assert_eq!(details["publish_time"], record["publish_time"]);
}

#[tokio::test]
async fn republishing_makes_a_new_version_under_the_same_publish_id() {
    let app = spawn_app().await;
    let (_, api_id, _) = setup(&app).await;
    let first = app.publish(&api_id, RELEASE).await;
    let second = app.publish(&api_id, RELEASE).await;
    assert_eq!(second["publish_id"], first["publish_id"]);
    assert_ne!(second["version_id"], first["version_id"]);

    let (status, versions) = app.get(&format!("/apis/publish/{api_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let items = assert_list(&versions, "api_versions", 2, 2);
    assert_eq!(items[0]["version_id"], second["version_id"], "newest first");
    assert_eq!(items[1]["version_id"], first["version_id"]);
    assert_eq!(items[0]["status"], 1, "the live version");
    assert_eq!(items[1]["status"], 2);
    assert_ne!(items[0]["version_no"], items[1]["version_no"], "two versions, two numbers");
    for v in items {
        assert_eq!(v["api_id"], api_id.as_str());
        assert_eq!(v["env_id"], RELEASE);
        assert_eq!(v["env_name"], "RELEASE");
        assert_eq!(v["remark"], "test");
        assert_time(&v["publish_time"]);
        assert!(v["version_no"].as_str().is_some_and(|n| !n.is_empty()), "{v}");
    }
}

#[tokio::test]
async fn details_join_every_environment_with_a_bar() {
    let app = spawn_app().await;
    let (_, api_id, env_id) = setup(&app).await;
    let env_name = {
        let (_, envs) = app.get("/envs").await;
        envs["envs"][1]["name"].as_str().unwrap().to_string()
    };
    let release = app.publish(&api_id, RELEASE).await;
    let other = app.publish(&api_id, &env_id).await;

    let details = app.api_details(&api_id).await;
    assert_eq!(details["run_env_id"], format!("{RELEASE}|{env_id}"));
    assert_eq!(details["run_env_name"], format!("RELEASE|{env_name}"));
    let publish_ids = format!("{}|{}", release["publish_id"].as_str().unwrap(), other["publish_id"].as_str().unwrap());
    assert_eq!(details["publish_id"], publish_ids);
    let times: Vec<&str> = details["publish_time"].as_str().unwrap().split('|').collect();
    assert_eq!(times, [release["publish_time"].as_str().unwrap(), other["publish_time"].as_str().unwrap()]);

    // A list item says the same.
    let (_, list) = app.get("/apis").await;
    assert_eq!(list["apis"][0]["run_env_id"], details["run_env_id"]);
    assert_eq!(list["apis"][0]["publish_id"], details["publish_id"]);

    // Republishing in RELEASE keeps the order; taking it offline leaves the other.
    app.publish(&api_id, RELEASE).await;
    assert_eq!(app.api_details(&api_id).await["run_env_id"], format!("{RELEASE}|{env_id}"));
    app.offline(&api_id, RELEASE).await;
    let details = app.api_details(&api_id).await;
    assert_eq!(details["run_env_id"], env_id.as_str());
    assert_eq!(details["run_env_name"], env_name.as_str());
    assert_eq!(details["publish_id"], other["publish_id"]);
}

#[tokio::test]
async fn runtime_shows_the_published_snapshot_not_the_draft() {
    let app = spawn_app().await;
    let (group_id, _, env_id) = setup(&app).await;
    let body = full_api_body(&group_id, "runtime_api");
    let (_, draft) = app.create_api(&body).await;
    let api_id = draft["id"].as_str().unwrap();
    let record = app.publish(api_id, &env_id).await;

    let changed = with_name_and_uri(&body, "runtime_api_v2", "/runtime_v2/{id}");
    let (status, updated) = app.put(&format!("/apis/{api_id}"), &changed).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(app.api_details(api_id).await["name"], "runtime_api_v2", "the draft changed");

    let (status, runtime) = app.get(&format!("/apis/runtime/{api_id}{}", query(&[("env_id", &env_id)]))).await;
    assert_eq!(status, StatusCode::OK, "{runtime}");
    assert_eq!(runtime["name"], "runtime_api");
    assert_eq!(runtime["req_uri"], "/runtime_api/{id}");
    assert_contains(&body, &runtime, "runtime");
    for key in ["id", "req_params", "backend_params", "backend_api", "policy_https", "register_time"] {
        assert_eq!(runtime[key], draft[key], "{key} as published");
    }
    assert_eq!(runtime["version_id"], record["version_id"]);
    assert_eq!(runtime["publish_id"], record["publish_id"]);
    assert_eq!(runtime["publish_time"], record["publish_time"]);
    assert_eq!(runtime["run_env_id"], env_id.as_str());
    assert_eq!(runtime["api_group_info"]["id"], group_id.as_str());
    assert_eq!(runtime["sl_domain"], runtime["api_group_info"]["sl_domain"]);

    // The published version, fetched by id, is the same snapshot.
    let (status, version) = app.get(&format!("/apis/versions/{}", record["version_id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(version, runtime);

    // Republishing picks up the draft.
    app.publish(api_id, &env_id).await;
    let (_, runtime) = app.get(&format!("/apis/runtime/{api_id}{}", query(&[("env_id", &env_id)]))).await;
    assert_eq!(runtime["name"], "runtime_api_v2");
}

fn with_name_and_uri(body: &Value, name: &str, uri: &str) -> Value {
    let mut body = body.clone();
    body["name"] = json!(name);
    body["req_uri"] = json!(uri);
    body
}

#[tokio::test]
async fn runtime_defaults_to_release_and_404s_when_not_published() {
    let app = spawn_app().await;
    let (_, api_id, env_id) = setup(&app).await;
    let not_yet = app.get(&format!("/apis/runtime/{api_id}")).await;
    assert_error(&not_yet, StatusCode::NOT_FOUND, "APIG.3007");

    app.publish(&api_id, RELEASE).await;
    let (status, runtime) = app.get(&format!("/apis/runtime/{api_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(runtime["run_env_id"], RELEASE);
    let elsewhere = app.get(&format!("/apis/runtime/{api_id}{}", query(&[("env_id", &env_id)]))).await;
    assert_error(&elsewhere, StatusCode::NOT_FOUND, "APIG.3007");

    let unknown = app.get("/apis/runtime/0123456789abcdef0123456789abcdef").await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "APIG.3002");
    let unknown = app.get("/apis/versions/0123456789abcdef0123456789abcdef").await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "APIG.3006");
}

#[tokio::test]
async fn offline_removes_the_publication_and_keeps_the_history() {
    let app = spawn_app().await;
    let (_, api_id, _) = setup(&app).await;
    let record = app.publish(&api_id, RELEASE).await;
    let (status, removed) = app.action("offline", &api_id, RELEASE).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["publish_id"], record["publish_id"]);
    assert_eq!(removed["api_id"], api_id.as_str());

    let details = app.api_details(&api_id).await;
    for key in ["run_env_id", "run_env_name", "publish_id", "publish_time"] {
        assert_eq!(details[key], "", "{key}");
    }
    assert_error(&app.get(&format!("/apis/runtime/{api_id}")).await, StatusCode::NOT_FOUND, "APIG.3007");
    let again = app.action("offline", &api_id, RELEASE).await;
    assert_error(&again, StatusCode::NOT_FOUND, "APIG.3007");

    let (_, versions) = app.get(&format!("/apis/publish/{api_id}")).await;
    let items = assert_list(&versions, "api_versions", 1, 1);
    assert_eq!(items[0]["version_id"], record["version_id"]);
    assert_eq!(items[0]["status"], 2, "no version is live any more");

    // Publishing again makes a new publication.
    let fresh = app.publish(&api_id, RELEASE).await;
    assert_ne!(fresh["publish_id"], record["publish_id"]);
}

#[tokio::test]
async fn action_bodies_are_validated() {
    let app = spawn_app().await;
    let (_, api_id, env_id) = setup(&app).await;
    let base = json!({ "action": "online", "env_id": env_id, "api_id": api_id });
    let drop = |key: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let set = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    assert_missing(&app.post("/apis/action", &drop("action")).await, "action");
    assert_missing(&app.post("/apis/action", &drop("env_id")).await, "env_id");
    assert_missing(&app.post("/apis/action", &drop("api_id")).await, "api_id");
    assert_missing(&app.post("/apis/action", &set("api_id", json!(""))).await, "api_id");
    assert_invalid(&app.post("/apis/action", &set("action", json!("publish"))).await, "action");
    assert_invalid(&app.post("/apis/action", &set("action", json!(1))).await, "action");
    assert_invalid(&app.post("/apis/action", &set("remark", json!("r".repeat(256)))).await, "remark");
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_error(&app.post("/apis/action", &set("env_id", json!(unknown))).await, StatusCode::NOT_FOUND, "APIG.3003");
    let missing_api = app.post("/apis/action", &set("api_id", json!(unknown))).await;
    assert_error(&missing_api, StatusCode::NOT_FOUND, "APIG.3002");
    assert_eq!(missing_api.1["error_msg"], format!("API {unknown} does not exist"));
    let ok = app.post("/apis/action", &set("remark", json!("r".repeat(255)))).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    for body in [&b"{"[..], b"", b"[]"] {
        let response = app.signed_raw(Method::POST, &app.inst("/apis/action"), body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.body["error_code"], "APIG.2002");
    }
}

#[tokio::test]
async fn batch_reports_success_and_failure_per_api() {
    let app = spawn_app().await;
    let (group_id, good1, env_id) = setup(&app).await;
    let good2 = app.new_api(&group_id).await["id"].as_str().unwrap().to_string();
    let unknown = "0123456789abcdef0123456789abcdef";
    let body = json!({ "apis": [good1, unknown, good2], "env_id": env_id, "remark": "batch" });
    let (status, result) = app.batch("online", &body).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let success = result["success"].as_array().unwrap();
    let failure = result["failure"].as_array().unwrap();
    assert_eq!(success.len(), 2, "{result}");
    assert_eq!(failure.len(), 1, "{result}");
    assert_eq!(success[0]["api_id"], good1.as_str());
    assert_eq!(success[1]["api_id"], good2.as_str());
    for s in success {
        assert_hex_id(&s["publish_id"]);
        assert_hex_id(&s["version_id"]);
        assert_eq!(s["env_id"], env_id.as_str());
        assert_eq!(s["remark"], "batch");
        assert_time(&s["publish_time"]);
    }
    assert_eq!(failure[0]["api_id"], unknown);
    assert_eq!(failure[0]["error_code"], "APIG.3002");
    assert!(failure[0]["error_msg"].as_str().is_some_and(|m| m.contains(unknown)));
    assert!(failure[0].get("api_name").is_some());

    for id in [&good1, &good2] {
        assert_eq!(app.api_details(id).await["run_env_id"], env_id.as_str(), "{id} is live");
    }

    // Offline: one published, one not.
    let fresh = app.new_api(&group_id).await;
    let fresh = fresh["id"].as_str().unwrap();
    let (status, result) = app.batch("offline", &json!({ "apis": [good1, fresh], "env_id": env_id })).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"].as_array().unwrap().len(), 1);
    assert_eq!(result["success"][0]["api_id"], good1.as_str());
    assert_eq!(result["failure"][0]["api_id"], fresh);
    assert_eq!(result["failure"][0]["error_code"], "APIG.3007");
    assert_eq!(app.api_details(&good1).await["run_env_id"], "");
    assert_eq!(app.api_details(&good2).await["run_env_id"], env_id.as_str());
}

#[tokio::test]
async fn batch_by_group_publishes_every_api_of_the_group() {
    let app = spawn_app().await;
    let (group_id, first, env_id) = setup(&app).await;
    let second = app.new_api(&group_id).await["id"].as_str().unwrap().to_string();
    let other_group = app.create_group().await;
    let outsider = app.new_api(other_group["id"].as_str().unwrap()).await["id"].as_str().unwrap().to_string();

    let (status, result) = app.batch("online", &json!({ "group_id": group_id, "env_id": env_id })).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let published: Vec<&str> =
        result["success"].as_array().unwrap().iter().map(|s| s["api_id"].as_str().unwrap()).collect();
    assert_eq!(published, [first.as_str(), second.as_str()]);
    assert_eq!(result["failure"], json!([]));
    assert_eq!(app.api_details(&outsider).await["run_env_id"], "");

    let (status, result) = app.batch("offline", &json!({ "group_id": group_id, "env_id": env_id })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["success"].as_array().unwrap().len(), 2);
    let unknown =
        app.batch("online", &json!({ "group_id": "0123456789abcdef0123456789abcdef", "env_id": env_id })).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "APIG.3001");
}

#[tokio::test]
async fn batch_requests_are_validated() {
    let app = spawn_app().await;
    let (_, api_id, env_id) = setup(&app).await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("{i:032x}")).collect();
    assert_invalid(&app.batch("online", &json!({ "apis": too_many, "env_id": env_id })).await, "apis");
    assert_invalid(&app.batch("offline", &json!({ "apis": too_many, "env_id": env_id })).await, "apis");
    assert_eq!(app.api_details(&api_id).await["run_env_id"], "");

    // 1000 is allowed: every unknown id is a failure of its own.
    let just_enough: Vec<String> = (0..1000).map(|i| format!("{i:032x}")).collect();
    let (status, result) = app.batch("online", &json!({ "apis": just_enough, "env_id": env_id })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["success"], json!([]));
    assert_eq!(result["failure"].as_array().unwrap().len(), 1000);

    assert_missing(&app.batch("online", &json!({ "env_id": env_id })).await, "apis");
    assert_missing(&app.batch("online", &json!({ "apis": [], "group_id": "", "env_id": env_id })).await, "apis");
    assert_missing(&app.batch("online", &json!({ "apis": [api_id] })).await, "env_id");
    assert_invalid(&app.batch("online", &json!({ "apis": api_id, "env_id": env_id })).await, "apis");
    assert_invalid(
        &app.batch("online", &json!({ "apis": [api_id], "env_id": env_id, "remark": "r".repeat(256) })).await,
        "remark",
    );
    assert_invalid(&app.batch("publish", &json!({ "apis": [api_id], "env_id": env_id })).await, "action");
    assert_missing(&app.post("/apis/publish", &json!({ "apis": [api_id], "env_id": env_id })).await, "action");
    let unknown_env =
        app.batch("online", &json!({ "apis": [api_id], "env_id": "0123456789abcdef0123456789abcdef" })).await;
    assert_error(&unknown_env, StatusCode::NOT_FOUND, "APIG.3003");
    let path = app.inst(&format!("/apis/publish{}", query(&[("action", "online")])));
    for body in [&b"{"[..], b"", b"[]"] {
        let response = app.signed_raw(Method::POST, &path, body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.body["error_code"], "APIG.2002");
    }
}

#[tokio::test]
async fn version_history_filters_and_pages() {
    let app = spawn_app().await;
    let (_, api_id, env_id) = setup(&app).await;
    let env_name = app.get("/envs").await.1["envs"][1]["name"].as_str().unwrap().to_string();
    let r1 = app.publish(&api_id, RELEASE).await;
    let e1 = app.publish(&api_id, &env_id).await;
    let r2 = app.publish(&api_id, RELEASE).await;

    let ids = |body: &Value| -> Vec<Value> {
        body["api_versions"].as_array().unwrap().iter().map(|v| v["version_id"].clone()).collect()
    };
    let path = |pairs: &[(&str, &str)]| format!("/apis/publish/{api_id}{}", query(pairs));
    let (_, all) = app.get(&path(&[])).await;
    assert_list(&all, "api_versions", 3, 3);
    assert_eq!(ids(&all), [r2["version_id"].clone(), e1["version_id"].clone(), r1["version_id"].clone()]);
    let statuses: Vec<&Value> = all["api_versions"].as_array().unwrap().iter().map(|v| &v["status"]).collect();
    assert_eq!(statuses, [&json!(1), &json!(1), &json!(2)]);

    let (_, release) = app.get(&path(&[("env_id", RELEASE)])).await;
    assert_list(&release, "api_versions", 2, 2);
    assert_eq!(ids(&release), [r2["version_id"].clone(), r1["version_id"].clone()]);
    let (_, by_name) = app.get(&path(&[("env_name", &env_name)])).await;
    assert_eq!(ids(&by_name), [e1["version_id"].clone()]);
    assert_eq!(by_name["api_versions"][0]["env_name"], env_name.as_str());

    let (_, page) = app.get(&path(&[("offset", "1"), ("limit", "1")])).await;
    assert_eq!(ids(&page), [e1["version_id"].clone()]);
    assert_list(&page, "api_versions", 1, 3);
    let (_, beyond) = app.get(&path(&[("offset", "3")])).await;
    assert_list(&beyond, "api_versions", 0, 3);
    assert_invalid(&app.get(&path(&[("limit", "0")])).await, "limit");

    assert_error(&app.get(&path(&[("env_name", "no_such_env")])).await, StatusCode::NOT_FOUND, "APIG.3003");
    let unknown = app.get("/apis/publish/0123456789abcdef0123456789abcdef").await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "APIG.3002");
}

#[tokio::test]
async fn switching_versions_changes_what_is_live() {
    let app = spawn_app().await;
    let (group_id, _, _) = setup(&app).await;
    let body = api_body(&group_id, "switched", "/switched");
    let (_, api) = app.create_api(&body).await;
    let api_id = api["id"].as_str().unwrap();
    let v1 = app.publish(api_id, RELEASE).await;
    app.put(&format!("/apis/{api_id}"), &with_name_and_uri(&body, "switched_v2", "/switched/v2")).await;
    let v2 = app.publish(api_id, RELEASE).await;
    let (_, runtime) = app.get(&format!("/apis/runtime/{api_id}")).await;
    assert_eq!(runtime["name"], "switched_v2");

    let (status, switched) =
        app.put(&format!("/apis/publish/{api_id}"), &json!({ "version_id": v1["version_id"] })).await;
    assert_eq!(status, StatusCode::OK, "{switched}");
    assert_eq!(switched["version_id"], v1["version_id"]);
    assert_eq!(switched["publish_id"], v2["publish_id"], "the same publication");
    assert_eq!(switched["env_id"], RELEASE);
    assert_eq!(switched["api_id"], api_id);
    assert_time(&switched["publish_time"]);

    let (_, runtime) = app.get(&format!("/apis/runtime/{api_id}")).await;
    assert_eq!(runtime["name"], "switched");
    assert_eq!(runtime["version_id"], v1["version_id"]);
    let (_, versions) = app.get(&format!("/apis/publish/{api_id}")).await;
    let status_of = |id: &Value| {
        versions["api_versions"].as_array().unwrap().iter().find(|v| &v["version_id"] == id).unwrap()["status"].clone()
    };
    assert_eq!(status_of(&v1["version_id"]), 1);
    assert_eq!(status_of(&v2["version_id"]), 2);
    assert_eq!(app.api_details(api_id).await["publish_id"], v2["publish_id"]);

    // Errors.
    let path = format!("/apis/publish/{api_id}");
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_error(&app.put(&path, &json!({ "version_id": unknown })).await, StatusCode::NOT_FOUND, "APIG.3006");
    assert_missing(&app.put(&path, &json!({})).await, "version_id");
    let other = app.new_api(&group_id).await;
    let other_id = other["id"].as_str().unwrap();
    let foreign = app.put(&format!("/apis/publish/{other_id}"), &json!({ "version_id": v1["version_id"] })).await;
    assert_error(&foreign, StatusCode::CONFLICT, "APIG.3310");
    let no_api = app.put(&format!("/apis/publish/{unknown}"), &json!({ "version_id": v1["version_id"] })).await;
    assert_error(&no_api, StatusCode::NOT_FOUND, "APIG.3002");
    let response = app.signed_raw(Method::PUT, &app.inst(&path), b"{").await;
    assert_eq!((response.status, response.body["error_code"].clone()), (StatusCode::BAD_REQUEST, json!("APIG.2002")));
}

#[tokio::test]
async fn deleting_an_api_deletes_its_publications_and_versions() {
    let app = spawn_app().await;
    let (_, api_id, env_id) = setup(&app).await;
    let record = app.publish(&api_id, &env_id).await;
    assert_eq!(app.delete(&format!("/apis/{api_id}")).await.0, StatusCode::NO_CONTENT);
    let version = app.get(&format!("/apis/versions/{}", record["version_id"].as_str().unwrap())).await;
    assert_error(&version, StatusCode::NOT_FOUND, "APIG.3006");
    let (_, list) = app.get(&format!("/apis{}", query(&[("env_id", &env_id)]))).await;
    assert_list(&list, "apis", 0, 0);
}

#[tokio::test]
async fn renaming_the_environment_or_group_shows_in_details() {
    let app = spawn_app().await;
    let (group_id, api_id, env_id) = setup(&app).await;
    app.publish(&api_id, &env_id).await;
    let (status, _) = app.put(&format!("/envs/{env_id}"), &json!({ "name": "renamed_env" })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.put(&format!("/api-groups/{group_id}"), &json!({ "name": "renamed_group" })).await;
    assert_eq!(status, StatusCode::OK);
    let details = app.api_details(&api_id).await;
    assert_eq!(details["run_env_name"], "renamed_env");
    assert_eq!(details["group_name"], "renamed_group");
    assert_eq!(details["api_group_info"]["name"], "renamed_group");
    let (_, versions) = app.get(&format!("/apis/publish/{api_id}")).await;
    assert_eq!(versions["api_versions"][0]["env_name"], "renamed_env");
    let (_, runtime) = app.get(&format!("/apis/runtime/{api_id}{}", query(&[("env_id", &env_id)]))).await;
    assert_eq!(runtime["run_env_name"], "renamed_env");
}
