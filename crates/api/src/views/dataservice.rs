//! The JSON the SDK reads back for the `dataservice` routes.

use portico_model::{DsApi, DsCatalog, DsPublication, PublishStatus};
use serde_json::{Value, json};

/// `ApiOverview`, plus the catalog.
pub(crate) fn overview(api: &DsApi) -> Value {
    let d = &api.definition;
    json!({
        "id": api.id,
        "name": d.name,
        "group_id": api.publications.first().map(|p| p.group_id.as_str()),
        "description": d.description,
        "status": status_of(api),
        "debug_status": "API_DEBUG_WAITING",
        "publish_messages": api.publications.iter().map(|p| publish_message(api, p)).collect::<Vec<_>>(),
        "type": d.api_type.as_str(),
        "manager": d.manager,
        "create_user": api.create_user,
        "create_time": api.create_time,
        "authorization_status": api.authorization_status.as_str(),
        "catalog_id": d.catalog_id,
    })
}

pub(crate) fn catalog_view(c: &DsCatalog) -> Value {
    json!({
        "catalog_id": c.id, "pid": c.pid, "name": c.name, "description": c.description,
        "api_catalog_type": "CATALOG", "create_time": c.create_time, "create_user": c.create_user,
        "update_time": c.update_time, "update_user": c.update_user,
    })
}

fn status_of(api: &DsApi) -> &'static str {
    match api.publish_status {
        PublishStatus::Published => "API_STATUS_PUBLISHED",
        PublishStatus::NotPublished => "API_STATUS_CREATED",
    }
}

pub(crate) fn publish_message(api: &DsApi, p: &DsPublication) -> Value {
    json!({
        "id": p.id, "api_id": api.id, "instance_id": p.instance_id, "instance_name": p.instance_name,
        "api_status": "API_STATUS_PUBLISHED", "api_debug": "API_DEBUG_WAITING",
    })
}

/// `ShowApiResponse`, plus every field of the definition the SDK's model leaves out, so that
/// what was created can be read back.
pub(crate) fn details(api: &DsApi) -> Value {
    let mut body = serde_json::to_value(&api.definition).unwrap_or_default();
    let first = api.publications.first();
    let extra = json!({
        "id": api.id,
        "group_id": first.map(|p| p.group_id.as_str()),
        "create_user": api.create_user,
        "create_time": api.create_time,
        "update_time": api.update_time,
        "status": status_of(api),
        "type": api.definition.api_type.as_str(),
        "debug_status": "API_DEBUG_WAITING",
        "publish_messages": api.publications.iter().map(|p| publish_message(api, p)).collect::<Vec<_>>(),
        "publish_status": api.publish_status.as_str(),
        "authorization_status": api.authorization_status.as_str(),
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}
