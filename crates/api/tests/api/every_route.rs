//! Every management route refuses missing, forged, expired and replayed credentials (401) and
//! another project's valid ones (403), before it looks at anything else.
//!
//! The routes are the operations of the server's own `/openapi.json` that declare a security
//! requirement: the document is generated from the router, and `document.rs` holds the two
//! together (a served route missing from the document fails there), so a new route is walked
//! without anyone listing it.

use portico_api::Quota;
use portico_auth::token::{TokenClaims, TokenKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// Every (method, concrete path) of the management API, on `app`'s project and instance.
async fn management_requests(app: &TestApp) -> Vec<(Method, String)> {
    let (status, document) = app.call(&Auth::Anonymous, Method::GET, "/openapi.json", None).await.pair();
    assert_eq!(status, StatusCode::OK, "{document}");
    let mut requests = Vec::new();
    for (template, item) in document["paths"].as_object().expect("paths") {
        let path: Vec<&str> = template
            .split('/')
            .map(|segment| match segment {
                "{project_id}" => app.project_id.as_str(),
                "{instance_id}" => app.instance_id.as_str(),
                s if s.starts_with('{') => "0123456789abcdef0123456789abcdef",
                s => s,
            })
            .collect();
        for (method, operation) in item.as_object().expect("a path item") {
            if operation.get("security").and_then(Value::as_array).is_none_or(|s| s.is_empty()) {
                continue; // public: /health, /ready, /metrics, /openapi.json, /v3/auth/tokens
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("an HTTP method");
            requests.push((method, path.join("/")));
        }
    }
    requests
}

#[tokio::test]
async fn every_management_route_refuses_bad_credentials() {
    // Replays and forged signatures count as failures of the admin's key; this test is about
    // the answers, not the throttle (auth::failed_signatures_are_rate_limited_per_access_key).
    let quota = Quota::per_second(std::num::NonZeroU32::new(1_000_000).unwrap());
    let app = spawn_app_with(|state| state.with_auth_failure_quota(quota)).await;
    let other = app.add_tenant(&format!("other_{}", unique())).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = |project_id: &str, issued_at: i64, expires_at: i64| TokenClaims {
        user_id: "u".repeat(32),
        user_name: app.admin.user_name.clone(),
        project_id: project_id.to_string(),
        readonly: false,
        issued_at,
        expires_at,
    };
    let expired = app.mint_token(&claims(&app.project_id, now - 7200, now - 3600));
    let foreign_key = portico_auth::token::issue(&TokenKey::generate(), &claims(&app.project_id, now, now + 3600));
    let other_token = app.mint_token(&TokenClaims {
        user_name: other.identity.user_name.clone(),
        ..claims(&other.project_id, now, now + 3600)
    });
    let sign = |secret_key: &str, skew_secs: i64| Auth::Sign {
        access_key: app.admin.access_key.clone(),
        secret_key: secret_key.to_string(),
        project_id: app.project_id.clone(),
        skew_secs,
    };
    let unauthenticated = [
        ("no credentials", Auth::Anonymous),
        ("a malformed token", Auth::Token("not-a-token".into())),
        ("a token signed with another key", Auth::Token(foreign_key)),
        ("an expired token", Auth::Token(expired)),
        ("a forged signature", sign(&"f".repeat(40), 0)),
        ("a signature dated 16 minutes ago (a replay)", sign(&app.admin.secret_key, -16 * 60)),
        ("a signature dated 16 minutes ahead", sign(&app.admin.secret_key, 16 * 60)),
    ];
    let other_project =
        [("another project's signature", other.auth()), ("another project's token", Auth::Token(other_token))];

    let requests = management_requests(&app).await;
    let body = json!({ "name": "never_created" });
    for (method, path) in &requests {
        for (what, auth) in &unauthenticated {
            let (status, error) = app.call(auth, method.clone(), path, Some(&body)).await.pair();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {method} {path}: {error}");
            assert_eq!(error["error_code"], "APIG.1002", "{what}: {method} {path}: {error}");
            assert_eq!(error["error_msg"], "Incorrect token or token resolution failed");
        }
        for (what, auth) in &other_project {
            let (status, error) = app.call(auth, method.clone(), path, Some(&body)).await.pair();
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {method} {path}: {error}");
            assert_eq!(error["error_code"], "APIG.1005", "{what}: {method} {path}: {error}");
        }
    }
    // A replay within the window is not refused by the date: the walk's 401s came from the check.
    let fresh = sign(&app.admin.secret_key, -14 * 60);
    assert_eq!(app.call(&fresh, Method::GET, &app.inst("/api-groups"), None).await.status, StatusCode::OK);
    let (_, groups) = app.get("/api-groups").await;
    assert_list(&groups, "groups", 0, 0);
    assert!(requests.len() > 200, "walked only {} requests", requests.len());
}
