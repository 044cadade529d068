//! The JSON the SDK expects back, built from model and store types. Where APIG returns
//! fields Portico has no use for, they get APIG's neutral values so clients that read
//! them keep working. One file per family of routes; the helpers every view uses are here.

pub(crate) mod apis;
pub(crate) mod authorizers;
pub(crate) mod dataservice;
pub(crate) mod domains;
pub(crate) mod gateway_responses;
pub(crate) mod groups;
pub(crate) mod livedata;
pub(crate) mod outline;
pub(crate) mod policies;
pub(crate) mod roma_apps;
pub(crate) mod signatures;
pub(crate) mod vpc_channels;

pub(crate) use apis::{
    ApiDetails, ListDetail, api_list_item, group, instance, publication, version_details, version_entry,
};

use portico_model::Paged;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times format as RFC 3339")
}

pub(crate) fn object<T: Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// `{size, total, <key>: [...]}`.
pub fn list<T>(key: &str, page: Paged<T>, render: impl Fn(&T) -> Value) -> Value {
    let items: Vec<Value> = page.items.iter().map(render).collect();
    let mut map = Map::new();
    map.insert("size".into(), items.len().into());
    map.insert("total".into(), page.total.into());
    map.insert(key.into(), Value::Array(items));
    Value::Object(map)
}
