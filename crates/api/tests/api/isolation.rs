//! Data of one project, or one instance, is never visible from another.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The first tenant's objects: a group with a published API, an environment, a variable.
struct Seeded {
    group_id: String,
    api_id: String,
    env_id: String,
    variable_id: String,
    version_id: String,
}

async fn seed(app: &TestApp) -> Seeded {
    let group = app.create_group().await;
    let group_id = group["id"].as_str().unwrap().to_string();
    let api = app.new_api(&group_id).await;
    let api_id = api["id"].as_str().unwrap().to_string();
    let env = app.create_env().await;
    let env_id = env["id"].as_str().unwrap().to_string();
    let record = app.publish(&api_id, &env_id).await;
    let body = json!({ "variable_name": "secret_host", "variable_value": "a", "env_id": env_id, "group_id": group_id });
    let (status, variable) = app.post("/env-variables", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    Seeded {
        group_id,
        api_id,
        env_id,
        variable_id: variable["id"].as_str().unwrap().to_string(),
        version_id: record["version_id"].as_str().unwrap().to_string(),
    }
}

/// Everything the other side may try on `seeded`'s objects through its own base path.
async fn assert_invisible(app: &TestApp, auth: &Auth, base: &str, seeded: &Seeded) {
    let get = |rel: String| {
        let path = format!("{base}{rel}");
        async move { app.call(auth, Method::GET, &path, None).await.pair() }
    };
    for (key, total) in [("groups", "/api-groups"), ("apis", "/apis"), ("variables", "/env-variables")] {
        let (status, list) = get(total.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_list(&list, key, 0, 0);
    }
    let (_, envs) = get("/envs".into()).await;
    assert_eq!(assert_list(&envs, "envs", 1, 1)[0]["id"], RELEASE, "only its own RELEASE");
    let (_, filtered) = get(format!("/apis{}", query(&[("group_id", &seeded.group_id)]))).await;
    assert_list(&filtered, "apis", 0, 0);
    let (_, filtered) = get(format!("/apis{}", query(&[("env_id", &seeded.env_id)]))).await;
    assert_list(&filtered, "apis", 0, 0);
    let (_, filtered) = get(format!("/api-groups{}", query(&[("id", &seeded.group_id)]))).await;
    assert_list(&filtered, "groups", 0, 0);

    assert_error(&get(format!("/api-groups/{}", seeded.group_id)).await, StatusCode::NOT_FOUND, "APIG.3001");
    assert_error(&get(format!("/apis/{}", seeded.api_id)).await, StatusCode::NOT_FOUND, "APIG.3002");
    assert_error(&get(format!("/env-variables/{}", seeded.variable_id)).await, StatusCode::NOT_FOUND, "APIG.3005");
    assert_error(&get(format!("/apis/publish/{}", seeded.api_id)).await, StatusCode::NOT_FOUND, "APIG.3002");
    assert_error(&get(format!("/apis/runtime/{}", seeded.api_id)).await, StatusCode::NOT_FOUND, "APIG.3002");
    assert_error(&get(format!("/apis/versions/{}", seeded.version_id)).await, StatusCode::NOT_FOUND, "APIG.3006");

    let call = |method: Method, rel: String, body: Value| {
        let path = format!("{base}{rel}");
        async move { app.call(auth, method, &path, (!body.is_null()).then_some(&body)).await.pair() }
    };
    let group = format!("/api-groups/{}", seeded.group_id);
    assert_error(
        &call(Method::PUT, group.clone(), json!({ "name": "hijacked" })).await,
        StatusCode::NOT_FOUND,
        "APIG.3001",
    );
    assert_error(&call(Method::DELETE, group, Value::Null).await, StatusCode::NOT_FOUND, "APIG.3001");
    let api = format!("/apis/{}", seeded.api_id);
    let body = api_body(&seeded.group_id, "hijacked", "/hijacked");
    assert_error(&call(Method::PUT, api.clone(), body.clone()).await, StatusCode::NOT_FOUND, "APIG.3002");
    assert_error(&call(Method::DELETE, api, Value::Null).await, StatusCode::NOT_FOUND, "APIG.3002");
    assert_error(&call(Method::POST, "/apis".into(), body).await, StatusCode::NOT_FOUND, "APIG.3001");
    let env = format!("/envs/{}", seeded.env_id);
    assert_error(
        &call(Method::PUT, env.clone(), json!({ "name": "hijacked" })).await,
        StatusCode::NOT_FOUND,
        "APIG.3003",
    );
    assert_error(&call(Method::DELETE, env, Value::Null).await, StatusCode::NOT_FOUND, "APIG.3003");
    let variable = format!("/env-variables/{}", seeded.variable_id);
    let value = json!({ "variable_value": "hijacked" });
    assert_error(&call(Method::PUT, variable.clone(), value).await, StatusCode::NOT_FOUND, "APIG.3005");
    assert_error(&call(Method::DELETE, variable, Value::Null).await, StatusCode::NOT_FOUND, "APIG.3005");
    let body =
        json!({ "variable_name": "sneaky", "variable_value": "a", "env_id": RELEASE, "group_id": seeded.group_id });
    assert_error(&call(Method::POST, "/env-variables".into(), body).await, StatusCode::NOT_FOUND, "APIG.3001");
    let check = json!({ "group_id": seeded.group_id, "name": "x" });
    assert_error(&call(Method::POST, "/apis/check".into(), check).await, StatusCode::NOT_FOUND, "APIG.3001");

    let publish = json!({ "action": "online", "env_id": RELEASE, "api_id": seeded.api_id });
    assert_error(&call(Method::POST, "/apis/action".into(), publish).await, StatusCode::NOT_FOUND, "APIG.3002");
    let offline = json!({ "action": "offline", "env_id": seeded.env_id, "api_id": seeded.api_id });
    assert_error(&call(Method::POST, "/apis/action".into(), offline).await, StatusCode::NOT_FOUND, "APIG.3003");
    let batch = json!({ "apis": [seeded.api_id], "env_id": RELEASE });
    let (status, result) = call(Method::POST, format!("/apis/publish{}", query(&[("action", "online")])), batch).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"], json!([]));
    assert_eq!(result["failure"][0]["error_code"], "APIG.3002");
    let by_group = json!({ "group_id": seeded.group_id, "env_id": RELEASE });
    let by_group = call(Method::POST, format!("/apis/publish{}", query(&[("action", "online")])), by_group).await;
    assert_error(&by_group, StatusCode::NOT_FOUND, "APIG.3001");
    let switch = json!({ "version_id": seeded.version_id });
    let switched = call(Method::PUT, format!("/apis/publish/{}", seeded.api_id), switch).await;
    assert_error(&switched, StatusCode::NOT_FOUND, "APIG.3002");
}

/// Nothing of `seeded` changed.
async fn assert_untouched(app: &TestApp, seeded: &Seeded) {
    let details = app.api_details(&seeded.api_id).await;
    assert_eq!(details["run_env_id"], seeded.env_id.as_str());
    assert_ne!(details["name"], "hijacked");
    let (_, group) = app.get(&format!("/api-groups/{}", seeded.group_id)).await;
    assert_ne!(group["name"], "hijacked");
    let (_, variable) = app.get(&format!("/env-variables/{}", seeded.variable_id)).await;
    assert_eq!(variable["variable_value"], "a");
    let (_, envs) = app.get("/envs").await;
    assert_list(&envs, "envs", 2, 2);
    let (_, versions) = app.get(&format!("/apis/publish/{}", seeded.api_id)).await;
    assert_list(&versions, "api_versions", 1, 1);
}

#[tokio::test]
async fn another_project_sees_none_of_the_first_ones_data() {
    let app = spawn_app().await;
    let seeded = seed(&app).await;
    let other = app.add_tenant("other_project").await;
    assert_invisible(&app, &other.auth(), &other.inst(""), &seeded).await;
    assert_untouched(&app, &seeded).await;

    // The same names are free in the other project.
    let (_, group) = app.get(&format!("/api-groups/{}", seeded.group_id)).await;
    let (status, _) = app
        .call(&other.auth(), Method::POST, &other.inst("/api-groups"), Some(&json!({ "name": group["name"] })))
        .await
        .pair();
    assert_eq!(status, StatusCode::CREATED);
    let (_, mine) = app.get("/api-groups").await;
    assert_list(&mine, "groups", 1, 1);
}

#[tokio::test]
async fn another_instance_of_the_same_project_sees_none_of_the_first_ones_data() {
    let app = spawn_app().await;
    let seeded = seed(&app).await;
    let second = app.add_instance(&app.project_id).await;
    let base = format!("/v2/{}/apigw/instances/{second}", app.project_id);
    assert_invisible(&app, &app.admin_auth(), &base, &seeded).await;
    assert_untouched(&app, &seeded).await;
}

#[tokio::test]
async fn an_instance_of_another_project_is_not_reachable() {
    let app = spawn_app().await;
    let seeded = seed(&app).await;
    let other = app.add_tenant("neighbour").await;
    let auth = other.auth();

    // The first project's instance under the other project's id: no such instance there.
    let borrowed = format!("/v2/{}/apigw/instances/{}", other.project_id, app.instance_id);
    for rel in ["", "/api-groups", "/apis", "/envs", &format!("/apis/{}", seeded.api_id)] {
        let response = app.call(&auth, Method::GET, &format!("{borrowed}{rel}"), None).await.pair();
        assert_error(&response, StatusCode::NOT_FOUND, "APIG.3008");
    }
    let create =
        app.call(&auth, Method::POST, &format!("{borrowed}/api-groups"), Some(&json!({ "name": "planted" }))).await;
    assert_error(&create.pair(), StatusCode::NOT_FOUND, "APIG.3008");
    let delete = app.call(&auth, Method::DELETE, &borrowed, None).await.pair();
    assert_error(&delete, StatusCode::NOT_FOUND, "APIG.3008");

    // Under the first project's own id: the caller is no member of it.
    let foreign = app.inst("/api-groups");
    assert_error(&app.call(&auth, Method::GET, &foreign, None).await.pair(), StatusCode::FORBIDDEN, "APIG.1005");
    let delete = app
        .call(&auth, Method::DELETE, &format!("/v2/{}/apigw/instances/{}", app.project_id, app.instance_id), None)
        .await;
    assert_error(&delete.pair(), StatusCode::FORBIDDEN, "APIG.1005");

    // The list of instances is per project.
    let (_, list) =
        app.call(&auth, Method::GET, &format!("/v2/{}/apigw/instances", other.project_id), None).await.pair();
    assert_eq!(assert_list(&list, "instances", 1, 1)[0]["id"], other.instance_id.as_str());
    let (_, list) = app.signed(Method::GET, &format!("/v2/{}/apigw/instances", app.project_id), None).await.pair();
    assert_eq!(assert_list(&list, "instances", 1, 1)[0]["id"], app.instance_id.as_str());

    assert_untouched(&app, &seeded).await;
    let (_, groups) = app.get("/api-groups").await;
    assert_list(&groups, "groups", 1, 1);
}

#[tokio::test]
async fn an_empty_instance_of_another_project_cannot_be_deleted_either() {
    let app = spawn_app().await;
    let other = app.add_tenant("empty_neighbour").await;
    // The other project's instance has no groups; from the first project it does not exist.
    let borrowed = format!("/v2/{}/apigw/instances/{}", app.project_id, other.instance_id);
    assert_error(&app.signed(Method::DELETE, &borrowed, None).await.pair(), StatusCode::NOT_FOUND, "APIG.3008");
    let (status, _) = app.call(&other.auth(), Method::GET, &other.inst(""), None).await.pair();
    assert_eq!(status, StatusCode::OK, "still there");
}
