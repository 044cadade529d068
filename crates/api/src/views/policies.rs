//! The JSON the SDK expects back for apps, throttling policies, ACLs and their bindings.

use portico_model::{Acl, AppCode, AppWithSecret, ThrottleSpecial};
use portico_store::{
    AclSummary, AppAuthEntry, BoundApi, BoundPolicy, PolicyBinding, PublishedApi, StoreError, ThrottleSummary,
};
use serde_json::{Map, Value, json};

use super::{object, rfc3339};
use crate::ApiError;

/// `AppInfo` (with `bind_num` for `AppInfoWithBindNum`).
pub fn app(a: &AppWithSecret, bind_num: Option<u64>) -> Value {
    let mut map = object(&a.app);
    map.insert("app_secret".into(), json!(a.app_secret.0));
    map.insert("roma_app_type".into(), json!(""));
    if let Some(n) = bind_num {
        map.insert("bind_num".into(), json!(n));
    }
    Value::Object(map)
}

/// `AppCodeBaseInfo`.
pub fn app_code(c: &AppCode) -> Value {
    Value::Object(object(c))
}

/// `ApiOutline`: a published API an app could be authorized for.
pub fn api_outline(p: &PublishedApi) -> Value {
    json!({
        "id": p.api_id, "name": p.api_name, "remark": p.api_remark, "auth_type": p.auth_type,
        "req_uri": p.req_uri, "group_id": p.group_id, "group_name": p.group_name, "publish_id": p.publish_id,
        "run_env_id": p.env_id, "run_env_name": p.env_name, "tags": p.tags,
    })
}

/// `ApiAuthInfo`: an authorization with its app and API.
pub fn app_auth(e: &AppAuthEntry) -> Value {
    json!({
        "id": e.auth.id, "api_id": e.api.api_id, "api_name": e.api.api_name, "group_name": e.api.group_name,
        "group_id": e.api.group_id, "api_type": e.api.api_type, "api_remark": e.api.api_remark,
        "env_id": e.api.env_id, "env_name": e.api.env_name, "auth_role": "PROVIDER",
        "auth_time": rfc3339(e.auth.auth_time), "app_id": e.app.id, "app_name": e.app.name,
        "app_remark": e.app.remark, "app_type": e.app.app_type, "app_creator": e.app.creator,
        "publish_id": e.api.publish_id, "auth_tunnel": "NORMAL", "auth_whitelist": [], "auth_blacklist": [],
        "visit_param": "", "roma_app_type": "", "tags": e.api.tags,
    })
}

/// `ApiAuthRelations` with its `auth_result`.
pub fn auth_relation(app_id: &str, api_id: &str, result: Result<portico_model::AppAuth, StoreError>) -> Value {
    let common = |id: Option<&str>, time: Option<String>, status: &str, code: &str, msg: &str| {
        json!({
            "id": id, "api_id": api_id, "app_id": app_id, "auth_time": time, "auth_role": "PROVIDER",
            "auth_tunnel": "NORMAL", "auth_whitelist": [], "auth_blacklist": [], "visit_params": "",
            "auth_result": { "status": status, "error_code": code, "error_msg": msg },
        })
    };
    match result {
        Ok(auth) => common(Some(&auth.id), Some(rfc3339(auth.auth_time)), "SUCCESS", "", ""),
        Err(e) => {
            let e = ApiError::from(e);
            common(None, None, "FAILED", e.code, &e.message)
        }
    }
}

/// `ThrottlesInfo`.
pub fn throttle(t: &ThrottleSummary) -> Value {
    let mut map = object(&t.throttle);
    map.insert("bind_num".into(), json!(t.bind_num));
    map.insert("is_inclu_special_throttle".into(), json!(if t.has_specials { 1 } else { 2 }));
    Value::Object(map)
}

/// `ThrottleSpecialInfo`.
pub fn special(s: &ThrottleSpecial) -> Value {
    let mut map = object(s);
    let app = s.object_type == "APP";
    map.insert("app_id".into(), json!(if app { Some(&s.object_id) } else { None }));
    map.insert("app_name".into(), json!(if app { Some(&s.object_name) } else { None }));
    Value::Object(map)
}

/// `ApiAclInfoWithBindNum`.
pub fn acl(a: &AclSummary) -> Value {
    let mut map = object(&a.acl);
    map.insert("bind_num".into(), json!(a.bind_num));
    Value::Object(map)
}

/// `ApiAclInfo`.
pub fn acl_plain(a: &Acl) -> Value {
    Value::Object(object(a))
}

/// `ThrottleApiBinding`.
pub fn throttle_binding(b: &PolicyBinding) -> Value {
    json!({
        "id": b.id, "publish_id": b.publish_id, "scope": 1, "strategy_id": b.policy_id,
        "apply_time": rfc3339(b.create_time),
    })
}

/// `AclApiBindingInfo`.
pub fn acl_binding(b: &PolicyBinding) -> Value {
    json!({
        "id": b.id, "api_id": b.api_id, "env_id": b.env_id, "acl_id": b.policy_id,
        "create_time": rfc3339(b.create_time),
    })
}

fn published_common(p: &PublishedApi) -> Map<String, Value> {
    let value = json!({
        "id": p.api_id, "name": p.api_name, "type": p.api_type, "remark": p.api_remark,
        "auth_type": p.auth_type, "req_method": p.req_method, "req_uri": p.req_uri,
        "group_id": p.group_id, "group_name": p.group_name, "publish_id": p.publish_id,
        "run_env_id": p.env_id, "run_env_name": p.env_name, "tags": p.tags,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `ApiForThrottle` (bound or not).
pub fn api_for_throttle(p: &PublishedApi, binding: Option<&PolicyBinding>) -> Value {
    let mut map = published_common(p);
    if let Some(b) = binding {
        map.insert("throttle_apply_id".into(), json!(b.id));
        map.insert("apply_time".into(), json!(rfc3339(b.create_time)));
        map.insert("throttle_name".into(), json!(b.policy_name));
    }
    Value::Object(map)
}

/// `ApiForThrottle` of a bound API.
pub fn bound_api_for_throttle(b: &BoundApi) -> Value {
    api_for_throttle(&b.api, Some(&b.binding))
}

/// `AclBindApiInfo`.
pub fn bound_api_for_acl(b: &BoundApi) -> Value {
    let p = &b.api;
    json!({
        "api_id": p.api_id, "api_name": p.api_name, "api_type": p.api_type, "api_remark": p.api_remark,
        "env_id": p.env_id, "env_name": p.env_name, "bind_id": b.binding.id, "group_name": p.group_name,
        "bind_time": rfc3339(b.binding.create_time), "publish_id": p.publish_id, "req_method": p.req_method,
        "tags": p.tags,
    })
}

/// `UnbindApiForAcl`.
pub fn unbound_api_for_acl(p: &PublishedApi) -> Value {
    Value::Object(published_common(p))
}

/// `ThrottleForApi`: the policy with the binding.
pub fn throttle_for_api(b: &BoundPolicy) -> Value {
    let mut map = b.policy.clone();
    map.insert("env_name".into(), json!(b.env_name));
    map.insert("bind_id".into(), json!(b.binding.id));
    map.insert("bind_time".into(), json!(rfc3339(b.binding.create_time)));
    Value::Object(map)
}

/// `ApiBindAclInfo`.
pub fn acl_for_api(b: &BoundPolicy) -> Value {
    let field = |k: &str| b.policy.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "acl_id": b.binding.policy_id, "acl_name": b.binding.policy_name, "entity_type": field("entity_type"),
        "acl_type": field("acl_type"), "acl_value": field("acl_value"), "env_id": b.binding.env_id,
        "env_name": b.env_name, "bind_id": b.binding.id, "bind_time": rfc3339(b.binding.create_time),
    })
}
