//! Environments: `/envs` (create, list, update, delete) and the built-in RELEASE.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn every_instance_has_release() {
    let app = spawn_app().await;
    let (status, body) = app.get("/envs").await;
    assert_eq!(status, StatusCode::OK);
    let envs = assert_list(&body, "envs", 1, 1);
    assert_eq!(envs[0]["id"], RELEASE);
    assert_eq!(envs[0]["name"], "RELEASE");
    assert_time(&envs[0]["create_time"]);
}

#[tokio::test]
async fn create_returns_the_environment() {
    let app = spawn_app().await;
    let (status, env) = app.create_env_named("test_env_1").await;
    assert_eq!(status, StatusCode::CREATED, "{env}");
    assert_hex_id(&env["id"]);
    assert_eq!(env["name"], "test_env_1");
    assert_eq!(env["remark"], "test env");
    assert_time(&env["create_time"]);
    let (_, list) = app.get("/envs").await;
    assert_eq!(assert_list(&list, "envs", 2, 2)[1], env);
}

#[tokio::test]
async fn duplicate_names_conflict() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    assert_error(&app.create_env_named(env["name"].as_str().unwrap()).await, StatusCode::CONFLICT, "APIG.3304");
    assert_error(&app.create_env_named("RELEASE").await, StatusCode::CONFLICT, "APIG.3304");
    let other = app.create_env().await;
    let renamed = app.put(&format!("/envs/{}", other["id"].as_str().unwrap()), &json!({ "name": env["name"] })).await;
    assert_error(&renamed, StatusCode::CONFLICT, "APIG.3304");
}

#[tokio::test]
async fn update_renames() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    let path = format!("/envs/{}", env["id"].as_str().unwrap());
    let (status, updated) = app.put(&path, &json!({ "name": "renamed_env", "remark": "changed" })).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], env["id"]);
    assert_eq!(updated["name"], "renamed_env");
    assert_eq!(updated["remark"], "changed");
    assert_eq!(updated["create_time"], env["create_time"]);
    let (_, list) = app.get("/envs").await;
    assert_eq!(assert_list(&list, "envs", 2, 2)[1], updated);
}

#[tokio::test]
async fn release_cannot_be_changed_or_deleted() {
    let app = spawn_app().await;
    let path = format!("/envs/{RELEASE}");
    assert_error(&app.put(&path, &json!({ "name": "PRODUCTION" })).await, StatusCode::CONFLICT, "APIG.3308");
    assert_error(&app.delete(&path).await, StatusCode::CONFLICT, "APIG.3308");
    let (_, list) = app.get("/envs").await;
    assert_eq!(assert_list(&list, "envs", 1, 1)[0]["name"], "RELEASE");
}

#[tokio::test]
async fn delete_removes_the_environment() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    let path = format!("/envs/{}", env["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await, (StatusCode::NO_CONTENT, Value::Null));
    let (_, list) = app.get("/envs").await;
    assert_list(&list, "envs", 1, 1);
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, "APIG.3003");
}

#[tokio::test]
async fn unknown_environments_are_404() {
    let app = spawn_app().await;
    let path = "/envs/0123456789abcdef0123456789abcdef";
    let updated = app.put(path, &json!({ "name": "whatever" })).await;
    assert_error(&updated, StatusCode::NOT_FOUND, "APIG.3003");
    assert_eq!(updated.1["error_msg"], "Environment 0123456789abcdef0123456789abcdef does not exist");
    assert_error(&app.delete(path).await, StatusCode::NOT_FOUND, "APIG.3003");
}

#[tokio::test]
async fn an_environment_with_published_apis_cannot_be_deleted() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    let env_id = env["id"].as_str().unwrap();
    let group = app.create_group().await;
    let api = app.new_api(group["id"].as_str().unwrap()).await;
    let api_id = api["id"].as_str().unwrap();
    app.publish(api_id, env_id).await;

    let refused = app.delete(&format!("/envs/{env_id}")).await;
    assert_error(&refused, StatusCode::CONFLICT, "APIG.3307");
    let (_, list) = app.get("/envs").await;
    assert_list(&list, "envs", 2, 2);

    app.offline(api_id, env_id).await;
    assert_eq!(app.delete(&format!("/envs/{env_id}")).await.0, StatusCode::NO_CONTENT);
    // The history of that environment went with it.
    let (_, versions) = app.get(&format!("/apis/publish/{api_id}")).await;
    assert_list(&versions, "api_versions", 0, 0);
}

#[tokio::test]
async fn deleting_the_published_api_frees_the_environment() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    let env_id = env["id"].as_str().unwrap();
    let group = app.create_group().await;
    let api = app.new_api(group["id"].as_str().unwrap()).await;
    app.publish(api["id"].as_str().unwrap(), env_id).await;
    assert_eq!(app.delete(&format!("/apis/{}", api["id"].as_str().unwrap())).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/envs/{env_id}")).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn environment_fields_are_validated() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    let update_path = format!("/envs/{}", env["id"].as_str().unwrap());
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "2001", "name"),
        (json!({ "name": "" }), "2001", "name"),
        (json!({ "name": null, "remark": "x" }), "2001", "name"),
        (json!({ "name": "ab" }), "2011", "name"),
        (json!({ "name": "1env" }), "2011", "name"),
        (json!({ "name": "_env" }), "2011", "name"),
        (json!({ "name": "dash-env" }), "2011", "name"),
        (json!({ "name": "环境名称" }), "2011", "name"),
        (json!({ "name": "e".repeat(65) }), "2011", "name"),
        (json!({ "name": ["list"] }), "2011", "name"),
        (json!({ "name": "good_env", "remark": "r".repeat(256) }), "2011", "remark"),
    ];
    for (body, code, field) in cases {
        for response in [app.post("/envs", &body).await, app.put(&update_path, &body).await] {
            if code == "2001" {
                assert_missing(&response, field);
            } else {
                assert_invalid(&response, field);
            }
        }
    }
    assert_eq!(app.create_env_named("abc").await.0, StatusCode::CREATED);
    assert_eq!(app.create_env_named(&"e".repeat(64)).await.0, StatusCode::CREATED);
    assert_eq!(app.create_env_named("Env_2_test").await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn list_filters_by_name_and_pages() {
    let app = spawn_app().await;
    for name in ["dev_one", "dev_two", "staging"] {
        assert_eq!(app.create_env_named(name).await.0, StatusCode::CREATED);
    }
    let (_, dev) = app.get(&format!("/envs{}", query(&[("name", "dev")]))).await;
    let names: Vec<&str> = assert_list(&dev, "envs", 2, 2).iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dev_one", "dev_two"]);

    let (_, page) = app.get(&format!("/envs{}", query(&[("offset", "1"), ("limit", "2")]))).await;
    let names: Vec<&str> = assert_list(&page, "envs", 2, 4).iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dev_one", "dev_two"]);

    let (_, beyond) = app.get(&format!("/envs{}", query(&[("offset", "4")]))).await;
    assert_list(&beyond, "envs", 0, 4);
    assert_invalid(&app.get(&format!("/envs{}", query(&[("limit", "0")]))).await, "limit");
    assert_invalid(&app.get(&format!("/envs{}", query(&[("limit", "501")]))).await, "limit");
}

#[tokio::test]
async fn there_is_no_show_route_for_one_environment() {
    // APIG has no ShowDetailsOfEnvironmentV2; the path exists for PUT and DELETE only.
    let app = spawn_app().await;
    let response = app.signed(Method::GET, &app.inst(&format!("/envs/{RELEASE}")), None).await;
    assert_error(&response.pair(), StatusCode::METHOD_NOT_ALLOWED, "APIG.2014");
}

#[tokio::test]
async fn malformed_bodies_are_400_not_500() {
    let app = spawn_app().await;
    let env = app.create_env().await;
    let update = app.inst(&format!("/envs/{}", env["id"].as_str().unwrap()));
    for (method, path) in [(Method::POST, app.inst("/envs")), (Method::PUT, update)] {
        for body in [&b"{"[..], b"", b"null", b"[{\"name\":\"abc\"}]", b"{\"name\":'abc'}"] {
            let response = app.signed_raw(method.clone(), &path, body).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{method} {path} {body:?}: {}", response.body);
            assert_eq!(response.body["error_code"], "APIG.2002");
        }
    }
}
