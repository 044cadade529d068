//! [`DomainStore`]: domains of groups and certificates of projects (private keys sealed), over
//! migration `0008_domains.sql`.

use async_trait::async_trait;
use portico_model::{ApiGroup, Certificate, CertificateMaterial, Domain, DomainRef, Page, Paged};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};

use super::{Engine, SqlStore, Tx, to_doc, unique_or};
use crate::domains::*;
use crate::openapi::ImportedDomain;
use crate::{Conflict, DomainStore, ExtendMode, Kind, Result, StoreError};

const CERTIFICATE_COLUMNS: &str = "doc, cert_content, sealed_key, trusted_root_ca";
const DOMAIN_SELECT: &str = "SELECT d.doc, d.ssl_id, d.instance_id, g.name AS group_name, c.name AS ssl_name, \
     c.trusted_root_ca FROM domains d JOIN api_groups g ON g.id = d.group_id \
     LEFT JOIN certificates c ON c.id = d.ssl_id";

fn bad_reference(field: &str, message: String) -> StoreError {
    StoreError::BadReference { field: field.into(), message }
}

impl<DB> SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    fn decode_certificate(&self, row: &DB::Row) -> Result<CertificateRecord> {
        let sealed: String = row.try_get("sealed_key")?;
        Ok(CertificateRecord {
            certificate: Self::from_doc(row, "doc")?,
            material: CertificateMaterial {
                cert_content: row.try_get("cert_content")?,
                private_key: self.secrets.open(&sealed)?,
                trusted_root_ca: row.try_get("trusted_root_ca")?,
            },
        })
    }

    fn decode_domain(row: &DB::Row) -> Result<BoundDomain> {
        let stored: Domain = Self::from_doc(row, "doc")?;
        let ssl_name: Option<String> = row.try_get("ssl_name")?;
        let ca: Option<String> = row.try_get("trusted_root_ca")?;
        Ok(BoundDomain {
            domain: Domain { ssl_id: row.try_get("ssl_id")?, ..stored },
            instance_id: row.try_get("instance_id")?,
            group_name: row.try_get("group_name")?,
            certificate: ssl_name.map(|name| (name, ca.is_some())),
        })
    }

    async fn domain_in(tx: &mut Tx<DB>, instance_id: &str, group_id: &str, id: &str) -> Result<BoundDomain> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{DOMAIN_SELECT} WHERE d.instance_id = $1 AND d.group_id = $2 AND d.id = $3"
        )))
        .bind(instance_id)
        .bind(group_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Domain, id))?;
        Self::decode_domain(&row)
    }

    async fn certificate_in(tx: &mut Tx<DB>, project_id: &str, id: &str) -> Result<(Certificate, bool)> {
        let row = sqlx::query("SELECT doc, trusted_root_ca FROM certificates WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Certificate, id))?;
        let ca: Option<String> = row.try_get("trusted_root_ca")?;
        Ok((Self::from_doc(&row, "doc")?, ca.is_some()))
    }

    /// Whether `certificate` (with a CA or not) may serve `domain` of `instance_id` as it is set.
    fn check_serving(certificate: &Certificate, has_ca: bool, domain: &Domain, instance_id: &str) -> Result<()> {
        if !certificate.covers(&domain.url_domain) {
            return Err(bad_reference(
                "certificate_id",
                format!("The certificate {} does not cover the domain {}", certificate.name, domain.url_domain),
            ));
        }
        if certificate.kind == "instance" && certificate.instance_id != instance_id {
            return Err(bad_reference(
                "certificate_id",
                format!("The certificate {} belongs to another instance", certificate.name),
            ));
        }
        if domain.verified_client_certificate_enabled && !has_ca {
            return Err(bad_reference(
                "verified_client_certificate_enabled",
                format!("The certificate {} has no trusted root CA to verify clients with", certificate.name),
            ));
        }
        Ok(())
    }

    async fn save_domain(tx: &mut Tx<DB>, domain: &Domain) -> Result<()> {
        sqlx::query("UPDATE domains SET ssl_id = $1, doc = $2 WHERE id = $3")
            .bind(domain.ssl_id.clone())
            .bind(to_doc(domain)?)
            .bind(&domain.id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn attach_in(
        tx: &mut Tx<DB>,
        project_id: &str,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate_id: &str,
        verify_clients: Option<bool>,
    ) -> Result<()> {
        let bound = Self::domain_in(tx, instance_id, group_id, domain_id).await?;
        let (certificate, has_ca) = Self::certificate_in(tx, project_id, certificate_id).await?;
        let domain = Domain {
            ssl_id: Some(certificate.id.clone()),
            verified_client_certificate_enabled: verify_clients
                .unwrap_or(bound.domain.verified_client_certificate_enabled),
            ..bound.domain
        };
        Self::check_serving(&certificate, has_ca, &domain, instance_id)?;
        Self::save_domain(tx, &domain).await
    }

    async fn project_of(tx: &mut Tx<DB>, instance_id: &str) -> Result<String> {
        sqlx::query_scalar("SELECT project_id FROM instances WHERE id = $1")
            .bind(instance_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Instance, instance_id))
    }

    /// Binds an import's domains to `group_id` inside the import's transaction, each as
    /// `AssociateDomainV2` would and served with its certificate as `AssociateCertificateV2`
    /// would (`ImportRequest::domains`).
    pub(super) async fn import_domains_in(
        tx: &mut Tx<DB>,
        instance_id: &str,
        group_id: &str,
        domains: &[ImportedDomain],
        mode: ExtendMode,
    ) -> Result<()> {
        if domains.is_empty() {
            return Ok(());
        }
        let project_id = Self::project_of(tx, instance_id).await?;
        for imported in domains {
            let name = &imported.domain.url_domain;
            let row = sqlx::query("SELECT id, instance_id, group_id FROM domains WHERE url_domain = $1")
                .bind(name)
                .fetch_optional(&mut **tx)
                .await?;
            let bound: Option<(String, String, String)> = match row {
                Some(row) => Some((row.try_get("id")?, row.try_get("instance_id")?, row.try_get("group_id")?)),
                None => None,
            };
            let id = match bound {
                Some((_, instance, group)) if instance != instance_id || group != group_id => {
                    return Err(StoreError::Conflict(Conflict::DomainTaken(name.clone())));
                }
                Some(_) if mode == ExtendMode::Merge => continue,
                Some((id, _, _)) => id,
                None => {
                    sqlx::query(
                        "INSERT INTO domains (id, instance_id, group_id, url_domain, ssl_id, doc) \
                         VALUES ($1, $2, $3, $4, NULL, $5)",
                    )
                    .bind(&imported.domain.id)
                    .bind(instance_id)
                    .bind(group_id)
                    .bind(name)
                    .bind(to_doc(&imported.domain)?)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| unique_or(e, Conflict::DomainTaken(name.clone())))?;
                    imported.domain.id.clone()
                }
            };
            let refused = |key: &str, message: String| bad_reference(&format!("{}.{key}", imported.field), message);
            let ssl_id = match &imported.certificate {
                Some(certificate) => {
                    let found: Option<String> =
                        sqlx::query_scalar("SELECT id FROM certificates WHERE project_id = $1 AND name = $2")
                            .bind(&project_id)
                            .bind(certificate)
                            .fetch_optional(&mut **tx)
                            .await?;
                    let Some(ssl_id) = found else {
                        return Err(refused(
                            "ssl_name",
                            format!("The project has no certificate named {certificate} for the domain {name}"),
                        ));
                    };
                    Some(ssl_id)
                }
                None => None,
            };
            let domain = Domain { id, group_id: group_id.to_owned(), ssl_id, ..imported.domain.clone() };
            match &domain.ssl_id {
                Some(ssl_id) => {
                    let (certificate, has_ca) = Self::certificate_in(tx, &project_id, ssl_id).await?;
                    Self::check_serving(&certificate, has_ca, &domain, instance_id).map_err(|e| match e {
                        // The document names the certificate, not its id.
                        StoreError::BadReference { field, message } if field == "certificate_id" => {
                            refused("ssl_name", message)
                        }
                        StoreError::BadReference { field, message } => refused(&field, message),
                        other => other,
                    })?;
                }
                None if domain.verified_client_certificate_enabled => {
                    return Err(refused(
                        "verified_client_certificate_enabled",
                        format!("The domain {name} has no certificate to verify clients with"),
                    ));
                }
                None => {}
            }
            Self::save_domain(tx, &domain).await?;
        }
        Ok(())
    }

    /// The project's domain named by `r` (in its instances, if it names some), with its instance.
    async fn domain_named(tx: &mut Tx<DB>, project_id: &str, r: &DomainRef) -> Result<(Domain, String)> {
        let row = sqlx::query(
            "SELECT d.doc, d.ssl_id, d.instance_id FROM domains d JOIN instances i ON i.id = d.instance_id \
             WHERE i.project_id = $1 AND d.url_domain = $2",
        )
        .bind(project_id)
        .bind(&r.domain)
        .fetch_optional(&mut **tx)
        .await?;
        let found = match row {
            Some(row) => {
                let instance_id: String = row.try_get("instance_id")?;
                let stored: Domain = Self::from_doc(&row, "doc")?;
                Some((Domain { ssl_id: row.try_get("ssl_id")?, ..stored }, instance_id))
            }
            None => None,
        };
        found
            .filter(|(_, instance)| r.instance_ids.is_empty() || r.instance_ids.contains(instance))
            .ok_or_else(|| StoreError::not_found(Kind::Domain, &r.domain))
    }
}

#[async_trait]
impl<DB> DomainStore for SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    async fn create_certificate(&self, certificate: &Certificate, material: &CertificateMaterial) -> Result<()> {
        let mut tx = self.write().await?;
        self.insert_certificate(&mut tx, certificate, material).await?;
        self.commit(tx).await
    }

    async fn certificate(&self, project_id: &str, id: &str) -> Result<CertificateRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE project_id = $1 AND id = $2"
        )))
        .bind(project_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Certificate, id))?;
        self.decode_certificate(&row)
    }

    async fn list_certificates(
        &self,
        project_id: &str,
        filter: &CertificateFilter,
        page: Page,
    ) -> Result<Paged<Certificate>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE project_id = ").push_bind(project_id.to_string());
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
            for (field, value) in [
                ("common_name", &filter.common_name),
                ("type", &filter.kind),
                ("instance_id", &filter.instance_id),
                ("algorithm_type", &filter.algorithm_type),
                ("signature_algorithm", &filter.signature_algorithm),
            ] {
                if let Some(value) = value {
                    q.push(format!(" AND {} = ", DB::json_text("doc", field))).push_bind(value.clone());
                }
            }
        };
        self.paged("doc", "certificates", "seq", filters, page, |row| Self::from_doc(row, "doc")).await
    }

    async fn update_certificate(&self, certificate: &Certificate, material: &CertificateMaterial) -> Result<()> {
        let mut tx = self.write().await?;
        let updated = sqlx::query(
            "UPDATE certificates SET name = $1, cert_content = $2, sealed_key = $3, trusted_root_ca = $4, doc = $5 \
             WHERE project_id = $6 AND id = $7",
        )
        .bind(&certificate.name)
        .bind(&material.cert_content)
        .bind(self.secrets.seal(&material.private_key)?)
        .bind(material.trusted_root_ca.clone())
        .bind(to_doc(certificate)?)
        .bind(&certificate.project_id)
        .bind(&certificate.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::CertificateName(certificate.name.clone())))?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(Kind::Certificate, &certificate.id));
        }
        let served = sqlx::query("SELECT doc, instance_id FROM domains WHERE ssl_id = $1 ORDER BY seq")
            .bind(&certificate.id)
            .fetch_all(&mut *tx)
            .await?;
        for row in &served {
            let domain: Domain = Self::from_doc(row, "doc")?;
            let instance_id: String = row.try_get("instance_id")?;
            Self::check_serving(certificate, material.trusted_root_ca.is_some(), &domain, &instance_id)?;
        }
        self.commit(tx).await
    }

    async fn delete_certificate(&self, project_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let (certificate, _) = Self::certificate_in(&mut tx, project_id, id).await?;
        let serving: Option<String> = sqlx::query_scalar("SELECT url_domain FROM domains WHERE ssl_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(domain) = serving {
            return Err(Conflict::CertificateBound(certificate.name, domain).into());
        }
        sqlx::query("DELETE FROM certificates WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
    }

    async fn create_domain(&self, instance_id: &str, domain: &Domain) -> Result<BoundDomain> {
        let mut tx = self.write().await?;
        let group: Option<String> = sqlx::query_scalar("SELECT id FROM api_groups WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(&domain.group_id)
            .fetch_optional(&mut *tx)
            .await?;
        if group.is_none() {
            return Err(StoreError::not_found(Kind::Group, &domain.group_id));
        }
        sqlx::query("INSERT INTO domains (id, instance_id, group_id, url_domain, ssl_id, doc) VALUES ($1, $2, $3, $4, NULL, $5)")
            .bind(&domain.id)
            .bind(instance_id)
            .bind(&domain.group_id)
            .bind(&domain.url_domain)
            .bind(to_doc(domain)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::DomainTaken(domain.url_domain.clone())))?;
        let bound = Self::domain_in(&mut tx, instance_id, &domain.group_id, &domain.id).await?;
        self.commit(tx).await?;
        Ok(bound)
    }

    async fn domain(&self, instance_id: &str, group_id: &str, id: &str) -> Result<BoundDomain> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{DOMAIN_SELECT} WHERE d.instance_id = $1 AND d.group_id = $2 AND d.id = $3"
        )))
        .bind(instance_id)
        .bind(group_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Domain, id))?;
        Self::decode_domain(&row)
    }

    async fn group_domains(&self, instance_id: &str, group_id: &str) -> Result<Vec<BoundDomain>> {
        sqlx::query(AssertSqlSafe(format!(
            "{DOMAIN_SELECT} WHERE d.instance_id = $1 AND d.group_id = $2 ORDER BY d.seq"
        )))
        .bind(instance_id)
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Self::decode_domain)
        .collect()
    }

    async fn update_domain(&self, instance_id: &str, domain: &Domain) -> Result<BoundDomain> {
        let mut tx = self.write().await?;
        let bound = Self::domain_in(&mut tx, instance_id, &domain.group_id, &domain.id).await?;
        // The certificate binding is not a setting: keep the stored one.
        let domain = Domain { ssl_id: bound.domain.ssl_id.clone(), ..domain.clone() };
        match &domain.ssl_id {
            Some(ssl_id) => {
                let project_id = Self::project_of(&mut tx, instance_id).await?;
                let (certificate, has_ca) = Self::certificate_in(&mut tx, &project_id, ssl_id).await?;
                Self::check_serving(&certificate, has_ca, &domain, instance_id)?;
            }
            None if domain.verified_client_certificate_enabled => {
                return Err(bad_reference(
                    "verified_client_certificate_enabled",
                    format!("The domain {} has no certificate to verify clients with", domain.url_domain),
                ));
            }
            None => {}
        }
        Self::save_domain(&mut tx, &domain).await?;
        let bound = Self::domain_in(&mut tx, instance_id, &domain.group_id, &domain.id).await?;
        self.commit(tx).await?;
        Ok(bound)
    }

    async fn delete_domain(&self, instance_id: &str, group_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM domains WHERE instance_id = $1 AND group_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(group_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::Domain, id));
        }
        self.commit(tx).await
    }

    async fn attach_certificate(
        &self,
        project_id: &str,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate_id: &str,
        verify_clients: Option<bool>,
    ) -> Result<BoundDomain> {
        let mut tx = self.write().await?;
        Self::attach_in(&mut tx, project_id, instance_id, group_id, domain_id, certificate_id, verify_clients).await?;
        let bound = Self::domain_in(&mut tx, instance_id, group_id, domain_id).await?;
        self.commit(tx).await?;
        Ok(bound)
    }

    async fn attach_new_certificate(
        &self,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate: &Certificate,
        material: &CertificateMaterial,
    ) -> Result<BoundDomain> {
        let mut tx = self.write().await?;
        self.insert_certificate(&mut tx, certificate, material).await?;
        let project_id = &certificate.project_id;
        Self::attach_in(&mut tx, project_id, instance_id, group_id, domain_id, &certificate.id, None).await?;
        let bound = Self::domain_in(&mut tx, instance_id, group_id, domain_id).await?;
        self.commit(tx).await?;
        Ok(bound)
    }

    async fn detach_certificate(
        &self,
        instance_id: &str,
        group_id: &str,
        domain_id: &str,
        certificate_id: &str,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let bound = Self::domain_in(&mut tx, instance_id, group_id, domain_id).await?;
        if bound.domain.ssl_id.as_deref() != Some(certificate_id) {
            return Err(StoreError::not_found(Kind::Certificate, certificate_id));
        }
        let domain = Domain { ssl_id: None, verified_client_certificate_enabled: false, ..bound.domain };
        Self::save_domain(&mut tx, &domain).await?;
        self.commit(tx).await
    }

    async fn attach_domains(&self, project_id: &str, certificate_id: &str, domains: &[DomainRef]) -> Result<()> {
        let mut tx = self.write().await?;
        let (certificate, has_ca) = Self::certificate_in(&mut tx, project_id, certificate_id).await?;
        for r in domains {
            let (stored, instance_id) = Self::domain_named(&mut tx, project_id, r).await?;
            let domain = Domain {
                ssl_id: Some(certificate.id.clone()),
                verified_client_certificate_enabled: r
                    .verified_client_certificate_enabled
                    .unwrap_or(stored.verified_client_certificate_enabled),
                ..stored
            };
            Self::check_serving(&certificate, has_ca, &domain, &instance_id)?;
            Self::save_domain(&mut tx, &domain).await?;
        }
        self.commit(tx).await
    }

    async fn detach_domains(&self, project_id: &str, certificate_id: &str, domains: &[DomainRef]) -> Result<()> {
        let mut tx = self.write().await?;
        Self::certificate_in(&mut tx, project_id, certificate_id).await?;
        for r in domains {
            let (stored, _) = Self::domain_named(&mut tx, project_id, r).await?;
            if stored.ssl_id.as_deref() != Some(certificate_id) {
                return Err(StoreError::not_found(Kind::Domain, &r.domain));
            }
            let domain = Domain { ssl_id: None, verified_client_certificate_enabled: false, ..stored };
            Self::save_domain(&mut tx, &domain).await?;
        }
        self.commit(tx).await
    }

    async fn list_attached_domains(
        &self,
        project_id: &str,
        certificate_id: &str,
        url_domain: Option<&str>,
        page: Page,
    ) -> Result<Paged<BoundDomain>> {
        self.certificate(project_id, certificate_id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE d.ssl_id = ").push_bind(certificate_id.to_string());
            if let Some(name) = url_domain {
                Self::push_text_filter(q, "d.url_domain", &crate::TextMatch::Contains(name.to_string()));
            }
        };
        let from = "domains d JOIN api_groups g ON g.id = d.group_id LEFT JOIN certificates c ON c.id = d.ssl_id";
        let select = "d.doc, d.ssl_id, d.instance_id, g.name AS group_name, c.name AS ssl_name, c.trusted_root_ca";
        self.paged(select, from, "d.seq", filters, page, Self::decode_domain).await
    }

    async fn set_sl_domain_access(&self, instance_id: &str, group_id: &str, enabled: bool) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT doc FROM api_groups WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(group_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Group, group_id))?;
        let group: ApiGroup = Self::from_doc(&row, "doc")?;
        let group = ApiGroup { sl_domain_access_enabled: enabled, ..group };
        sqlx::query("UPDATE api_groups SET doc = $1 WHERE id = $2")
            .bind(to_doc(&group)?)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }
}

impl<DB> SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    async fn insert_certificate(
        &self,
        tx: &mut Tx<DB>,
        certificate: &Certificate,
        material: &CertificateMaterial,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO certificates (id, project_id, name, cert_content, sealed_key, trusted_root_ca, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&certificate.id)
        .bind(&certificate.project_id)
        .bind(&certificate.name)
        .bind(&material.cert_content)
        .bind(self.secrets.seal(&material.private_key)?)
        .bind(material.trusted_root_ca.clone())
        .bind(to_doc(certificate)?)
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_or(e, Conflict::CertificateName(certificate.name.clone())))?;
        Ok(())
    }

    /// Every domain with the certificate it is served with (key in clear), for the gateway.
    pub(super) async fn live_domains(&self, tx: &mut Tx<DB>) -> Result<Vec<LiveDomain>> {
        let rows = sqlx::query(
            "SELECT d.doc, d.ssl_id, c.cert_content, c.sealed_key, c.trusted_root_ca \
             FROM domains d LEFT JOIN certificates c ON c.id = d.ssl_id ORDER BY d.seq",
        )
        .fetch_all(&mut **tx)
        .await?;
        let mut domains = Vec::with_capacity(rows.len());
        for row in &rows {
            let stored: Domain = Self::from_doc(row, "doc")?;
            let ssl_id: Option<String> = row.try_get("ssl_id")?;
            let certificate = match &ssl_id {
                Some(id) => {
                    let sealed: String = row.try_get("sealed_key")?;
                    let material = CertificateMaterial {
                        cert_content: row.try_get("cert_content")?,
                        private_key: self.secrets.open(&sealed)?,
                        trusted_root_ca: row.try_get("trusted_root_ca")?,
                    };
                    Some((id.clone(), material))
                }
                None => None,
            };
            domains.push(LiveDomain { domain: Domain { ssl_id, ..stored }, certificate });
        }
        Ok(domains)
    }
}
