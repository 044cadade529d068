//! The JSON the SDK reads back for the `roma_apps` routes.

use portico_model::{DataSource, RomaApp};
use serde_json::{Value, json};

use crate::Caller;
use crate::views::{object, rfc3339};

/// `ServerAppInfo`. Portico has no per-app roles: the caller's project membership decides.
pub(crate) fn app_view(app: &RomaApp, caller: &Caller) -> Value {
    let user = json!({ "user_id": caller.user_id, "user_name": caller.user_name });
    json!({
        "id": app.id, "name": app.name, "remark": app.remark.clone().unwrap_or_default(),
        "roles": ["read", "access", "delete", "authorize", "modify"],
        "create_time": rfc3339(app.create_time), "update_time": rfc3339(app.update_time),
        "created_user": user, "last_updated_user": user, "owner": true, "key": app.key, "favorite": app.favorite,
    })
}

/// `DataSourceRsp`: the settings without the password, times in epoch milliseconds.
pub(crate) fn source_view(source: &DataSource, app_name: &str, instance_id: &str) -> Value {
    let millis = |t: time::OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
    let mut map = object(source);
    map.insert("app_name".into(), json!(app_name));
    map.insert("instance_id".into(), json!(instance_id));
    map.insert("vpc_id".into(), json!(""));
    map.insert("custom_plugin_id".into(), json!(""));
    map.insert("create_time".into(), json!(millis(source.create_time)));
    map.insert("update_time".into(), json!(millis(source.update_time)));
    map.insert("app_permission".into(), json!(["read", "access", "delete", "modify"]));
    Value::Object(map)
}

/// `LdDatasourceInfo`: a data source as `ListLiveDataDataSourcesV2` (apic `/data-sources`)
/// lists it.
pub(crate) fn livedata_source_view(source: &DataSource) -> Value {
    let url = source.setting("url").map(str::to_owned).unwrap_or_else(|| {
        let host = source.setting("host").unwrap_or_default();
        match source.setting("port") {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    });
    json!({
        "id": source.datasource_id, "name": source.datasource_name,
        "type": source.datasource_type.to_ascii_lowercase(),
        "description": source.description.clone().unwrap_or_default(), "url": url,
        "user": source.setting("user_name").unwrap_or_default(), "status": "1",
        "created_time": rfc3339(source.create_time), "modified_time": rfc3339(source.update_time),
    })
}

/// `CheckRomaAppSecret`, `ResetRomaAppSecret`: the application's id and its secret in clear.
pub fn secret_view(app_id: &str, secret: &str) -> Value {
    json!({ "id": app_id, "secret": secret })
}
