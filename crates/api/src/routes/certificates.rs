//! SSL certificates of a project: `/v2/{project_id}/apigw/certificates` (and `apic`), and the
//! domains they serve.

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{CertificateInput, Page, domain_refs_from_json, new_id};
use portico_store::CertificateFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::non_empty;
use super::groups::text_match;
use crate::extract::AppQuery;
use crate::services::certificates::checked;
use crate::views::domains::{certificate_view, domain_view};
use crate::views::list as paged;
use crate::{ApiResult, AppState};

/// Mounted under `/v2/{project_id}/apigw` and `/v2/{project_id}/apic`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(attach_domains))
        .routes(routes!(detach_domains))
        .routes(routes!(attached_domains))
}

#[derive(Deserialize)]
struct ProjectId {
    project_id: String,
}

#[derive(Deserialize)]
struct CertificateId {
    project_id: String,
    certificate_id: String,
}

#[utoipa::path(post, path = "/certificates", tag = "certificates", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(
    State(state): State<AppState>,
    Path(p): Path<ProjectId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = CertificateInput::from_json(&body)?;
    let (certificate, material) = checked(&state, input, &p.project_id, new_id(), None).await?;
    state.store.create_certificate(&certificate, &material).await?;
    Ok((StatusCode::CREATED, Json(certificate_view(&certificate))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    name: Option<String>,
    common_name: Option<String>,
    signature_algorithm: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    instance_id: Option<String>,
    algorithm_type: Option<String>,
}

#[utoipa::path(get, path = "/certificates", tag = "certificates", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(
    State(state): State<AppState>,
    Path(p): Path<ProjectId>,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = CertificateFilter {
        name: text_match(q.name, "name", None),
        common_name: non_empty(q.common_name),
        kind: non_empty(q.kind),
        instance_id: non_empty(q.instance_id),
        algorithm_type: non_empty(q.algorithm_type),
        signature_algorithm: non_empty(q.signature_algorithm),
    };
    let found = state.store.list_certificates(&p.project_id, &filter, page).await?;
    Ok(Json(paged("certs", found, certificate_view)))
}

#[utoipa::path(get, path = "/certificates/{certificate_id}", tag = "certificates", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, Path(p): Path<CertificateId>) -> ApiResult<Json<Value>> {
    let record = state.store.certificate(&p.project_id, &p.certificate_id).await?;
    Ok(Json(certificate_view(&record.certificate)))
}

#[utoipa::path(put, path = "/certificates/{certificate_id}", tag = "certificates", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(State(state): State<AppState>, Path(p): Path<CertificateId>, body: Bytes) -> ApiResult<Json<Value>> {
    let input = CertificateInput::from_json(&body)?;
    let existing = state.store.certificate(&p.project_id, &p.certificate_id).await?.certificate;
    let (certificate, material) =
        checked(&state, input, &p.project_id, existing.id, Some(existing.create_time)).await?;
    state.store.update_certificate(&certificate, &material).await?;
    Ok(Json(certificate_view(&certificate)))
}

#[utoipa::path(delete, path = "/certificates/{certificate_id}", tag = "certificates", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, Path(p): Path<CertificateId>) -> ApiResult<StatusCode> {
    state.store.delete_certificate(&p.project_id, &p.certificate_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/certificates/{certificate_id}/domains/attach", tag = "certificates", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest))]
async fn attach_domains(
    State(state): State<AppState>,
    Path(p): Path<CertificateId>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let domains = domain_refs_from_json(&body)?;
    state.store.attach_domains(&p.project_id, &p.certificate_id, &domains).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/certificates/{certificate_id}/domains/detach", tag = "certificates", request_body(content = JsonBody, content_type = "application/json"), responses((status = 204, description = "Done"), BadRequest))]
async fn detach_domains(
    State(state): State<AppState>,
    Path(p): Path<CertificateId>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let domains = domain_refs_from_json(&body)?;
    state.store.detach_domains(&p.project_id, &p.certificate_id, &domains).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AttachedQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    url_domain: Option<String>,
}

#[utoipa::path(get, path = "/certificates/{certificate_id}/attached-domains", tag = "certificates", params(AttachedQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn attached_domains(
    State(state): State<AppState>,
    Path(p): Path<CertificateId>,
    AppQuery(q): AppQuery<AttachedQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let url_domain = non_empty(q.url_domain);
    let found =
        state.store.list_attached_domains(&p.project_id, &p.certificate_id, url_domain.as_deref(), page).await?;
    Ok(Json(paged("bound_domains", found, domain_view)))
}
