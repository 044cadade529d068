//! Request bodies: streamed to the backend when no phase needs them whole,
//! held whole within a budget shared by all requests otherwise, never over `max_body_bytes`.

use portico_gateway::GatewayConfig;
use serde_json::json;

use crate::helpers::*;

const MIB: usize = 1024 * 1024;

/// A gateway whose whole bodies may take 1 MiB together, and bodies up to 8 MiB.
async fn gateway() -> TestGateway {
    spawn_gateway_config(GatewayConfig { max_body_bytes: 8 * MIB, max_buffered_bytes: MIB, ..Default::default() }).await
}

/// An API `method uri` on an echo backend, with `retry_count`.
fn echo_api(uri: &str, method: &str, retry_count: &str, backend: &str) -> serde_json::Value {
    let mut api = http_api(uri, backend, "/");
    api["req_method"] = json!(method);
    api["backend_api"]["req_method"] = json!(method);
    api["backend_api"]["retry_count"] = json!(retry_count);
    api
}

/// A body of `len` bytes, sent in 64 KiB chunks without a `Content-Length`.
fn chunked(len: usize) -> reqwest::Body {
    let chunks = (0..len.div_ceil(64 * 1024)).map(move |i| {
        let size = (len - i * 64 * 1024).min(64 * 1024);
        Ok::<_, std::io::Error>(vec![b'x'; size])
    });
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

async fn post(gw: &TestGateway, host: &str, path: &str, body: reqwest::Body) -> (u16, serde_json::Value) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}{path}", gw.address))
        .header(reqwest::header::HOST, host)
        .body(body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_body_larger_than_the_buffer_budget_streams_to_the_backend() {
    let gw = gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    gw.live_api(&group, echo_api("/upload", "POST", "0", &backend)).await;
    for (name, body) in [("with a length", reqwest::Body::from(vec![b'x'; 4 * MIB])), ("chunked", chunked(4 * MIB))] {
        let (status, echoed) = post(&gw, &group.sl_domain, "/upload", body).await;
        assert_eq!(status, 200, "{name}: {echoed}");
        assert_eq!(echoed["body"].as_str().map(str::len), Some(4 * MIB), "{name}: the backend got it all");
    }
    // Still no body over max_body_bytes, announced or not.
    let (status, error) = post(&gw, &group.sl_domain, "/upload", vec![b'x'; 9 * MIB].into()).await;
    assert_eq!((status, error["error_code"].as_str()), (413, Some("APIG.0104")), "{error}");
    let (status, error) = post(&gw, &group.sl_domain, "/upload", chunked(9 * MIB)).await;
    assert_eq!((status, error["error_code"].as_str()), (413, Some("APIG.0104")), "{error}");
}

#[tokio::test]
async fn bodies_held_whole_are_refused_past_the_budget() {
    let gw = gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    // A retried request is sent again: its body is held whole.
    gw.live_api(&group, echo_api("/retried", "POST", "1", &backend)).await;
    let (status, echoed) = post(&gw, &group.sl_domain, "/retried", vec![b'x'; MIB / 2].into()).await;
    assert_eq!((status, echoed["body"].as_str().map(str::len)), (200, Some(MIB / 2)), "within the budget");
    for body in [reqwest::Body::from(vec![b'x'; 2 * MIB]), chunked(2 * MIB)] {
        let (status, error) = post(&gw, &group.sl_domain, "/retried", body).await;
        assert_eq!((status, error["error_code"].as_str()), (503, Some("APIG.0105")), "{error}");
    }
    // What a refused request held is given back.
    let (status, _) = post(&gw, &group.sl_domain, "/retried", vec![b'x'; MIB / 2].into()).await;
    assert_eq!(status, 200);
}
