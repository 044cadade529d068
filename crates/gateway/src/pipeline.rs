//! The request pipeline, in named phases (Pingora's `ProxyHttp` shape):
//!
//! 1. [`Gateway::route`]: host, `X-Stage` and path → a live API (or `APIG.0101`).
//! 2. plugins' [`Plugin::request_filter`]: may answer early (CORS preflight).
//! 3. [`Gateway::access`] for IP ACLs; [`Gateway::authenticate`]: NONE, IAM, APP (see
//!    [`crate::auth`]); [`Gateway::access`] again for account ACLs; [`Gateway::throttle`]. The
//!    body is read whole only by the phases that need it ([`crate::body`]); otherwise it streams
//!    to the backend in phase 6.
//! 4. [`Gateway::params`]: frontend parameters resolved and validated.
//! 5. [`Gateway::select`]: backend policy conditions → the backend.
//! 6. [`Gateway::proxy`]: mock answer, or the upstream request (retries, timeout).
//! 7. plugins' [`Plugin::response_filter`], then [`Gateway::logging`] (access log and
//!    metrics), which runs exactly once per request, errors included. Errors are answered
//!    through the API's gateway response ([`crate::responses`]).
//!
//! Per-request state lives in [`Ctx`]; state shared by requests lives in [`Gateway`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use portico_model::{AuthType, MemberGroupUrlInfo, ParamOrigin};
use portico_store::Store;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use portico_auth::signature::RequestParts;

use crate::auth::{Authenticator, Caller};
use crate::authorizers::{self, CompiledAuthorizer, Verdict, VerdictCache};
use crate::backend::{self, Backend, BuildInput, HttpTarget, Selected, SystemContext};
use crate::body::{BodyBudget, RequestBody};
use crate::channels::{Channel, ChannelStates, HealthCheck, Member, PickFacts, probe_address};
use crate::client_address::Origin;
use crate::context::{Body, Ctx, Plugin, counted, full};
use crate::cors::Cors;
use crate::entry::{RouteApi, RouteHit, RouteMatch};
use crate::error::GatewayError;
use crate::metrics;
use crate::params::{self, ParamValues, RequestView};
use crate::policies::Facts;
use crate::proxy::{Upstream, retry_budget};
use crate::responses::error_response;
use crate::routes::{Miss, RouteTable};
use crate::throttle::{Subject, Throttler};
use crate::tls::{self, DomainCertificates, TlsError, TlsSession};
use crate::versions::VersionCache;

/// Gateway settings from configuration.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// FUNCTION backends: function URN (or alias URN, or `urn:version`) → HTTP endpoint URL.
    pub functions: HashMap<String, String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The memory that request bodies held whole may take together, in bytes ([`BodyBudget`]).
    pub max_buffered_bytes: usize,
    /// `$context.serverName`.
    pub server_name: String,
    /// CA certificates trusted for HTTPS backends, beside Mozilla's roots.
    pub backend_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The account (IAM domain name, which is also its id) of IAM callers, judged by
    /// `DOMAIN` and `DOMAIN_ID` ACLs.
    pub account: String,
    /// Published versions kept decoded ([`VersionCache`]).
    pub decoded_versions: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            functions: HashMap::new(),
            max_body_bytes: 32 * 1024 * 1024,
            max_buffered_bytes: 256 * 1024 * 1024,
            server_name: "portico".into(),
            backend_roots: Vec::new(),
            account: "portico".into(),
            decoded_versions: crate::versions::DEFAULT_CAPACITY,
        }
    }
}

/// The data plane: the live route table and everything requests share.
pub struct Gateway {
    table: Arc<ArcSwap<RouteTable>>,
    /// The bound domains' certificates of the current table, for the TLS listener's SNI.
    certificates: Arc<DomainCertificates>,
    store: Arc<dyn Store>,
    versions: Arc<VersionCache>,
    loaded: Arc<AtomicU64>,
    auth: Authenticator,
    plugins: Arc<[Box<dyn Plugin>]>,
    throttler: Arc<Throttler>,
    budget: BodyBudget,
    verdicts: Arc<VerdictCache>,
    channel_states: Arc<ChannelStates>,
    upstream: Upstream,
    client_tls: rustls::ClientConfig,
    config: GatewayConfig,
}

const STAGE: &str = "x-stage";
/// How long a custom authorizer's function may take.
const AUTHORIZER_TIMEOUT_MS: u64 = 5000;
const DEFAULT_STAGE: &str = "RELEASE";
/// The probes a load balancer sends to the port it sends traffic to, answered as the management
/// listener answers them, but only when no API serves the request (see [`Gateway::answer_probe`]).
const HEALTH: &str = "/health";
const READY: &str = "/ready";
/// How long `/ready` waits for the database: a probe that hangs is as bad as a failed one, and
/// a load balancer's probe gives up after a few seconds.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

impl Gateway {
    /// A gateway serving `table`, reading the published versions it serves from `store`; fails
    /// when `config.backend_roots` holds an unusable certificate.
    pub fn new(
        table: RouteTable,
        store: Arc<dyn Store>,
        auth: Authenticator,
        config: GatewayConfig,
    ) -> Result<Gateway, TlsError> {
        let client_tls = tls::client_config(&config.backend_roots)?;
        let certificates = Arc::new(DomainCertificates::default());
        certificates.replace(table.tls().clone());
        let channel_states = Arc::new(ChannelStates::default());
        channel_states.sync(table.channels().map(|c| c.as_ref()));
        Ok(Gateway {
            channel_states,
            table: Arc::new(ArcSwap::from_pointee(table)),
            certificates,
            versions: Arc::new(VersionCache::new(store.clone(), config.decoded_versions)),
            store,
            loaded: Arc::new(AtomicU64::new(0)),
            auth,
            plugins: Arc::new([Box::new(Cors) as Box<dyn Plugin>]),
            throttler: Arc::new(Throttler::default()),
            budget: BodyBudget::new(config.max_buffered_bytes),
            verdicts: Arc::new(VerdictCache::default()),
            upstream: Upstream::new(client_tls.clone()),
            client_tls,
            config,
        })
    }

    /// A gateway for another worker thread: the same route table (a swap is seen by both) and
    /// settings, its own pool of backend connections, so that a request and the backend
    /// connection it uses live on one thread.
    pub fn worker(&self) -> Gateway {
        Gateway {
            table: self.table.clone(),
            certificates: self.certificates.clone(),
            store: self.store.clone(),
            versions: self.versions.clone(),
            loaded: self.loaded.clone(),
            auth: self.auth.clone(),
            plugins: self.plugins.clone(),
            throttler: self.throttler.clone(),
            budget: self.budget.clone(),
            verdicts: self.verdicts.clone(),
            channel_states: self.channel_states.clone(),
            upstream: Upstream::new(self.client_tls.clone()),
            client_tls: self.client_tls.clone(),
            config: self.config.clone(),
        }
    }

    /// Swaps in a new route table; requests in flight keep the one they started with. Returns
    /// the previous one, for the caller to drop where freeing it stalls no request.
    #[must_use = "dropping the previous table frees it on this thread"]
    pub fn replace_routes(&self, table: RouteTable) -> Arc<RouteTable> {
        self.channel_states.sync(table.channels().map(|c| c.as_ref()));
        self.certificates.replace(table.tls().clone());
        self.table.swap(Arc::new(table))
    }

    /// How many nodes serve the same database: throttling limits are shared among them
    /// ([`Throttler::set_nodes`]).
    pub fn set_cluster_nodes(&self, n: u64) {
        self.throttler.set_nodes(n);
    }

    /// Records the store generation the table in force was read at ([`crate::watch`] does).
    pub fn set_loaded_generation(&self, generation: u64) {
        self.loaded.store(generation, Ordering::Release);
    }

    /// The store generation the table in force was read at (0 until [`crate::watch`] runs).
    pub fn loaded_generation(&self) -> u64 {
        self.loaded.load(Ordering::Acquire)
    }

    /// The bound domains' certificates, as the TLS listener picks them by SNI.
    pub fn certificates(&self) -> &Arc<DomainCertificates> {
        &self.certificates
    }

    /// The table in force.
    pub fn routes(&self) -> Arc<RouteTable> {
        self.table.load_full()
    }

    /// Serves one request that reached the gateway at `local`; its [`Origin`] (who the client
    /// is) is in its extensions.
    pub async fn handle(&self, request: Request<Incoming>, local: SocketAddr) -> Response<Body> {
        let origin = Origin::of(request.extensions());
        let mut ctx = Ctx {
            request_id: portico_model::new_id(),
            started: Instant::now(),
            received_at: OffsetDateTime::now_utc(),
            client: origin.client,
            hop: origin.hop,
            local,
            stage: request.headers().get(STAGE).and_then(|v| v.to_str().ok()).unwrap_or(DEFAULT_STAGE).to_string(),
            route: None,
            group_responses: None,
            preflight: false,
            caller: None,
            policy: None,
            upstream: None,
            upstream_time: None,
        };
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let host = host(&request).to_string();
        let result = self.run(&mut ctx, request).await;
        let (mut response, error) = match result {
            Ok(r) => (r, None),
            Err(e) => (error_response(&e, &ctx), Some(e)),
        };
        for plugin in self.plugins.iter() {
            plugin.response_filter(&ctx, response.headers_mut());
        }
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            response.headers_mut().insert("x-request-id", v);
        }
        self.logging(&ctx, &method, &host, &path, response.status(), error.as_ref());
        let sent = metrics::response_bytes(ctx.route.as_ref().map(|r| &*r.api.entry));
        response.map(|body| counted(body, sent))
    }

    async fn run(&self, ctx: &mut Ctx, request: Request<Incoming>) -> Result<Response<Body>, GatewayError> {
        let table = self.table.load_full();
        let route = match self.route(ctx, &table, &request).await {
            Ok(route) => route,
            Err(GatewayError::NoRoute(_)) if is_probe(&request) => {
                return self.answer_probe(request.uri().path()).await;
            }
            Err(e) => return Err(e),
        };
        ctx.route = Some(route.clone());
        for plugin in self.plugins.iter() {
            if let Some(response) = plugin.request_filter(ctx) {
                return Ok(response);
            }
        }
        if ctx.preflight {
            return Err(GatewayError::NoRoute(format!("OPTIONS {}", request.uri().path())));
        }
        self.access(ctx, &route)?;
        let (parts, body) = request.into_parts();
        let content_length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let received = metrics::request_bytes(Some(&route.api.entry));
        let mut body = RequestBody::new(body, content_length, self.config.max_body_bytes, received)?;
        let query: Vec<(String, String)> =
            parts.uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        ctx.caller = Some(match &route.api.bound.authorizer {
            Some(authorizer) => {
                let body = body.whole(&self.budget).await?;
                self.authorize(authorizer, &parts, &query, body).await?
            }
            // An app signature covers the body.
            None if route.api.api.definition.auth_type == AuthType::App => {
                let body = body.whole(&self.budget).await?;
                self.authenticate(ctx, &table, &route, &parts, body)?
            }
            None => self.authenticate(ctx, &table, &route, &parts, &[])?,
        });
        self.access(ctx, &route)?;
        self.throttle(ctx, &route)?;
        let params = self.params(&route, &query, &parts.headers)?;
        let selected = self.select(ctx, &route, &params, &parts)?;
        let backend_context = match selected.authorizer_id {
            Some(id) => {
                let authorizer = table.backend_authorizer(id).ok_or_else(|| {
                    GatewayError::AuthorizerConfig(format!("backend custom authorizer {id} does not exist"))
                })?;
                let body = body.whole(&self.budget).await?;
                self.call_authorizer(authorizer, &parts, &query, body).await?
            }
            None => Vec::new(),
        };
        let input = ProxyInput { parts: &parts, query: &query, params: &params, body, backend_context };
        self.proxy(ctx, &table, &route, &selected, input).await
    }

    /// Phase 1: which live API of `table` serves the request, with its version decoded.
    pub async fn route(
        &self,
        ctx: &mut Ctx,
        table: &RouteTable,
        request: &Request<Incoming>,
    ) -> Result<RouteMatch, GatewayError> {
        let RouteHit { entry, path_params, rest } = self.find(ctx, table, request)?;
        let version = self.versions.get(&entry).await?;
        Ok(RouteMatch { api: Arc::new(RouteApi::new(entry, &version)), path_params, rest })
    }

    fn find(&self, ctx: &mut Ctx, table: &RouteTable, request: &Request<Incoming>) -> Result<RouteHit, GatewayError> {
        let host = host(request);
        let path = request.uri().path();
        let method = request.method().as_str();
        let miss = |m: Miss| {
            GatewayError::NoRoute(match m {
                Miss::Host => format!("host {host}"),
                Miss::Stage => format!("stage {} on host {host}", ctx.stage),
                Miss::Path => format!("{method} {path}"),
            })
        };
        if !table.admits(host, request.extensions().get::<TlsSession>()) {
            return Err(GatewayError::ClientCertificateRequired(host.to_string()));
        }
        let found = match table.lookup(host, &ctx.stage, method, path) {
            Ok(found) => Ok(found),
            Err(Miss::Path) if request.method() == http::Method::OPTIONS => request
                .headers()
                .get("access-control-request-method")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| miss(Miss::Path))
                .and_then(|asked| table.lookup(host, &ctx.stage, asked, path).map_err(miss))
                .inspect(|_| ctx.preflight = true),
            Err(m) => Err(miss(m)),
        };
        if found.is_err() {
            ctx.group_responses = table.group_responses(host).cloned();
        }
        found
    }

    /// `GET /health` (the process serves) and `GET /ready` (the database answers too; 503
    /// `APIG.0902` otherwise) on the gateway listener. Asked only when no API matched: an API
    /// published at `/health` is served as APIG would serve it, and shadows the probe for its
    /// group's hosts and environment.
    async fn answer_probe(&self, path: &str) -> Result<Response<Body>, GatewayError> {
        let text = if path == READY {
            match tokio::time::timeout(READY_TIMEOUT, self.store.ready()).await {
                Ok(Ok(())) => "READY",
                Ok(Err(error)) => {
                    tracing::warn!(%error, "gateway /ready: the database does not answer");
                    return Err(GatewayError::NotReady);
                }
                Err(_) => {
                    tracing::warn!("gateway /ready: the database did not answer in time");
                    return Err(GatewayError::NotReady);
                }
            }
        } else {
            "OK"
        };
        let mut response = Response::new(full(text));
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        Ok(response)
    }

    /// Phase 3: access control by the bound ACL. Before authentication (no caller yet) an IP
    /// policy is judged; after it, an account policy.
    pub fn access(&self, ctx: &Ctx, route: &RouteMatch) -> Result<(), GatewayError> {
        let Some(acl) = &route.api.bound.acl else { return Ok(()) };
        if acl.by_ip() != ctx.caller.is_none() {
            return Ok(());
        }
        let account = matches!(ctx.caller, Some(Caller::User { .. })).then_some(self.config.account.as_str());
        acl.check(ctx.client.ip(), account)
    }

    /// Phase 3: who is calling.
    pub fn authenticate(
        &self,
        ctx: &Ctx,
        table: &RouteTable,
        route: &RouteMatch,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<Caller, GatewayError> {
        // HTTP/2 carries the host in `:authority`, not in a `Host` header, yet signatures cover it.
        let with_host;
        let headers = match parts.uri.authority() {
            Some(authority) if !parts.headers.contains_key(http::header::HOST) => {
                let mut headers = parts.headers.clone();
                let host = HeaderValue::from_str(authority.as_str()).map_err(|_| GatewayError::Internal)?;
                headers.insert(http::header::HOST, host);
                with_host = headers;
                &with_host
            }
            _ => &parts.headers,
        };
        let request = RequestParts {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query(),
            headers,
            body,
        };
        self.auth.authenticate(&route.api, table.apps(), &request, ctx.received_at)
    }

    /// Phase 3, for `AUTHORIZER` APIs: the frontend custom authorizer's verdict.
    pub async fn authorize(
        &self,
        compiled: &CompiledAuthorizer,
        parts: &http::request::Parts,
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<Caller, GatewayError> {
        let context = self.call_authorizer(compiled, parts, query, body).await?;
        Ok(Caller::Authorized { context })
    }

    /// What a custom authorizer allowed the request with (cached for its `ttl`), or its denial.
    async fn call_authorizer(
        &self,
        compiled: &CompiledAuthorizer,
        parts: &http::request::Parts,
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, GatewayError> {
        let authorizer = &compiled.authorizer;
        let identities = compiled.identities(&parts.headers, query)?;
        let key = format!("{}\0{}", authorizer.id, identities.join("\0"));
        let now = Instant::now();
        // Without identity sources the verdict may depend on anything: never cached.
        let cacheable = !identities.is_empty();
        let cached = if cacheable { self.verdicts.get(&key, now) } else { None };
        let verdict = match cached {
            Some(verdict) => verdict,
            None => {
                let url =
                    compiled.function_keys().iter().find_map(|k| self.config.functions.get(k)).ok_or_else(|| {
                        GatewayError::AuthorizerConfig(format!(
                            "no endpoint is configured for function {}",
                            authorizer.authorizer_uri
                        ))
                    })?;
                let event = authorizers::event(
                    authorizer,
                    parts.method.as_str(),
                    parts.uri.path(),
                    &parts.headers,
                    query,
                    body,
                );
                let response = self.upstream.call_function(url, event.to_string(), AUTHORIZER_TIMEOUT_MS).await?;
                let verdict = authorizers::verdict(&response)?;
                if cacheable {
                    self.verdicts.put(key, verdict.clone(), authorizer.ttl, now);
                }
                verdict
            }
        };
        match verdict {
            Verdict::Allow(context) => Ok(context),
            Verdict::Deny => Err(GatewayError::AuthorizerDenied),
        }
    }

    /// Phase 3: the bound throttling policy counts the call.
    pub fn throttle(&self, ctx: &Ctx, route: &RouteMatch) -> Result<(), GatewayError> {
        let Some(policy) = &route.api.bound.throttle else { return Ok(()) };
        let (user, tenant, app) = match &ctx.caller {
            Some(Caller::User { user_id, project_id }) => (Some(user_id.as_str()), Some(project_id.as_str()), None),
            // APIG counts an app's calls against the user limit of the tenant that owns it: here
            // the project of the instance the app and the API live in.
            Some(Caller::App { app_id }) => {
                let owner = Some(&*route.api.project_id);
                (owner, owner, Some(app_id.as_str()))
            }
            _ => (None, None, None),
        };
        let subject = Subject { publish_id: &route.api.publish_id, user, tenant, app, ip: ctx.client.ip() };
        self.throttler.check(policy, &subject, Instant::now())
    }

    /// Phase 4: the frontend parameters.
    pub fn params(
        &self,
        route: &RouteMatch,
        query: &[(String, String)],
        headers: &HeaderMap,
    ) -> Result<ParamValues, GatewayError> {
        let view = RequestView { path: &route.path_params, query, headers };
        params::resolve(&route.api.api.definition.req_params, &view)
    }

    /// Phase 5: the backend.
    pub fn select<'r>(
        &self,
        ctx: &mut Ctx,
        route: &'r RouteMatch,
        params: &ParamValues,
        parts: &http::request::Parts,
    ) -> Result<Selected<'r>, GatewayError> {
        let facts = Facts {
            params,
            source_ip: ctx.client.ip(),
            method: parts.method.as_str(),
            path: parts.uri.path(),
            cookies: parts.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()),
            authorizer: match &ctx.caller {
                Some(Caller::Authorized { context }) => context,
                _ => &[],
            },
        };
        let selected = backend::select(&route.api, &facts)?;
        ctx.policy = selected.policy.map(str::to_string);
        Ok(selected)
    }

    /// Phase 6: the answer, from the mock or the upstream.
    async fn proxy(
        &self,
        ctx: &mut Ctx,
        table: &RouteTable,
        route: &RouteMatch,
        selected: &Selected<'_>,
        input: ProxyInput<'_>,
    ) -> Result<Response<Body>, GatewayError> {
        let mut target = match &selected.backend {
            Backend::Mock { body } => {
                ctx.upstream = Some("mock".into());
                let content_type = if serde_json::from_str::<serde_json::Value>(body).is_ok() {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                };
                let mut response = Response::new(full(body.clone()));
                response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                return Ok(response);
            }
            Backend::Http(target) => target.clone(),
            Backend::Function(function) => {
                let url = function
                    .keys()
                    .iter()
                    .find_map(|k| self.config.functions.get(k))
                    .ok_or_else(|| GatewayError::NoFunction(function.function_urn.clone()))?;
                crate::proxy::function_target(url, function.timeout_ms)?
            }
        };
        let api = &route.api;
        let mut body = input.body;
        // Signing covers the body, and a retry sends it again: those need it whole. Otherwise
        // it streams to the backend as it arrives.
        let retries = retry_budget(&input.parts.method, target.retry_count);
        if api.bound.signature.is_some() || retries > 0 {
            body.whole(&self.budget).await?;
        }
        // A backend by member groups: the group is chosen first, and says how it is called.
        let member_group = if target.vpc_channel_status == 4 {
            let (channel, group, info) = self.choose_member_group(table, &target)?;
            target.protocol = info.req_protocol;
            target.method = info.req_method;
            if let Some(uri) = info.req_uri {
                target.req_uri = uri;
            }
            Some((channel, group))
        } else {
            None
        };
        // Every backend request carries the source IP and the request id; the other system
        // parameters are only worked out when a SYSTEM backend parameter asks for one.
        let mut system = SystemContext {
            source_ip: ctx.client.ip().to_string(),
            forwarded_for: Origin { client: ctx.client, hop: ctx.hop }
                .forwarded_for(input.parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())),
            request_id: ctx.request_id.clone(),
            ..SystemContext::default()
        };
        if selected.params.iter().any(|p| p.origin == ParamOrigin::System) {
            system.stage = api.env_name.to_string();
            system.api_id = api.api.id.clone();
            system.api_name = api.api.definition.name.clone();
            system.app_id = match &ctx.caller {
                Some(Caller::App { app_id }) => Some(app_id.clone()),
                _ => None,
            };
            if let Some(Caller::Authorized { context }) = &ctx.caller {
                system.authorizer = context.clone();
            }
            system.backend_authorizer = input.backend_context.clone();
            system.member_group =
                member_group.as_ref().map(|(c, g)| (c.groups[*g].id.clone(), c.groups[*g].name.clone()));
            system.server_addr = ctx.local.ip().to_string();
            system.server_name = self.config.server_name.clone();
            system.handle_time = ctx.received_at.format(&Rfc3339).unwrap_or_default();
        }
        let build = BuildInput {
            method: &input.parts.method,
            query: input.query,
            headers: &input.parts.headers,
            params: input.params,
            backend_params: selected.params,
            system: &system,
            variables: &api.variables,
            rest: &route.rest,
            member: None,
        };
        let signature = api.bound.signature.as_deref();
        let signed = match signature {
            Some(_) => body.whole(&self.budget).await?.clone(),
            None => Bytes::new(),
        };
        let sign = |outgoing: &mut backend::Outgoing| match signature {
            Some(key) => backend::sign_request(outgoing, &signed, key, OffsetDateTime::now_utc()),
            None => Ok(()),
        };
        let by_channel = target.vpc_channel.as_ref().filter(|_| target.vpc_channel_status == 1);
        let (channel, group_id): (&Channel, Option<&str>) = match (&member_group, by_channel) {
            (Some((channel, group)), _) => (channel, Some(&channel.groups[*group].id)),
            (None, Some(info)) => {
                let channel = table.channel(&info.vpc_channel_id).ok_or_else(|| {
                    GatewayError::BackendConfig(format!("VPC channel {} not found", info.vpc_channel_id))
                })?;
                (channel, None)
            }
            (None, None) => {
                let mut outgoing = backend::build_request(&target, &build)?;
                sign(&mut outgoing)?;
                ctx.upstream = Some(format!("{}://{}", outgoing.scheme, outgoing.authority));
                return ctx.wait_upstream(self.upstream.send(outgoing, &mut body, &target)).await;
            }
        };
        // Failover: each retry `retry_count` allows goes to a member not tried yet.
        let facts = PickFacts { source_ip: ctx.client.ip(), path: input.parts.uri.path() };
        let mut tried = Vec::new();
        loop {
            let (index, _in_flight) = self.channel_states.pick(channel, group_id, facts, &tried).ok_or_else(|| {
                GatewayError::BackendUnavailable(format!("no healthy member in VPC channel {}", channel.id))
            })?;
            let member = &channel.members[index].address;
            let mut outgoing = backend::build_request(&target, &BuildInput { member: Some(member), ..build })?;
            sign(&mut outgoing)?;
            ctx.upstream = Some(format!("{}://{}", outgoing.scheme, outgoing.authority));
            let Some(attempt) = body.attempt() else { return Err(GatewayError::Internal) };
            let error = match ctx.wait_upstream(self.upstream.send_once(&outgoing, attempt, target.timeout_ms)).await {
                Ok(response) => return Ok(response),
                Err(e) => e,
            };
            tried.push(index);
            if tried.len() as u32 > retries {
                return Err(error);
            }
            tracing::debug!(member, error = %error, "trying another member of the channel");
        }
    }

    /// The member group of `target` (a backend by member groups) that serves this request: its
    /// channel, its index in the channel's groups, and how the backend calls it.
    fn choose_member_group(
        &self,
        table: &RouteTable,
        target: &HttpTarget,
    ) -> Result<(Arc<Channel>, usize, MemberGroupUrlInfo), GatewayError> {
        let named: Vec<(&Arc<Channel>, usize, &MemberGroupUrlInfo)> = target
            .member_groups
            .iter()
            .filter_map(|info| table.member_group(&info.member_group_id).map(|(c, g)| (c, *g, info)))
            .collect();
        let Some(&(channel, ..)) = named.first() else {
            let ids: Vec<&str> = target.member_groups.iter().map(|i| i.member_group_id.as_str()).collect();
            return Err(GatewayError::BackendConfig(format!("no member group {} exists", ids.join(", "))));
        };
        // A backend's member groups are those of one channel: the first named one's.
        let named: Vec<_> = named.into_iter().filter(|(c, ..)| c.id == channel.id).collect();
        let wanted: Vec<usize> = named.iter().map(|(_, g, _)| *g).collect();
        let unavailable = || {
            GatewayError::BackendUnavailable(format!(
                "no member group of VPC channel {} has a healthy member",
                channel.id
            ))
        };
        let group = self.channel_states.pick_group(channel, &wanted).ok_or_else(unavailable)?;
        let info =
            named.iter().find(|(_, g, _)| *g == group).map(|(_, _, info)| (*info).clone()).ok_or_else(unavailable)?;
        Ok((channel.clone(), group, info))
    }

    /// A health check of a channel member.
    pub async fn probe(&self, member: &Member, check: &HealthCheck) -> bool {
        let address = probe_address(member, check);
        match check.protocol.as_str() {
            "HTTP" | "HTTPS" => {
                let scheme = if check.protocol == "HTTPS" { "https" } else { "http" };
                self.upstream.probe(scheme, &address, &check.method, &check.path, &check.codes).await
            }
            _ => tokio::net::TcpStream::connect(address.as_str()).await.is_ok(),
        }
    }

    /// The health and load of the channels' members.
    pub fn channel_states(&self) -> &ChannelStates {
        &self.channel_states
    }

    /// Phase 7: the access log line and the metrics.
    fn logging(
        &self,
        ctx: &Ctx,
        method: &http::Method,
        host: &str,
        path: &str,
        status: StatusCode,
        error: Option<&GatewayError>,
    ) {
        let latency = ctx.started.elapsed();
        let route = ctx.route.as_ref().map(|r| &*r.api.entry);
        metrics::record(&metrics::Outcome { route, status, latency, upstream: ctx.upstream_time, rejection: error });
        let api_id = route.map_or("", |entry| &entry.api_id);
        let error_code = error.map(|e| e.code().0).unwrap_or("");
        tracing::info!(
            target: "portico_gateway::access",
            request_id = %ctx.request_id,
            client = %ctx.client,
            method = %method,
            host,
            path,
            stage = %ctx.stage,
            api_id,
            policy = ctx.policy.as_deref().unwrap_or(""),
            upstream = ctx.upstream.as_deref().unwrap_or(""),
            status = status.as_u16(),
            error_code,
            error = %error.map(|e| e.to_string()).unwrap_or_default(),
            latency_us = latency.as_micros() as u64,
            "request"
        );
    }
}

/// What the proxy phase needs from the request.
struct ProxyInput<'a> {
    parts: &'a http::request::Parts,
    query: &'a [(String, String)],
    params: &'a ParamValues,
    body: RequestBody,
    /// What the backend custom authorizer allowed the request with.
    backend_context: Vec<(String, String)>,
}

/// Whether `request` is a load balancer's probe ([`HEALTH`], [`READY`]).
fn is_probe<B>(request: &Request<B>) -> bool {
    matches!(*request.method(), http::Method::GET | http::Method::HEAD)
        && matches!(request.uri().path(), HEALTH | READY)
}

fn host<B>(request: &Request<B>) -> &str {
    request
        .uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| request.headers().get(http::header::HOST).and_then(|v| v.to_str().ok()))
        .unwrap_or("")
}
