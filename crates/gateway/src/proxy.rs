//! The upstream side: one pooled keep-alive HTTP(S) client (hyper-util's, rustls for HTTPS),
//! timeouts and retries.
//!
//! `retry_count` (a string "-1".."10" on the wire): `-1` (the default) retries idempotent
//! methods (GET, HEAD, OPTIONS, PUT, DELETE) once and never POST or PATCH; `0` never retries;
//! `n` ≥ 1 retries any method up to `n` times (the owner declared the backend safe to repeat).
//! A retry happens when no response arrived: connection failure, reset, or timeout. A
//! response, whatever its status, is passed to the client as it is.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use portico_model::{BackendProtocol, Method};

use crate::backend::{HOP_BY_HOP, HttpTarget, Outgoing};
use crate::body::{RequestBody, TooLarge, UpstreamBody, whole};
use crate::context::Body;
use crate::error::GatewayError;

/// Idle keep-alive connections kept per backend host.
const MAX_IDLE_PER_HOST: usize = 256;

/// The pooled client towards backends (HTTP, and HTTPS with rustls).
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, UpstreamBody>,
}

impl Upstream {
    /// A client with keep-alive pooling; HTTPS backends are checked with `tls`.
    pub fn new(tls: rustls::ClientConfig) -> Upstream {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector =
            HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .build(connector);
        Upstream { client }
    }

    /// Sends `outgoing` with `body`, retrying as `target.retry_count` allows (a streamed body
    /// can be sent once only).
    pub async fn send(
        &self,
        outgoing: Outgoing,
        body: &mut RequestBody,
        target: &HttpTarget,
    ) -> Result<Response<Body>, GatewayError> {
        let retries = if body.is_stream() { 0 } else { retry_budget(&outgoing.method, target.retry_count) };
        let mut attempt = 0;
        loop {
            let Some(body) = body.attempt() else { return Err(GatewayError::Internal) };
            let error = match self.send_once(&outgoing, body, target.timeout_ms).await {
                Ok(response) => return Ok(response),
                Err(e) => e,
            };
            if attempt >= retries {
                return Err(error);
            }
            attempt += 1;
            tracing::debug!(attempt, error = %error, "retrying the backend");
        }
    }

    /// One attempt: the response, or why none arrived within `timeout_ms`.
    pub async fn send_once(
        &self,
        outgoing: &Outgoing,
        body: UpstreamBody,
        timeout_ms: u64,
    ) -> Result<Response<Body>, GatewayError> {
        let uri: Uri = format!("{}://{}{}", outgoing.scheme, outgoing.authority, outgoing.path_and_query)
            .parse()
            .map_err(|_| GatewayError::BackendConfig("invalid backend URL".into()))?;
        let mut request = Request::new(body);
        *request.method_mut() = outgoing.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = outgoing.headers.clone();
        match tokio::time::timeout(Duration::from_millis(timeout_ms), self.client.request(request)).await {
            Ok(Ok(mut response)) => {
                for name in HOP_BY_HOP {
                    response.headers_mut().remove(name);
                }
                Ok(response.map(|b| b.boxed()))
            }
            Ok(Err(e)) => match too_large(&e) {
                Some(limit) => Err(GatewayError::BodyTooLarge(limit)),
                None => Err(GatewayError::BackendUnavailable(describe(&e))),
            },
            Err(_) => Err(GatewayError::BackendTimeout(timeout_ms)),
        }
    }

    /// `POST`s `event` (JSON) to the function endpoint `url` and returns the answer's body; any
    /// failure, or a status other than 2xx, is an `AuthorizerFailed`.
    pub async fn call_function(&self, url: &str, event: String, timeout_ms: u64) -> Result<Bytes, GatewayError> {
        let failed = |why: String| GatewayError::AuthorizerFailed(why);
        let uri: Uri = url.parse().map_err(|_| GatewayError::AuthorizerConfig(format!("invalid endpoint {url:?}")))?;
        let mut request = Request::new(whole(Bytes::from(event)));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        request.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        let response = tokio::time::timeout(Duration::from_millis(timeout_ms), async {
            let response = self.client.request(request).await.map_err(|e| failed(describe(&e)))?;
            let status = response.status();
            let body = response.into_body().collect().await.map_err(|e| failed(e.to_string()))?.to_bytes();
            Ok::<_, GatewayError>((status, body))
        })
        .await
        .map_err(|_| failed(format!("no answer within {timeout_ms} ms")))??;
        if !response.0.is_success() {
            return Err(failed(format!("the function answered {}", response.0)));
        }
        Ok(response.1)
    }

    /// A health check of `address`: whether `method scheme://address path` answers one of
    /// `codes` (the caller bounds the time).
    pub async fn probe(&self, scheme: &str, address: &str, method: &str, path: &str, codes: &[(u16, u16)]) -> bool {
        let Ok(uri) = format!("{scheme}://{address}{path}").parse::<Uri>() else { return false };
        let Ok(method) = http::Method::from_bytes(method.as_bytes()) else { return false };
        let mut request = Request::new(whole(Bytes::new()));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        match self.client.request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                codes.iter().any(|(low, high)| (*low..=*high).contains(&status))
            }
            Err(_) => false,
        }
    }
}

/// The limit a streamed request body went over, when that is why the backend request failed.
fn too_large(error: &(dyn std::error::Error + 'static)) -> Option<usize> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(TooLarge(limit)) = e.downcast_ref::<TooLarge>() {
            return Some(*limit);
        }
        cause = e.source();
    }
    None
}

/// How many times a request may be sent again after no response arrived (see the module
/// header for `retry_count`).
pub fn retry_budget(method: &http::Method, retry_count: i32) -> u32 {
    let idempotent = matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS | http::Method::PUT | http::Method::DELETE
    );
    match retry_count {
        -1 if idempotent => 1,
        n if n > 0 => n as u32,
        _ => 0,
    }
}

fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The HTTP target standing for a function: `POST` to the configured endpoint URL.
pub fn function_target(url: &str, timeout_ms: u64) -> Result<HttpTarget, GatewayError> {
    let uri: Uri =
        url.parse().map_err(|_| GatewayError::BackendConfig(format!("invalid function endpoint {url:?}")))?;
    let protocol = match uri.scheme_str() {
        Some("http") => BackendProtocol::Http,
        Some("https") => BackendProtocol::Https,
        _ => return Err(GatewayError::BackendConfig(format!("invalid function endpoint {url:?}"))),
    };
    let authority =
        uri.authority().ok_or_else(|| GatewayError::BackendConfig(format!("invalid function endpoint {url:?}")))?;
    Ok(HttpTarget {
        protocol,
        url_domain: Some(authority.to_string()),
        method: Method::Post,
        req_uri: uri.path().to_string(),
        timeout_ms,
        retry_count: 0,
        vpc_channel_status: 2,
        vpc_channel: None,
        member_groups: Vec::new(),
    })
}
