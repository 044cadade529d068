//! The JSON the SDK reads back for the `vpc_channels` routes.

use portico_model::VpcChannel;
use serde_json::{Value, json};

use crate::views::object;

/// `VpcChannelInfo`: the channel without its members and health check.
pub(crate) fn brief(channel: &VpcChannel) -> Value {
    let mut map = object(channel);
    map.remove("members");
    map.remove("vpc_health_config");
    map.insert("dict_code".into(), json!(""));
    Value::Object(map)
}

/// `ShowDetailsOfVpcChannelV2`: with members and health check.
pub(crate) fn details(channel: &VpcChannel) -> Value {
    let mut map = object(channel);
    map.insert("dict_code".into(), json!(""));
    if let Some(Value::Object(health)) = map.get_mut("vpc_health_config") {
        health.insert("vpc_channel_id".into(), json!(channel.id));
    }
    Value::Object(map)
}

pub(crate) fn members(channel: &VpcChannel) -> Value {
    let items: Vec<Value> = channel.members.iter().map(|m| Value::Object(object(m))).collect();
    json!({ "size": items.len(), "total": items.len(), "members": items })
}
