//! Custom authorizers: frontend ones (`auth_type` AUTHORIZER) decide whether a caller may call
//! the API; backend ones (the `authorizer_id` of the chosen backend) are asked before each
//! backend request for what the backend needs to know. Portico has no function service: the
//! authorizer's function URN (its alias URN, `<urn>:<version>`, or the URN) is mapped to an HTTP
//! endpoint by `[gateway.functions]`, as FUNCTION backends are. The gateway `POST`s it a JSON
//! event and reads the verdict:
//!
//! ```json
//! {"type": "FRONTEND", "httpMethod": "GET", "path": "/orders", "headers": {"authorization": "…"},
//!  "queryStringParameters": {"k": "v"}, "user_data": "…", "body": "…"}
//! ```
//!
//! answered with `{"status": "allow", "context": {"user": "alice"}}` (or `"deny"`), either as
//! the response body itself or, as function runtimes answer, JSON in the `body` string of
//! `{"statusCode": 200, "body": "…"}`. `type` is the authorizer's (`BACKEND` for a backend
//! one). The context reaches the backend as `$context.authorizer.frontend.<key>` (or
//! `$context.authorizer.backend.<key>`) system parameters; a backend authorizer's `deny` refuses
//! the call like a frontend one's. Identity sources (headers or query
//! parameters, optionally checked against a pattern) must be present; with a `ttl`, verdicts are
//! cached for that many seconds by authorizer and identity values.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use portico_model::Authorizer;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::error::GatewayError;

/// An authorizer, with its identity patterns compiled.
#[derive(Debug)]
pub struct CompiledAuthorizer {
    /// The stored authorizer.
    pub authorizer: Authorizer,
    patterns: Vec<Option<Regex>>,
}

impl CompiledAuthorizer {
    /// Compiles `authorizer`; an invalid pattern (validation keeps them out) matches nothing.
    pub fn new(authorizer: Authorizer) -> CompiledAuthorizer {
        let patterns = authorizer
            .identities
            .iter()
            .map(|i| {
                i.validation.as_deref().filter(|v| !v.is_empty()).map(|v| {
                    Regex::new(&format!("^(?:{v})$")).unwrap_or_else(|_| Regex::new("[^\\s\\S]").expect("a regex"))
                })
            })
            .collect();
        CompiledAuthorizer { authorizer, patterns }
    }

    /// The configuration keys that may name the function's endpoint, most specific first.
    pub fn function_keys(&self) -> Vec<String> {
        let a = &self.authorizer;
        let mut keys: Vec<String> = a.authorizer_alias_uri.iter().filter(|u| !u.is_empty()).cloned().collect();
        if let Some(v) = a.authorizer_version.as_deref().filter(|v| !v.is_empty()) {
            keys.push(format!("{}:{v}", a.authorizer_uri));
        }
        keys.push(a.authorizer_uri.clone());
        keys
    }

    /// The identity values of a request, in the authorizer's order; a missing or invalid one
    /// refuses the request.
    pub fn identities(&self, headers: &HeaderMap, query: &[(String, String)]) -> Result<Vec<String>, GatewayError> {
        let mut values = Vec::new();
        for (identity, pattern) in self.authorizer.identities.iter().zip(&self.patterns) {
            let value = match identity.location.as_str() {
                "QUERY" => query.iter().find(|(k, _)| *k == identity.name).map(|(_, v)| v.clone()),
                _ => headers.get(identity.name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_string),
            };
            let value = value.filter(|v| !v.is_empty()).ok_or_else(|| {
                GatewayError::AuthorizerIdentity(format!("{} ({}) is missing", identity.name, identity.location))
            })?;
            if pattern.as_ref().is_some_and(|p| !p.is_match(&value)) {
                return Err(GatewayError::AuthorizerIdentity(format!(
                    "{} ({}) is not valid",
                    identity.name, identity.location
                )));
            }
            values.push(value);
        }
        Ok(values)
    }
}

/// What the function said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Let in, with this context for the backend.
    Allow(Vec<(String, String)>),
    /// Keep out.
    Deny,
}

/// The event sent to the function.
pub fn event(
    authorizer: &Authorizer,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &[u8],
) -> Value {
    let headers: Map<String, Value> =
        headers.iter().filter_map(|(k, v)| Some((k.as_str().to_string(), json!(v.to_str().ok()?)))).collect();
    let query: Map<String, Value> = query.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut event = json!({
        "type": authorizer.kind, "httpMethod": method, "path": path, "headers": headers,
        "queryStringParameters": query, "user_data": authorizer.user_data.clone().unwrap_or_default(),
    });
    if authorizer.need_body {
        event["body"] = json!(String::from_utf8_lossy(body));
    }
    event
}

/// Reads the function's answer.
pub fn verdict(body: &[u8]) -> Result<Verdict, GatewayError> {
    let bad = || GatewayError::AuthorizerFailed("the authorizer's answer is not a verdict".into());
    let mut value: Value = serde_json::from_slice(body).map_err(|_| bad())?;
    if let Some(inner) = value.get("body").and_then(Value::as_str) {
        value = serde_json::from_str(inner).map_err(|_| bad())?;
    }
    match value.get("status").and_then(Value::as_str) {
        Some("allow") => {
            let context = value
                .get("context")
                .and_then(Value::as_object)
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Verdict::Allow(context))
        }
        Some("deny") => Ok(Verdict::Deny),
        _ => Err(bad()),
    }
}

/// Verdicts kept for their authorizer's `ttl`.
#[derive(Debug, Default)]
pub struct VerdictCache {
    entries: Mutex<HashMap<String, (Instant, Verdict)>>,
}

const CACHE_SWEEP: usize = 10_000;

impl VerdictCache {
    /// The cached verdict for `key`, if still fresh.
    pub fn get(&self, key: &str, now: Instant) -> Option<Verdict> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).filter(|(until, _)| *until > now).map(|(_, v)| v.clone())
    }

    /// Keeps `verdict` for `ttl` seconds (0: not at all).
    pub fn put(&self, key: String, verdict: Verdict, ttl: i64, now: Instant) {
        let Ok(ttl) = u64::try_from(ttl) else { return };
        if ttl == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHE_SWEEP {
            entries.retain(|_, (until, _)| *until > now);
        }
        entries.insert(key, (now + Duration::from_secs(ttl), verdict));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_model::Identity;
    use time::OffsetDateTime;

    fn authorizer(identities: Vec<Identity>) -> CompiledAuthorizer {
        CompiledAuthorizer::new(Authorizer {
            id: "a".into(),
            name: "a".into(),
            kind: "FRONTEND".into(),
            authorizer_type: "FUNC".into(),
            authorizer_uri: "urn:f".into(),
            network_type: "V1".into(),
            authorizer_version: Some("v1".into()),
            authorizer_alias_uri: None,
            identities,
            ttl: 0,
            user_data: Some("ud".into()),
            need_body: true,
            create_time: OffsetDateTime::UNIX_EPOCH,
        })
    }

    #[test]
    fn identities_must_be_present_and_valid() {
        let a = authorizer(vec![
            Identity { name: "x-token".into(), location: "HEADER".into(), validation: Some("[a-z]+".into()) },
            Identity { name: "tenant".into(), location: "QUERY".into(), validation: None },
        ]);
        assert_eq!(a.function_keys(), ["urn:f:v1", "urn:f"]);
        let mut headers = HeaderMap::new();
        let query = vec![("tenant".to_string(), "t1".to_string())];
        assert!(matches!(a.identities(&headers, &query), Err(GatewayError::AuthorizerIdentity(_))));
        headers.insert("x-token", "ABC".parse().unwrap());
        assert!(matches!(a.identities(&headers, &query), Err(GatewayError::AuthorizerIdentity(_))));
        headers.insert("x-token", "abc".parse().unwrap());
        assert_eq!(a.identities(&headers, &query).unwrap(), ["abc", "t1"]);
        let e = event(&a.authorizer, "GET", "/p", &headers, &query, b"hi");
        assert_eq!((e["headers"]["x-token"].as_str(), e["body"].as_str()), (Some("abc"), Some("hi")));
    }

    #[test]
    fn verdicts_plain_or_wrapped() {
        let allow = br#"{"status":"allow","context":{"user":"alice","level":3}}"#;
        let expected = Verdict::Allow(vec![("level".into(), "3".into()), ("user".into(), "alice".into())]);
        let mut got = verdict(allow).unwrap();
        if let Verdict::Allow(c) = &mut got {
            c.sort();
        }
        assert_eq!(got, expected);
        let wrapped = br#"{"statusCode":200,"body":"{\"status\":\"deny\"}"}"#;
        assert_eq!(verdict(wrapped).unwrap(), Verdict::Deny);
        assert!(verdict(b"yes").is_err());
        assert!(verdict(br#"{"status":"maybe"}"#).is_err());
    }

    #[test]
    fn cache_honours_ttl() {
        let cache = VerdictCache::default();
        let now = Instant::now();
        cache.put("k".into(), Verdict::Deny, 0, now);
        assert_eq!(cache.get("k", now), None);
        cache.put("k".into(), Verdict::Deny, 2, now);
        assert_eq!(cache.get("k", now + Duration::from_secs(1)), Some(Verdict::Deny));
        assert_eq!(cache.get("k", now + Duration::from_secs(2)), None);
    }
}
