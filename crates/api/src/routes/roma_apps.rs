//! ROMA Connect integration applications (`/v2/{project_id}/instances/{instance_id}/apps`, the
//! ROMA SDK's `CreateRomaApp` family) and their data sources
//! (`/v2/{project_id}/fdi/instances/{instance_id}/datasources`, `CreateDatasourceInfo` family).
//! Both own custom backends (`routes::livedata`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use crate::views::roma_apps::{app_view, livedata_source_view, secret_view, source_view};
use std::collections::HashMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portico_model::{DataSource, Page, RomaApp, RomaAppInput, RomaAppSecretInput, new_id, now};
use portico_store::{DataSourceFilter, Store};
use serde::Deserialize;
use serde_json::Value;

use super::apps::non_empty;
use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::list as paged;
use crate::{ApiResult, AppState, Caller};

/// Under `/v2/{project_id}/instances/{instance_id}`.
pub fn app_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_apps, create_app))
        .routes(routes!(show_app, update_app, delete_app))
        .routes(routes!(show_app_secret, reset_app_secret))
}

/// Under `/v2/{project_id}/fdi/instances/{instance_id}`.
pub fn data_source_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_sources, create_source)).routes(routes!(show_source, delete_source))
}

#[derive(Deserialize)]
struct AppId {
    app_id: String,
}

#[utoipa::path(post, path = "/apps", tag = "roma_apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_app(
    State(state): State<AppState>,
    scope: Scope,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = RomaAppInput::from_json(&body)?;
    let now = now();
    let app = RomaApp {
        id: new_id(),
        name: input.name,
        remark: input.remark,
        key: input.key.unwrap_or_else(new_id),
        favorite: input.favorite,
        create_time: now,
        update_time: now,
    };
    state.store.create_roma_app(&scope.instance_id, &app, &input.secret.unwrap_or_else(new_id)).await?;
    Ok((StatusCode::CREATED, Json(app_view(&app, &caller))))
}

#[utoipa::path(get, path = "/apps/{app_id}", tag = "roma_apps", responses((status = 200, description = "Found", body = Resource)))]
async fn show_app(
    State(state): State<AppState>,
    scope: Scope,
    Extension(caller): Extension<Caller>,
    Path(p): Path<AppId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(app_view(&state.store.roma_app(&scope.instance_id, &p.app_id).await?, &caller)))
}

/// `key` and `secret` of the body are not changed here: the secret has its own operation
/// (`ResetRomaAppSecret`) and the key none, as in ROMA Connect.
#[utoipa::path(put, path = "/apps/{app_id}", tag = "roma_apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Updated", body = Resource), BadRequest, InConflict))]
async fn update_app(
    State(state): State<AppState>,
    scope: Scope,
    Extension(caller): Extension<Caller>,
    Path(p): Path<AppId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = RomaAppInput::from_json(&body)?;
    let app = RomaApp {
        name: input.name,
        remark: input.remark,
        favorite: input.favorite,
        update_time: now(),
        ..state.store.roma_app(&scope.instance_id, &p.app_id).await?
    };
    state.store.update_roma_app(&scope.instance_id, &app).await?;
    Ok(Json(app_view(&app, &caller)))
}

#[utoipa::path(get, path = "/apps/{app_id}/secret", tag = "roma_apps", responses((status = 200, description = "The application's secret", body = Resource)))]
async fn show_app_secret(State(state): State<AppState>, scope: Scope, Path(p): Path<AppId>) -> ApiResult<Json<Value>> {
    let secret = state.store.roma_app_secret(&scope.instance_id, &p.app_id).await?;
    Ok(Json(secret_view(&p.app_id, &secret)))
}

#[utoipa::path(put, path = "/apps/{app_id}/secret", tag = "roma_apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "The new secret", body = Resource), BadRequest))]
async fn reset_app_secret(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AppId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let secret = RomaAppSecretInput::from_json(&body)?.secret.unwrap_or_else(new_id);
    state.store.set_roma_app_secret(&scope.instance_id, &p.app_id, &secret).await?;
    Ok(Json(secret_view(&p.app_id, &secret)))
}

#[utoipa::path(delete, path = "/apps/{app_id}", tag = "roma_apps", responses((status = 204, description = "Done"), InConflict))]
async fn delete_app(State(state): State<AppState>, scope: Scope, Path(p): Path<AppId>) -> ApiResult<StatusCode> {
    state.store.delete_roma_app(&scope.instance_id, &p.app_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AppQueryParams {
    offset: Option<i64>,
    limit: Option<i64>,
    name: Option<String>,
}

#[utoipa::path(get, path = "/apps", tag = "roma_apps", params(AppQueryParams), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_apps(
    State(state): State<AppState>,
    scope: Scope,
    Extension(caller): Extension<Caller>,
    AppQuery(q): AppQuery<AppQueryParams>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let name = text_match(q.name, "name", None);
    let found = state.store.list_roma_apps(&scope.instance_id, name.as_ref(), page).await?;
    Ok(Json(paged("apps", found, |a| app_view(a, &caller))))
}

/// Names of the integration applications owning `sources`.
pub(super) async fn app_names(
    store: &dyn Store,
    instance_id: &str,
    app_ids: impl Iterator<Item = &String>,
) -> ApiResult<HashMap<String, String>> {
    let mut names = HashMap::new();
    for id in app_ids {
        if !names.contains_key(id) {
            names.insert(id.clone(), store.roma_app(instance_id, id).await?.name);
        }
    }
    Ok(names)
}

#[derive(Deserialize)]
struct SourceId {
    datasource_id: String,
}

#[utoipa::path(post, path = "/datasources", tag = "roma_apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_source(
    State(state): State<AppState>,
    scope: Scope,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (source, password) = DataSource::from_json(&body, new_id(), now())?;
    let app = state.store.roma_app(&scope.instance_id, &source.app_id).await?;
    state.store.create_data_source(&scope.instance_id, &source, password.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(source_view(&source, &app.name, &scope.instance_id))))
}

#[utoipa::path(get, path = "/datasources/{datasource_id}", tag = "roma_apps", responses((status = 200, description = "Found", body = Resource)))]
async fn show_source(State(state): State<AppState>, scope: Scope, Path(p): Path<SourceId>) -> ApiResult<Json<Value>> {
    let (source, _) = state.store.data_source(&scope.instance_id, &p.datasource_id).await?;
    let app = state.store.roma_app(&scope.instance_id, &source.app_id).await?;
    Ok(Json(source_view(&source, &app.name, &scope.instance_id)))
}

#[utoipa::path(delete, path = "/datasources/{datasource_id}", tag = "roma_apps", responses((status = 204, description = "Done"), InConflict))]
async fn delete_source(State(state): State<AppState>, scope: Scope, Path(p): Path<SourceId>) -> ApiResult<StatusCode> {
    state.store.delete_data_source(&scope.instance_id, &p.datasource_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SourceQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    name: Option<String>,
    app_id: Option<String>,
    datasource_type: Option<String>,
}

#[utoipa::path(get, path = "/datasources", tag = "roma_apps", params(SourceQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_sources(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<SourceQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = DataSourceFilter {
        app_id: non_empty(q.app_id),
        name: text_match(q.name, "name", None),
        datasource_type: non_empty(q.datasource_type),
    };
    let found = state.store.list_data_sources(&scope.instance_id, &filter, page).await?;
    let names = app_names(state.store.as_ref(), &scope.instance_id, found.items.iter().map(|s| &s.app_id)).await?;
    let instance_id = scope.instance_id.clone();
    Ok(Json(paged("entities", found, |s| {
        source_view(s, names.get(&s.app_id).map(String::as_str).unwrap_or_default(), &instance_id)
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LivedataSourceQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    app_id: Option<String>,
    name: Option<String>,
}

/// `GET …/apic/instances/{instance_id}/data-sources`.
#[utoipa::path(get, path = "/data-sources", tag = "livedata", params(LivedataSourceQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
pub(super) async fn list_livedata_sources(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<LivedataSourceQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter =
        DataSourceFilter { app_id: non_empty(q.app_id), name: text_match(q.name, "name", None), datasource_type: None };
    let found = state.store.list_data_sources(&scope.instance_id, &filter, page).await?;
    Ok(Json(paged("data_sources", found, livedata_source_view)))
}
