//! Backend selection and backend request building, without I/O.
//!
//! [`select`] walks the API's backend policies in order (`policy_https`, then
//! `policy_functions`, then `policy_mocks`) and takes the first whose conditions hold (`ALL`:
//! every condition, `ANY`: at least one); otherwise the API's own backend. [`build_request`]
//! turns the chosen HTTP target, the backend parameters and the request into the method,
//! address, path, query and headers sent upstream.

use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use portico_model::{
    BackendParam, BackendProtocol, BackendType, MemberGroupUrlInfo, Method, ParamLocation, ParamOrigin, VpcChannelInfo,
};

use crate::entry::RouteApi;
use crate::error::GatewayError;
use crate::params::ParamValues;
use crate::policies::{Facts, PolicyRef};

/// An HTTP backend, from `backend_api` or an HTTP policy.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTarget {
    /// HTTP or HTTPS.
    pub protocol: BackendProtocol,
    /// `host[:port]`, may hold `#variables#`.
    pub url_domain: Option<String>,
    /// Method; `ANY` forwards the client's.
    pub method: Method,
    /// Path template: `{params}` and `#variables#`.
    pub req_uri: String,
    /// Timeout in ms.
    pub timeout_ms: u64,
    /// `retry_count` as published.
    pub retry_count: i32,
    /// 2 direct address; 1 and 4 VPC channels.
    pub vpc_channel_status: i32,
    /// The channel, when `vpc_channel_status` is 1.
    pub vpc_channel: Option<VpcChannelInfo>,
    /// The member groups and how each is called, when `vpc_channel_status` is 4.
    pub member_groups: Vec<MemberGroupUrlInfo>,
}

/// A FUNCTION backend.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTarget {
    /// Function URN.
    pub function_urn: String,
    /// Alias URN, which wins over the version.
    pub alias_urn: Option<String>,
    /// Function version.
    pub version: Option<String>,
    /// Timeout in ms.
    pub timeout_ms: u64,
}

impl FunctionTarget {
    /// The configuration keys that may name this function's endpoint, most specific first:
    /// the alias URN, `<urn>:<version>`, the URN.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        keys.extend(self.alias_urn.clone());
        if let Some(v) = &self.version {
            keys.push(format!("{}:{v}", self.function_urn));
        }
        keys.push(self.function_urn.clone());
        keys
    }
}

/// The backend a request goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// An HTTP service.
    Http(HttpTarget),
    /// A function (an HTTP endpoint from configuration).
    Function(FunctionTarget),
    /// A fixed answer.
    Mock {
        /// Body.
        body: String,
    },
}

/// The chosen backend with its backend parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected<'a> {
    /// Where the request goes.
    pub backend: Backend,
    /// The backend parameters that apply (the policy's own, or the API's).
    pub params: &'a [BackendParam],
    /// The policy that matched, if any.
    pub policy: Option<&'a str>,
    /// The backend custom authorizer to ask before the backend request.
    pub authorizer_id: Option<&'a str>,
}

/// APIG's `retry_count`: "-1" (default) and unparseable values mean "idempotent methods once".
fn retries(s: &str) -> i32 {
    s.trim().parse::<i32>().ok().filter(|n| (-1..=10).contains(n)).unwrap_or(-1)
}

fn timeout(ms: Option<i64>, fallback: u64) -> u64 {
    ms.filter(|t| *t > 0).map(|t| t as u64).unwrap_or(fallback)
}

/// Default backend timeout when the definition has none (APIG's documented default).
const DEFAULT_TIMEOUT_MS: u64 = 5000;

/// The backend for this request: the first applicable policy's, else the API's.
pub fn select<'a>(route: &'a RouteApi, facts: &Facts<'_>) -> Result<Selected<'a>, GatewayError> {
    let def = &route.api.definition;
    let api_timeout = match def.backend_type {
        BackendType::Http | BackendType::Grpc => def.backend_api.as_ref().map(|b| b.timeout),
        BackendType::Function => def.func_info.as_ref().map(|f| f.timeout),
        BackendType::Mock => None,
    };
    let fallback = timeout(api_timeout, DEFAULT_TIMEOUT_MS);
    if let Some(policy) = route.policies.iter().find(|p| p.applies(facts)) {
        let selected = match policy.target {
            PolicyRef::Http(i) => {
                let p = &def.policy_https[i];
                Selected {
                    backend: Backend::Http(HttpTarget {
                        protocol: p.req_protocol,
                        url_domain: p.url_domain.clone(),
                        method: p.req_method,
                        req_uri: p.req_uri.clone(),
                        timeout_ms: timeout(p.timeout, fallback),
                        retry_count: retries(&p.retry_count),
                        vpc_channel_status: p.vpc_channel_status,
                        vpc_channel: p.vpc_channel_info.clone(),
                        member_groups: p.member_group_url_infos.clone(),
                    }),
                    params: &p.common.backend_params,
                    policy: Some(&p.common.name),
                    authorizer_id: p.common.authorizer_id.as_deref(),
                }
            }
            PolicyRef::Function(i) => {
                let p = &def.policy_functions[i];
                Selected {
                    backend: Backend::Function(FunctionTarget {
                        function_urn: p.function_urn.clone(),
                        alias_urn: p.alias_urn.clone(),
                        version: p.version.clone(),
                        timeout_ms: timeout(p.timeout, fallback),
                    }),
                    params: &p.common.backend_params,
                    policy: Some(&p.common.name),
                    authorizer_id: p.common.authorizer_id.as_deref(),
                }
            }
            PolicyRef::Mock(i) => {
                let p = &def.policy_mocks[i];
                Selected {
                    backend: Backend::Mock { body: p.result_content.clone().unwrap_or_default() },
                    params: &p.common.backend_params,
                    policy: Some(&p.common.name),
                    authorizer_id: p.common.authorizer_id.as_deref(),
                }
            }
        };
        return Ok(selected);
    }
    let backend = match def.backend_type {
        BackendType::Http | BackendType::Grpc => {
            let b = def.backend_api.as_ref().ok_or_else(|| GatewayError::BackendConfig("no backend_api".into()))?;
            Backend::Http(HttpTarget {
                protocol: b.req_protocol,
                url_domain: b.url_domain.clone(),
                method: b.req_method,
                req_uri: b.req_uri.clone(),
                timeout_ms: fallback,
                retry_count: retries(&b.retry_count),
                vpc_channel_status: b.vpc_channel_status,
                vpc_channel: b.vpc_channel_info.clone(),
                member_groups: b.member_group_url_infos.clone(),
            })
        }
        BackendType::Function => {
            let f = def.func_info.as_ref().ok_or_else(|| GatewayError::BackendConfig("no func_info".into()))?;
            Backend::Function(FunctionTarget {
                function_urn: f.function_urn.clone(),
                alias_urn: f.alias_urn.clone(),
                version: f.version.clone(),
                timeout_ms: fallback,
            })
        }
        BackendType::Mock => {
            Backend::Mock { body: def.mock_info.as_ref().and_then(|m| m.result_content.clone()).unwrap_or_default() }
        }
    };
    let authorizer_id = match def.backend_type {
        BackendType::Http | BackendType::Grpc => def.backend_api.as_ref().and_then(|b| b.authorizer_id.as_deref()),
        BackendType::Function => def.func_info.as_ref().and_then(|f| f.authorizer_id.as_deref()),
        BackendType::Mock => def.mock_info.as_ref().and_then(|m| m.authorizer_id.as_deref()),
    };
    Ok(Selected { backend, params: &def.backend_params, policy: None, authorizer_id })
}

/// The `$context.*` values a SYSTEM backend parameter may take.
#[derive(Debug, Clone, Default)]
pub struct SystemContext {
    /// `$context.sourceIp`.
    pub source_ip: String,
    /// The `X-Forwarded-For` the backend gets ([`crate::client_address::Origin::forwarded_for`]).
    pub forwarded_for: String,
    /// `$context.stage`: the environment's name.
    pub stage: String,
    /// `$context.apiId`.
    pub api_id: String,
    /// `$context.apiName`.
    pub api_name: String,
    /// `$context.appId`: the calling app (APP authentication); absent otherwise.
    pub app_id: Option<String>,
    /// `$context.requestId`.
    pub request_id: String,
    /// `$context.serverAddr`: the gateway's address the client reached.
    pub server_addr: String,
    /// `$context.serverName`.
    pub server_name: String,
    /// `$context.handleTime`: when the gateway received the request.
    pub handle_time: String,
    /// `$context.authorizer.frontend.<key>`: what a custom authorizer said of the caller.
    pub authorizer: Vec<(String, String)>,
    /// `$context.authorizer.backend.<key>`: what the backend custom authorizer said.
    pub backend_authorizer: Vec<(String, String)>,
    /// `$context.member_group_id` and `member_group_name`: the member group that serves the
    /// request (backends by member groups only).
    pub member_group: Option<(String, String)>,
}

impl SystemContext {
    /// The value of a system parameter (`$context.sourceIp`, or `sourceIp`); `None` when it has
    /// no value for this request (an authorizer output, the app of a non-APP API…).
    pub fn get(&self, name: &str) -> Option<&str> {
        match name.strip_prefix("$context.").unwrap_or(name) {
            "sourceIp" => Some(&self.source_ip),
            "stage" => Some(&self.stage),
            "apiId" => Some(&self.api_id),
            "apiName" => Some(&self.api_name),
            "appId" => self.app_id.as_deref(),
            "requestId" => Some(&self.request_id),
            "serverAddr" => Some(&self.server_addr),
            "serverName" => Some(&self.server_name),
            "handleTime" => Some(&self.handle_time),
            "member_group_id" => self.member_group.as_ref().map(|(id, _)| id.as_str()),
            "member_group_name" => self.member_group.as_ref().map(|(_, name)| name.as_str()),
            other => {
                let (said, key) = match other.strip_prefix("authorizer.frontend.") {
                    Some(key) => (&self.authorizer, key),
                    None => (&self.backend_authorizer, other.strip_prefix("authorizer.backend.")?),
                };
                said.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
            }
        }
    }
}

/// Everything the backend request is built from.
#[derive(Debug, Clone, Copy)]
pub struct BuildInput<'a> {
    /// The client's method.
    pub method: &'a http::Method,
    /// The client's decoded query pairs.
    pub query: &'a [(String, String)],
    /// The client's headers.
    pub headers: &'a HeaderMap,
    /// Frontend parameter values.
    pub params: &'a ParamValues,
    /// Backend parameters in force.
    pub backend_params: &'a [BackendParam],
    /// System parameters.
    pub system: &'a SystemContext,
    /// The environment's variables.
    pub variables: &'a HashMap<String, String>,
    /// Path after the matched prefix (SWA), appended to the backend path.
    pub rest: &'a str,
    /// For a VPC-channel backend, the chosen member's `host:port`.
    pub member: Option<&'a str>,
}

/// The request to send upstream (without its body).
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Method.
    pub method: http::Method,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `host[:port]`.
    pub authority: String,
    /// Path and query, encoded.
    pub path_and_query: String,
    /// Headers (hop-by-hop ones removed, `Host` set to the backend).
    pub headers: HeaderMap,
}

/// Replaces every `#name#` in `template`.
pub fn substitute_variables(template: &str, variables: &HashMap<String, String>) -> Result<String, GatewayError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('#') {
        let Some(len) = rest[start + 1..].find('#') else { break };
        let name = &rest[start + 1..start + 1 + len];
        let value = variables.get(name).ok_or_else(|| {
            GatewayError::BackendConfig(format!("environment variable #{name}# is not defined in this environment"))
        })?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Characters escaped inside one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Headers that belong to one connection, never forwarded in either direction.
pub(crate) const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Builds the upstream request for an HTTP target.
pub fn build_request(target: &HttpTarget, input: &BuildInput<'_>) -> Result<Outgoing, GatewayError> {
    let scheme = match target.protocol {
        BackendProtocol::Http => "http",
        BackendProtocol::Https => "https",
        other => return Err(GatewayError::BackendConfig(format!("{other} backends are not supported"))),
    };
    let authority = match (target.vpc_channel_status, input.member) {
        (2, _) => {
            let domain =
                target.url_domain.as_deref().ok_or_else(|| GatewayError::BackendConfig("no url_domain".into()))?;
            substitute_variables(domain, input.variables)?
        }
        (1 | 4, Some(member)) => member.to_string(),
        (1 | 4, None) => return Err(GatewayError::BackendConfig("no member of the VPC channel was chosen".into())),
        (other, _) => return Err(GatewayError::BackendConfig(format!("vpc_channel_status {other} is not served"))),
    };
    // The Host the channel's members expect, when the API names one.
    let host = target.vpc_channel.as_ref().and_then(|c| c.vpc_channel_proxy_host.clone()).filter(|h| !h.is_empty());
    if authority.parse::<http::uri::Authority>().is_err() {
        return Err(GatewayError::BackendConfig(format!("invalid backend address {authority:?}")));
    }

    // Frontend parameters that a REQUEST backend parameter maps are renamed, not repeated.
    let mapped = |name: &str| input.backend_params.iter().any(|b| b.origin == ParamOrigin::Request && b.value == name);
    let dropped = |location: ParamLocation, name: &str| {
        input.params.0.iter().any(|p| {
            p.location == location
                && (if location == ParamLocation::Header { p.name.eq_ignore_ascii_case(name) } else { p.name == name })
                && (!p.pass_through || mapped(&p.name))
        })
    };

    let mut query: Vec<(String, String)> =
        input.query.iter().filter(|(k, _)| !dropped(ParamLocation::Query, k)).cloned().collect();
    let mut headers = HeaderMap::with_capacity(input.headers.len() + 4);
    for (name, value) in input.headers {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || n == "host" || dropped(ParamLocation::Header, n) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    // Defaults of pass-through parameters the client did not send.
    for p in &input.params.0 {
        let (true, true, Some(value)) = (p.defaulted, p.pass_through && !mapped(&p.name), p.value.as_ref()) else {
            continue;
        };
        match p.location {
            ParamLocation::Query => query.push((p.name.clone(), value.clone())),
            ParamLocation::Header => insert_header(&mut headers, &p.name, value)?,
            ParamLocation::Path => {}
        }
    }

    let mut path_values: Vec<(&str, String)> = Vec::new();
    for b in input.backend_params {
        let value = match b.origin {
            ParamOrigin::Request => input.params.get(&b.value).map(str::to_string),
            ParamOrigin::Constant => Some(b.value.clone()),
            ParamOrigin::System => input.system.get(&b.value).map(str::to_string),
        };
        let Some(value) = value else { continue };
        match b.location {
            ParamLocation::Path => path_values.push((&b.name, value)),
            ParamLocation::Query => query.push((b.name.clone(), value)),
            ParamLocation::Header => insert_header(&mut headers, &b.name, &value)?,
        }
    }

    let template = substitute_variables(&target.req_uri, input.variables)?;
    let mut path = String::with_capacity(template.len() + input.rest.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        let name = &rest[open + 1..close];
        let value = path_values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| input.params.get(name))
            .ok_or_else(|| GatewayError::BackendConfig(format!("backend path parameter {{{name}}} has no value")))?;
        path.push_str(&rest[..open]);
        path.extend(utf8_percent_encode(value, SEGMENT));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    if !input.rest.is_empty() {
        while path.ends_with('/') {
            path.pop();
        }
        path.push_str(input.rest);
    }
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&query).finish());
    }

    insert_header(&mut headers, "x-forwarded-for", &input.system.forwarded_for)?;
    insert_header(&mut headers, "x-request-id", &input.system.request_id)?;
    let host = host.unwrap_or_else(|| authority.clone());
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(&host).map_err(|_| GatewayError::BackendConfig(format!("invalid host {host:?}")))?,
    );

    let method = match target.method {
        Method::Any => input.method.clone(),
        m => http::Method::from_bytes(m.as_str().as_bytes()).map_err(|_| GatewayError::Internal)?,
    };
    Ok(Outgoing { method, scheme, authority, path_and_query: path, headers })
}

/// The signature key types [`sign_request`] applies. Huawei publishes no wire format for its
/// `public_key` and `aes` backend signatures, so a backend could not check one made up here;
/// the route table reports such keys when they are bound.
pub const APPLIED_SIGN_TYPES: [&str; 2] = ["hmac", "basic"];

/// Signs the backend request with the signature key bound to the API, so the backend can tell
/// it comes through the gateway. `hmac`: the `SDK-HMAC-SHA256` algorithm of app signatures, the
/// key as access key and the secret as secret key, over `Host`, `X-Sdk-Date` (added, `now`) and
/// the body, in `Authorization`. `basic`: `Authorization: Basic base64(key:secret)`. Other
/// types (`public_key`, `aes`) are not applied (documented).
pub fn sign_request(
    outgoing: &mut Outgoing,
    body: &[u8],
    signature: &portico_model::Signature,
    now: time::OffsetDateTime,
) -> Result<(), GatewayError> {
    let authorization = match signature.sign_type.as_str() {
        "hmac" => {
            let date = now
                .format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
                .map_err(|_| GatewayError::Internal)?;
            insert_header(&mut outgoing.headers, "x-sdk-date", &date)?;
            let mut signed = HeaderMap::new();
            for name in [http::header::HOST.as_str(), "x-sdk-date"] {
                if let Some(value) = outgoing.headers.get(name) {
                    signed.insert(HeaderName::from_static(name), value.clone());
                }
            }
            let (raw_path, raw_query) = match outgoing.path_and_query.split_once('?') {
                Some((path, query)) => (path, Some(query)),
                None => (outgoing.path_and_query.as_str(), None),
            };
            let request = portico_auth::signature::RequestParts {
                method: outgoing.method.as_str(),
                raw_path,
                raw_query,
                headers: &signed,
                body,
            };
            portico_auth::signature::sign(&request, &signature.sign_key, &signature.sign_secret)
        }
        "basic" => {
            use base64::Engine;
            let pair = format!("{}:{}", signature.sign_key, signature.sign_secret);
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        }
        _ => return Ok(()),
    };
    insert_header(&mut outgoing.headers, "authorization", &authorization)
}

fn insert_header(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), GatewayError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| GatewayError::BackendConfig(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| GatewayError::BackendConfig(format!("invalid value for header {name}")))?;
    headers.insert(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::RouteEntry;
    use crate::params::ParamValue;
    use crate::policies::compile_policies;
    use portico_model::{Api, ApiDefinition};
    use serde_json::json;
    use std::sync::Arc;
    use time::OffsetDateTime;

    fn route(extra: serde_json::Value) -> RouteApi {
        let mut body = json!({
            "name": "api_x", "type": 1, "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/x/{id}",
            "auth_type": "NONE", "backend_type": "HTTP", "group_id": "g",
            "req_params": [
                { "name": "id", "type": "STRING", "location": "PATH" },
                { "name": "q", "type": "STRING", "location": "QUERY" }
            ],
            "backend_api": { "url_domain": "#host#:8080", "req_protocol": "HTTP", "req_method": "ANY",
                             "req_uri": "/b", "timeout": 1000 }
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let mut def = ApiDefinition::from_value(body).unwrap();
        def.prepare(None, OffsetDateTime::UNIX_EPOCH);
        let (policies, problems) = compile_policies(&def);
        assert!(problems.is_empty(), "{problems:?}");
        RouteApi {
            api: Arc::new(Api {
                id: "a".into(),
                status: 1,
                register_time: OffsetDateTime::UNIX_EPOCH,
                update_time: OffsetDateTime::UNIX_EPOCH,
                definition: def,
            }),
            entry: Arc::new(RouteEntry {
                instance_id: "i".into(),
                project_id: "p".into(),
                env_id: "e".into(),
                env_name: "RELEASE".into(),
                publish_id: "pub".into(),
                version_id: "v".into(),
                api_id: "a".into(),
                method: Method::Get,
                bound: Default::default(),
                path_params: ["id".to_string()].into(),
                variables: Arc::new(HashMap::new()),
            }),
            policies: policies.into(),
        }
    }

    fn values(pairs: &[(&str, ParamLocation, &str)]) -> ParamValues {
        ParamValues(
            pairs
                .iter()
                .map(|(n, l, v)| ParamValue {
                    name: n.to_string(),
                    location: *l,
                    value: Some(v.to_string()),
                    defaulted: false,
                    pass_through: true,
                })
                .collect(),
        )
    }

    fn facts<'a>(params: &'a ParamValues, ip: &str, cookies: Option<&'a str>) -> Facts<'a> {
        Facts { params, source_ip: ip.parse().unwrap(), method: "GET", path: "/x/7", cookies, authorizer: &[] }
    }

    fn policy(conditions: serde_json::Value, mode: &str) -> serde_json::Value {
        json!({ "policy_https": [{
            "name": "canary", "effect_mode": mode, "url_domain": "canary:81", "req_protocol": "HTTP",
            "req_method": "POST", "req_uri": "/c", "conditions": conditions,
            "backend_params": [{ "origin": "CONSTANT", "name": "X-Policy", "location": "HEADER", "value": "1" }]
        }]})
    }

    fn chosen(r: &RouteApi, f: &Facts<'_>) -> Option<String> {
        select(r, f).unwrap().policy.map(str::to_string)
    }

    #[test]
    fn every_condition_origin_and_type() {
        let cases = [
            (
                json!({ "condition_origin": "param", "req_param_name": "q", "condition_type": "exact",
                     "condition_value": "beta" }),
                "beta",
            ),
            (
                json!({ "condition_origin": "param", "req_param_name": "q", "condition_type": "enum",
                     "condition_value": "a,beta,c" }),
                "beta",
            ),
            (
                json!({ "condition_origin": "param", "req_param_name": "q", "condition_type": "pattern",
                     "condition_value": "^be.a$" }),
                "beta",
            ),
        ];
        for (condition, _) in cases {
            let r = route(policy(json!([condition.clone()]), "ALL"));
            let yes = values(&[("q", ParamLocation::Query, "beta")]);
            let no = values(&[("q", ParamLocation::Query, "gamma")]);
            assert_eq!(chosen(&r, &facts(&yes, "10.0.0.1", None)), Some("canary".into()), "{condition}");
            assert_eq!(chosen(&r, &facts(&no, "10.0.0.1", None)), None, "{condition}");
        }
        let none = values(&[]);
        let source = route(policy(
            json!([{ "condition_origin": "source", "condition_value": "192.168.1.0/24,10.0.0.9" }]),
            "ALL",
        ));
        assert_eq!(chosen(&source, &facts(&none, "192.168.1.77", None)), Some("canary".into()));
        assert_eq!(chosen(&source, &facts(&none, "::ffff:10.0.0.9", None)), Some("canary".into()));
        assert_eq!(chosen(&source, &facts(&none, "192.168.2.1", None)), None);
        let system = route(policy(
            json!([{ "condition_origin": "system", "sys_param_name": "req_method", "condition_type": "exact",
                     "condition_value": "GET" }]),
            "ALL",
        ));
        assert_eq!(chosen(&system, &facts(&none, "1.1.1.1", None)), Some("canary".into()));
        let path = route(policy(
            json!([{ "condition_origin": "system", "sys_param_name": "req_path", "condition_type": "pattern",
                     "condition_value": "^/x/[0-9]+$" }]),
            "ALL",
        ));
        assert_eq!(chosen(&path, &facts(&none, "1.1.1.1", None)), Some("canary".into()));
        let cookie = route(policy(
            json!([{ "condition_origin": "cookie", "cookie_param_name": "group", "condition_type": "enum",
                     "condition_value": "beta,alpha" }]),
            "ALL",
        ));
        assert_eq!(chosen(&cookie, &facts(&none, "1.1.1.1", Some("a=1; group=alpha"))), Some("canary".into()));
        assert_eq!(chosen(&cookie, &facts(&none, "1.1.1.1", Some("group=gamma"))), None);
        assert_eq!(chosen(&cookie, &facts(&none, "1.1.1.1", None)), None);
        let said = route(policy(
            json!([{ "condition_origin": "frontend_authorizer", "condition_type": "exact", "condition_value": "gold",
                     "frontend_authorizer_param_name": "$context.authorizer.frontend.tier" }]),
            "ALL",
        ));
        let gold = [("tier".to_string(), "gold".to_string())];
        let silver = [("tier".to_string(), "silver".to_string())];
        let by = |authorizer| Facts { authorizer, ..facts(&none, "1.1.1.1", None) };
        assert_eq!(chosen(&said, &by(&gold)), Some("canary".into()));
        assert_eq!(chosen(&said, &by(&silver)), None);
        assert_eq!(chosen(&said, &by(&[])), None, "no authorizer, no output");
    }

    #[test]
    fn all_and_any() {
        let conditions = json!([
            { "condition_origin": "param", "req_param_name": "q", "condition_type": "exact", "condition_value": "a" },
            { "condition_origin": "source", "condition_value": "10.0.0.0/8" }
        ]);
        let q = values(&[("q", ParamLocation::Query, "a")]);
        let all = route(policy(conditions.clone(), "ALL"));
        assert_eq!(chosen(&all, &facts(&q, "10.1.2.3", None)), Some("canary".into()));
        assert_eq!(chosen(&all, &facts(&q, "11.1.2.3", None)), None);
        let any = route(policy(conditions, "ANY"));
        assert_eq!(chosen(&any, &facts(&q, "11.1.2.3", None)), Some("canary".into()));
        let other = values(&[("q", ParamLocation::Query, "b")]);
        assert_eq!(chosen(&any, &facts(&other, "11.1.2.3", None)), None);
    }

    #[test]
    fn a_matching_policy_brings_its_backend_and_parameters() {
        let r = route(policy(json!([{ "condition_origin": "source", "condition_value": "0.0.0.0/0" }]), "ALL"));
        let none = values(&[]);
        let s = select(&r, &facts(&none, "1.2.3.4", None)).unwrap();
        let Backend::Http(t) = s.backend else { panic!("an HTTP policy") };
        assert_eq!((t.url_domain.as_deref(), t.method, t.timeout_ms), (Some("canary:81"), Method::Post, 1000));
        assert_eq!(s.params[0].name, "X-Policy");
    }

    fn build(r: &RouteApi, params: &ParamValues, query: &[(&str, &str)], rest: &str) -> Result<Outgoing, GatewayError> {
        build_on(r, params, query, rest, None)
    }

    fn build_on(
        r: &RouteApi,
        params: &ParamValues,
        query: &[(&str, &str)],
        rest: &str,
        member: Option<&str>,
    ) -> Result<Outgoing, GatewayError> {
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut headers = HeaderMap::new();
        headers.insert("connection", HeaderValue::from_static("keep-alive"));
        headers.insert("x-keep", HeaderValue::from_static("k"));
        let variables = HashMap::from([("host".to_string(), "10.0.0.5".to_string())]);
        let system = SystemContext {
            source_ip: "1.2.3.4".into(),
            forwarded_for: "1.2.3.4".into(),
            stage: "RELEASE".into(),
            request_id: "rid".into(),
            ..SystemContext::default()
        };
        let selected = select(r, &facts(params, "1.2.3.4", None))?;
        let Backend::Http(target) = &selected.backend else { panic!("HTTP") };
        build_request(
            target,
            &BuildInput {
                method: &http::Method::PUT,
                query: &query,
                headers: &headers,
                params,
                backend_params: selected.params,
                system: &system,
                variables: &variables,
                rest,
                member,
            },
        )
    }

    #[test]
    fn backend_request_maps_parameters_and_variables() {
        let r = route(json!({
          "backend_api": { "url_domain": "#host#:8080", "req_protocol": "HTTP", "req_method": "ANY",
                           "req_uri": "/b/{bid}", "timeout": 1000 },
          "backend_params": [
            { "origin": "REQUEST", "name": "bid", "location": "PATH", "value": "id" },
            { "origin": "REQUEST", "name": "query", "location": "QUERY", "value": "q" },
            { "origin": "CONSTANT", "name": "X-Const", "location": "HEADER", "value": "c1" },
            { "origin": "SYSTEM", "name": "X-Stage-Name", "location": "HEADER", "value": "$context.stage" },
            { "origin": "SYSTEM", "name": "X-App", "location": "HEADER", "value": "$context.appId" }
        ]}));
        let params = values(&[("id", ParamLocation::Path, "a b"), ("q", ParamLocation::Query, "v")]);
        let out = build(&r, &params, &[("q", "v"), ("other", "o")], "").unwrap();
        assert_eq!(out.method, http::Method::PUT, "ANY forwards the client's method");
        assert_eq!(out.authority, "10.0.0.5:8080");
        assert_eq!(out.path_and_query, "/b/a%20b?other=o&query=v");
        assert_eq!(out.headers["x-const"], "c1");
        assert_eq!(out.headers["x-stage-name"], "RELEASE");
        assert!(!out.headers.contains_key("x-app"), "no app without APP authentication");
        assert_eq!(out.headers["x-keep"], "k");
        assert_eq!(out.headers["host"], "10.0.0.5:8080");
        assert_eq!(out.headers["x-forwarded-for"], "1.2.3.4");
        assert!(!out.headers.contains_key("connection"));
    }

    #[test]
    fn unmapped_parameters_pass_through_with_defaults_and_prefix_rest() {
        let r = route(json!({ "backend_api": { "url_domain": "b:1", "req_protocol": "HTTP", "req_method": "GET",
                                              "req_uri": "/base/{id}/", "timeout": 1000 },
                              "backend_params": [{ "origin": "REQUEST", "name": "id", "location": "PATH", "value": "id" }] }));
        let mut params = values(&[("id", ParamLocation::Path, "7")]);
        params.0.push(ParamValue {
            name: "q".into(),
            location: ParamLocation::Query,
            value: Some("dflt".into()),
            defaulted: true,
            pass_through: true,
        });
        params.0.push(ParamValue {
            name: "secret".into(),
            location: ParamLocation::Query,
            value: Some("s".into()),
            defaulted: false,
            pass_through: false,
        });
        let out = build(&r, &params, &[("secret", "s"), ("free", "f")], "/more").unwrap();
        assert_eq!(out.path_and_query, "/base/7/more?free=f&q=dflt");
    }

    #[test]
    fn undefined_variables_and_channels_are_configuration_errors() {
        let r = route(json!({ "backend_api": { "url_domain": "#nope#", "req_protocol": "HTTP", "req_method": "GET",
                                              "req_uri": "/", "timeout": 1000 } }));
        let e = build(&r, &values(&[]), &[], "").unwrap_err();
        assert_eq!(
            e,
            GatewayError::BackendConfig("environment variable #nope# is not defined in this environment".into())
        );
        let r = route(json!({ "backend_api": { "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/",
            "timeout": 1000, "vpc_channel_status": 1, "vpc_channel_info": { "vpc_channel_id": "c" } } }));
        assert!(matches!(build(&r, &values(&[]), &[], ""), Err(GatewayError::BackendConfig(_))));
    }

    #[test]
    fn channel_members_are_the_authority_and_the_proxy_host_the_host() {
        let r = route(json!({ "backend_api": { "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/in",
            "timeout": 1000, "vpc_channel_status": 1,
            "vpc_channel_info": { "vpc_channel_id": "c", "vpc_channel_proxy_host": "svc.internal" } } }));
        let out = build_on(&r, &values(&[]), &[], "", Some("10.0.0.9:8080")).unwrap();
        assert_eq!((out.authority.as_str(), out.path_and_query.as_str()), ("10.0.0.9:8080", "/in"));
        assert_eq!(out.headers.get("host").unwrap(), "svc.internal");
    }

    fn key(sign_type: &str) -> portico_model::Signature {
        portico_model::Signature {
            id: "s".into(),
            name: "s".into(),
            sign_type: sign_type.into(),
            sign_key: "backend_key".into(),
            sign_secret: "backend_secret_0123".into(),
            sign_algorithm: None,
            create_time: OffsetDateTime::UNIX_EPOCH,
            update_time: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn backend_requests_signed_by_the_bound_key() {
        let r = route(json!({}));
        let mut out = build(&r, &values(&[("id", ParamLocation::Path, "7")]), &[("q", "1")], "").unwrap();
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        sign_request(&mut out, b"body", &key("hmac"), now).unwrap();
        let authorization = out.headers.get("authorization").unwrap().to_str().unwrap().to_string();
        let parsed = portico_auth::signature::parse_authorization(&authorization).unwrap();
        assert_eq!(parsed.access_key, "backend_key");
        assert_eq!(parsed.signed_headers, ["host", "x-sdk-date"]);
        let (path, query) = out.path_and_query.split_once('?').unwrap();
        let received = portico_auth::signature::RequestParts {
            method: out.method.as_str(),
            raw_path: path,
            raw_query: Some(query),
            headers: &out.headers,
            body: b"body",
        };
        portico_auth::signature::verify(&received, &parsed, "backend_secret_0123", now).unwrap();
        let tampered = portico_auth::signature::RequestParts { body: b"other", ..received };
        assert!(portico_auth::signature::verify(&tampered, &parsed, "backend_secret_0123", now).is_err());

        sign_request(&mut out, b"", &key("basic"), now).unwrap();
        assert_eq!(out.headers.get("authorization").unwrap(), "Basic YmFja2VuZF9rZXk6YmFja2VuZF9zZWNyZXRfMDEyMw==");
    }

    #[test]
    fn function_keys_most_specific_first() {
        let f = FunctionTarget {
            function_urn: "urn:f".into(),
            alias_urn: Some("urn:f:!prod".into()),
            version: Some("v2".into()),
            timeout_ms: 1,
        };
        assert_eq!(f.keys(), vec!["urn:f:!prod".to_string(), "urn:f:v2".into(), "urn:f".into()]);
    }
}
