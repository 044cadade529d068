//! VPC channels (`/vpc-channels`), their members, and APIs that use them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn channel_body(name: &str) -> Value {
    json!({
        "name": name, "port": 8080, "balance_strategy": 1, "member_type": "ip", "type": 2,
        "member_groups": [{ "member_group_name": "blue", "member_group_weight": 10, "member_group_remark": "b" }],
        "members": [
            { "host": "10.0.0.1", "weight": 5, "member_group_name": "blue" },
            { "host": "backend.internal", "port": 9090, "is_backup": true, "weight": 1 }
        ],
        "vpc_health_config": { "protocol": "HTTP", "path": "/health", "method": "GET", "http_code": "200-299",
                               "threshold_normal": 2, "threshold_abnormal": 3, "time_interval": 10, "timeout": 5 }
    })
}

async fn create_channel(app: &TestApp, name: &str) -> Value {
    let (status, created) = app.post("/vpc-channels", &channel_body(name)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

#[tokio::test]
async fn create_show_update_list_delete() {
    let app = spawn_app().await;
    let created = create_channel(&app, "orders_lb").await;
    assert_hex_id(&created["id"]);
    assert_eq!(created["name"], "orders_lb");
    assert_eq!(created["vpc_channel_type"], "builtin");
    assert_eq!(created["status"], 1);
    assert!(created.get("members").is_none(), "{created}");
    assert_hex_id(&created["member_groups"][0]["member_group_id"]);
    let path = format!("/vpc-channels/{}", id(&created));
    let (status, shown) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(&channel_body("orders_lb")["members"], &shown["members"], "$.members");
    assert_eq!(shown["members"][0]["member_group_id"], created["member_groups"][0]["member_group_id"]);
    assert_eq!(shown["vpc_health_config"]["vpc_channel_id"], created["id"]);
    assert_eq!(shown["vpc_health_config"]["http_code"], "200-299");
    let member_id = shown["members"][0]["id"].clone();

    let mut change = channel_body("orders_lb_2");
    change["balance_strategy"] = json!(2);
    let (status, updated) = app.put(&path, &change).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["balance_strategy"], 2);
    assert_eq!(updated["member_groups"][0]["member_group_id"], created["member_groups"][0]["member_group_id"]);
    assert_eq!(app.get(&path).await.1["members"][0]["id"], member_id, "members keep their ids");
    let bare = json!({ "name": "orders_lb_2", "port": 80, "balance_strategy": 1, "member_type": "ip" });
    assert_eq!(app.put(&path, &bare).await.0, StatusCode::OK);
    let (_, kept) = app.get(&path).await;
    assert_eq!((kept["port"].clone(), kept["members"].as_array().unwrap().len()), (json!(80), 2), "{kept}");
    assert_eq!(kept["vpc_health_config"]["path"], "/health");

    create_channel(&app, "other_lb").await;
    let (_, all) = app.get("/vpc-channels").await;
    assert_list(&all, "vpc_channels", 2, 2);
    let (_, by_host) = app.get(&format!("/vpc-channels{}", query(&[("member_host", "backend.internal")]))).await;
    assert_list(&by_host, "vpc_channels", 2, 2);
    let (_, by_name) = app.get(&format!("/vpc-channels{}", query(&[("name", "orders")]))).await;
    assert_eq!(assert_list(&by_name, "vpc_channels", 1, 1)[0]["name"], "orders_lb_2");
    let (_, by_port) = app.get(&format!("/vpc-channels{}", query(&[("member_port", "9091")]))).await;
    assert_list(&by_port, "vpc_channels", 0, 0);
    let (_, micro) = app.get(&format!("/vpc-channels{}", query(&[("vpc_channel_type", "microservice")]))).await;
    assert_list(&micro, "vpc_channels", 0, 0);

    assert_error(&app.post("/vpc-channels", &channel_body("other_lb")).await, StatusCode::CONFLICT, "APIG.3325");
    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "APIG.3018");
}

#[tokio::test]
async fn bodies_are_validated() {
    let app = spawn_app().await;
    for (pointer, value, field) in [
        ("/port", json!(70000), "port"),
        ("/balance_strategy", json!(9), "balance_strategy"),
        ("/member_type", json!("pod"), "member_type"),
        ("/type", json!(3), "type"),
        ("/members/0/host", json!("bad host"), "members[0].host"),
        ("/members/0/member_group_name", json!("green"), "members[0].member_group_name"),
        ("/vpc_health_config/protocol", json!("UDP"), "vpc_health_config.protocol"),
        ("/vpc_health_config/time_interval", json!(3), "vpc_health_config.timeout"),
    ] {
        let mut body = channel_body("bad_lb");
        *body.pointer_mut(pointer).unwrap() = value;
        assert_invalid(&app.post("/vpc-channels", &body).await, field);
    }
    let mut body = channel_body("bad_lb");
    body.as_object_mut().unwrap().remove("port");
    assert_missing(&app.post("/vpc-channels", &body).await, "port");
}

#[tokio::test]
async fn members_are_added_replaced_listed_and_removed() {
    let app = spawn_app().await;
    let channel = create_channel(&app, "members_lb").await;
    let base = format!("/vpc-channels/{}/members", id(&channel));

    let (status, added) =
        app.post(&base, &json!({ "members": [{ "host": "10.0.0.2", "member_group_name": "blue" }, { "host": "10.0.0.1", "weight": 9, "member_group_name": "blue" }] })).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let items = assert_list(&added, "members", 3, 3);
    assert_eq!(items[0]["weight"], 9, "a member with the same host is replaced");
    assert_eq!(items[2]["host"], "10.0.0.2");

    let (_, blue) = app.get(&format!("{base}{}", query(&[("member_group_name", "blue")]))).await;
    assert_list(&blue, "members", 2, 2);
    let (_, named) = app.get(&format!("{base}{}", query(&[("name", "backend")]))).await;
    assert_eq!(assert_list(&named, "members", 1, 1)[0]["host"], "backend.internal");
    let (_, page) = app.get(&format!("{base}{}", query(&[("offset", "1"), ("limit", "1")]))).await;
    assert_list(&page, "members", 1, 3);

    // Replacing one group's members keeps the others.
    let (status, replaced) =
        app.put(&base, &json!({ "member_group_name": "blue", "members": [{ "host": "10.0.0.3" }] })).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let items = assert_list(&replaced, "members", 2, 2);
    assert_eq!(items[0]["host"], "backend.internal");
    assert_eq!(items[1]["host"], "10.0.0.3");
    assert_eq!(items[1]["member_group_name"], "blue");

    assert_invalid(
        &app.post(&base, &json!({ "members": [{ "host": "10.0.0.9", "member_group_name": "nope" }] })).await,
        "members[0].member_group_name",
    );
    assert_missing(&app.post(&base, &json!({ "members": [] })).await, "members");

    let member = items[1]["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("{base}/{member}")).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("{base}/{member}")).await, StatusCode::NOT_FOUND, "APIG.3019");
    let (_, all) = app.put(&base, &json!({ "members": [{ "host": "10.1.1.1" }] })).await;
    assert_eq!(assert_list(&all, "members", 1, 1)[0]["host"], "10.1.1.1");
    assert_error(
        &app.get("/vpc-channels/0123456789abcdef0123456789abcdef/members").await,
        StatusCode::NOT_FOUND,
        "APIG.3018",
    );
}

#[tokio::test]
async fn apis_use_existing_channels_and_filter_by_channel_name() {
    let app = spawn_app().await;
    let channel = create_channel(&app, "api_lb").await;
    let group = app.create_group().await;
    let mut body = api_body(id(&group), "vpc_api", "/vpc");
    body["backend_api"] = json!({
        "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/b", "timeout": 5000, "vpc_channel_status": 1,
        "vpc_channel_info": { "vpc_channel_id": "0123456789abcdef0123456789abcdef" }
    });
    let missing = app.create_api(&body).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "APIG.2015");
    assert!(missing.1["error_msg"].as_str().unwrap().contains("backend_api.vpc_channel_info.vpc_channel_id"));
    body["backend_api"]["vpc_channel_info"]["vpc_channel_id"] = channel["id"].clone();
    let (status, api) = app.create_api(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    app.new_api(id(&group)).await;

    let (_, filtered) = app.get(&format!("/apis{}", query(&[("vpc_channel_name", "api_lb")]))).await;
    assert_eq!(assert_list(&filtered, "apis", 1, 1)[0]["id"], api["id"]);
    let (_, none) = app.get(&format!("/apis{}", query(&[("vpc_channel_name", "other_lb")]))).await;
    assert_list(&none, "apis", 0, 0);

    assert_error(&app.delete(&format!("/vpc-channels/{}", id(&channel))).await, StatusCode::CONFLICT, "APIG.3323");
    assert_eq!(app.delete(&format!("/apis/{}", id(&api))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/vpc-channels/{}", id(&channel))).await.0, StatusCode::NO_CONTENT);
}
