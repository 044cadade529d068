//! `GET …/api-groups/{group_id}/compare?from=…&to=…` (Portico's own, beyond APIG): a structured
//! diff of a group's API definitions between two sides, each an environment id or `draft`
//! (the definitions as last saved). The diff is `portico_model::compare_apis`; this reads the
//! two sides the way an export does and renders the result.

use axum::Json;
use axum::extract::{Path, State};
use portico_model::{Api, ApiComparison, ChangeKind, compare_apis};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::doc::{BadRequest, Resource};
use crate::extract::{AppQuery, Scope};
use crate::{ApiError, ApiResult, AppState};

/// The side that names the drafts rather than an environment.
const DRAFT: &str = "draft";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(compare))
}

#[derive(Deserialize)]
struct GroupId {
    group_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CompareQuery {
    /// The side compared from: an environment id, or `draft`.
    from: Option<String>,
    /// The side compared to: an environment id, or `draft`.
    to: Option<String>,
}

/// One side of a comparison as the response names it.
#[derive(Serialize)]
pub struct CompareSide {
    /// The environment id, or `draft`.
    pub id: String,
    /// The environment's name, or `draft`.
    pub name: String,
}

/// How many APIs fell in each class.
#[derive(Serialize, Default)]
pub struct CompareSummary {
    /// APIs only on the `to` side.
    pub added: usize,
    /// APIs only on the `from` side.
    pub removed: usize,
    /// APIs on both sides, defined differently.
    pub changed: usize,
    /// APIs on both sides, defined alike.
    pub same: usize,
}

/// The response body.
#[derive(Serialize)]
pub struct CompareResponse {
    /// The group compared.
    pub group_id: String,
    /// The side compared from.
    pub from: CompareSide,
    /// The side compared to.
    pub to: CompareSide,
    /// Counts per class.
    pub summary: CompareSummary,
    /// Every API of either side, in path order.
    pub apis: Vec<ApiComparison>,
}

#[utoipa::path(get, path = "/api-groups/{group_id}/compare", tag = "compare", params(CompareQuery), responses(
    (status = 200, description = "Every API of either side, `added`, `removed`, `changed` or `same`, with field-level changes", body = Resource),
    BadRequest))]
async fn compare(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<GroupId>,
    AppQuery(q): AppQuery<CompareQuery>,
) -> ApiResult<Json<CompareResponse>> {
    let from = q.from.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing("from"))?;
    let to = q.to.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing("to"))?;
    let group = state.store.group(&scope.instance_id, &p.group_id).await?;
    let (from_side, from_apis) = side(&state, &scope, &group.id, from).await?;
    let (to_side, to_apis) = side(&state, &scope, &group.id, to).await?;
    let apis = compare_apis(&from_apis, &to_apis);
    let mut summary = CompareSummary::default();
    for api in &apis {
        *match api.status {
            ChangeKind::Added => &mut summary.added,
            ChangeKind::Removed => &mut summary.removed,
            ChangeKind::Changed => &mut summary.changed,
            ChangeKind::Same => &mut summary.same,
        } += 1;
    }
    Ok(Json(CompareResponse { group_id: group.id, from: from_side, to: to_side, summary, apis }))
}

/// The group's APIs on one side: the live snapshots in an environment, or the drafts.
async fn side(state: &AppState, scope: &Scope, group_id: &str, id: String) -> ApiResult<(CompareSide, Vec<Api>)> {
    let (side, env_id) = if id == DRAFT {
        (CompareSide { id, name: DRAFT.to_owned() }, None)
    } else {
        let env = state.store.env(&scope.instance_id, &id).await?;
        (CompareSide { name: env.name, id: env.id.clone() }, Some(env.id))
    };
    let mut batches = state.store.export_apis(&scope.instance_id, group_id, env_id.as_deref(), None).await?;
    let mut apis = Vec::new();
    while let Some(batch) = batches.recv().await {
        apis.extend(batch?);
    }
    Ok((side, apis))
}
