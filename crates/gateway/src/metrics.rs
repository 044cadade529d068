//! Per-API metrics, rendered for Prometheus by [`render`]:
//!
//! - `portico_gateway_requests_total{api_id, env, status}`: requests answered;
//! - `portico_gateway_request_duration_seconds{api_id, env}`: latency histogram (from arrival to
//!   response headers).
//!
//! Requests that match no API carry `api_id=""`. The recorder is process-wide: the first call to
//! [`install`] sets it up, later calls return the same handle.

use std::sync::OnceLock;
use std::time::Duration;

use http::StatusCode;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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

pub(crate) fn record(api_id: &str, env: &str, status: StatusCode, latency: Duration) {
    let (api_id, env) = (api_id.to_string(), env.to_string());
    metrics::counter!(REQUESTS, "api_id" => api_id.clone(), "env" => env.clone(), "status" => status.as_str().to_string())
        .increment(1);
    metrics::histogram!(DURATION, "api_id" => api_id, "env" => env).record(latency.as_secs_f64());
}
