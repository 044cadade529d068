//! What the policy methods of [`crate::Store`] take and give: filters, published APIs as the
//! binding lists show them, and bindings.

use portico_model::{
    Acl, App, AppAuth, AppWithSecret, Authorizer, GatewayResponse, Signature, Throttle, ThrottleSpecial, VpcChannel,
};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::TextMatch;

/// The kinds of policies bound to publish records; a publish record has at most one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Request throttling policy.
    Throttle,
    /// ACL policy.
    Acl,
    /// Signature key.
    Sign,
}

impl PolicyKind {
    /// The stored spelling (`policy_bindings.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Throttle => "throttle",
            PolicyKind::Acl => "acl",
            PolicyKind::Sign => "sign",
        }
    }

    /// The kind with this stored spelling.
    pub fn from_stored(kind: &str) -> Option<PolicyKind> {
        [PolicyKind::Throttle, PolicyKind::Acl, PolicyKind::Sign].into_iter().find(|k| k.as_str() == kind)
    }

    /// How messages name it.
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Throttle => "request throttling policy",
            PolicyKind::Acl => "ACL policy",
            PolicyKind::Sign => "signature key",
        }
    }
}

/// A publish record with what binding lists show of its API.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedApi {
    /// Publish record id.
    pub publish_id: String,
    /// The API.
    pub api_id: String,
    /// Its name.
    pub api_name: String,
    /// 1 public, 2 private.
    pub api_type: i32,
    /// Its description.
    pub api_remark: Option<String>,
    /// Frontend method.
    pub req_method: String,
    /// Frontend path.
    pub req_uri: String,
    /// Authentication type.
    pub auth_type: String,
    /// Its group.
    pub group_id: String,
    /// The group's name.
    pub group_name: String,
    /// The environment.
    pub env_id: String,
    /// The environment's name.
    pub env_name: String,
    /// When the live version was published.
    pub publish_time: OffsetDateTime,
    /// Its tags.
    pub tags: Vec<String>,
}

/// Filters of the "APIs bound / not bound to …" lists.
#[derive(Debug, Clone, Default)]
pub struct PublishedApiFilter {
    /// Environment.
    pub env_id: Option<String>,
    /// Group.
    pub group_id: Option<String>,
    /// API id.
    pub api_id: Option<String>,
    /// API name (substring).
    pub api_name: Option<String>,
    /// Tag.
    pub tag: Option<String>,
}

/// A binding of a policy to a publish record.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyBinding {
    /// Binding id.
    pub id: String,
    /// The policy.
    pub policy_id: String,
    /// The policy's name.
    pub policy_name: String,
    /// The publish record.
    pub publish_id: String,
    /// Its API.
    pub api_id: String,
    /// Its environment.
    pub env_id: String,
    /// When it was bound.
    pub create_time: OffsetDateTime,
}

/// A published API with the binding that ties it to a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundApi {
    /// The publish record and its API.
    pub api: PublishedApi,
    /// The binding.
    pub binding: PolicyBinding,
}

/// A policy bound to an API: the binding, the environment's name, and the policy in its wire
/// form (a signature key with its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct BoundPolicy {
    /// The binding.
    pub binding: PolicyBinding,
    /// The environment's name.
    pub env_name: String,
    /// The policy as stored.
    pub policy: Map<String, Value>,
}

/// Filters of the "policies bound to an API" lists.
#[derive(Debug, Clone, Default)]
pub struct BoundPolicyFilter {
    /// Environment.
    pub env_id: Option<String>,
    /// Policy id.
    pub policy_id: Option<String>,
    /// Policy name (substring).
    pub policy_name: Option<String>,
}

/// Filters of `ListAppsV2`.
#[derive(Debug, Clone, Default)]
pub struct AppFilter {
    /// App id.
    pub id: Option<String>,
    /// App name.
    pub name: Option<TextMatch>,
    /// App key.
    pub app_key: Option<String>,
    /// Creator (`USER`).
    pub creator: Option<String>,
    /// Status (1).
    pub status: Option<i32>,
    /// Related account.
    pub related_domain_id: Option<String>,
    /// Related project.
    pub related_project_id: Option<String>,
}

/// An app with the number of APIs it is authorized for (`AppInfoWithBindNum`).
#[derive(Debug, Clone, PartialEq)]
pub struct AppSummary {
    /// The app with its secret (`AppInfoWithBindNum` shows it).
    pub app: AppWithSecret,
    /// Authorizations.
    pub bind_num: u64,
}

/// Filters of the authorization lists (`/app-auths/binded-apis`, `/app-auths/binded-apps`).
#[derive(Debug, Clone, Default)]
pub struct AppAuthFilter {
    /// App.
    pub app_id: Option<String>,
    /// App name (substring).
    pub app_name: Option<String>,
    /// The published APIs.
    pub apis: PublishedApiFilter,
    /// Group name (substring).
    pub group_name: Option<String>,
}

/// An authorization with its app and published API.
#[derive(Debug, Clone, PartialEq)]
pub struct AppAuthEntry {
    /// The authorization.
    pub auth: AppAuth,
    /// The app.
    pub app: App,
    /// The published API.
    pub api: PublishedApi,
}

/// The result of authorizing one app for one API: `(app_id, api_id, outcome)`.
pub type AuthOutcome = Vec<(String, String, crate::Result<AppAuth>)>;

/// A throttling policy with what its details add (`ThrottlesInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleSummary {
    /// The policy.
    pub throttle: Throttle,
    /// Publish records it is bound to.
    pub bind_num: u64,
    /// Whether it has special throttles.
    pub has_specials: bool,
}

/// An ACL policy with the number of publish records it is bound to.
#[derive(Debug, Clone, PartialEq)]
pub struct AclSummary {
    /// The policy.
    pub acl: Acl,
    /// Publish records it is bound to.
    pub bind_num: u64,
}

/// Filters of `ListAclStrategiesV2`.
#[derive(Debug, Clone, Default)]
pub struct AclFilter {
    /// Policy id.
    pub id: Option<String>,
    /// Policy name.
    pub name: Option<TextMatch>,
    /// `PERMIT` / `DENY`.
    pub acl_type: Option<String>,
    /// `IP` / `DOMAIN` / `DOMAIN_ID`.
    pub entity_type: Option<String>,
}

/// Filters of `ListSpecialThrottlingConfigurationsV2`.
#[derive(Debug, Clone, Default)]
pub struct SpecialFilter {
    /// `APP` / `USER`.
    pub object_type: Option<String>,
    /// App name (substring).
    pub app_name: Option<String>,
    /// User id (substring).
    pub user: Option<String>,
}

/// Filters of `ListCustomAuthorizersV2`.
#[derive(Debug, Clone, Default)]
pub struct AuthorizerFilter {
    /// Authorizer id.
    pub id: Option<String>,
    /// Name (substring).
    pub name: Option<String>,
    /// `FRONTEND` / `BACKEND`.
    pub kind: Option<String>,
}

/// Filters of `ListVpcChannelsV2`.
#[derive(Debug, Clone, Default)]
pub struct VpcChannelFilter {
    /// Channel id.
    pub id: Option<String>,
    /// Channel name.
    pub name: Option<TextMatch>,
    /// Channels with a member at this host.
    pub member_host: Option<String>,
    /// Channels with a member on this port.
    pub member_port: Option<i64>,
    /// Channels with a member group of this name.
    pub member_group_name: Option<String>,
    /// Channels with a member group of this id.
    pub member_group_id: Option<String>,
}

/// A signature key with the number of publish records it is bound to.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureSummary {
    /// The key, with its secret in clear.
    pub signature: Signature,
    /// Publish records it is bound to.
    pub bind_num: u64,
}

/// What an import does with a policy whose name already exists (`extend_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendMode {
    /// Keep the existing policy as it is.
    Merge,
    /// Overwrite it with the imported one (same id).
    Override,
}

/// What the data plane needs of the policies, read with the live publications
/// ([`crate::Store::live_routes`]): every app with its secret and AppCodes in clear, every
/// authorization and binding of a live publication, and the objects they name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LivePolicies {
    /// Every app, with its instance and AppCodes.
    pub apps: Vec<LiveApp>,
    /// App authorizations: (publish id, app id).
    pub app_auths: Vec<(String, String)>,
    /// Policy bindings of live publications.
    pub bindings: Vec<LiveBinding>,
    /// The bound throttling policies.
    pub throttles: Vec<Throttle>,
    /// Their special throttles.
    pub specials: Vec<ThrottleSpecial>,
    /// The bound ACL policies.
    pub acls: Vec<Acl>,
    /// The bound signature keys, secrets in clear.
    pub signatures: Vec<Signature>,
    /// The gateway responses of the live groups.
    pub gateway_responses: Vec<GatewayResponse>,
    /// Every VPC channel: (instance id, channel).
    pub vpc_channels: Vec<(String, VpcChannel)>,
    /// Every custom authorizer: (instance id, authorizer).
    pub authorizers: Vec<(String, Authorizer)>,
}

/// An app as the data plane checks it. `Debug` hides the AppCodes (the secret hides itself).
#[derive(Clone, PartialEq)]
pub struct LiveApp {
    /// Its instance.
    pub instance_id: String,
    /// The app with its secret.
    pub app: AppWithSecret,
    /// Its AppCodes, in clear.
    pub app_codes: Vec<String>,
}

impl std::fmt::Debug for LiveApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveApp")
            .field("instance_id", &self.instance_id)
            .field("app", &self.app)
            .field("app_codes", &format_args!("<{} redacted>", self.app_codes.len()))
            .finish()
    }
}

/// A policy bound to a live publication.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveBinding {
    /// What kind of policy.
    pub kind: PolicyKind,
    /// The publish record.
    pub publish_id: String,
    /// The policy.
    pub policy_id: String,
}
