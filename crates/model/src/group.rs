//! Instances, API groups, environments and environment variables.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_json};
use crate::rules::{is_display_name, is_identifier};

/// Id of the environment every instance has and nobody can delete.
pub const RELEASE_ENV_ID: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";
/// Name of that environment.
pub const RELEASE_ENV_NAME: &str = "RELEASE";

pub(crate) fn required_str(doc: &serde_json::Value, key: &str) -> Result<String, FieldError> {
    match doc.get(key) {
        None | Some(serde_json::Value::Null) => Err(FieldError::Missing(key.into())),
        Some(serde_json::Value::String(s)) if s.is_empty() => Err(FieldError::Missing(key.into())),
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(FieldError::Invalid(key.into())),
    }
}

pub(crate) fn optional_str(doc: &serde_json::Value, key: &str, max: usize) -> Result<Option<String>, FieldError> {
    match doc.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(_) => Err(FieldError::Invalid(key.into())),
    }
}

/// A gateway instance. Portico is one gateway, so instances are namespaces: each has its own
/// groups, environments and APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Display name.
    pub instance_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

/// Body of `CreateInstanceV2`; only what a self-hosted gateway can honour is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceInput {
    /// Display name, 3–64 characters.
    pub instance_name: String,
    /// Description, up to 255 characters.
    pub description: Option<String>,
}

impl InstanceInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<InstanceInput, FieldError> {
        let doc = parse_json(body)?;
        let instance_name = required_str(&doc, "instance_name")?;
        if !is_identifier(&instance_name, "-_", 3, 64) {
            return Err(FieldError::invalid("instance_name"));
        }
        Ok(InstanceInput { instance_name, description: optional_str(&doc, "description", 255)? })
    }
}

/// An API group (`ApiGroupInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiGroup {
    /// Group id.
    pub id: String,
    /// Group name, unique in the instance.
    pub name: String,
    /// Always 1 (valid).
    pub status: i32,
    /// The subdomain the data plane answers for this group.
    pub sl_domain: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub register_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
    /// Marketplace status: always 2 (not on sale).
    pub on_sell_status: i32,
    /// Whether the subdomain is reachable.
    pub sl_domain_access_enabled: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Extension fields (`x-…`) of the OpenAPI object this came from that Portico does not
    /// interpret: kept on import, written again on export. Keys must start with `x-`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub openapi_extensions: serde_json::Map<String, serde_json::Value>,
}

impl ApiGroup {
    /// A new group with a fresh id and its subdomain `<id>.<domain_suffix>`.
    pub fn new(name: String, remark: Option<String>, domain_suffix: &str, now: OffsetDateTime) -> ApiGroup {
        let id = crate::new_id();
        ApiGroup {
            sl_domain: format!("{id}.{domain_suffix}"),
            id,
            name,
            status: 1,
            register_time: now,
            update_time: now,
            on_sell_status: 2,
            sl_domain_access_enabled: true,
            remark,
            openapi_extensions: serde_json::Map::new(),
        }
    }
}

/// Body of `CreateApiGroupV2` / `UpdateApiGroupV2`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInput {
    /// Group name.
    pub name: String,
    /// Description.
    pub remark: Option<String>,
}

impl GroupInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<GroupInput, FieldError> {
        let doc = parse_json(body)?;
        let name = required_str(&doc, "name")?;
        if !is_display_name(&name) {
            return Err(FieldError::invalid("name"));
        }
        Ok(GroupInput { name, remark: optional_str(&doc, "remark", 255)? })
    }
}

/// An environment (`EnvInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Environment id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

/// Body of `CreateEnvironmentV2` / `UpdateEnvironmentV2`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvInput {
    /// Name: 3–64 letters, digits and `_`, starting with a letter.
    pub name: String,
    /// Description.
    pub remark: Option<String>,
}

impl EnvInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<EnvInput, FieldError> {
        let doc = parse_json(body)?;
        let name = required_str(&doc, "name")?;
        if !is_identifier(&name, "_", 3, 64) {
            return Err(FieldError::invalid("name"));
        }
        Ok(EnvInput { name, remark: optional_str(&doc, "remark", 255)? })
    }
}

/// An environment variable (`EnvVariableInfo`): a `#name#` substituted per group and environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvVariable {
    /// Variable id.
    pub id: String,
    /// Environment it applies in.
    pub env_id: String,
    /// Group it applies to.
    pub group_id: String,
    /// Name, referenced as `#name#`.
    pub variable_name: String,
    /// Value.
    pub variable_value: String,
}

/// Body of `CreateEnvironmentVariableV2`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVariableInput {
    /// Environment.
    pub env_id: String,
    /// Group.
    pub group_id: String,
    /// Name: 3–32 letters, digits, `_` and `-`, starting with a letter.
    pub variable_name: String,
    /// Value: 1–255 letters, digits and `_-/.:`.
    pub variable_value: String,
}

impl EnvVariableInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<EnvVariableInput, FieldError> {
        let doc = parse_json(body)?;
        let input = EnvVariableInput {
            variable_name: required_str(&doc, "variable_name")?,
            variable_value: required_str(&doc, "variable_value")?,
            env_id: required_str(&doc, "env_id")?,
            group_id: required_str(&doc, "group_id")?,
        };
        if !is_identifier(&input.variable_name, "-_", 3, 32) {
            return Err(FieldError::invalid("variable_name"));
        }
        check_variable_value(&input.variable_value)?;
        Ok(input)
    }

    /// Parses `UpdateEnvironmentVariableV2`, whose body holds only the value.
    pub fn value_from_json(body: &[u8]) -> Result<String, FieldError> {
        let doc = parse_json(body)?;
        let value = required_str(&doc, "variable_value")?;
        check_variable_value(&value)?;
        Ok(value)
    }
}

fn check_variable_value(value: &str) -> Result<(), FieldError> {
    let ok = (1..=255).contains(&value.chars().count())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.:".contains(c));
    if ok { Ok(()) } else { Err(FieldError::invalid("variable_value")) }
}

/// Body of `CheckApiGroupsV2`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GroupCheck {
    /// The name to check.
    pub group_name: String,
}

impl GroupCheck {
    /// Parses the body.
    pub fn from_json(body: &[u8]) -> Result<GroupCheck, FieldError> {
        let doc = parse_json(body)?;
        required_str(&doc, "group_name")?;
        from_value(&doc)
    }
}
