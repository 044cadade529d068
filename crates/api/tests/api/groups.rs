//! API groups: `/api-groups` (create, list, show, update, delete, check).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn create_returns_the_group_in_apig_shape() {
    let app = spawn_app().await;
    let (status, group) = app.create_group_named("Orders(v2):订单、list（全角）：x").await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_hex_id(&group["id"]);
    let id = group["id"].as_str().unwrap();
    assert_eq!(group["name"], "Orders(v2):订单、list（全角）：x");
    assert_eq!(group["remark"], "made by a test");
    assert_eq!(group["status"], 1);
    assert_eq!(group["on_sell_status"], 2);
    assert_eq!(group["sl_domain"], format!("{id}.apig.localhost"));
    assert_eq!(group["sl_domains"], json!([format!("{id}.apig.localhost")]));
    assert_eq!(group["url_domains"], json!([]));
    assert_eq!(group["sl_domain_access_enabled"], true);
    assert_eq!(group["is_default"], 2);
    assert_eq!(group["version"], "V1");
    assert_time(&group["register_time"]);
    assert_time(&group["update_time"]);
}

#[tokio::test]
async fn show_returns_what_create_returned() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let (status, shown) = app.get(&format!("/api-groups/{}", group["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown, group);
}

#[tokio::test]
async fn update_changes_name_and_remark_and_keeps_the_rest() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let path = format!("/api-groups/{}", group["id"].as_str().unwrap());
    let (status, updated) = app.put(&path, &json!({ "name": "renamed_group", "remark": "new remark" })).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], group["id"]);
    assert_eq!(updated["name"], "renamed_group");
    assert_eq!(updated["remark"], "new remark");
    assert_eq!(updated["sl_domain"], group["sl_domain"]);
    assert_eq!(updated["register_time"], group["register_time"]);
    assert_time(&updated["update_time"]);
    assert!(updated["update_time"].as_str() >= group["update_time"].as_str());
    assert_eq!(app.get(&path).await, (StatusCode::OK, updated));
}

#[tokio::test]
async fn update_without_remark_clears_it() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let path = format!("/api-groups/{}", group["id"].as_str().unwrap());
    let (status, updated) = app.put(&path, &json!({ "name": "plain_group" })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(updated.get("remark").is_none_or(Value::is_null), "{updated}");
}

#[tokio::test]
async fn duplicate_names_conflict_on_create_and_update() {
    let app = spawn_app().await;
    assert_eq!(app.create_group_named("taken_name").await.0, StatusCode::CREATED);
    let duplicate = app.create_group_named("taken_name").await;
    assert_error(&duplicate, StatusCode::CONFLICT, "APIG.3303");

    let other = app.create_group().await;
    let renamed =
        app.put(&format!("/api-groups/{}", other["id"].as_str().unwrap()), &json!({ "name": "taken_name" })).await;
    assert_error(&renamed, StatusCode::CONFLICT, "APIG.3303");

    // Renaming a group to its own name is no conflict.
    let same =
        app.put(&format!("/api-groups/{}", other["id"].as_str().unwrap()), &json!({ "name": other["name"] })).await;
    assert_eq!(same.0, StatusCode::OK, "{}", same.1);
}

#[tokio::test]
async fn check_tells_free_names_from_taken_ones() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let free = app.post("/api-groups/check", &json!({ "group_name": "nobody_has_this" })).await;
    assert_eq!(free, (StatusCode::NO_CONTENT, Value::Null));
    let taken = app.post("/api-groups/check", &json!({ "group_name": group["name"] })).await;
    assert_error(&taken, StatusCode::CONFLICT, "APIG.3303");
    assert_missing(&app.post("/api-groups/check", &json!({})).await, "group_name");
    assert_missing(&app.post("/api-groups/check", &json!({ "group_name": "" })).await, "group_name");
    assert_invalid(&app.post("/api-groups/check", &json!({ "group_name": 7 })).await, "group_name");
}

#[tokio::test]
async fn delete_removes_the_group() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let id = group["id"].as_str().unwrap();
    let path = format!("/api-groups/{id}");
    assert_eq!(app.delete(&path).await, (StatusCode::NO_CONTENT, Value::Null));
    let gone = app.get(&path).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3001");
    assert_eq!(gone.1["error_msg"], format!("API group {id} does not exist"));
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, "APIG.3001");
    // The name is free again.
    assert_eq!(app.create_group_named(group["name"].as_str().unwrap()).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn a_group_with_apis_cannot_be_deleted() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let group_id = group["id"].as_str().unwrap();
    let api = app.new_api(group_id).await;
    let refused = app.delete(&format!("/api-groups/{group_id}")).await;
    assert_error(&refused, StatusCode::CONFLICT, "APIG.3306");
    assert_eq!(app.get(&format!("/api-groups/{group_id}")).await.0, StatusCode::OK, "the group is still there");

    assert_eq!(app.delete(&format!("/apis/{}", api["id"].as_str().unwrap())).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/api-groups/{group_id}")).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn unknown_group_ids_are_404_everywhere() {
    let app = spawn_app().await;
    let path = "/api-groups/0123456789abcdef0123456789abcdef";
    assert_error(&app.get(path).await, StatusCode::NOT_FOUND, "APIG.3001");
    assert_error(&app.put(path, &json!({ "name": "whatever" })).await, StatusCode::NOT_FOUND, "APIG.3001");
    assert_error(&app.delete(path).await, StatusCode::NOT_FOUND, "APIG.3001");
}

#[tokio::test]
async fn group_fields_are_validated() {
    let app = spawn_app().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "2001", "name"),
        (json!({ "name": null }), "2001", "name"),
        (json!({ "name": "" }), "2001", "name"),
        (json!({ "remark": "no name" }), "2001", "name"),
        (json!({ "name": "ab" }), "2011", "name"),
        (json!({ "name": "x".repeat(256) }), "2011", "name"),
        (json!({ "name": "_starts_badly" }), "2011", "name"),
        (json!({ "name": "has space" }), "2011", "name"),
        (json!({ "name": "semi;colon" }), "2011", "name"),
        (json!({ "name": 12345 }), "2011", "name"),
        (json!({ "name": "good_name", "remark": "r".repeat(256) }), "2011", "remark"),
        (json!({ "name": "good_name", "remark": 5 }), "2011", "remark"),
    ];
    let group = app.create_group().await;
    let update_path = format!("/api-groups/{}", group["id"].as_str().unwrap());
    for (body, code, field) in cases {
        for response in [app.post("/api-groups", &body).await, app.put(&update_path, &body).await] {
            if code == "2001" {
                assert_missing(&response, field);
            } else {
                assert_invalid(&response, field);
            }
        }
    }
    // Boundaries that are allowed.
    assert_eq!(app.create_group_named("abc").await.0, StatusCode::CREATED);
    assert_eq!(app.create_group_named(&"y".repeat(255)).await.0, StatusCode::CREATED);
    assert_eq!(app.create_group_named("9lives.v1/x-y_z").await.0, StatusCode::CREATED);
    let (status, _) = app.post("/api-groups", &json!({ "name": "long_remark", "remark": "r".repeat(255) })).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn list_is_paged_with_size_and_total() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (status, group) = app.create_group_named(&format!("paged_{i}")).await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(group["id"].clone());
    }
    let (status, all) = app.get("/api-groups").await;
    assert_eq!(status, StatusCode::OK);
    let items = assert_list(&all, "groups", 5, 5);
    let listed: Vec<Value> = items.iter().map(|g| g["id"].clone()).collect();
    assert_eq!(listed, ids, "creation order");
    assert_eq!(items[0], app.get(&format!("/api-groups/{}", ids[0].as_str().unwrap())).await.1);

    let (_, page) = app.get(&format!("/api-groups{}", query(&[("offset", "1"), ("limit", "2")]))).await;
    let items = assert_list(&page, "groups", 2, 5);
    assert_eq!(items[0]["id"], ids[1]);
    assert_eq!(items[1]["id"], ids[2]);

    let (_, last) = app.get(&format!("/api-groups{}", query(&[("offset", "4"), ("limit", "2")]))).await;
    assert_eq!(assert_list(&last, "groups", 1, 5)[0]["id"], ids[4]);

    for offset in ["5", "50", "99999999999"] {
        let (status, beyond) = app.get(&format!("/api-groups{}", query(&[("offset", offset)]))).await;
        assert_eq!(status, StatusCode::OK);
        assert_list(&beyond, "groups", 0, 5);
    }

    // A negative offset counts as 0.
    let (status, negative) = app.get(&format!("/api-groups{}", query(&[("offset", "-3"), ("limit", "1")]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assert_list(&negative, "groups", 1, 5)[0]["id"], ids[0]);

    let (status, max) = app.get(&format!("/api-groups{}", query(&[("limit", "500")]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_list(&max, "groups", 5, 5);

    for limit in ["0", "501", "-1", "abc", "1.5"] {
        assert_invalid(&app.get(&format!("/api-groups{}", query(&[("limit", limit)]))).await, "limit");
    }
    assert_invalid(&app.get(&format!("/api-groups{}", query(&[("offset", "x")]))).await, "offset");
}

#[tokio::test]
async fn list_default_limit_is_20() {
    let app = spawn_app().await;
    for i in 0..21 {
        assert_eq!(app.create_group_named(&format!("many_{i:02}")).await.0, StatusCode::CREATED);
    }
    let (_, page) = app.get("/api-groups").await;
    assert_list(&page, "groups", 20, 21);
}

#[tokio::test]
async fn list_filters_by_name_fuzzy_or_precise_and_by_id() {
    let app = spawn_app().await;
    let shop = app.create_group_named("shop").await.1;
    let shop_api = app.create_group_named("shop_api").await.1;
    app.create_group_named("billing").await;

    let (_, fuzzy) = app.get(&format!("/api-groups{}", query(&[("name", "shop")]))).await;
    let names: Vec<&str> = assert_list(&fuzzy, "groups", 2, 2).iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shop", "shop_api"]);

    let (_, precise) = app.get(&format!("/api-groups{}", query(&[("name", "shop"), ("precise_search", "name")]))).await;
    assert_eq!(assert_list(&precise, "groups", 1, 1)[0]["id"], shop["id"]);

    // `_` and `%` are literal in a fuzzy match, not SQL wildcards.
    let (_, underscore) = app.get(&format!("/api-groups{}", query(&[("name", "p_a")]))).await;
    assert_eq!(assert_list(&underscore, "groups", 1, 1)[0]["id"], shop_api["id"]);
    let (_, percent) = app.get(&format!("/api-groups{}", query(&[("name", "%")]))).await;
    assert_list(&percent, "groups", 0, 0);

    let (_, by_id) = app.get(&format!("/api-groups{}", query(&[("id", shop_api["id"].as_str().unwrap())]))).await;
    assert_eq!(assert_list(&by_id, "groups", 1, 1)[0]["name"], "shop_api");

    let (_, none) = app.get(&format!("/api-groups{}", query(&[("name", "nothing")]))).await;
    assert_list(&none, "groups", 0, 0);
}

#[tokio::test]
async fn malformed_bodies_are_400_not_500() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let update = app.inst(&format!("/api-groups/{}", group["id"].as_str().unwrap()));
    for (method, path) in
        [(Method::POST, app.inst("/api-groups")), (Method::PUT, update), (Method::POST, app.inst("/api-groups/check"))]
    {
        for body in [&b"{"[..], b"not json", b"", b"[]", b"\"name\"", b"{\"name\": \"abc\",}", b"\xff\xfe"] {
            let response = app.signed_raw(method.clone(), &path, body).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{method} {path} {body:?}: {}", response.body);
            assert_eq!(response.body["error_code"], "APIG.2002", "{}", response.body);
        }
    }
}
