//! An API definition: frontend, backend (HTTP, FUNCTION or MOCK), parameters and backend
//! policies. The same type is the draft an API has and the snapshot a publication keeps.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::new_id;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[doc = concat!("`", $wire, "` on the wire.")] #[serde(rename = $wire)] $variant),+ }
        impl $name {
            /// The spelling on the wire.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $wire),+ } }
            /// Parses the wire spelling.
            pub fn parse(s: &str) -> Option<Self> { match s { $($wire => Some($name::$variant),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

wire_enum!(
    /// Frontend request protocol.
    ReqProtocol { Http = "HTTP", Https = "HTTPS", Both = "BOTH", Grpcs = "GRPCS" }
);
wire_enum!(
    /// Backend request protocol.
    BackendProtocol { Http = "HTTP", Https = "HTTPS", Grpc = "GRPC", Grpcs = "GRPCS" }
);
wire_enum!(
    /// HTTP method of a frontend or backend; `ANY` matches every method.
    Method { Get = "GET", Post = "POST", Put = "PUT", Delete = "DELETE", Head = "HEAD",
             Patch = "PATCH", Options = "OPTIONS", Any = "ANY" }
);
wire_enum!(
    /// How callers authenticate to the API.
    AuthType { None = "NONE", App = "APP", Iam = "IAM", Authorizer = "AUTHORIZER" }
);
wire_enum!(
    /// `NORMAL` matches the path exactly, `SWA` matches it as a prefix.
    MatchMode { Normal = "NORMAL", Swa = "SWA" }
);
wire_enum!(
    /// Which kind of backend serves the API.
    BackendType { Http = "HTTP", Function = "FUNCTION", Mock = "MOCK", Grpc = "GRPC" }
);
wire_enum!(
    /// Where a parameter travels.
    ParamLocation { Path = "PATH", Query = "QUERY", Header = "HEADER" }
);
wire_enum!(
    /// Type of a frontend parameter.
    ParamType { String = "STRING", Number = "NUMBER" }
);
wire_enum!(
    /// Where a backend parameter's value comes from.
    ParamOrigin { Request = "REQUEST", Constant = "CONSTANT", System = "SYSTEM" }
);
wire_enum!(
    /// Whether all or any of a backend policy's conditions must hold.
    EffectMode { All = "ALL", Any = "ANY" }
);
wire_enum!(
    /// What a backend policy condition looks at.
    ConditionOrigin { Param = "param", Source = "source", System = "system", Cookie = "cookie",
                      FrontendAuthorizer = "frontend_authorizer", Orchestration = "orchestration" }
);
wire_enum!(
    /// How a backend policy condition compares.
    ConditionType { Exact = "exact", Enum = "enum", Pattern = "pattern" }
);
wire_enum!(
    /// FunctionGraph invocation mode.
    InvocationType { Async = "async", Sync = "sync" }
);
wire_enum!(
    /// FunctionGraph network architecture.
    NetworkType { V1 = "V1", V2 = "V2" }
);
wire_enum!(
    /// AppCode authentication on an APP-authenticated API.
    AppCodeAuthType { Disable = "DISABLE", Header = "HEADER" }
);

/// Server-side bookkeeping carried by every backend object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    /// Object id.
    #[serde(default)]
    pub id: String,
    /// Always 1 (valid).
    #[serde(default = "one")]
    pub status: i32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339", default = "epoch")]
    pub register_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339", default = "epoch")]
    pub update_time: OffsetDateTime,
}

fn one() -> i32 {
    1
}
fn epoch() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

impl Stamp {
    fn renew(&mut self, previous: Option<&Stamp>, now: OffsetDateTime) {
        match previous {
            Some(p) => {
                self.id = p.id.clone();
                self.register_time = p.register_time;
            }
            None => {
                self.id = new_id();
                self.register_time = now;
            }
        }
        self.status = 1;
        self.update_time = now;
    }
}

/// Security options of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthOpt {
    /// AppCode authentication, only meaningful with `auth_type` APP.
    #[serde(default = "app_code_disabled")]
    pub app_code_auth_type: AppCodeAuthType,
}

fn app_code_disabled() -> AppCodeAuthType {
    AppCodeAuthType::Disable
}

/// VPC channel reference of a backend (request form `ApiBackendVpcReq`, response form `VpcInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcChannelInfo {
    /// The load-balance channel.
    pub vpc_channel_id: String,
    /// Host header sent to the channel's members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_channel_proxy_host: Option<String>,
}

/// Per-member-group backend address (VPC channel status 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberGroupUrlInfo {
    /// Member group of the channel.
    pub member_group_id: String,
    /// Protocol towards the group.
    pub req_protocol: BackendProtocol,
    /// Method towards the group.
    pub req_method: Method,
    /// Path towards the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_uri: Option<String>,
}

/// The HTTP (or gRPC) backend of an API: `backend_api`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendApi {
    /// Backend custom authorizer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// `host[:port]`, may hold `#variables#`; absent when a VPC channel is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_domain: Option<String>,
    /// Protocol towards the backend.
    pub req_protocol: BackendProtocol,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Method towards the backend.
    pub req_method: Method,
    /// Backend version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Backend path, may hold `{params}` and `#variables#`.
    pub req_uri: String,
    /// Timeout in ms, 1–600000.
    pub timeout: i64,
    /// Two-way TLS towards the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_client_ssl: Option<bool>,
    /// Retries, "-1" to "10" (a string on the wire).
    #[serde(default = "default_retry")]
    pub retry_count: String,
    /// SM cryptography channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_sm_channel: Option<bool>,
    /// Per member group addresses (VPC channel status 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_group_url_infos: Vec<MemberGroupUrlInfo>,
    /// The VPC channel, when `vpc_channel_status` is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_channel_info: Option<VpcChannelInfo>,
    /// 1 use a VPC channel, 2 a direct address (default), 4 member-group channel.
    #[serde(default = "no_vpc")]
    pub vpc_channel_status: i32,
    /// Bookkeeping.
    #[serde(flatten)]
    pub stamp: Stamp,
}

fn default_retry() -> String {
    "-1".into()
}
fn no_vpc() -> i32 {
    2
}

/// The FunctionGraph backend of an API: `func_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiFunc {
    /// Function URN.
    pub function_urn: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// sync or async.
    pub invocation_type: InvocationType,
    /// V1 or V2.
    pub network_type: NetworkType,
    /// Function version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Function alias URN; wins over `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_urn: Option<String>,
    /// Timeout in ms.
    pub timeout: i64,
    /// Backend custom authorizer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// HTTPS (default) or GRPCS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_protocol: Option<String>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// The mock backend of an API: `mock_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiMock {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The body the mock answers with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_content: Option<String>,
    /// Version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Backend custom authorizer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A frontend request parameter: `req_params[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReqParam {
    /// Parameter name.
    pub name: String,
    /// STRING or NUMBER.
    #[serde(rename = "type")]
    pub param_type: ParamType,
    /// PATH, QUERY or HEADER.
    pub location: ParamLocation,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Example value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_value: Option<String>,
    /// 1 required, 2 optional (PATH parameters are always required).
    #[serde(default)]
    pub required: i32,
    /// 1 validate, 2 do not (default).
    #[serde(default = "two")]
    pub valid_enable: i32,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Comma-separated allowed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enumerations: Option<String>,
    /// Minimum (NUMBER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_num: Option<i64>,
    /// Maximum (NUMBER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num: Option<i64>,
    /// Minimum length (STRING).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<i64>,
    /// Maximum length (STRING).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i64>,
    /// Regular expression (stored, not enforced, as in APIG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regular: Option<String>,
    /// JSON schema (stored, not enforced, as in APIG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// 1 pass the parameter to the backend, 2 do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_through: Option<i32>,
    /// Orchestration rule ids, in priority order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orchestrations: Vec<String>,
    /// Extension fields (`x-…`) of the OpenAPI object this came from that Portico does not
    /// interpret: kept on import, written again on export. Keys must start with `x-`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub openapi_extensions: serde_json::Map<String, serde_json::Value>,
    /// Parameter id.
    #[serde(default)]
    pub id: String,
}

fn two() -> i32 {
    2
}

/// A backend parameter: `backend_params[]`, also inside backend policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendParam {
    /// REQUEST, CONSTANT or SYSTEM.
    pub origin: ParamOrigin,
    /// Name towards the backend.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// PATH, QUERY or HEADER.
    pub location: ParamLocation,
    /// REQUEST: the frontend parameter's name; CONSTANT: the value; SYSTEM: the system parameter.
    #[serde(default)]
    pub value: String,
    /// Parameter id.
    #[serde(default)]
    pub id: String,
    /// For REQUEST parameters, the id of the frontend parameter they map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_param_id: Option<String>,
}

/// A backend policy condition: `conditions[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Frontend parameter name (origin `param`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_param_name: Option<String>,
    /// Gateway parameter (origin `system`): `req_path` or `req_method`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_param_name: Option<String>,
    /// Cookie name (origin `cookie`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_param_name: Option<String>,
    /// Frontend authorizer output (origin `frontend_authorizer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_authorizer_param_name: Option<String>,
    /// exact, enum or pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_type: Option<ConditionType>,
    /// What the condition looks at.
    pub condition_origin: ConditionOrigin,
    /// The value, list or pattern to compare with.
    pub condition_value: String,
    /// Orchestrated parameter name (origin `orchestration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_param_name: Option<String>,
    /// Orchestrated parameter location (origin `orchestration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_param_location: Option<String>,
    /// Condition id.
    #[serde(default)]
    pub id: String,
    /// For `param` conditions, the id of the frontend parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_param_id: Option<String>,
    /// For `param` conditions, the location of the frontend parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_param_location: Option<ParamLocation>,
}

/// What every backend policy has, whatever its backend kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyCommon {
    /// Policy id.
    #[serde(default)]
    pub id: String,
    /// ALL or ANY.
    pub effect_mode: EffectMode,
    /// Policy name.
    pub name: String,
    /// Backend parameters of this policy's backend.
    #[serde(default)]
    pub backend_params: Vec<BackendParam>,
    /// When the policy applies.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Backend custom authorizer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
}

/// A backend policy with an HTTP backend: `policy_https[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyHttp {
    /// Name, mode, parameters, conditions.
    #[serde(flatten)]
    pub common: PolicyCommon,
    /// `host[:port]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_domain: Option<String>,
    /// Protocol towards the backend.
    pub req_protocol: BackendProtocol,
    /// Method towards the backend.
    pub req_method: Method,
    /// Backend path.
    pub req_uri: String,
    /// Timeout in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Retries, "-1" to "10".
    #[serde(default = "default_retry")]
    pub retry_count: String,
    /// SM cryptography channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_sm_channel: Option<bool>,
    /// Per member group addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_group_url_infos: Vec<MemberGroupUrlInfo>,
    /// The VPC channel, when `vpc_channel_status` is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_channel_info: Option<VpcChannelInfo>,
    /// 1 VPC channel, 2 direct address.
    #[serde(default = "no_vpc")]
    pub vpc_channel_status: i32,
}

/// A backend policy with a FunctionGraph backend: `policy_functions[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyFunction {
    /// Name, mode, parameters, conditions.
    #[serde(flatten)]
    pub common: PolicyCommon,
    /// Function URN.
    pub function_urn: String,
    /// sync or async.
    pub invocation_type: InvocationType,
    /// V1 or V2.
    pub network_type: NetworkType,
    /// Function version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Function alias URN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_urn: Option<String>,
    /// Timeout in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// HTTPS or GRPCS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_protocol: Option<String>,
}

/// A backend policy with a mock backend: `policy_mocks[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyMock {
    /// Name, mode, parameters, conditions.
    #[serde(flatten)]
    pub common: PolicyCommon,
    /// The body the mock answers with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_content: Option<String>,
}

/// An API as its owner defines it (`ApiCreate` on the wire, plus the ids of its parts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiDefinition {
    /// API name, unique in its group.
    pub name: String,
    /// 1 public, 2 private.
    #[serde(rename = "type")]
    pub api_type: i32,
    /// Version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Frontend protocol.
    pub req_protocol: ReqProtocol,
    /// Frontend method.
    pub req_method: Method,
    /// Frontend path, may hold `{params}`.
    pub req_uri: String,
    /// Frontend authentication.
    pub auth_type: AuthType,
    /// Security options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_opt: Option<AuthOpt>,
    /// CORS support.
    #[serde(default)]
    pub cors: bool,
    /// Tracing (APIG only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_enabled: Option<bool>,
    /// Sampling strategy when tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_strategy: Option<String>,
    /// Sampling rate when tracing, "0"–"100".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_param: Option<String>,
    /// NORMAL (exact) or SWA (prefix).
    #[serde(default = "normal")]
    pub match_mode: MatchMode,
    /// Which backend serves the API.
    pub backend_type: BackendType,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The API's group.
    pub group_id: String,
    /// Request body description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_remark: Option<String>,
    /// Example success response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_normal_sample: Option<String>,
    /// Example failure response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_failure_sample: Option<String>,
    /// Frontend custom authorizer (required with AUTHORIZER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Group gateway response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Integration application (ROMA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roma_app_id: Option<String>,
    /// Bound domain (not supported by APIG either; stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// Deprecated single tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Request content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Base64 body towards FunctionGraph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_send_fg_body_base64: Option<bool>,
    /// Mock backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock_info: Option<ApiMock>,
    /// FunctionGraph backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub func_info: Option<ApiFunc>,
    /// Frontend parameters.
    #[serde(default)]
    pub req_params: Vec<ReqParam>,
    /// Backend parameters.
    #[serde(default)]
    pub backend_params: Vec<BackendParam>,
    /// Mock backend policies.
    #[serde(default)]
    pub policy_mocks: Vec<PolicyMock>,
    /// FunctionGraph backend policies.
    #[serde(default)]
    pub policy_functions: Vec<PolicyFunction>,
    /// HTTP backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_api: Option<BackendApi>,
    /// HTTP backend policies.
    #[serde(default)]
    pub policy_https: Vec<PolicyHttp>,
    /// Extension fields (`x-…`) of the OpenAPI object this came from that Portico does not
    /// interpret: kept on import, written again on export. Keys must start with `x-`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub openapi_extensions: serde_json::Map<String, serde_json::Value>,
}

fn normal() -> MatchMode {
    MatchMode::Normal
}

impl ApiDefinition {
    /// Assigns ids and times to the definition and all its parts, and derives the fields that
    /// follow from others (`required` of PATH parameters, `req_param_id` of mapped parameters,
    /// `auth_opt`, which APIG always reports).
    /// Parts that existed in `previous` under the same name keep their ids and creation time,
    /// so an update does not churn ids that other objects may hold.
    pub fn prepare(&mut self, previous: Option<&ApiDefinition>, now: OffsetDateTime) {
        self.auth_opt.get_or_insert(AuthOpt { app_code_auth_type: AppCodeAuthType::Disable });
        for p in &mut self.req_params {
            p.id = previous
                .and_then(|old| old.req_params.iter().find(|o| o.name == p.name))
                .map(|o| o.id.clone())
                .unwrap_or_else(new_id);
            if p.location == ParamLocation::Path {
                p.required = 1;
            } else if p.required == 0 {
                p.required = 2;
            }
        }
        let params = self.req_params.clone();
        link_backend_params(&mut self.backend_params, previous.map(|o| o.backend_params.as_slice()), &params);
        if let Some(b) = &mut self.backend_api {
            b.stamp.renew(previous.and_then(|o| o.backend_api.as_ref()).map(|o| &o.stamp), now);
        }
        if let Some(f) = &mut self.func_info {
            f.stamp.renew(previous.and_then(|o| o.func_info.as_ref()).map(|o| &o.stamp), now);
        }
        if let Some(m) = &mut self.mock_info {
            m.stamp.renew(previous.and_then(|o| o.mock_info.as_ref()).map(|o| &o.stamp), now);
        }
        let old_policies: Vec<&PolicyCommon> = previous.map(|o| o.policies().collect()).unwrap_or_default();
        for policy in self.policies_mut() {
            let old = old_policies.iter().find(|o| o.name == policy.name);
            policy.id = old.map(|o| o.id.clone()).unwrap_or_else(new_id);
            link_backend_params(&mut policy.backend_params, old.map(|o| o.backend_params.as_slice()), &params);
            for c in &mut policy.conditions {
                c.id = new_id();
                let param = (c.condition_origin == ConditionOrigin::Param)
                    .then(|| params.iter().find(|p| Some(&p.name) == c.req_param_name.as_ref()))
                    .flatten();
                c.req_param_id = param.map(|p| p.id.clone());
                c.req_param_location = param.map(|p| p.location);
            }
        }
    }

    /// The common part of every backend policy, whatever its backend kind.
    pub fn policies(&self) -> impl Iterator<Item = &PolicyCommon> {
        self.policy_https
            .iter()
            .map(|p| &p.common)
            .chain(self.policy_functions.iter().map(|p| &p.common))
            .chain(self.policy_mocks.iter().map(|p| &p.common))
    }

    fn policies_mut(&mut self) -> impl Iterator<Item = &mut PolicyCommon> {
        self.policy_https
            .iter_mut()
            .map(|p| &mut p.common)
            .chain(self.policy_functions.iter_mut().map(|p| &mut p.common))
            .chain(self.policy_mocks.iter_mut().map(|p| &mut p.common))
    }
}

fn link_backend_params(params: &mut [BackendParam], previous: Option<&[BackendParam]>, req_params: &[ReqParam]) {
    for p in params {
        p.id = previous
            .and_then(|old| old.iter().find(|o| o.name == p.name && o.location == p.location))
            .map(|o| o.id.clone())
            .unwrap_or_else(new_id);
        p.req_param_id = (p.origin == ParamOrigin::Request)
            .then(|| req_params.iter().find(|r| r.name == p.value))
            .flatten()
            .map(|r| r.id.clone());
    }
}

impl ApiDefinition {
    /// Only the backend that `backend_type` names is kept: APIG ignores the others, and so
    /// does the stored definition.
    pub(crate) fn drop_unused_backends(&mut self) {
        if !matches!(self.backend_type, BackendType::Http | BackendType::Grpc) {
            self.backend_api = None;
        }
        if self.backend_type != BackendType::Function {
            self.func_info = None;
        }
        if self.backend_type != BackendType::Mock {
            self.mock_info = None;
        }
    }
}

/// A stored API: its definition plus the id and times the server keeps. Serialises to the
/// top level of `ShowDetailsOfApiV2` (before publication and group details are joined in).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Api {
    /// API id.
    pub id: String,
    /// Always 1 (valid).
    pub status: i32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub register_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
    /// What its owner defined.
    #[serde(flatten)]
    pub definition: ApiDefinition,
}

/// Reads the flat document `Serialize` writes, without `#[serde(flatten)]`: serde buffers a
/// flattened struct's whole map into an intermediate tree first, and decoding stored APIs is
/// what large exports spend their time on. The four fields of `Api` are taken out of the map on
/// the way; every other entry goes straight to `ApiDefinition`'s own deserializer.
impl<'de> Deserialize<'de> for Api {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(stored::ApiVisitor)
    }
}

mod stored {
    use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
    use serde::de::{DeserializeSeed, Error, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use time::OffsetDateTime;

    use super::{Api, ApiDefinition};

    #[derive(Default)]
    struct Head {
        id: Option<String>,
        status: Option<i32>,
        register_time: Option<OffsetDateTime>,
        update_time: Option<OffsetDateTime>,
    }

    struct Rfc3339(OffsetDateTime);

    impl<'de> Deserialize<'de> for Rfc3339 {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            time::serde::rfc3339::deserialize(d).map(Rfc3339)
        }
    }

    /// A key, borrowed from the input when it can be.
    enum Key<'de> {
        Borrowed(&'de str),
        Owned(String),
    }

    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a field name")
                }
                fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key::Borrowed(v))
                }
                fn visit_str<E: Error>(self, v: &str) -> Result<Key<'de>, E> {
                    Ok(Key::Owned(v.to_owned()))
                }
                fn visit_string<E: Error>(self, v: String) -> Result<Key<'de>, E> {
                    Ok(Key::Owned(v))
                }
            }
            d.deserialize_str(KeyVisitor)
        }
    }

    pub(super) struct ApiVisitor;

    impl<'de> Visitor<'de> for ApiVisitor {
        type Value = Api;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an API")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Api, A::Error> {
            let mut head = Head::default();
            let definition = ApiDefinition::deserialize(MapAccessDeserializer::new(Skimming { map, head: &mut head }))?;
            Ok(Api {
                id: head.id.ok_or_else(|| A::Error::missing_field("id"))?,
                status: head.status.ok_or_else(|| A::Error::missing_field("status"))?,
                register_time: head.register_time.ok_or_else(|| A::Error::missing_field("register_time"))?,
                update_time: head.update_time.ok_or_else(|| A::Error::missing_field("update_time"))?,
                definition,
            })
        }
    }

    /// The map of an `Api` as `ApiDefinition` sees it: `Api`'s own fields are taken out.
    struct Skimming<'h, A> {
        map: A,
        head: &'h mut Head,
    }

    impl<'de, A: MapAccess<'de>> MapAccess<'de> for Skimming<'_, A> {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
            loop {
                let Some(key) = self.map.next_key::<Key<'de>>()? else { return Ok(None) };
                let name = match &key {
                    Key::Borrowed(k) => *k,
                    Key::Owned(k) => k.as_str(),
                };
                match name {
                    "id" => self.head.id = Some(self.map.next_value()?),
                    "status" => self.head.status = Some(self.map.next_value()?),
                    "register_time" => self.head.register_time = Some(self.map.next_value::<Rfc3339>()?.0),
                    "update_time" => self.head.update_time = Some(self.map.next_value::<Rfc3339>()?.0),
                    _ => {
                        return match key {
                            Key::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some),
                            Key::Owned(k) => seed.deserialize(StringDeserializer::new(k)).map(Some),
                        };
                    }
                }
            }
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
            self.map.next_value_seed(seed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_api_reads_back_whole_and_its_fields_are_required() {
        let body = serde_json::json!({
            "name": "get_item", "type": 1, "req_protocol": "HTTPS", "req_method": "GET", "req_uri": "/items/{id}",
            "auth_type": "NONE", "backend_type": "HTTP", "group_id": "g",
            "req_params": [{"name": "id", "type": "STRING", "location": "PATH"}],
            "backend_params": [{"origin": "REQUEST", "name": "id", "location": "PATH", "value": "id"}],
            "backend_api": {"url_domain": "b.example.com", "req_protocol": "HTTPS", "req_method": "GET",
                            "req_uri": "/v1/{id}", "timeout": 5000},
            "openapi_extensions": {"x-k\\u00e9y": 1}
        });
        let mut definition = ApiDefinition::from_value(body).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        definition.prepare(None, now);
        let api = Api { id: new_id(), status: 1, register_time: now, update_time: now, definition };
        let text = serde_json::to_string(&api).unwrap();
        assert_eq!(serde_json::from_str::<Api>(&text).unwrap(), api);
        // Keys with escapes cannot be borrowed from the input; they still read.
        let escaped = text.replace("\"status\"", "\"st\\u0061tus\"");
        assert_eq!(serde_json::from_str::<Api>(&escaped).unwrap(), api);
        let mut without_id: serde_json::Value = serde_json::from_str(&text).unwrap();
        without_id.as_object_mut().unwrap().remove("id");
        let error = serde_json::from_value::<Api>(without_id).unwrap_err().to_string();
        assert!(error.contains("missing field `id`"), "{error}");
    }
}
