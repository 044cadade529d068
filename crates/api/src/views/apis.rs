//! Instances, groups, APIs, publications and versions.

use super::{object, rfc3339};
use portico_model::{Api, ApiGroup, Instance};
use portico_store::{ApiVersion, Publication};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub fn instance(i: &Instance) -> Value {
    json!({
        "id": i.id,
        "project_id": i.project_id,
        "instance_name": i.instance_name,
        "description": i.description,
        "status": "Running",
        "instance_status": 6,
        "type": "apig",
        "spec": "PROFESSIONAL",
        "create_time": i.create_time.unix_timestamp() * 1000,
        "enterprise_project_id": "0",
        "charging_mode": 0,
        "loadbalancer_provider": "elb",
        "instance_version": env!("CARGO_PKG_VERSION"),
        "supported_features": [],
    })
}

pub fn group(g: &ApiGroup) -> Value {
    let mut map = object(g);
    map.insert("url_domains".into(), json!([]));
    map.insert("sl_domains".into(), json!([g.sl_domain]));
    map.insert("is_default".into(), json!(2));
    map.insert("version".into(), json!("V1"));
    Value::Object(map)
}

/// `ApiGroupCommonInfo`, as embedded in API details.
#[derive(Serialize)]
struct GroupCommon<'a> {
    id: &'a str,
    name: &'a str,
    status: i32,
    sl_domain: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    register_time: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    update_time: OffsetDateTime,
    on_sell_status: i32,
    url_domains: [(); 0],
    sl_domain_access_enabled: bool,
}

impl<'a> From<&'a ApiGroup> for GroupCommon<'a> {
    fn from(g: &'a ApiGroup) -> Self {
        GroupCommon {
            id: &g.id,
            name: &g.name,
            status: g.status,
            sl_domain: &g.sl_domain,
            register_time: g.register_time,
            update_time: g.update_time,
            on_sell_status: g.on_sell_status,
            url_domains: [],
            sl_domain_access_enabled: g.sl_domain_access_enabled,
        }
    }
}

/// `PublishResp`: one publish record.
pub fn publication(p: &Publication) -> Value {
    json!({
        "publish_id": p.publish_id,
        "api_id": p.api_id,
        "api_name": p.api_name,
        "env_id": p.env_id,
        "remark": p.remark,
        "publish_time": rfc3339(p.publish_time),
        "version_id": p.version_id,
    })
}

fn joined(publications: &[&Publication], field: impl Fn(&Publication) -> String) -> String {
    publications.iter().map(|p| field(p)).collect::<Vec<_>>().join("|")
}

/// An API as `ShowDetailsOfApiV2` shows it: the stored API plus its group and where it is live
/// (`run_env_id` and the rest joined with `|` when it is live in several environments).
/// Serialised straight to the response body: this is the hottest read of the API.
#[derive(Serialize)]
pub struct ApiDetails<'a> {
    #[serde(flatten)]
    api: &'a Api,
    arrange_necessary: i32,
    group_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<&'a str>,
    run_env_id: String,
    run_env_name: String,
    publish_id: String,
    publish_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_group_info: Option<GroupCommon<'a>>,
}

impl<'a> ApiDetails<'a> {
    pub fn new(api: &'a Api, group: Option<&'a ApiGroup>, publications: &[Publication]) -> Self {
        let mine: Vec<&Publication> = publications.iter().filter(|p| p.api_id == api.id).collect();
        ApiDetails {
            api,
            arrange_necessary: 2,
            group_version: "V1",
            group_name: group.map(|g| g.name.as_str()),
            run_env_id: joined(&mine, |p| p.env_id.clone()),
            run_env_name: joined(&mine, |p| p.env_name.clone()),
            publish_id: joined(&mine, |p| p.publish_id.clone()),
            publish_time: joined(&mine, |p| rfc3339(p.publish_time)),
            api_group_info: group.map(GroupCommon::from),
        }
    }
}

/// What `ListApisV2` adds beyond the brief form, from `return_data_mode`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListDetail {
    pub group: bool,
    pub backend: bool,
}

/// `ApiInfoPerPage`: the frontend, without backend parameters and policies.
pub fn api_list_item(api: &Api, group: Option<&ApiGroup>, publications: &[Publication], detail: ListDetail) -> Value {
    let mut map = object(&ApiDetails::new(api, group, publications));
    for key in ["backend_params", "policy_https", "policy_functions", "policy_mocks", "func_info", "mock_info"] {
        map.remove(key);
    }
    if !detail.backend {
        map.remove("backend_api");
    }
    if !detail.group {
        map.remove("api_group_info");
    }
    Value::Object(map)
}

/// `ApiVersionResp`: one entry of an API's version history.
pub fn version_entry(v: &ApiVersion) -> Value {
    json!({
        "version_id": v.version_id,
        "version_no": v.version_no,
        "api_id": v.api_id,
        "env_id": v.env_id,
        "env_name": v.env_name,
        "remark": v.remark,
        "publish_time": rfc3339(v.publish_time),
        "status": if v.is_current { 1 } else { 2 },
    })
}

/// A published version in full (`ListApiVersionDetailV2`, `ListApiRuntimeDefinitionV2`): the
/// snapshot, with the publication it belongs to and the group's domains.
pub fn version_details(v: &ApiVersion, group: Option<&ApiGroup>, publish_id: Option<&str>) -> Value {
    let mut map = object(&v.snapshot);
    map.insert("arrange_necessary".into(), json!(2));
    map.insert("group_version".into(), json!("V1"));
    map.insert("version_id".into(), json!(v.version_id));
    map.insert("run_env_id".into(), json!(v.env_id));
    map.insert("run_env_name".into(), json!(v.env_name));
    map.insert("publish_time".into(), json!(rfc3339(v.publish_time)));
    map.insert("publish_id".into(), json!(publish_id.unwrap_or_default()));
    if let Some(g) = group {
        map.insert("group_name".into(), json!(g.name));
        map.insert("sl_domain".into(), json!(g.sl_domain));
        map.insert("sl_domains".into(), json!([g.sl_domain]));
        map.insert("api_group_info".into(), serde_json::to_value(GroupCommon::from(g)).unwrap_or_default());
    }
    Value::Object(map)
}
