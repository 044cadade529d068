//! DataArts DataService (`/v1/{project_id}/service/…`): workspace headers and isolation, the
//! API catalog, publishing to a gateway instance, and the Excel export (zip of workbooks of at
//! most 200 APIs, opened here with calamine) and import round trip.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use portico_auth::signature;
use portico_model::{DsApi, DsApiDefinition, PublishStatus};
use portico_store::Workspace;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{RELEASE, TestApp, query, sdk_date, spawn_app, unique};

/// A response with its raw body.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        if self.bytes.is_empty() { Value::Null } else { serde_json::from_slice(&self.bytes).expect("a JSON body") }
    }
}

/// Sends a request signed like the dataartsstudio SDK: `workspace` and `Dlm-Type` are signed
/// headers; `None` leaves the header out.
async fn send(
    app: &TestApp,
    workspace: Option<&str>,
    dlm_type: Option<&str>,
    method: Method,
    path_and_query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Raw {
    let path_and_query = format!("/v1/{}/service{path_and_query}", app.project_id);
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
    headers.insert(HOST, HeaderValue::from_str(&app.host).unwrap());
    headers.insert("x-project-id", HeaderValue::from_str(&app.project_id).unwrap());
    headers.insert("x-sdk-date", HeaderValue::from_str(&sdk_date(0)).unwrap());
    if let Some(w) = workspace {
        headers.insert("workspace", HeaderValue::from_str(w).unwrap());
    }
    if let Some(d) = dlm_type {
        headers.insert("dlm-type", HeaderValue::from_str(d).unwrap());
    }
    if content_type.starts_with("multipart/") {
        headers.insert("x-sdk-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    }
    let (raw_path, raw_query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query.as_str(), None),
    };
    let parts =
        signature::RequestParts { method: method.as_str(), raw_path, raw_query, headers: &headers, body: &body };
    let authorization = signature::sign(&parts, &app.admin.access_key, &app.admin.secret_key);
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&authorization).unwrap());
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(method, format!("{}{path_and_query}", app.address))
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("request reaches the server");
    let (status, headers) = (response.status(), response.headers().clone());
    Raw { status, headers, bytes: response.bytes().await.expect("body").to_vec() }
}

async fn ds(app: &TestApp, ws: &str, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let raw = send(app, Some(ws), Some("SHARED"), method, path, "application/json;charset=utf-8", bytes).await;
    (raw.status, raw.json())
}

async fn ds_raw(app: &TestApp, ws: &str, method: Method, path: &str, body: Option<&Value>) -> Raw {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    send(app, Some(ws), None, method, path, "application/json;charset=utf-8", bytes).await
}

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

/// A script API with request, backend, response and order parameters.
fn script_api(name: &str) -> Value {
    json!({
        "catalog_id": "0", "name": name, "description": format!("orders of a day ({name})"), "log_flag": true,
        "api_type": "API_SPECIFIC_TYPE_SCRIPT", "auth_type": "APP", "retention_period": 720, "manager": "reviewer",
        "path": format!("/{name}/{{day}}"), "protocol": "PROTOCOL_TYPE_HTTPS", "request_type": "REQUEST_TYPE_GET",
        "tags": ["orders", "daily"], "visibility": "WORKSPACE", "publish_type": "PUBLIC",
        "request_paras": [
            { "name": "day", "position": "REQUEST_PARAMETER_POSITION_PATH", "type": "REQUEST_TYPE_STRING",
              "description": "the day", "necessary": true, "example_value": "2024-01-01", "support_null": false },
            { "name": "limit", "position": "REQUEST_PARAMETER_POSITION_QUERY", "type": "REQUEST_TYPE_NUMBER",
              "necessary": false, "default_value": "10" }
        ],
        "datasource_config": {
            "type": "DWS", "connection_name": "dws1", "connection_id": "c1", "database": "sales",
            "datatable": "orders", "access_mode": "SQL", "pagination": "DEFAULT",
            "sql": "select id, total from orders where day = ${day}",
            "backend_paras": [{ "name": "day", "mapping": "day", "condition": "CONDITION_TYPE_EQ" }],
            "response_paras": [{ "name": "id", "field": "id", "type": "NUMBER", "example_value": "7" },
                               { "name": "total", "field": "total", "type": "NUMBER", "description": "sum" }],
            "order_paras": [{ "name": "total", "field": "total", "optional": true, "sort": "DESC", "order": 1 }]
        }
    })
}

/// A registered API whose backend is `host`.
fn registered_api(name: &str, host: &str) -> Value {
    json!({
        "catalog_id": "0", "name": name, "api_type": "API_SPECIFIC_TYPE_REGISTER", "auth_type": "NONE",
        "path": format!("/{name}"), "protocol": "PROTOCOL_TYPE_HTTP", "request_type": "REQUEST_TYPE_GET",
        "backend_config": { "type": "REQUEST_TYPE_GET", "protocol": "PROTOCOL_TYPE_HTTP", "host": host,
            "timeout": 3000, "path": "/echo",
            "backend_paras": [{ "name": "q", "position": "REQUEST_PARAMETER_POSITION_QUERY", "backend_para_name": "q" }],
            "constant_paras": [{ "name": "X-C", "type": "REQUEST_TYPE_STRING", "position": "REQUEST_PARAMETER_POSITION_HEADER", "value": "c" }] }
    })
}

async fn create(app: &TestApp, ws: &str, body: &Value) -> String {
    let (status, created) = ds(app, ws, Method::POST, "/apis", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn the_workspace_header_is_required_and_dlm_type_checked() {
    let app = spawn_app().await;
    let missing = send(&app, None, None, Method::GET, "/apis", "application/json", Vec::new()).await;
    assert_error(missing.status, &missing.json(), StatusCode::BAD_REQUEST, "DLM.4000");
    let bad = send(&app, Some("ws/1"), None, Method::GET, "/apis", "application/json", Vec::new()).await;
    assert_error(bad.status, &bad.json(), StatusCode::BAD_REQUEST, "DLM.4000");
    let edition = send(&app, Some("ws1"), Some("BOTH"), Method::GET, "/apis", "application/json", Vec::new()).await;
    assert_error(edition.status, &edition.json(), StatusCode::BAD_REQUEST, "DLM.4002");
    for dlm in [None, Some("SHARED"), Some("EXCLUSIVE")] {
        let ok = send(&app, Some("ws1"), dlm, Method::GET, "/apis", "application/json", Vec::new()).await;
        assert_eq!(ok.status, StatusCode::OK, "{dlm:?}");
        assert_eq!(ok.json(), json!({ "total": 0, "records": [] }));
    }
    // Unsigned: the shared authentication answers first.
    let anonymous = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/v1/{}/service/apis", app.address, app.project_id))
        .header("workspace", "ws1")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn apis_are_created_shown_updated_listed_and_deleted() {
    let app = spawn_app().await;
    let ws = "ws_crud";
    let id = create(&app, ws, &script_api("orders_by_day")).await;

    let (status, shown) = ds(&app, ws, Method::GET, &format!("/apis/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["name"], "orders_by_day");
    assert_eq!(shown["type"], "API_SPECIFIC_TYPE_SCRIPT");
    assert_eq!(shown["status"], "API_STATUS_CREATED");
    assert_eq!(shown["authorization_status"], "UNAUTHORIZED");
    assert_eq!(shown["create_user"], app.admin.user_name.as_str());
    assert!(shown["create_time"].as_i64().is_some_and(|t| t > 1_700_000_000_000), "{shown}");
    assert_eq!(shown["request_paras"][0]["name"], "day");
    assert_eq!(shown["datasource_config"]["sql"], "select id, total from orders where day = ${day}");
    assert_eq!(shown["datasource_config"]["order_paras"][0]["order"], 1);

    let mut changed = script_api("orders_by_day");
    changed["description"] = json!("changed");
    changed["auth_type"] = json!("IAM");
    let (status, body) = ds(&app, ws, Method::PUT, &format!("/apis/{id}"), Some(&changed)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, shown) = ds(&app, ws, Method::GET, &format!("/apis/{id}"), None).await;
    assert_eq!(shown["description"], "changed");
    assert_eq!(shown["authorization_status"], "NO_AUTHORIZATION_REQUIRED");

    // Every kind is accepted with what it needs.
    let mut config = script_api("by_config");
    config["api_type"] = json!("API_SPECIFIC_TYPE_CONFIGURATION");
    config["datasource_config"]["datatable"] = json!("customers");
    create(&app, ws, &config).await;
    let mut mybatis = script_api("by_mybatis");
    mybatis["api_type"] = json!("API_SPECIFIC_TYPE_MYBATIS");
    create(&app, ws, &mybatis).await;
    let mut groovy = script_api("by_groovy");
    groovy["api_type"] = json!("API_SPECIFIC_TYPE_GROOVY");
    groovy["groovy_content"] = json!("return [total: 1]");
    groovy["tags"] = json!(["groovy"]);
    create(&app, ws, &groovy).await;
    create(&app, ws, &registered_api("registered_one", "127.0.0.1:9")).await;

    assert_eq!(names(&app, ws, &[]).await.0, 5);
    assert_eq!(names(&app, ws, &[("name", "by_")]).await.1, ["orders_by_day", "by_config", "by_mybatis", "by_groovy"]);
    assert_eq!(names(&app, ws, &[("name", "BY_G")]).await.1, ["by_groovy"]);
    assert_eq!(names(&app, ws, &[("api_type", "API_SPECIFIC_TYPE_REGISTER")]).await.1, ["registered_one"]);
    assert_eq!(names(&app, ws, &[("table_name", "custom")]).await.1, ["by_config"]);
    assert_eq!(names(&app, ws, &[("tags", "groovy")]).await.1, ["by_groovy"]);
    assert_eq!(names(&app, ws, &[("description", "changed")]).await.1, ["orders_by_day"]);
    let creator = &app.admin.user_name[1..4];
    assert_eq!(names(&app, ws, &[("create_user", creator)]).await.0, 5);
    assert_eq!(names(&app, ws, &[("publish_status", "PUBLISHED")]).await.0, 0);
    assert_eq!(names(&app, ws, &[("start_time", "2999-01-01T00:00:00.000Z")]).await.0, 0);
    assert_eq!(names(&app, ws, &[("end_time", "2999-01-01T00:00:00.000Z")]).await.0, 5);
    let (total, page) = names(&app, ws, &[("offset", "2"), ("limit", "2")]).await;
    assert_eq!((total, page), (5, vec!["by_mybatis".to_owned(), "by_groovy".to_owned()]));
    let (status, body) = ds(&app, ws, Method::GET, "/apis?start_time=yesterday", None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "DLM.4002");

    let (status, body) = ds(&app, ws, Method::POST, "/apis/batch-delete", Some(&json!([id]))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = ds(&app, ws, Method::GET, &format!("/apis/{id}"), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4041");
    let (status, body) = ds(&app, ws, Method::POST, "/apis/batch-delete", Some(&json!([id]))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4041");
}

/// ListApis with `q`: the total and the names of the page.
async fn names(app: &TestApp, ws: &str, q: &[(&str, &str)]) -> (u64, Vec<String>) {
    let (status, body) = ds(app, ws, Method::GET, &format!("/apis{}", query(q)), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names = body["records"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
    (body["total"].as_u64().unwrap(), names)
}

#[tokio::test]
async fn bad_apis_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let ws = "ws_bad";
    let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
        (
            {
                let mut b = script_api("x_missing_path");
                b.as_object_mut().unwrap().remove("path");
                b
            },
            StatusCode::BAD_REQUEST,
            "DLM.4001",
            "path",
        ),
        (
            {
                let mut b = script_api("x_protocol");
                b["protocol"] = json!("FTP");
                b
            },
            StatusCode::BAD_REQUEST,
            "DLM.4002",
            "protocol",
        ),
        (
            {
                let mut b = script_api("x_kind");
                b["api_type"] = json!("API_SPECIFIC_TYPE_MAGIC");
                b
            },
            StatusCode::BAD_REQUEST,
            "DLM.4002",
            "api_type",
        ),
        (
            {
                let mut b = script_api("x_sql");
                b["datasource_config"]["sql"] = json!("");
                b
            },
            StatusCode::BAD_REQUEST,
            "DLM.4001",
            "datasource_config.sql",
        ),
        (
            {
                let mut b = registered_api("x_backend", "h");
                b.as_object_mut().unwrap().remove("backend_config");
                b
            },
            StatusCode::BAD_REQUEST,
            "DLM.4001",
            "backend_config",
        ),
        (
            {
                let mut b = script_api("x_position");
                b["request_paras"][0]["position"] = json!("COOKIE");
                b
            },
            StatusCode::BAD_REQUEST,
            "DLM.4002",
            "request_paras[0].position",
        ),
        (
            {
                let mut b = script_api("x_catalog");
                b["catalog_id"] = json!("nope");
                b
            },
            StatusCode::NOT_FOUND,
            "DLM.4042",
            "nope",
        ),
    ];
    for (body, status, code, field) in cases {
        let (got, error) = ds(&app, ws, Method::POST, "/apis", Some(&body)).await;
        assert_error(got, &error, status, code);
        assert!(error["error_msg"].as_str().unwrap().contains(field), "{field}: {error}");
    }
    let raw = send(&app, Some(ws), None, Method::POST, "/apis", "application/json", b"{not json".to_vec()).await;
    assert_error(raw.status, &raw.json(), StatusCode::BAD_REQUEST, "DLM.4003");
    create(&app, ws, &script_api("taken")).await;
    let (status, body) = ds(&app, ws, Method::POST, "/apis", Some(&script_api("taken"))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "DLM.4091");
    let (status, body) = ds(&app, ws, Method::POST, "/apis/batch-delete", Some(&json!([]))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "DLM.4001");
}

#[tokio::test]
async fn one_workspace_never_sees_another() {
    let app = spawn_app().await;
    let id = create(&app, "ws_a", &script_api("private_api")).await;
    let (status, body) = ds(&app, "ws_b", Method::GET, &format!("/apis/{id}"), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4041");
    let (_, list) = ds(&app, "ws_b", Method::GET, "/apis", None).await;
    assert_eq!(list["total"], 0);
    let (status, body) = ds(&app, "ws_b", Method::PUT, &format!("/apis/{id}"), Some(&script_api("private_api"))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4041");
    let (status, body) = ds(&app, "ws_b", Method::POST, "/apis/batch-delete", Some(&json!([id]))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4041");
    // The same name is free in another workspace.
    create(&app, "ws_b", &script_api("private_api")).await;
    let raw = ds_raw(&app, "ws_b", Method::POST, "/export/excel", Some(&json!([id]))).await;
    assert_error(raw.status, &raw.json(), StatusCode::NOT_FOUND, "DLM.4041");
    let (_, shown) = ds(&app, "ws_a", Method::GET, &format!("/apis/{id}"), None).await;
    assert_eq!(shown["name"], "private_api", "{shown}");
}

#[tokio::test]
async fn catalogs_nest_count_and_refuse_deletion_while_used() {
    let app = spawn_app().await;
    let ws = "ws_cat";
    let (status, sales) = ds(&app, ws, Method::POST, "/servicecatalogs", Some(&json!({ "name": "sales" }))).await;
    assert_eq!(status, StatusCode::OK, "{sales}");
    let sales_id = sales["catalog_id"].as_str().unwrap().to_owned();
    let (_, daily) =
        ds(&app, ws, Method::POST, "/servicecatalogs", Some(&json!({ "pid": sales_id, "name": "daily" }))).await;
    let daily_id = daily["catalog_id"].as_str().unwrap().to_owned();
    let (status, body) = ds(&app, ws, Method::POST, "/servicecatalogs", Some(&json!({ "name": "sales" }))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "DLM.4092");
    let (status, body) =
        ds(&app, ws, Method::POST, "/servicecatalogs", Some(&json!({ "pid": "missing", "name": "x_y" }))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4042");

    let mut api = script_api("in_daily");
    api["catalog_id"] = json!(daily_id);
    create(&app, ws, &api).await;

    let (_, shown) = ds(&app, ws, Method::GET, &format!("/servicecatalogs/{daily_id}"), None).await;
    assert_eq!(shown["path"], "/sales/daily");
    assert_eq!((shown["api_total"].as_u64(), shown["catalog_total"].as_u64()), (Some(1), Some(0)));
    let (_, children) = ds(&app, ws, Method::GET, &format!("/servicecatalogs/{sales_id}/catalogs"), None).await;
    assert_eq!(children["total"], 1);
    assert_eq!(children["catalogs"][0]["name"], "daily");
    let (_, apis) = ds(&app, ws, Method::GET, &format!("/servicecatalogs/{daily_id}/apis"), None).await;
    assert_eq!((apis["total"].as_u64(), apis["apis"][0]["name"].as_str()), (Some(1), Some("in_daily")));
    let (_, root) = ds(&app, ws, Method::GET, "/servicecatalogs/0/catalogs", None).await;
    assert_eq!(root["total"], 1);

    let (status, body) =
        ds(&app, ws, Method::POST, "/servicecatalogs/batch-delete", Some(&json!({ "ids": [daily_id] }))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "DLM.4093");
    let (status, renamed) =
        ds(&app, ws, Method::PUT, &format!("/servicecatalogs/{daily_id}"), Some(&json!({ "name": "per_day" }))).await;
    assert_eq!((status, renamed["name"].as_str()), (StatusCode::OK, Some("per_day")));
    // Another workspace sees none of it.
    let (status, body) = ds(&app, "ws_other", Method::GET, &format!("/servicecatalogs/{daily_id}"), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4042");
}

#[tokio::test]
async fn publishing_creates_then_updates_the_gateway_api_and_unpublishing_takes_it_offline() {
    let app = spawn_app().await;
    let ws = "ws_pub";
    let group_id = app.create_group().await["id"].as_str().unwrap().to_owned();
    let id = create(&app, ws, &registered_api("reg_api", "127.0.0.1:9")).await;
    let publish = format!("/apis/{id}/instances/{}/publish", app.instance_id);

    let (status, body) = ds(&app, ws, Method::POST, &publish, Some(&json!({ "apig_type": "APIG" }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "DLM.4001");
    let (status, body) = ds(&app, ws, Method::POST, &publish, Some(&json!({ "group_id_in_apig": "nope" }))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4044");
    let elsewhere = format!("/apis/{id}/instances/{}/publish", "0".repeat(32));
    let (status, body) = ds(&app, ws, Method::POST, &elsewhere, Some(&json!({ "group_id_in_apig": group_id }))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4044");

    let (status, body) = ds(&app, ws, Method::POST, &publish, Some(&json!({ "group_id_in_apig": group_id }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, shown) = ds(&app, ws, Method::GET, &format!("/apis/{id}"), None).await;
    assert_eq!(shown["status"], "API_STATUS_PUBLISHED");
    assert_eq!(shown["group_id"], group_id.as_str());
    let message = &shown["publish_messages"][0];
    assert_eq!(message["instance_id"], app.instance_id.as_str());

    // The gateway API is an ordinary APIG API, live in RELEASE.
    let (_, gateway) = app.get(&format!("/apis{}", query(&[("group_id", &group_id)]))).await;
    assert_eq!(gateway["total"], 1, "{gateway}");
    let gateway_id = gateway["apis"][0]["id"].as_str().unwrap().to_owned();
    let details = app.api_details(&gateway_id).await;
    assert_eq!(details["req_uri"], "/reg_api");
    assert_eq!(details["backend_api"]["url_domain"], "127.0.0.1:9");
    assert_eq!(details["run_env_id"], RELEASE);

    // Republishing a changed API updates the same gateway API.
    let mut changed = registered_api("reg_api", "127.0.0.1:9");
    changed["path"] = json!("/reg_api_v2");
    let (status, _) = ds(&app, ws, Method::PUT, &format!("/apis/{id}"), Some(&changed)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = ds(&app, ws, Method::POST, &publish, Some(&json!({ "group_id_in_apig": group_id }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.api_details(&gateway_id).await["req_uri"], "/reg_api_v2");
    let (_, info) = ds(&app, ws, Method::GET, &format!("/apis/{id}/publish-info"), None).await;
    assert_eq!(info["total"], 1, "{info}");

    let (status, body) = ds(&app, ws, Method::POST, "/apis/batch-delete", Some(&json!([id]))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "DLM.4094");
    let (_, published) = ds(&app, ws, Method::GET, "/apis?publish_status=PUBLISHED", None).await;
    assert_eq!(published["total"], 1);

    let action = format!("/apis/{id}/instances/{}/action", app.instance_id);
    let (status, body) = ds(&app, ws, Method::POST, &action, Some(&json!({ "action": "EXPLODE" }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "DLM.4002");
    let (status, body) = ds(&app, ws, Method::POST, &action, Some(&json!({ "action": "UNPUBLISH" }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, shown) = ds(&app, ws, Method::GET, &format!("/apis/{id}"), None).await;
    assert_eq!(shown["status"], "API_STATUS_CREATED");
    let details = app.api_details(&gateway_id).await;
    assert!(details["run_env_id"].as_str().unwrap_or_default().is_empty(), "{details}");
    let (status, body) = ds(&app, ws, Method::POST, &action, Some(&json!({ "action": "UNPUBLISH" }))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4045");

    // Authorizing names real apps of the instance, for an API published there.
    let script = create(&app, ws, &script_api("needs_apps")).await;
    let (_, created) = app.post("/apps", &json!({ "name": format!("app_{}", unique()) })).await;
    let app_id = created["id"].as_str().expect("an app").to_owned();
    let authorize = format!("/apis/{script}/instances/{}/authorize", app.instance_id);
    // Only an API published to the instance can be authorized there.
    let (status, body) = ds(&app, ws, Method::POST, &authorize, Some(&json!({ "app_ids": [app_id] }))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4045");
    let publish = format!("/apis/{script}/instances/{}/publish", app.instance_id);
    let (status, body) = ds(&app, ws, Method::POST, &publish, Some(&json!({ "group_id_in_apig": group_id }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, shown) = ds(&app, ws, Method::GET, &format!("/apis/{script}"), None).await;
    assert_eq!(shown["authorization_status"], "UNAUTHORIZED");
    let (status, body) = ds(&app, ws, Method::POST, &authorize, Some(&json!({ "app_ids": ["0".repeat(32)] }))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4044");
    for _ in 0..2 {
        let (status, body) = ds(&app, ws, Method::POST, &authorize, Some(&json!({ "app_ids": [app_id] }))).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (_, shown) = ds(&app, ws, Method::GET, &format!("/apis/{script}"), None).await;
    assert_eq!(shown["authorization_status"], "AUTHORIZED");
    // The app is authorized for the gateway API, as ListApisBindedToAppV2 shows.
    let (_, bound) = app.get(&format!("/app-auths/binded-apis{}", query(&[("app_id", &app_id)]))).await;
    assert_eq!(bound["total"], 1, "{bound}");
    assert_eq!(bound["auths"][0]["api_name"], "needs_apps");
}

#[tokio::test]
async fn a_publish_that_clashes_in_the_gateway_group_changes_nothing() {
    let app = spawn_app().await;
    let ws = "ws_clash";
    let group_id = app.create_group().await["id"].as_str().unwrap().to_owned();
    let first = create(&app, ws, &registered_api("clash_one", "127.0.0.1:9")).await;
    let mut same_route = registered_api("clash_two", "127.0.0.1:9");
    same_route["path"] = json!("/clash_one");
    let second = create(&app, ws, &same_route).await;
    let target = json!({ "group_id_in_apig": group_id });
    let publish = |id: &str| format!("/apis/{id}/instances/{}/publish", app.instance_id);
    let (status, body) = ds(&app, ws, Method::POST, &publish(&first), Some(&target)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = ds(&app, ws, Method::POST, &publish(&second), Some(&target)).await;
    assert_error(status, &body, StatusCode::CONFLICT, "DLM.4095");
    let (_, shown) = ds(&app, ws, Method::GET, &format!("/apis/{second}"), None).await;
    assert_eq!(shown["status"], "API_STATUS_CREATED");
    assert_eq!(shown["publish_messages"], json!([]));
    let (_, gateway) = app.get(&format!("/apis{}", query(&[("group_id", &group_id)]))).await;
    assert_eq!(gateway["total"], 1, "the failed publish left no gateway API behind: {gateway}");
}

/// Every file of a zip: (name, bytes).
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip file");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().expect("a file name").to_string(), data)
        })
        .collect()
}

/// A sheet's rows as text.
fn sheet(workbook: &[u8], name: &str) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(workbook.to_vec())).expect("a workbook");
    let range = book.worksheet_range(name).expect("the sheet");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

async fn store_apis(app: &TestApp, ws: &str, count: usize, prefix: &str) {
    let workspace = Workspace { project_id: app.project_id.clone(), workspace: ws.into() };
    for i in 0..count {
        let definition =
            DsApiDefinition::from_value(script_api(&format!("{prefix}_{i:04}"))).expect("a valid definition");
        let api = DsApi {
            id: portico_model::new_id(),
            authorization_status: definition.initial_authorization(),
            definition,
            create_user: "bulk".into(),
            create_time: 1_700_000_000_000 + i as i64,
            update_time: 1_700_000_000_000,
            publish_status: PublishStatus::NotPublished,
            publications: Vec::new(),
        };
        app.store.ds_create_api(&workspace, &api).await.expect("stored");
    }
}

#[tokio::test]
async fn the_export_zip_holds_at_most_200_apis_per_workbook_and_honours_the_filter() {
    let app = spawn_app().await;
    let ws = "ws_zip";
    store_apis(&app, ws, 450, "bulk").await;
    create(&app, ws, &registered_api("other_kind", "127.0.0.1:9")).await;

    let raw = ds_raw(&app, ws, Method::POST, "/export/zip", Some(&json!({ "name": "bulk_" }))).await;
    assert_eq!(raw.status, StatusCode::OK, "{:?}", String::from_utf8_lossy(&raw.bytes));
    assert_eq!(raw.headers["content-type"], "application/zip");
    assert!(raw.headers["content-disposition"].to_str().unwrap().contains(".zip"));
    let files = unzip(&raw.bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["dataservice_apis_001.xlsx", "dataservice_apis_002.xlsx", "dataservice_apis_003.xlsx"]);
    let counts: Vec<usize> = files.iter().map(|(_, wb)| sheet(wb, "APIs").len() - 1).collect();
    assert_eq!(counts, [200, 200, 50]);

    let first = sheet(&files[0].1, "APIs");
    assert_eq!(&first[0][..3], ["name", "catalog_path", "description"]);
    let col = |h: &str| first[0].iter().position(|c| c == h).unwrap_or_else(|| panic!("column {h}"));
    assert_eq!(first[1][0], "bulk_0000");
    assert_eq!(first[1][col("catalog_path")], "/");
    assert_eq!(first[1][col("api_type")], "API_SPECIFIC_TYPE_SCRIPT");
    assert_eq!(first[1][col("datasource_config.sql")], "select id, total from orders where day = ${day}");
    assert_eq!(first[1][col("tags")], "orders,daily");
    assert_eq!(first[1][col("log_flag")], "true");
    assert_eq!(first[1][col("retention_period")], "720");
    assert_eq!(sheet(&files[2].1, "APIs")[50][0], "bulk_0449");
    let params = sheet(&files[0].1, "Request Parameters");
    assert_eq!(
        params[0],
        [
            "api_name",
            "name",
            "position",
            "type",
            "description",
            "necessary",
            "example_value",
            "default_value",
            "support_null"
        ]
    );
    assert_eq!(params.len(), 1 + 200 * 2);
    assert_eq!(&params[1][..3], ["bulk_0000", "day", "REQUEST_PARAMETER_POSITION_PATH"]);

    // Each filter narrows what is exported.
    assert_eq!(export_count(&app, ws, json!({})).await, 451);
    assert_eq!(export_count(&app, ws, json!({ "api_specific_type_str": "API_SPECIFIC_TYPE_REGISTER" })).await, 1);
    assert_eq!(export_count(&app, ws, json!({ "create_user": "bulk" })).await, 450);
    assert_eq!(export_count(&app, ws, json!({ "tags": ["orders", "daily"] })).await, 450);
    assert_eq!(export_count(&app, ws, json!({ "tags": ["orders", "missing"] })).await, 0);
    assert_eq!(export_count(&app, ws, json!({ "table_name": "order" })).await, 450);
    assert_eq!(export_count(&app, ws, json!({ "description": "bulk_0001" })).await, 1);
    assert_eq!(export_count(&app, ws, json!({ "publish_status_type": "PUBLISHED" })).await, 0);
    assert_eq!(export_count(&app, ws, json!({ "authorization_status_type": "NO_AUTHORIZATION_REQUIRED" })).await, 1);
    // Creation times of the bulk APIs are 1,700,000,000,000 + i ms.
    let window = json!({ "start_time": "2023-11-14T22:13:20.010Z", "end_time": "2023-11-14T22:13:20.019Z" });
    assert_eq!(export_count(&app, ws, window).await, 10);
    // Nothing matches: one workbook with headers only.
    let raw = ds_raw(&app, ws, Method::POST, "/export/zip", Some(&json!({ "name": "zzz" }))).await;
    let files = unzip(&raw.bytes);
    assert_eq!(files.len(), 1);
    assert_eq!(sheet(&files[0].1, "APIs").len(), 1);

    let raw = ds_raw(&app, ws, Method::POST, "/export/zip", Some(&json!({ "publish_status_type": "MAYBE" }))).await;
    assert_error(raw.status, &raw.json(), StatusCode::BAD_REQUEST, "DLM.4002");
    let raw = ds_raw(&app, ws, Method::POST, "/export/zip", Some(&json!({ "start_time": "soon" }))).await;
    assert_error(raw.status, &raw.json(), StatusCode::BAD_REQUEST, "DLM.4002");
}

/// How many APIs the export zip with `filter` holds, over all its workbooks.
async fn export_count(app: &TestApp, ws: &str, filter: Value) -> usize {
    let raw = ds_raw(app, ws, Method::POST, "/export/zip", Some(&filter)).await;
    assert_eq!(raw.status, StatusCode::OK, "{filter}");
    unzip(&raw.bytes).iter().map(|(_, wb)| sheet(wb, "APIs").len() - 1).sum::<usize>()
}

async fn import(app: &TestApp, ws: &str, workbook: &[u8]) -> Raw {
    let boundary = unique();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"apis.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(workbook);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    send(app, Some(ws), Some("SHARED"), Method::POST, "/import/excel", &content_type, body).await
}

async fn job_of(app: &TestApp, ws: &str, raw: Raw) -> Value {
    assert_eq!(raw.status, StatusCode::OK, "{:?}", raw.json());
    let job_id = raw.json()["job_id"].as_str().expect("a job id").to_owned();
    let (status, job) = ds(app, ws, Method::GET, &format!("/jobs/{job_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    job
}

/// The definitions of a workspace, with ids and catalog ids left out, by name.
async fn catalog_of(app: &TestApp, ws: &str) -> Vec<(String, Value)> {
    let (_, list) = ds(app, ws, Method::GET, "/apis?limit=500", None).await;
    let mut out = Vec::new();
    for record in list["records"].as_array().unwrap() {
        let (_, mut shown) = ds(app, ws, Method::GET, &format!("/apis/{}", record["id"].as_str().unwrap()), None).await;
        let object = shown.as_object_mut().unwrap();
        for volatile in ["id", "catalog_id", "create_time", "update_time", "create_user"] {
            object.remove(volatile);
        }
        let (_, path) =
            ds(app, ws, Method::GET, &format!("/servicecatalogs/{}", record["catalog_id"].as_str().unwrap()), None)
                .await;
        object.insert("catalog_path".into(), path["path"].clone());
        out.push((record["name"].as_str().unwrap().to_owned(), shown));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn an_exported_zip_imported_into_an_empty_workspace_gives_the_same_catalog() {
    let app = spawn_app().await;
    let (from, to) = ("ws_from", "ws_to");
    let (_, sales) = ds(&app, from, Method::POST, "/servicecatalogs", Some(&json!({ "name": "sales" }))).await;
    let (_, daily) =
        ds(&app, from, Method::POST, "/servicecatalogs", Some(&json!({ "pid": sales["catalog_id"], "name": "daily" })))
            .await;
    let mut nested = script_api("nested_script");
    nested["catalog_id"] = daily["catalog_id"].clone();
    create(&app, from, &nested).await;
    create(&app, from, &registered_api("registered_api", "127.0.0.1:9")).await;
    let mut groovy = script_api("groovy_api");
    groovy["api_type"] = json!("API_SPECIFIC_TYPE_GROOVY");
    groovy["groovy_content"] = json!("def rows = sql.rows('select 1')\nreturn rows");
    groovy["datasource_config_list"] = json!([{ "type": "MYSQL", "connection_id": "m1", "database": "db" }]);
    groovy["data_mask_switch"] = json!(true);
    groovy["data_mask_paras"] = json!([{ "column_name": "total", "algorithm_name": "MASK", "failure_policy": "DROP" }]);
    create(&app, from, &groovy).await;
    store_apis(&app, from, 205, "many").await;

    let raw = ds_raw(&app, from, Method::POST, "/export/zip", Some(&json!({}))).await;
    let files = unzip(&raw.bytes);
    assert_eq!(files.len(), 2);
    for (_, workbook) in &files {
        let job = job_of(&app, to, import(&app, to, workbook).await).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
    }
    let (before, after) = (catalog_of(&app, from).await, catalog_of(&app, to).await);
    assert_eq!(before.len(), 208);
    assert_eq!(before, after);

    // Importing again conflicts on every name: the job fails and imports nothing.
    let job = job_of(&app, to, import(&app, to, &files[1].1).await).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert!(job["result"]["error"].as_str().unwrap().contains("already exists"), "{job}");
    let (_, list) = ds(&app, to, Method::GET, "/apis", None).await;
    assert_eq!(list["total"], 208);
}

#[tokio::test]
async fn excel_by_ids_template_and_bad_imports() {
    let app = spawn_app().await;
    let ws = "ws_xls";
    let a = create(&app, ws, &script_api("first_api")).await;
    let b = create(&app, ws, &registered_api("second_api", "127.0.0.1:9")).await;

    let raw = ds_raw(&app, ws, Method::POST, "/export/excel", Some(&json!([b, a]))).await;
    assert_eq!(raw.status, StatusCode::OK);
    let rows = sheet(&raw.bytes, "APIs");
    assert_eq!(rows.len(), 3);
    assert_eq!((rows[1][0].as_str(), rows[2][0].as_str()), ("second_api", "first_api"));
    let constants = sheet(&raw.bytes, "Backend Constants");
    assert_eq!(&constants[1][..2], ["second_api", "X-C"]);
    let raw = ds_raw(&app, ws, Method::POST, "/export/excel", Some(&json!([]))).await;
    assert_error(raw.status, &raw.json(), StatusCode::BAD_REQUEST, "DLM.4001");

    let template = ds_raw(&app, ws, Method::GET, "/export/excel-template", None).await;
    assert_eq!(template.status, StatusCode::OK);
    let rows = sheet(&template.bytes, "APIs");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].iter().any(|h| h == "datasource_config.sql"));
    // The template imports as an empty catalog.
    let job = job_of(&app, "ws_empty", import(&app, "ws_empty", &template.bytes).await).await;
    assert_eq!((job["status"].as_str(), job["result"]["imported"].as_u64()), (Some("SUCCESS"), Some(0)));

    let not_a_workbook = import(&app, ws, b"plain text").await;
    assert_error(not_a_workbook.status, &not_a_workbook.json(), StatusCode::BAD_REQUEST, "DLM.4010");

    // A row that is not a valid API fails the job with its row named; nothing is imported.
    let raw = ds_raw(&app, ws, Method::POST, "/export/excel", Some(&json!([a]))).await;
    let edited = edit_cell(&raw.bytes, "protocol", "GOPHER");
    let job = job_of(&app, "ws_edit", import(&app, "ws_edit", &edited).await).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["result"]["error"].as_str().unwrap();
    assert!(error.contains("row 2") && error.contains("protocol"), "{error}");
    let (_, list) = ds(&app, "ws_edit", Method::GET, "/apis", None).await;
    assert_eq!(list["total"], 0);

    let (status, body) = ds(&app, ws, Method::GET, "/jobs/nope", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "DLM.4043");
}

/// Rewrites one cell of row 2 of `APIs` (by header), keeping the other sheets: rebuilt with
/// rust_xlsxwriter from what calamine reads.
fn edit_cell(workbook: &[u8], header: &str, value: &str) -> Vec<u8> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(workbook.to_vec())).unwrap();
    let mut out = rust_xlsxwriter::Workbook::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        let target = range.rows().next().and_then(|h| h.iter().position(|c| *c == header));
        let sheet = out.add_worksheet().set_name(&name).unwrap();
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c16) = (r as u32, c as u16);
                if name == "APIs" && r == 1 && Some(c) == target {
                    sheet.write_string(r, c16, value).unwrap();
                    continue;
                }
                match cell {
                    Data::Empty => {}
                    Data::Bool(b) => drop(sheet.write_boolean(r, c16, *b).unwrap()),
                    Data::Float(f) => drop(sheet.write_number(r, c16, *f).unwrap()),
                    Data::Int(i) => drop(sheet.write_number(r, c16, *i as f64).unwrap()),
                    other => drop(sheet.write_string(r, c16, other.to_string()).unwrap()),
                }
            }
        }
    }
    out.save_to_buffer().unwrap()
}
