//! An uploaded certificate made into what is stored: its form checked by the model, the chain
//! and key by `portico_auth::certificate`, and an `instance` certificate's instance by the store.

use portico_auth::certificate::inspect;
use portico_model::{Certificate, CertificateInput, CertificateMaterial, now};

use crate::{ApiResult, AppState};

/// The certificate `input` describes, with `id` and `create_time` (a new one's, or the
/// replaced one's), owned by `project_id`.
pub(crate) async fn checked(
    state: &AppState,
    input: CertificateInput,
    project_id: &str,
    id: String,
    create_time: Option<time::OffsetDateTime>,
) -> ApiResult<(Certificate, CertificateMaterial)> {
    if input.kind == "instance" {
        state.store.instance(project_id, &input.instance_id).await?;
    }
    let now = now();
    let m = &input.material;
    let facts = inspect(&m.cert_content, &m.private_key, m.trusted_root_ca.as_deref(), now)?;
    let certificate = Certificate {
        id,
        name: input.name,
        kind: input.kind,
        instance_id: input.instance_id,
        project_id: project_id.to_string(),
        common_name: facts.common_name,
        san: facts.san,
        not_before: facts.not_before,
        not_after: facts.not_after,
        signature_algorithm: facts.signature_algorithm,
        algorithm_type: facts.algorithm_type,
        version: facts.version,
        organization: facts.organization,
        organizational_unit: facts.organizational_unit,
        locality: facts.locality,
        state: facts.state,
        country: facts.country,
        issuer: facts.issuer,
        serial_number: facts.serial_number,
        is_has_trusted_root_ca: m.trusted_root_ca.is_some(),
        create_time: create_time.unwrap_or(now),
        update_time: now,
    };
    Ok((certificate, input.material))
}
