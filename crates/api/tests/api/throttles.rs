//! Request throttling policies: `/throttles`, special throttles, `/throttle-bindings`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn throttle_body(name: &str) -> Value {
    json!({
        "name": name, "api_call_limits": 100, "user_call_limits": 50, "app_call_limits": 40,
        "ip_call_limits": 20, "time_interval": 1, "time_unit": "SECOND", "type": 1, "remark": "tps",
    })
}

async fn create_throttle(app: &TestApp, name: &str) -> Value {
    let (status, created) = app.post("/throttles", &throttle_body(name)).await;
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
    let created = create_throttle(&app, "orders_tps").await;
    assert_hex_id(&created["id"]);
    assert_contains(&throttle_body("orders_tps"), &created, "$");
    assert_eq!(created["bind_num"], 0);
    assert_eq!(created["is_inclu_special_throttle"], 2);
    assert_eq!(created["enable_adaptive_control"], "FALSE");
    assert_time(&created["create_time"]);
    let path = format!("/throttles/{}", id(&created));
    assert_eq!(app.get(&path).await, (StatusCode::OK, created.clone()));

    let mut changed = throttle_body("orders_tps_2");
    changed["api_call_limits"] = json!(500);
    changed["type"] = json!(2);
    changed["time_unit"] = json!("MINUTE");
    let (status, updated) = app.put(&path, &changed).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_contains(&changed, &updated, "$");
    assert_eq!(updated["create_time"], created["create_time"]);

    create_throttle(&app, "other_tps").await;
    let (_, all) = app.get("/throttles").await;
    assert_list(&all, "throttles", 2, 2);
    let (_, named) = app.get(&format!("/throttles{}", query(&[("name", "orders")]))).await;
    assert_eq!(assert_list(&named, "throttles", 1, 1)[0]["name"], "orders_tps_2");
    let (_, exact) = app.get(&format!("/throttles{}", query(&[("name", "orders"), ("precise_search", "name")]))).await;
    assert_list(&exact, "throttles", 0, 0);

    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "APIG.3011");
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, "APIG.3011");
}

#[tokio::test]
async fn validation_and_conflicts() {
    let app = spawn_app().await;
    create_throttle(&app, "dup_tps").await;
    assert_error(&app.post("/throttles", &throttle_body("dup_tps")).await, StatusCode::CONFLICT, "APIG.3317");
    let other = create_throttle(&app, "dup_tps_2").await;
    assert_error(
        &app.put(&format!("/throttles/{}", id(&other)), &throttle_body("dup_tps")).await,
        StatusCode::CONFLICT,
        "APIG.3317",
    );
    for (field, value) in [
        ("app_call_limits", json!(101)),
        ("user_call_limits", json!(1000)),
        ("ip_call_limits", json!(-1)),
        ("time_unit", json!("WEEK")),
        ("type", json!(3)),
        ("api_call_limits", json!("many")),
        ("name", json!("1bad")),
    ] {
        let mut body = throttle_body("valid_tps");
        body[field] = value;
        assert_invalid(&app.post("/throttles", &body).await, field);
    }
    let mut body = throttle_body("valid_tps");
    body.as_object_mut().unwrap().remove("time_interval");
    assert_missing(&app.post("/throttles", &body).await, "time_interval");
}

#[tokio::test]
async fn specials_for_apps_and_users() {
    let app = spawn_app().await;
    let throttle = create_throttle(&app, "special_tps").await;
    let (_, consumer) = app.post("/apps", &json!({ "name": "special_app" })).await;
    let base = format!("/throttles/{}/throttle-specials", id(&throttle));
    let (status, for_app) =
        app.post(&base, &json!({ "call_limits": 80, "object_id": id(&consumer), "object_type": "APP" })).await;
    assert_eq!(status, StatusCode::CREATED, "{for_app}");
    assert_eq!(for_app["object_name"], "special_app");
    assert_eq!(for_app["app_id"], consumer["id"]);
    assert_eq!(for_app["throttle_id"], throttle["id"]);
    let (_, for_user) =
        app.post(&base, &json!({ "call_limits": 5, "object_id": "user-7", "object_type": "USER" })).await;
    assert_eq!(for_user["object_name"], "user-7");
    assert_error(
        &app.post(&base, &json!({ "call_limits": 5, "object_id": "user-7", "object_type": "USER" })).await,
        StatusCode::CONFLICT,
        "APIG.3318",
    );
    assert_error(
        &app.post(
            &base,
            &json!({ "call_limits": 5, "object_id": "0123456789abcdef0123456789abcdef", "object_type": "APP" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "APIG.3004",
    );
    assert_invalid(
        &app.post(&base, &json!({ "call_limits": 5, "object_id": "u", "object_type": "ROLE" })).await,
        "object_type",
    );

    assert_eq!(app.get(&format!("/throttles/{}", id(&throttle))).await.1["is_inclu_special_throttle"], 1);
    let (_, all) = app.get(&base).await;
    assert_list(&all, "throttle_specials", 2, 2);
    let (_, apps) = app.get(&format!("{base}{}", query(&[("object_type", "APP")]))).await;
    assert_list(&apps, "throttle_specials", 1, 1);
    let (_, users) = app.get(&format!("{base}{}", query(&[("user", "user")]))).await;
    assert_eq!(assert_list(&users, "throttle_specials", 1, 1)[0]["object_id"], "user-7");

    let (status, updated) = app.put(&format!("{base}/{}", id(&for_user)), &json!({ "call_limits": 9 })).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["call_limits"], 9);
    assert_eq!(app.delete(&format!("{base}/{}", id(&for_user))).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("{base}/{}", id(&for_user))).await, StatusCode::NOT_FOUND, "APIG.3012");

    // Deleting the app removes its special throttle.
    app.delete(&format!("/apps/{}", id(&consumer))).await;
    let (_, left) = app.get(&base).await;
    assert_list(&left, "throttle_specials", 0, 0);
}

#[tokio::test]
async fn bindings_list_both_ways_and_block_deletion_until_offline() {
    let app = spawn_app().await;
    let throttle = create_throttle(&app, "bound_tps").await;
    let (api, publish_id) = published(&app).await;
    let (_other_api, other_publish) = published(&app).await;

    let (_, unbound) =
        app.get(&format!("/throttle-bindings/unbinded-apis{}", query(&[("throttle_id", id(&throttle))]))).await;
    assert_list(&unbound, "apis", 2, 2);

    let (status, bound) =
        app.post("/throttle-bindings", &json!({ "strategy_id": id(&throttle), "publish_ids": [publish_id] })).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let binding = &bound["throttle_applys"][0];
    assert_eq!(binding["publish_id"], publish_id.as_str());
    assert_eq!(binding["strategy_id"], throttle["id"]);
    assert_eq!(binding["scope"], 1);

    let second = create_throttle(&app, "second_tps").await;
    assert_error(
        &app.post("/throttle-bindings", &json!({ "strategy_id": id(&second), "publish_ids": [publish_id] })).await,
        StatusCode::CONFLICT,
        "APIG.3320",
    );
    assert_error(
        &app.post("/throttle-bindings", &json!({ "strategy_id": id(&second), "publish_ids": ["nope"] })).await,
        StatusCode::NOT_FOUND,
        "APIG.3007",
    );

    let (_, apis) =
        app.get(&format!("/throttle-bindings/binded-apis{}", query(&[("throttle_id", id(&throttle))]))).await;
    let item = &assert_list(&apis, "apis", 1, 1)[0];
    assert_eq!(item["id"], api["id"]);
    assert_eq!(item["throttle_apply_id"], binding["id"]);
    assert_eq!(item["throttle_name"], "bound_tps");
    assert_eq!(item["run_env_id"], RELEASE);
    let (_, unbound) =
        app.get(&format!("/throttle-bindings/unbinded-apis{}", query(&[("throttle_id", id(&throttle))]))).await;
    assert_eq!(assert_list(&unbound, "apis", 1, 1)[0]["publish_id"], other_publish.as_str());
    let (_, policies) =
        app.get(&format!("/throttle-bindings/binded-throttles{}", query(&[("api_id", id(&api))]))).await;
    let policy = &assert_list(&policies, "throttles", 1, 1)[0];
    assert_eq!(policy["id"], throttle["id"]);
    assert_eq!(policy["bind_id"], binding["id"]);
    assert_eq!(policy["env_name"], "RELEASE");
    assert_eq!(app.get(&format!("/throttles/{}", id(&throttle))).await.1["bind_num"], 1);

    // A bound policy cannot be deleted; offlining the API removes the binding.
    assert_error(&app.delete(&format!("/throttles/{}", id(&throttle))).await, StatusCode::CONFLICT, "APIG.3321");
    app.offline(id(&api), RELEASE).await;
    let (_, apis) =
        app.get(&format!("/throttle-bindings/binded-apis{}", query(&[("throttle_id", id(&throttle))]))).await;
    assert_list(&apis, "apis", 0, 0);
    assert_eq!(app.delete(&format!("/throttles/{}", id(&throttle))).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn unbind_one_and_in_batches() {
    let app = spawn_app().await;
    let throttle = create_throttle(&app, "unbind_tps").await;
    let (_, first) = published(&app).await;
    let (api, second) = published(&app).await;
    let (_, bound) =
        app.post("/throttle-bindings", &json!({ "strategy_id": id(&throttle), "publish_ids": [first, second] })).await;
    let ids: Vec<&str> =
        bound["throttle_applys"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);

    assert_eq!(app.delete(&format!("/throttle-bindings/{}", ids[0])).await.0, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&format!("/throttle-bindings/{}", ids[0])).await, StatusCode::NOT_FOUND, "APIG.3016");

    let path = format!("/throttle-bindings{}", query(&[("action", "delete")]));
    let (status, result) = app.put(&path, &json!({ "throttle_bindings": [ids[1], ids[0]] })).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success_count"], 1);
    assert_eq!(result["failure"][0]["bind_id"], ids[0]);
    assert_eq!(result["failure"][0]["error_code"], "APIG.3016");
    assert_invalid(
        &app.put(
            &format!("/throttle-bindings{}", query(&[("action", "remove")])),
            &json!({ "throttle_bindings": ["x"] }),
        )
        .await,
        "action",
    );
    assert_missing(&app.put(&path, &json!({})).await, "throttle_bindings");

    // Deleting an API removes its bindings too.
    let (status, rebound) =
        app.post("/throttle-bindings", &json!({ "strategy_id": id(&throttle), "publish_ids": [second] })).await;
    assert_eq!(status, StatusCode::CREATED, "{rebound}");
    assert_eq!(app.get(&format!("/throttles/{}", id(&throttle))).await.1["bind_num"], 1);
    assert_eq!(app.delete(&format!("/apis/{}", id(&api))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/throttles/{}", id(&throttle))).await.1["bind_num"], 0);
}

#[tokio::test]
async fn bound_policies_are_the_throttles_and_acls_bound_in_the_environment() {
    let app = spawn_app().await;
    let throttle = create_throttle(&app, "export_tps").await;
    let (_, consumer) = app.post("/apps", &json!({ "name": "export_app" })).await;
    app.post(
        &format!("/throttles/{}/throttle-specials", id(&throttle)),
        &json!({ "call_limits": 80, "object_id": id(&consumer), "object_type": "APP" }),
    )
    .await;
    let (_, acl) = app
        .post(
            "/acls",
            &json!({ "acl_name": "office_only", "acl_type": "PERMIT", "entity_type": "IP", "acl_value": "10.0.0.0/8" }),
        )
        .await;
    let (api, publish_id) = published(&app).await;
    let (unbound_api, _) = published(&app).await;
    app.post("/throttle-bindings", &json!({ "strategy_id": id(&throttle), "publish_ids": [publish_id] })).await;
    app.post("/acl-bindings", &json!({ "acl_id": id(&acl), "publish_ids": [publish_id] })).await;

    let ids = vec![id(&api).to_string(), id(&unbound_api).to_string()];
    let (policies, bound) = app.store.bound_policies(&app.instance_id, RELEASE, &ids).await.unwrap();
    let [(throttle, specials)] = &policies.throttles[..] else { panic!("one throttle: {policies:?}") };
    assert_eq!((throttle.name.as_str(), throttle.api_call_limits, throttle.ip_call_limits), ("export_tps", 100, 20));
    let special: Vec<_> =
        specials.iter().map(|s| (s.object_type.as_str(), s.object_id.as_str(), s.call_limits)).collect();
    assert_eq!(special, [("APP", id(&consumer), 80)]);
    let acls: Vec<_> = policies.acls.iter().map(|a| (a.acl_name.as_str(), a.acl_value.as_str())).collect();
    assert_eq!(acls, [("office_only", "10.0.0.0/8")]);
    assert!(policies.gateway_responses.is_empty());
    let declared = &bound[id(&api)];
    assert_eq!((declared.throttle.as_deref(), declared.acl.as_deref()), (Some("export_tps"), Some("office_only")));
    assert!(!bound.contains_key(id(&unbound_api)));
    let other_env = app.create_env().await;
    let (none, none_bound) = app.store.bound_policies(&app.instance_id, id(&other_env), &ids).await.unwrap();
    assert!(none.throttles.is_empty() && none.acls.is_empty() && none_bound.is_empty());
}
