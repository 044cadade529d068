//! The client's address behind a load balancer: forwarding headers and PROXY protocol headers are
//! believed from trusted proxies only. Loopback addresses stand for different machines: a client
//! socket bound to 127.0.0.2 is another peer than one bound to 127.0.0.3.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use portico_gateway::{ClientAddressing, TrustedProxies};
use portico_store::PolicyKind;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::helpers::{TestGateway, http_api, spawn_backend, spawn_gateway_addressing};
use crate::policies::{acl, bind, published};

/// The address a load balancer's PROXY header or `X-Forwarded-For` names as the client.
const FAR_CLIENT: &str = "203.0.113.5";
/// A load balancer in front of the gateway.
const BALANCER: &str = "127.0.0.3";
/// A client that connects directly.
const DIRECT: &str = "127.0.0.2";

fn trusting_the_balancer(proxy_protocol: bool) -> ClientAddressing {
    ClientAddressing { trusted: Arc::new(TrustedProxies::parse([BALANCER]).unwrap()), proxy_protocol }
}

/// A gateway with one API `/echo` (to the echo backend) behind an ACL that denies `FAR_CLIENT`
/// and `DIRECT`; returns it with the host to call.
async fn gateway_denying(addressing: ClientAddressing) -> (TestGateway, String) {
    let gw = spawn_gateway_addressing(addressing).await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let (_, publish_id) = published(&gw, &group, http_api("/echo", &backend, "/")).await;
    let deny = acl("DENY", "IP", &format!("{FAR_CLIENT},{DIRECT}"));
    gw.store.create_acl(&gw.instance_id, &deny).await.unwrap();
    bind(&gw, PolicyKind::Acl, &deny.id, &[&publish_id]).await;
    (gw, group.sl_domain)
}

/// `GET /echo` from a socket bound to `from`, with `headers`: (status, body as JSON).
async fn get_from(gw: &TestGateway, from: &str, host: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().local_address(from.parse::<IpAddr>().unwrap()).build().unwrap();
    let mut request = client.get(format!("{}/echo", gw.address)).header("host", host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `GET /echo` on a connection from `from` that starts with `preamble` (a PROXY header):
/// (status, body as JSON), or `None` when the gateway closes the connection without answering.
async fn get_after(gw: &TestGateway, from: &str, host: &str, preamble: &[u8]) -> Option<(u16, Value)> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from.parse().unwrap(), 0)).unwrap();
    let mut stream = socket.connect(gw.addr).await.unwrap();
    stream.write_all(preamble).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    let request = http::Request::get("/echo").header("host", host).body(Empty::<Bytes>::new()).unwrap();
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, serde_json::from_slice(&body).expect("a JSON body")))
}

fn forwarded_for(echo: &Value) -> &str {
    echo["headers"]["x-forwarded-for"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn forwarding_headers_are_believed_from_trusted_proxies_only() {
    let (gw, host) = gateway_denying(trusting_the_balancer(false)).await;

    // A direct client that forges the headers is still judged, and named to the backend, by its
    // own address.
    let (status, body) = get_from(&gw, DIRECT, &host, &[("x-forwarded-for", "198.51.100.1")]).await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("APIG.0306")), "{body}");
    let (status, body) = get_from(&gw, "127.0.0.4", &host, &[("x-forwarded-for", FAR_CLIENT)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(forwarded_for(&body), format!("{FAR_CLIENT}, 127.0.0.4"));
    let (status, body) = get_from(&gw, "127.0.0.4", &host, &[("x-real-ip", FAR_CLIENT)]).await;
    assert_eq!(status, 200, "{body}");

    // Through the balancer, the client is the rightmost untrusted hop it forwards.
    let (status, body) = get_from(&gw, BALANCER, &host, &[("x-forwarded-for", FAR_CLIENT)]).await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("APIG.0306")), "{body}");
    assert!(body["error_msg"].as_str().unwrap_or_default().contains(FAR_CLIENT), "{body}");
    let forged_then_real = format!("{FAR_CLIENT}, 198.51.100.1");
    let (status, body) = get_from(&gw, BALANCER, &host, &[("x-forwarded-for", &forged_then_real)]).await;
    assert_eq!(status, 200, "the client cannot choose the address left of the one the balancer saw: {body}");
    assert_eq!(forwarded_for(&body), format!("{forged_then_real}, {BALANCER}"));
    let (status, body) = get_from(&gw, BALANCER, &host, &[("x-real-ip", FAR_CLIENT)]).await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("APIG.0306")), "{body}");
    let (status, body) = get_from(&gw, BALANCER, &host, &[("x-real-ip", "198.51.100.1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(forwarded_for(&body), format!("198.51.100.1, {BALANCER}"));
}

/// A PROXY protocol v2 header (PROXY command, TCP over IPv4) from `source` to the gateway.
fn proxy_v2(source: &str, gateway: SocketAddr) -> Vec<u8> {
    use ppp::v2::{Builder, Command, Protocol, Version};
    let source: SocketAddr = format!("{source}:4711").parse().unwrap();
    Builder::with_addresses(Version::Two | Command::Proxy, Protocol::Stream, (source, gateway)).build().unwrap()
}

fn proxy_v1(source: &str, gateway: SocketAddr) -> Vec<u8> {
    format!("PROXY TCP4 {source} {} 4711 {}\r\n", gateway.ip(), gateway.port()).into_bytes()
}

#[tokio::test]
async fn proxy_protocol_headers_name_the_client_of_a_trusted_balancer() {
    let (gw, host) = gateway_denying(trusting_the_balancer(true)).await;

    for (version, header) in [("v1", proxy_v1 as fn(&str, SocketAddr) -> Vec<u8>), ("v2", proxy_v2)] {
        let (status, body) = get_after(&gw, BALANCER, &host, &header(FAR_CLIENT, gw.addr)).await.expect(version);
        assert_eq!((status, body["error_code"].as_str()), (403, Some("APIG.0306")), "{version}: {body}");
        let (status, body) = get_after(&gw, BALANCER, &host, &header("198.51.100.1", gw.addr)).await.expect(version);
        assert_eq!(status, 200, "{version}: {body}");
        assert_eq!(forwarded_for(&body), "198.51.100.1", "{version}");
        // From a peer that is not trusted, the header is read but its address is not believed.
        let (status, body) = get_after(&gw, "127.0.0.4", &host, &header(FAR_CLIENT, gw.addr)).await.expect(version);
        assert_eq!(status, 200, "{version}: {body}");
        assert_eq!(forwarded_for(&body), "127.0.0.4", "{version}");
    }
    // A load balancer's health check names no client: the balancer is the client.
    let (status, _) = get_after(&gw, BALANCER, &host, b"PROXY UNKNOWN\r\n").await.expect("UNKNOWN");
    assert_eq!(status, 200);
    // Without a valid header the connection is closed unanswered.
    assert_eq!(get_after(&gw, BALANCER, &host, b"").await, None);
    assert_eq!(get_after(&gw, BALANCER, &host, b"PROXY TCP4 nonsense\r\n").await, None);
}
