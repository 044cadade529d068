//! `spawn_gateway()`: a real gateway on a loopback port over a real SQLite store (bootstrapped as
//! `portico serve` does it), watching the store as the binary does; echo backends on loopback;
//! helpers that create, publish and take offline APIs through the store, and a client that
//! calls the gateway with a group's domain as `Host`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::HeaderMap;
use portico_api::FirstStart;
use portico_auth::token::{self, TokenClaims, TokenKey};
use portico_gateway::{Authenticator, ClientAddressing, ConnectionLimits, Gateway, GatewayConfig};
use portico_model::{Api, ApiDefinition, ApiGroup, EnvVariable, Environment, new_id, now};
use portico_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const RELEASE: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";

/// A running gateway and the store it serves.
pub struct TestGateway {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub instance_id: String,
    pub project_id: String,
    pub token_key: Arc<TokenKey>,
    pub gateway: Arc<Gateway>,
    http: reqwest::Client,
    _data_dir: TempDir,
}

/// A response from the gateway: status, headers, body as JSON (a string when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a gateway error with `code` and returns its message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.body["error_code"], code, "{:?}", self.body);
        assert_eq!(self.body["request_id"].as_str(), self.header("x-request-id"));
        self.body["error_msg"].as_str().unwrap_or_default().to_string()
    }
}

/// Starts a gateway with `functions` (URN → endpoint URL) configured.
pub async fn spawn_gateway_with(functions: HashMap<String, String>) -> TestGateway {
    spawn_gateway_config(GatewayConfig { functions, ..GatewayConfig::default() }).await
}

/// Starts a gateway with `config`.
pub async fn spawn_gateway_config(config: GatewayConfig) -> TestGateway {
    spawn_gateway_tls(config, None).await
}

/// Starts a gateway with `config`, its listener speaking TLS when `tls` is given.
pub async fn spawn_gateway_tls(config: GatewayConfig, tls: Option<Arc<rustls::ServerConfig>>) -> TestGateway {
    spawn_gateway_limits(config, tls, ConnectionLimits::default()).await
}

/// Starts a gateway with `config`, TLS when `tls` is given, and its listener's `limits`.
pub async fn spawn_gateway_limits(
    config: GatewayConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
) -> TestGateway {
    spawn_gateway_listener(config, tls, limits, ClientAddressing::default()).await
}

/// Starts a gateway whose listener learns its clients' addresses by `addressing`.
pub async fn spawn_gateway_addressing(addressing: ClientAddressing) -> TestGateway {
    spawn_gateway_listener(GatewayConfig::default(), None, ConnectionLimits::default(), addressing).await
}

async fn spawn_gateway_listener(
    config: GatewayConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    addressing: ClientAddressing,
) -> TestGateway {
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let store = portico_store::testing::fresh_store(data_dir.path()).await.expect("open the store");
    let FirstStart { bootstrap, .. } = FirstStart::generate();
    let (project_id, instance_id) = (bootstrap.project.id.clone(), bootstrap.instance.id.clone());
    assert!(store.bootstrap(&bootstrap).await.expect("bootstrap"));
    let dyn_store = store.clone();

    let token_key = Arc::new(TokenKey::generate());
    let seen = dyn_store.generation();
    let table = portico_gateway::load_routes(dyn_store.as_ref()).await.expect("load routes");
    let gateway = Arc::new(
        Gateway::new(table, dyn_store.clone(), Authenticator::new(token_key.clone()), config).expect("gateway"),
    );
    tokio::spawn(portico_gateway::watch(dyn_store, gateway.clone(), seen, Duration::from_millis(50)));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(portico_gateway::serve(listener, gateway.clone(), tls, limits, addressing, std::future::pending()));
    TestGateway {
        address: format!("http://{addr}"),
        addr,
        store,
        instance_id,
        project_id,
        token_key,
        gateway,
        http: reqwest::Client::builder().no_proxy().build().expect("client"),
        _data_dir: data_dir,
    }
}

pub async fn spawn_gateway() -> TestGateway {
    spawn_gateway_with(HashMap::new()).await
}

/// What the echo backend saw.
pub async fn echo(request: Request) -> axum::Json<Value> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    axum::Json(describe(&parts.method, &parts.uri, &parts.headers, &body))
}

fn describe(method: &axum::http::Method, uri: &axum::http::Uri, headers: &HeaderMap, body: &Bytes) -> Value {
    let headers: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default()))).collect();
    json!({
        "method": method.as_str(),
        "uri": uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    })
}

/// An echo backend on a loopback port, named `name` (it answers `X-Backend: name`, and a
/// hop-by-hop `Keep-Alive`); `/slow` answers after 2 s.
pub async fn spawn_backend(name: &'static str) -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/slow",
            axum::routing::any(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "late"
            }),
        )
        .fallback(echo)
        .layer(axum::middleware::map_response(move |mut r: axum::response::Response| async move {
            r.headers_mut().insert("x-backend", axum::http::HeaderValue::from_static(name));
            // A hop-by-hop header the gateway must not relay.
            r.headers_mut().insert("keep-alive", axum::http::HeaderValue::from_static("timeout=30"));
            r
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind backend");
    let addr = listener.local_addr().expect("backend address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A loopback address nothing listens on, held to the end of the test process: a socket bound
/// there without `listen` refuses every connection, and no parallel test can take the port.
pub async fn closed_port() -> SocketAddr {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("loopback")).expect("bind");
    let addr = socket.local_addr().expect("address");
    std::mem::forget(socket);
    addr
}

impl TestGateway {
    /// A new group; returns it (its `sl_domain` is the `Host` to call).
    pub async fn group(&self) -> ApiGroup {
        let group = ApiGroup::new(format!("group_{}", &new_id()[..8]), None, "apig.test", now());
        self.store.create_group(&self.instance_id, &group).await.expect("create group");
        group
    }

    /// A new environment named `name`; returns its id.
    pub async fn env(&self, name: &str) -> String {
        let env = Environment { id: new_id(), name: name.into(), remark: None, create_time: now() };
        self.store.create_env(&self.instance_id, &env).await.expect("create env");
        env.id
    }

    /// Sets `#name#` = `value` for `group` in `env_id`.
    pub async fn variable(&self, group: &ApiGroup, env_id: &str, name: &str, value: &str) {
        let variable = EnvVariable {
            id: new_id(),
            env_id: env_id.into(),
            group_id: group.id.clone(),
            variable_name: name.into(),
            variable_value: value.into(),
        };
        self.store.create_variable(&self.instance_id, &variable).await.expect("create variable");
    }

    /// Creates an API in `group` from a create body (without `group_id`); returns its id.
    pub async fn api(&self, group: &ApiGroup, mut body: Value) -> String {
        body["group_id"] = json!(group.id);
        if body.get("name").is_none() {
            body["name"] = json!(format!("api_{}", &new_id()[..8]));
        }
        for (key, value) in [("type", json!(1)), ("req_protocol", json!("HTTP")), ("auth_type", json!("NONE"))] {
            if body.get(key).is_none() {
                body[key] = value;
            }
        }
        let mut definition = ApiDefinition::from_value(body).expect("a valid API definition");
        let t = now();
        definition.prepare(None, t);
        let api = Api { id: new_id(), status: 1, register_time: t, update_time: t, definition };
        self.store.create_api(&self.instance_id, &api).await.expect("create API");
        api.id
    }

    /// Publishes `api_id` in `env_id`; returns the publish record id.
    pub async fn publish(&self, api_id: &str, env_id: &str) -> String {
        let outcome =
            self.store.publish(&self.instance_id, env_id, &[api_id.to_string()], None, now()).await.expect("publish");
        match &outcome[0].1 {
            Ok(publication) => publication.publish_id.clone(),
            Err(e) => panic!("publish: {e}"),
        }
    }

    /// Waits (up to 10 s) until the gateway's table was read after every write made so far.
    pub async fn settle(&self) {
        let written = self.store.generation();
        for _ in 0..1000 {
            if self.gateway.loaded_generation() >= written {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the gateway did not reload after the last write");
    }

    /// Takes `api_id` offline in `env_id`.
    pub async fn offline(&self, api_id: &str, env_id: &str) {
        let outcome = self.store.offline(&self.instance_id, env_id, &[api_id.to_string()]).await.expect("offline");
        assert!(outcome[0].1.is_ok(), "{outcome:?}");
    }

    /// Creates and publishes an API in RELEASE, and waits until the gateway serves it.
    pub async fn live_api(&self, group: &ApiGroup, body: Value) -> String {
        let id = self.api(group, body).await;
        self.publish(&id, RELEASE).await;
        self.wait_for_routes(|t| t.contains(&id)).await;
        id
    }

    /// Waits (up to 10 s) until the gateway's table satisfies `ready`; panics otherwise.
    pub async fn wait_for_routes(&self, ready: impl Fn(&RouteIds) -> bool) {
        for _ in 0..1000 {
            if ready(&self.route_ids().await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the gateway did not pick up the change");
    }

    async fn route_ids(&self) -> RouteIds {
        let live = self.store.live_routes().await.expect("live routes");
        let table = self.gateway.routes();
        // The table holds exactly what was live when it was built; compare sizes and ids.
        RouteIds { ids: live.apis.iter().map(|a| a.api_id.clone()).collect(), table_len: table.len() }
    }

    /// A token for a user of `project_id`.
    pub fn token(&self, project_id: &str) -> String {
        let t = now().unix_timestamp();
        token::issue(
            &self.token_key,
            &TokenClaims {
                user_id: new_id(),
                user_name: "tester".into(),
                project_id: project_id.into(),
                readonly: false,
                issued_at: t,
                expires_at: t + 3600,
            },
        )
    }

    /// Calls the gateway as `host` with extra headers.
    pub async fn call(
        &self,
        method: reqwest::Method,
        host: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", self.address))
            .header(reqwest::header::HOST, host)
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        let reply = Reply { status, headers, body };
        let request_id = reply.header("x-request-id").unwrap_or_default();
        assert_eq!(request_id.len(), 32, "every gateway response has an X-Request-Id");
        reply
    }

    /// The data directory of the store (for `portico_store::testing::execute`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// GET as `host`.
    pub async fn get(&self, host: &str, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
        self.call(reqwest::Method::GET, host, path_and_query, headers, "").await
    }
}

/// What is live in the store, and how many APIs the gateway's table routes.
pub struct RouteIds {
    ids: Vec<String>,
    table_len: usize,
}

impl RouteIds {
    /// Whether `api_id` is live and the gateway's table has caught up with the store.
    pub fn contains(&self, api_id: &str) -> bool {
        self.ids.iter().any(|i| i == api_id) && self.table_len == self.ids.len()
    }

    /// Whether `api_id` is not live and the gateway's table has caught up.
    pub fn lacks(&self, api_id: &str) -> bool {
        !self.ids.iter().any(|i| i == api_id) && self.table_len == self.ids.len()
    }
}

/// An HTTP API towards `backend` (`url_domain`) at `GET uri` with backend path `backend_uri`.
pub fn http_api(uri: &str, url_domain: &str, backend_uri: &str) -> Value {
    json!({
        "req_method": "GET", "req_uri": uri, "backend_type": "HTTP",
        "backend_api": { "url_domain": url_domain, "req_protocol": "HTTP", "req_method": "GET",
                         "req_uri": backend_uri, "timeout": 5000 }
    })
}
