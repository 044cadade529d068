//! The JSON the SDK reads back for the `signatures` routes.

use portico_store::{ApiContext, BoundApi, BoundPolicy, PublishedApi, SignatureSummary};
use serde_json::{Map, Value, json};

use crate::views::{object, rfc3339};

/// `SignatureWithBindNum`.
pub(crate) fn view(s: &SignatureSummary) -> Value {
    let mut map = object(&s.signature);
    map.insert("bind_num".into(), json!(s.bind_num));
    map.insert("ldapi_bind_num".into(), json!(0));
    Value::Object(map)
}

/// `SignApiBindingBase`, plus the key's credentials for `SignApiBindingInfo`.
pub(crate) fn binding_view(b: &BoundApi, signature: Option<&Map<String, Value>>) -> Value {
    let p = &b.api;
    let mut map = match json!({
        "id": b.binding.id, "publish_id": p.publish_id, "api_id": p.api_id, "api_name": p.api_name,
        "api_type": p.api_type, "api_remark": p.api_remark, "group_name": p.group_name, "env_id": p.env_id,
        "env_name": p.env_name, "binding_time": rfc3339(b.binding.create_time), "sign_id": b.binding.policy_id,
        "sign_name": b.binding.policy_name, "req_method": p.req_method, "tags": p.tags,
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(sign) = signature {
        for key in ["sign_key", "sign_secret", "sign_type"] {
            map.insert(key.into(), sign.get(key).cloned().unwrap_or(Value::Null));
        }
    }
    Value::Object(map)
}

/// `SignApiBindingInfo` of a key bound to the API of `context`.
pub(crate) fn bound_sign_view(b: &BoundPolicy, context: &ApiContext) -> Value {
    let api = &context.api;
    let mut map = b.policy.clone();
    for key in ["id", "name", "create_time", "update_time", "sign_algorithm"] {
        map.remove(key);
    }
    let fields = json!({
        "id": b.binding.id, "sign_id": b.binding.policy_id, "sign_name": b.binding.policy_name,
        "publish_id": b.binding.publish_id, "api_id": api.id, "api_name": api.definition.name,
        "api_type": api.definition.api_type, "api_remark": api.definition.remark, "group_name": context.group.name,
        "env_id": b.binding.env_id, "env_name": b.env_name, "binding_time": rfc3339(b.binding.create_time),
        "req_method": api.definition.req_method.as_str(), "tags": api.definition.tags,
    });
    if let Value::Object(fields) = fields {
        map.extend(fields);
    }
    Value::Object(map)
}

/// `ApiForSign`.
pub(crate) fn unbound_view(p: &PublishedApi) -> Value {
    json!({
        "id": p.api_id, "name": p.api_name, "type": p.api_type, "remark": p.api_remark, "auth_type": p.auth_type,
        "req_method": p.req_method, "req_uri": p.req_uri, "group_id": p.group_id, "group_name": p.group_name,
        "publish_id": p.publish_id, "run_env_id": p.env_id, "run_env_name": p.env_name, "tags": p.tags,
    })
}
