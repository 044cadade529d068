//! The authentication phase. `NONE` lets everyone in; `IAM` checks a Portico token
//! (`X-Auth-Token`, signed with the key the management API issues tokens with) and that it is
//! scoped to the API's project; `APP` checks an app signature or AppCode ([`crate::apps`]).
//! `AUTHORIZER` calls a function, so the pipeline runs it ([`crate::authorizers`]).

use std::sync::Arc;

use portico_auth::signature::RequestParts;
use portico_auth::token::{self, TokenError, TokenKey};
use portico_model::AuthType;
use time::OffsetDateTime;

use crate::apps::AppDirectory;
use crate::entry::RouteApi;
use crate::error::GatewayError;

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
    /// Let in by a custom authorizer.
    Authorized {
        /// What the authorizer said of the caller (`$context.authorizer.frontend.<key>`).
        context: Vec<(String, String)>,
    },
}

/// Runs the authentication phase.
#[derive(Clone)]
pub struct Authenticator {
    token_key: Arc<TokenKey>,
}

impl Authenticator {
    /// IAM tokens checked with `token_key`.
    pub fn new(token_key: Arc<TokenKey>) -> Authenticator {
        Authenticator { token_key }
    }

    /// Authenticates `request` to `api`; apps are looked up in `apps`.
    pub fn authenticate(
        &self,
        api: &RouteApi,
        apps: &AppDirectory,
        request: &RequestParts<'_>,
        now: OffsetDateTime,
    ) -> Result<Caller, GatewayError> {
        match api.api.definition.auth_type {
            AuthType::None => Ok(Caller::Anonymous),
            AuthType::Iam => {
                let token = request
                    .headers
                    .get("x-auth-token")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| GatewayError::IamAuth("X-Auth-Token is missing".into()))?;
                let claims = token::verify(&self.token_key, token, now).map_err(|e| {
                    GatewayError::IamAuth(match e {
                        TokenError::Expired => "the token has expired".into(),
                        _ => "the token is invalid".into(),
                    })
                })?;
                if *claims.project_id != *api.project_id {
                    return Err(GatewayError::IamAuth("the token is not scoped to the API's project".into()));
                }
                Ok(Caller::User { user_id: claims.user_id, project_id: claims.project_id })
            }
            AuthType::App => Ok(Caller::App { app_id: apps.authenticate(api, request, now)? }),
            AuthType::Authorizer => Err(GatewayError::AuthorizerConfig("the API's authorizer does not exist".into())),
        }
    }
}
