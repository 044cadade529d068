//! The JSON the SDK reads back for the domain and certificate routes.

use portico_model::{ApiGroup, Certificate};
use portico_store::BoundDomain;
use serde_json::{Value, json};

use crate::views::object;

/// CNAME resolution is the operator's DNS, not ours: a bound domain shows as resolved.
const CNAME_RESOLVED: i32 = 3;
/// Custom ingress ports are not offered: the listeners' own ports.
const LISTENER_PORT: i32 = -1;

/// `UrlDomainRefInfo` (also the body of `AssociateDomainV2`, `UpdateDomainV2` and
/// `AssociateCertificateV2`, which are its subsets).
pub(crate) fn domain_view(b: &BoundDomain) -> Value {
    let d = &b.domain;
    json!({
        "url_domain": d.url_domain, "id": d.id, "status": CNAME_RESOLVED, "min_ssl_version": d.min_ssl_version,
        "is_http_redirect_to_https": d.is_http_redirect_to_https,
        "verified_client_certificate_enabled": d.verified_client_certificate_enabled,
        "ingress_http_port": LISTENER_PORT, "ingress_https_port": LISTENER_PORT,
        "ssl_id": d.ssl_id.clone().unwrap_or_default(),
        "ssl_name": b.certificate.as_ref().map(|(name, _)| name.as_str()).unwrap_or_default(),
        "api_group_id": d.group_id, "api_group_name": b.group_name, "instance_id": b.instance_id,
    })
}

/// A group's details (`ShowDetailsOfApiGroupV2`) with its bound domains.
pub(crate) fn group_with_domains(group: &ApiGroup, domains: &[BoundDomain]) -> Value {
    let mut view = crate::views::group(group);
    if let Some(map) = view.as_object_mut() {
        map.insert("url_domains".into(), domains.iter().map(group_domain_view).collect());
    }
    view
}

/// `UrlDomain`, an item of a group's `url_domains`.
fn group_domain_view(b: &BoundDomain) -> Value {
    let d = &b.domain;
    let has_ca = b.certificate.as_ref().is_some_and(|(_, ca)| *ca);
    let ssl_infos: Vec<Value> = match (&d.ssl_id, &b.certificate) {
        (Some(id), Some((name, ca))) => {
            vec![
                json!({ "ssl_id": id, "ssl_name": name, "algorithm_type": "RSA", "type": 0, "is_has_trusted_root_ca": ca }),
            ]
        }
        _ => Vec::new(),
    };
    json!({
        "id": d.id, "domain": d.url_domain, "cname_status": CNAME_RESOLVED,
        "ssl_id": d.ssl_id.clone().unwrap_or_default(),
        "ssl_name": b.certificate.as_ref().map(|(name, _)| name.as_str()).unwrap_or_default(),
        "min_ssl_version": d.min_ssl_version, "is_http_redirect_to_https": d.is_http_redirect_to_https,
        "verified_client_certificate_enabled": d.verified_client_certificate_enabled,
        "is_has_trusted_root_ca": has_ca, "ingress_http_port": LISTENER_PORT, "ingress_https_port": LISTENER_PORT,
        "ssl_infos": ssl_infos,
    })
}

/// `CertBase` and the details of `ShowDetailsOfCertificateV2`: the stored form is the wire form.
pub(crate) fn certificate_view(c: &Certificate) -> Value {
    Value::Object(object(c))
}
