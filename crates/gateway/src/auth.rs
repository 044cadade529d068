//! The authentication phase. `NONE` lets everyone in; `IAM` checks a Portico token
//! (`X-Auth-Token`, signed with the key the management API issues tokens with) and that it is
//! scoped to the API's project. `APP` is served by an [`AppAuthenticator`] once one is plugged
//! in (apps and their AK/SK come with the policies work); until then, and for `AUTHORIZER`, the
//! gateway answers `APIG.0302`.

use std::sync::Arc;

use http::HeaderMap;
use portico_auth::token::{self, TokenError, TokenKey};
use portico_model::AuthType;
use time::OffsetDateTime;

use crate::error::GatewayError;
use crate::routes::RouteApi;

/// Who is calling, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An API with `auth_type` NONE.
    Anonymous,
    /// A Portico user, by IAM token.
    User {
        /// User id.
        user_id: String,
        /// The token's project.
        project_id: String,
    },
    /// An app, by APP authentication.
    App {
        /// App id (`$context.appId`).
        app_id: String,
    },
}

/// APP authentication (signatures by an app's key and secret, or an AppCode), provided by the
/// component that owns apps.
pub trait AppAuthenticator: Send + Sync {
    /// The calling app's id, or why the request is refused.
    fn authenticate(&self, api: &RouteApi, headers: &HeaderMap, now: OffsetDateTime) -> Result<String, GatewayError>;
}

/// Runs the authentication phase.
#[derive(Clone)]
pub struct Authenticator {
    token_key: Arc<TokenKey>,
    app: Option<Arc<dyn AppAuthenticator>>,
}

impl Authenticator {
    /// IAM tokens checked with `token_key`; APP authentication by `app` when there is one.
    pub fn new(token_key: Arc<TokenKey>, app: Option<Arc<dyn AppAuthenticator>>) -> Authenticator {
        Authenticator { token_key, app }
    }

    /// Authenticates a request to `api`.
    pub fn authenticate(
        &self,
        api: &RouteApi,
        headers: &HeaderMap,
        now: OffsetDateTime,
    ) -> Result<Caller, GatewayError> {
        match api.api.definition.auth_type {
            AuthType::None => Ok(Caller::Anonymous),
            AuthType::Iam => {
                let token = headers
                    .get("x-auth-token")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| GatewayError::IamAuth("X-Auth-Token is missing".into()))?;
                let claims = token::verify(&self.token_key, token, now).map_err(|e| {
                    GatewayError::IamAuth(match e {
                        TokenError::Expired => "the token has expired".into(),
                        _ => "the token is invalid".into(),
                    })
                })?;
                if claims.project_id != api.project_id {
                    return Err(GatewayError::IamAuth("the token is not scoped to the API's project".into()));
                }
                Ok(Caller::User { user_id: claims.user_id, project_id: claims.project_id })
            }
            AuthType::App => match &self.app {
                Some(app) => Ok(Caller::App { app_id: app.authenticate(api, headers, now)? }),
                None => Err(GatewayError::AuthUnavailable("APP")),
            },
            AuthType::Authorizer => Err(GatewayError::AuthUnavailable("AUTHORIZER")),
        }
    }
}
