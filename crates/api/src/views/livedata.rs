//! The JSON the SDK reads back for the `livedata` routes.

use portico_model::{LdApi, LdTestRun};
use serde_json::{Value, json};

use crate::views::object;

/// `LdApiInfo`.
pub(crate) fn view(api: &LdApi, instance_id: &str, app_name: &str) -> Value {
    let mut map = object(api);
    map.insert("instance".into(), json!(instance_id));
    map.insert("roma_app_name".into(), json!(app_name));
    Value::Object(map)
}

pub(crate) fn deployment_view(d: &portico_model::LdDeployment, instance_id: &str, app_name: &str) -> Value {
    let mut map = object(d);
    map.insert("api_definition".into(), view(&d.api_definition, instance_id, app_name));
    Value::Object(map)
}

/// A test run's history entry (`LdApiTestHistoryInfoV2`) has no `debug_log`.
pub(crate) fn test_history_view(run: &LdTestRun) -> Value {
    let mut map = object(run);
    map.remove("debug_log");
    Value::Object(map)
}
