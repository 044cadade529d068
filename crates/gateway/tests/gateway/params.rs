//! Frontend parameters end to end: required, validation, defaults, mapping, pass-through.

use serde_json::json;

use crate::helpers::{http_api, spawn_backend, spawn_gateway};

fn api(backend: &str) -> serde_json::Value {
    let mut api = http_api("/items/{id}", backend, "/v1/items/{bid}");
    api["req_params"] = json!([
        { "name": "id", "type": "NUMBER", "location": "PATH", "valid_enable": 1, "min_num": 1, "max_num": 1000 },
        { "name": "q", "type": "STRING", "location": "QUERY", "default_value": "all", "required": 2 },
        { "name": "color", "type": "STRING", "location": "QUERY", "required": 2, "valid_enable": 1,
          "enumerations": "red,green" },
        { "name": "name", "type": "STRING", "location": "QUERY", "required": 2, "valid_enable": 1,
          "min_size": 2, "max_size": 4 },
        { "name": "X-Trace", "type": "STRING", "location": "HEADER", "required": 1 },
        { "name": "secret", "type": "STRING", "location": "QUERY", "required": 2, "pass_through": 2 },
        { "name": "lang", "type": "STRING", "location": "HEADER", "required": 2, "default_value": "en" }
    ]);
    api["backend_params"] = json!([
        { "origin": "REQUEST", "name": "bid", "location": "PATH", "value": "id" },
        { "origin": "REQUEST", "name": "search", "location": "QUERY", "value": "q" },
        { "origin": "REQUEST", "name": "X-Trace-Id", "location": "HEADER", "value": "X-Trace" },
        { "origin": "CONSTANT", "name": "X-Const", "location": "HEADER", "value": "c1" },
        { "origin": "SYSTEM", "name": "X-Src", "location": "HEADER", "value": "$context.sourceIp" },
        { "origin": "SYSTEM", "name": "X-Api", "location": "HEADER", "value": "$context.apiId" },
        { "origin": "SYSTEM", "name": "X-Req", "location": "HEADER", "value": "$context.requestId" },
        { "origin": "SYSTEM", "name": "stage", "location": "QUERY", "value": "$context.stage" }
    ]);
    api
}

#[tokio::test]
async fn parameters_are_mapped_defaulted_and_filtered() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let id = gw.live_api(&group, api(&backend)).await;
    let host = group.sl_domain.as_str();

    let r = gw.get(host, "/items/42?color=red&secret=s3&free=1", &[("x-trace", "t-1")]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("x-backend"), Some("b"), "the backend's headers are relayed");
    assert_eq!(r.header("keep-alive"), None, "but not its hop-by-hop ones");
    let uri = r.body["uri"].as_str().unwrap();
    assert!(uri.starts_with("/v1/items/42?"), "{uri}");
    for expected in ["color=red", "free=1", "search=all", "stage=RELEASE"] {
        assert!(uri.contains(expected), "{expected} in {uri}");
    }
    assert!(!uri.contains("secret"), "pass_through 2 is not forwarded: {uri}");
    assert!(!uri.contains("q="), "a mapped parameter is renamed, not repeated: {uri}");
    let h = &r.body["headers"];
    assert_eq!(h["x-trace-id"], "t-1");
    assert!(h.get("x-trace").is_none(), "{h}");
    assert_eq!(h["x-const"], "c1");
    assert_eq!(h["x-src"], "127.0.0.1");
    assert_eq!(h["x-api"], id.as_str());
    assert_eq!(h["x-req"].as_str(), r.header("x-request-id"));
    assert_eq!(h["lang"], "en", "the default of an absent pass-through header is sent");
    assert_eq!(h["host"].as_str(), Some(backend.as_str()));
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
}

#[tokio::test]
async fn invalid_and_missing_parameters_are_rejected() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    gw.live_api(&group, api(&backend)).await;
    let host = group.sl_domain.as_str();
    let trace = [("x-trace", "t")];

    let msg = gw.get(host, "/items/42", &[]).await.assert_error(400, "APIG.0102");
    assert_eq!(msg, "parameter X-Trace (HEADER) is required");
    let msg = gw.get(host, "/items/abc", &trace).await.assert_error(400, "APIG.0103");
    assert_eq!(msg, "parameter id (PATH) is invalid: not a number");
    let msg = gw.get(host, "/items/1001", &trace).await.assert_error(400, "APIG.0103");
    assert!(msg.ends_with("greater than 1000"), "{msg}");
    let msg = gw.get(host, "/items/1?color=blue", &trace).await.assert_error(400, "APIG.0103");
    assert!(msg.ends_with("not one of red,green"), "{msg}");
    let msg = gw.get(host, "/items/1?name=abcde", &trace).await.assert_error(400, "APIG.0103");
    assert!(msg.ends_with("longer than 4 characters"), "{msg}");
    assert_eq!(gw.get(host, "/items/1?name=abc&color=green", &trace).await.status, 200);
}
