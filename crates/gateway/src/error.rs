//! The data plane's one error type and its one table of codes (documented in
//! `docs/gateway-errors.md`). Every rejection the gateway itself makes is a [`GatewayError`];
//! [`GatewayError::code`] gives its `APIG.0xxx` code and HTTP status, and [`GatewayError::source`]
//! says who caused it, as Pingora's errors do.

use http::StatusCode;

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The client: unknown route, bad parameters, missing credentials.
    Downstream,
    /// The backend: unreachable, timed out.
    Upstream,
    /// The gateway's configuration or the gateway itself.
    Internal,
}

/// Why the gateway answered instead of the backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No published API matches the host, stage, method and path.
    #[error("no API found for {0}")]
    NoRoute(String),
    /// A required frontend parameter is absent.
    #[error("parameter {name} ({location}) is required")]
    MissingParam {
        /// Parameter name.
        name: String,
        /// PATH, QUERY or HEADER.
        location: &'static str,
    },
    /// A frontend parameter fails its validation.
    #[error("parameter {name} ({location}) is invalid: {reason}")]
    InvalidParam {
        /// Parameter name.
        name: String,
        /// PATH, QUERY or HEADER.
        location: &'static str,
        /// Which rule it breaks.
        reason: String,
    },
    /// The request body is larger than the gateway accepts.
    #[error("the request body exceeds {0} bytes")]
    BodyTooLarge(usize),
    /// Request bodies held whole take all the memory allowed them (`max_buffered_bytes`).
    #[error("the gateway holds too many request bodies; try again later")]
    BodyBudgetSpent,
    /// IAM authentication failed (no token, bad token, expired token, other project).
    #[error("IAM authentication failed: {0}")]
    IamAuth(String),
    /// APP authentication without credentials: no `Authorization`, no AppCode.
    #[error("APP authentication failed: no signature (Authorization) and no AppCode (X-Apig-AppCode)")]
    AppAuthMissing,
    /// APP authentication failed: unknown key or AppCode, bad signature, stale date.
    #[error("APP authentication failed: {0}")]
    AppAuth(String),
    /// The app is genuine but not authorized for the API in this environment.
    #[error("the app {0} is not authorized to call this API in this environment")]
    AppNotAuthorized(String),
    /// An IP ACL keeps the client out.
    #[error("access denied for the address {0}")]
    IpDenied(String),
    /// An account ACL keeps the caller out.
    #[error("access denied for the caller's account")]
    AccountDenied,
    /// A throttling limit is reached (`API`, `user`, `app` or `IP`).
    #[error("the {0} call limit of this API has been reached")]
    Throttled(&'static str),
    /// A custom authorizer's identity source is missing or invalid.
    #[error("custom authentication failed: identity source {0}")]
    AuthorizerIdentity(String),
    /// The custom authorizer denied the request.
    #[error("custom authentication failed: the authorizer denied the request")]
    AuthorizerDenied,
    /// The custom authorizer could not give a verdict (unreachable, bad answer).
    #[error("custom authorizer failed: {0}")]
    AuthorizerFailed(String),
    /// The custom authorizer cannot be used as configured (missing, no function endpoint).
    #[error("custom authorizer misconfigured: {0}")]
    AuthorizerConfig(String),
    /// The backend could not be reached (after the retries its API allows).
    #[error("backend unavailable: {0}")]
    BackendUnavailable(String),
    /// The backend did not answer within the API's timeout.
    #[error("backend timed out after {0} ms")]
    BackendTimeout(u64),
    /// The published backend cannot be used as configured (undefined variable, bad address…).
    #[error("backend configuration error: {0}")]
    BackendConfig(String),
    /// A FUNCTION backend whose URN has no endpoint in the gateway configuration.
    #[error("no endpoint is configured for function {0}")]
    NoFunction(String),
    /// A bug or an unexpected failure inside the gateway.
    #[error("internal gateway error")]
    Internal,
    /// `GET /ready` while the database does not answer.
    #[error("not ready: the database does not answer")]
    NotReady,
    /// The domain asks for mutual TLS and this connection did not verify a client
    /// certificate for it (plain HTTP, or a TLS connection made for another name).
    #[error("the domain {0} requires a verified client certificate")]
    ClientCertificateRequired(String),
}

impl GatewayError {
    /// The stable `APIG.0xxx` code and the HTTP status it is answered with.
    pub fn code(&self) -> (&'static str, StatusCode) {
        match self {
            GatewayError::NoRoute(_) => ("APIG.0101", StatusCode::NOT_FOUND),
            GatewayError::MissingParam { .. } => ("APIG.0102", StatusCode::BAD_REQUEST),
            GatewayError::InvalidParam { .. } => ("APIG.0103", StatusCode::BAD_REQUEST),
            GatewayError::BodyTooLarge(_) => ("APIG.0104", StatusCode::PAYLOAD_TOO_LARGE),
            GatewayError::BodyBudgetSpent => ("APIG.0105", StatusCode::SERVICE_UNAVAILABLE),
            GatewayError::BackendUnavailable(_) => ("APIG.0201", StatusCode::BAD_GATEWAY),
            GatewayError::BackendTimeout(_) => ("APIG.0202", StatusCode::GATEWAY_TIMEOUT),
            GatewayError::BackendConfig(_) => ("APIG.0203", StatusCode::INTERNAL_SERVER_ERROR),
            GatewayError::NoFunction(_) => ("APIG.0204", StatusCode::NOT_IMPLEMENTED),
            GatewayError::IamAuth(_) => ("APIG.0301", StatusCode::UNAUTHORIZED),
            GatewayError::AppAuthMissing => ("APIG.0303", StatusCode::UNAUTHORIZED),
            GatewayError::AppAuth(_) => ("APIG.0304", StatusCode::UNAUTHORIZED),
            GatewayError::AppNotAuthorized(_) => ("APIG.0305", StatusCode::FORBIDDEN),
            GatewayError::IpDenied(_) => ("APIG.0306", StatusCode::FORBIDDEN),
            GatewayError::AccountDenied => ("APIG.0307", StatusCode::FORBIDDEN),
            GatewayError::Throttled(_) => ("APIG.0308", StatusCode::TOO_MANY_REQUESTS),
            GatewayError::AuthorizerIdentity(_) => ("APIG.0309", StatusCode::UNAUTHORIZED),
            GatewayError::AuthorizerDenied => ("APIG.0310", StatusCode::UNAUTHORIZED),
            GatewayError::AuthorizerFailed(_) => ("APIG.0311", StatusCode::INTERNAL_SERVER_ERROR),
            GatewayError::AuthorizerConfig(_) => ("APIG.0312", StatusCode::INTERNAL_SERVER_ERROR),
            GatewayError::Internal => ("APIG.0901", StatusCode::INTERNAL_SERVER_ERROR),
            GatewayError::NotReady => ("APIG.0902", StatusCode::SERVICE_UNAVAILABLE),
            GatewayError::ClientCertificateRequired(_) => ("APIG.0313", StatusCode::UNAUTHORIZED),
        }
    }

    /// Who caused it.
    pub fn source(&self) -> ErrorSource {
        match self {
            GatewayError::NoRoute(_)
            | GatewayError::MissingParam { .. }
            | GatewayError::InvalidParam { .. }
            | GatewayError::BodyTooLarge(_)
            | GatewayError::IamAuth(_)
            | GatewayError::AppAuthMissing
            | GatewayError::AppAuth(_)
            | GatewayError::AppNotAuthorized(_)
            | GatewayError::IpDenied(_)
            | GatewayError::AccountDenied
            | GatewayError::Throttled(_)
            | GatewayError::AuthorizerIdentity(_)
            | GatewayError::AuthorizerDenied
            | GatewayError::ClientCertificateRequired(_) => ErrorSource::Downstream,
            GatewayError::AuthorizerFailed(_) => ErrorSource::Upstream,
            GatewayError::BackendUnavailable(_) | GatewayError::BackendTimeout(_) => ErrorSource::Upstream,
            GatewayError::BackendConfig(_)
            | GatewayError::NoFunction(_)
            | GatewayError::AuthorizerConfig(_)
            | GatewayError::Internal
            | GatewayError::NotReady
            | GatewayError::BodyBudgetSpent => ErrorSource::Internal,
        }
    }

    /// Why the gateway refused, as the `reason` label of `portico_gateway_rejections_total`:
    /// a few causes an operator alerts on apart, not one per code.
    pub fn reason(&self) -> &'static str {
        match self {
            GatewayError::NoRoute(_) => "no_route",
            GatewayError::MissingParam { .. } | GatewayError::InvalidParam { .. } => "invalid_parameter",
            GatewayError::BodyTooLarge(_) => "body_too_large",
            GatewayError::BodyBudgetSpent => "overloaded",
            GatewayError::IamAuth(_)
            | GatewayError::AppAuthMissing
            | GatewayError::AppAuth(_)
            | GatewayError::AuthorizerIdentity(_)
            | GatewayError::AuthorizerDenied
            | GatewayError::ClientCertificateRequired(_) => "authentication",
            GatewayError::AppNotAuthorized(_) => "authorization",
            GatewayError::IpDenied(_) | GatewayError::AccountDenied => "acl",
            GatewayError::Throttled(_) => "throttling",
            GatewayError::AuthorizerFailed(_) => "authorizer_error",
            GatewayError::BackendUnavailable(_) => "backend_error",
            GatewayError::BackendTimeout(_) => "timeout",
            GatewayError::BackendConfig(_) | GatewayError::NoFunction(_) | GatewayError::AuthorizerConfig(_) => {
                "configuration"
            }
            GatewayError::Internal => "internal",
            GatewayError::NotReady => "not_ready",
        }
    }

    /// The gateway response type (`RESPONSE_TYPES` of the model) a group may customise for it.
    pub fn response_type(&self) -> &'static str {
        match self {
            GatewayError::NoRoute(_) => "NOT_FOUND",
            GatewayError::MissingParam { .. } | GatewayError::InvalidParam { .. } => "REQUEST_PARAMETERS_FAILURE",
            GatewayError::BodyTooLarge(_) => "DEFAULT_4XX",
            GatewayError::IamAuth(_)
            | GatewayError::AppAuth(_)
            | GatewayError::AuthorizerDenied
            | GatewayError::ClientCertificateRequired(_) => "AUTH_FAILURE",
            GatewayError::AuthorizerIdentity(_) => "AUTHORIZER_IDENTITIES_FAILURE",
            GatewayError::AuthorizerFailed(_) => "AUTHORIZER_FAILURE",
            GatewayError::AuthorizerConfig(_) => "AUTHORIZER_CONF_FAILURE",
            GatewayError::AppAuthMissing => "AUTH_HEADER_MISSING",
            GatewayError::AppNotAuthorized(_) | GatewayError::IpDenied(_) | GatewayError::AccountDenied => {
                "ACCESS_DENIED"
            }
            GatewayError::Throttled(_) => "THROTTLED",
            GatewayError::BackendUnavailable(_) => "BACKEND_UNAVAILABLE",
            GatewayError::BackendTimeout(_) => "BACKEND_TIMEOUT",
            GatewayError::BackendConfig(_)
            | GatewayError::NoFunction(_)
            | GatewayError::Internal
            | GatewayError::NotReady
            | GatewayError::BodyBudgetSpent => "DEFAULT_5XX",
        }
    }

    /// The JSON body: `{"error_code","error_msg","request_id"}`.
    pub fn body(&self, request_id: &str) -> String {
        let (code, _) = self.code();
        serde_json::json!({ "error_code": code, "error_msg": self.to_string(), "request_id": request_id }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_code_message_and_request_id() {
        let e = GatewayError::MissingParam { name: "id".into(), location: "QUERY" };
        let body: serde_json::Value = serde_json::from_str(&e.body("abc")).unwrap();
        assert_eq!(body["error_code"], "APIG.0102");
        assert_eq!(body["error_msg"], "parameter id (QUERY) is required");
        assert_eq!(body["request_id"], "abc");
        assert_eq!(e.code().1, StatusCode::BAD_REQUEST);
        assert_eq!(e.source(), ErrorSource::Downstream);
    }

    #[test]
    fn upstream_failures_are_5xx_from_the_upstream() {
        for e in [GatewayError::BackendUnavailable("refused".into()), GatewayError::BackendTimeout(5)] {
            assert_eq!(e.source(), ErrorSource::Upstream);
            assert!(e.code().1.is_server_error());
        }
    }
}
