//! Extension keys, shared by the writer and the reader so that the two cannot drift apart.
//! `x-apigateway-*` keys are APIG's; `x-portico-*` keys are ours (`docs/openapi.md`).

/// `public` / `private` (`type` 1 / 2).
pub const REQUEST_TYPE: &str = "x-apigateway-request-type";
/// `NORMAL` / `SWA`.
pub const MATCH_MODE: &str = "x-apigateway-match-mode";
/// CORS on or off.
pub const CORS: &str = "x-apigateway-cors";
/// Base64 body towards FunctionGraph.
pub const FG_BASE64: &str = "x-apigateway-is-send-fg-body-base64";
/// Request content type.
pub const CONTENT_TYPE: &str = "x-apigateway-content-type";
/// Path item key of an `ANY` operation.
pub const ANY_METHOD: &str = "x-apigateway-any-method";
/// The backend.
pub const BACKEND: &str = "x-apigateway-backend";
/// Backend policies.
pub const BACKEND_POLICIES: &str = "x-apigateway-backend-policies";
/// The group gateway response an API uses.
pub const RESPONSE: &str = "x-apigateway-response";
/// Throttling policies by name (document root).
pub const RATELIMITS: &str = "x-apigateway-ratelimits";
/// Access control policies by name (document root).
pub const ACCESS_CONTROLS: &str = "x-apigateway-access-controls";
/// The throttling policy an operation binds, by name (kept in the API's `openapi_extensions`).
pub const RATELIMIT: &str = portico_model::DeclaredPolicies::THROTTLE_KEY;
/// The access control policy an operation binds, by name (kept like [`RATELIMIT`]).
pub const ACCESS_CONTROL: &str = portico_model::DeclaredPolicies::ACL_KEY;
/// The group's gateway responses.
pub const RESPONSES: &str = "x-apigateway-responses";
/// Success sample.
pub const NORMAL_SAMPLE: &str = "x-apigateway-result-normal-sample";
/// Failure sample.
pub const FAILURE_SAMPLE: &str = "x-apigateway-result-failure-sample";
/// Parameter pass-through: `always` / `never`.
pub const PASS_THROUGH: &str = "x-apigateway-pass-through";
/// Parameter sample value.
pub const SAMPLE: &str = "x-apigateway-sample";
/// Parameter orchestration rules.
pub const ORCHESTRATIONS: &str = "x-apigateway-orchestrations";
/// Security scheme: `AppSigv1`, `IAM` or `AUTHORIZER`.
pub const AUTH_TYPE: &str = "x-apigateway-auth-type";
/// Security scheme options (AppCode).
pub const AUTH_OPT: &str = "x-apigateway-auth-opt";
/// Security scheme: the custom authorizer.
pub const AUTHORIZER: &str = "x-apigateway-authorizer";

/// API fields no APIG extension carries, spelled as in the management API.
pub const PORTICO_API: &str = "x-portico-api";
/// The frontend path when it is not the path key (`{name+}` placeholders).
pub const PORTICO_REQ_URI: &str = "x-portico-req-uri";
/// Path item list of operations that share a method with another one on the same path
/// (they differ in match mode).
pub const PORTICO_OPERATIONS: &str = "x-portico-operations";
/// Parameter validation on (`valid_enable` 1).
pub const PORTICO_VALIDATION: &str = "x-portico-validation";
/// Parameter JSON schema.
pub const PORTICO_JSON_SCHEMA: &str = "x-portico-json-schema";
/// Parameter enumeration that is not a valid OpenAPI `enum` (duplicates), verbatim.
pub const PORTICO_ENUMERATIONS: &str = "x-portico-enumerations";
/// Parameter default that a number would not spell the same way, verbatim.
pub const PORTICO_DEFAULT: &str = "x-portico-default";
/// The custom authorizer's id on a security scheme.
pub const PORTICO_AUTHORIZER_ID: &str = "x-portico-authorizer-id";
/// The group's custom domains by name, each with its settings and certificate name (document
/// root; APIG's documents have no extension for them).
pub const PORTICO_DOMAINS: &str = "x-portico-domains";

/// Every key the reader interprets on an operation; other `x-` keys are kept as they are.
pub const OPERATION_KEYS: &[&str] = &[
    REQUEST_TYPE,
    MATCH_MODE,
    CORS,
    FG_BASE64,
    CONTENT_TYPE,
    BACKEND,
    BACKEND_POLICIES,
    RESPONSE,
    PORTICO_API,
    PORTICO_REQ_URI,
];

/// Every key the reader interprets on a parameter.
pub const PARAMETER_KEYS: &[&str] = &[
    PASS_THROUGH,
    SAMPLE,
    ORCHESTRATIONS,
    PORTICO_VALIDATION,
    PORTICO_JSON_SCHEMA,
    PORTICO_ENUMERATIONS,
    PORTICO_DEFAULT,
];

/// Custom backend (livedata) operations: the backend's own fields (`docs/livedata.md`).
pub const LIVEDATA_API: &str = "x-livedata-api";
/// Custom backend scripts, `content` in base64 as on the management API.
pub const LIVEDATA_SCRIPTS: &str = "x-livedata-scripts";
/// Default value of a `Body` parameter (Swagger forbids `default` on body parameters).
pub const LIVEDATA_DEFAULT: &str = "x-livedata-default";
