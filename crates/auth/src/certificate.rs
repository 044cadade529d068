//! Uploaded TLS certificates, checked as APIG checks them before it stores one: the PEM chain
//! parses, the private key is the certificate's, the certificate is in its validity period,
//! and an optional trusted root CA (for mutual TLS) parses. What the SDK shows of a
//! certificate (names, validity, issuer, algorithm) is read here once, at upload.

use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};

/// Why an uploaded certificate is refused; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The certificate content holds no PEM certificate, or one that does not parse.
    #[error("the certificate content is not a PEM certificate chain: {0}")]
    Chain(String),
    /// The private key does not parse, or is of an unsupported kind.
    #[error("the private key is not a usable PEM private key: {0}")]
    Key(String),
    /// The private key is not the certificate's.
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    /// The certificate's validity period has ended (or not begun).
    #[error("the certificate is not valid now (valid from {not_before} to {not_after})")]
    NotValidNow {
        /// Start of validity.
        not_before: OffsetDateTime,
        /// End of validity.
        not_after: OffsetDateTime,
    },
    /// The trusted root CA holds no PEM certificate, or one that does not parse.
    #[error("the trusted root CA is not a PEM certificate: {0}")]
    TrustedRootCa(String),
}

/// What the SDK shows of a certificate, read from its leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The subject's common name (empty when it has none).
    pub common_name: String,
    /// The DNS names of the subject alternative name extension.
    pub san: Vec<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Signature algorithm, as APIG spells it (`SHA256withRSA`, `SHA256withECDSA`, …).
    pub signature_algorithm: String,
    /// `RSA` or `ECC` (the key's algorithm).
    pub algorithm_type: String,
    /// X.509 version (3 for any current certificate).
    pub version: i32,
    /// Subject organisation(s).
    pub organization: Vec<String>,
    /// Subject organisational unit(s).
    pub organizational_unit: Vec<String>,
    /// Subject locality(ies).
    pub locality: Vec<String>,
    /// Subject state(s) or province(s).
    pub state: Vec<String>,
    /// Subject country(ies).
    pub country: Vec<String>,
    /// Issuer's attributes, each `KEY=value`.
    pub issuer: Vec<String>,
    /// Serial number, hex.
    pub serial_number: String,
}

/// The DER certificates of a PEM chain, leaf first.
pub fn pem_chain(pem: &str) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertificateError::Chain(e.to_string()))?;
    if chain.is_empty() {
        return Err(CertificateError::Chain("no certificate found".into()));
    }
    for der in &chain {
        X509Certificate::from_der(der).map_err(|e| CertificateError::Chain(e.to_string()))?;
    }
    Ok(chain)
}

/// The leaf and key of an upload as rustls serves them; fails unless the key is the leaf's.
pub fn certified_key(cert_pem: &str, key_pem: &str) -> Result<CertifiedKey, CertificateError> {
    let chain = pem_chain(cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| CertificateError::Key(e.to_string()))?;
    CertifiedKey::from_der(chain, key, &default_provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => CertificateError::KeyMismatch,
        other => CertificateError::Key(other.to_string()),
    })
}

/// Checks an upload at `now` and reads its facts.
pub fn inspect(
    cert_pem: &str,
    key_pem: &str,
    trusted_root_ca: Option<&str>,
    now: OffsetDateTime,
) -> Result<CertificateFacts, CertificateError> {
    let key = certified_key(cert_pem, key_pem)?;
    if let Some(ca) = trusted_root_ca {
        pem_chain(ca).map_err(|e| CertificateError::TrustedRootCa(e.to_string()))?;
    }
    let leaf = key.end_entity_cert().map_err(|e| CertificateError::Chain(e.to_string()))?;
    let facts = facts(leaf)?;
    if now < facts.not_before || now > facts.not_after {
        return Err(CertificateError::NotValidNow { not_before: facts.not_before, not_after: facts.not_after });
    }
    Ok(facts)
}

fn facts(der: &CertificateDer<'_>) -> Result<CertificateFacts, CertificateError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertificateError::Chain(e.to_string()))?;
    let time = |t: x509_parser::time::ASN1Time| {
        OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(|e| CertificateError::Chain(e.to_string()))
    };
    let subject = cert.subject();
    let san = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let algorithm_type = match cert.public_key().algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA",
        _ => "ECC",
    };
    Ok(CertificateFacts {
        common_name: values(subject.iter_common_name()).into_iter().next().unwrap_or_default(),
        san,
        not_before: time(cert.validity().not_before)?,
        not_after: time(cert.validity().not_after)?,
        signature_algorithm: signature_algorithm(&cert.signature_algorithm.algorithm.to_id_string()),
        algorithm_type: algorithm_type.into(),
        version: cert.version().0 as i32 + 1,
        organization: values(subject.iter_organization()),
        organizational_unit: values(subject.iter_organizational_unit()),
        locality: values(subject.iter_locality()),
        state: values(subject.iter_state_or_province()),
        country: values(subject.iter_country()),
        issuer: issuer(cert.issuer()),
        serial_number: cert.raw_serial_as_string().replace(':', ""),
    })
}

fn values<'a>(attributes: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>) -> Vec<String> {
    attributes.filter_map(|a| a.as_str().ok().map(str::to_string)).collect()
}

fn issuer(name: &X509Name<'_>) -> Vec<String> {
    name.to_string().split(", ").map(str::to_string).collect()
}

/// APIG's spelling of the common signature algorithms; others by their OID.
fn signature_algorithm(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.11" => "SHA256withRSA",
        "1.2.840.113549.1.1.12" => "SHA384withRSA",
        "1.2.840.113549.1.1.13" => "SHA512withRSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.3.2" => "SHA256withECDSA",
        "1.2.840.10045.4.3.3" => "SHA384withECDSA",
        "1.2.840.10045.4.3.4" => "SHA512withECDSA",
        "1.3.101.112" => "Ed25519",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    }

    #[test]
    fn an_upload_is_read() {
        let (cert, key) = issued(&["api.example.com", "*.apps.example.com"]);
        let facts = inspect(&cert, &key, None, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(facts.san, ["api.example.com", "*.apps.example.com"]);
        assert_eq!((facts.algorithm_type.as_str(), facts.signature_algorithm.as_str()), ("ECC", "SHA256withECDSA"));
    }

    #[test]
    fn a_key_of_another_certificate_or_garbage_is_refused() {
        let (cert, _) = issued(&["a.example.com"]);
        let (_, other_key) = issued(&["a.example.com"]);
        let now = OffsetDateTime::now_utc();
        assert_eq!(inspect(&cert, &other_key, None, now), Err(CertificateError::KeyMismatch));
        assert!(matches!(inspect("not pem", &other_key, None, now), Err(CertificateError::Chain(_))));
        assert!(matches!(inspect(&cert, "not a key", None, now), Err(CertificateError::Key(_))));
        let (ok_cert, ok_key) = issued(&["a.example.com"]);
        assert!(matches!(inspect(&ok_cert, &ok_key, Some("junk"), now), Err(CertificateError::TrustedRootCa(_))));
        let later = now + time::Duration::days(365 * 5000);
        assert!(matches!(inspect(&ok_cert, &ok_key, None, later), Err(CertificateError::NotValidNow { .. })));
    }
}
