//! ACL policies: `/acls` and `/acl-bindings`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn acl_body(name: &str, entity_type: &str, value: &str) -> Value {
    json!({ "acl_name": name, "acl_type": "DENY", "entity_type": entity_type, "acl_value": value })
}

async fn create_acl(app: &TestApp, name: &str) -> Value {
    let (status, created) = app.post("/acls", &acl_body(name, "IP", "10.0.0.0/8,192.168.1.1")).await;
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
async fn create_show_update_list_delete() {
    let app = spawn_app().await;
    let created = create_acl(&app, "block_lan").await;
    assert_hex_id(&created["id"]);
    assert_contains(&acl_body("block_lan", "IP", "10.0.0.0/8,192.168.1.1"), &created, "$");
    assert_time(&created["update_time"]);
    let path = format!("/acls/{}", id(&created));
    assert_eq!(app.get(&path).await, (StatusCode::OK, created.clone()));

    let (status, updated) = app.put(&path, &acl_body("block_tenants", "DOMAIN", "tenant_a,tenant_b")).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["entity_type"], "DOMAIN");
    assert_eq!(updated["acl_name"], "block_tenants");

    create_acl(&app, "block_other").await;
    let (_, all) = app.get("/acls").await;
    let items = assert_list(&all, "acls", 2, 2);
    assert_eq!(items[0]["bind_num"], 0);
    let (_, ips) = app.get(&format!("/acls{}", query(&[("entity_type", "IP")]))).await;
    assert_eq!(assert_list(&ips, "acls", 1, 1)[0]["acl_name"], "block_other");
    let (_, named) = app.get(&format!("/acls{}", query(&[("name", "tenants")]))).await;
    assert_list(&named, "acls", 1, 1);
    let (_, permit) = app.get(&format!("/acls{}", query(&[("acl_type", "PERMIT")]))).await;
    assert_list(&permit, "acls", 0, 0);

    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "APIG.3013");
}

#[tokio::test]
async fn values_are_validated_and_names_conflict() {
    let app = spawn_app().await;
    create_acl(&app, "taken_acl").await;
    assert_error(&app.post("/acls", &acl_body("taken_acl", "IP", "1.1.1.1")).await, StatusCode::CONFLICT, "APIG.3319");
    for bad in ["10.0.0.0/33", "256.1.1.1", "1.1.1.1,", "host.example.com"] {
        assert_invalid(&app.post("/acls", &acl_body("bad_acl", "IP", bad)).await, "acl_value");
    }
    assert_invalid(&app.post("/acls", &acl_body("bad_acl", "DOMAIN", "123")).await, "acl_value");
    assert_invalid(&app.post("/acls", &acl_body("bad_acl", "HOST", "x")).await, "entity_type");
    let mut body = acl_body("bad_acl", "IP", "1.1.1.1");
    body["acl_type"] = json!("ALLOW");
    assert_invalid(&app.post("/acls", &body).await, "acl_type");
    assert_missing(
        &app.post("/acls", &json!({ "acl_name": "x_acl", "acl_type": "DENY", "entity_type": "IP" })).await,
        "acl_value",
    );
}

#[tokio::test]
async fn bindings_and_batch_deletes() {
    let app = spawn_app().await;
    let acl = create_acl(&app, "bound_acl").await;
    let spare = create_acl(&app, "spare_acl").await;
    let (api, publish_id) = published(&app).await;

    let (status, bound) = app.post("/acl-bindings", &json!({ "acl_id": id(&acl), "publish_ids": [publish_id] })).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let binding = &bound["acl_bindings"][0];
    assert_eq!(binding["api_id"], api["id"]);
    assert_eq!(binding["env_id"], RELEASE);
    assert_eq!(binding["acl_id"], acl["id"]);
    assert_error(
        &app.post("/acl-bindings", &json!({ "acl_id": id(&spare), "publish_ids": [publish_id] })).await,
        StatusCode::CONFLICT,
        "APIG.3320",
    );

    let (_, apis) = app.get(&format!("/acl-bindings/binded-apis{}", query(&[("acl_id", id(&acl))]))).await;
    let item = &assert_list(&apis, "apis", 1, 1)[0];
    assert_eq!(item["api_id"], api["id"]);
    assert_eq!(item["bind_id"], binding["id"]);
    let (_, unbound) = app.get(&format!("/acl-bindings/unbinded-apis{}", query(&[("acl_id", id(&spare))]))).await;
    assert_list(&unbound, "apis", 0, 0);
    let (_, acls) =
        app.get(&format!("/acl-bindings/binded-acls{}", query(&[("api_id", id(&api)), ("env_name", "RELEASE")]))).await;
    let item = &assert_list(&acls, "acls", 1, 1)[0];
    assert_eq!(item["acl_id"], acl["id"]);
    assert_eq!(item["acl_value"], "10.0.0.0/8,192.168.1.1");
    assert_missing(&app.get("/acl-bindings/binded-acls").await, "api_id");

    // Batch delete: the bound one fails, the spare one goes.
    let (status, result) =
        app.put(&format!("/acls{}", query(&[("action", "delete")])), &json!({ "acls": [id(&acl), id(&spare)] })).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success_count"], 1);
    assert_eq!(result["failure"][0]["acl_id"], acl["id"]);
    assert_eq!(result["failure"][0]["error_code"], "APIG.3321");
    assert_error(&app.delete(&format!("/acls/{}", id(&acl))).await, StatusCode::CONFLICT, "APIG.3321");

    let (status, result) = app
        .put(&format!("/acl-bindings{}", query(&[("action", "delete")])), &json!({ "acl_bindings": [binding["id"]] }))
        .await;
    assert_eq!((status, result["success_count"].clone()), (StatusCode::OK, json!(1)), "{result}");
    assert_error(
        &app.delete(&format!("/acl-bindings/{}", binding["id"].as_str().unwrap())).await,
        StatusCode::NOT_FOUND,
        "APIG.3016",
    );
    assert_eq!(app.delete(&format!("/acls/{}", id(&acl))).await.0, StatusCode::NO_CONTENT);
}
