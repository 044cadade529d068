//! `GET /openapi.json`: the document is generated from the routes, and these tests hold the two
//! together: every path the router serves is described, every described operation is served,
//! and no method is served that the document does not name. A new route without its
//! `#[utoipa::path]` fails here with the route's name.

use std::collections::{BTreeMap, BTreeSet};

use portico_api::AppState;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Auth, spawn_app};

/// Served on the management listener but not part of the management API: the custom backend
/// runtime, which the gateway calls with a per-deployment key (`docs/livedata.md`).
const NOT_MANAGEMENT: &[&str] = &["/livedata-runtime/{instance_id}/{ld_api_id}"];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(app: &crate::helpers::TestApp) -> Value {
    let response = app.call(&Auth::Anonymous, Method::GET, "/openapi.json", None).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

/// The documented operations: path template → methods.
fn operations(document: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let paths = document["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .map(|(path, item)| {
            (path.clone(), METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| m.to_string()).collect())
        })
        .collect()
}

/// The path templates the router serves. axum has no public route listing; its `Debug` output
/// names every route as `RouteId(n): "/path"`, nested routers already flattened. If that format
/// ever changes the list comes back empty and the test says so rather than passing. The
/// `fallback_router` that follows holds axum's own catch-all routes, not ours.
fn served_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let routes = debug.split("fallback_router").next().unwrap_or_default();
    routes
        .split("RouteId(")
        .skip(1)
        .filter_map(|part| {
            let rest = part.split_once("): \"")?.1;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_document_is_served_without_credentials_with_unique_operation_ids() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let mut ids = BTreeSet::new();
    for (path, methods) in operations(&doc) {
        for method in methods {
            let id = doc["paths"][&path][&method]["operationId"].as_str().expect("every operation has an id");
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        }
    }
    assert!(ids.len() > 250, "both products' operations are described ({} found)", ids.len());
    let create = &doc["paths"]["/v2/{project_id}/apigw/instances/{instance_id}/api-groups"]["post"];
    let statuses: BTreeSet<&str> = create["responses"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(statuses, BTreeSet::from(["201", "400", "401", "403", "404", "409", "413", "500"]));
    assert_eq!(create["security"], serde_json::json!([{ "token": [] }, { "signature": [] }]));
}

#[tokio::test]
async fn every_route_the_router_serves_is_in_the_document() {
    let app = spawn_app().await;
    let documented = operations(&document(&app).await);
    let state = AppState::load(app.store.clone(), time::Duration::hours(1), "apig.localhost".into())
        .await
        .expect("load the state");
    let served = served_paths(&portico_api::app(state));
    assert!(served.len() > 100, "axum's Debug output no longer lists the routes: update served_paths");
    let missing: Vec<&String> =
        served.iter().filter(|p| !documented.contains_key(*p) && !NOT_MANAGEMENT.contains(&p.as_str())).collect();
    assert!(
        missing.is_empty(),
        "served but not in /openapi.json: {missing:?}. Give each handler a #[utoipa::path] and mount it with \
         utoipa_axum::routes! (crates/api/src/doc.rs says how)"
    );
    let stale: Vec<&String> = documented.keys().filter(|p| !served.contains(*p)).collect();
    assert!(stale.is_empty(), "described but not served: {stale:?}");
}

#[tokio::test]
async fn every_described_method_is_served_and_no_other() {
    let app = spawn_app().await;
    for (path, methods) in operations(&document(&app).await) {
        let concrete = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "probe" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app.call_raw(&Auth::Anonymous, verb, &concrete, b"").await;
            let not_allowed = response.status == StatusCode::METHOD_NOT_ALLOWED;
            if methods.contains(method) {
                assert!(!not_allowed, "{method} {path} is described but answers 405");
            } else {
                assert!(not_allowed, "{method} {path} is served ({}) but not described", response.status);
            }
        }
    }
}
