//! ROMA Connect: integration applications, data sources and custom backends (livedata APIs),
//! with scripts run for real against a SQLite file, deployment with a frontend API, and the
//! custom backend export and import.

use portico_store::LivedataStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::*;

/// The same TestApp under ROMA's prefixes.
#[derive(Clone, Copy)]
struct Roma<'a>(&'a TestApp);

impl Roma<'_> {
    fn apic(&self, rel: &str) -> String {
        format!("/v2/{}/apic/instances/{}{rel}", self.0.project_id, self.0.instance_id)
    }
    fn apps(&self, rel: &str) -> String {
        format!("/v2/{}/instances/{}/apps{rel}", self.0.project_id, self.0.instance_id)
    }
    fn fdi(&self, rel: &str) -> String {
        format!("/v2/{}/fdi/instances/{}/datasources{rel}", self.0.project_id, self.0.instance_id)
    }
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        self.0.signed(method, path, body).await.pair()
    }
    async fn app(&self, name: &str) -> Value {
        let created = self.call(Method::POST, &self.apps(""), Some(&json!({ "name": name, "remark": "r" }))).await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        created.1
    }
    async fn sqlite_source(&self, app_id: &str, name: &str, file: &str) -> Value {
        let body = json!({
            "datasource_name": name, "datasource_type": "SQLITE", "app_id": app_id,
            "content": { "url": file }, "description": "test data",
        });
        let created = self.call(Method::POST, &self.fdi(""), Some(&body)).await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        created.1
    }
    async fn backend(&self, body: &Value) -> Value {
        let created = self.call(Method::POST, &self.apic("/livedata-apis"), Some(body)).await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        created.1
    }
    async fn scripts(&self, ld_id: &str, sql: &str, ds_id: &str) -> (StatusCode, Value) {
        let body = json!({ "api_type": "data", "scripts": [{
            "ds_id": ds_id, "type": "SQL", "object_name": "items", "content": b64(sql),
            "enable_result_paging": false, "enable_preparestatement": true,
        }]});
        self.call(Method::POST, &self.apic(&format!("/livedata-apis/{ld_id}/scripts")), Some(&body)).await
    }
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn backend_body(app_id: &str, name: &str, path: &str) -> Value {
    json!({
        "name": name, "path": path, "method": "GET", "description": "items by kind", "version": "1.0",
        "content_type": "application/json", "roma_app_id": app_id, "return_format": false,
        "parameters": [
            { "name": "kind", "in": "Parameters", "required": true, "description": "item kind" },
            { "name": "X-Limit", "in": "Headers", "default": "10", "required": false },
        ],
    })
}

/// A SQLite file with an `items` table: three rows, two of kind `tool`.
/// It lives in the server's livedata directory (`<data dir>/livedata`); a data source names it.
async fn items_database(dir: &std::path::Path) -> String {
    let name = format!("items_{}.db", unique());
    std::fs::create_dir_all(dir.join("livedata")).unwrap();
    let file = dir.join("livedata").join(&name);
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for sql in [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, price REAL)",
        "INSERT INTO items (name, kind, price) VALUES ('hammer', 'tool', 9.5), ('saw', 'tool', 12.0), ('apple', 'food', NULL)",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    name
}

#[tokio::test]
async fn integration_apps_create_list_show_delete() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let created = roma.app("orders_app").await;
    assert_hex_id(&created["id"]);
    assert_eq!(created["name"], "orders_app");
    assert!(created["key"].as_str().is_some_and(|k| !k.is_empty()), "{created}");
    assert_time(&created["create_time"]);
    assert_eq!(created["created_user"]["user_name"], app.admin.user_name.as_str());
    let id = created["id"].as_str().unwrap();

    let (status, shown) = roma.call(Method::GET, &roma.apps(&format!("/{id}")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["key"], created["key"]);
    roma.app("billing_app").await;
    let (_, listed) = roma.call(Method::GET, &roma.apps("?name=orders"), None).await;
    assert_eq!(assert_list(&listed, "apps", 1, 1)[0]["id"], id);
    let (_, all) = roma.call(Method::GET, &roma.apps("?limit=1&offset=1"), None).await;
    assert_eq!(assert_list(&all, "apps", 1, 2)[0]["name"], "billing_app");

    let duplicate = roma.call(Method::POST, &roma.apps(""), Some(&json!({ "name": "orders_app" }))).await;
    assert_error(&duplicate, StatusCode::CONFLICT, "APIG.3340");
    assert_invalid(&roma.call(Method::POST, &roma.apps(""), Some(&json!({ "name": "9 bad" }))).await, "name");
    assert_missing(&roma.call(Method::POST, &roma.apps(""), Some(&json!({ "remark": "x" }))).await, "name");

    assert_eq!(roma.call(Method::DELETE, &roma.apps(&format!("/{id}")), None).await.0, StatusCode::NO_CONTENT);
    let gone = roma.call(Method::GET, &roma.apps(&format!("/{id}")), None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3030");
}

#[tokio::test]
async fn data_sources_keep_passwords_out_and_refuse_unknown_apps_and_kinds() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let owner = roma.app("ds_owner").await;
    let owner_id = owner["id"].as_str().unwrap();
    let body = json!({
        "datasource_name": "warehouse", "datasource_type": "POSTGRESQL", "app_id": owner_id,
        "content": { "host": "db.internal", "port": "5432", "database_name": "wh", "user_name": "reader", "password": "s3cret" },
    });
    let (status, created) = roma.call(Method::POST, &roma.fdi(""), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["app_name"], "ds_owner");
    assert_eq!(created["content"]["host"], "db.internal");
    assert!(created["content"].get("password").is_none(), "{created}");
    assert!(created["create_time"].is_i64(), "{created}");
    let ds_id = created["datasource_id"].as_str().unwrap();
    let (_, shown) = roma.call(Method::GET, &roma.fdi(&format!("/{ds_id}")), None).await;
    assert!(shown["content"].get("password").is_none(), "{shown}");
    let (_, password) = app.store.data_source(&app.instance_id, ds_id).await.unwrap();
    assert_eq!(password.as_deref(), Some("s3cret"), "the password is kept (sealed) for running scripts");

    let (_, listed) = roma.call(Method::GET, &roma.fdi(&format!("?app_id={owner_id}")), None).await;
    assert_eq!(assert_list(&listed, "entities", 1, 1)[0]["datasource_id"], ds_id);
    let (_, roma_list) = roma.call(Method::GET, &roma.apic("/data-sources?name=ware"), None).await;
    let item = &assert_list(&roma_list, "data_sources", 1, 1)[0];
    assert_eq!((item["type"].as_str(), item["url"].as_str()), (Some("postgresql"), Some("db.internal:5432")));

    assert_error(&roma.call(Method::POST, &roma.fdi(""), Some(&body)).await, StatusCode::CONFLICT, "APIG.3341");
    let mut unknown_app = body.clone();
    unknown_app["datasource_name"] = json!("other");
    unknown_app["app_id"] = json!("0123456789abcdef0123456789abcdef");
    assert_error(&roma.call(Method::POST, &roma.fdi(""), Some(&unknown_app)).await, StatusCode::NOT_FOUND, "APIG.3030");
    let mut bad_kind = body.clone();
    bad_kind["datasource_type"] = json!("EXCEL");
    assert_invalid(&roma.call(Method::POST, &roma.fdi(""), Some(&bad_kind)).await, "datasource_type");
    let no_url = json!({ "datasource_name": "lite", "datasource_type": "SQLITE", "app_id": owner_id });
    assert_missing(&roma.call(Method::POST, &roma.fdi(""), Some(&no_url)).await, "content.url");
    // A SQLite data source names a file of the livedata directory: no paths, so not Portico's
    // own database.
    for url in ["../portico.db", "/etc/passwd", "sqlite:portico.db", ".hidden", "a/b.db"] {
        let escaping = json!({ "datasource_name": "lite", "datasource_type": "SQLITE", "app_id": owner_id,
                               "content": { "url": url } });
        assert_invalid(&roma.call(Method::POST, &roma.fdi(""), Some(&escaping)).await, "content.url");
    }

    let in_use = roma.call(Method::DELETE, &roma.apps(&format!("/{owner_id}")), None).await;
    assert_error(&in_use, StatusCode::CONFLICT, "APIG.3323");
    assert_eq!(roma.call(Method::DELETE, &roma.fdi(&format!("/{ds_id}")), None).await.0, StatusCode::NO_CONTENT);
    let gone = roma.call(Method::GET, &roma.fdi(&format!("/{ds_id}")), None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3031");
}

#[tokio::test]
async fn custom_backends_create_list_update_check_and_validate() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let owner = roma.app("ld_owner").await;
    let app_id = owner["id"].as_str().unwrap();
    let created = roma.backend(&backend_body(app_id, "items_by_kind", "/items")).await;
    assert_hex_id(&created["id"]);
    assert_eq!((created["status"].as_i64(), created["type"].as_str()), (Some(1), Some("data")));
    assert_eq!(created["roma_app_name"], "ld_owner");
    assert_eq!(created["instance"], app.instance_id.as_str());
    assert_eq!(created["parameters"][0]["in"], "Parameters");
    let id = created["id"].as_str().unwrap();
    roma.backend(&backend_body(app_id, "all_items", "/items/all")).await;

    let list = |q: &str| {
        let path = roma.apic(&format!("/livedata-apis{q}"));
        async move { roma.call(Method::GET, &path, None).await }
    };
    assert_eq!(assert_list(&list("?name=kind").await.1, "apis", 1, 1)[0]["id"], id);
    assert_list(&list("?path=/items&precise_search=path").await.1, "apis", 1, 1);
    assert_list(&list("?path=/items").await.1, "apis", 2, 2);
    assert_list(&list(&format!("?app_id={app_id}&status=1")).await.1, "apis", 2, 2);
    assert_list(&list("?status=4").await.1, "apis", 0, 0);
    assert_list(&list("?app_name=ld_owner&precise_search=app_name").await.1, "apis", 2, 2);
    assert_invalid(&list("?status=2").await, "status");

    let mut change = backend_body(app_id, "items_by_kind", "/items/by-kind");
    change["description"] = json!("renamed path");
    let (status, updated) = roma.call(Method::PUT, &roma.apic(&format!("/livedata-apis/{id}")), Some(&change)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["path"].as_str(), updated["created_time"].clone()),
        (Some("/items/by-kind"), created["created_time"].clone())
    );

    let check =
        |body: Value| async move { roma.call(Method::POST, &roma.apic("/livedata-apis/check"), Some(&body)).await };
    assert_eq!(
        check(json!({ "type": "name", "ld_api_name": "fresh", "roma_app_id": app_id })).await.0,
        StatusCode::NO_CONTENT
    );
    let taken = check(json!({ "type": "name", "ld_api_name": "all_items", "roma_app_id": app_id })).await;
    assert_error(&taken, StatusCode::CONFLICT, "APIG.3342");
    let route =
        check(json!({ "type": "path", "ld_api_method": "GET", "ld_api_path": "/items/all", "roma_app_id": app_id }));
    assert_error(&route.await, StatusCode::CONFLICT, "APIG.3343");
    assert_missing(
        &check(json!({ "type": "path", "ld_api_method": "GET", "roma_app_id": app_id })).await,
        "ld_api_path",
    );

    let post = |body: Value| async move { roma.call(Method::POST, &roma.apic("/livedata-apis"), Some(&body)).await };
    assert_error(&post(backend_body(app_id, "all_items", "/other")).await, StatusCode::CONFLICT, "APIG.3342");
    assert_error(&post(backend_body(app_id, "other", "/items/all")).await, StatusCode::CONFLICT, "APIG.3343");
    assert_invalid(&post(backend_body(app_id, "x y", "/a")).await, "name");
    assert_invalid(&post(backend_body(app_id, "good_name", "no-slash")).await, "path");
    let mut bad_method = backend_body(app_id, "good_name", "/a");
    bad_method["method"] = json!("PATCH");
    assert_invalid(&post(bad_method).await, "method");
    let mut bad_param = backend_body(app_id, "good_name", "/a");
    bad_param["parameters"][1]["in"] = json!("Cookie");
    assert_invalid(&post(bad_param).await, "parameters[1].in");
    let mut no_version = backend_body(app_id, "good_name", "/a");
    no_version.as_object_mut().unwrap().remove("version");
    assert_missing(&post(no_version).await, "version");
    let foreign = post(backend_body("0123456789abcdef0123456789abcdef", "good_name", "/a")).await;
    assert_error(&foreign, StatusCode::NOT_FOUND, "APIG.3030");

    let in_use = roma.call(Method::DELETE, &roma.apps(&format!("/{app_id}")), None).await;
    assert_error(&in_use, StatusCode::CONFLICT, "APIG.3323");
    assert_eq!(
        roma.call(Method::DELETE, &roma.apic(&format!("/livedata-apis/{id}")), None).await.0,
        StatusCode::NO_CONTENT
    );
    let gone = roma.call(Method::GET, &roma.apic(&format!("/livedata-apis/{id}")), None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "APIG.3032");
}

#[tokio::test]
async fn scripts_run_for_real_against_sqlite_and_every_run_is_recorded() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let owner = roma.app("runner").await;
    let app_id = owner["id"].as_str().unwrap();
    let file = items_database(app.data_dir()).await;
    let source = roma.sqlite_source(app_id, "items_db", &file).await;
    let ds_id = source["datasource_id"].as_str().unwrap();
    let ld = roma.backend(&backend_body(app_id, "items_by_kind", "/items")).await;
    let ld_id = ld["id"].as_str().unwrap();

    let no_scripts =
        roma.call(Method::POST, &roma.apic(&format!("/livedata-apis/{ld_id}/test")), Some(&json!({}))).await;
    assert_error(&no_scripts, StatusCode::CONFLICT, "APIG.3345");

    let sql = "SELECT name, price FROM items WHERE kind = ${kind} ORDER BY name";
    let (status, scripted) = roma.scripts(ld_id, sql, ds_id).await;
    assert_eq!(status, StatusCode::CREATED, "{scripted}");
    assert_eq!(scripted["status"], 3, "a backend with scripts is developing");
    assert_eq!(
        (scripted["scripts"][0]["ds_name"].as_str(), scripted["scripts"][0]["ds_type"].as_str()),
        (Some("items_db"), Some("sqlite"))
    );
    assert_eq!(scripted["scripts"][0]["content"], b64(sql));

    let test_path = roma.apic(&format!("/livedata-apis/{ld_id}/test"));
    let body = json!({ "parameters": [{ "name": "kind", "in": "Parameters", "default": "tool" }] });
    let (status, run) = roma.call(Method::POST, &test_path, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["test_status_code"], "200", "{run}");
    let response: Value = serde_json::from_str(run["test_response"].as_str().unwrap()).unwrap();
    assert_eq!(response, json!({ "items": [{ "name": "hammer", "price": 9.5 }, { "name": "saw", "price": 12.0 }] }));
    assert_eq!(serde_json::from_str::<Value>(run["test_request"].as_str().unwrap()).unwrap()["kind"], "tool");
    assert_eq!((run["test_method"].as_str(), run["ld_api_id"].as_str()), (Some("GET"), Some(ld_id)));
    assert!(run["debug_log"].as_array().is_some_and(|l| !l.is_empty()), "{run}");
    assert_time(&run["test_date"]);

    // A value is bound, never pasted into the SQL: an injection attempt matches nothing.
    let sneaky = json!({ "parameters": [{ "name": "kind", "in": "Parameters", "default": "x' OR '1'='1" }] });
    let (_, run2) = roma.call(Method::POST, &test_path, Some(&sneaky)).await;
    assert_eq!(run2["test_response"], json!({ "items": [] }).to_string());

    assert_missing(&roma.call(Method::POST, &test_path, Some(&json!({}))).await, "parameters.kind");

    // A statement the database refuses is a failed run, recorded as such.
    roma.scripts(ld_id, "SELECT missing_column FROM missing_table WHERE a = ${kind}", ds_id).await;
    let (status, failed) = roma.call(Method::POST, &test_path, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    assert_eq!(failed["test_status_code"], "500");
    assert!(failed["test_response"].as_str().unwrap().contains("missing_table"), "{failed}");

    let (_, history) = roma.call(Method::GET, &roma.apic(&format!("/livedata-apis/{ld_id}/test?limit=2")), None).await;
    let runs = assert_list(&history, "histories", 2, 3);
    assert_eq!(runs[0]["test_id"], failed["test_id"], "newest first");
    assert!(runs[0].get("debug_log").is_none());
    assert!(runs[1]["test_id"].as_i64() < runs[0]["test_id"].as_i64());

    // A script cannot reach other files through ATTACH (Portico's own database, say).
    let attach = format!("ATTACH DATABASE '{}' AS own", app.data_dir().join("portico.db").display());
    roma.scripts(ld_id, &format!("{attach}; SELECT value FROM own.settings"), ds_id).await;
    let (_, attached) = roma.call(Method::POST, &test_path, Some(&body)).await;
    assert_eq!(attached["test_status_code"], "500", "{attached}");
    assert!(attached["test_response"].as_str().unwrap().contains("too many attached databases"), "{attached}");

    // A data source of a kind Portico does not run: stored, refused on test.
    let mysql = json!({
        "datasource_name": "legacy", "datasource_type": "MYSQL", "app_id": app_id,
        "content": { "host": "mysql.internal", "port": "3306", "database_name": "legacy" },
    });
    let (_, legacy) = roma.call(Method::POST, &roma.fdi(""), Some(&mysql)).await;
    roma.scripts(ld_id, "SELECT 1", legacy["datasource_id"].as_str().unwrap()).await;
    let refused = roma.call(Method::POST, &test_path, Some(&body)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "APIG.2030");
    assert!(refused.1["error_msg"].as_str().unwrap().contains("MYSQL"), "{}", refused.1);

    let in_use =
        roma.call(Method::DELETE, &roma.fdi(&format!("/{}", legacy["datasource_id"].as_str().unwrap())), None).await;
    assert_error(&in_use, StatusCode::CONFLICT, "APIG.3323");
}

#[tokio::test]
async fn scripts_are_validated() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let owner = roma.app("validator").await;
    let app_id = owner["id"].as_str().unwrap();
    let ld = roma.backend(&backend_body(app_id, "checked", "/checked")).await;
    let path = roma.apic(&format!("/livedata-apis/{}/scripts", ld["id"].as_str().unwrap()));
    let script = |overrides: Value| {
        let mut s = json!({ "ds_id": "0123456789abcdef0123456789abcdef", "type": "SQL", "object_name": "o", "content": b64("select 1") });
        for (k, v) in overrides.as_object().unwrap() {
            s[k] = v.clone();
        }
        json!({ "api_type": "data", "scripts": [s] })
    };
    let path = &path;
    let send = |body: Value| async move { roma.call(Method::POST, path, Some(&body)).await };
    assert_invalid(&send(script(json!({ "content": "not base64!" }))).await, "scripts[0].content");
    assert_invalid(&send(script(json!({ "type": "PLSQL" }))).await, "scripts[0].type");
    assert_missing(&send(script(json!({ "ds_id": null }))).await, "scripts[0].ds_id");
    assert_missing(&send(script(json!({ "object_name": "" }))).await, "scripts[0].object_name");
    assert_missing(&send(json!({ "api_type": "data", "scripts": [] })).await, "scripts");
    assert_invalid(&send(json!({ "api_type": "sql", "scripts": [] })).await, "api_type");
    assert_error(&send(script(json!({}))).await, StatusCode::BAD_REQUEST, "APIG.2015");
    let (_, unchanged) =
        roma.call(Method::GET, &roma.apic(&format!("/livedata-apis/{}", ld["id"].as_str().unwrap())), None).await;
    assert_eq!(unchanged["status"], 1, "a refused script changes nothing");
}

#[tokio::test]
async fn deploy_creates_and_publishes_the_frontend_api_and_undeploy_takes_it_offline() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let owner = roma.app("deployer").await;
    let app_id = owner["id"].as_str().unwrap();
    let file = items_database(app.data_dir()).await;
    let source = roma.sqlite_source(app_id, "deploy_db", &file).await;
    let ld = roma.backend(&backend_body(app_id, "deployed_items", "/deployed/items")).await;
    let ld_id = ld["id"].as_str().unwrap();
    let deploy_path = roma.apic(&format!("/livedata-apis/{ld_id}/deploy"));

    let early = roma.call(Method::POST, &deploy_path, Some(&json!({ "ld_api_id": ld_id }))).await;
    assert_error(&early, StatusCode::CONFLICT, "APIG.3345");
    roma.scripts(ld_id, "SELECT name FROM items", source["datasource_id"].as_str().unwrap()).await;

    let group = app.create_group().await;
    let env = app.create_env().await;
    let mut body = json!({
        "ld_api_id": ld_id, "deploy_front_api": true, "auth_type": "NONE",
        "group_id": group["id"], "env_id": env["id"], "protocol": "HTTPS", "backend_timeout": 3000,
    });
    let incomplete =
        json!({ "ld_api_id": ld_id, "deploy_front_api": true, "auth_type": "NONE", "group_id": group["id"] });
    assert_missing(&roma.call(Method::POST, &deploy_path, Some(&incomplete)).await, "env_id");
    body["env_id"] = json!("0123456789abcdef0123456789abcdef");
    assert_error(&roma.call(Method::POST, &deploy_path, Some(&body)).await, StatusCode::NOT_FOUND, "APIG.3003");
    let (_, still) = roma.call(Method::GET, &roma.apic(&format!("/livedata-apis/{ld_id}")), None).await;
    assert_eq!(still["status"], 3, "a refused deployment leaves the backend as it was");
    body["env_id"] = env["id"].clone();

    let (status, deployment) = roma.call(Method::POST, &deploy_path, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{deployment}");
    assert_eq!(
        (deployment["ld_api_id"].as_str(), deployment["group_id"].clone(), deployment["env_id"].clone()),
        (Some(ld_id), group["id"].clone(), env["id"].clone())
    );
    assert_eq!(deployment["api_definition"]["status"], 4);
    let api_id = deployment["api_id"].as_str().unwrap();

    // The frontend API is an ordinary API of the group, published in the environment.
    let (status, front) = roma.call(Method::GET, &roma.apic(&format!("/apis/{api_id}")), None).await;
    assert_eq!(status, StatusCode::OK, "{front}");
    assert_eq!(
        (front["req_uri"].as_str(), front["req_method"].as_str(), front["req_protocol"].as_str()),
        (Some("/deployed/items"), Some("GET"), Some("HTTPS"))
    );
    assert_eq!(front["backend_api"]["timeout"], 3000);
    assert_eq!(front["roma_app_id"], app_id);
    assert_eq!(front["run_env_id"], env["id"], "{front}");

    let (_, history) = roma.call(Method::GET, &deploy_path, None).await;
    assert_eq!(assert_list(&history, "histories", 1, 1)[0]["api_id"], api_id);

    // The frontend API forwards to this server's runtime for the backend, with its key.
    let runtime_path = format!("/livedata-runtime/{}/{ld_id}", app.instance_id);
    assert_eq!(front["backend_api"]["url_domain"], app.host.as_str());
    assert_eq!(front["backend_api"]["req_uri"], runtime_path.as_str());
    let key_param = &front["backend_params"][0];
    assert_eq!((key_param["origin"].as_str(), key_param["location"].as_str()), (Some("CONSTANT"), Some("HEADER")));
    let key = key_param["value"].as_str().unwrap().to_string();
    let header_name: reqwest::header::HeaderName = key_param["name"].as_str().unwrap().parse().unwrap();
    let server = &app;
    let call_runtime = |query: &'static str, key: Option<String>| {
        let path = format!("{runtime_path}{query}");
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = key {
            headers.insert(header_name.clone(), key.parse().unwrap());
        }
        async move { server.send_raw(Method::GET, &path, headers, Vec::new()).await.pair() }
    };
    let (status, rows) = call_runtime("?kind=tool", Some(key.clone())).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(rows, json!({ "items": [{ "name": "hammer" }, { "name": "saw" }, { "name": "apple" }] }));
    assert_error(&call_runtime("?kind=tool", None).await, StatusCode::UNAUTHORIZED, "APIG.1002");
    let other_key = format!("{}00", &key[..key.len() - 2]);
    assert_error(&call_runtime("?kind=tool", Some(other_key)).await, StatusCode::UNAUTHORIZED, "APIG.1002");
    assert_missing(&call_runtime("", Some(key.clone())).await, "parameters.kind");

    let ld_path = roma.apic(&format!("/livedata-apis/{ld_id}"));
    let moved = roma.call(Method::PUT, &ld_path, Some(&backend_body(app_id, "deployed_items", "/moved"))).await;
    assert_invalid(&moved, "path");
    let mut described = backend_body(app_id, "deployed_items", "/deployed/items");
    described["description"] = json!("still deployed");
    let (status, kept) = roma.call(Method::PUT, &ld_path, Some(&described)).await;
    assert_eq!((status, kept["status"].as_i64()), (StatusCode::OK, Some(4)), "{kept}");
    assert_error(&roma.call(Method::DELETE, &ld_path, None).await, StatusCode::CONFLICT, "APIG.3344");

    let undeploy_path = roma.apic(&format!("/livedata-apis/{ld_id}/undeploy"));
    assert_eq!(roma.call(Method::POST, &undeploy_path, None).await.0, StatusCode::NO_CONTENT);
    let (_, back) = roma.call(Method::GET, &ld_path, None).await;
    assert_eq!(back["status"], 3);
    let (_, offline) = roma.call(Method::GET, &roma.apic(&format!("/apis/{api_id}")), None).await;
    assert!(offline["run_env_id"].as_str().is_none_or(str::is_empty), "the frontend API is offline: {offline}");
    assert_error(&roma.call(Method::POST, &undeploy_path, None).await, StatusCode::CONFLICT, "APIG.3345");
    let undeployed = call_runtime("?kind=tool", Some(key.clone())).await;
    assert_error(&undeployed, StatusCode::CONFLICT, "APIG.3345");

    // Deploying without a frontend API only changes the backend's status.
    let (status, plain) = roma.call(Method::POST, &deploy_path, Some(&json!({ "ld_api_id": ld_id }))).await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert!(plain.get("api_id").is_none(), "{plain}");
    let (_, history) = roma.call(Method::GET, &deploy_path, None).await;
    assert_eq!(assert_list(&history, "histories", 2, 2)[0]["id"], plain["id"], "newest first");
}

/// Custom backends as the export shows them, without what an import assigns anew.
fn comparable(api: &Value) -> Value {
    let mut api = api.clone();
    let map = api.as_object_mut().unwrap();
    for key in ["id", "created_time", "modified_time"] {
        map.remove(key);
    }
    for script in map.get_mut("scripts").and_then(Value::as_array_mut).into_iter().flatten() {
        let script = script.as_object_mut().unwrap();
        script.remove("created_time");
        script.remove("modified_time");
    }
    api
}

#[tokio::test]
async fn export_then_import_gives_back_the_same_custom_backends() {
    let app = spawn_app().await;
    let roma = Roma(&app);
    let owner = roma.app("exporter").await;
    let app_id = owner["id"].as_str().unwrap();
    let other = roma.app("bystander").await;
    let file = items_database(app.data_dir()).await;
    let source = roma.sqlite_source(app_id, "export_db", &file).await;
    let ds_id = source["datasource_id"].as_str().unwrap();
    let mut with_body = backend_body(app_id, "post_items", "/items");
    with_body["method"] = json!("POST");
    with_body["parameters"] = json!([
        { "name": "application/json", "in": "Body", "default": "{}", "description": "the item", "required": true },
        { "name": "kind", "in": "Parameters", "default": "tool" },
    ]);
    with_body["api_signature_id"] = json!("0123456789abcdef0123456789abcdef");
    let first = roma.backend(&with_body).await;
    roma.scripts(first["id"].as_str().unwrap(), "SELECT * FROM items WHERE kind = ${kind}", ds_id).await;
    let second = roma.backend(&backend_body(app_id, "get_items", "/items")).await;
    let third = roma.backend(&backend_body(app_id, "a_first", "/a")).await;
    roma.backend(&backend_body(other["id"].as_str().unwrap(), "elsewhere", "/elsewhere")).await;
    let (_, before) = roma.call(Method::GET, &roma.apic(&format!("/livedata-apis?app_id={app_id}")), None).await;

    let export_path = roma.apic("/openapi/livedata-apis/export");
    let exported = app.signed(Method::POST, &export_path, Some(&json!({ "app_id": app_id, "format": "json" }))).await;
    assert_eq!(exported.status, StatusCode::OK, "{}", exported.body);
    let disposition = exported.headers["content-disposition"].to_str().unwrap();
    assert_eq!(disposition, "attachment; filename=\"livedata-apis.json\"");
    let doc = exported.body;
    assert_eq!((doc["swagger"].as_str(), doc["info"]["title"].as_str()), (Some("2.0"), Some("exporter")));
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/a", "/items"], "the application's backends, by path");
    let post = &doc["paths"]["/items"]["post"];
    assert_eq!(post["operationId"], "post_items");
    assert_eq!(post["x-livedata-api"]["roma_app_id"], app_id);
    assert_eq!(post["x-livedata-scripts"][0]["ds_id"], ds_id);
    assert_eq!(post["parameters"][0]["in"], "body");
    assert_eq!(post["parameters"][0]["x-livedata-default"], "{}");
    assert!(doc["paths"]["/items"]["get"].is_object());

    let status3 = app.signed(Method::POST, &export_path, Some(&json!({ "app_id": app_id, "status": 3 }))).await;
    assert_eq!(status3.body["paths"].as_object().unwrap().len(), 1, "only the developing backend");
    let picked = json!({ "apis": [third["id"]], "format": "yaml" });
    let yaml = app.signed(Method::POST, &export_path, Some(&picked)).await;
    assert_eq!(yaml.headers["content-type"], "application/x-yaml");
    let yaml_doc: Value = yaml_serde::from_str(yaml.body.as_str().unwrap()).unwrap();
    assert_eq!(yaml_doc["paths"].as_object().unwrap().keys().collect::<Vec<_>>(), ["/a"]);
    let bad = app.signed(Method::POST, &export_path, Some(&json!({ "format": "xml" }))).await.pair();
    assert_invalid(&bad, "format");
    let bad = app.signed(Method::POST, &export_path, Some(&json!({ "status": 2 }))).await.pair();
    assert_invalid(&bad, "status");
    let unknown =
        app.signed(Method::POST, &export_path, Some(&json!({ "apis": ["0123456789abcdef0123456789abcdef"] }))).await;
    assert_error(&unknown.pair(), StatusCode::BAD_REQUEST, "APIG.2011");

    // Import into the same instance: merge keeps what is there, override rewrites it.
    let import_path = roma.apic("/openapi/livedata-apis/import");
    let bytes = serde_json::to_vec(&doc).unwrap();
    let (status, merged) = app.upload_at(&import_path, &[("api_mode", "merge")], &bytes).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    let actions: Vec<&str> =
        merged["success"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["skip", "skip", "skip"]);
    let (_, overridden) =
        app.upload_at(&import_path, &[("extend_mode", "merge"), ("api_mode", "override")], &bytes).await;
    let ids: Vec<&Value> = overridden["success"].as_array().unwrap().iter().map(|s| &s["id"]).collect();
    assert!(ids.contains(&&second["id"]), "{overridden}");
    assert_eq!(overridden["swagger"]["result"], "success");

    // Delete them all and import the application's YAML export: the same backends come back.
    let yaml_export =
        app.signed(Method::POST, &export_path, Some(&json!({ "app_id": app_id, "format": "yaml" }))).await;
    assert_eq!(yaml_export.status, StatusCode::OK);
    let yaml_bytes = yaml_export.body.as_str().unwrap().as_bytes().to_vec();
    for api in before["apis"].as_array().unwrap() {
        let path = roma.apic(&format!("/livedata-apis/{}", api["id"].as_str().unwrap()));
        assert_eq!(roma.call(Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    }
    let (status, imported) = app.upload_at(&import_path, &[("api_mode", "merge")], &yaml_bytes).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["success"].as_array().unwrap().len(), 3, "{imported}");
    let (_, after) = roma.call(Method::GET, &roma.apic(&format!("/livedata-apis?app_id={app_id}")), None).await;
    let by_name = |list: &Value| {
        let mut items: Vec<Value> = list["apis"].as_array().unwrap().iter().map(comparable).collect();
        items.sort_by_key(|a| a["name"].as_str().unwrap().to_string());
        items
    };
    assert_eq!(by_name(&after), by_name(&before));

    // A document with a bad operation imports the rest and reports that one.
    let mut broken = doc.clone();
    broken["paths"]["/b"] = json!({ "get": { "operationId": "x y", "x-livedata-api": { "roma_app_id": app_id } } });
    broken["paths"]["/c"] = broken["paths"]["/a"].clone();
    broken["paths"]["/c"]["get"]["operationId"] = json!("c_backend");
    let (_, partial) = app.upload_at(&import_path, &[], &serde_json::to_vec(&broken).unwrap()).await;
    assert_eq!(partial["failure"][0]["path"], "/b", "{partial}");
    assert_eq!(partial["failure"][0]["error_code"], "APIG.2001");
    assert_eq!(partial["swagger"]["result"], "partial");
    assert!(partial["success"].as_array().unwrap().iter().any(|s| s["path"] == "/c" && s["action"] == "create"));

    let (status, not_swagger) = app.upload_at(&import_path, &[], b"{\"openapi\": \"3.0.0\"}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{not_swagger}");
    let missing = app.upload_at(&import_path, &[("api_mode", "replace")], &bytes).await;
    assert_invalid(&missing, "api_mode");
}
