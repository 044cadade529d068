//! Authentication: NONE, IAM tokens, and AUTHORIZER (not available yet). APP: `policies.rs`.

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
async fn authorizer_apis_are_refused_until_available() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let authorizer = portico_model::Authorizer {
        id: portico_model::new_id(),
        name: "custom_auth".into(),
        kind: "FRONTEND".into(),
        authorizer_type: "FUNC".into(),
        authorizer_uri: "urn:fss:region:project:function:default:auth".into(),
        network_type: "V1".into(),
        authorizer_version: None,
        authorizer_alias_uri: None,
        identities: vec![],
        ttl: 0,
        user_data: None,
        need_body: false,
        create_time: portico_model::now(),
    };
    portico_store::PolicyStore::create_authorizer(gw.store.as_ref(), &gw.instance_id, &authorizer).await.unwrap();
    let mut api = http_api("/custom", &backend, "/");
    api["auth_type"] = json!("AUTHORIZER");
    api["authorizer_id"] = json!(authorizer.id);
    gw.live_api(&group, api).await;
    let msg = gw.get(&group.sl_domain, "/custom", &[]).await.assert_error(401, "APIG.0302");
    assert_eq!(msg, "AUTHORIZER authentication is not available on this gateway yet");
}
