//! HTTPS for the remote commands. reqwest is built without TLS: its rustls backend needs either
//! aws-lc (a C build) or a process-wide crypto provider that every reqwest client in the
//! workspace, tests included, would then have to install first. So the client speaks plain HTTP
//! to a relay on loopback, private to this process's lifetime, which opens one TLS connection
//! to the server per connection it accepts, with the gateway's rustls configuration (ring;
//! Mozilla's roots plus `--ca-cert`), and checks the server's certificate for the URL's host.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

/// Where the relay for `host:port` listens. The first handshake is made here, so a certificate
/// the roots do not vouch for, or one for another name, fails the command at once with
/// rustls's reason.
pub async fn start(host: &str, port: u16, ca_cert: Option<&Path>) -> anyhow::Result<SocketAddr> {
    let roots = match ca_cert {
        Some(path) => portico_gateway::tls::read_certificates(path)?,
        None => Vec::new(),
    };
    let connector = TlsConnector::from(Arc::new(portico_gateway::tls::client_config(&roots)?));
    // An IPv6 host comes from the URL in brackets.
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_owned())
        .with_context(|| format!("{host} is not a host name or address"))?;
    let target = format!("{host}:{port}");
    let first = connect(&connector, &name, &target).await?;
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let mut ready = Some(first);
        while let Ok((mut plain, _)) = listener.accept().await {
            let server = match ready.take() {
                Some(server) => Ok(server),
                None => connect(&connector, &name, &target).await,
            };
            tokio::spawn(async move {
                match server {
                    Ok(mut server) => {
                        let _ = tokio::io::copy_bidirectional(&mut plain, &mut server).await;
                    }
                    Err(error) => eprintln!("error: {error:#}"),
                }
            });
        }
    });
    Ok(address)
}

async fn connect(
    connector: &TlsConnector,
    name: &ServerName<'static>,
    target: &str,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(target).await.with_context(|| format!("cannot reach {target}"))?;
    connector.connect(name.clone(), tcp).await.with_context(|| format!("TLS with {target} failed"))
}
