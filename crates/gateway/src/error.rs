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
    /// IAM authentication failed (no token, bad token, expired token, other project).
    #[error("IAM authentication failed: {0}")]
    IamAuth(String),
    /// The API needs an authentication mode Portico does not serve yet.
    #[error("{0} authentication is not available on this gateway yet")]
    AuthUnavailable(&'static str),
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
}

impl GatewayError {
    /// The stable `APIG.0xxx` code and the HTTP status it is answered with.
    pub fn code(&self) -> (&'static str, StatusCode) {
        match self {
            GatewayError::NoRoute(_) => ("APIG.0101", StatusCode::NOT_FOUND),
            GatewayError::MissingParam { .. } => ("APIG.0102", StatusCode::BAD_REQUEST),
            GatewayError::InvalidParam { .. } => ("APIG.0103", StatusCode::BAD_REQUEST),
            GatewayError::BodyTooLarge(_) => ("APIG.0104", StatusCode::PAYLOAD_TOO_LARGE),
            GatewayError::BackendUnavailable(_) => ("APIG.0201", StatusCode::BAD_GATEWAY),
            GatewayError::BackendTimeout(_) => ("APIG.0202", StatusCode::GATEWAY_TIMEOUT),
            GatewayError::BackendConfig(_) => ("APIG.0203", StatusCode::INTERNAL_SERVER_ERROR),
            GatewayError::NoFunction(_) => ("APIG.0204", StatusCode::NOT_IMPLEMENTED),
            GatewayError::IamAuth(_) => ("APIG.0301", StatusCode::UNAUTHORIZED),
            GatewayError::AuthUnavailable(_) => ("APIG.0302", StatusCode::UNAUTHORIZED),
            GatewayError::Internal => ("APIG.0901", StatusCode::INTERNAL_SERVER_ERROR),
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
            | GatewayError::AuthUnavailable(_) => ErrorSource::Downstream,
            GatewayError::BackendUnavailable(_) | GatewayError::BackendTimeout(_) => ErrorSource::Upstream,
            GatewayError::BackendConfig(_) | GatewayError::NoFunction(_) | GatewayError::Internal => {
                ErrorSource::Internal
            }
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
