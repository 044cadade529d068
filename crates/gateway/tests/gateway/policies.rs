//! Policies enforced by the gateway: APP authentication (signatures, AppCodes, authorizations),
//! request throttling, ACLs and gateway responses, each set up through the store as the
//! management API does, then exercised with real requests.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use portico_auth::signature::{self, RequestParts};
use portico_model::{
    Acl, App, AppCode, AppSecret, GatewayResponse, ResponseHeader, ResponseInfo, Throttle, ThrottleSpecial, new_id, now,
};
use portico_store::PolicyKind;
use serde_json::{Value, json};

use crate::helpers::{RELEASE, Reply, TestGateway, http_api, spawn_backend, spawn_gateway};

/// An app of the gateway's instance: (id, key, secret).
pub(crate) async fn app(gw: &TestGateway) -> (String, String, String) {
    let t = now();
    let app = App {
        id: new_id(),
        name: format!("app_{}", &new_id()[..8]),
        remark: None,
        creator: "USER".into(),
        app_key: new_id(),
        status: 1,
        app_type: "apig".into(),
        register_time: t,
        update_time: t,
        related_domain_id: None,
        related_project_id: None,
    };
    let secret = new_id();
    gw.store.create_app(&gw.instance_id, &app, &AppSecret(secret.clone())).await.expect("create app");
    (app.id, app.app_key, secret)
}

pub(crate) async fn authorize(gw: &TestGateway, app_id: &str, api_id: &str) {
    let outcome = gw
        .store
        .authorize_apps(&gw.instance_id, RELEASE, &[app_id.to_string()], &[api_id.to_string()], now())
        .await
        .expect("authorize");
    assert!(format!("{outcome:?}").contains(api_id), "{outcome:?}");
}

/// Creates and publishes an API in RELEASE; returns (api id, publish id) once the gateway serves it.
pub(crate) async fn published(gw: &TestGateway, group: &portico_model::ApiGroup, body: Value) -> (String, String) {
    let id = gw.api(group, body).await;
    let publish_id = gw.publish(&id, RELEASE).await;
    gw.settle().await;
    (id, publish_id)
}

/// `GET path` signed with `key`/`secret` the way the SDK signs (`Host`, `X-Sdk-Date`).
async fn signed_get(gw: &TestGateway, host: &str, path: &str, key: &str, secret: &str) -> Reply {
    let date = now().format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(host).unwrap());
    headers.insert("x-sdk-date", HeaderValue::from_str(&date).unwrap());
    let (raw_path, raw_query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let request = RequestParts { method: "GET", raw_path, raw_query, headers: &headers, body: b"" };
    let authorization = signature::sign(&request, key, secret);
    gw.get(host, path, &[("x-sdk-date", &date), ("authorization", &authorization)]).await
}

#[tokio::test]
async fn app_signatures_must_come_from_an_authorized_app() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut body = http_api("/app", &backend, "/");
    body["auth_type"] = json!("APP");
    body["backend_params"] = json!([{ "name": "x-app", "location": "HEADER", "origin": "SYSTEM",
                                       "value": "$context.appId" }]);
    let (api_id, _) = published(&gw, &group, body).await;
    let host = group.sl_domain.as_str();
    let (app_id, key, secret) = app(&gw).await;
    gw.settle().await;

    let msg = gw.get(host, "/app", &[]).await.assert_error(401, "APIG.0303");
    assert!(msg.contains("no signature"), "{msg}");
    signed_get(&gw, host, "/app", &key, "wrong-secret").await.assert_error(401, "APIG.0304");
    signed_get(&gw, host, "/app", "unknown-key", &secret).await.assert_error(401, "APIG.0304");
    let msg = signed_get(&gw, host, "/app", &key, &secret).await.assert_error(403, "APIG.0305");
    assert!(msg.contains(&app_id), "{msg}");

    authorize(&gw, &app_id, &api_id).await;
    gw.settle().await;
    let reply = signed_get(&gw, host, "/app?b=2&a=1", &key, &secret).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["headers"]["x-app"], app_id.as_str(), "the backend learns the app");
    // A signature covers the query: changing it after signing breaks it.
    let date = now().format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(host).unwrap());
    headers.insert("x-sdk-date", HeaderValue::from_str(&date).unwrap());
    let request =
        RequestParts { method: "GET", raw_path: "/app", raw_query: Some("a=1"), headers: &headers, body: b"" };
    let authorization = signature::sign(&request, &key, &secret);
    gw.get(host, "/app?a=2", &[("x-sdk-date", &date), ("authorization", &authorization)])
        .await
        .assert_error(401, "APIG.0304");

    // Authorized in RELEASE only: the same API published in another environment refuses it.
    let beta = gw.env("beta").await;
    gw.publish(&api_id, &beta).await;
    gw.settle().await;
    let stage_date = date.clone();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(host).unwrap());
    headers.insert("x-sdk-date", HeaderValue::from_str(&stage_date).unwrap());
    headers.insert("x-stage", HeaderValue::from_static("beta"));
    let request = RequestParts { method: "GET", raw_path: "/app", raw_query: None, headers: &headers, body: b"" };
    let authorization = signature::sign(&request, &key, &secret);
    gw.get(host, "/app", &[("x-sdk-date", &stage_date), ("x-stage", "beta"), ("authorization", &authorization)])
        .await
        .assert_error(403, "APIG.0305");
}

#[tokio::test]
async fn app_codes_when_the_api_enables_them() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut with_codes = http_api("/coded", &backend, "/");
    with_codes["auth_type"] = json!("APP");
    with_codes["auth_opt"] = json!({ "app_code_auth_type": "HEADER" });
    let (coded, _) = published(&gw, &group, with_codes).await;
    let mut without = http_api("/signed", &backend, "/");
    without["auth_type"] = json!("APP");
    let (signed, _) = published(&gw, &group, without).await;
    let (app_id, _, _) = app(&gw).await;
    let code = format!("{}{}", new_id(), new_id());
    let app_code = AppCode { id: new_id(), app_id: app_id.clone(), app_code: code.clone(), create_time: now() };
    gw.store.create_app_code(&gw.instance_id, &app_code).await.expect("create AppCode");
    authorize(&gw, &app_id, &coded).await;
    authorize(&gw, &app_id, &signed).await;
    gw.settle().await;
    let host = group.sl_domain.as_str();

    assert_eq!(gw.get(host, "/coded", &[("x-apig-appcode", &code)]).await.status, 200);
    gw.get(host, "/coded", &[("x-apig-appcode", "not-a-code")]).await.assert_error(401, "APIG.0304");
    let msg = gw.get(host, "/signed", &[("x-apig-appcode", &code)]).await.assert_error(401, "APIG.0304");
    assert!(msg.contains("does not accept AppCodes"), "{msg}");
}

fn throttle(api: i64, app: i64, ip: i64, kind: i32, interval: i64, unit: &str) -> Throttle {
    Throttle {
        id: new_id(),
        name: format!("throttle_{}", &new_id()[..8]),
        api_call_limits: api,
        user_call_limits: 0,
        app_call_limits: app,
        ip_call_limits: ip,
        time_interval: interval,
        time_unit: unit.into(),
        throttle_type: kind,
        enable_adaptive_control: "FALSE".into(),
        remark: None,
        create_time: now(),
    }
}

pub(crate) async fn bind(gw: &TestGateway, kind: PolicyKind, policy_id: &str, publish_ids: &[&str]) {
    let ids: Vec<String> = publish_ids.iter().map(|s| s.to_string()).collect();
    gw.store.bind_policy(&gw.instance_id, kind, policy_id, &ids, now()).await.expect("bind");
    gw.settle().await;
}

async fn statuses(gw: &TestGateway, host: &str, path: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(gw.get(host, path, &[]).await.status.as_u16());
    }
    out
}

#[tokio::test]
async fn throttling_per_api_shared_and_per_app() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let (_, a) = published(&gw, &group, http_api("/a", &backend, "/")).await;
    let (_, b) = published(&gw, &group, http_api("/b", &backend, "/")).await;
    let (_, c) = published(&gw, &group, http_api("/c", &backend, "/")).await;
    let (_, d) = published(&gw, &group, http_api("/d", &backend, "/")).await;

    let basic = throttle(2, 0, 0, 1, 1, "HOUR");
    gw.store.create_throttle(&gw.instance_id, &basic).await.unwrap();
    bind(&gw, PolicyKind::Throttle, &basic.id, &[&a, &b]).await;
    assert_eq!(statuses(&gw, host, "/a", 3).await, [200, 200, 429]);
    assert_eq!(statuses(&gw, host, "/b", 3).await, [200, 200, 429], "a basic policy counts each API apart");
    let msg = gw.get(host, "/a", &[]).await.assert_error(429, "APIG.0308");
    assert!(msg.contains("API call limit"), "{msg}");

    let shared = throttle(3, 0, 0, 2, 1, "HOUR");
    gw.store.create_throttle(&gw.instance_id, &shared).await.unwrap();
    bind(&gw, PolicyKind::Throttle, &shared.id, &[&c, &d]).await;
    assert_eq!(statuses(&gw, host, "/c", 2).await, [200, 200]);
    assert_eq!(statuses(&gw, host, "/d", 2).await, [200, 429], "a shared policy counts its APIs together");

    // The counts survive a reload of the route table caused by an unrelated write.
    gw.group().await;
    gw.settle().await;
    assert_eq!(statuses(&gw, host, "/a", 1).await, [429]);
}

#[tokio::test]
async fn throttling_windows_end() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let (_, p) = published(&gw, &group, http_api("/w", &backend, "/")).await;
    let policy = throttle(1, 0, 0, 1, 1, "SECOND");
    gw.store.create_throttle(&gw.instance_id, &policy).await.unwrap();
    bind(&gw, PolicyKind::Throttle, &policy.id, &[&p]).await;
    let mut refused = false;
    for _ in 0..20 {
        if gw.get(host, "/w", &[]).await.status == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "one call per second cannot let 20 calls through");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(gw.get(host, "/w", &[]).await.status, 200, "a new window");
}

#[tokio::test]
async fn throttling_apps_with_special_limits() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let mut body = http_api("/apps", &backend, "/");
    body["auth_type"] = json!("APP");
    body["auth_opt"] = json!({ "app_code_auth_type": "HEADER" });
    let (api_id, p) = published(&gw, &group, body).await;
    let mut codes = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (app_id, _, _) = app(&gw).await;
        let code = format!("{}{}", new_id(), new_id());
        let app_code = AppCode { id: new_id(), app_id: app_id.clone(), app_code: code.clone(), create_time: now() };
        gw.store.create_app_code(&gw.instance_id, &app_code).await.unwrap();
        authorize(&gw, &app_id, &api_id).await;
        codes.push(code);
        ids.push(app_id);
    }
    let policy = throttle(100, 1, 0, 1, 1, "HOUR");
    gw.store.create_throttle(&gw.instance_id, &policy).await.unwrap();
    let special = ThrottleSpecial {
        id: new_id(),
        throttle_id: policy.id.clone(),
        object_type: "APP".into(),
        object_id: ids[1].clone(),
        object_name: String::new(),
        call_limits: 3,
        apply_time: now(),
    };
    gw.store.create_special(&gw.instance_id, &special).await.unwrap();
    bind(&gw, PolicyKind::Throttle, &policy.id, &[&p]).await;
    let call = |i: usize| {
        let code = codes[i].clone();
        let gw = &gw;
        async move { gw.get(host, "/apps", &[("x-apig-appcode", &code)]).await.status.as_u16() }
    };
    assert_eq!([call(0).await, call(0).await], [200, 429]);
    assert_eq!([call(1).await, call(1).await, call(1).await, call(1).await], [200, 200, 200, 429]);
    let reply = gw.get(host, "/apps", &[("x-apig-appcode", &codes[0])]).await;
    let msg = reply.assert_error(429, "APIG.0308");
    assert!(msg.contains("app call limit"), "{msg}");
}

#[tokio::test]
async fn the_apps_of_a_tenant_share_its_user_limit() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let mut body = http_api("/owned", &backend, "/");
    body["auth_type"] = json!("APP");
    body["auth_opt"] = json!({ "app_code_auth_type": "HEADER" });
    let (api_id, p) = published(&gw, &group, body).await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        let (app_id, _, _) = app(&gw).await;
        let code = format!("{}{}", new_id(), new_id());
        let app_code = AppCode { id: new_id(), app_id: app_id.clone(), app_code: code.clone(), create_time: now() };
        gw.store.create_app_code(&gw.instance_id, &app_code).await.unwrap();
        authorize(&gw, &app_id, &api_id).await;
        codes.push(code);
    }
    let policy = Throttle { user_call_limits: 3, ..throttle(100, 0, 0, 1, 1, "HOUR") };
    gw.store.create_throttle(&gw.instance_id, &policy).await.unwrap();
    bind(&gw, PolicyKind::Throttle, &policy.id, &[&p]).await;
    let call = |i: usize| {
        let code = codes[i].clone();
        let gw = &gw;
        async move { gw.get(host, "/owned", &[("x-apig-appcode", &code)]).await }
    };
    let mut statuses = Vec::new();
    for i in [0, 1, 0, 1] {
        statuses.push(call(i).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429], "both apps count against their tenant");
    let msg = call(0).await.assert_error(429, "APIG.0308");
    assert!(msg.contains("user call limit"), "{msg}");
}

pub(crate) fn acl(acl_type: &str, entity_type: &str, value: &str) -> Acl {
    Acl {
        id: new_id(),
        acl_name: format!("acl_{}", &new_id()[..8]),
        acl_type: acl_type.into(),
        acl_value: value.into(),
        entity_type: entity_type.into(),
        update_time: now(),
    }
}

#[tokio::test]
async fn acls_by_address_and_by_account() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let mut iam = http_api("/iam", &backend, "/");
    iam["auth_type"] = json!("IAM");
    let (_, permit_other) = published(&gw, &group, http_api("/permit-other", &backend, "/")).await;
    let (_, permit_loopback) = published(&gw, &group, http_api("/permit-loopback", &backend, "/")).await;
    let (_, deny_loopback) = published(&gw, &group, http_api("/deny-loopback", &backend, "/")).await;
    let (_, deny_other) = published(&gw, &group, http_api("/deny-other", &backend, "/")).await;
    let (_, iam_permit) = published(&gw, &group, iam.clone()).await;
    iam["req_uri"] = json!("/iam-denied");
    let (_, iam_deny) = published(&gw, &group, iam).await;
    let (_, anonymous_permit) = published(&gw, &group, http_api("/anonymous", &backend, "/")).await;

    for (acl, publish_id) in [
        (acl("PERMIT", "IP", "10.0.0.0/8,192.168.0.1-192.168.0.9"), &permit_other),
        (acl("PERMIT", "IP", "10.0.0.1,127.0.0.0/8"), &permit_loopback),
        (acl("DENY", "IP", "127.0.0.1"), &deny_loopback),
        (acl("DENY", "IP", "10.0.0.0/8"), &deny_other),
        (acl("PERMIT", "DOMAIN", "portico"), &iam_permit),
        (acl("DENY", "DOMAIN_ID", "portico"), &iam_deny),
        (acl("PERMIT", "DOMAIN", "portico"), &anonymous_permit),
    ] {
        gw.store.create_acl(&gw.instance_id, &acl).await.unwrap();
        bind(&gw, PolicyKind::Acl, &acl.id, &[publish_id]).await;
    }
    let msg = gw.get(host, "/permit-other", &[]).await.assert_error(403, "APIG.0306");
    assert!(msg.contains("127.0.0.1"), "{msg}");
    assert_eq!(gw.get(host, "/permit-loopback", &[]).await.status, 200);
    gw.get(host, "/deny-loopback", &[]).await.assert_error(403, "APIG.0306");
    assert_eq!(gw.get(host, "/deny-other", &[]).await.status, 200);
    let token = gw.token(&gw.project_id);
    assert_eq!(gw.get(host, "/iam", &[("x-auth-token", &token)]).await.status, 200);
    gw.get(host, "/iam-denied", &[("x-auth-token", &token)]).await.assert_error(403, "APIG.0307");
    // Authentication comes before an account ACL: no token is an authentication failure.
    gw.get(host, "/iam-denied", &[]).await.assert_error(401, "APIG.0301");
    // A caller without an account is not on a PERMIT list of accounts.
    gw.get(host, "/anonymous", &[]).await.assert_error(403, "APIG.0307");
}

#[tokio::test]
async fn gateway_responses_shape_the_errors_of_a_group() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let t = now();
    let info = |status: u16, body: &str| ResponseInfo { status, body: body.into(), headers: vec![] };
    let mut custom = BTreeMap::new();
    custom.insert(
        "ACCESS_DENIED".to_string(),
        ResponseInfo {
            status: 418,
            body: r#"{"code":"$context.error.code","why":"$context.error.message","id":"$context.requestId","api":"$context.apiId"}"#.into(),
            headers: vec![ResponseHeader { key: "x-denied".into(), value: "yes".into() }],
        },
    );
    custom.insert("DEFAULT_4XX".to_string(), info(499, "client trouble: $context.error.type"));
    let named = GatewayResponse {
        id: new_id(),
        group_id: group.id.clone(),
        name: "strict".into(),
        responses: custom,
        create_time: t,
        update_time: t,
    };
    gw.store.create_gateway_response(&gw.instance_id, &named).await.unwrap();
    let mut default_types = BTreeMap::new();
    default_types.insert("ACCESS_DENIED".to_string(), info(403, "default says no"));
    default_types.insert("NOT_FOUND".to_string(), info(404, r#"{"missing":"$context.error.message"}"#));
    let default = GatewayResponse {
        id: new_id(),
        group_id: group.id.clone(),
        name: "default".into(),
        responses: default_types,
        create_time: t,
        update_time: t,
    };
    gw.store.create_gateway_response(&gw.instance_id, &default).await.unwrap();

    let mut strict = http_api("/strict/{id}", &backend, "/");
    strict["response_id"] = json!(named.id);
    strict["req_params"] = json!([{ "name": "id", "location": "PATH", "type": "NUMBER", "valid_enable": 1,
                                    "required": 1 }]);
    let (strict_id, strict_pub) = published(&gw, &group, strict).await;
    let (_, plain_pub) = published(&gw, &group, http_api("/plain", &backend, "/")).await;
    let deny = acl("DENY", "IP", "127.0.0.0/8");
    gw.store.create_acl(&gw.instance_id, &deny).await.unwrap();
    bind(&gw, PolicyKind::Acl, &deny.id, &[&strict_pub, &plain_pub]).await;

    let reply = gw.get(host, "/strict/1", &[]).await;
    assert_eq!(reply.status, 418, "{:?}", reply.body);
    assert_eq!(reply.header("x-denied"), Some("yes"));
    assert_eq!(reply.body["code"], "APIG.0306");
    assert_eq!(reply.body["id"].as_str(), reply.header("x-request-id"));
    assert_eq!(reply.body["api"], strict_id.as_str());
    assert!(reply.body["why"].as_str().unwrap().contains("127.0.0.1"), "{:?}", reply.body);

    let reply = gw.get(host, "/plain", &[]).await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (403, Some("default says no")), "the group's default");

    // Without the ACL, a bad parameter falls back to the customised DEFAULT_4XX (its body, the
    // error's own status).
    let bindings = gw
        .store
        .list_bound_apis(&gw.instance_id, PolicyKind::Acl, &deny.id, &Default::default(), Default::default())
        .await
        .unwrap();
    let ids: Vec<String> = bindings.items.iter().map(|b| b.binding.id.clone()).collect();
    gw.store.unbind_policies(&gw.instance_id, PolicyKind::Acl, &ids).await.unwrap();
    gw.settle().await;
    let reply = gw.get(host, "/strict/x", &[]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body, "client trouble: REQUEST_PARAMETERS_FAILURE");
    // Other APIs of the group without customised types keep the standard body.
    assert_eq!(gw.get(host, "/plain", &[]).await.status, 200);
    // A request that reaches the group but none of its APIs is shaped by the group's default.
    let reply = gw.get(host, "/nowhere", &[]).await;
    assert_eq!(reply.status, 404);
    assert!(reply.body["missing"].as_str().unwrap().contains("/nowhere"), "{:?}", reply.body);
    let reply = gw.get(host, "/plain", &[("x-stage", "NOWHERE")]).await;
    assert!(reply.body["missing"].as_str().unwrap().contains("NOWHERE"), "{:?}", reply.body);
    // A host no group answers for has no gateway response: the standard body.
    gw.get("unknown.apig.test", "/nowhere", &[]).await.assert_error(404, "APIG.0101");
}

#[tokio::test]
async fn bound_signature_keys_sign_the_backend_request() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let host = group.sl_domain.as_str();
    let (_, hmac_pub) = published(&gw, &group, http_api("/hmac", &backend, "/signed")).await;
    let (_, basic_pub) = published(&gw, &group, http_api("/basic", &backend, "/basic")).await;
    let t = now();
    let key = |sign_type: &str, secret: &str| portico_model::Signature {
        id: new_id(),
        name: format!("sign_{}", &new_id()[..8]),
        sign_type: sign_type.into(),
        sign_key: format!("key_{}", &new_id()[..8]),
        sign_secret: secret.into(),
        sign_algorithm: None,
        create_time: t,
        update_time: t,
    };
    let hmac = key("hmac", "hmac_secret_0123456789");
    let basic = key("basic", "basic_secret_01");
    for (signature, publish_id) in [(&hmac, &hmac_pub), (&basic, &basic_pub)] {
        gw.store.create_signature(&gw.instance_id, signature).await.unwrap();
        bind(&gw, PolicyKind::Sign, &signature.id, &[publish_id]).await;
    }

    let reply = gw.call(reqwest::Method::GET, host, "/hmac?x=1", &[("authorization", "client's own")], "").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let seen = &reply.body["headers"];
    let authorization = seen["authorization"].as_str().unwrap();
    let parsed = signature::parse_authorization(authorization).expect("an SDK-HMAC-SHA256 signature");
    assert_eq!(parsed.access_key, hmac.sign_key);
    let mut headers = HeaderMap::new();
    for name in ["host", "x-sdk-date"] {
        headers.insert(name, HeaderValue::from_str(seen[name].as_str().unwrap()).unwrap());
    }
    let received =
        RequestParts { method: "GET", raw_path: "/signed", raw_query: Some("x=1"), headers: &headers, body: b"" };
    signature::verify(&received, &parsed, &hmac.sign_secret, now()).expect("the backend can verify it");

    let reply = gw.get(host, "/basic", &[]).await;
    let expected = format!("{}:{}", basic.sign_key, basic.sign_secret);
    use base64::Engine;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(expected));
    assert_eq!(reply.body["headers"]["authorization"], expected.as_str());
}
