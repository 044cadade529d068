//! Instances: `/v2/{project_id}/apigw/instances[/{instance_id}]`.

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{Instance, InstanceInput, Page, new_id, now};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::AppQuery;
use crate::{ApiResult, AppState, views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(show, delete)).routes(routes!(configs))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    instance_id: Option<String>,
    instance_name: Option<String>,
}

#[utoipa::path(get, path = "/v2/{project_id}/apigw/instances", tag = "instances", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let found = state
        .store
        .list_instances(
            &project_id,
            q.instance_id.as_deref().filter(|id| !id.is_empty()),
            q.instance_name.as_deref(),
            page,
        )
        .await?;
    Ok(Json(views::list("instances", found, views::instance)))
}

#[utoipa::path(post, path = "/v2/{project_id}/apigw/instances", tag = "instances", request_body(content = JsonBody, content_type = "application/json"), responses((status = 202, description = "Accepted", body = Resource), BadRequest, InConflict))]
async fn create(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = InstanceInput::from_json(&body)?;
    let instance = Instance {
        id: new_id(),
        project_id,
        instance_name: input.instance_name,
        description: input.description,
        create_time: now(),
    };
    state.store.create_instance(&instance).await?;
    let body = json!({ "instance_id": instance.id, "message": "instance created", "job_id": new_id() });
    Ok((StatusCode::ACCEPTED, Json(body)))
}

#[utoipa::path(get, path = "/v2/{project_id}/apigw/instances/{instance_id}", tag = "instances", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, Path((project_id, id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    Ok(Json(views::instance(&state.store.instance(&project_id, &id).await?)))
}

#[utoipa::path(delete, path = "/v2/{project_id}/apigw/instances/{instance_id}", tag = "instances", responses((status = 204, description = "Done"), InConflict))]
async fn delete(
    State(state): State<AppState>,
    Path((project_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.store.delete_instance(&project_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
}

/// `ListInstanceConfigsV2`: the project-wide quotas (APIG's `INSTANCE_NUM_LIMIT`). Portico
/// limits no project's instances, so the list is empty; the paging is still checked.
#[utoipa::path(get, path = "/v2/{project_id}/apigw/instance/configs", tag = "instances", params(PageQuery), responses((status = 200, description = "One page of the project's quotas: none", body = PageOf), BadRequest))]
async fn configs(AppQuery(q): AppQuery<PageQuery>) -> ApiResult<Json<Value>> {
    Page::new(q.offset, q.limit)?;
    Ok(Json(views::outline::no_quotas()))
}
