//! Environment variables: `/env-variables` (create, list, show, update, delete).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn variable(group_id: &str, env_id: &str, name: &str, value: &str) -> Value {
    json!({ "variable_name": name, "variable_value": value, "env_id": env_id, "group_id": group_id })
}

/// A group and an environment to hang variables on.
async fn setup(app: &TestApp) -> (String, String) {
    let group = app.create_group().await;
    let env = app.create_env().await;
    (group["id"].as_str().unwrap().to_string(), env["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn create_show_update_delete() {
    let app = spawn_app().await;
    let (group_id, env_id) = setup(&app).await;
    let (status, created) =
        app.post("/env-variables", &variable(&group_id, &env_id, "backend_host", "10.0.0.1:80")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_hex_id(&created["id"]);
    assert_eq!(created["variable_name"], "backend_host");
    assert_eq!(created["variable_value"], "10.0.0.1:80");
    assert_eq!(created["env_id"], env_id.as_str());
    assert_eq!(created["group_id"], group_id.as_str());

    let path = format!("/env-variables/{}", created["id"].as_str().unwrap());
    assert_eq!(app.get(&path).await, (StatusCode::OK, created.clone()));

    // Only the value changes, whatever else the body says.
    let body = json!({ "variable_value": "backend.internal/v2", "variable_name": "other_name" });
    let (status, updated) = app.put(&path, &body).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["variable_value"], "backend.internal/v2");
    assert_eq!(updated["variable_name"], "backend_host");
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(app.get(&path).await, (StatusCode::OK, updated));

    assert_eq!(app.delete(&path).await, (StatusCode::NO_CONTENT, Value::Null));
    let gone = app.get(&path).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3005");
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, "APIG.3005");
    assert_error(&app.put(&path, &json!({ "variable_value": "x" })).await, StatusCode::NOT_FOUND, "APIG.3005");
}

#[tokio::test]
async fn the_same_name_conflicts_only_in_the_same_group_and_environment() {
    let app = spawn_app().await;
    let (group_id, env_id) = setup(&app).await;
    assert_eq!(
        app.post("/env-variables", &variable(&group_id, &env_id, "host_name", "a")).await.0,
        StatusCode::CREATED
    );
    let duplicate = app.post("/env-variables", &variable(&group_id, &env_id, "host_name", "b")).await;
    assert_error(&duplicate, StatusCode::CONFLICT, "APIG.3305");
    let release = app.post("/env-variables", &variable(&group_id, RELEASE, "host_name", "c")).await;
    assert_eq!(release.0, StatusCode::CREATED, "{}", release.1);
    let other_group = app.create_group().await;
    let other =
        app.post("/env-variables", &variable(other_group["id"].as_str().unwrap(), &env_id, "host_name", "d")).await;
    assert_eq!(other.0, StatusCode::CREATED, "{}", other.1);
}

#[tokio::test]
async fn unknown_group_or_environment_is_404() {
    let app = spawn_app().await;
    let (group_id, env_id) = setup(&app).await;
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_error(
        &app.post("/env-variables", &variable(unknown, &env_id, "host_name", "a")).await,
        StatusCode::NOT_FOUND,
        "APIG.3001",
    );
    assert_error(
        &app.post("/env-variables", &variable(&group_id, unknown, "host_name", "a")).await,
        StatusCode::NOT_FOUND,
        "APIG.3003",
    );
    assert_error(&app.get(&format!("/env-variables/{unknown}")).await, StatusCode::NOT_FOUND, "APIG.3005");
}

#[tokio::test]
async fn variable_fields_are_validated() {
    let app = spawn_app().await;
    let (g, e) = setup(&app).await;
    let missing: Vec<(Value, &str)> = vec![
        (json!({ "variable_value": "v", "env_id": e, "group_id": g }), "variable_name"),
        (json!({ "variable_name": "name_1", "env_id": e, "group_id": g }), "variable_value"),
        (json!({ "variable_name": "name_1", "variable_value": "v", "group_id": g }), "env_id"),
        (json!({ "variable_name": "name_1", "variable_value": "v", "env_id": e }), "group_id"),
        (json!({ "variable_name": "name_1", "variable_value": "", "env_id": e, "group_id": g }), "variable_value"),
    ];
    for (body, field) in missing {
        assert_missing(&app.post("/env-variables", &body).await, field);
    }
    let invalid: Vec<(Value, &str)> = vec![
        (variable(&g, &e, "ab", "v"), "variable_name"),
        (variable(&g, &e, "1name", "v"), "variable_name"),
        (variable(&g, &e, "name.dot", "v"), "variable_name"),
        (variable(&g, &e, &"n".repeat(33), "v"), "variable_name"),
        (variable(&g, &e, "name_1", "has space"), "variable_value"),
        (variable(&g, &e, "name_1", "semi;colon"), "variable_value"),
        (variable(&g, &e, "name_1", &"v".repeat(256)), "variable_value"),
        (json!({ "variable_name": "name_1", "variable_value": 42, "env_id": e, "group_id": g }), "variable_value"),
    ];
    for (body, field) in invalid {
        assert_invalid(&app.post("/env-variables", &body).await, field);
    }
    let ok = app.post("/env-variables", &variable(&g, &e, &format!("n{}", "-".repeat(31)), &"v".repeat(255))).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    let path = format!("/env-variables/{}", ok.1["id"].as_str().unwrap());
    assert_missing(&app.put(&path, &json!({})).await, "variable_value");
    assert_invalid(&app.put(&path, &json!({ "variable_value": "a b" })).await, "variable_value");
    for body in [&b"{"[..], b"", b"[]"] {
        let create = app.signed_raw(Method::POST, &app.inst("/env-variables"), body).await;
        assert_eq!((create.status, create.body["error_code"].clone()), (StatusCode::BAD_REQUEST, json!("APIG.2002")));
        let update = app.signed_raw(Method::PUT, &app.inst(&path), body).await;
        assert_eq!((update.status, update.body["error_code"].clone()), (StatusCode::BAD_REQUEST, json!("APIG.2002")));
    }
}

#[tokio::test]
async fn list_filters_by_group_environment_and_name() {
    let app = spawn_app().await;
    let (g1, e1) = setup(&app).await;
    let (g2, e2) = setup(&app).await;
    for (g, e, name) in [(&g1, &e1, "host_a"), (&g1, &e2, "host_b"), (&g2, &e1, "host_ab"), (&g2, &e2, "port_a")] {
        assert_eq!(app.post("/env-variables", &variable(g, e, name, "v")).await.0, StatusCode::CREATED);
    }
    let names = |body: &Value| -> Vec<String> {
        body["variables"].as_array().unwrap().iter().map(|v| v["variable_name"].as_str().unwrap().to_string()).collect()
    };
    let (status, all) = app.get("/env-variables").await;
    assert_eq!(status, StatusCode::OK);
    assert_list(&all, "variables", 4, 4);

    let (_, by_group) = app.get(&format!("/env-variables{}", query(&[("group_id", &g1)]))).await;
    assert_list(&by_group, "variables", 2, 2);
    assert_eq!(names(&by_group), ["host_a", "host_b"]);

    let (_, by_env) = app.get(&format!("/env-variables{}", query(&[("env_id", &e2)]))).await;
    assert_eq!(names(&by_env), ["host_b", "port_a"]);

    let (_, both) = app.get(&format!("/env-variables{}", query(&[("group_id", &g2), ("env_id", &e1)]))).await;
    assert_eq!(names(&both), ["host_ab"]);

    let (_, fuzzy) = app.get(&format!("/env-variables{}", query(&[("variable_name", "host_a")]))).await;
    assert_eq!(names(&fuzzy), ["host_a", "host_ab"]);
    let (_, precise) = app
        .get(&format!("/env-variables{}", query(&[("variable_name", "host_a"), ("precise_search", "variable_name")])))
        .await;
    assert_list(&precise, "variables", 1, 1);
    assert_eq!(names(&precise), ["host_a"]);

    let (_, page) = app.get(&format!("/env-variables{}", query(&[("offset", "3"), ("limit", "2")]))).await;
    assert_list(&page, "variables", 1, 4);
    assert_eq!(names(&page), ["port_a"]);
    let (_, beyond) = app.get(&format!("/env-variables{}", query(&[("offset", "9")]))).await;
    assert_list(&beyond, "variables", 0, 4);
    assert_invalid(&app.get(&format!("/env-variables{}", query(&[("limit", "501")]))).await, "limit");
}

#[tokio::test]
async fn deleting_a_group_or_environment_deletes_its_variables() {
    let app = spawn_app().await;
    let (g, e) = setup(&app).await;
    let in_group = app.post("/env-variables", &variable(&g, RELEASE, "in_group", "v")).await.1;
    let in_env = app.post("/env-variables", &variable(&g, &e, "in_env", "v")).await.1;

    assert_eq!(app.delete(&format!("/envs/{e}")).await.0, StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/env-variables/{}", in_env["id"].as_str().unwrap())).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3005");
    assert_eq!(app.get(&format!("/env-variables/{}", in_group["id"].as_str().unwrap())).await.0, StatusCode::OK);

    assert_eq!(app.delete(&format!("/api-groups/{g}")).await.0, StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/env-variables/{}", in_group["id"].as_str().unwrap())).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3005");
    let (_, all) = app.get("/env-variables").await;
    assert_list(&all, "variables", 0, 0);
}
