//! `spawn_app()`: a real Portico management API on a loopback port, over a real SQLite file in
//! a temporary data directory, bootstrapped the way `portico serve` does it; and a client that
//! signs requests exactly like the Huawei Cloud SDK (`SDK-HMAC-SHA256`) or sends IAM tokens.

use std::sync::Arc;
use std::time::Duration;

use portico_api::{AppState, FirstStart};
use portico_auth::token::{self, TokenClaims, TokenKey};
use portico_auth::{generate, password, signature};
use portico_model::{Credential, Instance, Project, User, new_id, now};
use portico_store::Store;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The account (IAM domain) the bootstrap writes and the token endpoint checks.
pub const DOMAIN: &str = "portico";
/// The built-in environment every instance has.
pub const RELEASE: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";

/// A user's secrets: name and password for tokens, AK/SK for signatures.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_name: String,
    pub password: String,
    pub access_key: String,
    pub secret_key: String,
}

/// A project with an instance and a member who may act on it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub project_id: String,
    pub instance_id: String,
    pub identity: Identity,
}

/// How a request proves who sends it.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials at all.
    Anonymous,
    /// The SDK's AK/SK signature, with `X-Sdk-Date` shifted by `skew_secs` from now.
    Sign { access_key: String, secret_key: String, project_id: String, skew_secs: i64 },
    /// `X-Auth-Token`.
    Token(String),
}

impl Auth {
    /// A signature by `identity`, sent with `X-Project-Id: project_id`, dated now.
    pub fn sign(identity: &Identity, project_id: &str) -> Auth {
        Auth::Sign {
            access_key: identity.access_key.clone(),
            secret_key: identity.secret_key.clone(),
            project_id: project_id.to_string(),
            skew_secs: 0,
        }
    }
}

/// A response: status, headers, and the body as JSON (`null` when empty, a string when not JSON).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// `(status, body)`, the shape the typed helpers return.
    pub fn pair(self) -> (StatusCode, Value) {
        (self.status, self.body)
    }

    /// The `X-Request-Id` response header.
    pub fn request_id(&self) -> String {
        self.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
}

/// The running server and everything the bootstrap created.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// `127.0.0.1:<port>`, the `Host` the SDK signs.
    pub host: String,
    pub project_id: String,
    pub instance_id: String,
    /// The bootstrapped admin.
    pub admin: Identity,
    /// The store the server runs on, for setting up users, projects and instances.
    pub store: Arc<dyn Store>,
    /// The key the server signs tokens with, for minting expired ones.
    pub token_key: Arc<TokenKey>,
    http: reqwest::Client,
    _data_dir: TempDir,
}

/// Starts Portico on `127.0.0.1:0` over a fresh store (a SQLite file, or a PostgreSQL database
/// when `PORTICO_TEST_POSTGRES` is set), bootstrapped like `portico serve`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|state| state).await
}

/// [`spawn_app`], with the state changed by `configure` before the server starts.
pub async fn spawn_app_with(configure: impl FnOnce(AppState) -> AppState) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let store = portico_store::testing::fresh_store(data_dir.path()).await.expect("open the store");

    let FirstStart { bootstrap, admin_password } = FirstStart::generate();
    let identity = Identity {
        user_name: bootstrap.admin.name.clone(),
        password: admin_password,
        access_key: bootstrap.credential.access_key.clone(),
        secret_key: bootstrap.credential.secret_key.clone(),
    };
    let (project_id, instance_id) = (bootstrap.project.id.clone(), bootstrap.instance.id.clone());
    assert!(store.bootstrap(&bootstrap).await.expect("bootstrap"), "a fresh data directory bootstraps");

    let state = AppState::load(store.clone(), time::Duration::hours(24), "apig.localhost".into())
        .await
        .expect("load the state");
    let token_key = state.token_key.clone();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let state = configure(state)
        .with_livedata_runtime(format!("127.0.0.1:{port}"))
        .with_livedata_sqlite_dir(data_dir.path().join("livedata"));
    tokio::spawn(portico_api::serve(listener, state, std::future::pending()));

    let host = format!("127.0.0.1:{port}");
    TestApp {
        address: format!("http://{host}"),
        host,
        project_id,
        instance_id,
        admin: identity,
        store,
        token_key,
        http: reqwest::Client::builder().no_proxy().build().expect("HTTP client"),
        _data_dir: data_dir,
    }
}

/// A short random suffix for unique names.
pub fn unique() -> String {
    new_id()[..10].to_string()
}

/// `?k=v&…`, every key and value percent-encoded as RFC 3986 asks (as the SDK sends queries).
pub fn query(pairs: &[(&str, &str)]) -> String {
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    format!("?{}", joined.join("&"))
}

/// `X-Sdk-Date` for now shifted by `skew_secs`: `%Y%m%dT%H%M%SZ`.
pub fn sdk_date(skew_secs: i64) -> String {
    let shift = Duration::from_secs(skew_secs.unsigned_abs());
    let t = if skew_secs >= 0 { now() + shift } else { now() - shift };
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl TestApp {
    /// The server's data directory (database, secrets key).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// Everything the database holds, as bytes: the SQLite file and its WAL, or a `pg_dump`
    /// of the PostgreSQL database (for checking what is stored in clear).
    pub fn database_bytes(&self) -> Vec<u8> {
        match std::fs::read_to_string(self.data_dir().join("postgres.url")) {
            Ok(url) => {
                let dump = std::process::Command::new("pg_dump").arg(url.trim()).output().expect("run pg_dump");
                assert!(dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dump.stderr));
                dump.stdout
            }
            Err(_) => {
                let mut bytes = std::fs::read(self.data_dir().join("portico.db")).expect("the database file");
                bytes.extend(std::fs::read(self.data_dir().join("portico.db-wal")).unwrap_or_default());
                bytes
            }
        }
    }

    /// `/v2/{project}/apigw/instances/{instance}{rel}` of the bootstrapped instance.
    pub fn inst(&self, rel: &str) -> String {
        format!("/v2/{}/apigw/instances/{}{rel}", self.project_id, self.instance_id)
    }

    /// The admin's signature on the bootstrapped project.
    pub fn admin_auth(&self) -> Auth {
        Auth::sign(&self.admin, &self.project_id)
    }

    /// Headers exactly as the SDK signs them: content-type, host, x-project-id, x-sdk-date,
    /// then `Authorization: SDK-HMAC-SHA256 …` computed by `portico_auth::signature::sign`.
    pub fn sign_headers(
        &self,
        auth: &Auth,
        method: &Method,
        path_and_query: &str,
        body: &[u8],
        host: &str,
    ) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let Auth::Sign { access_key, secret_key, project_id, skew_secs } = auth else {
            return headers;
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
        headers.insert(HOST, HeaderValue::from_str(host).expect("host header"));
        headers.insert("x-project-id", HeaderValue::from_str(project_id).expect("project header"));
        headers.insert("x-sdk-date", HeaderValue::from_str(&sdk_date(*skew_secs)).expect("date header"));
        let (raw_path, raw_query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let parts = signature::RequestParts { method: method.as_str(), raw_path, raw_query, headers: &headers, body };
        let authorization = signature::sign(&parts, access_key, secret_key);
        headers.insert(AUTHORIZATION, HeaderValue::from_str(&authorization).expect("authorization header"));
        headers
    }

    /// Sends `headers` and `body` as they are, and checks that the response carries a
    /// 32-hex `X-Request-Id` (every response must, errors included).
    pub async fn send_raw(
        &self,
        method: Method,
        path_and_query: &str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> TestResponse {
        let url = format!("{}{path_and_query}", self.address);
        let response = self
            .http
            .request(method, &url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("request reaches the server");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        let response = TestResponse { status, headers, body };
        let request_id = response.request_id();
        assert!(is_hex_id(&request_id), "{path_and_query}: X-Request-Id {request_id:?} on a {status} response");
        response
    }

    /// Sends `body` (raw bytes) to an absolute path with `auth`.
    pub async fn call_raw(&self, auth: &Auth, method: Method, path_and_query: &str, body: &[u8]) -> TestResponse {
        let mut headers = self.sign_headers(auth, &method, path_and_query, body, &self.host);
        if let Auth::Token(token) = auth {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
            headers.insert("x-auth-token", HeaderValue::from_str(token).expect("token header"));
        }
        self.send_raw(method, path_and_query, headers, body.to_vec()).await
    }

    /// Sends a JSON body (or none) to an absolute path with `auth`.
    pub async fn call(&self, auth: &Auth, method: Method, path_and_query: &str, body: Option<&Value>) -> TestResponse {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("serialise body")).unwrap_or_default();
        self.call_raw(auth, method, path_and_query, &bytes).await
    }

    /// As the SDK does it: the admin's AK/SK signature on an absolute path.
    pub async fn signed(&self, method: Method, path_and_query: &str, body: Option<&Value>) -> TestResponse {
        self.call(&self.admin_auth(), method, path_and_query, body).await
    }

    /// The admin's signature over raw body bytes (malformed JSON and the like).
    pub async fn signed_raw(&self, method: Method, path_and_query: &str, body: &[u8]) -> TestResponse {
        self.call_raw(&self.admin_auth(), method, path_and_query, body).await
    }

    /// With `X-Auth-Token: token`.
    pub async fn with_token(
        &self,
        token: &str,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        self.call(&Auth::Token(token.to_string()), method, path_and_query, body).await
    }

    /// `POST …/openapi/export` under `prefix` (`apigw` or `apic`) with the admin's signature:
    /// status, headers and the raw file.
    pub async fn export(&self, prefix: &str, query: &str, body: &Value) -> (StatusCode, HeaderMap, Vec<u8>) {
        let path = format!("/v2/{}/{prefix}/instances/{}/openapi/export{query}", self.project_id, self.instance_id);
        let bytes = serde_json::to_vec(body).expect("serialise body");
        let headers = self.sign_headers(&self.admin_auth(), &Method::POST, &path, &bytes, &self.host);
        let response = self
            .http
            .post(format!("{}{path}", self.address))
            .headers(headers)
            .body(bytes)
            .send()
            .await
            .expect("request reaches the server");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.expect("body").to_vec())
    }

    /// A multipart form (text fields, then the file part `file_name`) to `rel` under the
    /// instance, with the admin's token.
    pub async fn upload(&self, rel: &str, fields: &[(&str, &str)], file: &[u8]) -> (StatusCode, Value) {
        self.upload_at(&self.inst(rel), fields, file).await
    }

    /// A multipart form as [`TestApp::upload`] sends it, to the full path `path`.
    pub async fn upload_at(&self, path: &str, fields: &[(&str, &str)], file: &[u8]) -> (StatusCode, Value) {
        let boundary = unique();
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
            );
        }
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file_name\"; filename=\"api.yaml\"\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(file);
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        let token = self.token(&self.admin.user_name, &self.admin.password, &self.project_id).await;
        let mut headers = HeaderMap::new();
        let content_type = format!("multipart/form-data; boundary={boundary}");
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(&content_type).expect("content type"));
        headers.insert("x-auth-token", HeaderValue::from_str(&token).expect("token header"));
        self.send_raw(Method::POST, path, headers, body).await.pair()
    }

    /// Signed GET of a path under the bootstrapped instance.
    pub async fn get(&self, rel: &str) -> (StatusCode, Value) {
        self.signed(Method::GET, &self.inst(rel), None).await.pair()
    }

    /// Signed POST of a path under the bootstrapped instance.
    pub async fn post(&self, rel: &str, body: &Value) -> (StatusCode, Value) {
        self.signed(Method::POST, &self.inst(rel), Some(body)).await.pair()
    }

    /// Signed PUT of a path under the bootstrapped instance.
    pub async fn put(&self, rel: &str, body: &Value) -> (StatusCode, Value) {
        self.signed(Method::PUT, &self.inst(rel), Some(body)).await.pair()
    }

    /// Signed DELETE of a path under the bootstrapped instance.
    pub async fn delete(&self, rel: &str) -> (StatusCode, Value) {
        self.signed(Method::DELETE, &self.inst(rel), None).await.pair()
    }

    /// `CreateApiGroupV2` with `name`.
    pub async fn create_group_named(&self, name: &str) -> (StatusCode, Value) {
        self.post("/api-groups", &json!({ "name": name, "remark": "made by a test" })).await
    }

    /// A new group with a unique name; panics unless created.
    pub async fn create_group(&self) -> Value {
        let (status, body) = self.create_group_named(&format!("group_{}", unique())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// `CreateEnvironmentV2` with `name`.
    pub async fn create_env_named(&self, name: &str) -> (StatusCode, Value) {
        self.post("/envs", &json!({ "name": name, "remark": "test env" })).await
    }

    /// A new environment with a unique name; panics unless created.
    pub async fn create_env(&self) -> Value {
        let (status, body) = self.create_env_named(&format!("env_{}", unique())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// `CreateApiV2`.
    pub async fn create_api(&self, body: &Value) -> (StatusCode, Value) {
        self.post("/apis", body).await
    }

    /// A new minimal HTTP API in `group_id`; panics unless created.
    pub async fn new_api(&self, group_id: &str) -> Value {
        let name = format!("api_{}", unique());
        let (status, body) = self.create_api(&api_body(group_id, &name, &format!("/{name}"))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// `POST /apis/action` with `action` `online` or `offline`.
    pub async fn action(&self, action: &str, api_id: &str, env_id: &str) -> (StatusCode, Value) {
        self.post("/apis/action", &json!({ "action": action, "env_id": env_id, "api_id": api_id, "remark": "test"}))
            .await
    }

    /// Publishes one API; panics unless published.
    pub async fn publish(&self, api_id: &str, env_id: &str) -> Value {
        let (status, body) = self.action("online", api_id, env_id).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Takes one API offline; panics unless it was published.
    pub async fn offline(&self, api_id: &str, env_id: &str) -> Value {
        let (status, body) = self.action("offline", api_id, env_id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// `POST /apis/publish?action=…`.
    pub async fn batch(&self, action: &str, body: &Value) -> (StatusCode, Value) {
        self.post(&format!("/apis/publish{}", query(&[("action", action)])), body).await
    }

    /// `ShowDetailsOfApiV2`; panics unless found.
    pub async fn api_details(&self, api_id: &str) -> Value {
        let (status, body) = self.get(&format!("/apis/{api_id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// `POST /v3/auth/tokens` with a password, scoped to a project by id.
    pub async fn request_token(&self, user: &str, password: &str, project_id: &str) -> TestResponse {
        let body = token_request(user, password, json!({ "project": { "id": project_id } }));
        self.call(&Auth::Anonymous, Method::POST, "/v3/auth/tokens", Some(&body)).await
    }

    /// A token for `user` on `project_id`; panics unless issued.
    pub async fn token(&self, user: &str, password: &str, project_id: &str) -> String {
        let response = self.request_token(user, password, project_id).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        let token = response.headers.get("x-subject-token").expect("X-Subject-Token");
        token.to_str().expect("ASCII token").to_string()
    }

    /// A token minted with the server's key, with arbitrary claims (expired ones, say).
    pub fn mint_token(&self, claims: &TokenClaims) -> String {
        token::issue(&self.token_key, claims)
    }

    /// A user with a password and an AK/SK pair, member of `projects`.
    pub async fn add_user(&self, name: &str, projects: &[&str], readonly: bool) -> Identity {
        let secret = generate::password();
        let user = User {
            id: generate::hex_id(),
            name: name.to_string(),
            password_hash: password::hash(&secret),
            readonly,
            projects: projects.iter().map(|p| p.to_string()).collect(),
            created_at: now(),
        };
        self.store.create_user(&user).await.expect("create user");
        let credential = Credential {
            access_key: generate::access_key(),
            secret_key: generate::secret_key(),
            user_id: user.id.clone(),
            created_at: now(),
        };
        self.store.create_credential(&credential).await.expect("create credential");
        Identity {
            user_name: user.name,
            password: secret,
            access_key: credential.access_key,
            secret_key: credential.secret_key,
        }
    }

    /// An instance in `project_id`.
    pub async fn add_instance(&self, project_id: &str) -> String {
        let instance = Instance {
            id: generate::hex_id(),
            project_id: project_id.to_string(),
            instance_name: format!("instance_{}", unique()),
            description: None,
            create_time: now(),
        };
        self.store.create_instance(&instance).await.expect("create instance");
        instance.id
    }

    /// A second project with its own instance and a (writing) member.
    pub async fn add_tenant(&self, name: &str) -> Tenant {
        let project = Project { id: generate::hex_id(), name: name.to_string(), created_at: now() };
        self.store.create_project(&project).await.expect("create project");
        let instance_id = self.add_instance(&project.id).await;
        let identity = self.add_user(&format!("user_{name}"), &[&project.id], false).await;
        Tenant { project_id: project.id, instance_id, identity }
    }
}

impl Tenant {
    /// `/v2/{project}/apigw/instances/{instance}{rel}` of this tenant.
    pub fn inst(&self, rel: &str) -> String {
        format!("/v2/{}/apigw/instances/{}{rel}", self.project_id, self.instance_id)
    }

    /// This tenant's member's signature.
    pub fn auth(&self) -> Auth {
        Auth::sign(&self.identity, &self.project_id)
    }
}

/// An IAM password token request.
pub fn token_request(user: &str, password: &str, scope: Value) -> Value {
    json!({ "auth": {
        "identity": { "methods": ["password"],
                      "password": { "user": { "domain": { "name": DOMAIN }, "name": user, "password": password } } },
        "scope": scope,
    }})
}

/// The smallest valid HTTP API.
pub fn api_body(group_id: &str, name: &str, uri: &str) -> Value {
    json!({
        "name": name,
        "type": 1,
        "req_protocol": "HTTPS",
        "req_method": "GET",
        "req_uri": uri,
        "auth_type": "NONE",
        "backend_type": "HTTP",
        "group_id": group_id,
        "backend_api": {
            "url_domain": "backend.example.com:8080",
            "req_protocol": "HTTP",
            "req_method": "GET",
            "req_uri": "/backend",
            "timeout": 5000
        }
    })
}

/// An HTTP API with every kind of parameter, backend parameters of all three origins and a
/// backend policy with conditions: what the SDK sends (keys in the SDK's order).
pub fn full_api_body(group_id: &str, name: &str) -> Value {
    json!({
        "name": name, "type": 1, "version": "v1", "req_protocol": "HTTPS", "req_method": "GET",
        "req_uri": format!("/{name}/{{id}}"), "auth_type": "APP", "auth_opt": { "app_code_auth_type": "HEADER" },
        "cors": false, "match_mode": "NORMAL", "backend_type": "HTTP", "remark": "the full model",
        "group_id": group_id, "result_normal_sample": "{\"ok\": true}", "result_failure_sample": "{\"ok\": false}",
        "tags": ["story", "full"], "content_type": "application/json",
        "req_params": [
            { "name": "id", "type": "STRING", "location": "PATH", "required": 1, "valid_enable": 2,
              "remark": "item id" },
            { "name": "q", "type": "STRING", "location": "QUERY", "default_value": "x", "required": 2,
              "valid_enable": 2 },
            { "name": "page", "type": "NUMBER", "location": "QUERY", "default_value": "5", "required": 2,
              "valid_enable": 1, "min_num": 1, "max_num": 100 },
            { "name": "X-Trace", "type": "STRING", "location": "HEADER", "required": 2, "valid_enable": 2,
              "pass_through": 1 }
        ],
        "backend_params": [
            { "origin": "REQUEST", "name": "bid", "location": "PATH", "value": "id" },
            { "origin": "REQUEST", "name": "query", "location": "QUERY", "value": "q" },
            { "origin": "CONSTANT", "name": "X-Const", "remark": "constant header", "location": "HEADER",
              "value": "c1" },
            { "origin": "SYSTEM", "name": "X-Src-Ip", "location": "HEADER", "value": "$context.sourceIp" }
        ],
        "backend_api": {
            "url_domain": "backend.example.com:8080", "req_protocol": "HTTP", "req_method": "GET",
            "req_uri": "/v1/items/{bid}", "timeout": 5000, "retry_count": "2", "vpc_channel_status": 2
        },
        "policy_https": [{
            "name": "canary_policy", "effect_mode": "ANY", "url_domain": "canary.example.com",
            "req_protocol": "HTTPS", "req_method": "POST", "req_uri": "/canary/{cid}", "timeout": 3000,
            "retry_count": "1", "vpc_channel_status": 2,
            "backend_params": [
                { "origin": "REQUEST", "name": "cid", "location": "PATH", "value": "id" },
                { "origin": "SYSTEM", "name": "X-Stage", "location": "HEADER", "value": "$context.stage" }
            ],
            "conditions": [
                { "condition_origin": "param", "req_param_name": "q", "condition_type": "exact",
                  "condition_value": "beta" },
                { "condition_origin": "source", "condition_value": "10.0.0.0/8,192.168.1.1" },
                { "condition_origin": "system", "sys_param_name": "req_method", "condition_type": "enum",
                  "condition_value": "GET,POST" }
            ]
        }]
    })
}

/// 32 lower-case hex digits, the form of every id.
pub fn is_hex_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Asserts `value` is a 32-hex id.
#[track_caller]
pub fn assert_hex_id(value: &Value) {
    assert!(value.as_str().is_some_and(is_hex_id), "not a 32-hex id: {value}");
}

/// RFC 3339 in UTC with a `Z`: `2024-01-31T12:42:51Z` (fractions allowed).
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && s.ends_with('Z')
        && (b.len() == 20 || (b[19] == b'.' && digits(20..b.len() - 1) && b.len() > 21))
}

/// Asserts `value` is an RFC 3339 UTC time ending in `Z`.
#[track_caller]
pub fn assert_time(value: &Value) {
    assert!(value.as_str().is_some_and(is_rfc3339_utc), "not an RFC 3339 `…Z` time: {value}");
}

/// Asserts an APIG error: status, `error_code`, and a non-empty `error_msg`.
#[track_caller]
pub fn assert_error(response: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (actual, body) = response;
    assert_eq!(*actual, status, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

/// Asserts 400 `APIG.2011` naming `field` exactly as APIG words it.
#[track_caller]
pub fn assert_invalid(response: &(StatusCode, Value), field: &str) {
    assert_error(response, StatusCode::BAD_REQUEST, "APIG.2011");
    let expected = format!("Invalid parameter value,parameterName:{field}. Please refer to the support documentation");
    assert_eq!(response.1["error_msg"], expected.as_str());
}

/// Asserts 400 `APIG.2001` naming `field` exactly as APIG words it.
#[track_caller]
pub fn assert_missing(response: &(StatusCode, Value), field: &str) {
    assert_error(response, StatusCode::BAD_REQUEST, "APIG.2001");
    let expected = format!(
        "The request parameters must be specified,parameterName:{field}. Please refer to the support documentation"
    );
    assert_eq!(response.1["error_msg"], expected.as_str());
}

/// Asserts a `{size, total, <key>: [...]}` list and returns its items.
#[track_caller]
pub fn assert_list<'a>(body: &'a Value, key: &str, size: usize, total: u64) -> &'a Vec<Value> {
    let items = body[key].as_array().unwrap_or_else(|| panic!("no `{key}` array in {body}"));
    assert_eq!(body["size"], size, "size of {body}");
    assert_eq!(body["total"], total, "total of {body}");
    assert_eq!(items.len(), size, "{body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 3, "only size, total and {key}: {body}");
    items
}

/// Asserts every field of `expected` is in `actual` with the same value, recursively: objects
/// may have more keys in `actual`; arrays must be as long, element by element.
#[track_caller]
pub fn assert_contains(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let inner = format!("{path}.{key}");
                let found = a.get(key).unwrap_or_else(|| panic!("{inner} is missing in {actual}"));
                assert_contains(value, found, &inner);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}: {actual}");
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                assert_contains(e, a, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}
