//! Management-API metrics, recorded through the `metrics` facade (the binary installs the
//! Prometheus recorder and serves `/metrics`):
//!
//! - `portico_management_requests_total{method, route, status}`: requests answered;
//! - `portico_management_request_duration_seconds{method, route}`: latency histogram;
//! - `portico_store_errors_total{kind}`: store failures that answered `APIG.9999`, or
//!   `APIG.9998` (`kind="unavailable"`: the database did not answer).
//!
//! `route` is the matched route template (`/v2/{project_id}/apigw/instances/{instance_id}/apis`),
//! never the concrete path, and `method` is one of HTTP's nine methods or `other`, so clients
//! cannot grow the label set; unmatched requests are `unmatched`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

const REQUESTS: &str = "portico_management_requests_total";
const DURATION: &str = "portico_management_request_duration_seconds";
const STORE_ERRORS: &str = "portico_store_errors_total";

/// Middleware: counts and times every request by its route template.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    let status = response.status().as_str().to_owned();
    metrics::counter!(REQUESTS, "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// `method` if it is one of HTTP's methods (RFC 9110 and PATCH), else `other`: any token is a
/// valid method, and each label value would be a series kept for the life of the process.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Counts a store failure that the client sees as an internal error or a 503.
pub fn store_error(kind: &'static str) {
    metrics::counter!(STORE_ERRORS, "kind" => kind).increment(1);
}
