//! Slow and idle clients: a connection that sends half a request head, or
//! nothing, is closed after its timeout, while other clients are served.

use std::time::Duration;

use portico_gateway::{ConnectionLimits, GatewayConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Far longer than any timeout these tests set: reached only when the connection is never
/// closed.
const NEVER: Duration = Duration::from_secs(20);

/// Reads `stream` to its end; panics if it stays open for [`NEVER`].
async fn closed_by_the_server(stream: &mut TcpStream) {
    let mut buffer = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(NEVER, read).await.expect("the server closes the connection");
}

async fn gateway(limits: ConnectionLimits) -> TestGateway {
    spawn_gateway_limits(GatewayConfig::default(), None, limits).await
}

#[tokio::test]
async fn a_half_sent_header_is_closed_after_the_timeout_while_requests_flow() {
    let limits = ConnectionLimits { header_read_timeout: Duration::from_millis(300), ..ConnectionLimits::default() };
    let gw = gateway(limits).await;
    let mut slow = TcpStream::connect(gw.addr).await.expect("connect");
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: slow.example\r\nX-Half: ").await.expect("half a head");
    let host = gw.addr.to_string();
    for _ in 0..5 {
        assert_eq!(gw.get(&host, "/health", &[]).await.status, 200);
    }
    closed_by_the_server(&mut slow).await;
    assert_eq!(gw.get(&host, "/health", &[]).await.status, 200);
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let limits = ConnectionLimits { idle_timeout: Duration::from_millis(300), ..ConnectionLimits::default() };
    let gw = gateway(limits).await;
    let mut silent = TcpStream::connect(gw.addr).await.expect("connect");
    // A kept-alive connection that served a request and then says nothing more.
    let mut idle = TcpStream::connect(gw.addr).await.expect("connect");
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: idle.example\r\n\r\n").await.expect("a request");
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.expect("a response");
    assert_eq!(&head, b"HTTP/1.1 200");
    closed_by_the_server(&mut silent).await;
    closed_by_the_server(&mut idle).await;
    assert_eq!(gw.get(&gw.addr.to_string(), "/health", &[]).await.status, 200);
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let limits = ConnectionLimits { max_connections: 1, ..ConnectionLimits::default() };
    let gw = gateway(limits).await;
    let mut first = TcpStream::connect(gw.addr).await.expect("connect");
    first.write_all(b"GET /health HTTP/1.1\r\nHost: a.example\r\n\r\n").await.expect("a request");
    let mut head = [0u8; 12];
    first.read_exact(&mut head).await.expect("a response");
    // The kernel completes the second handshake, but the gateway does not serve it yet.
    let mut second = TcpStream::connect(gw.addr).await.expect("connect");
    second.write_all(b"GET /health HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n").await.expect("sent");
    let waiting = tokio::time::timeout(Duration::from_millis(300), second.read(&mut head)).await;
    assert!(waiting.is_err(), "served past the cap: {waiting:?}");
    drop(first);
    tokio::time::timeout(NEVER, second.read_exact(&mut head)).await.expect("served once a slot is free").expect("read");
    assert_eq!(&head, b"HTTP/1.1 200");
}
