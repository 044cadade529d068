//! The JSON the SDK reads back for the `gateway_responses` routes.

use portico_model::{GatewayResponse, ResponseInfo};
use serde_json::{Map, Value, json};

use crate::views::rfc3339;

/// `ResponsesInfo`: every error type, customised or default.
pub(crate) fn view(r: &GatewayResponse) -> Value {
    let responses: Map<String, Value> =
        r.all_types().into_iter().map(|(kind, (i, default))| (kind.to_string(), info(&i, default))).collect();
    json!({
        "id": r.id, "name": r.name, "responses": responses, "default": false,
        "create_time": rfc3339(r.create_time), "update_time": rfc3339(r.update_time),
    })
}

/// `{<type>: ResponseInfoResp}`.
pub(crate) fn type_view(r: &GatewayResponse, kind: &str) -> Value {
    let all = r.all_types();
    let mut map = Map::new();
    if let Some((i, default)) = all.get(kind) {
        map.insert(kind.to_string(), info(i, *default));
    }
    Value::Object(map)
}

fn info(info: &ResponseInfo, default: bool) -> Value {
    json!({ "status": info.status, "body": info.body, "headers": info.headers, "default": default })
}
