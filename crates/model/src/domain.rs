//! Custom domains of API groups (`UrlDomain`) and the SSL certificates they are served with
//! (`CertificateForm`, `CertBase`), with APIG's rules for their bodies.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{FieldError, from_value, parse_json};

/// The TLS versions a domain may require at least.
pub const MIN_SSL_VERSIONS: [&str; 2] = ["TLSv1.1", "TLSv1.2"];
/// What a domain requires when the client says nothing (APIG's default).
pub const DEFAULT_MIN_SSL_VERSION: &str = "TLSv1.1";
/// Longest certificate chain or CA bundle accepted, in bytes: a chain of a few certificates
/// is a few KiB, and a stored certificate is loaded by every gateway node.
pub const MAX_CERTIFICATE_PEM: usize = 64 * 1024;
/// Longest private key accepted, in bytes (an RSA-8192 PEM key is under 7 KiB).
pub const MAX_PRIVATE_KEY_PEM: usize = 16 * 1024;

/// A domain bound to an API group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// Domain id.
    pub id: String,
    /// The group it reaches.
    pub group_id: String,
    /// The domain name, lower case.
    pub url_domain: String,
    /// `TLSv1.1` or `TLSv1.2`.
    pub min_ssl_version: String,
    /// Whether plain HTTP requests are redirected to HTTPS.
    pub is_http_redirect_to_https: bool,
    /// Whether HTTPS clients must present a certificate signed by the bound certificate's CA.
    pub verified_client_certificate_enabled: bool,
    /// The bound certificate, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_id: Option<String>,
}

/// The settings of `AssociateDomainV2` / `UpdateDomainV2` (`UrlDomainCreate`, `UrlDomainModify`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DomainSettings {
    /// See [`Domain::min_ssl_version`].
    pub min_ssl_version: Option<String>,
    /// See [`Domain::is_http_redirect_to_https`].
    pub is_http_redirect_to_https: Option<bool>,
    /// See [`Domain::verified_client_certificate_enabled`]; only on update.
    pub verified_client_certificate_enabled: Option<bool>,
    /// Custom ingress ports are not offered: only `-1` (the listener's ports) is accepted.
    pub ingress_http_port: Option<i64>,
    /// As `ingress_http_port`.
    pub ingress_https_port: Option<i64>,
}

impl DomainSettings {
    fn check(doc: &Value) -> Result<DomainSettings, FieldError> {
        let settings: DomainSettings = from_value(doc)?;
        if settings.min_ssl_version.as_deref().is_some_and(|v| !MIN_SSL_VERSIONS.contains(&v)) {
            return Err(FieldError::invalid("min_ssl_version"));
        }
        for (field, port) in
            [("ingress_http_port", settings.ingress_http_port), ("ingress_https_port", settings.ingress_https_port)]
        {
            if port.is_some_and(|p| p != -1) {
                return Err(FieldError::invalid(field));
            }
        }
        Ok(settings)
    }

    /// The body of `UpdateDomainV2`.
    pub fn from_json(body: &[u8]) -> Result<DomainSettings, FieldError> {
        DomainSettings::check(&parse_json(body)?)
    }

    /// `domain` with these settings applied (what is absent is kept).
    pub fn apply(&self, domain: &Domain) -> Domain {
        Domain {
            min_ssl_version: self.min_ssl_version.clone().unwrap_or_else(|| domain.min_ssl_version.clone()),
            is_http_redirect_to_https: self.is_http_redirect_to_https.unwrap_or(domain.is_http_redirect_to_https),
            verified_client_certificate_enabled: self
                .verified_client_certificate_enabled
                .unwrap_or(domain.verified_client_certificate_enabled),
            ..domain.clone()
        }
    }
}

impl Domain {
    /// The body of `AssociateDomainV2`: a new domain of `group_id` with a fresh id.
    pub fn from_json(body: &[u8], group_id: &str) -> Result<Domain, FieldError> {
        let doc = parse_json(body)?;
        let name = match doc.get("url_domain") {
            None | Some(Value::Null) => return Err(FieldError::Missing("url_domain".into())),
            Some(Value::String(s)) if s.is_empty() => return Err(FieldError::Missing("url_domain".into())),
            Some(Value::String(s)) => s.to_ascii_lowercase(),
            Some(_) => return Err(FieldError::invalid("url_domain")),
        };
        if !is_domain_name(&name) {
            return Err(FieldError::invalid("url_domain"));
        }
        let mut settings = DomainSettings::check(&doc)?;
        // Mutual TLS needs a certificate with a CA, which a new domain has not got yet.
        settings.verified_client_certificate_enabled = None;
        let blank = Domain {
            id: crate::new_id(),
            group_id: group_id.to_string(),
            url_domain: name,
            min_ssl_version: DEFAULT_MIN_SSL_VERSION.into(),
            is_http_redirect_to_https: false,
            verified_client_certificate_enabled: false,
            ssl_id: None,
        };
        Ok(settings.apply(&blank))
    }
}

/// APIG's domain syntax: 1–255 characters, at least two dot-separated labels of letters,
/// digits and inner hyphens (each 1–63), a last label that is not all digits (no IP
/// addresses), and optionally a leading `*.` wildcard.
pub fn is_domain_name(name: &str) -> bool {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    let labels: Vec<&str> = bare.split('.').collect();
    name.len() <= 255
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && !labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// An SSL certificate of a project (`CertBase` and its details). The private key is not part
/// of it: see [`CertificateMaterial`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// Certificate id.
    pub id: String,
    /// Name, unique in the project.
    pub name: String,
    /// `global` (any instance of the project) or `instance` (one instance).
    #[serde(rename = "type")]
    pub kind: String,
    /// The instance of an `instance` certificate; `common` for a global one.
    pub instance_id: String,
    /// Owning project.
    pub project_id: String,
    /// Subject common name.
    pub common_name: String,
    /// Subject alternative DNS names.
    pub san: Vec<String>,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Signature algorithm.
    pub signature_algorithm: String,
    /// `RSA` or `ECC`.
    pub algorithm_type: String,
    /// X.509 version.
    pub version: i32,
    /// Subject organisation(s).
    pub organization: Vec<String>,
    /// Subject organisational unit(s).
    pub organizational_unit: Vec<String>,
    /// Subject locality(ies).
    pub locality: Vec<String>,
    /// Subject state(s).
    pub state: Vec<String>,
    /// Subject country(ies).
    pub country: Vec<String>,
    /// Issuer attributes.
    pub issuer: Vec<String>,
    /// Serial number, hex.
    pub serial_number: String,
    /// Whether a trusted root CA came with it (mutual TLS is possible).
    pub is_has_trusted_root_ca: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

impl Certificate {
    /// Whether the certificate is valid for `domain`: one of its DNS names (or, without any,
    /// its common name) is the domain, or a wildcard (`*.example.com`) that matches its first
    /// label.
    pub fn covers(&self, domain: &str) -> bool {
        let names: Vec<&str> = if self.san.is_empty() {
            vec![self.common_name.as_str()]
        } else {
            self.san.iter().map(String::as_str).collect()
        };
        names.into_iter().any(|name| name_covers(name, domain))
    }
}

fn name_covers(name: &str, domain: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(parent) => {
            domain.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(parent))
        }
        None => name.eq_ignore_ascii_case(domain),
    }
}

/// The PEM texts of a certificate: what the gateway serves it with.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateMaterial {
    /// The chain, leaf first.
    pub cert_content: String,
    /// The private key (sealed at rest).
    pub private_key: String,
    /// The CA client certificates must chain to, for mutual TLS.
    pub trusted_root_ca: Option<String>,
}

impl std::fmt::Debug for CertificateMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateMaterial").field("private_key", &"<redacted>").finish_non_exhaustive()
    }
}

/// The body of `CreateCertificateV2` / `UpdateCertificateV2` (`CertificateForm`) or of
/// `AssociateCertificateV2` (`CertForm`: name, content and key only).
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateInput {
    /// Name.
    pub name: String,
    /// `global` or `instance`.
    pub kind: String,
    /// The instance of an `instance` certificate, `common` otherwise.
    pub instance_id: String,
    /// The PEM texts.
    pub material: CertificateMaterial,
}

#[derive(Deserialize)]
struct CertificateBody {
    name: String,
    cert_content: String,
    private_key: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    instance_id: Option<String>,
    trusted_root_ca: Option<String>,
    algorithm_type: Option<String>,
}

impl CertificateInput {
    /// Parses and checks the body's form (not the certificate itself: that is
    /// `portico_auth::certificate::inspect`).
    pub fn from_json(body: &[u8]) -> Result<CertificateInput, FieldError> {
        let doc = parse_json(body)?;
        for key in ["name", "cert_content", "private_key"] {
            match doc.get(key) {
                None | Some(Value::Null) => return Err(FieldError::Missing(key.into())),
                Some(Value::String(s)) if s.is_empty() => return Err(FieldError::Missing(key.into())),
                _ => {}
            }
        }
        let body: CertificateBody = from_value(&doc)?;
        if !is_certificate_name(&body.name) {
            return Err(FieldError::invalid("name"));
        }
        if body.cert_content.len() > MAX_CERTIFICATE_PEM {
            return Err(FieldError::invalid("cert_content"));
        }
        if body.private_key.len() > MAX_PRIVATE_KEY_PEM {
            return Err(FieldError::invalid("private_key"));
        }
        let trusted_root_ca = body.trusted_root_ca.filter(|ca| !ca.is_empty());
        if trusted_root_ca.as_ref().is_some_and(|ca| ca.len() > MAX_CERTIFICATE_PEM) {
            return Err(FieldError::invalid("trusted_root_ca"));
        }
        // SM2 (Chinese national) certificates need a TLS stack rustls does not have.
        if body.algorithm_type.as_deref().is_some_and(|a| !["RSA", "ECC"].contains(&a)) {
            return Err(FieldError::invalid("algorithm_type"));
        }
        let kind = body.kind.unwrap_or_else(|| "global".into());
        let instance_id = match (kind.as_str(), body.instance_id.filter(|i| !i.is_empty())) {
            ("global", _) => "common".to_string(),
            ("instance", Some(id)) => id,
            ("instance", None) => return Err(FieldError::Missing("instance_id".into())),
            _ => return Err(FieldError::invalid("type")),
        };
        Ok(CertificateInput {
            name: body.name,
            kind,
            instance_id,
            material: CertificateMaterial {
                cert_content: body.cert_content,
                private_key: body.private_key,
                trusted_root_ca,
            },
        })
    }
}

/// APIG's certificate names: 4–50 characters, letters, digits, `_` and `-` (and CJK),
/// starting with a letter or CJK character.
fn is_certificate_name(name: &str) -> bool {
    let count = name.chars().count();
    (4..=50).contains(&count)
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || crate::rules::is_cjk(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || crate::rules::is_cjk(c))
}

/// One domain of `BatchAssociateDomainsV2` / `BatchDisassociateDomainsV2`
/// (`AttachOrDetachDomainInfo`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DomainRef {
    /// The domain name.
    pub domain: String,
    /// The instances whose bindings of that domain are meant; all of the project's if empty.
    #[serde(default)]
    pub instance_ids: Vec<String>,
    /// Mutual TLS for the domain (attach only).
    pub verified_client_certificate_enabled: Option<bool>,
}

/// Most certificates or domains one batch names.
pub const MAX_BATCH: usize = 100;

/// The body of `BatchAssociateDomainsV2` / `BatchDisassociateDomainsV2`.
pub fn domain_refs_from_json(body: &[u8]) -> Result<Vec<DomainRef>, FieldError> {
    #[derive(Deserialize)]
    struct Body {
        domains: Vec<DomainRef>,
    }
    let doc = parse_json(body)?;
    if doc.get("domains").is_none_or(Value::is_null) {
        return Err(FieldError::Missing("domains".into()));
    }
    let Body { mut domains } = from_value(&doc)?;
    if domains.is_empty() || domains.len() > MAX_BATCH {
        return Err(FieldError::invalid("domains"));
    }
    for (i, d) in domains.iter_mut().enumerate() {
        d.domain = d.domain.to_ascii_lowercase();
        if !is_domain_name(&d.domain) {
            return Err(FieldError::Invalid(format!("domains[{i}].domain")));
        }
    }
    Ok(domains)
}

/// The body of `BatchAssociateCertsV2` / `BatchDisassociateCertsV2`: certificate ids and the
/// optional mutual TLS setting.
pub fn certificate_ids_from_json(body: &[u8]) -> Result<(Vec<String>, Option<bool>), FieldError> {
    #[derive(Deserialize)]
    struct Body {
        certificate_ids: Vec<String>,
        verified_client_certificate_enabled: Option<bool>,
    }
    let doc = parse_json(body)?;
    if doc.get("certificate_ids").is_none_or(Value::is_null) {
        return Err(FieldError::Missing("certificate_ids".into()));
    }
    let body: Body = from_value(&doc)?;
    if body.certificate_ids.is_empty() || body.certificate_ids.len() > MAX_BATCH {
        return Err(FieldError::invalid("certificate_ids"));
    }
    Ok((body.certificate_ids, body.verified_client_certificate_enabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_follow_apig_syntax() {
        for ok in ["api.example.com", "*.example.com", "a-b.c1.io", "x.y"] {
            assert!(is_domain_name(ok), "{ok}");
        }
        for bad in ["example", "-a.example.com", "a..b", "10.0.0.1", "a_b.example.com", "*", "a.*.com", ""] {
            assert!(!is_domain_name(bad), "{bad}");
        }
        assert!(!is_domain_name(&format!("{}.com", "a".repeat(64))));
    }

    #[test]
    fn a_domain_body_is_checked_and_defaulted() {
        let d = Domain::from_json(br#"{"url_domain":"API.Example.com"}"#, "g").unwrap();
        assert_eq!((d.url_domain.as_str(), d.min_ssl_version.as_str()), ("api.example.com", "TLSv1.1"));
        assert_eq!(Domain::from_json(br#"{}"#, "g"), Err(FieldError::Missing("url_domain".into())));
        let bad = br#"{"url_domain":"a.example.com","min_ssl_version":"TLSv1.0"}"#;
        assert_eq!(Domain::from_json(bad, "g"), Err(FieldError::invalid("min_ssl_version")));
        let port = br#"{"url_domain":"a.example.com","ingress_https_port":8443}"#;
        assert_eq!(Domain::from_json(port, "g"), Err(FieldError::invalid("ingress_https_port")));
    }

    #[test]
    fn a_certificate_covers_its_names_and_one_level_of_wildcard() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let mut cert = Certificate {
            id: "c".into(),
            name: "cert".into(),
            kind: "global".into(),
            instance_id: "common".into(),
            project_id: "p".into(),
            common_name: "ignored.example.com".into(),
            san: vec!["api.example.com".into(), "*.apps.example.com".into()],
            not_before: t,
            not_after: t,
            signature_algorithm: String::new(),
            algorithm_type: "RSA".into(),
            version: 3,
            organization: vec![],
            organizational_unit: vec![],
            locality: vec![],
            state: vec![],
            country: vec![],
            issuer: vec![],
            serial_number: String::new(),
            is_has_trusted_root_ca: false,
            create_time: t,
            update_time: t,
        };
        assert!(cert.covers("API.example.com") && cert.covers("x.apps.example.com"));
        assert!(!cert.covers("apps.example.com") && !cert.covers("a.b.apps.example.com"));
        assert!(!cert.covers("ignored.example.com"));
        cert.san.clear();
        assert!(cert.covers("ignored.example.com"));
    }

    #[test]
    fn a_certificate_body_is_checked() {
        let ok = br#"{"name":"cert_1","cert_content":"C","private_key":"K"}"#;
        let input = CertificateInput::from_json(ok).unwrap();
        assert_eq!((input.kind.as_str(), input.instance_id.as_str()), ("global", "common"));
        let missing = br#"{"name":"cert_1","cert_content":"C"}"#;
        assert_eq!(CertificateInput::from_json(missing), Err(FieldError::Missing("private_key".into())));
        let name = br#"{"name":"1ab","cert_content":"C","private_key":"K"}"#;
        assert_eq!(CertificateInput::from_json(name), Err(FieldError::invalid("name")));
        let inst = br#"{"name":"cert_1","cert_content":"C","private_key":"K","type":"instance"}"#;
        assert_eq!(CertificateInput::from_json(inst), Err(FieldError::Missing("instance_id".into())));
        let sm2 = br#"{"name":"cert_1","cert_content":"C","private_key":"K","algorithm_type":"SM2"}"#;
        assert_eq!(CertificateInput::from_json(sm2), Err(FieldError::invalid("algorithm_type")));
    }
}
