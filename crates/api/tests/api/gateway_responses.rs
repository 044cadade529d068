//! Gateway responses of a group and APIs' `response_id`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn body(name: &str) -> Value {
    json!({ "name": name, "responses": {
        "THROTTLED": { "status": 503, "body": "{\"msg\":\"slow down\"}", "headers": [{ "key": "Retry-After", "value": "1" }] }
    }})
}

#[tokio::test]
async fn create_show_update_types_and_delete() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let base = format!("/api-groups/{}/gateway-responses", id(&group));
    let (status, created) = app.post(&base, &body("resp_custom")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_hex_id(&created["id"]);
    assert_eq!(created["responses"]["THROTTLED"]["status"], 503);
    assert_eq!(created["responses"]["THROTTLED"]["default"], false);
    assert_eq!(created["responses"]["NOT_FOUND"]["status"], 404);
    assert_eq!(created["responses"]["NOT_FOUND"]["default"], true);
    assert_time(&created["create_time"]);
    let path = format!("{base}/{}", id(&created));
    assert_eq!(app.get(&path).await, (StatusCode::OK, created.clone()));

    let (status, one) = app.put(&format!("{path}/AUTH_FAILURE"), &json!({ "status": 401, "body": "no" })).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one, json!({ "AUTH_FAILURE": { "status": 401, "body": "no", "headers": [], "default": false } }));
    assert_eq!(app.get(&format!("{path}/AUTH_FAILURE")).await.1, one);
    assert_eq!(app.delete(&format!("{path}/AUTH_FAILURE")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("{path}/AUTH_FAILURE")).await.1["AUTH_FAILURE"]["default"], true);
    assert_invalid(&app.get(&format!("{path}/NO_SUCH_TYPE")).await, "response_type");

    let (status, renamed) = app.put(&path, &json!({ "name": "resp_renamed" })).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["responses"]["THROTTLED"]["default"], true, "an update replaces the customised types");

    app.post(&base, &body("resp_other")).await;
    let (_, listed) = app.get(&base).await;
    assert_list(&listed, "responses", 2, 2);
    assert_error(&app.post(&base, &body("resp_other")).await, StatusCode::CONFLICT, "APIG.3327");
    assert_invalid(
        &app.post(&base, &json!({ "name": "resp_x", "responses": { "SLOW": { "status": 429, "body": "" } } })).await,
        "responses.SLOW",
    );
    assert_error(
        &app.post("/api-groups/0123456789abcdef0123456789abcdef/gateway-responses", &body("resp_x")).await,
        StatusCode::NOT_FOUND,
        "APIG.3001",
    );

    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "APIG.3021");
}

#[tokio::test]
async fn apis_refer_to_responses_of_their_group() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let other_group = app.create_group().await;
    let (_, response) = app.post(&format!("/api-groups/{}/gateway-responses", id(&group)), &body("resp_api")).await;
    let (_, foreign) =
        app.post(&format!("/api-groups/{}/gateway-responses", id(&other_group)), &body("resp_api")).await;

    let mut api = api_body(id(&group), "resp_api", "/resp");
    api["response_id"] = foreign["id"].clone();
    assert_error(&app.create_api(&api).await, StatusCode::BAD_REQUEST, "APIG.2015");
    api["response_id"] = response["id"].clone();
    let (status, created) = app.create_api(&api).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["response_id"], response["id"]);

    let path = format!("/api-groups/{}/gateway-responses/{}", id(&group), id(&response));
    assert_error(&app.delete(&path).await, StatusCode::CONFLICT, "APIG.3323");
    assert_eq!(app.delete(&format!("/apis/{}", id(&created))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
}
