//! Per-API metrics, rendered for Prometheus by [`render`]:
//!
//! - `portico_gateway_requests_total{api_id, env, status}`: requests answered;
//! - `portico_gateway_request_duration_seconds{api_id, env}`: latency histogram (from arrival to
//!   response headers).
//!
//! Every label comes from a bounded set, so clients cannot grow the series: a routed request is
//! labelled with its live API and that API's environment; one that matches no API carries
//! `api_id=""` and `env="unmatched"`, whatever `X-Stage` it sent; `status` is one of the 900
//! codes HTTP allows. The label strings are shared, not built per request: `api_id` and `env`
//! are the route entry's own `Arc<str>`s, statuses come from a table made once. The recorder is
//! process-wide: the first call to [`install`] sets it up, later calls return the same handle.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::StatusCode;
use metrics::{Label, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::entry::RouteEntry;

const REQUESTS: &str = "portico_gateway_requests_total";
const DURATION: &str = "portico_gateway_request_duration_seconds";
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often recorded histogram samples are folded into their buckets. The recorder queues
/// every sample until an upkeep; without one between scrapes (or with no scraper at all) the
/// queue grew by every request: +120 MB in a 10-minute soak at 11,800 requests/s
/// (RELIABILITY.md, "Soak").
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder for the process (once); `None` when another recorder was
/// installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                // The management API's latency histogram shares the buckets.
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), &BUCKETS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
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
            Some(handle)
        })
        .clone()
}

/// The metrics in Prometheus' text format.
pub fn render(handle: &PrometheusHandle) -> String {
    handle.run_upkeep();
    handle.render()
}

/// The `env` label of a request that matched no API.
pub const UNMATCHED: &str = "unmatched";

/// Records one answered request; `route` is the API it matched, if any.
pub(crate) fn record(route: Option<&RouteEntry>, status: StatusCode, latency: Duration) {
    let (api_id, env) = match route {
        Some(entry) => (SharedString::from(entry.api_id.clone()), SharedString::from(entry.env_name.clone())),
        None => (SharedString::const_str(""), SharedString::const_str(UNMATCHED)),
    };
    let api_id = Label::new("api_id", api_id);
    let env = Label::new("env", env);
    let status = Label::new("status", status_label(status));
    metrics::counter!(REQUESTS, vec![api_id.clone(), env.clone(), status]).increment(1);
    metrics::histogram!(DURATION, vec![api_id, env]).record(latency.as_secs_f64());
}

/// `status` as a label value, from a table of every code `StatusCode` can hold (100 to 999).
fn status_label(status: StatusCode) -> SharedString {
    static CODES: OnceLock<Box<[Arc<str>]>> = OnceLock::new();
    let codes = CODES.get_or_init(|| (100..1000u16).map(|code| Arc::from(code.to_string())).collect());
    // `StatusCode` only holds 100 to 999: the index is in the table.
    SharedString::from(codes[usize::from(status.as_u16() - 100)].clone())
}
