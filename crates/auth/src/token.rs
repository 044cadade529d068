//! Stateless bearer tokens, Portico's stand-in for IAM tokens.
//!
//! A token is `base64url(JSON claims) "." base64url(HMAC-SHA256(key, first part))`, both
//! without padding. The MAC covers the encoded claims, so nothing is decoded before the MAC
//! has been checked. Tokens cannot be revoked before they expire: keep lifetimes short.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

/// What a token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The user's id.
    pub user_id: String,
    /// The user's login name.
    pub user_name: String,
    /// The project the token is scoped to.
    pub project_id: String,
    /// Whether the bearer may only read.
    pub readonly: bool,
    /// When the token was issued, in unix seconds.
    pub issued_at: i64,
    /// The first unix second at which the token is no longer valid.
    pub expires_at: i64,
}

const KEY_LEN: usize = 32;

/// The secret that signs and checks tokens. Its `Debug` output hides the key.
#[derive(Clone)]
pub struct TokenKey([u8; KEY_LEN]);

/// A token key given as text was not 64 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("a token key is {} hex digits", KEY_LEN * 2)]
pub struct InvalidTokenKey;

impl TokenKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut key = [0; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// Reads a key written by [`TokenKey::to_hex`]: exactly 64 hex digits.
    pub fn from_hex(hex_key: &str) -> Result<Self, InvalidTokenKey> {
        let mut key = [0; KEY_LEN];
        hex::decode_to_slice(hex_key, &mut key).map_err(|_| InvalidTokenKey)?;
        Ok(Self(key))
    }

    /// The key as 64 lower-case hex digits, for storing it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(payload.as_bytes());
        mac
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is not something [`issue`] produces.
    #[error("malformed token")]
    Malformed,
    /// The token was not issued with this key, or was altered.
    #[error("token signature is invalid")]
    BadSignature,
    /// The token's `expires_at` has passed.
    #[error("token has expired")]
    Expired,
}

/// Issues a token carrying `claims`, signed with `key`.
pub fn issue(key: &TokenKey, claims: &TokenClaims) -> String {
    let json = serde_json::to_vec(claims).expect("TokenClaims has only strings, bools and ints");
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mac = URL_SAFE_NO_PAD.encode(key.mac(&payload).finalize().into_bytes());
    format!("{payload}.{mac}")
}

/// Checks `token`'s MAC (in constant time) and expiry, and returns its claims.
pub fn verify(key: &TokenKey, token: &str, now: OffsetDateTime) -> Result<TokenClaims, TokenError> {
    let (payload, mac) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| TokenError::Malformed)?;
    key.mac(payload).verify_slice(&mac).map_err(|_| TokenError::BadSignature)?;

    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
    let claims: TokenClaims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    if now.unix_timestamp() >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            user_id: "0f6a1c2e9b7d4e3f8a5b6c7d8e9f0a1b".into(),
            user_name: "admin".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
            readonly: false,
            issued_at: 1_800_000_000,
            expires_at: 1_800_086_400,
        }
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn replace_char(token: &str, index: usize) -> String {
        let mut bytes = token.as_bytes().to_vec();
        bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn round_trip() {
        let key = TokenKey::generate();
        let token = issue(&key, &claims());
        assert_eq!(verify(&key, &token, at(claims().issued_at)).unwrap(), claims());
    }

    #[test]
    fn token_is_url_safe_and_has_two_parts() {
        let token = issue(&TokenKey::generate(), &claims());
        assert_eq!(token.split('.').count(), 2);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    }

    #[test]
    fn expires_at_the_expiry_second() {
        let key = TokenKey::generate();
        let token = issue(&key, &claims());
        verify(&key, &token, at(claims().expires_at - 1)).unwrap();
        for now in [claims().expires_at, claims().expires_at + 3600] {
            assert!(matches!(verify(&key, &token, at(now)), Err(TokenError::Expired)));
        }
    }

    #[test]
    fn tampering_is_a_bad_signature() {
        let key = TokenKey::generate();
        let token = issue(&key, &claims());
        let dot = token.find('.').unwrap();
        for index in [0, dot / 2, dot + 10] {
            assert!(matches!(
                verify(&key, &replace_char(&token, index), at(claims().issued_at)),
                Err(TokenError::BadSignature)
            ));
        }

        let mut elevated = claims();
        elevated.readonly = true;
        let forged_payload = issue(&key, &elevated).split_once('.').unwrap().0.to_owned();
        let forged = format!("{forged_payload}{}", &token[dot..]);
        assert!(matches!(verify(&key, &forged, at(claims().issued_at)), Err(TokenError::BadSignature)));
    }

    #[test]
    fn another_key_is_a_bad_signature() {
        let token = issue(&TokenKey::generate(), &claims());
        assert!(matches!(verify(&TokenKey::generate(), &token, at(claims().issued_at)), Err(TokenError::BadSignature)));
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        let key = TokenKey::generate();
        let now = at(claims().issued_at);
        let valid = issue(&key, &claims());
        let long = "A".repeat(100_000);
        for token in [
            "",
            ".",
            "..",
            "abc",
            "abc.",
            ".abc",
            "a.b.c",
            "!!!.###",
            "MIIabc.def",
            "é.ü",
            "\0.\0",
            long.as_str(),
            &format!("{valid}.x"),
            &format!("{valid}="),
            &valid[..valid.len() - 1],
        ] {
            assert!(
                matches!(verify(&key, token, now), Err(TokenError::Malformed | TokenError::BadSignature)),
                "{token:?}"
            );
        }
    }

    #[test]
    fn authentic_but_undecodable_payloads_are_malformed() {
        let key = TokenKey::generate();
        let now = at(claims().issued_at);
        for payload in ["!!", &URL_SAFE_NO_PAD.encode("not json"), &URL_SAFE_NO_PAD.encode("{}")] {
            let mac = URL_SAFE_NO_PAD.encode(key.mac(payload).finalize().into_bytes());
            assert!(matches!(verify(&key, &format!("{payload}.{mac}"), now), Err(TokenError::Malformed)));
        }
    }

    #[test]
    fn key_hex_round_trip() {
        let key = TokenKey::generate();
        let hex_key = key.to_hex();
        assert_eq!(hex_key.len(), 64);
        let token = issue(&key, &claims());
        let reloaded = TokenKey::from_hex(&hex_key).unwrap();
        assert_eq!(reloaded.to_hex(), hex_key);
        verify(&reloaded, &token, at(claims().issued_at)).unwrap();
        assert_ne!(TokenKey::generate().to_hex(), hex_key);
    }

    #[test]
    fn key_from_hex_refuses_bad_text() {
        for text in ["", "00", &"0".repeat(63), &"0".repeat(66), &"g".repeat(64)] {
            assert!(TokenKey::from_hex(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn key_debug_hides_the_key() {
        let key = TokenKey::from_hex(&"ab".repeat(32)).unwrap();
        let debug = format!("{key:?}");
        assert!(!debug.contains("abab"), "{debug}");
        assert!(!debug.contains("171"), "{debug}");
    }
}
