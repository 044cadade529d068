//! The process's metrics, rendered for Prometheus by [`render`] (every series is listed, with
//! its type and labels, in `docs/metrics.md`):
//!
//! - per request: `portico_gateway_requests_total{api_id, env, status}`, the latency
//!   `portico_gateway_request_duration_seconds{api_id, env}` (arrival to response headers) split
//!   into `portico_gateway_upstream_duration_seconds` (waiting on the backend, retries included)
//!   and `portico_gateway_overhead_duration_seconds` (the rest: Portico's own time), the body
//!   bytes `portico_gateway_request_bytes_total` and `portico_gateway_response_bytes_total`, and
//!   `portico_gateway_rejections_total{api_id, env, reason}` when the gateway answered instead of
//!   the backend ([`GatewayError::reason`]);
//! - `portico_gateway_channel_members{channel_id, state}`: VPC channel members by health;
//! - `portico_build_info{version, os, arch} 1`, and the process: CPU seconds, memory, open file
//!   descriptors, start time (`process_*`, by the `metrics-process` crate).
//!
//! Every label comes from a bounded set, so clients cannot grow the series: a routed request is
//! labelled with its live API and that API's environment; one that matches no API carries
//! `api_id=""` and `env="unmatched"`, whatever `X-Stage` it sent; `status` is one of the 900
//! codes HTTP allows, `reason` one of [`GatewayError::reason`]'s; channels are capped (see
//! [`channel_health`]). The label strings are shared, not built per request: `api_id` and `env`
//! are the route entry's own `Arc<str>`s, statuses come from a table made once. The recorder is
//! process-wide: the first call to [`install`] sets it up, later calls return the same handle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use http::StatusCode;
use metrics::{Counter, Label, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_process::Collector;

use crate::entry::RouteEntry;
use crate::error::GatewayError;

const REQUESTS: &str = "portico_gateway_requests_total";
const DURATION: &str = "portico_gateway_request_duration_seconds";
const UPSTREAM_DURATION: &str = "portico_gateway_upstream_duration_seconds";
const OVERHEAD_DURATION: &str = "portico_gateway_overhead_duration_seconds";
const REQUEST_BYTES: &str = "portico_gateway_request_bytes_total";
const RESPONSE_BYTES: &str = "portico_gateway_response_bytes_total";
const REJECTIONS: &str = "portico_gateway_rejections_total";
const CHANNEL_MEMBERS: &str = "portico_gateway_channel_members";
const BUILD_INFO: &str = "portico_build_info";
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The channels that get series of their own; the members of any other channel are counted
/// under [`OTHER_CHANNELS`]. A gauge per channel, or per member, would be a series for every
/// channel a client creates; this keeps at most `2 × (64 + 1)` of them.
pub const MAX_CHANNEL_SERIES: usize = 64;
/// The `channel_id` of the channels past [`MAX_CHANNEL_SERIES`].
pub const OTHER_CHANNELS: &str = "_other";

struct Recorder {
    handle: PrometheusHandle,
    process: Collector,
}

static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();

/// How often recorded histogram samples are folded into their buckets. The recorder queues
/// every sample until an upkeep; without one between scrapes (or with no scraper at all) the
/// queue grew by every request: +120 MB in a 10-minute soak at 11,800 requests/s
/// (RELIABILITY.md, "Soak").
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder for the process (once); `None` when another recorder was
/// installed first.
pub fn install() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                // The management API's latency histogram shares the buckets.
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), &BUCKETS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            let process = Collector::default();
            process.describe();
            describe();
            metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "os" => std::env::consts::OS,
                "arch" => std::env::consts::ARCH)
            .set(1.0);
            // Until the first health check round: a dashboard shows zero members, not no data.
            channel_health(std::iter::empty());
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the metrics upkeep: histograms grow until each scrape");
            }
            Some(Recorder { handle, process })
        })
        .as_ref()
        .map(|recorder| recorder.handle.clone())
}

/// The `# HELP` lines of the gateway's metrics.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(REQUESTS, "Requests the gateway answered.");
    describe_histogram!(DURATION, Unit::Seconds, "From a request's arrival to its response headers.");
    describe_histogram!(UPSTREAM_DURATION, Unit::Seconds, "Time waiting on the backend, retries included.");
    describe_histogram!(OVERHEAD_DURATION, Unit::Seconds, "Portico's own time: request duration minus upstream.");
    describe_counter!(REQUEST_BYTES, Unit::Bytes, "Request body bytes read from clients.");
    describe_counter!(RESPONSE_BYTES, Unit::Bytes, "Response body bytes sent to clients.");
    describe_counter!(REJECTIONS, "Requests the gateway answered itself instead of the backend, by reason.");
    describe_gauge!(
        CHANNEL_MEMBERS,
        "VPC channel members by health (channels past the first 64: channel_id=\"_other\")."
    );
    describe_gauge!(BUILD_INFO, "Always 1: the version and platform of the binary.");
}

/// The metrics in Prometheus' text format, the process's read at this moment.
pub fn render(handle: &PrometheusHandle) -> String {
    if let Some(Some(recorder)) = RECORDER.get() {
        recorder.process.collect();
    }
    handle.run_upkeep();
    handle.render()
}

/// The `env` label of a request that matched no API.
pub const UNMATCHED: &str = "unmatched";

/// The `api_id` and `env` labels of a request that matched `route`, if any.
fn route_labels(route: Option<&RouteEntry>) -> [Label; 2] {
    let (api_id, env) = match route {
        Some(entry) => (SharedString::from(entry.api_id.clone()), SharedString::from(entry.env_name.clone())),
        None => (SharedString::const_str(""), SharedString::const_str(UNMATCHED)),
    };
    [Label::new("api_id", api_id), Label::new("env", env)]
}

/// How one request went, as the logging phase records it.
pub(crate) struct Outcome<'a> {
    /// The API it matched, if any.
    pub route: Option<&'a RouteEntry>,
    /// The response status.
    pub status: StatusCode,
    /// From arrival to response headers.
    pub latency: Duration,
    /// The part of `latency` spent waiting on the backend; `None` when none was called.
    pub upstream: Option<Duration>,
    /// Why the gateway answered instead of the backend.
    pub rejection: Option<&'a GatewayError>,
}

/// Records one answered request.
pub(crate) fn record(outcome: &Outcome<'_>) {
    let labels = route_labels(outcome.route);
    let status = Label::new("status", status_label(outcome.status));
    metrics::counter!(REQUESTS, [labels[0].clone(), labels[1].clone(), status].to_vec()).increment(1);
    metrics::histogram!(DURATION, labels.to_vec()).record(outcome.latency.as_secs_f64());
    let upstream = outcome.upstream.unwrap_or_default();
    if outcome.upstream.is_some() {
        metrics::histogram!(UPSTREAM_DURATION, labels.to_vec()).record(upstream.as_secs_f64());
    }
    metrics::histogram!(OVERHEAD_DURATION, labels.to_vec())
        .record(outcome.latency.saturating_sub(upstream).as_secs_f64());
    if let Some(error) = outcome.rejection {
        let [api_id, env] = labels;
        let reason = Label::new("reason", SharedString::const_str(error.reason()));
        metrics::counter!(REJECTIONS, vec![api_id, env, reason]).increment(1);
    }
}

/// The counter of request body bytes read for a request that matched `route`.
pub(crate) fn request_bytes(route: Option<&RouteEntry>) -> Counter {
    metrics::counter!(REQUEST_BYTES, route_labels(route).to_vec())
}

/// The counter of response body bytes sent for a request that matched `route`.
pub(crate) fn response_bytes(route: Option<&RouteEntry>) -> Counter {
    metrics::counter!(RESPONSE_BYTES, route_labels(route).to_vec())
}

/// The members of one channel by health.
#[derive(Debug, Clone, Copy, Default)]
struct MemberHealth {
    /// Members that take requests.
    healthy: usize,
    /// Members their health check found down.
    unhealthy: usize,
}

/// Sets `portico_gateway_channel_members{channel_id, state}` from every channel of the table in
/// force: (id, healthy members, unhealthy members). The first [`MAX_CHANNEL_SERIES`] channel ids the process sees keep a series each for
/// its life (a channel deleted since reads 0); the members of later channels are summed under
/// `channel_id="_other"`.
pub fn channel_health<'a>(channels: impl IntoIterator<Item = (&'a str, usize, usize)>) {
    static NAMED: Mutex<Vec<Arc<str>>> = Mutex::new(Vec::new());
    let mut named = NAMED.lock().unwrap_or_else(PoisonError::into_inner);
    let mut counts: HashMap<Arc<str>, MemberHealth> =
        named.iter().map(|id| (id.clone(), MemberHealth::default())).collect();
    let mut other = MemberHealth::default();
    for (id, healthy, unhealthy) in channels {
        if !counts.contains_key(id) && named.len() < MAX_CHANNEL_SERIES {
            let id: Arc<str> = Arc::from(id);
            named.push(id.clone());
            counts.insert(id, MemberHealth::default());
        }
        let slot = counts.get_mut(id).unwrap_or(&mut other);
        slot.healthy += healthy;
        slot.unhealthy += unhealthy;
    }
    let other_id: Arc<str> = Arc::from(OTHER_CHANNELS);
    for (id, health) in counts.into_iter().chain([(other_id, other)]) {
        let id = SharedString::from(id);
        for (state, n) in [("healthy", health.healthy), ("unhealthy", health.unhealthy)] {
            metrics::gauge!(CHANNEL_MEMBERS, "channel_id" => id.clone(), "state" => state).set(n as f64);
        }
    }
}

/// `status` as a label value, from a table of every code `StatusCode` can hold (100 to 999).
fn status_label(status: StatusCode) -> SharedString {
    static CODES: OnceLock<Box<[Arc<str>]>> = OnceLock::new();
    let codes = CODES.get_or_init(|| (100..1000u16).map(|code| Arc::from(code.to_string())).collect());
    // `StatusCode` only holds 100 to 999: the index is in the table.
    SharedString::from(codes[usize::from(status.as_u16() - 100)].clone())
}
