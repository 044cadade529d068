//! Gateway responses: a group's custom error responses, per error type. An API picks one by
//! `response_id`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_json};
use crate::group::required_str;
use crate::rules::is_policy_name;

/// The error types a gateway response customises, with their default status.
pub const RESPONSE_TYPES: [(&str, u16); 19] = [
    ("ACCESS_DENIED", 403),
    ("AUTH_FAILURE", 401),
    ("AUTH_HEADER_MISSING", 401),
    ("AUTHORIZER_FAILURE", 500),
    ("AUTHORIZER_CONF_FAILURE", 500),
    ("AUTHORIZER_IDENTITIES_FAILURE", 401),
    ("BACKEND_UNAVAILABLE", 502),
    ("BACKEND_TIMEOUT", 504),
    ("THROTTLED", 429),
    ("UNAUTHORIZED", 401),
    ("DEFAULT_4XX", 400),
    ("DEFAULT_5XX", 500),
    ("NOT_FOUND", 404),
    ("REQUEST_PARAMETERS_FAILURE", 400),
    ("ORCHESTRATION_PARAMETER_NOT_FOUND", 400),
    ("ORCHESTRATION_FAILURE", 400),
    ("THIRD_AUTH_FAILURE", 401),
    ("THIRD_AUTH_IDENTITIES_FAILURE", 401),
    ("THIRD_AUTH_CONF_FAILURE", 500),
];

/// The body of every response type nobody customised.
pub const DEFAULT_RESPONSE_BODY: &str =
    r#"{"error_code":"$context.error.code","error_msg":"$context.error.message","request_id":"$context.requestId"}"#;

/// A response header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseHeader {
    /// Header name.
    pub key: String,
    /// Header value.
    pub value: String,
}

/// One customised error response (`ResponseInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseInfo {
    /// HTTP status.
    pub status: u16,
    /// Body template (may use `$context.*` variables).
    pub body: String,
    /// Extra headers.
    #[serde(default)]
    pub headers: Vec<ResponseHeader>,
}

/// A gateway response of a group (`ResponsesInfo`): only the customised types are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayResponse {
    /// Id.
    pub id: String,
    /// Its group.
    pub group_id: String,
    /// Name, unique in the group.
    pub name: String,
    /// Customised types.
    pub responses: BTreeMap<String, ResponseInfo>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

impl GatewayResponse {
    /// Every error type with what it answers: the customised response, or the default
    /// (`default` true).
    pub fn all_types(&self) -> BTreeMap<&'static str, (ResponseInfo, bool)> {
        RESPONSE_TYPES
            .iter()
            .map(|(kind, status)| {
                let entry = match self.responses.get(*kind) {
                    Some(custom) => (custom.clone(), false),
                    None => {
                        (ResponseInfo { status: *status, body: DEFAULT_RESPONSE_BODY.into(), headers: vec![] }, true)
                    }
                };
                (*kind, entry)
            })
            .collect()
    }
}

/// Whether `kind` is an error type a gateway response can customise.
pub fn is_response_type(kind: &str) -> bool {
    RESPONSE_TYPES.iter().any(|(k, _)| *k == kind)
}

fn check_info(prefix: &str, info: &ResponseInfo) -> Result<(), FieldError> {
    if !(200..=599).contains(&info.status) {
        return Err(FieldError::invalid(format!("{prefix}.status")));
    }
    if info.body.chars().count() > 2048 {
        return Err(FieldError::invalid(format!("{prefix}.body")));
    }
    if info.headers.len() > 10 {
        return Err(FieldError::invalid(format!("{prefix}.headers")));
    }
    for (i, h) in info.headers.iter().enumerate() {
        let key_ok = (1..=128).contains(&h.key.len()) && h.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !key_ok {
            return Err(FieldError::invalid(format!("{prefix}.headers[{i}].key")));
        }
        if h.value.chars().count() > 1024 {
            return Err(FieldError::invalid(format!("{prefix}.headers[{i}].value")));
        }
    }
    Ok(())
}

/// Parses `ResponseInfo` (`UpdateGatewayResponseTypeV2`).
pub fn response_info_from_json(body: &[u8]) -> Result<ResponseInfo, FieldError> {
    let doc = parse_json(body)?;
    for key in ["status", "body"] {
        if doc.get(key).is_none_or(serde_json::Value::is_null) {
            return Err(FieldError::Missing(key.into()));
        }
    }
    let info: ResponseInfo = from_value(&doc)?;
    check_info("body", &info).map_err(|e| match e {
        FieldError::Invalid(f) => FieldError::Invalid(f.trim_start_matches("body.").into()),
        other => other,
    })?;
    Ok(info)
}

/// Parses `ResponsesCreate` (`CreateGatewayResponseV2`, `UpdateGatewayResponseV2`):
/// `(name, responses)`.
pub fn responses_from_json(body: &[u8]) -> Result<(String, BTreeMap<String, ResponseInfo>), FieldError> {
    #[derive(Deserialize)]
    struct Body {
        name: String,
        #[serde(default)]
        responses: BTreeMap<String, ResponseInfo>,
    }
    let doc = parse_json(body)?;
    required_str(&doc, "name")?;
    let b: Body = from_value(&doc)?;
    if !is_policy_name(&b.name) {
        return Err(FieldError::invalid("name"));
    }
    for (kind, info) in &b.responses {
        if !is_response_type(kind) {
            return Err(FieldError::invalid(format!("responses.{kind}")));
        }
        check_info(&format!("responses.{kind}"), info)?;
    }
    Ok((b.name, b.responses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_validated() {
        let ok = json!({"name": "resp_1", "responses": {"THROTTLED": {"status": 429, "body": "slow down",
                         "headers": [{"key": "Retry-After", "value": "1"}]}}});
        let (name, responses) = responses_from_json(ok.to_string().as_bytes()).unwrap();
        assert_eq!((name.as_str(), responses["THROTTLED"].status), ("resp_1", 429));
        for (body, error) in [
            (json!({"name": "resp_1", "responses": {"SLOW": {"status": 429, "body": ""}}}), "responses.SLOW"),
            (
                json!({"name": "resp_1", "responses": {"THROTTLED": {"status": 99, "body": ""}}}),
                "responses.THROTTLED.status",
            ),
            (
                json!({"name": "resp_1", "responses": {"THROTTLED": {"status": 429, "body": "", "headers": [{"key": "a b", "value": ""}]}}}),
                "responses.THROTTLED.headers[0].key",
            ),
            (json!({"name": "1resp"}), "name"),
        ] {
            assert_eq!(responses_from_json(body.to_string().as_bytes()), Err(FieldError::invalid(error)), "{body}");
        }
        assert_eq!(response_info_from_json(br#"{"status": 700, "body": "x"}"#), Err(FieldError::invalid("status")));
        assert_eq!(response_info_from_json(br#"{"body": "x"}"#), Err(FieldError::Missing("status".into())));
    }

    #[test]
    fn uncustomised_types_answer_the_default() {
        let mut responses = BTreeMap::new();
        responses.insert("THROTTLED".to_string(), ResponseInfo { status: 503, body: "x".into(), headers: vec![] });
        let r = GatewayResponse {
            id: "r".into(),
            group_id: "g".into(),
            name: "resp_1".into(),
            responses,
            create_time: crate::now(),
            update_time: crate::now(),
        };
        let all = r.all_types();
        assert_eq!(all.len(), RESPONSE_TYPES.len());
        assert_eq!((all["THROTTLED"].0.status, all["THROTTLED"].1), (503, false));
        assert_eq!((all["NOT_FOUND"].0.status, all["NOT_FOUND"].1), (404, true));
    }
}
