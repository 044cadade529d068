//! Apps (the credentials of API consumers), their AppCodes, and their authorizations to call
//! published APIs.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_json};
use crate::group::{optional_str, required_str};
use crate::rules::is_cjk;

/// An app (`AppInfo`) without its secret, which is kept apart (see [`AppSecret`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    /// App id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Who created it: always `USER`.
    pub creator: String,
    /// The key clients sign with, unique among all apps.
    pub app_key: String,
    /// 1 = valid.
    pub status: i32,
    /// Always `apig`.
    pub app_type: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub register_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
    /// Account the app is related to (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_domain_id: Option<String>,
    /// Project the app is related to (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_project_id: Option<String>,
}

/// An app secret (or AppCode) in clear. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret(pub String);

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// An app with its secret in clear, as the management API shows it and the data plane checks
/// signatures with it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppWithSecret {
    /// The app.
    pub app: App,
    /// Its secret.
    pub app_secret: AppSecret,
}

fn is_app_name(name: &str) -> bool {
    (3..=64).contains(&name.chars().count())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || c == '_')
}

fn is_key_like(value: &str, symbols: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.chars().count())
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || symbols.contains(c))
}

/// `app_secret`: 8–128 letters, digits and `_-!@#$%`, starting with a letter or digit.
fn check_secret(secret: Option<String>) -> Result<Option<String>, FieldError> {
    match secret {
        Some(s) if !is_key_like(&s, "_-!@#$%", 8, 128) => Err(FieldError::invalid("app_secret")),
        other => Ok(other),
    }
}

/// Body of `CreateAnAppV2` / `UpdateAppV2` (`AppCreate`).
#[derive(Debug, Clone, PartialEq)]
pub struct AppInput {
    /// 3–64 CJK, letters, digits and `_`, starting with a letter or CJK.
    pub name: String,
    /// Up to 255 characters.
    pub remark: Option<String>,
    /// 8–200 letters, digits, `_` and `-`, starting with a letter or digit; generated if absent.
    pub app_key: Option<String>,
    /// See `check_secret`; generated if absent.
    pub app_secret: Option<String>,
    /// Free text.
    pub related_domain_id: Option<String>,
    /// Free text.
    pub related_project_id: Option<String>,
}

impl AppInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<AppInput, FieldError> {
        let doc = parse_json(body)?;
        let name = required_str(&doc, "name")?;
        if !is_app_name(&name) {
            return Err(FieldError::invalid("name"));
        }
        let app_key = optional_str(&doc, "app_key", 200)?.filter(|k| !k.is_empty());
        if app_key.as_deref().is_some_and(|k| !is_key_like(k, "_-", 8, 200)) {
            return Err(FieldError::invalid("app_key"));
        }
        Ok(AppInput {
            name,
            remark: optional_str(&doc, "remark", 255)?,
            app_key,
            app_secret: check_secret(optional_str(&doc, "app_secret", 128)?.filter(|s| !s.is_empty()))?,
            related_domain_id: optional_str(&doc, "related_domain_id", 64)?,
            related_project_id: optional_str(&doc, "related_project_id", 64)?,
        })
    }

    /// Parses `ResettingAppSecretV2` (`AppResetCreate`): the new secret, if one is given.
    pub fn secret_from_json(body: &[u8]) -> Result<Option<String>, FieldError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let doc = parse_json(body)?;
        check_secret(optional_str(&doc, "app_secret", 128)?.filter(|s| !s.is_empty()))
    }
}

/// An AppCode (`AppCodeBaseInfo`): a simple credential sent in the `X-Apig-AppCode` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppCode {
    /// AppCode id.
    pub id: String,
    /// The app it belongs to.
    pub app_id: String,
    /// The code itself.
    pub app_code: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

/// Validates the body of `CreateAppCodeV2`: 64–180 letters, digits and `+_!@#$%-/=`, starting
/// with a letter, a digit, `+` or `/`.
pub fn app_code_from_json(body: &[u8]) -> Result<String, FieldError> {
    let doc = parse_json(body)?;
    let code = required_str(&doc, "app_code")?;
    let ok = (64..=180).contains(&code.chars().count())
        && code.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
        && code.chars().all(|c| c.is_ascii_alphanumeric() || "+_!@#$%-/=".contains(c));
    if ok { Ok(code) } else { Err(FieldError::invalid("app_code")) }
}

/// An authorization of an app to call an API in an environment (`ApiAuthRelations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppAuth {
    /// Authorization id.
    pub id: String,
    /// The API.
    pub api_id: String,
    /// The app.
    pub app_id: String,
    /// The environment.
    pub env_id: String,
    /// When it was granted.
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
}

/// Body of `CreateAuthorizingAppsV2` (`ApiAuthCreate`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AppAuthInput {
    /// Environment the APIs are published in.
    pub env_id: String,
    /// Apps to authorize (1–…).
    pub app_ids: Vec<String>,
    /// APIs to authorize them for.
    #[serde(default)]
    pub api_ids: Vec<String>,
}

impl AppAuthInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<AppAuthInput, FieldError> {
        let doc = parse_json(body)?;
        required_str(&doc, "env_id")?;
        let input: AppAuthInput = from_value(&doc)?;
        if input.app_ids.is_empty() {
            return Err(FieldError::Missing("app_ids".into()));
        }
        if input.api_ids.is_empty() {
            return Err(FieldError::Missing("api_ids".into()));
        }
        if input.app_ids.len() > 100 || input.api_ids.len() > 1000 {
            return Err(FieldError::invalid(if input.app_ids.len() > 100 { "app_ids" } else { "api_ids" }));
        }
        Ok(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_keys_and_secrets_follow_apig_rules() {
        assert!(AppInput::from_json(br#"{"name":"app_1"}"#).is_ok());
        assert!(AppInput::from_json(r#"{"name":"应用_1"}"#.as_bytes()).is_ok());
        assert_eq!(AppInput::from_json(br#"{"name":"1app"}"#), Err(FieldError::invalid("name")));
        assert_eq!(AppInput::from_json(br#"{}"#), Err(FieldError::Missing("name".into())));
        assert_eq!(AppInput::from_json(br#"{"name":"app_1","app_key":"short"}"#), Err(FieldError::invalid("app_key")));
        assert_eq!(
            AppInput::from_json(br#"{"name":"app_1","app_secret":"-starts-with-dash"}"#),
            Err(FieldError::invalid("app_secret"))
        );
        let ok = AppInput::from_json(br#"{"name":"app_1","app_key":"key_1234","app_secret":"s3cret!@#$%"}"#).unwrap();
        assert_eq!(ok.app_key.as_deref(), Some("key_1234"));
        assert_eq!(AppInput::secret_from_json(b"").unwrap(), None);
        assert_eq!(AppInput::secret_from_json(br#"{"app_secret":"abc"}"#), Err(FieldError::invalid("app_secret")));
    }

    #[test]
    fn app_codes_are_64_to_180_characters() {
        let good = format!("{{\"app_code\":\"+{}\"}}", "a".repeat(63));
        assert!(app_code_from_json(good.as_bytes()).is_ok());
        let short = format!("{{\"app_code\":\"{}\"}}", "a".repeat(63));
        assert_eq!(app_code_from_json(short.as_bytes()), Err(FieldError::invalid("app_code")));
        let bad = format!("{{\"app_code\":\"_{}\"}}", "a".repeat(70));
        assert_eq!(app_code_from_json(bad.as_bytes()), Err(FieldError::invalid("app_code")));
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let s = AppSecret("top-secret-value".into());
        assert!(!format!("{s:?}").contains("top-secret"));
    }
}
