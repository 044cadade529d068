//! Instances: `/v2/{project_id}/apigw/instances[/{instance_id}]`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn instances(app: &TestApp) -> String {
    format!("/v2/{}/apigw/instances", app.project_id)
}

#[tokio::test]
async fn the_bootstrapped_instance_is_listed_and_shown() {
    let app = spawn_app().await;
    let (status, list) = app.signed(Method::GET, &instances(&app), None).await.pair();
    assert_eq!(status, StatusCode::OK);
    let items = assert_list(&list, "instances", 1, 1);
    let instance = &items[0];
    assert_eq!(instance["id"], app.instance_id.as_str());
    assert_eq!(instance["project_id"], app.project_id.as_str());
    assert_eq!(instance["instance_name"], "portico-default");
    assert_eq!(instance["status"], "Running");
    assert!(instance["create_time"].as_i64().is_some_and(|ms| ms > 1_600_000_000_000), "epoch ms: {instance}");

    let shown = app.signed(Method::GET, &format!("{}/{}", instances(&app), app.instance_id), None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(&shown.body, instance);
}

#[tokio::test]
async fn create_then_use_then_delete_an_instance() {
    let app = spawn_app().await;
    let body = json!({ "instance_name": "second-instance_1", "description": "for a test" });
    let (status, created) = app.signed(Method::POST, &instances(&app), Some(&body)).await.pair();
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    assert_hex_id(&created["instance_id"]);
    let id = created["instance_id"].as_str().unwrap();
    let path = format!("{}/{id}", instances(&app));

    let (status, shown) = app.signed(Method::GET, &path, None).await.pair();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["instance_name"], "second-instance_1");
    assert_eq!(shown["description"], "for a test");

    // It has its own RELEASE environment and takes groups.
    let (status, envs) = app.signed(Method::GET, &format!("{path}/envs"), None).await.pair();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assert_list(&envs, "envs", 1, 1)[0]["id"], RELEASE);
    let (status, group) =
        app.signed(Method::POST, &format!("{path}/api-groups"), Some(&json!({ "name": "in_second" }))).await.pair();
    assert_eq!(status, StatusCode::CREATED);

    let (_, list) = app.signed(Method::GET, &instances(&app), None).await.pair();
    assert_list(&list, "instances", 2, 2);
    let (_, named) = app
        .signed(Method::GET, &format!("{}{}", instances(&app), query(&[("instance_name", "second")])), None)
        .await
        .pair();
    assert_eq!(assert_list(&named, "instances", 1, 1)[0]["id"], id);

    // Not deletable while it has groups.
    let refused = app.signed(Method::DELETE, &path, None).await.pair();
    assert_error(&refused, StatusCode::CONFLICT, "APIG.3309");
    let group_path = format!("{path}/api-groups/{}", group["id"].as_str().unwrap());
    assert_eq!(app.signed(Method::DELETE, &group_path, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.signed(Method::DELETE, &path, None).await.pair(), (StatusCode::NO_CONTENT, Value::Null));

    assert_error(&app.signed(Method::GET, &path, None).await.pair(), StatusCode::NOT_FOUND, "APIG.3008");
    assert_error(&app.signed(Method::DELETE, &path, None).await.pair(), StatusCode::NOT_FOUND, "APIG.3008");
    let gone = app.signed(Method::GET, &format!("{path}/api-groups"), None).await.pair();
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3008");
}

#[tokio::test]
async fn instance_fields_are_validated() {
    let app = spawn_app().await;
    let path = instances(&app);
    let post = |body: Value| {
        let path = path.clone();
        let app = &app;
        async move { app.signed(Method::POST, &path, Some(&body)).await.pair() }
    };
    assert_missing(&post(json!({})).await, "instance_name");
    assert_missing(&post(json!({ "instance_name": "" })).await, "instance_name");
    assert_invalid(&post(json!({ "instance_name": "ab" })).await, "instance_name");
    assert_invalid(&post(json!({ "instance_name": "1abc" })).await, "instance_name");
    assert_invalid(&post(json!({ "instance_name": "has space" })).await, "instance_name");
    assert_invalid(&post(json!({ "instance_name": "i".repeat(65) })).await, "instance_name");
    assert_invalid(&post(json!({ "instance_name": 5 })).await, "instance_name");
    assert_invalid(&post(json!({ "instance_name": "good_name", "description": "d".repeat(256) })).await, "description");
    for body in [&b"{"[..], b"", b"[]"] {
        let response = app.signed_raw(Method::POST, &path, body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.body["error_code"], "APIG.2002");
    }
    let (_, list) = app.signed(Method::GET, &path, None).await.pair();
    assert_list(&list, "instances", 1, 1);
}

#[tokio::test]
async fn instance_lists_page() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.add_instance(&app.project_id).await;
    }
    let path = |pairs: &[(&str, &str)]| format!("{}{}", instances(&app), query(pairs));
    let (_, page) = app.signed(Method::GET, &path(&[("offset", "1"), ("limit", "2")]), None).await.pair();
    assert_list(&page, "instances", 2, 4);
    let (_, beyond) = app.signed(Method::GET, &path(&[("offset", "10")]), None).await.pair();
    assert_list(&beyond, "instances", 0, 4);
    assert_invalid(&app.signed(Method::GET, &path(&[("limit", "0")]), None).await.pair(), "limit");
    assert_invalid(&app.signed(Method::GET, &path(&[("limit", "501")]), None).await.pair(), "limit");
}

#[tokio::test]
async fn unknown_instances_are_404_on_every_nested_route() {
    let app = spawn_app().await;
    let unknown = "0123456789abcdef0123456789abcdef";
    let base = format!("/v2/{}/apigw/instances/{unknown}", app.project_id);
    for rel in ["/api-groups", "/envs", "/env-variables", "/apis", "/apis/publish/x", "/apis/runtime/x", ""] {
        let response = app.signed(Method::GET, &format!("{base}{rel}"), None).await.pair();
        assert_error(&response, StatusCode::NOT_FOUND, "APIG.3008");
    }
    let create = app.signed(Method::POST, &format!("{base}/api-groups"), Some(&json!({ "name": "lost" }))).await.pair();
    assert_error(&create, StatusCode::NOT_FOUND, "APIG.3008");
}

/// A NUL in a query parameter is refused on every route before it reaches the database
/// (PostgreSQL refuses NUL in text; schemathesis found a list answering 500 with one).
#[tokio::test]
async fn a_nul_in_a_query_parameter_is_a_400_on_any_route() {
    let app = spawn_app().await;
    let apis = format!("{}/{}/apis", instances(&app), app.instance_id);
    for path in [
        format!("{}?instance_name=a%00b", instances(&app)),
        format!("/v2/{}/apigw/certificates?instance_id=%C3%93%00", app.project_id),
        format!("{apis}?name=x%00"),
        format!("{apis}?%00odd=1"),
    ] {
        let response = app.signed(Method::GET, &path, None).await.pair();
        assert_error(&response, StatusCode::BAD_REQUEST, "APIG.2011");
    }
    let (status, _) = app.signed(Method::GET, &format!("{apis}?name=x"), None).await.pair();
    assert_eq!(status, StatusCode::OK);
}
