//! The validation rules of APIG's `ApiCreate`, and the character-set rules shared by other
//! objects. Presence is checked on the raw document (so a missing field is told apart from a
//! wrongly typed one), everything else on the typed definition. [`ApiDefinition::from_json`]
//! and [`ApiDefinition::from_value`], which apply them, live here too, so that the types in
//! `api.rs` import nothing from the rules that judge them.

use std::net::IpAddr;

use serde_json::Value;

use crate::FieldError;
use crate::api::*;
use crate::error::{from_value, parse_json};
use crate::limits::{API_CONDITION_NUM_LIMIT, API_TAG_NUM_LIMIT};

type Rule = Result<(), FieldError>;

fn missing(field: impl Into<String>) -> FieldError {
    FieldError::Missing(field.into())
}

fn invalid(field: impl Into<String>) -> FieldError {
    FieldError::invalid(field)
}

/// A field counts as present when it is there, not `null` and not an empty string.
fn present(obj: &Value, key: &str) -> bool {
    match obj.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn require(obj: &Value, prefix: &str, keys: &[&str]) -> Rule {
    match keys.iter().find(|k| !present(obj, k)) {
        Some(k) => Err(missing(format!("{prefix}{k}"))),
        None => Ok(()),
    }
}

fn require_each(obj: &Value, list: &str, keys: &[&str]) -> Rule {
    if let Some(Value::Array(items)) = obj.get(list) {
        for (i, item) in items.iter().enumerate() {
            require(item, &format!("{list}[{i}]."), keys)?;
        }
    }
    Ok(())
}

const POLICY_KEYS: [&str; 3] = ["name", "effect_mode", "conditions"];

pub(crate) fn check_required(doc: &Value) -> Rule {
    require(
        doc,
        "",
        &["name", "type", "req_protocol", "req_method", "req_uri", "auth_type", "backend_type", "group_id"],
    )?;
    require_each(doc, "req_params", &["name", "type", "location"])?;
    require_each(doc, "backend_params", &["origin", "name", "location", "value"])?;
    if let Some(b) = doc.get("backend_api").filter(|v| v.is_object()) {
        require(b, "backend_api.", &["req_protocol", "req_method", "req_uri", "timeout"])?;
    }
    if let Some(f) = doc.get("func_info").filter(|v| v.is_object()) {
        require(f, "func_info.", &["function_urn", "invocation_type", "network_type", "timeout"])?;
    }
    for (list, extra) in [
        ("policy_https", &["req_protocol", "req_method", "req_uri"][..]),
        ("policy_functions", &["function_urn", "invocation_type", "network_type"][..]),
        ("policy_mocks", &[][..]),
    ] {
        require_each(doc, list, &POLICY_KEYS)?;
        require_each(doc, list, extra)?;
        if let Some(Value::Array(policies)) = doc.get(list) {
            for (i, p) in policies.iter().enumerate() {
                let prefix = format!("{list}[{i}]");
                require_each(p, "conditions", &["condition_origin", "condition_value"])
                    .map_err(|e| e.within(&prefix))?;
                require_each(p, "backend_params", &["origin", "name", "location", "value"])
                    .map_err(|e| e.within(&prefix))?;
            }
        }
    }
    Ok(())
}

pub(crate) fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn max_len(field: &str, value: Option<&String>, max: usize) -> Rule {
    match value {
        Some(v) if v.chars().count() > max => Err(invalid(field)),
        _ => Ok(()),
    }
}

/// Names of API groups and APIs: 3–255 characters of CJK, letters, digits and `-_./():`
/// (full-width brackets and colon too, and `、`), starting with a letter, CJK or digit.
pub fn is_display_name(name: &str) -> bool {
    let count = name.chars().count();
    (3..=255).contains(&count)
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || is_cjk(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || "-_./():（）：、".contains(c))
}

/// Identifier-like names: first a letter, then letters, digits and `allowed`; `min..=max` long.
pub fn is_identifier(name: &str, allowed: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&name.chars().count())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || allowed.contains(c))
}

pub(crate) fn is_policy_name(name: &str) -> bool {
    (3..=64).contains(&name.chars().count())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || c == '_')
}

fn is_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.chars().count())
        && tag.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c))
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || "-*#%.:_".contains(c))
}

/// `{name}` placeholders of a path, in order; `{name+}` (prefix match) yields `name`. Braces
/// appear only around a placeholder (the gateway's matcher would read a stray one as syntax).
pub fn path_placeholders(uri: &str) -> Result<Vec<&str>, ()> {
    let mut names = Vec::new();
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or(())? + open;
        let inner = &rest[open + 1..close];
        let name = inner.strip_suffix('+').unwrap_or(inner);
        if rest[..open].contains('}') || !is_identifier(name, "-_.", 1, 32) {
            return Err(());
        }
        names.push(name);
        rest = &rest[close + 1..];
    }
    if rest.contains('}') { Err(()) } else { Ok(names) }
}

fn is_path(uri: &str) -> bool {
    uri.starts_with('/')
        && uri.len() <= 512
        && !uri.contains("//")
        && uri.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~/%*{}+=&$@!,;:'()#".contains(c))
        && path_placeholders(uri).is_ok()
}

/// APIG's frontend paths: a parameter is a whole segment (`/users/{id}`, not `/users/u-{id}`),
/// and a greedy one (`{path+}`) only the last. Backend paths may mix (`/users/u-{id}`).
fn is_frontend_template(uri: &str) -> bool {
    let segments: Vec<&str> = uri.split('/').collect();
    segments.iter().enumerate().all(|(i, segment)| {
        if !segment.contains('{') {
            return true;
        }
        let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else { return false };
        !inner.contains('{') && (!inner.ends_with('+') || i == segments.len() - 1)
    })
}

/// `host[:port]` where the host may be an environment variable `#Name#`.
fn is_url_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (domain, None),
    };
    let port_ok = match port {
        None => true,
        Some(p) => is_env_reference(p) || p.parse::<u16>().is_ok_and(|p| p > 0),
    };
    domain.len() <= 255
        && port_ok
        && !host.is_empty()
        && (is_env_reference(host) || host.chars().all(|c| c.is_ascii_alphanumeric() || "-._#".contains(c)))
}

fn is_env_reference(s: &str) -> bool {
    s.len() > 2 && s.starts_with('#') && s.ends_with('#') && is_identifier(&s[1..s.len() - 1], "-_", 3, 32)
}

fn check_retry(field: &str, retry: &str) -> Rule {
    match retry.parse::<i32>() {
        Ok(n) if (-1..=10).contains(&n) => Ok(()),
        _ => Err(invalid(field)),
    }
}

fn check_timeout(field: &str, timeout: Option<i64>, max: i64) -> Rule {
    match timeout {
        Some(t) if !(1..=max).contains(&t) => Err(invalid(field)),
        _ => Ok(()),
    }
}

const SYSTEM_PARAMS: [&str; 16] = [
    "sourceIp",
    "stage",
    "apiId",
    "apiName",
    "appId",
    "appName",
    "requestId",
    "serverAddr",
    "serverName",
    "handleTime",
    "providerAppId",
    "providerAppName",
    "userId",
    "userName",
    "member_group_name",
    "member_group_id",
];

fn is_system_param(value: &str) -> bool {
    let name = value.strip_prefix("$context.").unwrap_or(value);
    SYSTEM_PARAMS.contains(&name)
        || ["authorizer.frontend.", "authorizer.backend."]
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|k| !k.is_empty()))
}

fn check_backend_params(prefix: &str, params: &[BackendParam], req_params: &[ReqParam]) -> Rule {
    for (i, p) in params.iter().enumerate() {
        let field = |f: &str| format!("{prefix}[{i}].{f}");
        if !is_identifier(&p.name, "-_.", 1, 32) {
            return Err(invalid(field("name")));
        }
        max_len(&field("remark"), p.remark.as_ref(), 255)?;
        max_len(&field("value"), Some(&p.value), 255)?;
        let value_ok = match p.origin {
            ParamOrigin::Request => req_params.iter().any(|r| r.name == p.value),
            ParamOrigin::Constant => true,
            ParamOrigin::System => is_system_param(&p.value),
        };
        if !value_ok {
            return Err(invalid(field("value")));
        }
        if params[..i].iter().any(|o| o.location == p.location && o.name.eq_ignore_ascii_case(&p.name)) {
            return Err(invalid(field("name")));
        }
    }
    Ok(())
}

/// Every `{x}` of a backend path must be filled by a PATH backend parameter.
fn check_backend_path(field: &str, uri: &str, params: &[BackendParam]) -> Rule {
    let placeholders = path_placeholders(uri).map_err(|_| invalid(field))?;
    let unfilled =
        placeholders.iter().any(|name| !params.iter().any(|p| p.location == ParamLocation::Path && p.name == *name));
    if unfilled { Err(invalid(field)) } else { Ok(()) }
}

fn check_conditions(prefix: &str, conditions: &[Condition], req_params: &[ReqParam]) -> Rule {
    if conditions.is_empty() || conditions.len() > API_CONDITION_NUM_LIMIT {
        return Err(invalid(format!("{prefix}.conditions")));
    }
    for (i, c) in conditions.iter().enumerate() {
        let field = |f: &str| format!("{prefix}.conditions[{i}].{f}");
        max_len(&field("condition_value"), Some(&c.condition_value), 1024)?;
        let needs_type = matches!(
            c.condition_origin,
            ConditionOrigin::Param
                | ConditionOrigin::System
                | ConditionOrigin::Cookie
                | ConditionOrigin::FrontendAuthorizer
        );
        if needs_type && c.condition_type.is_none() {
            return Err(missing(field("condition_type")));
        }
        match c.condition_origin {
            ConditionOrigin::Param => {
                let name = c.req_param_name.as_ref().ok_or_else(|| missing(field("req_param_name")))?;
                if !req_params.iter().any(|r| &r.name == name) {
                    return Err(invalid(field("req_param_name")));
                }
            }
            ConditionOrigin::System => {
                let name = c.sys_param_name.as_deref().ok_or_else(|| missing(field("sys_param_name")))?;
                if !["req_path", "req_method", "reqPath", "reqMethod"].contains(&name) {
                    return Err(invalid(field("sys_param_name")));
                }
            }
            ConditionOrigin::Cookie => {
                let name = c.cookie_param_name.as_deref().ok_or_else(|| missing(field("cookie_param_name")))?;
                if name.is_empty() || name.len() > 255 {
                    return Err(invalid(field("cookie_param_name")));
                }
            }
            ConditionOrigin::FrontendAuthorizer => {
                let name = c
                    .frontend_authorizer_param_name
                    .as_deref()
                    .ok_or_else(|| missing(field("frontend_authorizer_param_name")))?;
                if !name.starts_with("$context.authorizer.frontend.") {
                    return Err(invalid(field("frontend_authorizer_param_name")));
                }
            }
            ConditionOrigin::Orchestration => {
                if c.mapped_param_name.is_none() {
                    return Err(missing(field("mapped_param_name")));
                }
                if c.mapped_param_location.is_none() {
                    return Err(missing(field("mapped_param_location")));
                }
            }
            ConditionOrigin::Source => {
                let all_addresses = c.condition_value.split(',').all(|a| is_ip_or_cidr(a.trim()));
                if !all_addresses {
                    return Err(invalid(field("condition_value")));
                }
            }
        }
        if c.condition_type == Some(ConditionType::Pattern) && regex::Regex::new(&c.condition_value).is_err() {
            return Err(invalid(field("condition_value")));
        }
    }
    Ok(())
}

/// An IPv4/IPv6 address or a CIDR range such as `10.0.0.0/8`.
pub fn is_ip_or_cidr(s: &str) -> bool {
    match s.split_once('/') {
        None => s.parse::<IpAddr>().is_ok(),
        Some((ip, bits)) => match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32,
            (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128,
            _ => false,
        },
    }
}

fn check_policy_common(prefix: &str, p: &PolicyCommon, req_params: &[ReqParam]) -> Rule {
    if !is_policy_name(&p.name) {
        return Err(invalid(format!("{prefix}.name")));
    }
    check_backend_params(&format!("{prefix}.backend_params"), &p.backend_params, req_params)?;
    check_conditions(prefix, &p.conditions, req_params)
}

fn check_vpc(
    prefix: &str,
    status: i32,
    url_domain: Option<&String>,
    vpc: Option<&VpcChannelInfo>,
    groups: &[MemberGroupUrlInfo],
) -> Rule {
    match status {
        1 if vpc.is_none() => Err(missing(format!("{prefix}vpc_channel_info"))),
        2 => match url_domain {
            None => Err(missing(format!("{prefix}url_domain"))),
            Some(d) if !is_url_domain(d) => Err(invalid(format!("{prefix}url_domain"))),
            Some(_) => Ok(()),
        },
        4 if groups.is_empty() => Err(missing(format!("{prefix}member_group_url_infos"))),
        1 | 4 => Ok(()),
        _ => Err(invalid(format!("{prefix}vpc_channel_status"))),
    }
}

/// OpenAPI keeps `x-` keys for extensions; anything else would not be an extension on export.
fn check_extension_keys(field: &str, extensions: &serde_json::Map<String, Value>) -> Rule {
    if extensions.keys().all(|k| k.starts_with("x-")) { Ok(()) } else { Err(invalid(field)) }
}

pub(crate) fn validate_api(api: &ApiDefinition) -> Rule {
    if !is_display_name(&api.name) {
        return Err(invalid("name"));
    }
    if ![1, 2].contains(&api.api_type) {
        return Err(invalid("type"));
    }
    max_len("version", api.version.as_ref(), 16)?;
    if !is_path(&api.req_uri) || !is_frontend_template(&api.req_uri) {
        return Err(invalid("req_uri"));
    }
    max_len("remark", api.remark.as_ref(), 255)?;
    check_extension_keys("openapi_extensions", &api.openapi_extensions)?;
    max_len("body_remark", api.body_remark.as_ref(), 20480)?;
    max_len("result_normal_sample", api.result_normal_sample.as_ref(), 20480)?;
    max_len("result_failure_sample", api.result_failure_sample.as_ref(), 20480)?;
    if api.auth_type == AuthType::Authorizer && api.authorizer_id.as_deref().unwrap_or("").is_empty() {
        return Err(invalid("authorizer_id"));
    }
    if api.auth_opt.as_ref().is_some_and(|o| o.app_code_auth_type == AppCodeAuthType::Header)
        && api.auth_type != AuthType::App
    {
        return Err(invalid("auth_opt"));
    }
    if api.tags.len() > API_TAG_NUM_LIMIT || !api.tags.iter().all(|t| is_tag(t)) {
        return Err(invalid("tags"));
    }
    if let Some(ct) = &api.content_type
        && !["application/json", "application/xml", "multipart/form-data", "text/plain"].contains(&ct.as_str())
    {
        return Err(invalid("content_type"));
    }
    if let Some(rate) = &api.sampling_param
        && !rate.parse::<u8>().is_ok_and(|r| r <= 100)
    {
        return Err(invalid("sampling_param"));
    }
    if api.trace_enabled == Some(true) && api.sampling_strategy.as_deref() != Some("RATE") {
        return Err(invalid("sampling_strategy"));
    }
    check_req_params(api)?;
    check_backend_params("backend_params", &api.backend_params, &api.req_params)?;
    check_backend(api)?;
    let mut names: Vec<&str> = Vec::new();
    for (i, p) in api.policy_https.iter().enumerate() {
        let prefix = format!("policy_https[{i}]");
        check_policy_common(&prefix, &p.common, &api.req_params)?;
        check_vpc(
            &format!("{prefix}."),
            p.vpc_channel_status,
            p.url_domain.as_ref(),
            p.vpc_channel_info.as_ref(),
            &p.member_group_url_infos,
        )?;
        if !is_path(&p.req_uri) {
            return Err(invalid(format!("{prefix}.req_uri")));
        }
        check_backend_path(&format!("{prefix}.req_uri"), &p.req_uri, &p.common.backend_params)?;
        check_timeout(&format!("{prefix}.timeout"), p.timeout, 600_000)?;
        check_retry(&format!("{prefix}.retry_count"), &p.retry_count)?;
    }
    for (i, p) in api.policy_functions.iter().enumerate() {
        let prefix = format!("policy_functions[{i}]");
        check_policy_common(&prefix, &p.common, &api.req_params)?;
        check_timeout(&format!("{prefix}.timeout"), p.timeout, 600_000)?;
    }
    for (i, p) in api.policy_mocks.iter().enumerate() {
        check_policy_common(&format!("policy_mocks[{i}]"), &p.common, &api.req_params)?;
    }
    for (i, p) in api.policies().enumerate() {
        if names.contains(&p.name.as_str()) {
            return Err(invalid(format!("policies[{i}].name")));
        }
        names.push(&p.name);
    }
    Ok(())
}

fn check_req_params(api: &ApiDefinition) -> Rule {
    let placeholders = path_placeholders(&api.req_uri).map_err(|_| invalid("req_uri"))?;
    for name in &placeholders {
        let declared = api.req_params.iter().any(|p| p.location == ParamLocation::Path && p.name == *name);
        if !declared {
            return Err(invalid("req_uri"));
        }
    }
    for (i, p) in api.req_params.iter().enumerate() {
        let field = |f: &str| format!("req_params[{i}].{f}");
        if !is_identifier(&p.name, "-_.", 1, 32) {
            return Err(invalid(field("name")));
        }
        if p.location == ParamLocation::Path && !placeholders.contains(&p.name.as_str()) {
            return Err(invalid(field("location")));
        }
        let duplicate = api.req_params[..i].iter().any(|o| {
            o.location == p.location
                && if p.location == ParamLocation::Header {
                    o.name.eq_ignore_ascii_case(&p.name)
                } else {
                    o.name == p.name
                }
        });
        if duplicate {
            return Err(invalid(field("name")));
        }
        if ![0, 1, 2].contains(&p.required) {
            return Err(invalid(field("required")));
        }
        if ![1, 2].contains(&p.valid_enable) {
            return Err(invalid(field("valid_enable")));
        }
        if p.pass_through.is_some_and(|v| ![1, 2].contains(&v)) {
            return Err(invalid(field("pass_through")));
        }
        max_len(&field("remark"), p.remark.as_ref(), 255)?;
        check_extension_keys(&field("openapi_extensions"), &p.openapi_extensions)?;
        max_len(&field("default_value"), p.default_value.as_ref(), 255)?;
        max_len(&field("sample_value"), p.sample_value.as_ref(), 255)?;
        max_len(&field("enumerations"), p.enumerations.as_ref(), 1024)?;
        if let (Some(lo), Some(hi)) = (p.min_num, p.max_num)
            && lo > hi
        {
            return Err(invalid(field("min_num")));
        }
        if p.min_size.is_some_and(|s| s < 0) || p.max_size.is_some_and(|s| s < 0) {
            return Err(invalid(field("min_size")));
        }
        if let (Some(lo), Some(hi)) = (p.min_size, p.max_size)
            && lo > hi
        {
            return Err(invalid(field("min_size")));
        }
        if let Some(default) = &p.default_value {
            check_default(p, default).map_err(|_| invalid(field("default_value")))?;
        }
    }
    Ok(())
}

/// A default value must itself pass the parameter's type and, when validation is on, its
/// enumeration and range, or the gateway would reject requests that omit the parameter.
fn check_default(p: &ReqParam, default: &str) -> Result<(), ()> {
    let number = default.parse::<f64>();
    if p.param_type == ParamType::Number && number.is_err() {
        return Err(());
    }
    if p.valid_enable != 1 {
        return Ok(());
    }
    if let Some(list) = &p.enumerations
        && !list.split(',').any(|v| v.trim() == default)
    {
        return Err(());
    }
    match p.param_type {
        ParamType::Number => {
            let n = number.map_err(|_| ())?;
            let below = p.min_num.is_some_and(|lo| n < lo as f64);
            let above = p.max_num.is_some_and(|hi| n > hi as f64);
            if below || above { Err(()) } else { Ok(()) }
        }
        ParamType::String => {
            let len = default.chars().count() as i64;
            let short = p.min_size.is_some_and(|lo| len < lo);
            let long = p.max_size.is_some_and(|hi| len > hi);
            if short || long { Err(()) } else { Ok(()) }
        }
    }
}

fn check_backend(api: &ApiDefinition) -> Rule {
    match api.backend_type {
        BackendType::Http | BackendType::Grpc => {
            let b = api.backend_api.as_ref().ok_or_else(|| invalid("backend_api"))?;
            let grpc = matches!(b.req_protocol, BackendProtocol::Grpc | BackendProtocol::Grpcs);
            if grpc != (api.backend_type == BackendType::Grpc) {
                return Err(invalid("backend_api.req_protocol"));
            }
            check_vpc(
                "backend_api.",
                b.vpc_channel_status,
                b.url_domain.as_ref(),
                b.vpc_channel_info.as_ref(),
                &b.member_group_url_infos,
            )?;
            if !is_path(&b.req_uri) {
                return Err(invalid("backend_api.req_uri"));
            }
            check_backend_path("backend_api.req_uri", &b.req_uri, &api.backend_params)?;
            check_timeout("backend_api.timeout", Some(b.timeout), 600_000)?;
            check_retry("backend_api.retry_count", &b.retry_count)?;
            max_len("backend_api.remark", b.remark.as_ref(), 255)?;
            max_len("backend_api.version", b.version.as_ref(), 16)
        }
        BackendType::Function => {
            let f = api.func_info.as_ref().ok_or_else(|| invalid("func_info"))?;
            let max = if f.network_type == NetworkType::V1 { 60_000 } else { 600_000 };
            check_timeout("func_info.timeout", Some(f.timeout), max)?;
            max_len("func_info.function_urn", Some(&f.function_urn), 255)?;
            max_len("func_info.version", f.version.as_ref(), 64)?;
            max_len("func_info.remark", f.remark.as_ref(), 255)
        }
        BackendType::Mock => {
            let m = api.mock_info.as_ref().ok_or_else(|| invalid("mock_info"))?;
            max_len("mock_info.remark", m.remark.as_ref(), 255)?;
            max_len("mock_info.version", m.version.as_ref(), 64)
        }
    }
}

impl ApiDefinition {
    /// Parses and validates a `CreateApiV2`/`UpdateApiV2` body: required fields first
    /// (`APIG.2001`), then types and enums, then every value and cross-field rule (`APIG.2011`).
    /// Server-assigned fields in the body are ignored; call [`ApiDefinition::prepare`] next.
    pub fn from_json(body: &[u8]) -> Result<ApiDefinition, FieldError> {
        let value = parse_json(body)?;
        Self::from_value(value)
    }

    /// As [`ApiDefinition::from_json`], from an already parsed document.
    pub fn from_value(value: serde_json::Value) -> Result<ApiDefinition, FieldError> {
        check_required(&value)?;
        let mut def: ApiDefinition = from_value(&value).map_err(|e| name_policy_field(e, &value))?;
        validate_api(&def)?;
        def.drop_unused_backends();
        Ok(def)
    }
}

/// serde loses the path of an error inside a flattened struct, so an invalid `effect_mode`
/// reports only `policy_https[0]`; parsing that policy's common part alone finds the field.
fn name_policy_field(error: FieldError, doc: &serde_json::Value) -> FieldError {
    let FieldError::Invalid(path) = &error else { return error };
    let Some((list, index)) = path.strip_suffix(']').and_then(|p| p.split_once('[')) else { return error };
    if !["policy_https", "policy_functions", "policy_mocks"].contains(&list) {
        return error;
    }
    let element = index.parse::<usize>().ok().and_then(|i| doc.get(list)?.get(i));
    match element.map(from_value::<PolicyCommon>) {
        Some(Err(FieldError::Invalid(inner))) => FieldError::Invalid(format!("{path}.{inner}")),
        _ => error,
    }
}
