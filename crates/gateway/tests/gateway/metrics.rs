//! Metrics: per-API requests and latency (split into upstream and Portico's own time), body
//! bytes, rejections by reason, VPC channel health, build and process metrics, and the Grafana
//! dashboard in `deploy/grafana/portico.json`, whose every query must name metrics that
//! `/metrics` serves. The recorder is process-wide: tests tell their series apart by API id.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use portico_api::AppState;
use portico_gateway::GatewayConfig;
use portico_model::{ApiGroup, new_id};
use portico_store::PolicyKind;
use promql_parser::parser::Expr;
use promql_parser::util::{ExprVisitor, walk_expr};
use serde_json::{Value, json};

use crate::channels::{channel, channel_api};
use crate::helpers::{TestGateway, closed_port, http_api, spawn_backend, spawn_gateway, spawn_gateway_config};
use crate::policies::{acl, bind, published, throttle};

const DASHBOARD: &str = include_str!("../../../../deploy/grafana/portico.json");
const DOCUMENTED: &str = include_str!("../../../../docs/metrics.md");
/// The largest request body of the gateway [`Traffic`] runs on.
const MAX_BODY: usize = 16;
const MOCK_ANSWER: &str = "a mock answer";

fn recorder() -> PrometheusHandle {
    portico_gateway::metrics::install().expect("the only recorder of this test binary")
}

/// The value of the sample of `name` whose labels include `labels`, if any.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
        let matches =
            series_name == name && labels.iter().all(|(k, v)| series_labels.contains(&format!("{k}=\"{v}\"")));
        if matches { value.parse().ok() } else { None }
    })
}

/// The names of the series that have a sample in a Prometheus text exposition.
fn sampled_names(text: &str) -> BTreeSet<&str> {
    text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect()
}

/// A gateway with one API per kind of answer, and the calls that get each answer.
struct Traffic {
    gw: TestGateway,
    group: ApiGroup,
    /// kind → API id.
    apis: HashMap<&'static str, String>,
}

impl Traffic {
    async fn new() -> Traffic {
        let gw = spawn_gateway_config(GatewayConfig { max_body_bytes: MAX_BODY, ..GatewayConfig::default() }).await;
        let backend = spawn_backend("b").await.to_string();
        let group = gw.group().await;
        let mut apis = HashMap::new();
        let (ok, _) = published(&gw, &group, http_api("/ok", &backend, "/")).await;
        apis.insert("ok", ok);
        let mock = json!({ "req_method": "GET", "req_uri": "/mock", "backend_type": "MOCK",
                           "mock_info": { "result_content": MOCK_ANSWER } });
        apis.insert("mock", published(&gw, &group, mock).await.0);
        let mut iam = http_api("/iam", &backend, "/");
        iam["auth_type"] = json!("IAM");
        apis.insert("iam", published(&gw, &group, iam).await.0);
        let mut param = http_api("/param", &backend, "/");
        param["req_params"] = json!([{ "name": "q", "type": "STRING", "location": "QUERY", "required": 1 }]);
        apis.insert("param", published(&gw, &group, param).await.0);
        let (throttled, throttled_publish) = published(&gw, &group, http_api("/throttled", &backend, "/")).await;
        let policy = throttle(1, 0, 0, 1, 1, "HOUR");
        gw.store.create_throttle(&gw.instance_id, &policy).await.expect("create throttle");
        bind(&gw, PolicyKind::Throttle, &policy.id, &[&throttled_publish]).await;
        apis.insert("throttled", throttled);
        let (denied, denied_publish) = published(&gw, &group, http_api("/denied", &backend, "/")).await;
        let deny = acl("DENY", "IP", "127.0.0.1");
        gw.store.create_acl(&gw.instance_id, &deny).await.expect("create ACL");
        bind(&gw, PolicyKind::Acl, &deny.id, &[&denied_publish]).await;
        apis.insert("denied", denied);
        let down = http_api("/down", &closed_port().await.to_string(), "/");
        apis.insert("down", published(&gw, &group, down).await.0);
        let mut slow = http_api("/slow", &backend, "/slow");
        slow["backend_api"]["timeout"] = json!(100);
        slow["backend_api"]["retry_count"] = json!("0");
        apis.insert("slow", published(&gw, &group, slow).await.0);
        Traffic { gw, group, apis }
    }

    /// Every kind of answer once: a success with a body, a mock answer, an authentication
    /// failure, a bad parameter, a throttle, an ACL refusal, no route, a backend error, a
    /// timeout, a body too large.
    async fn send(&self) {
        let (gw, host) = (&self.gw, self.group.sl_domain.as_str());
        let get = reqwest::Method::GET;
        assert_eq!(gw.call(get.clone(), host, "/ok", &[], "hello").await.status, 200);
        assert_eq!(gw.get(host, "/mock", &[]).await.body, MOCK_ANSWER);
        gw.get(host, "/iam", &[]).await.assert_error(401, "APIG.0301");
        gw.get(host, "/param", &[]).await.assert_error(400, "APIG.0102");
        assert_eq!(gw.get(host, "/throttled", &[]).await.status, 200);
        gw.get(host, "/throttled", &[]).await.assert_error(429, "APIG.0308");
        gw.get(host, "/denied", &[]).await.assert_error(403, "APIG.0306");
        gw.get(host, &format!("/{}", new_id()), &[]).await.assert_error(404, "APIG.0101");
        gw.get(host, "/down", &[]).await.assert_error(502, "APIG.0201");
        gw.get(host, "/slow", &[]).await.assert_error(504, "APIG.0202");
        let too_large = "x".repeat(MAX_BODY + 1);
        gw.call(get, host, "/ok", &[], &too_large).await.assert_error(413, "APIG.0104");
    }

    fn api(&self, kind: &str) -> &str {
        &self.apis[kind]
    }
}

#[tokio::test]
async fn metrics_count_requests_per_api() {
    let handle = recorder();
    let gw = spawn_gateway().await;
    let group = gw.group().await;
    let id = gw
        .live_api(
            &group,
            json!({ "req_method": "GET", "req_uri": "/m", "backend_type": "MOCK",
                                  "mock_info": { "result_content": "ok" } }),
        )
        .await;
    for _ in 0..3 {
        assert_eq!(gw.get(&group.sl_domain, "/m", &[]).await.status, 200);
    }
    let text = portico_gateway::metrics::render(&handle);
    let line = text
        .lines()
        .find(|l| l.starts_with("portico_gateway_requests_total") && l.contains(&id))
        .unwrap_or_else(|| panic!("no request counter for {id} in:\n{text}"));
    assert!(line.contains("status=\"200\"") && line.contains("env=\"RELEASE\""), "{line}");
    assert!(line.ends_with(" 3"), "{line}");
    assert!(
        text.lines().any(|l| l.starts_with("portico_gateway_request_duration_seconds_bucket") && l.contains(&id)),
        "a latency histogram for {id}:\n{text}"
    );
}

#[tokio::test]
async fn each_rejection_is_counted_by_its_reason() {
    let handle = recorder();
    let traffic = Traffic::new().await;
    let unmatched = [("env", "unmatched"), ("reason", "no_route")];
    let before = portico_gateway::metrics::render(&handle);
    traffic.send().await;
    let text = portico_gateway::metrics::render(&handle);

    let rejections = "portico_gateway_rejections_total";
    for (kind, reason) in [
        ("iam", "authentication"),
        ("param", "invalid_parameter"),
        ("throttled", "throttling"),
        ("denied", "acl"),
        ("down", "backend_error"),
        ("slow", "timeout"),
        ("ok", "body_too_large"),
    ] {
        let labels = [("api_id", traffic.api(kind)), ("env", "RELEASE"), ("reason", reason)];
        assert_eq!(sample(&text, rejections, &labels), Some(1.0), "{kind}: {reason} once in\n{text}");
    }
    assert_eq!(sample(&text, rejections, &[("api_id", traffic.api("mock"))]), None, "a success is no rejection");
    // Other tests of this binary miss routes too: this one's miss is at least one more.
    let missed = |text: &str| sample(text, rejections, &unmatched).unwrap_or(0.0);
    assert!(missed(&text) > missed(&before), "no_route counted in\n{text}");
}

#[tokio::test]
async fn latency_splits_into_upstream_and_portico_and_bodies_are_counted() {
    let handle = recorder();
    let traffic = Traffic::new().await;
    traffic.send().await;
    let text = portico_gateway::metrics::render(&handle);
    let of = |kind: &str| [("api_id", traffic.api(kind)), ("env", "RELEASE")];

    let upstream = "portico_gateway_upstream_duration_seconds";
    let overhead = "portico_gateway_overhead_duration_seconds";
    assert_eq!(
        sample(&text, &format!("{upstream}_count"), &of("ok")),
        Some(1.0),
        "one of its two calls reached the backend"
    );
    assert_eq!(sample(&text, &format!("{overhead}_count"), &of("ok")), Some(2.0), "both calls took Portico's time");
    // The backend's 100 ms timeout ran out while the gateway waited on it.
    let waited = sample(&text, &format!("{upstream}_sum"), &of("slow")).expect("upstream time of the timeout");
    assert!(waited >= 0.1, "{waited}");
    assert_eq!(sample(&text, &format!("{upstream}_count"), &of("mock")), None, "a mock calls no backend");
    assert_eq!(sample(&text, &format!("{overhead}_count"), &of("mock")), Some(1.0));

    // The body of 17 bytes was refused by its announced length, before a byte of it was read.
    assert_eq!(sample(&text, "portico_gateway_request_bytes_total", &of("ok")), Some(5.0), "{text}");
    let sent = sample(&text, "portico_gateway_response_bytes_total", &of("mock"));
    assert_eq!(sent, Some(MOCK_ANSWER.len() as f64), "{text}");
}

#[tokio::test]
async fn channel_members_are_counted_by_health() {
    let handle = recorder();
    let gw = spawn_gateway().await;
    let (live, down) = (spawn_backend("live").await, closed_port().await);
    let id = channel(&gw, 1, &[(live, 1, false), (down, 1, false)], true).await;
    channel_api(&gw, "/members", &id).await;
    let counted = |text: &str| {
        let count = |state| sample(text, "portico_gateway_channel_members", &[("channel_id", &id), ("state", state)]);
        (count("healthy"), count("unhealthy"))
    };
    // Each gateway of this test binary sets the gauges from its own channels (a process has one
    // gateway): the values of this one's show between its health-check rounds.
    for _ in 0..5000 {
        if counted(&portico_gateway::metrics::render(&handle)) == (Some(1.0), Some(1.0)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let text = portico_gateway::metrics::render(&handle);
    panic!("one healthy and one unhealthy member of {id} in\n{text}");
}

#[tokio::test]
async fn build_and_process_metrics_are_served() {
    let text = portico_gateway::metrics::render(&recorder());
    let build = [("version", env!("CARGO_PKG_VERSION")), ("os", std::env::consts::OS)];
    assert_eq!(sample(&text, "portico_build_info", &build), Some(1.0), "{text}");
    for name in ["process_resident_memory_bytes", "process_open_fds", "process_max_fds"] {
        assert!(sample(&text, name, &[]).is_some_and(|v| v > 0.0), "{name} in\n{text}");
    }
    // Whole seconds (`metrics-process` counts them so): 0 in a young test process.
    assert!(sample(&text, "process_cpu_seconds_total", &[]).is_some(), "{text}");
    let started = sample(&text, "process_start_time_seconds", &[]).expect("the start time");
    assert!(started > 1.7e9 && started <= time::OffsetDateTime::now_utc().unix_timestamp() as f64, "{started}");
}

/// Collects the metric names an expression selects.
#[derive(Default)]
struct MetricNames(BTreeSet<String>);

impl ExprVisitor for MetricNames {
    type Error = std::convert::Infallible;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, Self::Error> {
        let selector = match expr {
            Expr::VectorSelector(selector) => selector,
            Expr::MatrixSelector(matrix) => &matrix.vs,
            _ => return Ok(true),
        };
        self.0.extend(selector.name.clone());
        Ok(true)
    }
}

/// Every `expr` of a Grafana dashboard, wherever it is.
fn exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", Value::String(expr)) => out.push(expr.clone()),
                    _ => exprs(value, out),
                }
            }
        }
        Value::Array(values) => values.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

/// `expr` as Prometheus reads it once Grafana has put in its variables.
fn substituted(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m").replace("$env", ".*")
}

#[tokio::test]
async fn every_dashboard_query_names_served_metrics() {
    let handle = recorder();
    let traffic = Traffic::new().await;
    let gw = &traffic.gw;
    let id = channel(gw, 1, &[(spawn_backend("m").await, 1, false)], true).await;
    channel_api(gw, "/channel", &id).await;
    traffic.send().await;

    let state = AppState::load(gw.store.clone(), time::Duration::hours(1), "apig.test".into())
        .await
        .expect("state")
        .with_metrics(Arc::new(move || portico_gateway::metrics::render(&handle)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let management = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(portico_api::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::builder().no_proxy().build().expect("client");
    assert!(http.get(format!("{management}/health")).send().await.expect("health").status().is_success());
    let text = http.get(format!("{management}/metrics")).send().await.expect("metrics").text().await.expect("text");
    let served = sampled_names(&text);
    for name in &served {
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(DOCUMENTED.contains(&format!("| `{family}` |")), "{family} is not in docs/metrics.md");
    }

    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let mut queries = Vec::new();
    exprs(&dashboard, &mut queries);
    assert!(queries.len() >= 20, "{queries:?}");
    let mut used = BTreeSet::new();
    for query in &queries {
        let expr = promql_parser::parser::parse(&substituted(query)).unwrap_or_else(|e| panic!("{query}: {e}"));
        let mut names = MetricNames::default();
        walk_expr(&mut names, &expr).expect("infallible");
        assert!(!names.0.is_empty(), "{query} names no metric");
        for name in names.0 {
            assert!(served.contains(name.as_str()), "{query} uses {name}, which /metrics does not serve:\n{text}");
            used.insert(name);
        }
    }
    // What the dashboard is for: each family of alerting metrics has a panel.
    for family in [
        "portico_gateway_rejections_total",
        "portico_gateway_upstream_duration_seconds_bucket",
        "portico_gateway_overhead_duration_seconds_bucket",
        "portico_gateway_request_bytes_total",
        "portico_gateway_response_bytes_total",
        "portico_gateway_channel_members",
        "portico_build_info",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(used.contains(family), "no panel shows {family}");
    }
}
