//! The management API behind a load balancer: failed logins are counted against the client a
//! trusted proxy names, and against its own address for anyone else. Loopback addresses stand for
//! different machines (a client socket bound to 127.0.0.2 is another peer than 127.0.0.3).

use serde_json::json;

use crate::Server;

const BALANCER: &str = "127.0.0.3";

/// Fails logins from `from` (forwarding the `X-Forwarded-For` `forwarded` gives for the nth
/// attempt) until one is refused with 429; returns how many got 401 before it.
async fn failures_until_locked(
    server: &Server,
    user: &str,
    domain: &str,
    from: &str,
    forwarded: impl Fn(usize) -> String,
) -> usize {
    let client =
        reqwest::Client::builder().no_proxy().local_address(from.parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": "not the password", "domain": {"name": domain}}}}}});
    for attempt in 0..30 {
        let response = client
            .post(format!("{}/v3/auth/tokens", server.base_url))
            .header("x-forwarded-for", forwarded(attempt))
            .json(&body)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            429 => return attempt,
            401 => {}
            other => panic!("attempt {attempt}: {other}"),
        }
    }
    panic!("30 failed logins from {from} and no lockout")
}

#[tokio::test]
async fn lockouts_count_against_the_client_a_trusted_proxy_names_and_no_one_else() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path(), &["--trusted-proxies", BALANCER]);
    let credentials: toml::Table =
        toml::from_str(&std::fs::read_to_string(data_dir.path().join("credentials.toml")).unwrap()).unwrap();
    let (user, domain) = (credentials["admin_user"].as_str().unwrap(), credentials["domain"].as_str().unwrap());

    // A direct client cannot escape its lockout by forging a new address each time.
    let failed = failures_until_locked(&server, user, domain, "127.0.0.2", |n| format!("198.51.100.{n}")).await;
    assert!(failed >= 10, "{failed}");
    // Through the balancer, each client it names has its own count.
    let failed = failures_until_locked(&server, user, domain, BALANCER, |_| "203.0.113.1".into()).await;
    assert!(failed >= 10, "{failed}");
    let other = failures_until_locked(&server, user, domain, BALANCER, |_| "203.0.113.2".into()).await;
    assert!(other >= 10, "another client behind the balancer is not locked out: {other}");
}

/// `GET /health` on a connection that starts with `preamble`: the raw answer, empty when the
/// server closed the connection without one.
fn health_after(address: &str, preamble: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    stream.write_all(preamble).unwrap();
    let _ = stream.write_all(b"GET /health HTTP/1.1\r\nhost: portico\r\nconnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn the_management_listener_with_proxy_protocol_refuses_connections_without_a_header() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path(), &["--proxy-protocol", "--trusted-proxies", "127.0.0.1"]);
    let address = server.base_url.trim_start_matches("http://");
    let proxied = health_after(address, b"PROXY TCP4 203.0.113.1 127.0.0.1 4711 8080\r\n");
    assert!(proxied.starts_with("HTTP/1.1 200"), "{proxied}");
    assert_eq!(health_after(address, b""), "", "no PROXY header, no answer");
}
