//! Gateway responses: how the gateway's own errors look to the clients of a group. Each
//! [`GatewayError`] has a response type ([`GatewayError::response_type`]); when the API's
//! gateway response (its `response_id`, else its group's `default`; the group's `default` when
//! the request reached the group's domain but none of its APIs) customises that type, the
//! error is answered with that status, headers and body, else with `DEFAULT_4XX` /
//! `DEFAULT_5XX`'s body and headers when those are customised, else with the standard JSON
//! body ([`GatewayError::body`]).
//!
//! A body is a template: `$context.error.code`, `$context.error.message`,
//! `$context.error.type`, `$context.requestId`, `$context.apiId`, `$context.apiName`,
//! `$context.stage` and `$context.sourceIp` are replaced by their values, JSON-escaped (bodies
//! are JSON in practice, and the values may hold client input).

use http::{HeaderName, HeaderValue, Response, StatusCode};
use portico_model::{GatewayResponse, ResponseInfo};

use crate::context::{Body, Ctx, full};
use crate::error::GatewayError;

/// The answer to `error` for the request in `ctx`.
pub fn error_response(error: &GatewayError, ctx: &Ctx) -> Response<Body> {
    let (code, status) = error.code();
    let responses = match &ctx.route {
        Some(route) => route.api.bound.responses.as_deref(),
        None => ctx.group_responses.as_deref(),
    };
    let custom = responses.and_then(|r| customised(r, error));
    let Some((info, own_status)) = custom else {
        return json_response(status, error.body(&ctx.request_id));
    };
    let status = if own_status { StatusCode::from_u16(info.status).unwrap_or(status) } else { status };
    let body = render(&info.body, error, code, ctx);
    let mut response = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
        json_response(status, body)
    } else {
        let mut r = Response::new(full(body));
        *r.status_mut() = status;
        r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        r
    };
    for header in &info.headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(header.key.as_bytes()), HeaderValue::from_str(&header.value))
        {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The customised entry for `error`, and whether its own status applies (a `DEFAULT_*`
/// fallback keeps the error's status).
fn customised<'r>(responses: &'r GatewayResponse, error: &GatewayError) -> Option<(&'r ResponseInfo, bool)> {
    if let Some(info) = responses.responses.get(error.response_type()) {
        return Some((info, true));
    }
    let fallback = if error.code().1.is_server_error() { "DEFAULT_5XX" } else { "DEFAULT_4XX" };
    responses.responses.get(fallback).map(|info| (info, false))
}

fn render(template: &str, error: &GatewayError, code: &str, ctx: &Ctx) -> String {
    let api = ctx.route.as_ref().map(|r| &r.api);
    let escape = |v: &str| {
        let quoted = serde_json::Value::String(v.to_string()).to_string();
        quoted[1..quoted.len() - 1].to_string()
    };
    // Longest names first: `$context.error.message` before a shorter name it starts with.
    let values = [
        ("$context.error.message", error.to_string()),
        ("$context.error.code", code.to_string()),
        ("$context.error.type", error.response_type().to_string()),
        ("$context.requestId", ctx.request_id.clone()),
        ("$context.sourceIp", ctx.client.ip().to_string()),
        ("$context.apiName", api.map(|a| a.api.definition.name.clone()).unwrap_or_default()),
        ("$context.apiId", api.map(|a| a.api.id.clone()).unwrap_or_default()),
        ("$context.stage", ctx.stage.clone()),
    ];
    let mut out = template.to_string();
    for (name, value) in values {
        if out.contains(name) {
            out = out.replace(name, &escape(&value));
        }
    }
    out
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
