//! `GET /health` and `GET /ready` on the gateway listener: answered when no
//! API serves the path, and `/ready` is 503 on both listeners while the database is unreachable.

use portico_api::AppState;
use serde_json::json;
use sqlx::Connection;

use crate::helpers::*;

#[tokio::test]
async fn health_and_ready_answer_unless_an_api_serves_the_path() {
    let gw = spawn_gateway().await;
    let host = gw.addr.to_string();
    let health = gw.get(&host, "/health", &[]).await;
    assert_eq!((health.status.as_u16(), health.body.as_str()), (200, Some("OK")), "{health:?}");
    let ready = gw.get(&host, "/ready", &[]).await;
    assert_eq!((ready.status.as_u16(), ready.body.as_str()), (200, Some("READY")), "{ready:?}");
    gw.call(reqwest::Method::POST, &host, "/ready", &[], "").await.assert_error(404, "APIG.0101");

    let group = gw.group().await;
    gw.live_api(
        &group,
        json!({ "req_method": "GET", "req_uri": "/health", "backend_type": "MOCK",
                "mock_info": { "result_content": "the API's own health" } }),
    )
    .await;
    // APIG-compatible: the group's API is served; other hosts still reach the probe.
    assert_eq!(gw.get(&group.sl_domain, "/health", &[]).await.body, "the API's own health");
    assert_eq!(gw.get(&host, "/health", &[]).await.body, "OK");
    assert_eq!(gw.get(&group.sl_domain, "/ready", &[]).await.body, "READY");
}

// An embedded SQLite file has no server to lose: only a database server can go away.
#[tokio::test]
#[ignore = "needs PostgreSQL: the PostgreSQL pass of scripts/test.sh runs it (--include-ignored)"]
async fn ready_is_503_on_both_listeners_while_the_database_is_unreachable() {
    let gw = spawn_gateway().await;
    let state = AppState::load(gw.store.clone(), time::Duration::hours(1), "apig.test".into()).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let management = format!("http://{}/ready", listener.local_addr().expect("address"));
    tokio::spawn(portico_api::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::builder().no_proxy().build().expect("client");
    assert_eq!(http.get(&management).send().await.expect("answered").status(), 200);
    let host = gw.addr.to_string();
    assert_eq!(gw.get(&host, "/ready", &[]).await.status, 200);

    // The database refuses new connections, and those the store holds are cut: as when its
    // server goes away, but deterministic.
    let url = std::fs::read_to_string(gw.data_dir().join("postgres.url")).expect("the test database's URL");
    let database = url.rsplit_once('/').expect("a database URL").1;
    let admin_url = std::env::var("PORTICO_TEST_POSTGRES").expect("the PostgreSQL pass");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect as the administrator");
    for statement in [
        format!("ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false"),
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut admin).await.expect("make the database unreachable");
    }

    gw.get(&host, "/ready", &[]).await.assert_error(503, "APIG.0902");
    assert_eq!(gw.get(&host, "/health", &[]).await.status, 200, "the process still serves");
    let response = http.get(&management).send().await.expect("answered");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("an error body");
    assert_eq!(body["error_code"], "APIG.9998", "{body}");
}
