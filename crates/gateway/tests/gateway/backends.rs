//! Backends: HTTP (timeouts, failures, retries), MOCK, FUNCTION, backend policies.

use std::collections::HashMap;

use serde_json::json;

use crate::helpers::{closed_port, http_api, spawn_backend, spawn_gateway, spawn_gateway_with};

#[tokio::test]
async fn mock_backend_answers_its_content() {
    let gw = spawn_gateway().await;
    let group = gw.group().await;
    gw.live_api(
        &group,
        json!({ "req_method": "GET", "req_uri": "/mock", "backend_type": "MOCK",
                "mock_info": { "result_content": "{\"hello\":\"world\"}" } }),
    )
    .await;
    let r = gw.get(&group.sl_domain, "/mock", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({ "hello": "world" }));
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn unreachable_and_slow_backends() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    gw.live_api(&group, http_api("/down", &closed_port().await.to_string(), "/")).await;
    let mut slow = http_api("/slow", &backend, "/slow");
    slow["backend_api"]["timeout"] = json!(100);
    slow["backend_api"]["retry_count"] = json!("0");
    gw.live_api(&group, slow).await;

    let msg = gw.get(&group.sl_domain, "/down", &[]).await.assert_error(502, "APIG.0201");
    assert!(msg.starts_with("backend unavailable"), "{msg}");
    let msg = gw.get(&group.sl_domain, "/slow", &[]).await.assert_error(504, "APIG.0202");
    assert_eq!(msg, "backend timed out after 100 ms");
}

#[tokio::test]
async fn backend_policies_choose_the_backend() {
    let gw = spawn_gateway().await;
    let (main, canary) = (spawn_backend("main").await.to_string(), spawn_backend("canary").await.to_string());
    let group = gw.group().await;
    let mut api = http_api("/p", &main, "/main");
    api["req_params"] = json!([{ "name": "user", "type": "STRING", "location": "QUERY" }]);
    api["policy_https"] = json!([
        { "name": "by_param", "effect_mode": "ALL", "url_domain": canary, "req_protocol": "HTTP",
          "req_method": "GET", "req_uri": "/by-param",
          "conditions": [{ "condition_origin": "param", "req_param_name": "user", "condition_type": "pattern",
                           "condition_value": "^vip-" }],
          "backend_params": [{ "origin": "CONSTANT", "name": "X-Policy", "location": "HEADER", "value": "param" }] },
        { "name": "by_cookie", "effect_mode": "ANY", "url_domain": canary, "req_protocol": "HTTP",
          "req_method": "GET", "req_uri": "/by-cookie",
          "conditions": [
              { "condition_origin": "cookie", "cookie_param_name": "lane", "condition_type": "exact",
                "condition_value": "canary" },
              { "condition_origin": "source", "condition_value": "203.0.113.0/24" }] },
        { "name": "by_system", "effect_mode": "ALL", "url_domain": canary, "req_protocol": "HTTP",
          "req_method": "GET", "req_uri": "/by-system",
          "conditions": [
              { "condition_origin": "system", "sys_param_name": "req_method", "condition_type": "enum",
                "condition_value": "GET,HEAD" },
              { "condition_origin": "source", "condition_value": "127.0.0.0/8" },
              { "condition_origin": "param", "req_param_name": "user", "condition_type": "exact",
                "condition_value": "loopback" }] }
    ]);
    gw.live_api(&group, api).await;
    let host = group.sl_domain.as_str();

    let r = gw.get(host, "/p?user=vip-1", &[]).await;
    assert_eq!((r.header("x-backend"), r.body["uri"].as_str()), (Some("canary"), Some("/by-param?user=vip-1")));
    assert_eq!(r.body["headers"]["x-policy"], "param");
    let r = gw.get(host, "/p", &[("cookie", "a=b; lane=canary")]).await;
    assert_eq!(r.body["uri"], "/by-cookie");
    let r = gw.get(host, "/p?user=loopback", &[]).await;
    assert_eq!(r.body["uri"], "/by-system?user=loopback");
    let r = gw.get(host, "/p?user=someone", &[("cookie", "lane=main")]).await;
    assert_eq!((r.header("x-backend"), r.body["uri"].as_str()), (Some("main"), Some("/main?user=someone")));
    assert!(r.body["headers"].get("x-policy").is_none());
}

#[tokio::test]
async fn functions_map_to_configured_endpoints() {
    let endpoint = spawn_backend("function").await;
    let functions = HashMap::from([(
        "urn:fss:r1:p:function:default:hello:latest".to_string(),
        format!("http://{endpoint}/invoke"),
    )]);
    let gw = spawn_gateway_with(functions).await;
    let group = gw.group().await;
    let function = |urn: &str, uri: &str| {
        json!({ "req_method": "POST", "req_uri": uri, "backend_type": "FUNCTION",
                "func_info": { "function_urn": urn, "invocation_type": "sync", "network_type": "V1",
                               "version": "latest", "timeout": 5000 } })
    };
    gw.live_api(&group, function("urn:fss:r1:p:function:default:hello", "/fn")).await;
    gw.live_api(&group, function("urn:fss:r1:p:function:default:other", "/other")).await;

    let r = gw.call(reqwest::Method::POST, &group.sl_domain, "/fn?a=1", &[], "payload").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((r.body["method"].as_str(), r.body["uri"].as_str()), (Some("POST"), Some("/invoke?a=1")));
    assert_eq!(r.body["body"], "payload");
    let msg = gw.call(reqwest::Method::POST, &group.sl_domain, "/other", &[], "").await.assert_error(501, "APIG.0204");
    assert!(msg.contains("urn:fss:r1:p:function:default:other"), "{msg}");
}

/// A backend whose first `drops` connections are closed before any response; later ones are
/// served by an echo backend behind it.
async fn flaky_backend(drops: usize) -> std::net::SocketAddr {
    let echo = spawn_backend("flaky").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            seen += 1;
            if seen <= drops {
                // Read the request, then hang up without answering.
                let mut buf = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut client, &mut buf).await;
                drop(client);
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(echo).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn retries_follow_retry_count() {
    let gw = spawn_gateway().await;
    let group = gw.group().await;
    let host = group.sl_domain.clone();
    let api = |uri: &str, method: &str, retry: &str, backend: std::net::SocketAddr| {
        let mut api = http_api(uri, &backend.to_string(), "/");
        api["req_method"] = json!(method);
        api["backend_api"]["req_method"] = json!(method);
        api["backend_api"]["retry_count"] = json!(retry);
        api
    };
    // Default (-1): an idempotent GET is retried once, a POST is not.
    gw.live_api(&group, api("/get", "GET", "-1", flaky_backend(1).await)).await;
    assert_eq!(gw.get(&host, "/get", &[]).await.status, 200);
    gw.live_api(&group, api("/post", "POST", "-1", flaky_backend(1).await)).await;
    gw.call(reqwest::Method::POST, &host, "/post", &[], "x").await.assert_error(502, "APIG.0201");
    // 0: never; 2: any method, up to twice.
    gw.live_api(&group, api("/never", "GET", "0", flaky_backend(1).await)).await;
    gw.get(&host, "/never", &[]).await.assert_error(502, "APIG.0201");
    gw.live_api(&group, api("/twice", "POST", "2", flaky_backend(2).await)).await;
    let r = gw.call(reqwest::Method::POST, &host, "/twice", &[], "body").await;
    assert_eq!((r.status.as_u16(), r.body["body"].as_str()), (200, Some("body")), "the body is sent again");
}

#[tokio::test]
async fn request_bodies_are_limited() {
    let config = portico_gateway::GatewayConfig { max_body_bytes: 16, ..Default::default() };
    let gw = crate::helpers::spawn_gateway_config(config).await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut api = http_api("/up", &backend, "/");
    api["req_method"] = json!("POST");
    gw.live_api(&group, api).await;
    assert_eq!(gw.call(reqwest::Method::POST, &group.sl_domain, "/up", &[], "small").await.status, 200);
    gw.call(reqwest::Method::POST, &group.sl_domain, "/up", &[], &"x".repeat(17)).await.assert_error(413, "APIG.0104");
}
