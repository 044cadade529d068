//! Apps (`/apps`), their secrets and AppCodes, and their authorizations to published APIs
//! (`/app-auths`).

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{App, AppAuthInput, AppCode, AppInput, AppSecret, Page, app_code_from_json, new_id, now};
use portico_store::{AppAuthFilter, AppFilter, PublishedApiFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::{ApiError, ApiResult, AppState, views::policies as views};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(check))
        .routes(routes!(reset_secret))
        .routes(routes!(show, update, remove))
        .routes(routes!(list_codes, create_code, generate_code))
        .routes(routes!(show_code, delete_code))
        .routes(routes!(authorize))
        .routes(routes!(revoke))
        .routes(routes!(bound_apis))
        .routes(routes!(bound_apps))
        .routes(routes!(unbound_apis))
}

type Created = (StatusCode, Json<Value>);

/// A query value, unless absent or empty.
pub(super) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// A generated key or secret: 32 hex digits from the OS generator.
fn generated() -> String {
    new_id()
}

#[derive(Deserialize)]
struct AppId {
    app_id: String,
}

#[utoipa::path(post, path = "/apps", tag = "apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Created> {
    let input = AppInput::from_json(&body)?;
    let now = now();
    let app = App {
        id: new_id(),
        name: input.name,
        remark: input.remark,
        creator: "USER".into(),
        app_key: input.app_key.unwrap_or_else(generated),
        status: 1,
        app_type: "apig".into(),
        register_time: now,
        update_time: now,
        related_domain_id: input.related_domain_id,
        related_project_id: input.related_project_id,
    };
    let secret = AppSecret(input.app_secret.unwrap_or_else(generated));
    state.store.create_app(&scope.instance_id, &app, &secret).await?;
    let created = portico_model::AppWithSecret { app, app_secret: secret };
    Ok((StatusCode::CREATED, Json(views::app(&created, None))))
}

#[utoipa::path(put, path = "/apps/{app_id}", tag = "apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AppId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = AppInput::from_json(&body)?;
    let existing = state.store.app(&scope.instance_id, &p.app_id).await?.app;
    let app = App {
        name: input.name,
        remark: input.remark,
        app_key: input.app_key.unwrap_or(existing.app_key.clone()),
        related_domain_id: input.related_domain_id,
        related_project_id: input.related_project_id,
        update_time: now(),
        ..existing
    };
    let secret = input.app_secret.map(AppSecret);
    let updated = state.store.update_app(&scope.instance_id, &app, secret.as_ref()).await?;
    Ok(Json(views::app(&updated, None)))
}

#[utoipa::path(put, path = "/apps/secret/{app_id}", tag = "apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn reset_secret(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AppId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let secret = AppSecret(AppInput::secret_from_json(&body)?.unwrap_or_else(generated));
    let app = App { update_time: now(), ..state.store.app(&scope.instance_id, &p.app_id).await?.app };
    let updated = state.store.update_app(&scope.instance_id, &app, Some(&secret)).await?;
    Ok(Json(views::app(&updated, None)))
}

#[utoipa::path(get, path = "/apps/{app_id}", tag = "apps", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<AppId>) -> ApiResult<Json<Value>> {
    Ok(Json(views::app(&state.store.app(&scope.instance_id, &p.app_id).await?, None)))
}

#[utoipa::path(get, path = "/apps/validation/{app_id}", tag = "apps", responses((status = 200, description = "Found", body = Resource)))]
async fn check(State(state): State<AppState>, scope: Scope, Path(p): Path<AppId>) -> ApiResult<Json<Value>> {
    let app = state.store.app(&scope.instance_id, &p.app_id).await?.app;
    Ok(Json(json!({ "id": app.id, "name": app.name, "remark": app.remark })))
}

#[utoipa::path(delete, path = "/apps/{app_id}", tag = "apps", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<AppId>) -> ApiResult<StatusCode> {
    state.store.delete_app(&scope.instance_id, &p.app_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    status: Option<i32>,
    app_key: Option<String>,
    creator: Option<String>,
    precise_search: Option<String>,
    related_domain_id: Option<String>,
    related_project_id: Option<String>,
}

#[utoipa::path(get, path = "/apps", tag = "apps", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = AppFilter {
        id: non_empty(q.id),
        name: text_match(q.name, "name", q.precise_search.as_deref()),
        app_key: non_empty(q.app_key),
        creator: non_empty(q.creator),
        status: q.status,
        related_domain_id: non_empty(q.related_domain_id),
        related_project_id: non_empty(q.related_project_id),
    };
    let found = state.store.list_apps(&scope.instance_id, &filter, page).await?;
    Ok(Json(crate::views::list("apps", found, |s| views::app(&s.app, Some(s.bind_num)))))
}

#[derive(Deserialize)]
struct CodeId {
    app_id: String,
    app_code_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
}

async fn store_code(state: &AppState, scope: &Scope, app_id: String, app_code: String) -> ApiResult<Created> {
    let code = AppCode { id: new_id(), app_id, app_code, create_time: now() };
    state.store.create_app_code(&scope.instance_id, &code).await?;
    Ok((StatusCode::CREATED, Json(views::app_code(&code))))
}

#[utoipa::path(post, path = "/apps/{app_id}/app-codes", tag = "apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create_code(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AppId>,
    body: Bytes,
) -> ApiResult<Created> {
    let app_code = app_code_from_json(&body)?;
    store_code(&state, &scope, p.app_id, app_code).await
}

/// `CreateAppCodeAutoV2`: 64 hex digits from the OS generator.
#[utoipa::path(put, path = "/apps/{app_id}/app-codes", tag = "apps", responses((status = 201, description = "Created", body = Resource), InConflict))]
async fn generate_code(State(state): State<AppState>, scope: Scope, Path(p): Path<AppId>) -> ApiResult<Created> {
    store_code(&state, &scope, p.app_id, format!("{}{}", new_id(), new_id())).await
}

#[utoipa::path(get, path = "/apps/{app_id}/app-codes", tag = "apps", params(PageQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_codes(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<AppId>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let found = state.store.list_app_codes(&scope.instance_id, &p.app_id, page).await?;
    Ok(Json(crate::views::list("app_codes", found, views::app_code)))
}

#[utoipa::path(get, path = "/apps/{app_id}/app-codes/{app_code_id}", tag = "apps", responses((status = 200, description = "Found", body = Resource)))]
async fn show_code(State(state): State<AppState>, scope: Scope, Path(p): Path<CodeId>) -> ApiResult<Json<Value>> {
    Ok(Json(views::app_code(&state.store.app_code(&scope.instance_id, &p.app_id, &p.app_code_id).await?)))
}

#[utoipa::path(delete, path = "/apps/{app_id}/app-codes/{app_code_id}", tag = "apps", responses((status = 204, description = "Done"), InConflict))]
async fn delete_code(State(state): State<AppState>, scope: Scope, Path(p): Path<CodeId>) -> ApiResult<StatusCode> {
    state.store.delete_app_code(&scope.instance_id, &p.app_id, &p.app_code_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/app-auths", tag = "apps", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn authorize(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<Created> {
    let input = AppAuthInput::from_json(&body)?;
    let outcome =
        state.store.authorize_apps(&scope.instance_id, &input.env_id, &input.app_ids, &input.api_ids, now()).await?;
    let auths: Vec<Value> =
        outcome.into_iter().map(|(app_id, api_id, result)| views::auth_relation(&app_id, &api_id, result)).collect();
    Ok((StatusCode::CREATED, Json(json!({ "auths": auths }))))
}

#[derive(Deserialize)]
struct AuthId {
    app_auth_id: String,
}

#[utoipa::path(delete, path = "/app-auths/{app_auth_id}", tag = "apps", responses((status = 204, description = "Done"), InConflict))]
async fn revoke(State(state): State<AppState>, scope: Scope, Path(p): Path<AuthId>) -> ApiResult<StatusCode> {
    state.store.delete_app_auth(&scope.instance_id, &p.app_auth_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuthQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    app_id: Option<String>,
    app_name: Option<String>,
    api_id: Option<String>,
    api_name: Option<String>,
    group_id: Option<String>,
    group_name: Option<String>,
    env_id: Option<String>,
    tags: Option<String>,
}

impl AuthQuery {
    fn apis(&self) -> PublishedApiFilter {
        PublishedApiFilter {
            env_id: non_empty(self.env_id.clone()),
            group_id: non_empty(self.group_id.clone()),
            api_id: non_empty(self.api_id.clone()),
            api_name: non_empty(self.api_name.clone()),
            tag: non_empty(self.tags.clone()),
        }
    }
}

async fn auth_list(state: &AppState, scope: &Scope, q: AuthQuery) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let filter = AppAuthFilter {
        apis: q.apis(),
        app_id: non_empty(q.app_id),
        app_name: non_empty(q.app_name),
        group_name: non_empty(q.group_name),
    };
    let found = state.store.list_app_auths(&scope.instance_id, &filter, page).await?;
    Ok(Json(crate::views::list("auths", found, views::app_auth)))
}

/// `ListApisBindedToAppV2`.
#[utoipa::path(get, path = "/app-auths/binded-apis", tag = "apps", params(AuthQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<AuthQuery>,
) -> ApiResult<Json<Value>> {
    auth_list(&state, &scope, q).await
}

/// `ListAppsBindedToApiV2`.
#[utoipa::path(get, path = "/app-auths/binded-apps", tag = "apps", params(AuthQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn bound_apps(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<AuthQuery>,
) -> ApiResult<Json<Value>> {
    auth_list(&state, &scope, q).await
}

/// `ListApisUnbindedToAppV2`: published APIs the app is not authorized for.
#[utoipa::path(get, path = "/app-auths/unbinded-apis", tag = "apps", params(AuthQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn unbound_apis(
    State(state): State<AppState>,
    scope: Scope,
    AppQuery(q): AppQuery<AuthQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let app_id = non_empty(q.app_id.clone()).ok_or_else(|| ApiError::missing("app_id"))?;
    let found = state.store.list_apis_unbound_to_app(&scope.instance_id, &app_id, &q.apis(), page).await?;
    Ok(Json(crate::views::list("apis", found, views::api_outline)))
}
