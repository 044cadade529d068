//! Clients cannot grow the metrics. A binary of its own because the metrics
//! recorder is process-wide: here no other test adds series while the series are counted.
//!
//! Both listeners as `portico serve` runs them: the gateway, and the management API whose
//! `/metrics` renders the series of both.

use std::sync::Arc;
use std::time::Duration;

use portico_api::{AppState, FirstStart};
use portico_auth::token::TokenKey;
use portico_gateway::{Authenticator, Gateway, GatewayConfig};
use portico_model::new_id;
use portico_store::Store;
use reqwest::Method;

/// A method no client sends on purpose: a valid token, new each call.
fn random_method() -> Method {
    Method::from_bytes(format!("M{}", &new_id()[..10]).to_uppercase().as_bytes()).expect("a token is a method")
}

/// The series in a Prometheus text exposition: every line that is not a comment.
fn series(text: &str) -> usize {
    text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).count()
}

#[tokio::test]
async fn random_stages_and_methods_add_no_series() {
    let handle = portico_gateway::metrics::install().expect("the only recorder of this test binary");
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let store: Arc<dyn Store> = portico_store::testing::fresh_store(data_dir.path()).await.expect("open the store");
    assert!(store.bootstrap(&FirstStart::generate().bootstrap).await.expect("bootstrap"));

    let table = portico_gateway::load_routes(store.as_ref()).await.expect("load routes");
    let authenticator = Authenticator::new(Arc::new(TokenKey::generate()));
    let gateway =
        Arc::new(Gateway::new(table, store.clone(), authenticator, GatewayConfig::default()).expect("gateway"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gateway_url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(portico_gateway::serve(
        listener,
        gateway,
        None,
        Default::default(),
        Default::default(),
        std::future::pending(),
    ));

    let state = AppState::load(store.clone(), time::Duration::hours(1), "apig.test".into())
        .await
        .expect("state")
        .with_metrics(Arc::new(move || portico_gateway::metrics::render(&handle)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let management_url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(portico_api::serve(listener, state, std::future::pending()));

    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().expect("client");
    let requests = |_| {
        let http = &http;
        let (gateway_url, management_url) = (&gateway_url, &management_url);
        async move {
            let stage = new_id();
            let gateway = http
                .request(random_method(), format!("{gateway_url}/{}", new_id()))
                .header("x-stage", &stage)
                .send()
                .await
                .expect("the gateway answers");
            assert_eq!(gateway.status(), 404);
            for path in ["/health".to_string(), format!("/{}", new_id())] {
                let management =
                    http.request(random_method(), format!("{management_url}{path}")).send().await.expect("answered");
                assert!(management.status().is_client_error(), "{path}: {}", management.status());
            }
        }
    };
    let scrape = || async {
        let response = http.get(format!("{management_url}/metrics")).send().await.expect("metrics");
        response.text().await.expect("metrics text")
    };
    // Every kind of request once, the scrape included, so that each series exists.
    requests(0).await;
    scrape().await;
    let before = scrape().await;

    for i in 0..1000 {
        requests(i).await;
    }

    let after = scrape().await;
    assert_eq!(series(&after), series(&before), "before:\n{before}\nafter:\n{after}");
    assert!(after.contains(r#"env="unmatched""#), "{after}");
    assert!(after.contains(r#"method="other""#), "{after}");
}
