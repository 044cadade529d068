//! Access control: an ACL policy bound to a publish record lets in only the listed callers
//! (`PERMIT`) or keeps them out (`DENY`). `IP` policies list addresses, CIDR blocks and
//! `first-last` ranges and judge the client address. `DOMAIN` and `DOMAIN_ID` policies list
//! accounts and judge the caller's account, which only IAM-authenticated callers have (in
//! Portico an account's id is its name): a caller without one is kept out by a `PERMIT`
//! policy and let through by a `DENY` policy.

use std::collections::HashSet;
use std::net::IpAddr;

use portico_model::Acl;

use crate::error::GatewayError;
use crate::ip::IpRange;

#[derive(Debug)]
enum Entries {
    Ips(Vec<IpRange>),
    Accounts(HashSet<String>),
}

/// An ACL policy, compiled when the route table is built.
#[derive(Debug)]
pub struct AclPolicy {
    permit: bool,
    entries: Entries,
}

impl AclPolicy {
    /// Compiles `acl`; entries that cannot be parsed (validation keeps them out) match nothing.
    pub fn new(acl: &Acl) -> AclPolicy {
        let values = acl.acl_value.split(',').map(str::trim).filter(|v| !v.is_empty());
        let entries = if acl.entity_type == "IP" {
            Entries::Ips(values.filter_map(IpRange::parse).collect())
        } else {
            Entries::Accounts(values.map(str::to_string).collect())
        };
        AclPolicy { permit: acl.acl_type == "PERMIT", entries }
    }

    /// Whether the policy is judged on the client address alone (so before authentication).
    pub fn by_ip(&self) -> bool {
        matches!(self.entries, Entries::Ips(_))
    }

    /// Judges a caller at `ip`, of `account` when authenticated by IAM.
    pub fn check(&self, ip: IpAddr, account: Option<&str>) -> Result<(), GatewayError> {
        let listed = match &self.entries {
            Entries::Ips(ranges) => ranges.iter().any(|r| r.contains(ip)),
            Entries::Accounts(accounts) => account.is_some_and(|a| accounts.contains(a)),
        };
        if listed == self.permit {
            return Ok(());
        }
        Err(match &self.entries {
            Entries::Ips(_) => GatewayError::IpDenied(ip.to_string()),
            Entries::Accounts(_) => GatewayError::AccountDenied,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn acl(acl_type: &str, entity_type: &str, value: &str) -> AclPolicy {
        AclPolicy::new(&Acl {
            id: "a".into(),
            acl_name: "a".into(),
            acl_type: acl_type.into(),
            acl_value: value.into(),
            entity_type: entity_type.into(),
            update_time: OffsetDateTime::UNIX_EPOCH,
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn permit_and_deny_by_ip() {
        let permit = acl("PERMIT", "IP", "10.0.0.0/8, 192.168.1.1-192.168.1.9,127.0.0.1");
        assert!(permit.by_ip());
        assert!(permit.check(ip("10.1.2.3"), None).is_ok());
        assert!(permit.check(ip("192.168.1.5"), None).is_ok());
        assert!(permit.check(ip("127.0.0.1"), None).is_ok());
        assert_eq!(permit.check(ip("8.8.8.8"), None), Err(GatewayError::IpDenied("8.8.8.8".into())));
        let deny = acl("DENY", "IP", "127.0.0.0/8");
        assert!(deny.check(ip("127.0.0.5"), None).is_err());
        assert!(deny.check(ip("10.0.0.1"), None).is_ok());
    }

    #[test]
    fn accounts_judge_iam_callers() {
        let permit = acl("PERMIT", "DOMAIN", "portico,other");
        assert!(!permit.by_ip());
        assert!(permit.check(ip("10.0.0.1"), Some("portico")).is_ok());
        assert_eq!(permit.check(ip("10.0.0.1"), Some("third")), Err(GatewayError::AccountDenied));
        assert_eq!(permit.check(ip("10.0.0.1"), None), Err(GatewayError::AccountDenied));
        let deny = acl("DENY", "DOMAIN_ID", "portico");
        assert!(deny.check(ip("10.0.0.1"), Some("portico")).is_err());
        assert!(deny.check(ip("10.0.0.1"), None).is_ok());
    }
}
