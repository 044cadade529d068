//! Who the client is when Portico stands behind load balancers or reverse proxies
//! (`docs/configuration.md`, "Behind a load balancer"). Only a peer in the listener's
//! [`TrustedProxies`] is believed: from it, the client is the rightmost address of
//! `X-Forwarded-For` that is not itself a trusted proxy (nginx's `real_ip_recursive on`), or
//! `X-Real-IP`, or, on a listener with the PROXY protocol on, the source address of the
//! connection's PROXY header (v1 or v2). From any other peer those headers are ignored: the
//! client is the peer.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use ppp::{HeaderResult, PartialResult, v1, v2};
use tokio::net::TcpStream;

use crate::ip::IpRange;

/// The proxies whose forwarding headers are believed: addresses and CIDR blocks.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpRange>);

/// An entry of `trusted_proxies` that is no address or CIDR block.
#[derive(Debug, thiserror::Error)]
#[error("trusted_proxies: {0:?} is not an IP address or a CIDR block")]
pub struct InvalidProxy(pub String);

impl TrustedProxies {
    /// The set of `entries` (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`, …).
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<TrustedProxies, InvalidProxy> {
        entries
            .into_iter()
            .map(|entry| IpRange::parse(entry.as_ref()).ok_or_else(|| InvalidProxy(entry.as_ref().to_owned())))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client of a request that came from `hop`: `hop` itself unless it is trusted; then the
    /// rightmost `X-Forwarded-For` hop that is not trusted (the leftmost when all are, the last
    /// trusted one when the next is no address), or else `X-Real-IP`. A forwarded address has
    /// no port: the client's is not known, so it is 0.
    pub fn client(&self, hop: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        if !self.trusts(hop.ip()) {
            return hop;
        }
        let mut forwarded = headers.get_all("x-forwarded-for").iter().peekable();
        if forwarded.peek().is_none() {
            return headers
                .get("x-real-ip")
                .and_then(|value| value.to_str().ok())
                .and_then(forwarded_address)
                .unwrap_or(hop);
        }
        // Walked from the right, without copying: each proxy appended the address it saw.
        let mut client = hop;
        let entries = forwarded.rev().flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
        for entry in entries {
            if !self.trusts(client.ip()) {
                break;
            }
            match forwarded_address(entry) {
                Some(address) => client = address,
                None => break,
            }
        }
        client
    }
}

/// One address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn forwarded_address(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    text.parse::<SocketAddr>()
        .ok()
        .or_else(|| text.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok().map(|ip| (ip, 0).into()))
}

/// How one listener learns its clients' addresses.
#[derive(Debug, Clone, Default)]
pub struct ClientAddressing {
    /// The peers whose word on the client is taken.
    pub trusted: Arc<TrustedProxies>,
    /// Every connection starts with a PROXY protocol header (v1 or v2); one without is refused.
    /// The forwarding headers are then not read: the PROXY header names the client.
    pub proxy_protocol: bool,
}

impl ClientAddressing {
    /// The origin of a request on a connection from `hop` (the peer, or the source its PROXY
    /// header gave).
    pub fn origin(&self, hop: SocketAddr, headers: &HeaderMap) -> Origin {
        let client = if self.proxy_protocol { hop } else { self.trusted.client(hop, headers) };
        Origin { client, hop }
    }
}

/// Where a request comes from, as its listener worked it out; the listener puts it in every
/// request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The client: what ACLs, throttles, `source` conditions, lockouts and logs judge.
    pub client: SocketAddr,
    /// The address the request reached Portico from: the client, or the last proxy.
    pub hop: SocketAddr,
}

impl Origin {
    /// The origin a listener recorded in `extensions`; the unspecified address when the request
    /// did not come through one (a router driven directly, as in tests).
    pub fn of(extensions: &http::Extensions) -> Origin {
        extensions.get::<Origin>().copied().unwrap_or_else(|| {
            let unknown = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
            Origin { client: unknown, hop: unknown }
        })
    }

    /// The `X-Forwarded-For` a backend gets: the incoming one with the hop appended, as every
    /// proxy does, so that its rightmost entry is the peer Portico saw. When a trusted proxy
    /// named the client in `X-Real-IP` only, the client goes first.
    pub fn forwarded_for(&self, incoming: Option<&str>) -> String {
        match incoming {
            Some(previous) => format!("{previous}, {}", self.hop.ip()),
            None if self.client.ip() != self.hop.ip() => format!("{}, {}", self.client.ip(), self.hop.ip()),
            None => self.hop.ip().to_string(),
        }
    }
}

/// The largest PROXY header read: a v1 header is at most 107 bytes, a v2 header with addresses
/// and the usual TLVs a few hundred; a longer one is refused rather than buffered.
const MAX_PROXY_HEADER: usize = 1024;

/// Reads the PROXY protocol header at the start of `stream` within `limit`, and gives the source
/// address it names: `None` for a header that names none (v1 `UNKNOWN`, v2 `LOCAL`: a load
/// balancer's health check). Only the header's bytes are consumed. An error means no valid
/// header came in time: the connection is to be closed.
pub(crate) async fn read_proxy_header(stream: &mut TcpStream, limit: Duration) -> io::Result<Option<SocketAddr>> {
    tokio::time::timeout(limit, read_header(stream))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no PROXY protocol header in time"))?
}

async fn read_header(stream: &mut TcpStream) -> io::Result<Option<SocketAddr>> {
    use tokio::io::AsyncReadExt;
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let mut buffer = vec![0; MAX_PROXY_HEADER];
    loop {
        // Peeked, not read: what follows the header belongs to TLS or HTTP. A header split
        // across segments is looked at again shortly (peek returns at once while bytes wait).
        let seen = stream.peek(&mut buffer).await?;
        if seen == 0 {
            return Err(invalid("the connection closed before a PROXY protocol header".into()));
        }
        let (length, source) = match HeaderResult::parse(&buffer[..seen]) {
            // A v1 header ends at its first CRLF: one that is still short of fields by then is
            // malformed, whatever follows.
            HeaderResult::V1(result) if result.is_incomplete() && buffer[..seen].windows(2).any(|w| w == b"\r\n") => {
                return Err(invalid("invalid PROXY protocol header".into()));
            }
            result if result.is_incomplete() => {
                if seen == buffer.len() {
                    return Err(invalid("PROXY protocol header too long".into()));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            HeaderResult::V1(Ok(header)) => (header.header.len(), v1_source(&header.addresses)),
            HeaderResult::V2(Ok(header)) => (header.len(), v2_source(&header)),
            HeaderResult::V1(Err(e)) => return Err(invalid(format!("invalid PROXY protocol header: {e}"))),
            HeaderResult::V2(Err(e)) => return Err(invalid(format!("invalid PROXY protocol header: {e}"))),
        };
        stream.read_exact(&mut buffer[..length]).await?;
        return Ok(source);
    }
}

fn v1_source(addresses: &v1::Addresses) -> Option<SocketAddr> {
    match addresses {
        v1::Addresses::Tcp4(a) => Some((a.source_address, a.source_port).into()),
        v1::Addresses::Tcp6(a) => Some((a.source_address, a.source_port).into()),
        v1::Addresses::Unknown => None,
    }
}

fn v2_source(header: &v2::Header<'_>) -> Option<SocketAddr> {
    if header.command == v2::Command::Local {
        return None;
    }
    match header.addresses {
        v2::Addresses::IPv4(a) => Some((a.source_address, a.source_port).into()),
        v2::Addresses::IPv6(a) => Some((a.source_address, a.source_port).into()),
        v2::Addresses::Unspecified | v2::Addresses::Unix(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn client(trusted: &[&str], hop: &str, pairs: &[(&'static str, &str)]) -> String {
        let trusted = TrustedProxies::parse(trusted).unwrap();
        trusted.client(format!("{hop}:5000").parse().unwrap(), &headers(pairs)).ip().to_string()
    }

    #[test]
    fn forwarding_headers_count_from_trusted_peers_only() {
        let forged = [("x-forwarded-for", "6.6.6.6"), ("x-real-ip", "7.7.7.7")];
        assert_eq!(client(&[], "10.0.0.1", &forged), "10.0.0.1");
        assert_eq!(client(&["10.0.0.0/8"], "192.0.2.9", &forged), "192.0.2.9");
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &forged), "6.6.6.6");
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &[("x-real-ip", "7.7.7.7")]), "7.7.7.7");
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &[]), "10.0.0.1");
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8", "192.168.1.1"];
        // A client can write anything left of the address the first proxy appends.
        let chain = [("x-forwarded-for", "1.1.1.1, 203.0.113.5, 192.168.1.1")];
        assert_eq!(client(&trusted, "10.0.0.1", &chain), "203.0.113.5");
        let split = [("x-forwarded-for", "1.1.1.1, 203.0.113.5"), ("x-forwarded-for", "10.2.2.2")];
        assert_eq!(client(&trusted, "10.0.0.1", &split), "203.0.113.5");
        let all_trusted = [("x-forwarded-for", "10.9.9.9, 10.8.8.8")];
        assert_eq!(client(&trusted, "10.0.0.1", &all_trusted), "10.9.9.9");
        let garbage = [("x-forwarded-for", "203.0.113.5, unknown, 10.3.3.3")];
        assert_eq!(client(&trusted, "10.0.0.1", &garbage), "10.3.3.3");
        let ports = [("x-forwarded-for", "[2001:db8::7]:4711, 203.0.113.9:80")];
        assert_eq!(client(&["203.0.113.9", "10.0.0.0/8"], "10.0.0.1", &ports), "2001:db8::7");
    }

    #[test]
    fn invalid_entries_are_refused() {
        let error = TrustedProxies::parse(["10.0.0.0/8", "lb.internal"]).unwrap_err();
        assert!(error.to_string().contains("lb.internal"), "{error}");
    }

    #[test]
    fn backends_get_the_chain_with_the_hop_appended() {
        let at = |client: &str, hop: &str| Origin { client: client.parse().unwrap(), hop: hop.parse().unwrap() };
        assert_eq!(at("1.2.3.4:1", "1.2.3.4:1").forwarded_for(None), "1.2.3.4");
        assert_eq!(at("1.2.3.4:1", "1.2.3.4:1").forwarded_for(Some("6.6.6.6")), "6.6.6.6, 1.2.3.4");
        assert_eq!(at("1.2.3.4:0", "10.0.0.1:9").forwarded_for(Some("1.2.3.4")), "1.2.3.4, 10.0.0.1");
        assert_eq!(at("1.2.3.4:0", "10.0.0.1:9").forwarded_for(None), "1.2.3.4, 10.0.0.1");
    }
}
