//! Domains of an API group (`/api-groups/{group_id}/domains…`), the certificates they are
//! served with, and the group's generated subdomain switch.

use crate::doc::{BadRequest, InConflict, JsonBody, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{CertificateInput, Domain, DomainSettings, certificate_ids_from_json, new_id, parse_body};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::Scope;
use crate::services::certificates::checked;
use crate::views::domains::{certificate_view, domain_view};
use crate::{ApiError, ApiResult, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(associate))
        .routes(routes!(update, disassociate))
        .routes(routes!(associate_certificate))
        .routes(routes!(show_certificate, disassociate_certificate))
        .routes(routes!(attach_certificates))
        .routes(routes!(detach_certificates))
        .routes(routes!(sl_domain_access))
}

#[derive(Deserialize)]
struct GroupId {
    group_id: String,
}

#[derive(Deserialize)]
struct DomainId {
    project_id: String,
    group_id: String,
    domain_id: String,
}

#[derive(Deserialize)]
struct DomainCertificateId {
    project_id: String,
    group_id: String,
    domain_id: String,
    certificate_id: String,
}

#[utoipa::path(post, path = "/api-groups/{group_id}/domains", tag = "domains", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn associate(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<GroupId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let domain = Domain::from_json(&body, &p.group_id)?;
    let bound = state.store.create_domain(&scope.instance_id, &domain).await?;
    Ok((StatusCode::CREATED, Json(domain_view(&bound))))
}

#[utoipa::path(put, path = "/api-groups/{group_id}/domains/{domain_id}", tag = "domains", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<DomainId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let settings = DomainSettings::from_json(&body)?;
    let bound = state.store.domain(&scope.instance_id, &p.group_id, &p.domain_id).await?;
    let updated = state.store.update_domain(&scope.instance_id, &settings.apply(&bound.domain)).await?;
    Ok(Json(domain_view(&updated)))
}

#[utoipa::path(delete, path = "/api-groups/{group_id}/domains/{domain_id}", tag = "domains", responses((status = 204, description = "Done")))]
async fn disassociate(State(state): State<AppState>, scope: Scope, Path(p): Path<DomainId>) -> ApiResult<StatusCode> {
    state.store.delete_domain(&scope.instance_id, &p.group_id, &p.domain_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `AssociateCertificateV2`: a certificate uploaded with the request, kept as an `instance`
/// certificate of this instance, and served for the domain (one transaction).
#[utoipa::path(post, path = "/api-groups/{group_id}/domains/{domain_id}/certificate", tag = "domains", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn associate_certificate(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<DomainId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = CertificateInput {
        kind: "instance".into(),
        instance_id: scope.instance_id.clone(),
        ..CertificateInput::from_json(&body)?
    };
    let (certificate, material) = checked(&state, input, &p.project_id, new_id(), None).await?;
    let bound = state
        .store
        .attach_new_certificate(&scope.instance_id, &p.group_id, &p.domain_id, &certificate, &material)
        .await?;
    Ok((StatusCode::CREATED, Json(domain_view(&bound))))
}

#[utoipa::path(get, path = "/api-groups/{group_id}/domains/{domain_id}/certificate/{certificate_id}", tag = "domains", responses((status = 200, description = "Found", body = Resource)))]
async fn show_certificate(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<DomainCertificateId>,
) -> ApiResult<Json<Value>> {
    let bound = state.store.domain(&scope.instance_id, &p.group_id, &p.domain_id).await?;
    if bound.domain.ssl_id.as_deref() != Some(p.certificate_id.as_str()) {
        return Err(ApiError::from(portico_store::StoreError::NotFound {
            kind: portico_store::Kind::Certificate,
            id: p.certificate_id,
        }));
    }
    let record = state.store.certificate(&p.project_id, &p.certificate_id).await?;
    Ok(Json(certificate_view(&record.certificate)))
}

#[utoipa::path(delete, path = "/api-groups/{group_id}/domains/{domain_id}/certificate/{certificate_id}", tag = "domains", responses((status = 204, description = "Done")))]
async fn disassociate_certificate(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<DomainCertificateId>,
) -> ApiResult<StatusCode> {
    state.store.detach_certificate(&scope.instance_id, &p.group_id, &p.domain_id, &p.certificate_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `BatchAssociateCertsV2`: the domain is served with one certificate, so the batch names one.
#[utoipa::path(post, path = "/api-groups/{group_id}/domains/{domain_id}/certificates/attach", tag = "domains", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest))]
async fn attach_certificates(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<DomainId>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let (ids, verify_clients) = certificate_ids_from_json(&body)?;
    let [certificate_id] = ids.as_slice() else {
        return Err(ApiError::invalid_because("certificate_ids", "a domain is served with one certificate"));
    };
    state
        .store
        .attach_certificate(
            &p.project_id,
            &scope.instance_id,
            &p.group_id,
            &p.domain_id,
            certificate_id,
            verify_clients,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api-groups/{group_id}/domains/{domain_id}/certificates/detach", tag = "domains", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest))]
async fn detach_certificates(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<DomainId>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let (ids, _) = certificate_ids_from_json(&body)?;
    for certificate_id in &ids {
        state.store.detach_certificate(&scope.instance_id, &p.group_id, &p.domain_id, certificate_id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct SlDomainAccess {
    sl_domain_access_enabled: bool,
}

#[utoipa::path(put, path = "/api-groups/{group_id}/sl-domain-access-settings", tag = "domains", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest))]
async fn sl_domain_access(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<GroupId>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let setting: SlDomainAccess = parse_body(&body, &["sl_domain_access_enabled"])?;
    state.store.set_sl_domain_access(&scope.instance_id, &p.group_id, setting.sl_domain_access_enabled).await?;
    Ok(StatusCode::NO_CONTENT)
}
