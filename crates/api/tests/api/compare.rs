//! `GET …/api-groups/{group_id}/compare?from=…&to=…`: a group's definitions between two
//! environments, or the drafts and an environment, on the APIG and ROMA paths.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn compare_path(group_id: &str, from: &str, to: &str) -> String {
    format!("/api-groups/{group_id}/compare{}", query(&[("from", from), ("to", to)]))
}

fn status_of<'a>(result: &'a Value, api_id: &str) -> &'a Value {
    let apis = result["apis"].as_array().expect("apis");
    &apis.iter().find(|a| a["api_id"] == api_id).unwrap_or_else(|| panic!("{api_id} in {result}"))["status"]
}

/// A group with three APIs: `kept` published alike in RELEASE and `env`, `edited` published in
/// both and then changed and republished in `env` only, `fresh` published in `env` only.
async fn two_environments(app: &TestApp) -> (String, String, [String; 3]) {
    let group_id = app.create_group().await["id"].as_str().unwrap().to_string();
    let env_id = app.create_env().await["id"].as_str().unwrap().to_string();
    let id = |api: Value| api["id"].as_str().unwrap().to_string();
    let (kept, edited, fresh) =
        (id(app.new_api(&group_id).await), id(app.new_api(&group_id).await), id(app.new_api(&group_id).await));
    for api in [&kept, &edited] {
        app.publish(api, RELEASE).await;
        app.publish(api, &env_id).await;
    }
    let mut body = app.api_details(&edited).await;
    body["backend_api"]["timeout"] = json!(9000);
    body["remark"] = json!("slower backend");
    let (status, updated) = app.put(&format!("/apis/{edited}"), &body).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    app.publish(&edited, &env_id).await;
    app.publish(&fresh, &env_id).await;
    (group_id, env_id, [kept, edited, fresh])
}

#[tokio::test]
async fn two_environments_compare_api_by_api_with_field_changes() {
    let app = spawn_app().await;
    let (group_id, env_id, [kept, edited, fresh]) = two_environments(&app).await;
    let (status, result) = app.get(&compare_path(&group_id, RELEASE, &env_id)).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["group_id"], group_id.as_str());
    assert_eq!(result["from"], json!({"id": RELEASE, "name": "RELEASE"}));
    assert_eq!(result["to"]["id"], env_id.as_str());
    assert_eq!(result["summary"], json!({"added": 1, "removed": 0, "changed": 1, "same": 1}));
    assert_eq!(status_of(&result, &kept), "same");
    assert_eq!(status_of(&result, &fresh), "added");
    assert_eq!(status_of(&result, &edited), "changed");
    let changed = result["apis"].as_array().unwrap().iter().find(|a| a["api_id"] == edited.as_str()).unwrap();
    let changes = changed["changes"].as_array().unwrap();
    assert!(changes.contains(&json!({"path": "/backend_api/timeout", "old": 5000, "new": 9000})), "{changed}");
    assert!(changes.contains(&json!({"path": "/remark", "new": "slower backend"})), "{changed}");

    let (_, reverse) = app.get(&compare_path(&group_id, &env_id, RELEASE)).await;
    assert_eq!(reverse["summary"], json!({"added": 0, "removed": 1, "changed": 1, "same": 1}));
    assert_eq!(status_of(&reverse, &fresh), "removed");
}

#[tokio::test]
async fn drafts_compare_with_what_is_published() {
    let app = spawn_app().await;
    let (group_id, env_id, [kept, edited, fresh]) = two_environments(&app).await;
    let (status, result) = app.get(&compare_path(&group_id, "draft", &env_id)).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["from"], json!({"id": "draft", "name": "draft"}));
    assert_eq!(result["summary"], json!({"added": 0, "removed": 0, "changed": 0, "same": 3}), "{result}");

    let (_, against_release) = app.get(&compare_path(&group_id, "draft", RELEASE)).await;
    assert_eq!(status_of(&against_release, &kept), "same");
    assert_eq!(status_of(&against_release, &edited), "changed");
    assert_eq!(status_of(&against_release, &fresh), "removed", "a draft never published in RELEASE");
}

#[tokio::test]
async fn the_roma_path_compares_with_the_same_handler() {
    let app = spawn_app().await;
    let (group_id, env_id, _) = two_environments(&app).await;
    let path = app.inst(&compare_path(&group_id, RELEASE, &env_id)).replace("/apigw/", "/apic/");
    let response = app.signed(Method::GET, &path, None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["summary"], json!({"added": 1, "removed": 0, "changed": 1, "same": 1}));
}

#[tokio::test]
async fn bad_sides_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let group_id = app.create_group().await["id"].as_str().unwrap().to_string();
    let (status, body) = app.get(&format!("/api-groups/{group_id}/compare?to=draft")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "APIG.2001", "{body}");
    assert!(body["error_msg"].as_str().unwrap().contains("from"), "{body}");

    let (status, body) = app.get(&compare_path(&group_id, "draft", "no-such-env")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app.get(&compare_path("no-such-group", "draft", RELEASE)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, empty) = app.get(&compare_path(&group_id, "draft", RELEASE)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty["apis"], json!([]));
}

#[tokio::test]
async fn comparing_needs_credentials() {
    let app = spawn_app().await;
    let group_id = app.create_group().await["id"].as_str().unwrap().to_string();
    let path = app.inst(&compare_path(&group_id, "draft", RELEASE));
    let response = app.call(&Auth::Anonymous, Method::GET, &path, None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}
