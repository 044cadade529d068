//! TLS: the gateway listener (HTTP/1.1 and HTTP/2 by ALPN) and HTTPS backends checked against
//! the configured roots.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;

use crate::helpers::{http_api, spawn_gateway_config, spawn_gateway_tls};

/// A self-signed certificate for `localhost` and 127.0.0.1: (certificate PEM, key PEM, DER).
fn self_signed() -> (String, String, CertificateDer<'static>) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    (key.cert.pem(), key.signing_key.serialize_pem(), key.cert.der().clone())
}

fn client_config(root: &CertificateDer<'static>, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

#[tokio::test]
async fn the_listener_speaks_tls_with_http1_and_h2() {
    let (cert_pem, key_pem, der) = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert_pem).unwrap();
    std::fs::write(&key_path, key_pem).unwrap();
    let server = portico_gateway::tls::server_config(&cert_path, &key_path).expect("PEM files load");
    let gw = spawn_gateway_tls(Default::default(), Some(server)).await;
    let group = gw.group().await;
    gw.live_api(
        &group,
        json!({ "req_method": "GET", "req_uri": "/secure", "backend_type": "MOCK",
                "mock_info": { "result_content": "over tls" } }),
    )
    .await;

    for alpn in [&b"http/1.1"[..], b"h2"] {
        let connector = tokio_rustls::TlsConnector::from(client_config(&der, alpn));
        let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        let tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
        let io = TokioIo::new(tls);
        let response = if alpn == b"h2" {
            let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.unwrap();
            tokio::spawn(conn);
            let request =
                http::Request::get(format!("https://{}/secure", group.sl_domain)).body(Empty::<Bytes>::new()).unwrap();
            sender.send_request(request).await.unwrap()
        } else {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            let request = http::Request::get("/secure")
                .header("host", group.sl_domain.as_str())
                .body(Empty::<Bytes>::new())
                .unwrap();
            sender.send_request(request).await.unwrap()
        };
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"over tls");
    }
}

#[tokio::test]
async fn app_signatures_cover_the_h2_authority() {
    let (cert_pem, key_pem, der) = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert_pem).unwrap();
    std::fs::write(&key_path, key_pem).unwrap();
    let server = portico_gateway::tls::server_config(&cert_path, &key_path).expect("PEM files load");
    let gw = spawn_gateway_tls(Default::default(), Some(server)).await;
    let group = gw.group().await;
    let api_id = gw
        .live_api(
            &group,
            json!({ "req_method": "GET", "req_uri": "/signed", "backend_type": "MOCK", "auth_type": "APP",
                    "mock_info": { "result_content": "signed over h2" } }),
        )
        .await;
    let (app_id, key, secret) = crate::policies::app(&gw).await;
    crate::policies::authorize(&gw, &app_id, &api_id).await;
    gw.settle().await;

    let date = portico_model::now()
        .format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap();
    let mut signed = http::HeaderMap::new();
    signed.insert("host", group.sl_domain.parse().unwrap());
    signed.insert("x-sdk-date", date.parse().unwrap());
    let parts = portico_auth::signature::RequestParts {
        method: "GET",
        raw_path: "/signed",
        raw_query: None,
        headers: &signed,
        body: b"",
    };
    let authorization = portico_auth::signature::sign(&parts, &key, &secret);

    let connector = tokio_rustls::TlsConnector::from(client_config(&der, b"h2"));
    let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("handshake");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let request = http::Request::get(format!("https://{}/signed", group.sl_domain))
        .header("x-sdk-date", date.as_str())
        .header("authorization", authorization.as_str())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"signed over h2");
}

/// An HTTPS backend with `cert`, answering "secure <path>".
async fn spawn_tls_backend(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> std::net::SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                    let body = format!("secure {}", request.uri().path());
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(body))))
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn https_backends_are_verified_against_the_configured_roots() {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = key.cert.der().clone();
    let private = PrivateKeyDer::try_from(key.signing_key.serialize_der()).unwrap();
    let backend = spawn_tls_backend(der.clone(), private).await;
    let mut api = http_api("/tls", &format!("localhost:{}", backend.port()), "/inner");
    api["backend_api"]["req_protocol"] = json!("HTTPS");

    let trusting = portico_gateway::GatewayConfig { backend_roots: vec![der], ..Default::default() };
    let gw = spawn_gateway_config(trusting).await;
    let group = gw.group().await;
    gw.live_api(&group, api.clone()).await;
    let r = gw.get(&group.sl_domain, "/tls", &[]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, Some("secure /inner")));

    let untrusting = spawn_gateway_config(Default::default()).await;
    let group = untrusting.group().await;
    untrusting.live_api(&group, api).await;
    let msg = untrusting.get(&group.sl_domain, "/tls", &[]).await.assert_error(502, "APIG.0201");
    assert!(msg.contains("certificate"), "{msg}");
}
