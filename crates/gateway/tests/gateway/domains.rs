//! Custom domains over real TLS on loopback: the certificate chosen by SNI, a changed
//! certificate served without a restart and without dropping open connections, mutual TLS,
//! and the generated subdomain switched off. Certificates are made here with rcgen.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use portico_model::{ApiGroup, Certificate, CertificateMaterial, Domain, new_id, now};
use portico_store::{CertificateRecord, Store};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;

use crate::helpers::{TestGateway, spawn_gateway_tls};

const DOMAIN: &str = "api.example.test";

/// A certificate a test CA signed.
struct Issued {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

struct Ca {
    cert: rcgen::Certificate,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Ca {
    fn new() -> Ca {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Test CA");
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, issuer: rcgen::Issuer::new(params, key) }
    }

    fn issue(&self, names: &[&str]) -> Issued {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().clone() }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }
}

/// The listener's own certificate (for `localhost`), as `portico serve` loads it.
fn listener_config() -> Arc<rustls::ServerConfig> {
    let own = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, own.cert.pem()).unwrap();
    std::fs::write(&key, own.signing_key.serialize_pem()).unwrap();
    portico_gateway::tls::server_config(&cert, &key).unwrap()
}

/// A certificate record as the management API stores it (checked by `portico_auth`).
fn record(project_id: &str, id: &str, issued: &Issued, ca: Option<&Ca>) -> CertificateRecord {
    let ca_pem = ca.map(Ca::pem);
    let facts =
        portico_auth::certificate::inspect(&issued.cert_pem, &issued.key_pem, ca_pem.as_deref(), now()).unwrap();
    let t = now();
    CertificateRecord {
        certificate: Certificate {
            id: id.into(),
            name: format!("cert_{id}"),
            kind: "global".into(),
            instance_id: "common".into(),
            project_id: project_id.into(),
            common_name: facts.common_name,
            san: facts.san,
            not_before: facts.not_before,
            not_after: facts.not_after,
            signature_algorithm: facts.signature_algorithm,
            algorithm_type: facts.algorithm_type,
            version: facts.version,
            organization: facts.organization,
            organizational_unit: facts.organizational_unit,
            locality: facts.locality,
            state: facts.state,
            country: facts.country,
            issuer: facts.issuer,
            serial_number: facts.serial_number,
            is_has_trusted_root_ca: ca.is_some(),
            create_time: t,
            update_time: t,
        },
        material: CertificateMaterial {
            cert_content: issued.cert_pem.clone(),
            private_key: issued.key_pem.clone(),
            trusted_root_ca: ca_pem,
        },
    }
}

/// A group with a live mock API at `/who` answering `body`, and `DOMAIN` bound to it with a
/// certificate from `ca`; returns the group and the certificate's id.
async fn bound_group(gw: &TestGateway, ca: &Ca, issued: &Issued, verify_clients: bool) -> (ApiGroup, String) {
    let group = gw.group().await;
    gw.live_api(
        &group,
        json!({ "req_method": "GET", "req_uri": "/who", "backend_type": "MOCK",
                "mock_info": { "result_content": "the bound group" } }),
    )
    .await;
    let cert_id = new_id();
    let r = record(&gw.project_id, &cert_id, issued, verify_clients.then_some(ca));
    gw.store.create_certificate(&r.certificate, &r.material).await.unwrap();
    let domain = Domain {
        id: new_id(),
        group_id: group.id.clone(),
        url_domain: DOMAIN.into(),
        min_ssl_version: "TLSv1.2".into(),
        is_http_redirect_to_https: false,
        verified_client_certificate_enabled: false,
        ssl_id: None,
    };
    gw.store.create_domain(&gw.instance_id, &domain).await.unwrap();
    let store: &dyn Store = gw.store.as_ref();
    store
        .attach_certificate(&gw.project_id, &gw.instance_id, &group.id, &domain.id, &cert_id, Some(verify_clients))
        .await
        .unwrap();
    gw.settle().await;
    (group, cert_id)
}

fn client(roots: &[CertificateDer<'static>], identity: Option<(&Issued,)>) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store);
    let config = match identity {
        Some((issued,)) => {
            let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(vec![issued.der.clone()], key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// An HTTP/1.1 connection over TLS to the gateway with `sni`: the certificate the server
/// presented, and a sender for requests on that one connection.
async fn connect(
    gw: &TestGateway,
    sni: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<(CertificateDer<'static>, hyper::client::conn::http1::SendRequest<Empty<Bytes>>)> {
    let tcp = tokio::net::TcpStream::connect(gw.addr).await?;
    let tls =
        tokio_rustls::TlsConnector::from(config).connect(ServerName::try_from(sni.to_string()).unwrap(), tcp).await?;
    let presented = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    let (sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok((presented, sender))
}

async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    host: &str,
) -> Result<(u16, String), hyper::Error> {
    let request = http::Request::get("/who").header("host", host).body(Empty::<Bytes>::new()).unwrap();
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test]
async fn a_bound_domain_gets_its_certificate_by_sni_and_a_new_one_without_a_restart() {
    let gw = spawn_gateway_tls(Default::default(), Some(listener_config())).await;
    let ca = Ca::new();
    let first = ca.issue(&[DOMAIN]);
    let (_, cert_id) = bound_group(&gw, &ca, &first, false).await;

    let (presented, mut open) = connect(&gw, DOMAIN, client(&[ca.der()], None)).await.expect("handshake by SNI");
    assert_eq!(presented, first.der, "the domain's own certificate, not the listener's");
    assert_eq!(get(&mut open, DOMAIN).await.unwrap(), (200, "the bound group".to_string()));

    let second = ca.issue(&[DOMAIN]);
    let r = record(&gw.project_id, &cert_id, &second, None);
    gw.store.update_certificate(&r.certificate, &r.material).await.unwrap();
    gw.settle().await;

    let (presented, mut fresh) = connect(&gw, DOMAIN, client(&[ca.der()], None)).await.expect("handshake");
    assert_eq!(presented, second.der, "a new handshake gets the new certificate");
    assert_eq!(get(&mut fresh, DOMAIN).await.unwrap().0, 200);
    assert_eq!(get(&mut open, DOMAIN).await.unwrap().0, 200, "the connection opened before the change still serves");
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate() {
    let gw = spawn_gateway_tls(Default::default(), Some(listener_config())).await;
    let ca = Ca::new();
    let server = ca.issue(&[DOMAIN]);
    let (group, _) = bound_group(&gw, &ca, &server, true).await;

    // TLS 1.3 reports a refused client certificate at the first read, not in the handshake.
    let anonymous = match connect(&gw, DOMAIN, client(&[ca.der()], None)).await {
        Err(_) => None,
        Ok((_, mut sender)) => Some(get(&mut sender, DOMAIN).await),
    };
    assert!(matches!(anonymous, None | Some(Err(_))), "served without a client certificate: {anonymous:?}");

    let client_cert = ca.issue(&["client.example.test"]);
    let (_, mut sender) = connect(&gw, DOMAIN, client(&[ca.der()], Some((&client_cert,)))).await.expect("handshake");
    assert_eq!(get(&mut sender, DOMAIN).await.unwrap(), (200, "the bound group".to_string()));

    // A connection made for another name cannot borrow the domain through `Host`.
    let listener_root = listener_root(&gw).await;
    let (_, mut other) = connect(&gw, "localhost", client(&[listener_root], None)).await.expect("handshake");
    let (status, body) = get(&mut other, DOMAIN).await.unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("APIG.0313"), "{body}");
    // The group's own subdomain asks for nothing.
    assert_eq!(get(&mut other, &group.sl_domain).await.unwrap().0, 200);
}

/// The listener's own (self-signed) certificate, as presented to a client that trusts anything.
async fn listener_root(gw: &TestGateway) -> CertificateDer<'static> {
    #[derive(Debug)]
    struct TrustAll;
    impl rustls::client::danger::ServerCertVerifier for TrustAll {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider().signature_verification_algorithms.supported_schemes()
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustAll))
        .with_no_client_auth();
    connect(gw, "localhost", Arc::new(config)).await.expect("handshake").0
}

#[tokio::test]
async fn the_subdomain_switched_off_answers_as_an_unknown_host_while_the_domain_serves() {
    let gw = spawn_gateway_tls(Default::default(), None).await;
    let ca = Ca::new();
    let (group, _) = bound_group(&gw, &ca, &ca.issue(&[DOMAIN]), false).await;
    assert_eq!(gw.get(&group.sl_domain, "/who", &[]).await.status, 200);
    gw.store.set_sl_domain_access(&gw.instance_id, &group.id, false).await.unwrap();
    gw.settle().await;
    gw.get(&group.sl_domain, "/who", &[]).await.assert_error(404, "APIG.0101");
    let reply = gw.get(DOMAIN, "/who", &[]).await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (200, Some("the bound group")));
}
