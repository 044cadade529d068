//! Custom authorizers (FunctionGraph functions that authorize frontend requests or backend
//! calls), and the objects an API references by id.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::api::ApiDefinition;
use crate::error::{from_value, parse_json};
use crate::group::required_str;
use crate::rules::is_policy_name;

/// Where an identity source is read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Parameter name.
    pub name: String,
    /// `HEADER` or `QUERY`.
    pub location: String,
    /// Regular expression the value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
}

/// A custom authorizer (`AuthorizerResp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorizer {
    /// Authorizer id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// `FRONTEND` or `BACKEND`; cannot change.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `FUNC`.
    pub authorizer_type: String,
    /// Function URN.
    pub authorizer_uri: String,
    /// `V1` (non-VPC) or `V2` (VPC).
    pub network_type: String,
    /// Function version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_version: Option<String>,
    /// Function alias URN (wins over the version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_alias_uri: Option<String>,
    /// Identity sources.
    #[serde(default)]
    pub identities: Vec<Identity>,
    /// Seconds the result is cached (0 = not cached).
    pub ttl: i64,
    /// Passed to the function as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    /// Whether the request body is sent to the function.
    pub need_body: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

#[derive(Deserialize)]
struct AuthorizerBody {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    authorizer_type: String,
    authorizer_uri: String,
    #[serde(default)]
    network_type: Option<String>,
    #[serde(default)]
    authorizer_version: Option<String>,
    #[serde(default)]
    authorizer_alias_uri: Option<String>,
    #[serde(default)]
    identities: Vec<Identity>,
    #[serde(default)]
    ttl: Option<i64>,
    #[serde(default)]
    user_data: Option<String>,
    #[serde(default)]
    need_body: Option<bool>,
}

/// Longest cache time of an authorizer result, in seconds.
pub const MAX_TTL: i64 = 3600;

fn check(b: &AuthorizerBody) -> Result<(), FieldError> {
    let invalid = |f: &str| Err(FieldError::invalid(f));
    if !is_policy_name(&b.name) {
        return invalid("name");
    }
    if !matches!(b.kind.as_str(), "FRONTEND" | "BACKEND") {
        return invalid("type");
    }
    if b.authorizer_type != "FUNC" {
        return invalid("authorizer_type");
    }
    if b.authorizer_uri.chars().count() > 255 {
        return invalid("authorizer_uri");
    }
    if !matches!(b.network_type.as_deref(), None | Some("V1") | Some("V2")) {
        return invalid("network_type");
    }
    if b.authorizer_version.as_ref().is_some_and(|v| v.chars().count() > 64) {
        return invalid("authorizer_version");
    }
    if !(0..=MAX_TTL).contains(&b.ttl.unwrap_or(0)) {
        return invalid("ttl");
    }
    if b.user_data.as_ref().is_some_and(|v| v.chars().count() > 2048) {
        return invalid("user_data");
    }
    for (i, identity) in b.identities.iter().enumerate() {
        let name_ok = (1..=32).contains(&identity.name.chars().count())
            && identity.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && identity.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            return invalid(&format!("identities[{i}].name"));
        }
        if !matches!(identity.location.as_str(), "HEADER" | "QUERY") {
            return invalid(&format!("identities[{i}].location"));
        }
        if identity.validation.as_ref().is_some_and(|v| v.len() > 2048 || regex::Regex::new(v).is_err()) {
            return invalid(&format!("identities[{i}].validation"));
        }
    }
    Ok(())
}

/// Parses and validates `CreateCustomAuthorizerV2` / `UpdateCustomAuthorizerV2` into the
/// authorizer they describe.
pub fn authorizer_from_json(body: &[u8], id: String, create_time: OffsetDateTime) -> Result<Authorizer, FieldError> {
    let doc = parse_json(body)?;
    for key in ["name", "type", "authorizer_type", "authorizer_uri"] {
        required_str(&doc, key)?;
    }
    let b: AuthorizerBody = from_value(&doc)?;
    check(&b)?;
    Ok(Authorizer {
        id,
        name: b.name,
        kind: b.kind,
        authorizer_type: b.authorizer_type,
        authorizer_uri: b.authorizer_uri,
        network_type: b.network_type.unwrap_or_else(|| "V1".into()),
        authorizer_version: b.authorizer_version,
        authorizer_alias_uri: b.authorizer_alias_uri,
        identities: b.identities,
        ttl: b.ttl.unwrap_or(0),
        user_data: b.user_data,
        need_body: b.need_body.unwrap_or(false),
        create_time,
    })
}

/// What an API refers to by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A `FRONTEND` custom authorizer (`authorizer_id` of the API).
    FrontendAuthorizer,
    /// A `BACKEND` custom authorizer (`authorizer_id` of a backend or a policy).
    BackendAuthorizer,
    /// A VPC channel (`vpc_channel_info.vpc_channel_id` of a backend or an HTTP policy).
    VpcChannel,
    /// A gateway response of the API's group (`response_id`).
    GatewayResponse,
}

/// One reference of an API to another object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiReference {
    /// What kind of object.
    pub kind: RefKind,
    /// The field that holds it, e.g. `backend_api.authorizer_id`.
    pub field: String,
    /// The referenced id.
    pub id: String,
}

fn vpc(status: i32, info: Option<&crate::VpcChannelInfo>) -> Option<&String> {
    info.filter(|_| status == 1 || status == 4).map(|i| &i.vpc_channel_id)
}

/// Every reference of an API definition to other objects, with the field holding it.
pub fn api_references(d: &ApiDefinition) -> Vec<ApiReference> {
    let mut refs = Vec::new();
    let mut push = |kind, field: String, id: Option<&String>| {
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            refs.push(ApiReference { kind, field, id: id.clone() });
        }
    };
    push(RefKind::FrontendAuthorizer, "authorizer_id".into(), d.authorizer_id.as_ref());
    push(RefKind::GatewayResponse, "response_id".into(), d.response_id.as_ref());
    let backend = RefKind::BackendAuthorizer;
    push(backend, "backend_api.authorizer_id".into(), d.backend_api.as_ref().and_then(|b| b.authorizer_id.as_ref()));
    push(backend, "func_info.authorizer_id".into(), d.func_info.as_ref().and_then(|f| f.authorizer_id.as_ref()));
    push(backend, "mock_info.authorizer_id".into(), d.mock_info.as_ref().and_then(|m| m.authorizer_id.as_ref()));
    for (i, p) in d.policy_https.iter().enumerate() {
        push(backend, format!("policy_https[{i}].authorizer_id"), p.common.authorizer_id.as_ref());
    }
    if let Some(b) = &d.backend_api {
        push(
            RefKind::VpcChannel,
            "backend_api.vpc_channel_info.vpc_channel_id".into(),
            vpc(b.vpc_channel_status, b.vpc_channel_info.as_ref()),
        );
    }
    for (i, p) in d.policy_https.iter().enumerate() {
        push(
            RefKind::VpcChannel,
            format!("policy_https[{i}].vpc_channel_info.vpc_channel_id"),
            vpc(p.vpc_channel_status, p.vpc_channel_info.as_ref()),
        );
    }
    for (i, p) in d.policy_functions.iter().enumerate() {
        push(backend, format!("policy_functions[{i}].authorizer_id"), p.common.authorizer_id.as_ref());
    }
    for (i, p) in d.policy_mocks.iter().enumerate() {
        push(backend, format!("policy_mocks[{i}].authorizer_id"), p.common.authorizer_id.as_ref());
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<Authorizer, FieldError> {
        authorizer_from_json(json.to_string().as_bytes(), "id".into(), crate::now())
    }

    #[test]
    fn authorizers_are_validated() {
        let base = serde_json::json!({"name": "auth_1", "type": "FRONTEND", "authorizer_type": "FUNC",
            "authorizer_uri": "urn:fss:region:project:function:default:auth:latest",
            "identities": [{"name": "Authorization", "location": "HEADER", "validation": "^Bearer .+$"}], "ttl": 60});
        let ok = parse(base.clone()).unwrap();
        assert_eq!((ok.network_type.as_str(), ok.ttl, ok.need_body), ("V1", 60, false));
        for (field, value, error) in [
            ("type", serde_json::json!("SIDE"), "type"),
            ("authorizer_type", serde_json::json!("HTTP"), "authorizer_type"),
            ("ttl", serde_json::json!(3601), "ttl"),
            ("network_type", serde_json::json!("V3"), "network_type"),
            ("identities", serde_json::json!([{"name": "x", "location": "BODY"}]), "identities[0].location"),
            (
                "identities",
                serde_json::json!([{"name": "x", "location": "QUERY", "validation": "("}]),
                "identities[0].validation",
            ),
        ] {
            let mut body = base.clone();
            body[field] = value;
            assert_eq!(parse(body), Err(FieldError::invalid(error)), "{field}");
        }
        let mut body = base;
        body.as_object_mut().unwrap().remove("authorizer_uri");
        assert_eq!(parse(body), Err(FieldError::Missing("authorizer_uri".into())));
    }
}
