//! Request throttling policies and their special (per app or per user) limits.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_json};
use crate::group::required_str;
use crate::rules::is_policy_name;

/// The largest limit APIG accepts.
pub const MAX_LIMIT: i64 = 2_147_483_647;

/// Time units of a throttling window.
pub const TIME_UNITS: [&str; 4] = ["SECOND", "MINUTE", "HOUR", "DAY"];

/// A request throttling policy (`ThrottleBaseInfo` plus what the server adds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// Policy id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// Calls of one API per window.
    pub api_call_limits: i64,
    /// Calls per user per window (0 = no limit of its own).
    pub user_call_limits: i64,
    /// Calls per app per window (0 = no limit of its own).
    pub app_call_limits: i64,
    /// Calls per source IP per window (0 = no limit of its own).
    pub ip_call_limits: i64,
    /// Window length, in `time_unit`s.
    pub time_interval: i64,
    /// `SECOND`, `MINUTE`, `HOUR` or `DAY`.
    pub time_unit: String,
    /// 1 = per API, 2 = shared by all bound APIs.
    #[serde(rename = "type")]
    pub throttle_type: i32,
    /// Always `FALSE`.
    pub enable_adaptive_control: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

#[derive(Deserialize)]
struct ThrottleBody {
    name: String,
    api_call_limits: i64,
    time_interval: i64,
    time_unit: String,
    #[serde(default)]
    user_call_limits: Option<i64>,
    #[serde(default)]
    app_call_limits: Option<i64>,
    #[serde(default)]
    ip_call_limits: Option<i64>,
    #[serde(default, rename = "type")]
    throttle_type: Option<i32>,
    #[serde(default)]
    enable_adaptive_control: Option<String>,
    #[serde(default)]
    remark: Option<String>,
}

/// The client-given part of a [`Throttle`], validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleInput {
    /// Name.
    pub name: String,
    /// See [`Throttle`].
    pub api_call_limits: i64,
    /// See [`Throttle`].
    pub user_call_limits: i64,
    /// See [`Throttle`].
    pub app_call_limits: i64,
    /// See [`Throttle`].
    pub ip_call_limits: i64,
    /// See [`Throttle`].
    pub time_interval: i64,
    /// See [`Throttle`].
    pub time_unit: String,
    /// See [`Throttle`].
    pub throttle_type: i32,
    /// See [`Throttle`].
    pub remark: Option<String>,
}

impl ThrottleInput {
    /// Parses and validates `CreateRequestThrottlingPolicyV2` / `UpdateRequestThrottlingPolicyV2`.
    pub fn from_json(body: &[u8]) -> Result<ThrottleInput, FieldError> {
        let doc = parse_json(body)?;
        for key in ["name", "api_call_limits", "time_interval", "time_unit"] {
            if matches!(doc.get(key), None | Some(serde_json::Value::Null)) {
                return Err(FieldError::Missing(key.into()));
            }
        }
        required_str(&doc, "name")?;
        required_str(&doc, "time_unit")?;
        let b: ThrottleBody = from_value(&doc)?;
        if !is_policy_name(&b.name) {
            return Err(FieldError::invalid("name"));
        }
        if !(1..=MAX_LIMIT).contains(&b.api_call_limits) {
            return Err(FieldError::invalid("api_call_limits"));
        }
        let limit = |value: Option<i64>, field: &str| match value.unwrap_or(0) {
            v if (0..=b.api_call_limits).contains(&v) => Ok(v),
            _ => Err(FieldError::invalid(field)),
        };
        let input = ThrottleInput {
            user_call_limits: limit(b.user_call_limits, "user_call_limits")?,
            app_call_limits: limit(b.app_call_limits, "app_call_limits")?,
            ip_call_limits: limit(b.ip_call_limits, "ip_call_limits")?,
            name: b.name,
            api_call_limits: b.api_call_limits,
            time_interval: b.time_interval,
            time_unit: b.time_unit,
            throttle_type: b.throttle_type.unwrap_or(1),
            remark: b.remark,
        };
        if !(1..=MAX_LIMIT).contains(&input.time_interval) {
            return Err(FieldError::invalid("time_interval"));
        }
        if !TIME_UNITS.contains(&input.time_unit.as_str()) {
            return Err(FieldError::invalid("time_unit"));
        }
        if !matches!(input.throttle_type, 1 | 2) {
            return Err(FieldError::invalid("type"));
        }
        if !matches!(b.enable_adaptive_control.as_deref(), None | Some("FALSE") | Some("")) {
            return Err(FieldError::invalid("enable_adaptive_control"));
        }
        if input.remark.as_ref().is_some_and(|r| r.chars().count() > 255) {
            return Err(FieldError::invalid("remark"));
        }
        Ok(input)
    }

    /// The policy these settings describe.
    pub fn into_throttle(self, id: String, create_time: OffsetDateTime) -> Throttle {
        Throttle {
            id,
            name: self.name,
            api_call_limits: self.api_call_limits,
            user_call_limits: self.user_call_limits,
            app_call_limits: self.app_call_limits,
            ip_call_limits: self.ip_call_limits,
            time_interval: self.time_interval,
            time_unit: self.time_unit,
            throttle_type: self.throttle_type,
            enable_adaptive_control: "FALSE".into(),
            remark: self.remark,
            create_time,
        }
    }
}

/// A special throttle: a different limit for one app or one user (`ThrottleSpecialInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThrottleSpecial {
    /// Id.
    pub id: String,
    /// The policy it belongs to.
    pub throttle_id: String,
    /// `APP` or `USER`.
    pub object_type: String,
    /// App id or user (account) id.
    pub object_id: String,
    /// App name, or the user id.
    pub object_name: String,
    /// Calls per window for this object.
    pub call_limits: i64,
    /// When it was set.
    #[serde(with = "time::serde::rfc3339")]
    pub apply_time: OffsetDateTime,
}

#[derive(Deserialize)]
struct SpecialBody {
    call_limits: i64,
}

fn check_call_limits(value: i64) -> Result<i64, FieldError> {
    if (1..=MAX_LIMIT).contains(&value) { Ok(value) } else { Err(FieldError::invalid("call_limits")) }
}

/// Body of `CreateSpecialThrottlingConfigurationV2`: `(object_type, object_id, call_limits)`.
pub fn special_from_json(body: &[u8]) -> Result<(String, String, i64), FieldError> {
    let doc = parse_json(body)?;
    if matches!(doc.get("call_limits"), None | Some(serde_json::Value::Null)) {
        return Err(FieldError::Missing("call_limits".into()));
    }
    let object_id = required_str(&doc, "object_id")?;
    let object_type = required_str(&doc, "object_type")?;
    let b: SpecialBody = from_value(&doc)?;
    if !matches!(object_type.as_str(), "APP" | "USER") {
        return Err(FieldError::invalid("object_type"));
    }
    if object_id.chars().count() > 64 {
        return Err(FieldError::invalid("object_id"));
    }
    Ok((object_type, object_id, check_call_limits(b.call_limits)?))
}

/// Body of `UpdateSpecialThrottlingConfigurationV2`: the new `call_limits`.
pub fn special_limits_from_json(body: &[u8]) -> Result<i64, FieldError> {
    let doc = parse_json(body)?;
    match doc.get("call_limits") {
        None | Some(serde_json::Value::Null) => Err(FieldError::Missing("call_limits".into())),
        Some(v) => check_call_limits(v.as_i64().ok_or_else(|| FieldError::invalid("call_limits"))?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ThrottleInput, FieldError> {
        ThrottleInput::from_json(json.as_bytes())
    }

    #[test]
    fn limits_must_not_exceed_the_api_limit() {
        let ok = parse(
            r#"{"name":"tps_1","api_call_limits":100,"time_interval":1,"time_unit":"SECOND","app_call_limits":100}"#,
        );
        assert_eq!(ok.unwrap().throttle_type, 1);
        for field in ["user_call_limits", "app_call_limits", "ip_call_limits"] {
            let body = format!(
                r#"{{"name":"tps_1","api_call_limits":100,"time_interval":1,"time_unit":"SECOND","{field}":101}}"#
            );
            assert_eq!(parse(&body), Err(FieldError::invalid(field)));
        }
    }

    #[test]
    fn required_fields_units_and_types() {
        assert_eq!(
            parse(r#"{"name":"tps_1","time_interval":1,"time_unit":"SECOND"}"#),
            Err(FieldError::Missing("api_call_limits".into()))
        );
        assert_eq!(
            parse(r#"{"name":"tps_1","api_call_limits":1,"time_interval":1,"time_unit":"WEEK"}"#),
            Err(FieldError::invalid("time_unit"))
        );
        assert_eq!(
            parse(r#"{"name":"tps_1","api_call_limits":1,"time_interval":1,"time_unit":"DAY","type":3}"#),
            Err(FieldError::invalid("type"))
        );
        assert_eq!(
            parse(r#"{"name":"tps_1","api_call_limits":"x","time_interval":1,"time_unit":"DAY"}"#),
            Err(FieldError::invalid("api_call_limits"))
        );
        assert_eq!(
            parse(r#"{"name":"tps_1","api_call_limits":0,"time_interval":1,"time_unit":"DAY"}"#),
            Err(FieldError::invalid("api_call_limits"))
        );
    }

    #[test]
    fn specials_name_their_object() {
        assert_eq!(
            special_from_json(br#"{"call_limits":5,"object_id":"u1","object_type":"USER"}"#),
            Ok(("USER".into(), "u1".into(), 5))
        );
        assert_eq!(
            special_from_json(br#"{"call_limits":5,"object_id":"u1","object_type":"GROUP"}"#),
            Err(FieldError::invalid("object_type"))
        );
        assert_eq!(special_limits_from_json(br#"{"call_limits":0}"#), Err(FieldError::invalid("call_limits")));
    }
}
