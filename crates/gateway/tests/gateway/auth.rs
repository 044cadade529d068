//! Authentication: NONE, IAM tokens, and APP/AUTHORIZER (not available yet).

use serde_json::json;

use crate::helpers::{http_api, spawn_backend, spawn_gateway};

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

#[tokio::test]
async fn app_and_authorizer_apis_are_refused_until_available() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut app = http_api("/app", &backend, "/");
    app["auth_type"] = json!("APP");
    gw.live_api(&group, app).await;
    let msg = gw.get(&group.sl_domain, "/app", &[]).await.assert_error(401, "APIG.0302");
    assert_eq!(msg, "APP authentication is not available on this gateway yet");
}
