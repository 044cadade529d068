//! Authentication and authorization: AK/SK signatures as the SDK makes them, IAM tokens from
//! `POST /v3/auth/tokens`, read-only users, and the cross-project check.

use portico_auth::signature;
use portico_auth::token::{TokenClaims, TokenKey};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn assert_401(response: TestResponse) {
    let pair = response.pair();
    assert_error(&pair, StatusCode::UNAUTHORIZED, "APIG.1002");
}

fn assert_403(response: TestResponse) {
    let pair = response.pair();
    assert_error(&pair, StatusCode::FORBIDDEN, "APIG.1005");
}

/// Replaces one header of a signed request (after signing).
fn tamper(mut headers: HeaderMap, name: &'static str, value: &str) -> HeaderMap {
    headers.insert(name, HeaderValue::from_str(value).unwrap());
    headers
}

#[tokio::test]
async fn health_needs_no_credentials() {
    let app = spawn_app().await;
    let response = app.call(&Auth::Anonymous, Method::GET, "/health", None).await;
    assert_eq!(response.status, StatusCode::OK);
}

#[tokio::test]
async fn ready_answers_when_the_store_does() {
    let app = spawn_app().await;
    let response = app.call(&Auth::Anonymous, Method::GET, "/ready", None).await;
    assert_eq!(response.status, StatusCode::OK);
}

#[tokio::test]
async fn no_credentials_is_401() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let paths = [
        (Method::GET, app.inst("/api-groups")),
        (Method::POST, app.inst("/api-groups")),
        (Method::GET, app.inst(&format!("/api-groups/{}", group["id"].as_str().unwrap()))),
        (Method::DELETE, app.inst(&format!("/api-groups/{}", group["id"].as_str().unwrap()))),
        (Method::GET, app.inst("/apis")),
        (Method::POST, app.inst("/apis/action")),
        (Method::GET, format!("/v2/{}/apigw/instances", app.project_id)),
        (Method::GET, app.inst("/envs")),
    ];
    for (method, path) in paths {
        let response = app.call(&Auth::Anonymous, method, &path, Some(&json!({ "name": "sneaky" }))).await;
        let pair = response.pair();
        assert_error(&pair, StatusCode::UNAUTHORIZED, "APIG.1002");
        assert_eq!(pair.1["error_msg"], "Incorrect token or token resolution failed");
    }
    assert_eq!(app.get(&format!("/api-groups/{}", group["id"].as_str().unwrap())).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_sdk_signed_request_is_accepted() {
    let app = spawn_app().await;
    let response = app.signed(Method::GET, &app.inst("/api-groups"), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    // The SDK also signs its User-Agent; the verifier follows SignedHeaders, whatever is in it.
    let path = app.inst("/envs");
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(HOST, HeaderValue::from_str(&app.host).unwrap());
    headers.insert(USER_AGENT, HeaderValue::from_static("huaweicloud-usdk-python/3.0; os/Linux python/3.11.7"));
    headers.insert("x-project-id", HeaderValue::from_str(&app.project_id).unwrap());
    headers.insert("x-sdk-date", HeaderValue::from_str(&sdk_date(0)).unwrap());
    let parts =
        signature::RequestParts { method: "GET", raw_path: &path, raw_query: None, headers: &headers, body: b"" };
    let authorization = signature::sign(&parts, &app.admin.access_key, &app.admin.secret_key);
    assert!(authorization.contains("SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date"));
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&authorization).unwrap());
    let response = app.send_raw(Method::GET, &path, headers, Vec::new()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[tokio::test]
async fn queries_with_reserved_characters_verify() {
    let app = spawn_app().await;
    app.create_group_named("a.b/c(d):e").await;
    for name in ["a b/ü+&=%?#", "a.b/c(d):e", "~*'()!$,;:@"] {
        let pq =
            app.inst(&format!("/api-groups{}", query(&[("name", name), ("precise_search", "name"), ("limit", "5")])));
        let response = app.signed(Method::GET, &pq, None).await;
        assert_eq!(response.status, StatusCode::OK, "{name}: {}", response.body);
    }
    let pq = app.inst(&format!("/api-groups{}", query(&[("name", "a.b/c(d):e"), ("precise_search", "name")])));
    assert_eq!(app.signed(Method::GET, &pq, None).await.body["total"], 1);
}

#[tokio::test]
async fn a_wrong_secret_or_unknown_access_key_is_401() {
    let app = spawn_app().await;
    let wrong_sk = Auth::Sign {
        access_key: app.admin.access_key.clone(),
        secret_key: "x".repeat(40),
        project_id: app.project_id.clone(),
        skew_secs: 0,
    };
    assert_401(app.call(&wrong_sk, Method::GET, &app.inst("/api-groups"), None).await);
    let unknown_ak = Auth::Sign {
        access_key: "NOSUCHACCESSKEY00000".into(),
        secret_key: app.admin.secret_key.clone(),
        project_id: app.project_id.clone(),
        skew_secs: 0,
    };
    assert_401(app.call(&unknown_ak, Method::GET, &app.inst("/api-groups"), None).await);
    let body = json!({ "name": "never_created" });
    assert_401(app.call(&wrong_sk, Method::POST, &app.inst("/api-groups"), Some(&body)).await);
    let (_, list) = app.get("/api-groups").await;
    assert_list(&list, "groups", 0, 0);
}

#[tokio::test]
async fn anything_changed_after_signing_is_401() {
    let app = spawn_app().await;
    let auth = app.admin_auth();
    let path = app.inst("/api-groups");
    let body = br#"{"name": "signed_name"}"#;
    let signed = || app.sign_headers(&auth, &Method::POST, &path, body, &app.host);

    // The body.
    let response = app.send_raw(Method::POST, &path, signed(), br#"{"name": "forged_name"}"#.to_vec()).await;
    assert_401(response);
    // The method.
    assert_401(app.send_raw(Method::GET, &path, signed(), body.to_vec()).await);
    // The path.
    assert_401(app.send_raw(Method::POST, &app.inst("/envs"), signed(), body.to_vec()).await);
    // The query.
    let get = |pq: &str| app.sign_headers(&auth, &Method::GET, pq, b"", &app.host);
    let limited = format!("{path}?limit=1");
    assert_401(app.send_raw(Method::GET, &format!("{path}?limit=2"), get(&limited), Vec::new()).await);
    // A signed header.
    assert_401(app.send_raw(Method::POST, &path, tamper(signed(), "x-project-id", "other"), body.to_vec()).await);
    assert_401(app.send_raw(Method::POST, &path, tamper(signed(), "host", "localhost:1"), body.to_vec()).await);
    // The signature itself.
    let mut forged = signed();
    let value = forged[AUTHORIZATION].to_str().unwrap().to_string();
    let flipped = if value.ends_with('0') {
        format!("{}1", &value[..value.len() - 1])
    } else {
        format!("{}0", &value[..value.len() - 1])
    };
    forged.insert(AUTHORIZATION, HeaderValue::from_str(&flipped).unwrap());
    assert_401(app.send_raw(Method::POST, &path, forged, body.to_vec()).await);

    // Untouched, it goes through.
    assert_eq!(app.send_raw(Method::POST, &path, signed(), body.to_vec()).await.status, StatusCode::CREATED);
}

/// The signature covers a declared `X-Sdk-Content-Sha256` instead of the body, so the declared
/// hash must be the body's: otherwise a captured request's body could be replaced at will.
#[tokio::test]
async fn a_body_swapped_under_its_declared_hash_is_401() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let path = app.inst("/api-groups");
    let body = br#"{"name": "declared_name"}"#;
    let declared = || {
        let signed = app.sign_headers(&app.admin_auth(), &Method::POST, &path, body, &app.host);
        tamper(signed, "x-sdk-content-sha256", &hex::encode(Sha256::digest(body)))
    };

    let swapped = app.send_raw(Method::POST, &path, declared(), br#"{"name": "swapped_name"}"#.to_vec()).await;
    assert_401(swapped);
    let (_, list) = app.get("/api-groups").await;
    assert_list(&list, "groups", 0, 0);

    let honest = app.send_raw(Method::POST, &path, declared(), body.to_vec()).await.pair();
    assert_eq!(honest.0, StatusCode::CREATED, "{}", honest.1);
    assert_eq!(honest.1["name"], "declared_name");
}

#[tokio::test]
async fn x_sdk_date_more_than_15_minutes_off_is_401() {
    let app = spawn_app().await;
    let at = |skew_secs: i64| Auth::Sign {
        access_key: app.admin.access_key.clone(),
        secret_key: app.admin.secret_key.clone(),
        project_id: app.project_id.clone(),
        skew_secs,
    };
    let path = app.inst("/api-groups");
    assert_401(app.call(&at(-16 * 60), Method::GET, &path, None).await);
    assert_401(app.call(&at(16 * 60), Method::GET, &path, None).await);
    assert_401(app.call(&at(-24 * 3600), Method::GET, &path, None).await);
    assert_eq!(app.call(&at(-14 * 60), Method::GET, &path, None).await.status, StatusCode::OK);
    assert_eq!(app.call(&at(14 * 60), Method::GET, &path, None).await.status, StatusCode::OK);

    // A date that is not `YYYYMMDDTHHMMSSZ`, even correctly signed.
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_str(&app.host).unwrap());
    headers.insert("x-sdk-date", HeaderValue::from_static("2026-01-01T00:00:00Z"));
    let parts =
        signature::RequestParts { method: "GET", raw_path: &path, raw_query: None, headers: &headers, body: b"" };
    let authorization = signature::sign(&parts, &app.admin.access_key, &app.admin.secret_key);
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&authorization).unwrap());
    assert_401(app.send_raw(Method::GET, &path, headers, Vec::new()).await);
}

#[tokio::test]
async fn signatures_must_cover_host_and_date() {
    let app = spawn_app().await;
    let path = app.inst("/api-groups");
    // Signed without Host (the client still sends one).
    let mut headers = HeaderMap::new();
    headers.insert("x-sdk-date", HeaderValue::from_str(&sdk_date(0)).unwrap());
    let parts =
        signature::RequestParts { method: "GET", raw_path: &path, raw_query: None, headers: &headers, body: b"" };
    let authorization = signature::sign(&parts, &app.admin.access_key, &app.admin.secret_key);
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&authorization).unwrap());
    assert_401(app.send_raw(Method::GET, &path, headers, Vec::new()).await);
    // No X-Sdk-Date at all.
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_str(&app.host).unwrap());
    let parts =
        signature::RequestParts { method: "GET", raw_path: &path, raw_query: None, headers: &headers, body: b"" };
    let authorization = signature::sign(&parts, &app.admin.access_key, &app.admin.secret_key);
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&authorization).unwrap());
    assert_401(app.send_raw(Method::GET, &path, headers, Vec::new()).await);
}

#[tokio::test]
async fn malformed_or_foreign_authorization_headers_are_401() {
    let app = spawn_app().await;
    let path = app.inst("/api-groups");
    let signed = app.sign_headers(&app.admin_auth(), &Method::GET, &path, b"", &app.host);
    let good = signed[AUTHORIZATION].to_str().unwrap().to_string();
    let values = [
        String::new(),
        "Bearer abc".into(),
        "SDK-HMAC-SHA256".into(),
        format!(
            "V11-HMAC-SHA256 Credential={}/20260101/cn-north-4/apig, SignedHeaders=host, Signature=00",
            app.admin.access_key
        ),
        good.replace("SDK-HMAC-SHA256", "SDK-HMAC-SM3"),
        good.replace("Access=", "Acces="),
        format!("{good}, Signature={}", "0".repeat(64)),
        good.split(", Signature=").next().unwrap().to_string(),
    ];
    for value in values {
        let headers = tamper(signed.clone(), "authorization", &value);
        assert_401(app.send_raw(Method::GET, &path, headers, Vec::new()).await);
    }
}

#[tokio::test]
async fn a_password_token_works_like_a_signature() {
    let app = spawn_app().await;
    let response = app.request_token(&app.admin.user_name, &app.admin.password, &app.project_id).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let token = response.headers["x-subject-token"].to_str().unwrap().to_string();
    let body = &response.body["token"];
    assert_eq!(body["methods"], json!(["password"]));
    assert_eq!(body["project"]["id"], app.project_id.as_str());
    assert_eq!(body["project"]["name"], "default");
    assert_eq!(body["project"]["domain"]["name"], DOMAIN);
    assert_eq!(body["user"]["name"], "admin");
    assert_eq!(body["user"]["domain"]["name"], DOMAIN);
    assert_eq!(body["catalog"], json!([]));
    assert_time(&body["issued_at"]);
    assert_time(&body["expires_at"]);
    assert!(body["expires_at"].as_str() > body["issued_at"].as_str());
    assert!(!body.to_string().contains(&app.admin.password), "the password is not echoed");

    let created =
        app.with_token(&token, Method::POST, &app.inst("/api-groups"), Some(&json!({ "name": "by_token" }))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = app.with_token(&token, Method::GET, &app.inst("/api-groups"), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["groups"][0]["name"], "by_token");
    let deleted = app
        .with_token(
            &token,
            Method::DELETE,
            &app.inst(&format!("/api-groups/{}", created.body["id"].as_str().unwrap())),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn tokens_scope_by_project_name_or_default_to_the_first_project() {
    let app = spawn_app().await;
    let (user, password) = (&app.admin.user_name, &app.admin.password);
    for scope in [json!({ "project": { "name": "default" } }), Value::Null, json!({})] {
        let mut body = token_request(user, password, scope.clone());
        if scope.is_null() {
            body["auth"].as_object_mut().unwrap().remove("scope");
        }
        let response = app.call(&Auth::Anonymous, Method::POST, "/v3/auth/tokens", Some(&body)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{scope}: {}", response.body);
        assert_eq!(response.body["token"]["project"]["id"], app.project_id.as_str());
        let token = response.headers["x-subject-token"].to_str().unwrap();
        assert_eq!(app.with_token(token, Method::GET, &app.inst("/envs"), None).await.status, StatusCode::OK);
    }
    // Without a domain in the request, too.
    let mut body = token_request(user, password, json!({ "project": { "id": app.project_id } }));
    body["auth"]["identity"]["password"]["user"].as_object_mut().unwrap().remove("domain");
    let response = app.call(&Auth::Anonymous, Method::POST, "/v3/auth/tokens?nocatalog=true", Some(&body)).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
}

#[tokio::test]
async fn bad_logins_are_refused() {
    let app = spawn_app().await;
    let (user, password, project) = (&app.admin.user_name, &app.admin.password, &app.project_id);
    let wrong_password = app.request_token(user, &format!("{password}x"), project).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body["error"]["code"], 401);
    assert!(wrong_password.headers.get("x-subject-token").is_none());
    let unknown_user = app.request_token("nobody", password, project).await;
    assert_eq!(unknown_user.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.body, wrong_password.body, "no hint which part was wrong");

    let mut other_domain = token_request(user, password, json!({ "project": { "id": project } }));
    other_domain["auth"]["identity"]["password"]["user"]["domain"]["name"] = json!("someone_else");
    let response = app.call(&Auth::Anonymous, Method::POST, "/v3/auth/tokens", Some(&other_domain)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);

    let foreign = app.add_tenant("foreign").await;
    let not_a_member = app.request_token(user, password, &foreign.project_id).await;
    assert_eq!(not_a_member.status, StatusCode::FORBIDDEN, "{}", not_a_member.body);
    assert_eq!(not_a_member.body["error"]["code"], 403);
    let no_project = app.request_token(user, password, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(no_project.status, StatusCode::FORBIDDEN);

    let mut token_method = token_request(user, password, Value::Null);
    token_method["auth"]["identity"]["methods"] = json!(["token"]);
    let response = app.call(&Auth::Anonymous, Method::POST, "/v3/auth/tokens", Some(&token_method)).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    for body in [&b"{"[..], b"", b"[]", br#"{"auth": {}}"#, br#"{"auth":{"identity":{"methods":["password"]}}}"#] {
        let response = app.call_raw(&Auth::Anonymous, Method::POST, "/v3/auth/tokens", body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body:?}: {}", response.body);
    }
}

#[tokio::test]
async fn forged_and_expired_tokens_are_401() {
    let app = spawn_app().await;
    let path = app.inst("/api-groups");
    let token = app.token(&app.admin.user_name, &app.admin.password, &app.project_id).await;
    let (payload, mac) = token.split_once('.').unwrap();

    let now = portico_model::now().unix_timestamp();
    let claims = |issued_at: i64, expires_at: i64| TokenClaims {
        user_id: "u".into(),
        user_name: "admin".into(),
        project_id: app.project_id.clone(),
        readonly: false,
        issued_at,
        expires_at,
    };
    let expired = app.mint_token(&claims(now - 7200, now - 60));
    let just_expired = app.mint_token(&claims(now - 7200, now));
    let other_key = portico_auth::token::issue(&TokenKey::generate(), &claims(now, now + 3600));
    let forged_payload = format!("{}.{mac}", payload.chars().rev().collect::<String>());
    for bad in [
        "garbage".to_string(),
        String::new(),
        "a.b".into(),
        format!("{payload}."),
        format!("{payload}.{}", "A".repeat(mac.len())),
        forged_payload,
        format!("{token}x"),
        expired,
        just_expired,
        other_key,
    ] {
        assert_401(app.with_token(&bad, Method::GET, &path, None).await);
    }
    // The same claims with our key and a future expiry are fine.
    let fresh = app.mint_token(&claims(now, now + 3600));
    assert_eq!(app.with_token(&fresh, Method::GET, &path, None).await.status, StatusCode::OK);
    assert_eq!(app.with_token(&token, Method::GET, &path, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_for_one_project_is_403_on_another() {
    let app = spawn_app().await;
    let other = app.add_tenant("second").await;
    let token = app.token(&app.admin.user_name, &app.admin.password, &app.project_id).await;
    assert_403(app.with_token(&token, Method::GET, &other.inst("/api-groups"), None).await);
    assert_403(
        app.with_token(&token, Method::POST, &other.inst("/api-groups"), Some(&json!({ "name": "intruder" }))).await,
    );
    assert_403(app.with_token(&token, Method::GET, &format!("/v2/{}/apigw/instances", other.project_id), None).await);
    // The same with a signature: the admin is no member of the second project.
    assert_403(
        app.call(&Auth::sign(&app.admin, &other.project_id), Method::GET, &other.inst("/api-groups"), None).await,
    );
    // And the other way round.
    let theirs = app.token(&other.identity.user_name, &other.identity.password, &other.project_id).await;
    assert_403(app.with_token(&theirs, Method::GET, &app.inst("/api-groups"), None).await);
    assert_eq!(app.with_token(&theirs, Method::GET, &other.inst("/api-groups"), None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_user_of_two_projects_gets_a_token_per_project() {
    let app = spawn_app().await;
    let other = app.add_tenant("shared").await;
    let both = app.add_user("both_projects", &[&app.project_id, &other.project_id], false).await;
    let first = app.token(&both.user_name, &both.password, &app.project_id).await;
    let second = app.token(&both.user_name, &both.password, &other.project_id).await;
    assert_eq!(app.with_token(&first, Method::GET, &app.inst("/envs"), None).await.status, StatusCode::OK);
    assert_403(app.with_token(&first, Method::GET, &other.inst("/envs"), None).await);
    assert_eq!(app.with_token(&second, Method::GET, &other.inst("/envs"), None).await.status, StatusCode::OK);
    // Signatures are not scoped: the pair works on every project of its user.
    for (project, path) in [(&app.project_id, app.inst("/envs")), (&other.project_id, other.inst("/envs"))] {
        assert_eq!(app.call(&Auth::sign(&both, project), Method::GET, &path, None).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_read_only_user_may_read_but_not_write() {
    let app = spawn_app().await;
    let group = app.create_group().await;
    let group_id = group["id"].as_str().unwrap();
    let api = app.new_api(group_id).await;
    let api_id = api["id"].as_str().unwrap();
    let reader = app.add_user("reader", &[&app.project_id], true).await;

    let response = app.request_token(&reader.user_name, &reader.password, &app.project_id).await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.body["token"]["roles"][0]["name"], "readonly");
    let token = response.headers["x-subject-token"].to_str().unwrap().to_string();

    for auth in [Auth::Token(token), Auth::sign(&reader, &app.project_id)] {
        for path in [
            app.inst("/api-groups"),
            app.inst(&format!("/api-groups/{group_id}")),
            app.inst(&format!("/apis/{api_id}")),
            app.inst("/apis"),
            app.inst("/envs"),
            format!("/v2/{}/apigw/instances", app.project_id),
        ] {
            let response = app.call(&auth, Method::GET, &path, None).await;
            assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
        }
        let writes = [
            (Method::POST, app.inst("/api-groups"), json!({ "name": "by_reader" })),
            (Method::PUT, app.inst(&format!("/api-groups/{group_id}")), json!({ "name": "renamed_by_reader" })),
            (Method::DELETE, app.inst(&format!("/apis/{api_id}")), Value::Null),
            (
                Method::POST,
                app.inst("/apis/action"),
                json!({ "action": "online", "env_id": RELEASE, "api_id": api_id }),
            ),
            (Method::POST, app.inst("/envs"), json!({ "name": "reader_env" })),
            (
                Method::POST,
                format!("/v2/{}/apigw/instances", app.project_id),
                json!({ "instance_name": "reader_inst" }),
            ),
        ];
        for (method, path, body) in writes {
            let body = (!body.is_null()).then_some(&body);
            assert_403(app.call(&auth, method, &path, body).await);
        }
    }
    // Name and path checks change nothing, so a reader may make them.
    let auth = Auth::sign(&reader, &app.project_id);
    let check = json!({ "group_name": "free_name" });
    let response = app.call(&auth, Method::POST, &app.inst("/api-groups/check"), Some(&check)).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.body);
    let check = json!({ "group_id": group_id, "name": api["name"] });
    let response = app.call(&auth, Method::POST, &app.inst("/apis/check"), Some(&check)).await;
    assert_error(&response.pair(), StatusCode::CONFLICT, "APIG.3301");
    // Nothing was written.
    assert_eq!(app.api_details(api_id).await, api);
    let (_, groups) = app.get("/api-groups").await;
    assert_eq!(assert_list(&groups, "groups", 1, 1)[0]["name"], group["name"]);
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = spawn_app().await;
    // `send_raw` checks the header on every response; here, that ids differ.
    let mut ids = Vec::new();
    ids.push(app.signed(Method::GET, &app.inst("/api-groups"), None).await.request_id());
    ids.push(app.signed(Method::GET, &app.inst("/api-groups/nope"), None).await.request_id());
    ids.push(app.call(&Auth::Anonymous, Method::GET, &app.inst("/api-groups"), None).await.request_id());
    ids.push(app.signed_raw(Method::POST, &app.inst("/api-groups"), b"{").await.request_id());
    ids.push(app.call(&Auth::Anonymous, Method::GET, "/nowhere", None).await.request_id());
    ids.push(app.call(&Auth::Anonymous, Method::GET, "/health", None).await.request_id());
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_apig_shape() {
    let app = spawn_app().await;
    let missing = app.call(&Auth::Anonymous, Method::GET, "/v2/nothing/here", None).await.pair();
    assert_error(&missing, StatusCode::NOT_FOUND, "APIG.3000");
    let missing = app.signed(Method::GET, &app.inst("/no-such-collection"), None).await.pair();
    assert_error(&missing, StatusCode::NOT_FOUND, "APIG.3000");
    let wrong_method = app.signed(Method::PATCH, &app.inst("/api-groups"), None).await.pair();
    assert_error(&wrong_method, StatusCode::METHOD_NOT_ALLOWED, "APIG.2014");
    let wrong_method = app.signed(Method::DELETE, &app.inst("/apis"), None).await.pair();
    assert_error(&wrong_method, StatusCode::METHOD_NOT_ALLOWED, "APIG.2014");
}

/// Three failures per key, then one more a second: small enough to exhaust, short enough to
/// wait out.
fn small_failure_quota() -> portico_api::Quota {
    portico_api::Quota::with_period(std::time::Duration::from_secs(1))
        .unwrap()
        .allow_burst(std::num::NonZeroU32::new(3).unwrap())
}

/// `POST /v3/auth/tokens` for the admin from the loopback address `source`.
async fn login_from(app: &TestApp, source: &str, user: &str, password: &str) -> reqwest::Response {
    let client = reqwest::Client::builder().no_proxy().local_address(Some(source.parse().unwrap())).build().unwrap();
    let body = token_request(user, password, json!({ "project": { "id": app.project_id } }));
    client.post(format!("{}/v3/auth/tokens", app.address)).json(&body).send().await.expect("login")
}

/// Waits out a lockout (bounded in attempts), then returns the first answer that is not 429.
async fn after_the_lockout<F, Fut>(attempt: F) -> StatusCode
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    for _ in 0..50 {
        let status = attempt().await;
        if status != StatusCode::TOO_MANY_REQUESTS {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("still locked out after 50 attempts");
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_user_and_address() {
    let app = spawn_app_with(|state| state.with_auth_failure_quota(small_failure_quota())).await;
    let (user, password) = (app.admin.user_name.clone(), app.admin.password.clone());
    let mut refused = 0;
    let locked = loop {
        let response = login_from(&app, "127.0.0.1", &user, "wrong").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        refused += 1;
        assert!(refused < 30, "30 failed logins and no lockout");
    };
    assert!(refused >= 3, "locked out after {refused} failures; the quota allows 3");
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["code"], 429, "{body}");
    // Locked out means the right password is refused too: guessing learns nothing meanwhile.
    assert_eq!(login_from(&app, "127.0.0.1", &user, &password).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other users and other addresses are not locked out.
    let other = app.add_user(&format!("user_{}", unique()), &[&app.project_id], false).await;
    assert_eq!(login_from(&app, "127.0.0.1", &other.user_name, &other.password).await.status(), StatusCode::CREATED);
    assert_eq!(login_from(&app, "127.0.0.2", &user, &password).await.status(), StatusCode::CREATED);
    // The lockout ends by itself.
    let status = after_the_lockout(|| async { login_from(&app, "127.0.0.1", &user, &password).await.status() }).await;
    assert_eq!(status, StatusCode::CREATED);
}

/// The access key travels in clear: whoever saw it can send forged signatures with it. Their
/// failures must not shut its owner out; only the forgeries get 429.
#[tokio::test]
async fn failed_signatures_are_rate_limited_per_access_key() {
    let app = spawn_app_with(|state| state.with_auth_failure_quota(small_failure_quota())).await;
    let forged = Auth::Sign {
        access_key: app.admin.access_key.clone(),
        secret_key: "f".repeat(40),
        project_id: app.project_id.clone(),
        skew_secs: 0,
    };
    let path = app.inst("/api-groups");
    // Forgeries until the first 429, and how many were refused with 401 before it.
    let throttled = || async {
        let mut refused = 0;
        loop {
            let response = app.call(&forged, Method::GET, &path, None).await;
            if response.status == StatusCode::TOO_MANY_REQUESTS {
                return (refused, response);
            }
            assert_401(response);
            refused += 1;
            assert!(refused < 30, "30 forged signatures and no 429");
        }
    };
    let (refused, throttled_once) = throttled().await;
    assert!(refused >= 3, "throttled after {refused} failures; the quota allows 3");
    let error = throttled_once.body;
    assert_eq!(error["error_code"], "APIG.1010", "{error}");
    assert!(error["error_msg"].as_str().unwrap().contains("retry after"), "{error}");
    // The owner's valid signature, from the same address, is accepted at once, reads and writes.
    assert_eq!(app.signed(Method::GET, &path, None).await.status, StatusCode::OK);
    let (status, group) =
        app.signed(Method::POST, &path, Some(&json!({ "name": format!("grp_{}", unique()) }))).await.pair();
    assert_eq!(status, StatusCode::CREATED, "{group}");
    // Forgeries are still throttled (after a 401 or two if the quota refilled meanwhile), and
    // told how long to wait.
    let (_, forged_again) = throttled().await;
    let retry_after: u64 = forged_again.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry_after, 1, "the quota refills one failure a second");
    assert_eq!(forged_again.body["error_code"], "APIG.1010", "{}", forged_again.body);
    // Another access key is not throttled.
    let other = app.add_user(&format!("user_{}", unique()), &[&app.project_id], false).await;
    let other_forged = Auth::Sign {
        access_key: other.access_key.clone(),
        secret_key: "f".repeat(40),
        project_id: app.project_id.clone(),
        skew_secs: 0,
    };
    assert_401(app.call(&other_forged, Method::GET, &path, None).await);
    // The throttle ends by itself: a forgery gets its 401 again.
    let status = after_the_lockout(|| async { app.call(&forged, Method::GET, &path, None).await.status }).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
