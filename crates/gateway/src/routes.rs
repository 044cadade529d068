//! The route table: an immutable snapshot of everything live, built from a
//! [`LiveSet`] and swapped whole when the store changes.
//!
//! Lookup goes host → group → environment (by name, from `X-Stage`) → path. Hosts and
//! environments are hash maps; paths are radix trees ([`matchit`], the router axum uses), one
//! for `NORMAL` (exact) templates and one for `SWA` (prefix) templates, so a lookup costs
//! O(path length), whatever the number of APIs. A prefix lookup tries the path, then the path
//! without its last segment, and so on: `/a` matches `/a/b` but not `/ab`.
//!
//! Parameter names are replaced by positional ones (`{p0}`, `{p1}`…) before insertion, so
//! `GET /users/{id}` and `DELETE /users/{name}` share one tree node, as APIG allows;
//! `{name+}` (APIG's greedy parameter) becomes a catch-all.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use portico_model::{ApiGroup, AuthType, GatewayResponse, MatchMode, Method, Signature, ThrottleSpecial};
use portico_store::{LivePolicies, LiveSet, PolicyKind, RouteKey};

use crate::acl::AclPolicy;
use crate::apps::AppDirectory;
use crate::authorizers::CompiledAuthorizer;
use crate::channels::Channel;
use crate::entry::{ApiPolicies, RouteEntry, RouteHit};
use crate::throttle::ThrottlePolicy;
use crate::tls::{TlsDomains, TlsSession};

/// The policy objects of a [`LivePolicies`], compiled once and shared by the publish records
/// bound to them.
struct PolicyIndex {
    authorized: HashMap<String, HashSet<String>>,
    /// Publish id → the ids of its throttle, ACL and signature key.
    bound: HashMap<String, [Option<String>; 3]>,
    throttles: HashMap<String, Arc<ThrottlePolicy>>,
    acls: HashMap<String, Arc<AclPolicy>>,
    signatures: HashMap<String, Arc<Signature>>,
    responses: HashMap<String, Arc<GatewayResponse>>,
    default_responses: HashMap<String, Arc<GatewayResponse>>,
    authorizers: HashMap<String, Arc<CompiledAuthorizer>>,
}

impl PolicyIndex {
    fn new(live: LivePolicies) -> (PolicyIndex, AppDirectory) {
        let mut authorized: HashMap<String, HashSet<String>> = HashMap::new();
        for (publish_id, app_id) in live.app_auths {
            authorized.entry(publish_id).or_default().insert(app_id);
        }
        let mut specials: HashMap<&str, Vec<&ThrottleSpecial>> = HashMap::new();
        for special in &live.specials {
            specials.entry(special.throttle_id.as_str()).or_default().push(special);
        }
        let throttles = live
            .throttles
            .iter()
            .map(|t| {
                let policy = ThrottlePolicy::new(t, specials.get(t.id.as_str()).map(Vec::as_slice).unwrap_or_default());
                (t.id.clone(), Arc::new(policy))
            })
            .collect();
        let mut default_responses = HashMap::new();
        let mut responses = HashMap::new();
        for response in live.gateway_responses {
            let response = Arc::new(response);
            if response.name == "default" {
                default_responses.insert(response.group_id.clone(), response.clone());
            }
            responses.insert(response.id.clone(), response);
        }
        let mut bound: HashMap<String, [Option<String>; 3]> = HashMap::new();
        for binding in live.bindings {
            let slot = match binding.kind {
                PolicyKind::Throttle => 0,
                PolicyKind::Acl => 1,
                PolicyKind::Sign => 2,
            };
            bound.entry(binding.publish_id).or_default()[slot] = Some(binding.policy_id);
        }
        let index = PolicyIndex {
            authorized,
            bound,
            throttles,
            acls: live.acls.iter().map(|a| (a.id.clone(), Arc::new(AclPolicy::new(a)))).collect(),
            signatures: live.signatures.into_iter().map(|s| (s.id.clone(), Arc::new(s))).collect(),
            responses,
            default_responses,
            authorizers: live
                .authorizers
                .into_iter()
                .map(|(_, a)| (a.id.clone(), Arc::new(CompiledAuthorizer::new(a))))
                .collect(),
        };
        (index, AppDirectory::new(live.apps))
    }

    fn for_api(&mut self, publish_id: &str, route: &RouteKey) -> ApiPolicies {
        let [throttle, acl, signature] = self.bound.remove(publish_id).unwrap_or_default();
        let response = route.response_id.as_ref().and_then(|id| self.responses.get(id));
        ApiPolicies {
            throttle: throttle.and_then(|id| self.throttles.get(&id)).cloned(),
            acl: acl.and_then(|id| self.acls.get(&id)).cloned(),
            signature: signature.and_then(|id| self.signatures.get(&id)).cloned(),
            responses: response.or_else(|| self.default_responses.get(&route.group_id)).cloned(),
            authorized_apps: self.authorized.remove(publish_id).unwrap_or_default(),
            authorizer: match route.auth_type {
                AuthType::Authorizer => route.authorizer_id.as_ref().and_then(|id| self.authorizers.get(id)).cloned(),
                _ => None,
            },
        }
    }
}

#[derive(Default)]
struct EnvRoutes {
    exact: matchit::Router<usize>,
    prefix: matchit::Router<usize>,
    slots: Vec<Vec<Arc<RouteEntry>>>,
    exact_slots: HashMap<String, usize>,
    prefix_slots: HashMap<String, usize>,
}

/// The routes of `group_id` in the environment `env_name`, made empty if new. The keys are
/// cloned only the first time: at 100,000 routes a clone per route is 200,000 allocations of
/// fresh memory per rebuild.
fn env_routes<'g>(groups: &'g mut HashMap<String, GroupRoutes>, group_id: &str, env_name: &str) -> &'g mut EnvRoutes {
    if !groups.contains_key(group_id) {
        groups.insert(group_id.to_string(), GroupRoutes::default());
    }
    let envs = &mut groups.get_mut(group_id).expect("inserted above").envs;
    if !envs.contains_key(env_name) {
        envs.insert(env_name.to_string(), EnvRoutes::default());
    }
    envs.get_mut(env_name).expect("inserted above")
}

/// Everything live, by host. Immutable: a change builds a new table.
#[derive(Default)]
pub struct RouteTable {
    hosts: HashMap<String, Arc<GroupRoutes>>,
    /// Backend custom authorizers by id: chosen per request with the backend, so not per route.
    backend_authorizers: HashMap<String, Arc<CompiledAuthorizer>>,
    apis: usize,
    apps: AppDirectory,
    channels: HashMap<String, Arc<Channel>>,
    /// Member group id → its channel and the group's index in it.
    member_groups: HashMap<String, (Arc<Channel>, usize)>,
    /// The bound domains' certificates, read with the routes.
    tls: Arc<TlsDomains>,
}

/// What one group serves, shared by its domains.
#[derive(Default)]
struct GroupRoutes {
    /// Environment name → its routes.
    envs: HashMap<String, EnvRoutes>,
    /// The group's `default` gateway response: it shapes the errors of requests that reach the
    /// group but no API of it.
    responses: Option<Arc<GatewayResponse>>,
}

/// Why a lookup failed; each becomes `APIG.0101` with its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No group answers for this host.
    Host,
    /// The group has nothing live in this environment.
    Stage,
    /// No API at this path with this method.
    Path,
}

/// The domains a group answers for: its generated subdomain unless switched off, and the
/// domains bound to it.
fn group_domains(group: &ApiGroup, bound: &HashMap<&str, Vec<String>>) -> Vec<String> {
    let own = group.sl_domain_access_enabled.then(|| group.sl_domain.to_ascii_lowercase());
    own.into_iter().chain(bound.get(group.id.as_str()).into_iter().flatten().cloned()).collect()
}

/// A frontend template in matchit's syntax, and its parameter names in order.
pub(crate) fn to_matchit(template: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(template.len());
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        push_literal(&mut out, &rest[..open]);
        let name = &rest[open + 1..close];
        match name.strip_suffix('+') {
            Some(greedy) => {
                out.push_str(&format!("{{*p{}}}", names.len()));
                names.push(greedy.to_string());
            }
            None => {
                out.push_str(&format!("{{p{}}}", names.len()));
                names.push(name.to_string());
            }
        }
        rest = &rest[close + 1..];
    }
    push_literal(&mut out, rest);
    (out, names)
}

/// `text` as matchit reads it literally: a `{` or `}` that is not a parameter's is doubled
/// (found by fuzz/fuzz_targets/routes.rs: `/a}}/{id}` never answered at itself).
fn push_literal(out: &mut String, text: &str) {
    for c in text.chars() {
        if c == '{' || c == '}' {
            out.push(c);
        }
        out.push(c);
    }
}

impl EnvRoutes {
    fn insert(&mut self, entry: Arc<RouteEntry>, match_mode: MatchMode, template: &str) -> Result<(), String> {
        let (router, slots, template) = match match_mode {
            MatchMode::Normal => (&mut self.exact, &mut self.exact_slots, template),
            // `lookup` tries the path's prefixes without a trailing `/`: a prefix template ending
            // in one would never match below itself (found by fuzz/fuzz_targets/routes.rs).
            MatchMode::Swa => (
                &mut self.prefix,
                &mut self.prefix_slots,
                match template.trim_end_matches('/') {
                    "" => "/",
                    trimmed => trimmed,
                },
            ),
        };
        if let Some(&slot) = slots.get(template) {
            self.slots[slot].push(entry);
            return Ok(());
        }
        let slot = self.slots.len();
        router.insert(template, slot).map_err(|e| e.to_string())?;
        slots.insert(template.to_string(), slot);
        self.slots.push(vec![entry]);
        Ok(())
    }

    fn pick(&self, slot: usize, method: &str) -> Option<&Arc<RouteEntry>> {
        let entries = &self.slots[slot];
        entries
            .iter()
            .find(|e| e.method.as_str() == method)
            .or_else(|| entries.iter().find(|e| e.method == Method::Any))
    }

    fn lookup(&self, method: &str, path: &str) -> Option<RouteHit> {
        if let Ok(m) = self.exact.at(path)
            && let Some(api) = self.pick(*m.value, method)
        {
            return Some(found(api, &m.params, ""));
        }
        let mut candidate = path;
        loop {
            if let Ok(m) = self.prefix.at(candidate)
                && let Some(api) = self.pick(*m.value, method)
            {
                return Some(found(api, &m.params, &path[candidate.len()..]));
            }
            if candidate == "/" || candidate.is_empty() {
                return None;
            }
            candidate = match candidate.rfind('/') {
                Some(0) => "/",
                Some(i) => &candidate[..i],
                None => return None,
            };
        }
    }
}

fn found(entry: &Arc<RouteEntry>, params: &matchit::Params<'_, '_>, rest: &str) -> RouteHit {
    let path_params = params
        .iter()
        .filter_map(|(key, value)| {
            let index: usize = key.strip_prefix('p')?.parse().ok()?;
            let name = entry.path_params.get(index)?.clone();
            Some((name, percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()))
        })
        .collect();
    let rest = if rest.is_empty() || rest.starts_with('/') { rest.to_string() } else { format!("/{rest}") };
    RouteHit { entry: entry.clone(), path_params, rest }
}

impl RouteTable {
    /// Builds the table; APIs that cannot be routed are left out and reported, one message each.
    /// It reads no API snapshot: everything it routes by is in each publication's route key.
    pub fn build(live: LiveSet) -> (RouteTable, Vec<String>) {
        let mut problems = Vec::new();
        // Group → environment → variables: looked up by borrowed ids, once per route.
        let mut variables: HashMap<String, HashMap<String, HashMap<String, String>>> = HashMap::new();
        for v in live.variables {
            variables
                .entry(v.group_id)
                .or_default()
                .entry(v.env_id)
                .or_default()
                .insert(v.variable_name, v.variable_value);
        }
        let variables: HashMap<String, HashMap<String, Arc<HashMap<String, String>>>> = variables
            .into_iter()
            .map(|(group, envs)| (group, envs.into_iter().map(|(env, vars)| (env, Arc::new(vars))).collect()))
            .collect();
        let no_variables = Arc::new(HashMap::new());
        let channels: HashMap<String, Arc<Channel>> =
            live.policies.vpc_channels.iter().map(|(_, c)| (c.id.clone(), Arc::new(Channel::new(c)))).collect();
        for key in live
            .policies
            .signatures
            .iter()
            .filter(|k| !crate::backend::APPLIED_SIGN_TYPES.contains(&k.sign_type.as_str()))
        {
            problems.push(format!(
                "signature key {} ({}) is bound but not applied: backend requests are signed with hmac and basic keys only",
                key.name, key.sign_type
            ));
        }
        let (tls, tls_problems) = TlsDomains::build(&live.domains);
        problems.extend(tls_problems);
        let (mut index, apps) = PolicyIndex::new(live.policies);

        let mut groups: HashMap<String, GroupRoutes> = HashMap::new();
        let mut apis = 0;
        let mut shared = SharedNames::default();
        for live_api in live.apis {
            let route = &live_api.route;
            let (template, path_params) = to_matchit(&route.req_uri);
            let vars = variables
                .get(&route.group_id)
                .and_then(|envs| envs.get(&live_api.env_id))
                .unwrap_or(&no_variables)
                .clone();
            let bound = index.for_api(&live_api.publish_id, route);
            let env = env_routes(&mut groups, &route.group_id, &live_api.env_name);
            let (method, match_mode) = (route.req_method, route.match_mode);
            let entry = Arc::new(RouteEntry {
                instance_id: shared.get(live_api.instance_id),
                project_id: shared.get(live_api.project_id),
                env_id: shared.get(live_api.env_id),
                env_name: shared.get(live_api.env_name),
                publish_id: live_api.publish_id,
                version_id: live_api.version_id,
                api_id: live_api.api_id.into(),
                method,
                path_params: path_params.into(),
                variables: vars,
                bound,
            });
            match env.insert(entry.clone(), match_mode, &template) {
                Ok(()) => apis += 1,
                Err(e) => problems.push(format!(
                    "API {} ({} {}) cannot be routed: {e}",
                    entry.api_id, route.req_method, route.req_uri
                )),
            }
        }

        let mut bound: HashMap<&str, Vec<String>> = HashMap::new();
        for live_domain in &live.domains {
            let d = &live_domain.domain;
            bound.entry(d.group_id.as_str()).or_default().push(d.url_domain.to_ascii_lowercase());
        }
        let mut hosts = HashMap::new();
        for group in &live.groups {
            let Some(mut routes) = groups.remove(&group.id) else { continue };
            routes.responses = index.default_responses.get(&group.id).cloned();
            let routes = Arc::new(routes);
            for domain in group_domains(group, &bound) {
                hosts.insert(domain, routes.clone());
            }
        }
        let backend_authorizers =
            index.authorizers.into_iter().filter(|(_, a)| a.authorizer.kind == "BACKEND").collect();
        let member_groups = channels
            .values()
            .flat_map(|c| c.groups.iter().enumerate().map(|(i, g)| (g.id.clone(), (c.clone(), i))))
            .collect();
        let tls = Arc::new(tls);
        (RouteTable { hosts, backend_authorizers, apis, apps, channels, member_groups, tls }, problems)
    }

    /// Every app, for APP authentication.
    pub fn apps(&self) -> &AppDirectory {
        &self.apps
    }

    /// The backend custom authorizer with this id.
    pub fn backend_authorizer(&self, id: &str) -> Option<&Arc<CompiledAuthorizer>> {
        self.backend_authorizers.get(id)
    }

    /// The VPC channel with this id.
    pub fn channel(&self, id: &str) -> Option<&Arc<Channel>> {
        self.channels.get(id)
    }

    /// The channel a member group belongs to, and the group's index in its `groups`.
    pub fn member_group(&self, id: &str) -> Option<&(Arc<Channel>, usize)> {
        self.member_groups.get(id)
    }

    /// Every VPC channel.
    pub fn channels(&self) -> impl Iterator<Item = &Arc<Channel>> {
        self.channels.values()
    }

    /// Number of routed APIs (one per publication).
    pub fn len(&self) -> usize {
        self.apis
    }

    /// Whether nothing is routed.
    pub fn is_empty(&self) -> bool {
        self.apis == 0
    }

    /// The API serving `method path` on `host` in the environment named `stage`.
    /// `host` may carry a port; it is compared without it, case-insensitively.
    pub fn lookup(&self, host: &str, stage: &str, method: &str, path: &str) -> Result<RouteHit, Miss> {
        let group = self.group(host).ok_or(Miss::Host)?;
        let env = group.envs.get(stage).ok_or(Miss::Stage)?;
        env.lookup(method, path).ok_or(Miss::Path)
    }

    /// The `default` gateway response of the group `host` names: what answers a request that
    /// reaches the group but none of its APIs.
    pub fn group_responses(&self, host: &str) -> Option<&Arc<GatewayResponse>> {
        self.group(host)?.responses.as_ref()
    }

    /// The bound domains' certificates.
    pub fn tls(&self) -> &Arc<TlsDomains> {
        &self.tls
    }

    /// Whether a request for `host` (which may carry a port) may be served on a connection that
    /// established `session` (`None`: plain HTTP): a domain that asks for mutual TLS is served
    /// only on connections that verified a client certificate for that very name.
    pub fn admits(&self, host: &str, session: Option<&TlsSession>) -> bool {
        let host = strip_port(host);
        !self.tls.requires_client_certificate(host) || session.is_some_and(|s| s.verified_for(host))
    }

    /// The group of `host`: by its name, or by the wildcard domain of its parent.
    fn group(&self, host: &str) -> Option<&GroupRoutes> {
        let host = strip_port(host);
        let found = self.hosts.get(host).or_else(|| {
            let lower = host.to_ascii_lowercase();
            self.hosts.get(&lower).or_else(|| {
                let (_, parent) = lower.split_once('.')?;
                self.hosts.get(&format!("*.{parent}"))
            })
        });
        found.map(|group| &**group)
    }
}

/// One allocation for each instance, project and environment name, however many routes carry
/// it: at 100,000 routes, owned copies would take tens of megabytes per table.
#[derive(Default)]
struct SharedNames(HashSet<Arc<str>>);

impl SharedNames {
    fn get(&mut self, name: String) -> Arc<str> {
        if let Some(shared) = self.0.get(name.as_str()) {
            return shared.clone();
        }
        let shared: Arc<str> = name.into();
        self.0.insert(shared.clone());
        shared
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map(|(h, _)| &host[..h.len() + 1]).unwrap_or(host);
    }
    host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map(|(h, _)| h).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_model::{Api, ApiDefinition, EnvVariable};
    use portico_store::LiveApi;
    use serde_json::json;
    use time::OffsetDateTime;

    fn group(id: &str) -> ApiGroup {
        ApiGroup {
            id: id.into(),
            name: id.into(),
            status: 1,
            sl_domain: format!("{id}.apig.test"),
            register_time: OffsetDateTime::UNIX_EPOCH,
            update_time: OffsetDateTime::UNIX_EPOCH,
            on_sell_status: 2,
            sl_domain_access_enabled: true,
            remark: None,
            openapi_extensions: Default::default(),
        }
    }

    fn live(id: &str, group: &str, env: &str, method: &str, uri: &str, mode: &str) -> LiveApi {
        let params: Vec<_> = to_matchit(uri)
            .1
            .into_iter()
            .map(|name| json!({ "name": name, "type": "STRING", "location": "PATH" }))
            .collect();
        let mut def = ApiDefinition::from_value(json!({
            "name": format!("api_{id}"), "type": 1, "req_protocol": "HTTP", "req_method": method,
            "req_uri": uri, "auth_type": "NONE", "backend_type": "MOCK", "group_id": group, "match_mode": mode,
            "mock_info": { "result_content": id }, "req_params": params
        }))
        .unwrap();
        def.prepare(None, OffsetDateTime::UNIX_EPOCH);
        LiveApi {
            instance_id: "i".into(),
            project_id: "p".into(),
            env_id: format!("{env}_id"),
            env_name: env.into(),
            publish_id: format!("pub_{id}"),
            version_id: format!("v_{id}"),
            api_id: id.into(),
            route: RouteKey::of(&Api {
                id: id.into(),
                status: 1,
                register_time: OffsetDateTime::UNIX_EPOCH,
                update_time: OffsetDateTime::UNIX_EPOCH,
                definition: def,
            }),
        }
    }

    /// `api` routed by a template the model refuses: the table must not rely on validation
    /// (fuzz/fuzz_targets/routes.rs).
    fn with_uri(mut api: LiveApi, uri: &str) -> LiveApi {
        api.route.req_uri = uri.into();
        api
    }

    fn table(apis: Vec<LiveApi>) -> RouteTable {
        let variables = vec![EnvVariable {
            id: "v".into(),
            env_id: "RELEASE_id".into(),
            group_id: "g1".into(),
            variable_name: "host".into(),
            variable_value: "example.org".into(),
        }];
        let (table, problems) = RouteTable::build(LiveSet {
            apis,
            groups: vec![group("g1"), group("g2")],
            variables,
            ..Default::default()
        });
        assert_eq!(problems, Vec::<String>::new());
        table
    }

    fn hit(t: &RouteTable, host: &str, stage: &str, method: &str, path: &str) -> Result<String, Miss> {
        t.lookup(host, stage, method, path).map(|m| m.entry.api_id.to_string())
    }

    #[test]
    fn templates_become_positional() {
        assert_eq!(to_matchit("/users/{id}/x"), ("/users/{p0}/x".into(), vec!["id".into()]));
        assert_eq!(to_matchit("/a/{x}/{rest+}"), ("/a/{p0}/{*p1}".into(), vec!["x".into(), "rest".into()]));
        assert_eq!(to_matchit("/plain"), ("/plain".into(), vec![]));
    }

    #[test]
    fn bound_domains_reach_their_group_and_the_subdomain_can_be_switched_off() {
        let domain = |name: &str, group: &str| portico_store::LiveDomain {
            domain: portico_model::Domain {
                id: name.into(),
                group_id: group.into(),
                url_domain: name.into(),
                min_ssl_version: "TLSv1.2".into(),
                is_http_redirect_to_https: false,
                verified_client_certificate_enabled: false,
                ssl_id: None,
            },
            certificate: None,
        };
        let mut g2 = group("g2");
        g2.sl_domain_access_enabled = false;
        let (t, problems) = RouteTable::build(LiveSet {
            apis: vec![
                live("a", "g1", "RELEASE", "GET", "/x", "NORMAL"),
                live("b", "g2", "RELEASE", "GET", "/x", "NORMAL"),
            ],
            groups: vec![group("g1"), g2],
            domains: vec![domain("api.example.com", "g1"), domain("*.apps.example.com", "g2")],
            ..Default::default()
        });
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(hit(&t, "API.example.com:443", "RELEASE", "GET", "/x"), Ok("a".into()));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/x"), Ok("a".into()));
        assert_eq!(hit(&t, "one.apps.example.com", "RELEASE", "GET", "/x"), Ok("b".into()));
        assert_eq!(hit(&t, "a.b.apps.example.com", "RELEASE", "GET", "/x"), Err(Miss::Host));
        assert_eq!(hit(&t, "g2.apig.test", "RELEASE", "GET", "/x"), Err(Miss::Host));
    }

    #[test]
    fn host_stage_method_and_path() {
        let t = table(vec![
            live("a", "g1", "RELEASE", "GET", "/users/{id}", "NORMAL"),
            live("b", "g1", "RELEASE", "DELETE", "/users/{name}", "NORMAL"),
            live("c", "g1", "test", "GET", "/users/{id}", "NORMAL"),
            live("d", "g2", "RELEASE", "ANY", "/users/{id}", "NORMAL"),
            live("e", "g1", "RELEASE", "GET", "/users/me", "NORMAL"),
        ]);
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/users/7"), Ok("a".into()));
        assert_eq!(hit(&t, "G1.APIG.test:8081", "RELEASE", "DELETE", "/users/7"), Ok("b".into()));
        assert_eq!(hit(&t, "g1.apig.test", "test", "GET", "/users/7"), Ok("c".into()));
        assert_eq!(hit(&t, "g2.apig.test", "RELEASE", "PATCH", "/users/7"), Ok("d".into()));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/users/me"), Ok("e".into()));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "POST", "/users/7"), Err(Miss::Path));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/users/7/x"), Err(Miss::Path));
        assert_eq!(hit(&t, "g1.apig.test", "nope", "GET", "/users/7"), Err(Miss::Stage));
        assert_eq!(hit(&t, "g3.apig.test", "RELEASE", "GET", "/users/7"), Err(Miss::Host));
        let m = t.lookup("g1.apig.test", "RELEASE", "DELETE", "/users/a%20b").unwrap();
        assert_eq!(m.path_params, vec![("name".to_string(), "a b".to_string())]);
        assert_eq!(m.entry.variables.get("host").map(String::as_str), Some("example.org"));
        assert!(t.lookup("g1.apig.test", "test", "GET", "/users/1").unwrap().entry.variables.is_empty());
    }

    #[test]
    fn prefix_matching_is_by_segment_and_exact_wins() {
        let t = table(vec![
            live("swa", "g1", "RELEASE", "GET", "/shop", "SWA"),
            live("deep", "g1", "RELEASE", "GET", "/shop/{id}/items", "SWA"),
            live("exact", "g1", "RELEASE", "GET", "/shop/special", "NORMAL"),
            live("post", "g1", "RELEASE", "POST", "/shop/{id}", "NORMAL"),
        ]);
        let h = |p| hit(&t, "g1.apig.test", "RELEASE", "GET", p);
        assert_eq!(h("/shop"), Ok("swa".into()));
        assert_eq!(h("/shop/x/y"), Ok("swa".into()));
        assert_eq!(h("/shop/special"), Ok("exact".into()));
        assert_eq!(h("/shop/special/more"), Ok("swa".into()));
        // The exact POST route at /shop/{id} has no GET: the prefix route answers.
        assert_eq!(h("/shop/42"), Ok("swa".into()));
        assert_eq!(h("/shop/42/items/9"), Ok("deep".into()));
        assert_eq!(h("/shopping"), Err(Miss::Path));
        let rest = |p| t.lookup("g1.apig.test", "RELEASE", "GET", p).unwrap().rest;
        assert_eq!(rest("/shop/x/y"), "/x/y");
        assert_eq!(rest("/shop"), "");
        assert_eq!(rest("/shop/special"), "");
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "POST", "/shop/1"), Ok("post".into()));
    }

    #[test]
    fn a_prefix_with_a_trailing_slash_matches_below_it() {
        let t = table(vec![live("slash", "g1", "RELEASE", "GET", "/shop/{id}/items/", "SWA")]);
        let m = t.lookup("g1.apig.test", "RELEASE", "GET", "/shop/7/items/below").unwrap();
        assert_eq!((&*m.entry.api_id, m.rest.as_str()), ("slash", "/below"));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/shop/7/items/"), Ok("slash".into()));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/shop/7/items"), Ok("slash".into()));
    }

    #[test]
    fn braces_outside_parameters_are_literal() {
        let t = table(vec![
            with_uri(live("closing", "g1", "RELEASE", "GET", "/shop/{id}/items", "SWA"), "/sh}}op/{id}/items"),
            with_uri(live("opening", "g1", "RELEASE", "GET", "/ab", "NORMAL"), "/a{b"),
        ]);
        let m = t.lookup("g1.apig.test", "RELEASE", "GET", "/sh}}op/7/items/x").unwrap();
        assert_eq!((&*m.entry.api_id, m.rest.as_str()), ("closing", "/x"));
        assert_eq!(m.path_params, vec![("id".to_string(), "7".to_string())]);
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/sh}op/7/items"), Err(Miss::Path));
        assert_eq!(hit(&t, "g1.apig.test", "RELEASE", "GET", "/a{b"), Ok("opening".into()));
    }

    #[test]
    fn greedy_parameter_takes_the_rest() {
        let t = table(vec![live("g", "g1", "RELEASE", "GET", "/files/{path+}", "NORMAL")]);
        let m = t.lookup("g1.apig.test", "RELEASE", "GET", "/files/a/b/c.txt").unwrap();
        assert_eq!(m.path_params, vec![("path".to_string(), "a/b/c.txt".to_string())]);
    }

    #[test]
    fn unroutable_apis_are_reported_not_fatal() {
        let apis = vec![
            live("ok", "g1", "RELEASE", "GET", "/ok", "NORMAL"),
            with_uri(live("bad", "g1", "RELEASE", "GET", "/x/{a}/{b}", "NORMAL"), "/x/{a}{b}"),
        ];
        let (t, problems) =
            RouteTable::build(LiveSet { apis, groups: vec![group("g1")], variables: vec![], ..Default::default() });
        assert_eq!(t.len(), 1);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("bad"), "{problems:?}");
    }

    #[test]
    fn bound_signature_keys_that_are_not_applied_are_reported() {
        let key = |name: &str, sign_type: &str| portico_model::Signature {
            id: name.into(),
            name: name.into(),
            sign_type: sign_type.into(),
            sign_key: "key_12345678".into(),
            sign_secret: "secret_1234567890".into(),
            sign_algorithm: None,
            create_time: OffsetDateTime::UNIX_EPOCH,
            update_time: OffsetDateTime::UNIX_EPOCH,
        };
        let policies = LivePolicies {
            signatures: vec![key("by_hmac", "hmac"), key("by_basic", "basic"), key("by_aes", "aes")],
            ..Default::default()
        };
        let (_, problems) = RouteTable::build(LiveSet { groups: vec![group("g1")], policies, ..Default::default() });
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("by_aes (aes) is bound but not applied"), "{problems:?}");
    }
}
