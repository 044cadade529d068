//! TLS with rustls (ring provider): the gateway listener's certificate, the bound domains'
//! certificates chosen by SNI (with mutual TLS where a domain asks for it), and the roots that
//! HTTPS backends are checked against (Mozilla's, from `webpki-roots`, plus any configured CA).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use portico_store::LiveDomain;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};

/// Why TLS material could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file is unreadable or holds nothing usable.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the certificate, key or roots.
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |reason: String| TlsError::Pem { path: path.display().to_string(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem("no certificate found".into()));
    }
    Ok(certs)
}

/// The listener's TLS configuration from a PEM certificate chain and a PEM private key;
/// ALPN offers HTTP/2 and HTTP/1.1.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = read_certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::Pem { path: key.display().to_string(), reason: e.to_string() })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The client configuration towards HTTPS backends: Mozilla's roots plus `extra_roots`.
pub fn client_config(extra_roots: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for cert in extra_roots {
        roots.add(cert.clone())?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificate one bound domain is served with, and, when the domain asks for mutual
/// TLS, the configuration (with its client verifier) its connections are accepted with.
pub struct DomainTls {
    key: Arc<CertifiedKey>,
    mutual: Option<Arc<rustls::ServerConfig>>,
}

/// The bound domains' certificates by domain name (lower case; `*.parent` for wildcards).
/// Built with each route table, from the same read of the store.
#[derive(Default)]
pub struct TlsDomains {
    by_name: HashMap<String, Arc<DomainTls>>,
}

impl TlsDomains {
    /// The certificates of `domains`; a certificate that cannot be used is left out and
    /// reported (it was checked at upload, so only a change of rustls could cause that).
    pub fn build(domains: &[LiveDomain]) -> (TlsDomains, Vec<String>) {
        let mut keys: HashMap<&str, Arc<CertifiedKey>> = HashMap::new();
        let mut by_name = HashMap::new();
        let mut problems = Vec::new();
        for live in domains {
            let Some((id, material)) = &live.certificate else { continue };
            let key = match keys.get(id.as_str()) {
                Some(key) => key.clone(),
                None => match certified_key(&material.cert_content, &material.private_key) {
                    Ok(key) => {
                        let key = Arc::new(key);
                        keys.insert(id, key.clone());
                        key
                    }
                    Err(e) => {
                        problems.push(format!("certificate {id} cannot be served: {e}"));
                        continue;
                    }
                },
            };
            let mutual = match (&material.trusted_root_ca, live.domain.verified_client_certificate_enabled) {
                (Some(ca), true) => match mutual_config(key.clone(), ca) {
                    Ok(config) => Some(config),
                    Err(e) => {
                        problems.push(format!("domain {} cannot verify clients: {e}", live.domain.url_domain));
                        continue;
                    }
                },
                _ => None,
            };
            by_name.insert(live.domain.url_domain.to_ascii_lowercase(), Arc::new(DomainTls { key, mutual }));
        }
        (TlsDomains { by_name }, problems)
    }

    /// The entry serving `name` (a SNI or a `Host` without its port): its own, or its
    /// parent's wildcard.
    pub fn find(&self, name: &str) -> Option<&Arc<DomainTls>> {
        // Asked on every request (`RouteTable::admits`): no lowercased copy when nothing is bound.
        if self.by_name.is_empty() {
            return None;
        }
        let name = name.to_ascii_lowercase();
        self.by_name.get(&name).or_else(|| {
            let (_, parent) = name.split_once('.')?;
            self.by_name.get(&format!("*.{parent}"))
        })
    }

    /// Whether requests for `name` must come over a connection whose client certificate was verified.
    pub fn requires_client_certificate(&self, name: &str) -> bool {
        self.find(name).is_some_and(|d| d.mutual.is_some())
    }
}

fn certified_key(cert: &str, key: &str) -> Result<CertifiedKey, TlsError> {
    let reason = |e: portico_auth::certificate::CertificateError| TlsError::Pem {
        path: "stored certificate".into(),
        reason: e.to_string(),
    };
    portico_auth::certificate::certified_key(cert, key).map_err(reason)
}

fn mutual_config(key: Arc<CertifiedKey>, ca: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in portico_auth::certificate::pem_chain(ca)
        .map_err(|e| TlsError::Pem { path: "trusted root CA".into(), reason: e.to_string() })?
    {
        roots.add(cert)?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::Pem { path: "trusted root CA".into(), reason: e.to_string() })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(key)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The current [`TlsDomains`], shared by the listener's acceptors and swapped with each route
/// table ([`crate::Gateway::replace_routes`]): a handshake after the swap gets the new
/// certificate, a connection already open keeps the one it was made with.
#[derive(Default)]
pub struct DomainCertificates {
    current: ArcSwap<TlsDomains>,
}

impl DomainCertificates {
    /// Serves `domains` from now on.
    pub fn replace(&self, domains: Arc<TlsDomains>) {
        self.current.store(domains);
    }

    fn find(&self, name: &str) -> Option<Arc<DomainTls>> {
        self.current.load().find(name).cloned()
    }
}

/// Picks a bound domain's certificate by SNI; any other name gets the listener's own.
#[derive(Debug)]
struct SniResolver {
    domains: Arc<DomainCertificates>,
    listener: Arc<dyn ResolvesServerCert>,
}

impl std::fmt::Debug for DomainCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainCertificates").field("domains", &self.current.load().by_name.len()).finish()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match hello.server_name().and_then(|name| self.domains.find(name)) {
            Some(domain) => Some(domain.key.clone()),
            None => self.listener.resolve(hello),
        }
    }
}

/// What a TLS connection of the gateway established: the server name the client asked for and
/// whether its certificate was verified against that domain's CA. Every request of the
/// connection carries it (a request extension), so a `Host` that asks for mutual TLS is
/// refused on a connection that did not do it for that name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSession {
    /// The SNI, lower case.
    pub server_name: Option<String>,
    /// A client certificate was presented and verified.
    pub client_verified: bool,
}

impl TlsSession {
    /// Whether this connection verified a client certificate for `host` (without its port).
    pub fn verified_for(&self, host: &str) -> bool {
        self.client_verified && self.server_name.as_deref().is_some_and(|sni| sni.eq_ignore_ascii_case(host))
    }
}

/// The gateway listener's TLS: the ClientHello is read first, then the connection is accepted
/// with the configuration of the domain it names (its client verifier for mutual TLS) or the
/// listener's, whose certificate resolver serves the bound domains' certificates by SNI.
pub struct SniAcceptor {
    plain: Arc<rustls::ServerConfig>,
    domains: Arc<DomainCertificates>,
}

impl SniAcceptor {
    /// Acceptor over the listener's configuration and the domains' certificates.
    pub fn new(listener: &rustls::ServerConfig, domains: Arc<DomainCertificates>) -> SniAcceptor {
        let mut plain = listener.clone();
        plain.cert_resolver =
            Arc::new(SniResolver { domains: domains.clone(), listener: listener.cert_resolver.clone() });
        SniAcceptor { plain: Arc::new(plain), domains }
    }

    /// Runs the handshake on `stream`.
    pub async fn accept<IO>(&self, stream: IO) -> std::io::Result<(tokio_rustls::server::TlsStream<IO>, TlsSession)>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let start = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
        let server_name = start.client_hello().server_name().map(str::to_ascii_lowercase);
        let mutual = server_name.as_deref().and_then(|name| self.domains.find(name)).and_then(|d| d.mutual.clone());
        let verifies = mutual.is_some();
        let stream = start.into_stream(mutual.unwrap_or_else(|| self.plain.clone())).await?;
        let client_verified = verifies && stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
        Ok((stream, TlsSession { server_name, client_verified }))
    }
}
