//! IP address matching shared by backend policy conditions (`source` conditions) and ACLs:
//! single addresses, CIDR blocks and `first-last` ranges. IPv4-mapped IPv6 clients
//! (`::ffff:a.b.c.d`, what a dual-stack listener reports) match as their IPv4 address.

use std::net::IpAddr;

/// A set of addresses written as `a.b.c.d`, `a.b.c.d/n` or `a.b.c.d-e.f.g.h` (IPv6 alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IpRange {
    /// A CIDR block (a single address is a block of its full length).
    Block {
        /// The network address.
        network: IpAddr,
        /// Prefix length.
        prefix: u8,
    },
    /// An inclusive range of addresses of one family.
    Span(IpAddr, IpAddr),
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

impl IpRange {
    /// Parses one entry; `None` when it is none of the three forms.
    pub(crate) fn parse(s: &str) -> Option<IpRange> {
        let s = s.trim();
        if let Some((first, last)) = s.split_once('-') {
            let (first, last) = (unmapped(first.trim().parse().ok()?), unmapped(last.trim().parse().ok()?));
            return (first.is_ipv4() == last.is_ipv4() && first <= last).then_some(IpRange::Span(first, last));
        }
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.trim().parse::<IpAddr>().ok()?, Some(p.trim().parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let addr = unmapped(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange::Block { network: addr, prefix })
    }

    /// Whether `ip` is in the set.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmapped(ip);
        match *self {
            IpRange::Span(first, last) => first.is_ipv4() == ip.is_ipv4() && first <= ip && ip <= last,
            IpRange::Block { network, prefix } => match (network, ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                    u32::from(n) & mask == u32::from(a) & mask
                }
                (IpAddr::V6(n), IpAddr::V6(a)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                    u128::from(n) & mask == u128::from(a) & mask
                }
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(range: &str, ip: &str) -> bool {
        IpRange::parse(range).expect(range).contains(ip.parse().unwrap())
    }

    #[test]
    fn addresses_blocks_and_spans() {
        assert!(has("10.0.0.1", "10.0.0.1"));
        assert!(!has("10.0.0.1", "10.0.0.2"));
        assert!(has("10.0.0.0/8", "10.200.1.1"));
        assert!(!has("10.0.0.0/8", "11.0.0.1"));
        assert!(has("0.0.0.0/0", "8.8.8.8"));
        assert!(has("10.0.0.0/8", "::ffff:10.1.2.3"));
        assert!(has("192.168.1.10-192.168.1.20", "192.168.1.15"));
        assert!(!has("192.168.1.10-192.168.1.20", "192.168.1.21"));
        assert!(has("fe80::/10", "fe80::1"));
        assert!(!has("fe80::/10", "10.0.0.1"));
        for bad in ["10.0.0.0/33", "10.0.0.2-10.0.0.1", "::1-10.0.0.1", "host", ""] {
            assert_eq!(IpRange::parse(bad), None, "{bad}");
        }
    }
}
