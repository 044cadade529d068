//! VPC channels (`/vpc-channels`) and their members.

use crate::doc::{BadRequest, InConflict, JsonBody, PageOf, Resource};
use crate::views::vpc_channels::{brief, details, members};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_model::{MemberChange, Page, Paged, VpcChannel, VpcMember, members_from_json, now};
use portico_store::VpcChannelFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::apps::non_empty;
use super::groups::text_match;
use crate::extract::{AppQuery, Scope};
use crate::views::{list as paged, object};
use crate::{ApiResult, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(list_members, add_members, replace_members))
        .routes(routes!(remove_member))
}

#[derive(Deserialize)]
struct ChannelId {
    vpc_channel_id: String,
}

#[utoipa::path(post, path = "/vpc-channels", tag = "vpc_channels", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn create(State(state): State<AppState>, scope: Scope, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let channel = VpcChannel::from_json(&body, None, now())?;
    state.store.create_vpc_channel(&scope.instance_id, &channel).await?;
    Ok((StatusCode::CREATED, Json(brief(&channel))))
}

#[utoipa::path(put, path = "/vpc-channels/{vpc_channel_id}", tag = "vpc_channels", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn update(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ChannelId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let now = now();
    // Validate the body once before taking the write lock; the store re-applies it to the
    // channel as stored at that moment.
    VpcChannel::from_json(&body, None, now)?;
    let build = |previous: &VpcChannel| VpcChannel::from_json(&body, Some(previous), now);
    let channel = state.store.update_vpc_channel(&scope.instance_id, &p.vpc_channel_id, &build).await?;
    Ok(Json(brief(&channel)))
}

#[utoipa::path(get, path = "/vpc-channels/{vpc_channel_id}", tag = "vpc_channels", responses((status = 200, description = "Found", body = Resource)))]
async fn show(State(state): State<AppState>, scope: Scope, Path(p): Path<ChannelId>) -> ApiResult<Json<Value>> {
    Ok(Json(details(&state.store.vpc_channel(&scope.instance_id, &p.vpc_channel_id).await?)))
}

#[utoipa::path(delete, path = "/vpc-channels/{vpc_channel_id}", tag = "vpc_channels", responses((status = 204, description = "Done"), InConflict))]
async fn remove(State(state): State<AppState>, scope: Scope, Path(p): Path<ChannelId>) -> ApiResult<StatusCode> {
    state.store.delete_vpc_channel(&scope.instance_id, &p.vpc_channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    id: Option<String>,
    name: Option<String>,
    precise_search: Option<String>,
    member_host: Option<String>,
    member_port: Option<i64>,
    member_group_name: Option<String>,
    member_group_id: Option<String>,
    vpc_channel_type: Option<String>,
}

#[utoipa::path(get, path = "/vpc-channels", tag = "vpc_channels", params(ListQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list(State(state): State<AppState>, scope: Scope, AppQuery(q): AppQuery<ListQuery>) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    // Only built-in (server) channels exist.
    if non_empty(q.vpc_channel_type).is_some_and(|t| t != "builtin") {
        return Ok(Json(paged("vpc_channels", Paged::<VpcChannel> { items: vec![], total: 0 }, brief)));
    }
    let filter = VpcChannelFilter {
        id: non_empty(q.id),
        name: text_match(q.name, "name", q.precise_search.as_deref()),
        member_host: non_empty(q.member_host),
        member_port: q.member_port,
        member_group_name: non_empty(q.member_group_name),
        member_group_id: non_empty(q.member_group_id),
    };
    let found = state.store.list_vpc_channels(&scope.instance_id, &filter, page).await?;
    Ok(Json(paged("vpc_channels", found, brief)))
}

#[utoipa::path(post, path = "/vpc-channels/{vpc_channel_id}/members", tag = "vpc_channels", request_body(content = JsonBody, content_type = "application/json"), responses((status = 201, description = "Created", body = Resource), BadRequest, InConflict))]
async fn add_members(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ChannelId>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (bodies, _) = members_from_json(&body)?;
    let change = MemberChange::Add(bodies);
    let channel = state.store.change_vpc_members(&scope.instance_id, &p.vpc_channel_id, change, now()).await?;
    Ok((StatusCode::CREATED, Json(members(&channel))))
}

#[utoipa::path(put, path = "/vpc-channels/{vpc_channel_id}/members", tag = "vpc_channels", request_body(content = JsonBody, content_type = "application/json"), responses((status = 200, description = "Found", body = Resource), BadRequest, InConflict))]
async fn replace_members(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ChannelId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (members_given, member_group_name) = members_from_json(&body)?;
    let change = MemberChange::Replace { member_group_name, members: members_given };
    let channel = state.store.change_vpc_members(&scope.instance_id, &p.vpc_channel_id, change, now()).await?;
    Ok(Json(members(&channel)))
}

#[derive(Deserialize)]
struct MemberId {
    vpc_channel_id: String,
    member_id: String,
}

#[utoipa::path(delete, path = "/vpc-channels/{vpc_channel_id}/members/{member_id}", tag = "vpc_channels", responses((status = 204, description = "Done"), InConflict))]
async fn remove_member(State(state): State<AppState>, scope: Scope, Path(p): Path<MemberId>) -> ApiResult<StatusCode> {
    let change = MemberChange::Remove(p.member_id);
    state.store.change_vpc_members(&scope.instance_id, &p.vpc_channel_id, change, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MemberQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    name: Option<String>,
    member_group_name: Option<String>,
    member_group_id: Option<String>,
    precise_search: Option<String>,
}

fn member_matches(m: &VpcMember, q: &MemberQuery) -> bool {
    let exact = q.precise_search.as_deref().is_some_and(|p| p.split(',').any(|f| f.trim() == "name"));
    let name_ok = match non_empty(q.name.clone()) {
        None => true,
        Some(n) => [m.host.as_deref(), m.ecs_name.as_deref()]
            .into_iter()
            .flatten()
            .any(|v| if exact { v == n } else { v.contains(&n) }),
    };
    let group_ok = non_empty(q.member_group_name.clone()).is_none_or(|g| m.member_group_name.as_deref() == Some(&g));
    let group_id_ok = non_empty(q.member_group_id.clone()).is_none_or(|g| m.member_group_id.as_deref() == Some(&g));
    name_ok && group_ok && group_id_ok
}

#[utoipa::path(get, path = "/vpc-channels/{vpc_channel_id}/members", tag = "vpc_channels", params(MemberQuery), responses((status = 200, description = "One page", body = PageOf), BadRequest))]
async fn list_members(
    State(state): State<AppState>,
    scope: Scope,
    Path(p): Path<ChannelId>,
    AppQuery(q): AppQuery<MemberQuery>,
) -> ApiResult<Json<Value>> {
    let page = Page::new(q.offset, q.limit)?;
    let channel = state.store.vpc_channel(&scope.instance_id, &p.vpc_channel_id).await?;
    let matching: Vec<VpcMember> = channel.members.into_iter().filter(|m| member_matches(m, &q)).collect();
    let total = matching.len() as u64;
    let items = matching.into_iter().skip(page.offset as usize).take(page.limit as usize).collect();
    Ok(Json(paged("members", Paged { items, total }, |m: &VpcMember| Value::Object(object(m)))))
}
