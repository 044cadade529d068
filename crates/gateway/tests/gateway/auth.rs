//! Authentication: NONE, IAM tokens, custom authorizers. APP: `policies.rs`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::helpers::{http_api, spawn_backend, spawn_gateway, spawn_gateway_with};

#[tokio::test]
async fn iam_tokens_of_the_api_project_only() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut api = http_api("/iam", &backend, "/");
    api["auth_type"] = json!("IAM");
    gw.live_api(&group, api).await;
    let host = group.sl_domain.as_str();

    let msg = gw.get(host, "/iam", &[]).await.assert_error(401, "APIG.0301");
    assert!(msg.contains("X-Auth-Token is missing"), "{msg}");
    gw.get(host, "/iam", &[("x-auth-token", "garbage")]).await.assert_error(401, "APIG.0301");
    let other = gw.token("0123456789abcdef0123456789abcdef");
    let msg = gw.get(host, "/iam", &[("x-auth-token", &other)]).await.assert_error(401, "APIG.0301");
    assert!(msg.contains("project"), "{msg}");
    let forged = portico_auth::token::issue(
        &portico_auth::token::TokenKey::generate(),
        &portico_auth::token::TokenClaims {
            user_id: "u".into(),
            user_name: "u".into(),
            project_id: gw.project_id.clone(),
            readonly: false,
            issued_at: 0,
            expires_at: i64::MAX,
        },
    );
    gw.get(host, "/iam", &[("x-auth-token", &forged)]).await.assert_error(401, "APIG.0301");
    let token = gw.token(&gw.project_id);
    assert_eq!(gw.get(host, "/iam", &[("x-auth-token", &token)]).await.status, 200);
}

fn authorizer(urn: &str, ttl: i64) -> portico_model::Authorizer {
    portico_model::Authorizer {
        id: portico_model::new_id(),
        name: format!("auth_{}", &portico_model::new_id()[..8]),
        kind: "FRONTEND".into(),
        authorizer_type: "FUNC".into(),
        authorizer_uri: urn.into(),
        network_type: "V1".into(),
        authorizer_version: None,
        authorizer_alias_uri: None,
        identities: vec![portico_model::Identity {
            name: "x-token".into(),
            location: "HEADER".into(),
            validation: None,
        }],
        ttl,
        user_data: Some("from the authorizer's config".into()),
        need_body: false,
        create_time: portico_model::now(),
    }
}

/// A function endpoint on loopback: `x-token: good…` is allowed (as user `alice`), anything
/// else denied; `calls` counts the events it received.
async fn spawn_authorizer(calls: Arc<AtomicUsize>) -> SocketAddr {
    let app = axum::Router::new().route(
        "/auth",
        axum::routing::post(move |axum::Json(event): axum::Json<serde_json::Value>| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                assert_eq!(event["user_data"], "from the authorizer's config");
                let token = event["headers"]["x-token"].as_str().unwrap_or_default().to_string();
                let verdict = if token.starts_with("good") {
                    json!({ "status": "allow", "context": { "user": "alice" } })
                } else {
                    json!({ "status": "deny" })
                };
                axum::Json(json!({ "statusCode": 200, "body": verdict.to_string() }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn custom_authorizers_decide_and_are_cached() {
    let calls = Arc::new(AtomicUsize::new(0));
    let function = spawn_authorizer(calls.clone()).await;
    let functions = HashMap::from([("urn:fss:auth".to_string(), format!("http://{function}/auth"))]);
    let gw = spawn_gateway_with(functions).await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut apis = Vec::new();
    for (path, urn, ttl) in
        [("/cached", "urn:fss:auth", 300), ("/fresh", "urn:fss:auth", 0), ("/nowhere", "urn:none", 0)]
    {
        let a = authorizer(urn, ttl);
        gw.store.create_authorizer(&gw.instance_id, &a).await.unwrap();
        let mut api = http_api(path, &backend, "/");
        api["auth_type"] = json!("AUTHORIZER");
        api["authorizer_id"] = json!(a.id);
        api["backend_params"] = json!([{ "name": "x-user", "location": "HEADER", "origin": "SYSTEM",
                                          "value": "$context.authorizer.frontend.user" }]);
        apis.push(gw.live_api(&group, api).await);
    }
    let host = group.sl_domain.as_str();

    let msg = gw.get(host, "/fresh", &[]).await.assert_error(401, "APIG.0309");
    assert!(msg.contains("x-token"), "{msg}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no identity, no call");
    gw.get(host, "/fresh", &[("x-token", "bad")]).await.assert_error(401, "APIG.0310");
    let reply = gw.get(host, "/fresh", &[("x-token", "good")]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["headers"]["x-user"], "alice", "the authorizer's context reaches the backend");
    gw.get(host, "/fresh", &[("x-token", "good")]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "ttl 0: every request asks");

    for _ in 0..3 {
        assert_eq!(gw.get(host, "/cached", &[("x-token", "good-cached")]).await.status, 200);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4, "one call, then the cached verdict");

    let msg = gw.get(host, "/nowhere", &[("x-token", "good")]).await.assert_error(500, "APIG.0312");
    assert!(msg.contains("urn:none"), "{msg}");
}

#[tokio::test]
async fn backend_authorizers_are_asked_before_the_backend() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app = axum::Router::new().route(
        "/backend-auth",
        axum::routing::post(move |axum::Json(event): axum::Json<serde_json::Value>| {
            let calls = counted.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                assert_eq!(event["type"], "BACKEND");
                let verdict = if event["headers"]["x-block"].is_string() {
                    json!({ "status": "deny" })
                } else {
                    json!({ "status": "allow", "context": { "credential": format!("for {}", event["path"]) } })
                };
                axum::Json(verdict)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let function = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let functions = HashMap::from([("urn:fss:backend".to_string(), format!("http://{function}/backend-auth"))]);
    let gw = spawn_gateway_with(functions).await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let a =
        portico_model::Authorizer { kind: "BACKEND".into(), identities: vec![], ..authorizer("urn:fss:backend", 0) };
    gw.store.create_authorizer(&gw.instance_id, &a).await.unwrap();
    let mut api = http_api("/guarded", &backend, "/");
    api["backend_api"]["authorizer_id"] = json!(a.id);
    api["backend_params"] = json!([{ "name": "x-credential", "location": "HEADER", "origin": "SYSTEM",
                                      "value": "$context.authorizer.backend.credential" }]);
    gw.live_api(&group, api).await;
    gw.live_api(&group, http_api("/open", &backend, "/")).await;
    let host = group.sl_domain.as_str();

    let reply = gw.get(host, "/guarded", &[]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["headers"]["x-credential"], "for \"/guarded\"",
        "the authorizer's context reaches the backend"
    );
    gw.get(host, "/guarded", &[("x-block", "1")]).await.assert_error(401, "APIG.0310");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(gw.get(host, "/open", &[]).await.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "an API without a backend authorizer does not ask");
}
