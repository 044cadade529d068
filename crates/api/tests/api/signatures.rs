//! Signature keys (`/signs`) and their bindings (`/sign-bindings`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn create_sign(app: &TestApp, body: &Value) -> Value {
    let (status, created) = app.post("/signs", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn published(app: &TestApp) -> (Value, String) {
    let group = app.create_group().await;
    let api = app.new_api(id(&group)).await;
    let publication = app.publish(id(&api), RELEASE).await;
    (api, publication["publish_id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn create_update_list_delete_and_secret_at_rest() {
    let app = spawn_app().await;
    let generated = create_sign(&app, &json!({ "name": "sig_gen" })).await;
    assert_hex_id(&generated["id"]);
    assert_eq!(generated["sign_type"], "hmac");
    assert_eq!(generated["sign_key"].as_str().unwrap().len(), 32);
    assert_eq!(generated["sign_secret"].as_str().unwrap().len(), 32);
    assert_time(&generated["create_time"]);

    let secret = "Basic_password_1";
    let basic = create_sign(
        &app,
        &json!({ "name": "sig_basic", "sign_type": "basic", "sign_key": "user_1", "sign_secret": secret }),
    )
    .await;
    assert_eq!((basic["sign_key"].as_str(), basic["sign_secret"].as_str()), (Some("user_1"), Some(secret)));
    let stored = app.database_bytes();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "secret found in the database");

    let (status, updated) = app
        .put(
            &format!("/signs/{}", id(&generated)),
            &json!({ "name": "sig_aes", "sign_type": "aes", "sign_algorithm": "aes-128-cfb" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!((updated["sign_type"].as_str(), updated["sign_algorithm"].as_str()), (Some("aes"), Some("aes-128-cfb")));
    assert_eq!(updated["sign_key"].as_str().unwrap().len(), 16);
    assert_eq!(updated["create_time"], generated["create_time"]);

    let (_, all) = app.get("/signs").await;
    let items = assert_list(&all, "signs", 2, 2);
    assert_eq!(items[1]["sign_secret"], secret);
    assert_eq!(items[1]["bind_num"], 0);
    let (_, named) = app.get(&format!("/signs{}", query(&[("name", "sig_basic"), ("precise_search", "name")]))).await;
    assert_list(&named, "signs", 1, 1);

    assert_error(&app.post("/signs", &json!({ "name": "sig_basic" })).await, StatusCode::CONFLICT, "APIG.3326");
    assert_invalid(&app.post("/signs", &json!({ "name": "sig_x", "sign_type": "rsa" })).await, "sign_type");
    assert_invalid(&app.post("/signs", &json!({ "name": "sig_x", "sign_key": "short" })).await, "sign_key");
    assert_missing(&app.post("/signs", &json!({ "name": "sig_x", "sign_type": "aes" })).await, "sign_algorithm");

    assert_eq!(app.delete(&format!("/signs/{}", id(&basic))).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("/signs/{}", id(&basic))).await, StatusCode::NOT_FOUND, "APIG.3020");
}

#[tokio::test]
async fn bindings() {
    let app = spawn_app().await;
    let sign = create_sign(&app, &json!({ "name": "sig_bound" })).await;
    let (api, publish_id) = published(&app).await;

    let (_, unbound) = app.get(&format!("/sign-bindings/unbinded-apis{}", query(&[("sign_id", id(&sign))]))).await;
    assert_eq!(assert_list(&unbound, "apis", 1, 1)[0]["publish_id"], publish_id.as_str());

    let (status, bound) =
        app.post("/sign-bindings", &json!({ "sign_id": id(&sign), "publish_ids": [publish_id] })).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let binding = &bound["bindings"][0];
    assert_eq!(binding["api_id"], api["id"]);
    assert_eq!(binding["sign_name"], "sig_bound");
    assert_eq!(binding["sign_secret"], sign["sign_secret"]);
    assert_eq!(binding["env_name"], "RELEASE");

    let (_, apis) = app.get(&format!("/sign-bindings/binded-apis{}", query(&[("sign_id", id(&sign))]))).await;
    assert_eq!(assert_list(&apis, "bindings", 1, 1)[0]["id"], binding["id"]);
    let (_, signs) = app.get(&format!("/sign-bindings/binded-signs{}", query(&[("api_id", id(&api))]))).await;
    let item = &assert_list(&signs, "bindings", 1, 1)[0];
    assert_eq!(item["sign_id"], sign["id"]);
    assert_eq!(item["sign_key"], sign["sign_key"]);
    assert_eq!(item["sign_secret"], sign["sign_secret"]);
    assert_eq!(item["api_name"], api["name"]);

    let other = create_sign(&app, &json!({ "name": "sig_other" })).await;
    assert_error(
        &app.post("/sign-bindings", &json!({ "sign_id": id(&other), "publish_ids": [publish_id] })).await,
        StatusCode::CONFLICT,
        "APIG.3320",
    );
    assert_error(&app.delete(&format!("/signs/{}", id(&sign))).await, StatusCode::CONFLICT, "APIG.3321");
    let binding_id = binding["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/sign-bindings/{binding_id}")).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("/sign-bindings/{binding_id}")).await, StatusCode::NOT_FOUND, "APIG.3016");

    // Offline removes the binding.
    let (status, rebound) =
        app.post("/sign-bindings", &json!({ "sign_id": id(&sign), "publish_ids": [publish_id] })).await;
    assert_eq!(status, StatusCode::CREATED, "{rebound}");
    let bound = format!("/sign-bindings/binded-apis{}", query(&[("sign_id", id(&sign))]));
    assert_list(&app.get(&bound).await.1, "bindings", 1, 1);
    app.offline(id(&api), RELEASE).await;
    assert_list(&app.get(&bound).await.1, "bindings", 0, 0);
    assert_eq!(app.delete(&format!("/signs/{}", id(&sign))).await.0, StatusCode::NO_CONTENT);
    assert_missing(&app.get("/sign-bindings/binded-apis").await, "sign_id");
}
