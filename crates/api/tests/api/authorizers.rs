//! Custom authorizers (`/authorizers`) and the references APIs make to them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn authorizer_body(name: &str, kind: &str) -> Value {
    json!({
        "name": name, "type": kind, "authorizer_type": "FUNC",
        "authorizer_uri": "urn:fss:region:project:function:default:auth:latest", "network_type": "V1",
        "identities": [{ "name": "Authorization", "location": "HEADER", "validation": "^Bearer .+$" }],
        "ttl": 60, "user_data": "tenant=1", "need_body": true,
    })
}

async fn create_authorizer(app: &TestApp, name: &str, kind: &str) -> Value {
    let (status, created) = app.post("/authorizers", &authorizer_body(name, kind)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

#[tokio::test]
async fn create_show_update_list_delete() {
    let app = spawn_app().await;
    let created = create_authorizer(&app, "front_auth", "FRONTEND").await;
    assert_hex_id(&created["id"]);
    assert_contains(&authorizer_body("front_auth", "FRONTEND"), &created, "$");
    assert_time(&created["create_time"]);
    let path = format!("/authorizers/{}", id(&created));
    assert_eq!(app.get(&path).await, (StatusCode::OK, created.clone()));

    let mut change = authorizer_body("front_auth_2", "FRONTEND");
    change["ttl"] = json!(0);
    change["identities"] = json!([{ "name": "token", "location": "QUERY" }]);
    let (status, updated) = app.put(&path, &change).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_contains(&change, &updated, "$");
    assert_eq!(updated["create_time"], created["create_time"]);
    assert_error(&app.put(&path, &authorizer_body("front_auth_2", "BACKEND")).await, StatusCode::CONFLICT, "APIG.3324");

    create_authorizer(&app, "back_auth", "BACKEND").await;
    let (_, all) = app.get("/authorizers").await;
    assert_list(&all, "authorizer_list", 2, 2);
    let (_, backends) = app.get(&format!("/authorizers{}", query(&[("type", "BACKEND")]))).await;
    assert_eq!(assert_list(&backends, "authorizer_list", 1, 1)[0]["name"], "back_auth");
    let (_, named) = app.get(&format!("/authorizers{}", query(&[("name", "front")]))).await;
    assert_list(&named, "authorizer_list", 1, 1);

    assert_error(
        &app.post("/authorizers", &authorizer_body("back_auth", "BACKEND")).await,
        StatusCode::CONFLICT,
        "APIG.3322",
    );
    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "APIG.3017");
}

#[tokio::test]
async fn bodies_are_validated() {
    let app = spawn_app().await;
    for (field, value) in [
        ("type", json!("MIDDLE")),
        ("authorizer_type", json!("LAMBDA")),
        ("ttl", json!(-1)),
        ("network_type", json!("V9")),
        ("need_body", json!("yes")),
    ] {
        let mut body = authorizer_body("bad_auth", "FRONTEND");
        body[field] = value;
        assert_invalid(&app.post("/authorizers", &body).await, field);
    }
    let mut body = authorizer_body("bad_auth", "FRONTEND");
    body["identities"] = json!([{ "name": "h", "location": "COOKIE" }]);
    assert_invalid(&app.post("/authorizers", &body).await, "identities[0].location");
    body.as_object_mut().unwrap().remove("authorizer_uri");
    assert_missing(&app.post("/authorizers", &body).await, "authorizer_uri");
}

#[tokio::test]
async fn apis_must_reference_existing_authorizers_of_the_right_type() {
    let app = spawn_app().await;
    let front = create_authorizer(&app, "ref_front", "FRONTEND").await;
    let back = create_authorizer(&app, "ref_back", "BACKEND").await;
    let group = app.create_group().await;
    let mut body = api_body(id(&group), "guarded_api", "/guarded");
    body["auth_type"] = json!("AUTHORIZER");
    body["authorizer_id"] = json!("0123456789abcdef0123456789abcdef");
    let missing = app.create_api(&body).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "APIG.2015");
    assert!(missing.1["error_msg"].as_str().unwrap().contains("parameterName:authorizer_id"), "{}", missing.1);
    body["authorizer_id"] = back["id"].clone();
    assert_error(&app.create_api(&body).await, StatusCode::BAD_REQUEST, "APIG.2015");

    body["authorizer_id"] = front["id"].clone();
    body["backend_api"]["authorizer_id"] = front["id"].clone();
    let wrong = app.create_api(&body).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "APIG.2015");
    assert!(wrong.1["error_msg"].as_str().unwrap().contains("backend_api.authorizer_id"), "{}", wrong.1);

    body["backend_api"]["authorizer_id"] = back["id"].clone();
    let (status, api) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_eq!(api["authorizer_id"], front["id"]);

    // Referenced authorizers cannot be deleted until no API refers to them.
    for used in [&front, &back] {
        assert_error(&app.delete(&format!("/authorizers/{}", id(used))).await, StatusCode::CONFLICT, "APIG.3323");
    }
    let mut plain = body.clone();
    plain["auth_type"] = json!("NONE");
    plain.as_object_mut().unwrap().remove("authorizer_id");
    // A live version still uses the authorizer after the draft stopped referring to it.
    app.publish(id(&api), RELEASE).await;
    let (status, updated) = app.put(&format!("/apis/{}", id(&api)), &plain).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_error(&app.delete(&format!("/authorizers/{}", id(&front))).await, StatusCode::CONFLICT, "APIG.3323");
    app.offline(id(&api), RELEASE).await;
    assert_eq!(app.delete(&format!("/authorizers/{}", id(&front))).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("/authorizers/{}", id(&back))).await, StatusCode::CONFLICT, "APIG.3323");
    assert_eq!(app.delete(&format!("/apis/{}", id(&api))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/authorizers/{}", id(&back))).await.0, StatusCode::NO_CONTENT);

    // Updating an API to a missing authorizer fails and leaves it as it was.
    let other = app.new_api(id(&group)).await;
    let mut broken = api_body(id(&group), other["name"].as_str().unwrap(), other["req_uri"].as_str().unwrap());
    broken["backend_api"]["authorizer_id"] = json!("0123456789abcdef0123456789abcdef");
    assert_error(&app.put(&format!("/apis/{}", id(&other)), &broken).await, StatusCode::BAD_REQUEST, "APIG.2015");
    assert!(app.api_details(id(&other)).await["backend_api"].get("authorizer_id").is_none());
}
