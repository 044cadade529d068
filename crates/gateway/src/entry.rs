//! The route entry types: what the table holds for one live publication ([`RouteEntry`], with
//! its [`ApiPolicies`]), a published version decoded once ([`PreparedVersion`]), and what a
//! lookup gives the phases of a request ([`RouteHit`], then [`RouteMatch`] with its
//! [`RouteApi`]). They sit below the table, the version cache and the phases, which all read them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use portico_model::{Api, GatewayResponse, Method, Signature};

use crate::acl::AclPolicy;
use crate::authorizers::CompiledAuthorizer;
use crate::policies::{CompiledPolicy, compile_policies};
use crate::throttle::ThrottlePolicy;

/// One live publication in the table: where it lives and what is bound to it. Its published
/// version is decoded only when a request reaches it ([`crate::versions::VersionCache`]).
#[derive(Debug)]
pub struct RouteEntry {
    /// Its instance.
    pub instance_id: Arc<str>,
    /// The instance's project.
    pub project_id: Arc<str>,
    /// The environment it is live in.
    pub env_id: Arc<str>,
    /// That environment's name.
    pub env_name: Arc<str>,
    /// Publish record id.
    pub publish_id: String,
    /// The live version.
    pub version_id: String,
    /// The API's id (shared with the metrics' `api_id` label).
    pub api_id: Arc<str>,
    /// The frontend method (`ANY` matches every method).
    pub method: Method,
    /// Names of the path parameters, in template order.
    pub path_params: Arc<[String]>,
    /// The group's variables in this environment (`#name#` → value).
    pub variables: Arc<HashMap<String, String>>,
    /// What is bound to the publish record, and the gateway response in force.
    pub bound: ApiPolicies,
}

/// One published version, decoded and compiled once, shared by every request (and every
/// table) that serves it: versions never change.
#[derive(Debug)]
pub struct PreparedVersion {
    /// The published snapshot.
    pub api: Arc<Api>,
    /// Its backend policies, compiled.
    pub policies: Arc<[CompiledPolicy]>,
}

impl PreparedVersion {
    /// Also reports the backend policies that cannot be compiled.
    pub fn new(api: Api) -> (PreparedVersion, Vec<String>) {
        let (policies, problems) = compile_policies(&api.definition);
        let problems = problems.into_iter().map(|p| format!("API {}: {p}", api.id)).collect();
        (PreparedVersion { api: Arc::new(api), policies: policies.into() }, problems)
    }
}

/// A live API with its version decoded: what the phases of a request work on. It derefs to
/// its [`RouteEntry`].
#[derive(Debug)]
pub struct RouteApi {
    /// Where it lives and what is bound to it.
    pub entry: Arc<RouteEntry>,
    /// The published snapshot.
    pub api: Arc<Api>,
    /// Backend policies, compiled.
    pub policies: Arc<[CompiledPolicy]>,
}

impl RouteApi {
    /// `entry` served by `version`.
    pub fn new(entry: Arc<RouteEntry>, version: &PreparedVersion) -> RouteApi {
        RouteApi { entry, api: version.api.clone(), policies: version.policies.clone() }
    }
}

impl std::ops::Deref for RouteApi {
    type Target = RouteEntry;
    fn deref(&self) -> &RouteEntry {
        &self.entry
    }
}

/// The policies of one publish record, shared with the other records bound to the same ones.
#[derive(Debug, Default)]
pub struct ApiPolicies {
    /// Apps authorized for the API in this environment (APP authentication).
    pub authorized_apps: HashSet<String>,
    /// The bound request throttling policy.
    pub throttle: Option<Arc<ThrottlePolicy>>,
    /// The bound ACL policy.
    pub acl: Option<Arc<AclPolicy>>,
    /// The bound signature key (signs the backend request).
    pub signature: Option<Arc<Signature>>,
    /// The gateway response the API names (`response_id`), else its group's `default`.
    pub responses: Option<Arc<GatewayResponse>>,
    /// The frontend custom authorizer (`auth_type` AUTHORIZER).
    pub authorizer: Option<Arc<CompiledAuthorizer>>,
}

/// A successful lookup in the table.
#[derive(Debug, Clone)]
pub struct RouteHit {
    /// The publication.
    pub entry: Arc<RouteEntry>,
    /// Path parameter values (percent-decoded), by frontend name.
    pub path_params: Vec<(String, String)>,
    /// For a prefix (`SWA`) match, the part of the path after the matched prefix (`""` or
    /// `/…`); it is appended to the backend path.
    pub rest: String,
}

/// A lookup with the API's version decoded: what the phases of a request work on.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    /// The API.
    pub api: Arc<RouteApi>,
    /// Path parameter values (percent-decoded), by frontend name.
    pub path_params: Vec<(String, String)>,
    /// For a prefix (`SWA`) match, the part of the path after the matched prefix (`""` or
    /// `/…`); it is appended to the backend path.
    pub rest: String,
}
