//! [`DomainStore`]: custom domains of API groups and the SSL certificates of a project.
//!
//! A domain name reaches one group in the whole database (the gateway routes by `Host` across
//! instances); a certificate serves the domains bound to it, and every write that binds or
//! replaces one checks, in its transaction, that the certificate's names cover each domain it
//! serves and that mutual TLS is asked only of a certificate with a trusted root CA. Private
//! keys are sealed like app secrets. Every write here changes what the gateway serves, so it
//! commits through `SqlStore::commit` and wakes `Store::live_changed` on every node.

use async_trait::async_trait;
use portico_model::{Certificate, CertificateMaterial, Domain, DomainRef, Page, Paged};

use crate::{Result, TextMatch};

/// A certificate with its PEM texts.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    /// What the SDK shows.
    pub certificate: Certificate,
    /// Chain, key (in clear) and CA.
    pub material: CertificateMaterial,
}

/// A domain with the names the SDK shows beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundDomain {
    /// The domain.
    pub domain: Domain,
    /// Its instance.
    pub instance_id: String,
    /// Its group's name.
    pub group_name: String,
    /// The bound certificate's name and whether it has a trusted root CA.
    pub certificate: Option<(String, bool)>,
}

/// Filters of `ListCertificatesV2`.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    /// By name.
    pub name: Option<TextMatch>,
    /// By common name, exactly.
    pub common_name: Option<String>,
    /// `global` or `instance`.
    pub kind: Option<String>,
    /// By instance (`common` for global ones).
    pub instance_id: Option<String>,
    /// `RSA` or `ECC`.
    pub algorithm_type: Option<String>,
    /// By signature algorithm, exactly.
    pub signature_algorithm: Option<String>,
}

/// A domain the gateway serves, with the certificate it is served with.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveDomain {
    /// The domain.
    pub domain: Domain,
    /// The bound certificate's id and PEM texts.
    pub certificate: Option<(String, CertificateMaterial)>,
}

/// Domains and certificates.
#[async_trait]
pub trait DomainStore: Send + Sync {
    /// Stores a certificate; its private key is sealed. Conflict: the name is taken in the project.
    async fn create_certificate(&self, certificate: &Certificate, material: &CertificateMaterial) -> Result<()>;
    /// A certificate of the project with its PEM texts.
    async fn certificate(&self, project_id: &str, id: &str) -> Result<CertificateRecord>;
    /// Certificates of the project, oldest first.
    async fn list_certificates(
        &self,
        project_id: &str,
        filter: &CertificateFilter,
        page: Page,
    ) -> Result<Paged<Certificate>>;
    /// Replaces a certificate; its names must still cover every domain it serves, and it
    /// must keep a CA while a domain it serves asks for mutual TLS (`BadReference`).
    async fn update_certificate(&self, certificate: &Certificate, material: &CertificateMaterial) -> Result<()>;
    /// Deletes a certificate. Conflict: a domain is served with it.
    async fn delete_certificate(&self, project_id: &str, id: &str) -> Result<()>;

    /// Binds a domain to a group. NotFound: the group. Conflict: the name is bound anywhere.
    async fn create_domain(&self, instance_id: &str, domain: &Domain) -> Result<BoundDomain>;
    /// A domain of a group.
    async fn domain(&self, instance_id: &str, group_id: &str, id: &str) -> Result<BoundDomain>;
    /// The domains of a group, oldest first.
    async fn group_domains(&self, instance_id: &str, group_id: &str) -> Result<Vec<BoundDomain>>;
    /// Changes a domain's settings; mutual TLS needs a bound certificate with a CA.
    async fn update_domain(&self, instance_id: &str, domain: &Domain) -> Result<BoundDomain>;
    /// Unbinds a domain from its group.
    async fn delete_domain(&self, instance_id: &str, group_id: &str, id: &str) -> Result<()>;
    /// Serves a domain with a certificate of the project (replacing any), and sets mutual TLS
    /// when `verify_clients` says so. `BadReference`: the certificate does not cover the
    /// domain, belongs to another instance, or has no CA for mutual TLS.
    async fn attach_certificate(
        &self,
        project_id: &str,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate_id: &str,
        verify_clients: Option<bool>,
    ) -> Result<BoundDomain>;
    /// [`DomainStore::attach_certificate`] of a certificate stored in the same transaction.
    async fn attach_new_certificate(
        &self,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate: &Certificate,
        material: &CertificateMaterial,
    ) -> Result<BoundDomain>;
    /// Stops serving a domain with a certificate (mutual TLS goes with it). NotFound: the
    /// domain is not served with it.
    async fn detach_certificate(
        &self,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate_id: &str,
    ) -> Result<()>;
    /// Serves each named domain of the project (in the named instances, or all) with the
    /// certificate, all or none. NotFound: a domain is bound nowhere in those instances.
    async fn attach_domains(&self, project_id: &str, certificate_id: &str, domains: &[DomainRef]) -> Result<()>;
    /// Stops serving each named domain with the certificate, all or none.
    async fn detach_domains(&self, project_id: &str, certificate_id: &str, domains: &[DomainRef]) -> Result<()>;
    /// The domains a certificate serves, oldest first, optionally those whose name contains `url_domain`.
    async fn list_attached_domains(
        &self,
        project_id: &str,
        certificate_id: &str,
        url_domain: Option<&str>,
        page: Page,
    ) -> Result<Paged<BoundDomain>>;
    /// Switches the group's generated subdomain on or off.
    async fn set_sl_domain_access(&self, instance_id: &str, group_id: &str, enabled: bool) -> Result<()>;
}
