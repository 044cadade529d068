//! Frontend parameters: each `req_params[]` entry is looked up where it travels, defaulted,
//! and, with `valid_enable` 1, checked against its type, enumeration, range and length.
//!
//! `required` 1 is enforced whatever `valid_enable` says (PATH parameters are always required
//! and always present once the route matched). A default fills an absent parameter and is not
//! validated: the owner wrote it.

use http::HeaderMap;
use portico_model::{ParamLocation, ParamType, ReqParam};

use crate::error::GatewayError;

/// What the request carries, by location.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Path parameters from the route.
    pub path: &'a [(String, String)],
    /// Decoded query pairs, in order.
    pub query: &'a [(String, String)],
    /// Request headers.
    pub headers: &'a HeaderMap,
}

impl<'a> RequestView<'a> {
    /// The first value of `name` at `location` (header names are case-insensitive).
    pub fn get(&self, location: ParamLocation, name: &str) -> Option<&'a str> {
        match location {
            ParamLocation::Path => self.path.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()),
            ParamLocation::Query => self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()),
            ParamLocation::Header => self.headers.get(name).and_then(|v| v.to_str().ok()),
        }
    }
}

/// A frontend parameter's value for this request.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamValue {
    /// Frontend name.
    pub name: String,
    /// Where the client sends it.
    pub location: ParamLocation,
    /// The value sent, or the default; `None` when neither exists.
    pub value: Option<String>,
    /// Whether `value` is the default.
    pub defaulted: bool,
    /// Whether it goes to the backend under its own name when no backend parameter maps it.
    pub pass_through: bool,
}

/// Every defined frontend parameter's value, in definition order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamValues(pub Vec<ParamValue>);

impl ParamValues {
    /// The value of the frontend parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|p| p.name == name).and_then(|p| p.value.as_deref())
    }
}

/// Resolves and checks every defined parameter.
pub fn resolve(defs: &[ReqParam], request: &RequestView<'_>) -> Result<ParamValues, GatewayError> {
    defs.iter().map(|def| resolve_one(def, request)).collect::<Result<Vec<_>, _>>().map(ParamValues)
}

fn resolve_one(def: &ReqParam, request: &RequestView<'_>) -> Result<ParamValue, GatewayError> {
    let location = def.location.as_str();
    let sent = request.get(def.location, &def.name);
    let (value, defaulted) = match (sent, &def.default_value) {
        (Some(v), _) => {
            if def.valid_enable == 1 {
                validate(def, v).map_err(|reason| GatewayError::InvalidParam {
                    name: def.name.clone(),
                    location,
                    reason,
                })?;
            }
            (Some(v.to_string()), false)
        }
        (None, Some(default)) => (Some(default.clone()), true),
        (None, None) if def.required == 1 => {
            return Err(GatewayError::MissingParam { name: def.name.clone(), location });
        }
        (None, None) => (None, false),
    };
    Ok(ParamValue {
        name: def.name.clone(),
        location: def.location,
        value,
        defaulted,
        pass_through: def.pass_through != Some(2),
    })
}

/// The rule `value` breaks, if any.
fn validate(def: &ReqParam, value: &str) -> Result<(), String> {
    if let Some(list) = def.enumerations.as_deref().filter(|l| !l.trim().is_empty())
        && !list.split(',').any(|allowed| allowed.trim() == value)
    {
        return Err(format!("not one of {list}"));
    }
    match def.param_type {
        ParamType::Number => {
            let n: f64 = value.trim().parse().ok().filter(|n: &f64| n.is_finite()).ok_or("not a number")?;
            if let Some(min) = def.min_num
                && n < min as f64
            {
                return Err(format!("less than {min}"));
            }
            if let Some(max) = def.max_num
                && n > max as f64
            {
                return Err(format!("greater than {max}"));
            }
        }
        ParamType::String => {
            let len = value.chars().count() as i64;
            if let Some(min) = def.min_size
                && len < min
            {
                return Err(format!("shorter than {min} characters"));
            }
            if let Some(max) = def.max_size
                && len > max
            {
                return Err(format!("longer than {max} characters"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn param(v: serde_json::Value) -> ReqParam {
        let mut base = json!({ "name": "p", "type": "STRING", "location": "QUERY", "required": 2, "valid_enable": 1 });
        base.as_object_mut().unwrap().extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn check(def: serde_json::Value, query: &[(&str, &str)]) -> Result<ParamValue, GatewayError> {
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let headers = HeaderMap::new();
        let view = RequestView { path: &[], query: &query, headers: &headers };
        resolve(&[param(def)], &view).map(|mut v| v.0.remove(0))
    }

    fn reason(def: serde_json::Value, value: &str) -> String {
        match check(def, &[("p", value)]) {
            Err(GatewayError::InvalidParam { reason, .. }) => reason,
            other => panic!("expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn required_missing_and_defaults() {
        assert_eq!(
            check(json!({ "required": 1 }), &[]),
            Err(GatewayError::MissingParam { name: "p".into(), location: "QUERY" })
        );
        let v = check(json!({ "required": 1, "default_value": "d" }), &[]).unwrap();
        assert_eq!((v.value.as_deref(), v.defaulted), (Some("d"), true));
        let v = check(json!({}), &[]).unwrap();
        assert_eq!(v.value, None);
        let v = check(json!({ "default_value": "d" }), &[("p", "sent")]).unwrap();
        assert_eq!((v.value.as_deref(), v.defaulted, v.pass_through), (Some("sent"), false, true));
        assert!(!check(json!({ "pass_through": 2 }), &[]).unwrap().pass_through);
    }

    #[test]
    fn numbers_ranges_lengths_and_enumerations() {
        let number = json!({ "type": "NUMBER", "min_num": 1, "max_num": 10 });
        assert_eq!(reason(number.clone(), "abc"), "not a number");
        assert_eq!(reason(number.clone(), "0"), "less than 1");
        assert_eq!(reason(number.clone(), "10.5"), "greater than 10");
        assert!(check(number, &[("p", "2.5")]).is_ok());
        let string = json!({ "min_size": 2, "max_size": 3 });
        assert_eq!(reason(string.clone(), "a"), "shorter than 2 characters");
        assert_eq!(reason(string.clone(), "abcd"), "longer than 3 characters");
        assert!(check(string, &[("p", "日本語")]).is_ok());
        let enumeration = json!({ "enumerations": "red, green,blue" });
        assert_eq!(reason(enumeration.clone(), "pink"), "not one of red, green,blue");
        assert!(check(enumeration, &[("p", "green")]).is_ok());
    }

    #[test]
    fn validation_off_accepts_anything() {
        assert!(check(json!({ "type": "NUMBER", "valid_enable": 2, "max_num": 1 }), &[("p", "zzz")]).is_ok());
    }

    #[test]
    fn headers_are_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert("x-trace", HeaderValue::from_static("t1"));
        let view = RequestView { path: &[], query: &[], headers: &headers };
        let def = param(json!({ "name": "X-Trace", "location": "HEADER", "required": 1 }));
        assert_eq!(resolve(&[def], &view).unwrap().get("X-Trace"), Some("t1"));
    }
}
