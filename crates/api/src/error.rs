//! The one error type of the management API and its wire form,
//! `{"error_code":"APIG.xxxx","error_msg":"…"}`. Every code is listed in `docs/errors.md`.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portico_model::FieldError;
use portico_store::{Conflict, Kind, StoreError};

/// An error as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `APIG.xxxx`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    /// 401: missing, forged or expired credentials.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "APIG.1002", "Incorrect token or token resolution failed")
    }

    /// 429 `APIG.1010`: too many failed signature checks for this access key from this address.
    pub fn too_many_failures(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "APIG.1010",
            format!("Too many failed authentication attempts; retry after {retry_after_secs} seconds"),
        )
    }

    /// 403: the caller may not do this.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "APIG.1005", "No permissions to request this method")
    }

    /// 400 `APIG.2001`: a required parameter is missing.
    pub fn missing(field: &str) -> Self {
        FieldError::Missing(field.into()).into()
    }

    /// 400 `APIG.2011`: a parameter has an invalid value.
    pub fn invalid(field: &str) -> Self {
        FieldError::Invalid(field.into()).into()
    }

    /// 404 for a path no route serves.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "APIG.3000", "The requested resource does not exist")
    }

    /// 405 for a path served with other methods.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "APIG.2014", "The request method is not allowed on this resource")
    }

    /// 413: the body exceeds the limit.
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "APIG.2013", "The request body is too large")
    }

    /// 400 `APIG.2011` for a value whose problem needs more words than its name: an uploaded
    /// document that cannot be read, an API id that is not in the group.
    pub fn invalid_because(field: &str, reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "APIG.2011",
            format!("Invalid parameter value,parameterName:{field}. {reason}"),
        )
    }

    /// 400 `APIG.2030`: a custom backend's script uses a data source of a kind Portico does
    /// not execute (only PostgreSQL and SQLite are).
    pub fn not_executable(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "APIG.2030", message)
    }

    /// 400 `APIG.2031`: a deployed custom backend's script cannot run with this request (a
    /// `${name}` without a value, a stored procedure on SQLite).
    pub fn script_failed(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "APIG.2031", message)
    }

    /// 400 `APIG.2040`: an operation of the SDK that has no meaning for a self-hosted instance
    /// (`routes/not_applicable.rs`); `reason` says why.
    pub fn not_applicable(reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "APIG.2040",
            format!("This operation has no meaning for a self-hosted Portico instance: {reason}"),
        )
    }

    /// 503 `APIG.9998`: `GET /ready` while the database does not answer; the cause is logged
    /// here, once.
    pub fn not_ready(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%cause, "not ready: the database does not answer");
        Self::database_unavailable()
    }

    /// 503 `APIG.9998`: the database is down or did not answer in time; the request did
    /// nothing and may be retried.
    fn database_unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "APIG.9998", "The database does not answer")
    }

    /// 500 with nothing internal in it; the cause is logged here, once.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "APIG.9999", "System error")
    }
}

impl ApiError {
    /// The wire body, for an error that is recorded rather than answered (the result of an
    /// asynchronous task).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error_code": self.code, "error_msg": self.message })
    }
}

impl From<portico_openapi::InvalidObject> for ApiError {
    fn from(e: portico_openapi::InvalidObject) -> Self {
        ApiError::invalid_because(&e.field, &e.reason)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        let code = match e {
            FieldError::Missing(_) => "APIG.2001",
            FieldError::Invalid(_) => "APIG.2011",
            FieldError::MalformedJson(_) => "APIG.2002",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
    }
}

fn not_found_code(kind: Kind) -> &'static str {
    match kind {
        Kind::Group => "APIG.3001",
        Kind::Api => "APIG.3002",
        Kind::Environment => "APIG.3003",
        Kind::Variable => "APIG.3005",
        Kind::Version => "APIG.3006",
        Kind::Publication => "APIG.3007",
        Kind::Instance => "APIG.3008",
        Kind::Project => "APIG.3009",
        Kind::User | Kind::Credential => "APIG.3010",
        Kind::Task => "APIG.3022",
        Kind::App => "APIG.3004",
        Kind::Throttle => "APIG.3011",
        Kind::ThrottleSpecial => "APIG.3012",
        Kind::Acl => "APIG.3013",
        Kind::AppCode => "APIG.3014",
        Kind::AppAuth => "APIG.3015",
        Kind::Binding => "APIG.3016",
        Kind::Authorizer => "APIG.3017",
        Kind::VpcChannel => "APIG.3018",
        Kind::VpcMember => "APIG.3019",
        Kind::Signature => "APIG.3020",
        Kind::GatewayResponse => "APIG.3021",
        Kind::DsApi | Kind::DsCatalog | Kind::DsPublication | Kind::DsJob => ds_not_found_code(kind),
        Kind::RomaApp => "APIG.3030",
        Kind::DataSource => "APIG.3031",
        Kind::LdApi => "APIG.3032",
        Kind::Domain => "APIG.3023",
        Kind::Certificate => "APIG.3024",
    }
}

fn conflict_code(conflict: &Conflict) -> &'static str {
    match conflict {
        Conflict::ApiName(_) => "APIG.3301",
        Conflict::ApiRoute(_) => "APIG.3302",
        Conflict::GroupName(_) => "APIG.3303",
        Conflict::EnvName(_) => "APIG.3304",
        Conflict::VariableName(_) => "APIG.3305",
        Conflict::GroupHasApis(_) => "APIG.3306",
        Conflict::EnvHasPublishedApis(_) => "APIG.3307",
        Conflict::BuiltInEnv => "APIG.3308",
        Conflict::InstanceHasGroups(_) => "APIG.3309",
        Conflict::ForeignVersion(_) => "APIG.3310",
        Conflict::ProjectName(_) => "APIG.3311",
        Conflict::UserName(_) => "APIG.3312",
        Conflict::AppName(_) => "APIG.3313",
        Conflict::AppKey(_) => "APIG.3314",
        Conflict::AppCode => "APIG.3315",
        Conflict::AppAuthorized(..) => "APIG.3316",
        Conflict::ThrottleName(_) => "APIG.3317",
        Conflict::SpecialExists(_) => "APIG.3318",
        Conflict::AclName(_) => "APIG.3319",
        Conflict::AlreadyBound(..) => "APIG.3320",
        Conflict::PolicyBound(..) => "APIG.3321",
        Conflict::AuthorizerName(_) => "APIG.3322",
        Conflict::InUse(..) => "APIG.3323",
        Conflict::AuthorizerType(_) => "APIG.3324",
        Conflict::RomaAppName(_) => "APIG.3340",
        Conflict::DataSourceName(_) => "APIG.3341",
        Conflict::LdApiName(_) => "APIG.3342",
        Conflict::LdApiRoute(_) => "APIG.3343",
        Conflict::LdApiDeployed(_) => "APIG.3344",
        Conflict::LdApiStatus(..) => "APIG.3345",
        Conflict::LastWriter(_) => "APIG.3346",
        Conflict::VpcChannelName(_) => "APIG.3325",
        Conflict::SignatureName(_) => "APIG.3326",
        Conflict::GatewayResponseName(_) => "APIG.3327",
        Conflict::DomainTaken(_) => "APIG.3328",
        Conflict::CertificateName(_) => "APIG.3329",
        Conflict::CertificateBound(..) => "APIG.3330",
        Conflict::DsApiName(_)
        | Conflict::DsCatalogName(_)
        | Conflict::DsCatalogNotEmpty(_)
        | Conflict::DsApiPublished(_) => ds_conflict_code(conflict),
    }
}

/// An uploaded certificate that cannot be served: `APIG.2011`, saying why.
impl From<portico_auth::certificate::CertificateError> for ApiError {
    fn from(e: portico_auth::certificate::CertificateError) -> Self {
        use portico_auth::certificate::CertificateError as E;
        let field = match e {
            E::Chain(_) | E::NotValidNow { .. } => "cert_content",
            E::Key(_) | E::KeyMismatch => "private_key",
            E::TrustedRootCa(_) => "trusted_root_ca",
        };
        ApiError::invalid_because(field, &e.to_string())
    }
}

impl From<Conflict> for ApiError {
    fn from(c: Conflict) -> Self {
        ApiError::new(StatusCode::CONFLICT, conflict_code(&c), c.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { kind, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, not_found_code(kind), e.to_string())
            }
            StoreError::Conflict(c) => c.into(),
            StoreError::Field(f) => f.into(),
            StoreError::BadReference { .. } => ApiError::new(StatusCode::BAD_REQUEST, "APIG.2015", e.to_string()),
            unavailable if unavailable.is_unavailable() => {
                crate::metrics::store_error("unavailable");
                tracing::warn!(cause = %unavailable, "the database does not answer");
                ApiError::database_unavailable()
            }
            other => {
                crate::metrics::store_error(match other {
                    StoreError::Database(_) => "database",
                    StoreError::Corrupt(_) => "corrupt",
                    _ => "secrets",
                });
                ApiError::internal(&other)
            }
        }
    }
}

/// A refusal of IAM's token endpoint, in IAM's own body
/// (`{"error": {"code", "message", "title"}}`), not the APIG one.
#[derive(Debug, Clone, Copy)]
pub enum IamFailure {
    /// 400: not a password token request.
    BadRequest(&'static str),
    /// 401: wrong user name or password (which one is not told).
    WrongPassword,
    /// 403: the user may not act in the requested project.
    Forbidden(&'static str),
    /// 429: too many failed logins; `Retry-After` says when to come back.
    LockedOut(crate::lockout::LockedOut),
}

impl IntoResponse for IamFailure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            IamFailure::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            IamFailure::WrongPassword => (StatusCode::UNAUTHORIZED, "The username or password is wrong."),
            IamFailure::Forbidden(message) => (StatusCode::FORBIDDEN, message),
            IamFailure::LockedOut(_) => (StatusCode::TOO_MANY_REQUESTS, "Too many failed logins; retry later."),
        };
        let body = serde_json::json!({ "error": { "code": status.as_u16(), "message": message, "title": status.canonical_reason() } });
        let mut response = (status, axum::Json(body)).into_response();
        if let IamFailure::LockedOut(locked) = self {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(locked.retry_after_secs()));
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(crate::doc::ErrorBody { error_code: self.code, error_msg: self.message }))
            .into_response()
    }
}

/// An error of the DataArts DataService routes (`/v1/{project_id}/service/…`): the same body
/// shape, with DataService's own `DLM.xxxx` codes (listed in `docs/errors.md`). Authentication
/// failures happen before these routes and keep their `APIG.1xxx` codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsError(pub ApiError);

/// Result of a DataService handler.
pub type DsResult<T> = Result<T, DsError>;

impl DsError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        DsError(ApiError::new(status, code, message))
    }

    /// 400 `DLM.4000`: the `workspace` header is missing or not a workspace id.
    pub fn workspace() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DLM.4000", "The request header workspace must be a workspace id")
    }

    /// 400 `DLM.4002` for a value whose problem needs more words than its name.
    pub fn invalid_because(field: &str, reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "DLM.4002",
            format!("Invalid parameter value,parameterName:{field}. {reason}"),
        )
    }

    /// 400 `DLM.4010`: an uploaded workbook cannot be imported.
    pub fn workbook(reason: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DLM.4010", format!("The workbook cannot be imported: {reason}"))
    }

    /// 400 `DLM.4020`: a DataService operation that has no meaning for a self-hosted instance.
    pub fn not_applicable(reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "DLM.4020",
            format!("This operation has no meaning for a self-hosted Portico instance: {reason}"),
        )
    }

    /// 500 with nothing internal in it; the cause is logged here, once.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "DataService request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "DLM.9999", "System error")
    }
}

impl From<FieldError> for DsError {
    fn from(e: FieldError) -> Self {
        let code = match e {
            FieldError::Missing(_) => "DLM.4001",
            FieldError::Invalid(_) => "DLM.4002",
            FieldError::MalformedJson(_) => "DLM.4003",
        };
        Self::new(StatusCode::BAD_REQUEST, code, e.to_string())
    }
}

/// DataService objects, and the gateway objects a publish names (instance, group).
fn ds_not_found_code(kind: Kind) -> &'static str {
    match kind {
        Kind::DsApi => "DLM.4041",
        Kind::DsCatalog => "DLM.4042",
        Kind::DsJob => "DLM.4043",
        Kind::DsPublication => "DLM.4045",
        _ => "DLM.4044",
    }
}

/// DataService conflicts, and the gateway API a publish makes clashing with another in its group.
fn ds_conflict_code(conflict: &Conflict) -> &'static str {
    match conflict {
        Conflict::DsApiName(_) => "DLM.4091",
        Conflict::DsCatalogName(_) => "DLM.4092",
        Conflict::DsCatalogNotEmpty(_) => "DLM.4093",
        Conflict::DsApiPublished(_) => "DLM.4094",
        _ => "DLM.4095",
    }
}

impl From<StoreError> for DsError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound { kind, .. } => {
                Self::new(StatusCode::NOT_FOUND, ds_not_found_code(*kind), e.to_string())
            }
            StoreError::Conflict(c) => Self::new(StatusCode::CONFLICT, ds_conflict_code(c), e.to_string()),
            StoreError::Field(f) => f.clone().into(),
            StoreError::BadReference { .. } => Self::new(StatusCode::BAD_REQUEST, "DLM.4002", e.to_string()),
            _ => Self::internal(&e),
        }
    }
}

impl IntoResponse for DsError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}
