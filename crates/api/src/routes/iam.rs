//! `POST /v3/auth/tokens`: the IAM password method, so clients that log in with a user name
//! and password get an `X-Auth-Token` to call the management API with. Errors use IAM's
//! shape (`{"error":{"code","message","title"}}`), which the SDK also understands.

use std::sync::LazyLock;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Extensions, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portico_auth::{generate, password, token};
use portico_store::StoreError;
use serde::Deserialize;

use crate::doc::{ErrorBody, IamError, JsonBody, Resource};
use serde_json::json;

use crate::error::IamFailure;
use crate::lockout::{self, Principal};
use crate::views::rfc3339;
use crate::{ApiError, AppState};

#[derive(Deserialize)]
struct Named {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct PasswordUser {
    name: String,
    password: String,
    domain: Option<Named>,
}

#[derive(Deserialize)]
struct PasswordIdentity {
    user: PasswordUser,
}

#[derive(Deserialize)]
struct Identity {
    methods: Vec<String>,
    password: Option<PasswordIdentity>,
}

#[derive(Deserialize)]
struct Scope {
    project: Option<Named>,
}

#[derive(Deserialize)]
struct Auth {
    identity: Identity,
    scope: Option<Scope>,
}

#[derive(Deserialize)]
struct TokenRequest {
    auth: Auth,
}

/// The hash an unknown user's password is checked against: no password matches a random one.
static UNKNOWN_USER_HASH: LazyLock<String> = LazyLock::new(|| password::hash(&generate::password()));

/// KeystoneCreateUserTokenByPassword.
#[utoipa::path(post, path = "/v3/auth/tokens", tag = "iam",
    request_body(content = JsonBody, content_type = "application/json",
        description = "`{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": …}}, \"scope\": …}}`"),
    responses(
        (status = 201, description = "The token, in the `X-Subject-Token` header", body = Resource,
            headers(("X-Subject-Token" = String, description = "The token to send as `X-Auth-Token`"))),
        (status = 400, description = "Not a password token request", body = IamError),
        (status = 401, description = "Wrong user name or password", body = IamError),
        (status = 403, description = "The user may not act in the requested project", body = IamError),
        (status = 500, description = "System error", body = ErrorBody)))]
pub async fn create_token(State(state): State<AppState>, extensions: Extensions, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<TokenRequest>(&body) else {
        return IamFailure::BadRequest("The request body is not a valid IAM token request.").into_response();
    };
    let auth = request.auth;
    let Some(identity) = auth.identity.password.filter(|_| auth.identity.methods.iter().any(|m| m == "password"))
    else {
        return IamFailure::BadRequest("Only the password method is supported.").into_response();
    };
    let user = identity.user;
    let (principal, ip) = (Principal::User(user.name.clone()), lockout::client_ip(&extensions));
    if let Err(locked) = state.failures.check(principal.clone(), ip) {
        return IamFailure::LockedOut(locked).into_response();
    }
    let refused = || match state.failures.fail(principal.clone(), ip) {
        Ok(()) => IamFailure::WrongPassword.into_response(),
        Err(locked) => IamFailure::LockedOut(locked).into_response(),
    };
    let domain = &state.config.domain_name;
    if user.domain.as_ref().is_some_and(|d| d.name.as_ref().or(d.id.as_ref()).is_some_and(|n| n != domain)) {
        return refused();
    }
    let stored = match state.store.user_by_name(&user.name).await {
        Ok(u) => Some(u),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // An unknown user costs one Argon2 verification too, so the answer's timing does not tell
    // which user names exist.
    let hash = stored.as_ref().map_or_else(|| UNKNOWN_USER_HASH.clone(), |u| u.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || password::verify(&user.password, &hash)).await;
    let Some(stored) = stored.filter(|_| matches!(verified, Ok(true))) else {
        return refused();
    };
    let wanted = auth.scope.and_then(|s| s.project);
    let project = match &wanted {
        Some(Named { id: Some(key), .. }) | Some(Named { name: Some(key), .. }) => state.store.project(key).await,
        _ => match stored.projects.first() {
            Some(id) => state.store.project(id).await,
            None => return IamFailure::Forbidden("The user has no project.").into_response(),
        },
    };
    let project = match project {
        Ok(p) if stored.projects.contains(&p.id) => p,
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            return IamFailure::Forbidden("The user has no permission on the requested project.").into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let issued =
        time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let expires = issued + state.config.token_ttl;
    let claims = token::TokenClaims {
        user_id: stored.id.clone(),
        user_name: stored.name.clone(),
        project_id: project.id.clone(),
        readonly: stored.readonly,
        issued_at: issued.unix_timestamp(),
        expires_at: expires.unix_timestamp(),
    };
    let issued_token = token::issue(&state.token_key, &claims);
    let domain_ref = json!({ "id": domain, "name": domain });
    let role = if stored.readonly { "readonly" } else { "te_admin" };
    let body = json!({ "token": {
        "methods": ["password"],
        "issued_at": rfc3339(issued),
        "expires_at": rfc3339(expires),
        "catalog": [],
        "project": { "id": project.id, "name": project.name, "domain": domain_ref },
        "roles": [{ "id": role, "name": role }],
        "user": { "id": stored.id, "name": stored.name, "domain": domain_ref, "password_expires_at": "" },
    }});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&issued_token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}
