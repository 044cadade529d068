//! Hosts, stages, methods, paths; publishing and taking offline while serving.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{RELEASE, http_api, spawn_backend, spawn_gateway};

#[tokio::test]
async fn publish_serve_offline_then_404() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("one").await;
    let group = gw.group().await;
    let host = group.sl_domain.clone();
    let id = gw.api(&group, http_api("/hello", &backend.to_string(), "/echo")).await;

    gw.get(&host, "/hello", &[]).await.assert_error(404, "APIG.0101");
    gw.publish(&id, RELEASE).await;
    let mut served = None;
    for _ in 0..500 {
        let reply = gw.get(&host, "/hello", &[]).await;
        if reply.status == 200 {
            served = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let served = served.expect("the published API is served without a restart");
    assert_eq!(served.body["uri"], "/echo");
    assert_eq!(served.header("x-backend"), Some("one"));

    gw.offline(&id, RELEASE).await;
    let mut gone = false;
    for _ in 0..500 {
        if gw.get(&host, "/hello", &[]).await.status == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone, "the API taken offline stops being served");
    let msg = gw.get(&host, "/hello", &[]).await.assert_error(404, "APIG.0101");
    assert!(msg.contains(&host), "the group has nothing live any more: {msg}");
}

#[tokio::test]
async fn unknown_host_stage_and_method() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("one").await;
    let group = gw.group().await;
    gw.live_api(&group, http_api("/a", &backend.to_string(), "/")).await;
    let host = group.sl_domain.as_str();

    assert_eq!(gw.get(host, "/a", &[]).await.status, 200);
    assert_eq!(gw.get(&host.to_uppercase(), "/a", &[]).await.status, 200, "hosts compare case-insensitively");
    let msg = gw.get("nobody.apig.test", "/a", &[]).await.assert_error(404, "APIG.0101");
    assert!(msg.contains("host nobody.apig.test"), "{msg}");
    let msg = gw.get(host, "/a", &[("x-stage", "nope")]).await.assert_error(404, "APIG.0101");
    assert!(msg.contains("stage nope"), "{msg}");
    gw.call(reqwest::Method::POST, host, "/a", &[], "").await.assert_error(404, "APIG.0101");
}

#[tokio::test]
async fn stage_header_selects_the_environment_and_its_variables() {
    let gw = spawn_gateway().await;
    let (release, beta) = (spawn_backend("release").await, spawn_backend("beta").await);
    let group = gw.group().await;
    let beta_env = gw.env("beta").await;
    gw.variable(&group, RELEASE, "backend", &release.to_string()).await;
    gw.variable(&group, &beta_env, "backend", &beta.to_string()).await;
    gw.variable(&group, RELEASE, "prefix", "rel").await;
    gw.variable(&group, &beta_env, "prefix", "bet").await;
    let id = gw.api(&group, http_api("/svc", "#backend#", "/#prefix#/svc")).await;
    gw.publish(&id, RELEASE).await;
    gw.publish(&id, &beta_env).await;
    gw.wait_for_routes(|t| t.contains(&id)).await;
    let host = group.sl_domain.as_str();

    let r = gw.get(host, "/svc", &[]).await;
    assert_eq!((r.header("x-backend"), r.body["uri"].as_str()), (Some("release"), Some("/rel/svc")));
    let r = gw.get(host, "/svc", &[("X-Stage", "beta")]).await;
    assert_eq!((r.header("x-backend"), r.body["uri"].as_str()), (Some("beta"), Some("/bet/svc")));
}

#[tokio::test]
async fn undefined_variable_is_a_configuration_error() {
    let gw = spawn_gateway().await;
    let group = gw.group().await;
    gw.live_api(&group, http_api("/v", "#missing_var#", "/")).await;
    let msg = gw.get(&group.sl_domain, "/v", &[]).await.assert_error(500, "APIG.0203");
    assert!(msg.contains("#missing_var#"), "{msg}");
}

#[tokio::test]
async fn prefix_match_any_method_and_path_parameters() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut swa = http_api("/files", &backend, "/store");
    swa["match_mode"] = json!("SWA");
    swa["req_method"] = json!("ANY");
    swa["backend_api"]["req_method"] = json!("ANY");
    gw.live_api(&group, swa).await;
    let mut exact = http_api("/files/{name}/meta", &backend, "/meta/{n}");
    exact["req_params"] = json!([{ "name": "name", "type": "STRING", "location": "PATH" }]);
    exact["backend_params"] = json!([{ "origin": "REQUEST", "name": "n", "location": "PATH", "value": "name" }]);
    gw.live_api(&group, exact).await;
    let host = group.sl_domain.as_str();

    let r = gw.call(reqwest::Method::DELETE, host, "/files/a/b.txt?x=1", &[], "").await;
    assert_eq!((r.body["method"].as_str(), r.body["uri"].as_str()), (Some("DELETE"), Some("/store/a/b.txt?x=1")));
    let r = gw.get(host, "/files/report%20one/meta", &[]).await;
    assert_eq!(r.body["uri"], "/meta/report%20one");
    gw.get(host, "/filesystem", &[]).await.assert_error(404, "APIG.0101");
}

#[tokio::test]
async fn cors_preflight_and_response_headers() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    let mut api = http_api("/cors", &backend, "/");
    api["cors"] = json!(true);
    api["auth_type"] = json!("IAM");
    gw.live_api(&group, api).await;
    gw.live_api(&group, http_api("/plain", &backend, "/")).await;
    let host = group.sl_domain.as_str();

    let preflight = [("origin", "https://app.example"), ("access-control-request-method", "GET")];
    let r = gw.call(reqwest::Method::OPTIONS, host, "/cors", &preflight, "").await;
    assert_eq!(r.status, 200, "a preflight needs no credentials: {:?}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-max-age"), Some("172800"));
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH"));
    assert!(r.header("access-control-allow-headers").unwrap().contains("X-Sdk-Date"));
    let token = gw.token(&gw.project_id);
    let r = gw.get(host, "/cors", &[("origin", "https://app.example"), ("x-auth-token", &token)]).await;
    assert_eq!((r.status.as_u16(), r.header("access-control-allow-origin")), (200, Some("*")));
    let r = gw.get(host, "/cors", &[]).await;
    r.assert_error(401, "APIG.0301");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"), "errors of a CORS API carry the headers too");

    let r = gw.call(reqwest::Method::OPTIONS, host, "/plain", &preflight, "").await;
    r.assert_error(404, "APIG.0101");
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(gw.get(host, "/plain", &[]).await.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn http2_requests_share_one_connection() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    gw.live_api(&group, http_api("/h2", &backend, "/two")).await;

    let stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    for _ in 0..3 {
        // HTTP/2 names the host in :authority.
        let request =
            http::Request::get(format!("http://{}/h2", group.sl_domain)).body(Empty::<bytes::Bytes>::new()).unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("/two"));
    }
}

#[tokio::test]
async fn a_request_in_flight_survives_taking_its_api_offline() {
    use std::sync::Arc;
    use tokio::sync::Notify;

    // A backend that holds each request until the test releases it, and says when one arrived.
    let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let app = {
        let (arrived, release) = (arrived.clone(), release.clone());
        axum::Router::new().fallback(move || {
            let (arrived, release) = (arrived.clone(), release.clone());
            async move {
                arrived.notify_one();
                release.notified().await;
                "released"
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let gw = spawn_gateway().await;
    let group = gw.group().await;
    let id = gw.live_api(&group, http_api("/held", &backend.to_string(), "/")).await;
    let in_flight = {
        let (host, address) = (group.sl_domain.clone(), gw.address.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let response = client.get(format!("{address}/held")).header("host", host).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        })
    };
    arrived.notified().await;

    gw.offline(&id, RELEASE).await;
    gw.wait_for_routes(|t| t.lacks(&id)).await;
    gw.get(&group.sl_domain, "/held", &[]).await.assert_error(404, "APIG.0101");
    release.notify_one();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status.as_u16(), body.as_str()), (200, "released"), "the request in flight was not dropped");
}

#[tokio::test]
async fn worker_threads_share_the_route_table() {
    let gw = spawn_gateway().await;
    let backend = spawn_backend("b").await.to_string();
    let group = gw.group().await;
    gw.live_api(&group, http_api("/first", &backend, "/one")).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let gateway = gw.gateway.clone();
    let served = tokio::spawn(async move {
        let stopped = async move {
            let _ = stopped.await;
        };
        portico_gateway::serve_on_threads(listener, &gateway, None, Default::default(), Default::default(), 2, stopped)
            .await
    });
    let get = |path: &'static str| {
        let (address, host) = (address.clone(), group.sl_domain.clone());
        async move {
            // A new client each time: a new connection, handed to the threads in turn.
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let response = client.get(format!("{address}{path}")).header("host", host).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    for _ in 0..4 {
        let (status, body) = get("/first").await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("/one"), "{body}");
    }
    // A table swapped by the watcher (on the test's runtime) is what every worker serves.
    gw.live_api(&group, http_api("/second", &backend, "/two")).await;
    for _ in 0..4 {
        assert_eq!(get("/second").await.0, 200);
    }

    stop.send(()).unwrap();
    served.await.unwrap().expect("every worker thread stops cleanly");
}

#[tokio::test]
async fn a_version_deleted_after_the_table_was_built_answers_no_route() {
    use portico_gateway::GatewayError;
    use portico_gateway::versions::VersionCache;

    let gw = spawn_gateway().await;
    let backend = spawn_backend("one").await;
    let group = gw.group().await;
    let id = gw.live_api(&group, http_api("/gone", &backend.to_string(), "/")).await;
    let table = gw.gateway.routes();
    let hit = table.lookup(&group.sl_domain, "RELEASE", "GET", "/gone").expect("the table routes the API");
    let read_before = VersionCache::new(gw.store.clone(), 4);
    read_before.get(&hit.entry).await.expect("the live version is read");

    gw.offline(&id, RELEASE).await;
    gw.store.delete_api(&gw.instance_id, &id).await.expect("delete the API");
    let read_after = VersionCache::new(gw.store.clone(), 4);
    match read_after.get(&hit.entry).await {
        Err(GatewayError::NoRoute(message)) => assert!(message.contains(&id), "{message}"),
        other => panic!("a version gone from the store is no route: {other:?}"),
    }
    let kept = read_before.get(&hit.entry).await.expect("a decoded version stays right: versions never change");
    assert_eq!(kept.api.id, id);
}
