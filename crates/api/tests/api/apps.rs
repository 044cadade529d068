//! Apps: `/apps` (create, show, update, reset secret, list, delete, validation), AppCodes, and
//! authorizations to published APIs (`/app-auths`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create_app(app: &TestApp, body: &Value) -> Value {
    let (status, created) = app.post("/apps", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// A group with a published API in RELEASE: `(api, publish record)`.
async fn published_api(app: &TestApp) -> (Value, Value) {
    let group = app.create_group().await;
    let api = app.new_api(group["id"].as_str().unwrap()).await;
    let publication = app.publish(api["id"].as_str().unwrap(), RELEASE).await;
    (api, publication)
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn create_generates_key_and_secret_and_show_returns_them() {
    let app = spawn_app().await;
    let created = create_app(&app, &json!({ "name": "shop_app", "remark": "the shop" })).await;
    assert_hex_id(&created["id"]);
    assert_eq!(created["name"], "shop_app");
    assert_eq!(created["remark"], "the shop");
    assert_eq!(created["status"], 1);
    assert_eq!(created["creator"], "USER");
    assert_eq!(created["app_type"], "apig");
    assert_hex_id(&created["app_key"]);
    assert_hex_id(&created["app_secret"]);
    assert_ne!(created["app_key"], created["app_secret"]);
    assert_time(&created["register_time"]);
    let (status, shown) = app.get(&format!("/apps/{}", id(&created))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown, created);
    let (status, check) = app.get(&format!("/apps/validation/{}", id(&created))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(check, json!({ "id": created["id"], "name": "shop_app", "remark": "the shop" }));
}

#[tokio::test]
async fn given_key_and_secret_are_kept_and_the_secret_is_encrypted_at_rest() {
    let app = spawn_app().await;
    let secret = "Given_secret!@#123";
    let created =
        create_app(&app, &json!({ "name": "given_app", "app_key": "given_key_0001", "app_secret": secret })).await;
    assert_eq!(created["app_key"], "given_key_0001");
    assert_eq!(created["app_secret"], secret);

    // The data plane's lookup by key gives the secret in clear…
    let (instance_id, found) = app.store.app_by_key("given_key_0001").await.unwrap();
    assert_eq!(instance_id, app.instance_id);
    assert_eq!(found.app_secret.0, secret);
    // …but the database file never holds it.
    let stored = app.database_bytes();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "secret found in the database");
    assert!(app.data_dir().join("secrets.key").exists());
}

#[tokio::test]
async fn names_and_keys_conflict_and_bodies_are_validated() {
    let app = spawn_app().await;
    create_app(&app, &json!({ "name": "taken_app", "app_key": "taken_key_01" })).await;
    assert_error(&app.post("/apps", &json!({ "name": "taken_app" })).await, StatusCode::CONFLICT, "APIG.3313");
    assert_error(
        &app.post("/apps", &json!({ "name": "other_app", "app_key": "taken_key_01" })).await,
        StatusCode::CONFLICT,
        "APIG.3314",
    );
    assert_missing(&app.post("/apps", &json!({ "remark": "x" })).await, "name");
    assert_invalid(&app.post("/apps", &json!({ "name": "1_starts_with_digit" })).await, "name");
    assert_invalid(&app.post("/apps", &json!({ "name": "ok_app", "app_key": "short" })).await, "app_key");
    assert_invalid(&app.post("/apps", &json!({ "name": "ok_app", "app_secret": "bad secret!" })).await, "app_secret");
    assert_invalid(&app.post("/apps", &json!({ "name": "ok_app", "remark": 5 })).await, "remark");
}

#[tokio::test]
async fn update_and_reset_secret() {
    let app = spawn_app().await;
    let created = create_app(&app, &json!({ "name": "upd_app" })).await;
    let path = format!("/apps/{}", id(&created));
    let (status, updated) = app.put(&path, &json!({ "name": "upd_app_2", "remark": "new" })).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "upd_app_2");
    assert_eq!(updated["app_key"], created["app_key"]);
    assert_eq!(updated["app_secret"], created["app_secret"]);

    let (status, reset) = app.put(&format!("/apps/secret/{}", id(&created)), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert_ne!(reset["app_secret"], created["app_secret"]);
    let (_, given) =
        app.put(&format!("/apps/secret/{}", id(&created)), &json!({ "app_secret": "Chosen_secret1" })).await;
    assert_eq!(given["app_secret"], "Chosen_secret1");
    assert_eq!(app.get(&path).await.1["app_secret"], "Chosen_secret1");
    assert_invalid(
        &app.put(&format!("/apps/secret/{}", id(&created)), &json!({ "app_secret": "x" })).await,
        "app_secret",
    );
    assert_error(
        &app.put("/apps/secret/0123456789abcdef0123456789abcdef", &json!({})).await,
        StatusCode::NOT_FOUND,
        "APIG.3004",
    );
}

#[tokio::test]
async fn list_filters_pages_and_counts_authorizations() {
    let app = spawn_app().await;
    for name in ["list_a_one", "list_a_two", "list_b_one"] {
        create_app(&app, &json!({ "name": name, "related_project_id": format!("p_{name}") })).await;
    }
    let (_, related) = app.get(&format!("/apps{}", query(&[("related_project_id", "p_list_a_two")]))).await;
    assert_eq!(assert_list(&related, "apps", 1, 1)[0]["name"], "list_a_two");
    let (_, all) = app.get("/apps").await;
    let items = assert_list(&all, "apps", 3, 3);
    assert_eq!(items[0]["name"], "list_a_one");
    assert_eq!(items[0]["bind_num"], 0);
    assert!(items[0]["app_secret"].is_string());
    let (_, some) = app.get(&format!("/apps{}", query(&[("name", "list_a")]))).await;
    assert_list(&some, "apps", 2, 2);
    let (_, exact) = app.get(&format!("/apps{}", query(&[("name", "list_a"), ("precise_search", "name")]))).await;
    assert_list(&exact, "apps", 0, 0);
    let (_, page) = app.get(&format!("/apps{}", query(&[("offset", "1"), ("limit", "1")]))).await;
    assert_eq!(assert_list(&page, "apps", 1, 3)[0]["name"], "list_a_two");
    let key = items[2]["app_key"].as_str().unwrap();
    let (_, by_key) = app.get(&format!("/apps{}", query(&[("app_key", key)]))).await;
    assert_eq!(assert_list(&by_key, "apps", 1, 1)[0]["name"], "list_b_one");
}

#[tokio::test]
async fn app_codes_given_generated_listed_found_and_deleted() {
    let app = spawn_app().await;
    let created = create_app(&app, &json!({ "name": "code_app" })).await;
    let base = format!("/apps/{}/app-codes", id(&created));
    let given = format!("+{}", "A1b2".repeat(20));
    let (status, code) = app.post(&base, &json!({ "app_code": given })).await;
    assert_eq!(status, StatusCode::CREATED, "{code}");
    assert_eq!(code["app_code"], given.as_str());
    assert_eq!(code["app_id"], created["id"]);
    let (status, auto) = app.put(&base, &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{auto}");
    assert_eq!(auto["app_code"].as_str().unwrap().len(), 64);

    assert_error(&app.post(&base, &json!({ "app_code": given })).await, StatusCode::CONFLICT, "APIG.3315");
    assert_invalid(&app.post(&base, &json!({ "app_code": "short" })).await, "app_code");

    let (_, listed) = app.get(&base).await;
    assert_eq!(assert_list(&listed, "app_codes", 2, 2)[0], code);
    assert_eq!(app.get(&format!("{base}/{}", id(&code))).await, (StatusCode::OK, code.clone()));

    let (instance_id, owner) = app.store.app_by_code(&given).await.unwrap();
    assert_eq!((instance_id.as_str(), owner.id.as_str()), (app.instance_id.as_str(), id(&created)));

    assert_eq!(app.delete(&format!("{base}/{}", id(&code))).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&format!("{base}/{}", id(&code))).await, StatusCode::NOT_FOUND, "APIG.3014");
    assert!(app.store.app_by_code(&given).await.is_err());
    assert_error(
        &app.get("/apps/0123456789abcdef0123456789abcdef/app-codes").await,
        StatusCode::NOT_FOUND,
        "APIG.3004",
    );
}

#[tokio::test]
async fn authorizations_bind_published_apis_and_list_both_ways() {
    let app = spawn_app().await;
    let (api, publication) = published_api(&app).await;
    let group = app.create_group().await;
    let unpublished = app.new_api(id(&group)).await;
    let consumer = create_app(&app, &json!({ "name": "consumer_app" })).await;

    let (_, unbound) = app.get(&format!("/app-auths/unbinded-apis{}", query(&[("app_id", id(&consumer))]))).await;
    let items = assert_list(&unbound, "apis", 1, 1);
    assert_eq!(items[0]["id"], api["id"]);
    assert_eq!(items[0]["publish_id"], publication["publish_id"]);

    let body = json!({ "env_id": RELEASE, "app_ids": [id(&consumer)], "api_ids": [id(&api), id(&unpublished)] });
    let (status, granted) = app.post("/app-auths", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    let auths = granted["auths"].as_array().unwrap();
    assert_eq!(auths.len(), 2);
    assert_eq!(auths[0]["auth_result"]["status"], "SUCCESS");
    assert_hex_id(&auths[0]["id"]);
    assert_eq!(auths[1]["auth_result"]["status"], "FAILED");
    assert_eq!(auths[1]["auth_result"]["error_code"], "APIG.3007");

    let (_, again) = app.post("/app-auths", &body).await;
    assert_eq!(again["auths"][0]["auth_result"]["error_code"], "APIG.3316");

    let (_, bound) = app.get(&format!("/app-auths/binded-apis{}", query(&[("app_id", id(&consumer))]))).await;
    let entry = &assert_list(&bound, "auths", 1, 1)[0];
    assert_eq!(entry["api_id"], api["id"]);
    assert_eq!(entry["app_name"], "consumer_app");
    assert_eq!(entry["env_name"], "RELEASE");
    let (_, apps) = app.get(&format!("/app-auths/binded-apps{}", query(&[("api_id", id(&api))]))).await;
    assert_eq!(assert_list(&apps, "auths", 1, 1)[0]["app_id"], consumer["id"]);
    let (_, counted) = app.get("/apps").await;
    assert_eq!(counted["apps"][0]["bind_num"], 1);
    assert!(app.store.app_authorized(&app.instance_id, id(&consumer), id(&api), RELEASE).await.unwrap());

    let (_, unbound) = app.get(&format!("/app-auths/unbinded-apis{}", query(&[("app_id", id(&consumer))]))).await;
    assert_list(&unbound, "apis", 0, 0);

    let auth_id = auths[0]["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/app-auths/{auth_id}")).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("/app-auths/{auth_id}")).await, StatusCode::NOT_FOUND, "APIG.3015");
}

#[tokio::test]
async fn offline_and_app_deletion_remove_authorizations() {
    let app = spawn_app().await;
    let (api, _) = published_api(&app).await;
    let consumer = create_app(&app, &json!({ "name": "gone_app" })).await;
    let body = json!({ "env_id": RELEASE, "app_ids": [id(&consumer)], "api_ids": [id(&api)] });
    let (_, granted) = app.post("/app-auths", &body).await;
    assert_eq!(granted["auths"][0]["auth_result"]["status"], "SUCCESS", "{granted}");
    let bound_to_app = format!("/app-auths/binded-apis{}", query(&[("app_id", id(&consumer))]));
    assert_list(&app.get(&bound_to_app).await.1, "auths", 1, 1);
    app.offline(id(&api), RELEASE).await;
    assert_list(&app.get(&bound_to_app).await.1, "auths", 0, 0);

    app.publish(id(&api), RELEASE).await;
    let (_, granted) = app.post("/app-auths", &body).await;
    assert_eq!(granted["auths"][0]["auth_result"]["status"], "SUCCESS", "{granted}");
    let bound_to_api = format!("/app-auths/binded-apis{}", query(&[("api_id", id(&api))]));
    assert_list(&app.get(&bound_to_api).await.1, "auths", 1, 1);
    assert_eq!(app.delete(&format!("/apps/{}", id(&consumer))).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&format!("/apps/{}", id(&consumer))).await, StatusCode::NOT_FOUND, "APIG.3004");
    assert_list(&app.get(&bound_to_api).await.1, "auths", 0, 0);
    assert_error(&app.delete(&format!("/apps/{}", id(&consumer))).await, StatusCode::NOT_FOUND, "APIG.3004");
}

#[tokio::test]
async fn authorization_bodies_are_validated() {
    let app = spawn_app().await;
    assert_missing(&app.post("/app-auths", &json!({ "app_ids": ["a"], "api_ids": ["b"] })).await, "env_id");
    assert_missing(
        &app.post("/app-auths", &json!({ "env_id": RELEASE, "app_ids": [], "api_ids": ["b"] })).await,
        "app_ids",
    );
    assert_missing(&app.post("/app-auths", &json!({ "env_id": RELEASE, "app_ids": ["a"] })).await, "api_ids");
    assert_error(
        &app.post("/app-auths", &json!({ "env_id": "nope", "app_ids": ["a"], "api_ids": ["b"] })).await,
        StatusCode::NOT_FOUND,
        "APIG.3003",
    );
    assert_missing(&app.get("/app-auths/unbinded-apis").await, "app_id");
}
