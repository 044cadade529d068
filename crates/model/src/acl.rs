//! Access control (ACL) policies: who may, or may not, call an API.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::parse_json;
use crate::group::required_str;
use crate::rules::{is_ip_or_cidr, is_policy_name};

/// An ACL policy (`ApiAclInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acl {
    /// Policy id.
    pub id: String,
    /// Name, unique in the instance.
    pub acl_name: String,
    /// `PERMIT` or `DENY`.
    pub acl_type: String,
    /// Comma-separated IPs / CIDR ranges / `a-b` ranges, account names or account ids.
    pub acl_value: String,
    /// `IP`, `DOMAIN` or `DOMAIN_ID`.
    pub entity_type: String,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

/// Most entries of an IP ACL.
pub const MAX_IP_ENTRIES: usize = 100;

fn is_ip_range(entry: &str) -> bool {
    match entry.split_once('-') {
        Some((a, b)) => match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
            (Ok(IpAddr::V4(a)), Ok(IpAddr::V4(b))) => a <= b,
            (Ok(IpAddr::V6(a)), Ok(IpAddr::V6(b))) => a <= b,
            _ => false,
        },
        None => is_ip_or_cidr(entry),
    }
}

fn check_value(entity_type: &str, value: &str) -> bool {
    let entries: Vec<&str> = value.split(',').map(str::trim).collect();
    if entries.iter().any(|e| e.is_empty()) {
        return false;
    }
    match entity_type {
        "IP" => entries.len() <= MAX_IP_ENTRIES && entries.iter().all(|e| is_ip_range(e)),
        "DOMAIN" => {
            value.chars().count() <= 1024
                && entries.iter().all(|e| e.chars().count() <= 64 && !e.chars().all(|c| c.is_ascii_digit()))
        }
        _ => {
            value.chars().count() <= 1024
                && entries.iter().all(|e| e.len() <= 64 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        }
    }
}

/// Body of `CreateAclStrategyV2` / `UpdateAclStrategyV2` (`ApiAclCreate`), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AclInput {
    /// See [`Acl`].
    pub acl_name: String,
    /// See [`Acl`].
    pub acl_type: String,
    /// See [`Acl`], with blanks around entries removed.
    pub acl_value: String,
    /// See [`Acl`].
    pub entity_type: String,
}

impl AclInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<AclInput, FieldError> {
        let doc = parse_json(body)?;
        let input = AclInput {
            acl_name: required_str(&doc, "acl_name")?,
            acl_type: required_str(&doc, "acl_type")?,
            acl_value: required_str(&doc, "acl_value")?,
            entity_type: required_str(&doc, "entity_type")?,
        };
        if !is_policy_name(&input.acl_name) {
            return Err(FieldError::invalid("acl_name"));
        }
        if !matches!(input.acl_type.as_str(), "PERMIT" | "DENY") {
            return Err(FieldError::invalid("acl_type"));
        }
        if !matches!(input.entity_type.as_str(), "IP" | "DOMAIN" | "DOMAIN_ID") {
            return Err(FieldError::invalid("entity_type"));
        }
        if !check_value(&input.entity_type, &input.acl_value) {
            return Err(FieldError::invalid("acl_value"));
        }
        let acl_value = input.acl_value.split(',').map(str::trim).collect::<Vec<_>>().join(",");
        Ok(AclInput { acl_value, ..input })
    }

    /// The policy these settings describe.
    pub fn into_acl(self, id: String, update_time: OffsetDateTime) -> Acl {
        Acl {
            id,
            acl_name: self.acl_name,
            acl_type: self.acl_type,
            acl_value: self.acl_value,
            entity_type: self.entity_type,
            update_time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entity: &str, value: &str) -> Result<AclInput, FieldError> {
        let body =
            serde_json::json!({"acl_name": "acl_1", "acl_type": "PERMIT", "entity_type": entity, "acl_value": value});
        AclInput::from_json(body.to_string().as_bytes())
    }

    #[test]
    fn ip_values_are_addresses_cidrs_or_ranges() {
        assert_eq!(
            parse("IP", "10.0.0.0/8, 192.168.1.1,1.1.1.1-1.1.1.9,::1").unwrap().acl_value,
            "10.0.0.0/8,192.168.1.1,1.1.1.1-1.1.1.9,::1"
        );
        for bad in ["10.0.0.0/33", "300.1.1.1", "1.1.1.9-1.1.1.1", "a.b", "1.1.1.1,,2.2.2.2", "10.0.0.1/8x"] {
            assert_eq!(parse("IP", bad), Err(FieldError::invalid("acl_value")), "{bad}");
        }
        let many = vec!["1.1.1.1"; 101].join(",");
        assert_eq!(parse("IP", &many), Err(FieldError::invalid("acl_value")));
    }

    #[test]
    fn domains_and_types() {
        assert!(parse("DOMAIN", "tenant_a,tenant-b").is_ok());
        assert_eq!(parse("DOMAIN", "12345"), Err(FieldError::invalid("acl_value")));
        assert!(parse("DOMAIN_ID", "0123456789abcdef0123456789abcdef").is_ok());
        assert_eq!(parse("DOMAIN_ID", "not an id"), Err(FieldError::invalid("acl_value")));
        assert_eq!(parse("HOST", "x"), Err(FieldError::invalid("entity_type")));
        let body = br#"{"acl_name":"acl_1","acl_type":"ALLOW","entity_type":"IP","acl_value":"1.1.1.1"}"#;
        assert_eq!(AclInput::from_json(body), Err(FieldError::invalid("acl_type")));
    }
}
