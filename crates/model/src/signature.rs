//! Signature keys: credentials the gateway uses to sign the requests it sends to backends.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_json};
use crate::group::required_str;
use crate::ids::new_id;
use crate::rules::is_policy_name;

/// A signature key (`SignatureWithBindNum` without the count). `Debug` hides the secret.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// Key id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// `hmac`, `basic`, `public_key` or `aes`.
    pub sign_type: String,
    /// The key (user name for `basic`).
    pub sign_key: String,
    /// The secret (password for `basic`, IV for `aes`).
    pub sign_secret: String,
    /// `aes-128-cfb` or `aes-256-cfb` (only `aes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_algorithm: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("sign_type", &self.sign_type)
            .field("sign_key", &self.sign_key)
            .field("sign_secret", &"<redacted>")
            .field("sign_algorithm", &self.sign_algorithm)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct SignatureBody {
    name: String,
    #[serde(default)]
    sign_type: Option<String>,
    #[serde(default)]
    sign_key: Option<String>,
    #[serde(default)]
    sign_secret: Option<String>,
    #[serde(default)]
    sign_algorithm: Option<String>,
}

fn chars_ok(value: &str, symbols: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.chars().count())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || symbols.contains(c))
}

fn hex(len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        s.push_str(&new_id());
    }
    s.truncate(len);
    s
}

/// Parses and validates `CreateSignatureKeyV2` / `UpdateSignatureKeyV2`; an empty key or
/// secret is generated.
pub fn signature_from_json(
    body: &[u8],
    id: String,
    create_time: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Signature, FieldError> {
    let doc = parse_json(body)?;
    required_str(&doc, "name")?;
    let b: SignatureBody = from_value(&doc)?;
    if !is_policy_name(&b.name) {
        return Err(FieldError::invalid("name"));
    }
    let sign_type = b.sign_type.filter(|t| !t.is_empty()).unwrap_or_else(|| "hmac".into());
    let key = b.sign_key.filter(|k| !k.is_empty());
    let secret = b.sign_secret.filter(|s| !s.is_empty());
    let secret_ok =
        |s: &str, min, max| chars_ok(s, "_-!@#$%", min, max) && s.starts_with(|c: char| c.is_ascii_alphanumeric());
    let (sign_key, sign_secret, sign_algorithm) = match sign_type.as_str() {
        "hmac" => {
            let k = key.unwrap_or_else(|| hex(32));
            let s = secret.unwrap_or_else(|| hex(32));
            if !chars_ok(&k, "_-", 8, 32) || !k.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Err(FieldError::invalid("sign_key"));
            }
            if !secret_ok(&s, 16, 64) {
                return Err(FieldError::invalid("sign_secret"));
            }
            (k, s, None)
        }
        "basic" => {
            let k = key.unwrap_or_else(|| format!("u{}", hex(15)));
            let s = secret.unwrap_or_else(|| hex(32));
            if !chars_ok(&k, "_-", 4, 32) || !k.starts_with(|c: char| c.is_ascii_alphabetic()) {
                return Err(FieldError::invalid("sign_key"));
            }
            if !secret_ok(&s, 8, 64) {
                return Err(FieldError::invalid("sign_secret"));
            }
            (k, s, None)
        }
        "public_key" => {
            let k = key.ok_or_else(|| FieldError::Missing("sign_key".into()))?;
            let s = secret.unwrap_or_else(|| hex(32));
            if !chars_ok(&k, "_-+/=", 8, 512) {
                return Err(FieldError::invalid("sign_key"));
            }
            if !chars_ok(&s, "_-+/=!@#$%", 8, 2048) {
                return Err(FieldError::invalid("sign_secret"));
            }
            (k, s, None)
        }
        "aes" => {
            let algorithm = b
                .sign_algorithm
                .filter(|a| !a.is_empty())
                .ok_or_else(|| FieldError::Missing("sign_algorithm".into()))?;
            let key_len = match algorithm.as_str() {
                "aes-128-cfb" => 16,
                "aes-256-cfb" => 32,
                _ => return Err(FieldError::invalid("sign_algorithm")),
            };
            let k = key.unwrap_or_else(|| hex(key_len));
            let s = secret.unwrap_or_else(|| hex(16));
            if k.chars().count() != key_len || !chars_ok(&k, "_-!@#$%+/=", key_len, key_len) {
                return Err(FieldError::invalid("sign_key"));
            }
            if !chars_ok(&s, "_-!@#$%+/=", 16, 16) {
                return Err(FieldError::invalid("sign_secret"));
            }
            (k, s, Some(algorithm))
        }
        _ => return Err(FieldError::invalid("sign_type")),
    };
    Ok(Signature { id, name: b.name, sign_type, sign_key, sign_secret, sign_algorithm, create_time, update_time: now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: serde_json::Value) -> Result<Signature, FieldError> {
        signature_from_json(body.to_string().as_bytes(), "id".into(), crate::now(), crate::now())
    }

    #[test]
    fn keys_and_secrets_are_generated_per_type() {
        let hmac = parse(json!({"name": "sig_1"})).unwrap();
        assert_eq!((hmac.sign_type.as_str(), hmac.sign_key.len(), hmac.sign_secret.len()), ("hmac", 32, 32));
        let basic = parse(json!({"name": "sig_1", "sign_type": "basic"})).unwrap();
        assert!(basic.sign_key.starts_with('u'));
        let aes = parse(json!({"name": "sig_1", "sign_type": "aes", "sign_algorithm": "aes-256-cfb"})).unwrap();
        assert_eq!((aes.sign_key.len(), aes.sign_secret.len()), (32, 16));
        assert!(!format!("{aes:?}").contains(&aes.sign_secret), "Debug hides the secret");
    }

    #[test]
    fn rules() {
        for (body, error) in [
            (json!({"name": "sig_1", "sign_type": "rsa"}), FieldError::invalid("sign_type")),
            (json!({"name": "sig_1", "sign_key": "short"}), FieldError::invalid("sign_key")),
            (json!({"name": "sig_1", "sign_secret": "short"}), FieldError::invalid("sign_secret")),
            (json!({"name": "sig_1", "sign_type": "basic", "sign_key": "1user"}), FieldError::invalid("sign_key")),
            (json!({"name": "sig_1", "sign_type": "aes"}), FieldError::Missing("sign_algorithm".into())),
            (
                json!({"name": "sig_1", "sign_type": "aes", "sign_algorithm": "aes-128-cfb", "sign_key": "x"}),
                FieldError::invalid("sign_key"),
            ),
            (json!({"name": "sig_1", "sign_type": "public_key"}), FieldError::Missing("sign_key".into())),
            (json!({"sign_type": "hmac"}), FieldError::Missing("name".into())),
        ] {
            assert_eq!(parse(body.clone()), Err(error), "{body}");
        }
    }
}
