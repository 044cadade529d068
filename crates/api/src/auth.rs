//! Who is calling: an `X-Auth-Token` (our IAM token) or an SDK `SDK-HMAC-SHA256` signature,
//! checked before any `/v2` handler runs, and whether that caller may act on the project in
//! the path.

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_auth::signature::{self, RequestParts};
use portico_auth::token;
use portico_store::StoreError;

use crate::lockout::{self, LockedOut, Principal};
use crate::{ApiError, AppState};

/// Largest request body the management API reads (imports of large documents included).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// The authenticated caller, put into the request's extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// User id.
    pub user_id: String,
    /// User name.
    pub user_name: String,
    /// Projects the credentials are good for (a token: the one it is scoped to).
    pub projects: Vec<String>,
    /// A read-only caller may only read.
    pub readonly: bool,
}

/// Middleware: authenticates the request, then checks the `{project_id}` of the path.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| ApiError::too_large().into_response())?;
    let caller = identify(&state, &parts, &body).await?;
    let uri = original_uri(&parts);
    let project = uri.path().split('/').nth(2).unwrap_or_default();
    if !caller.projects.iter().any(|p| p == project) {
        return Err(ApiError::forbidden().into_response());
    }
    if caller.readonly && !is_read(&parts.method, uri.path()) {
        return Err(ApiError::forbidden().into_response());
    }
    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// Reads change nothing: GET, HEAD, and the name and path availability checks (APIG counts
/// `…/check` as a read action too).
fn is_read(method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD) || (*method == Method::POST && path.ends_with("/check"))
}

/// The URI as the client sent it: routers nested under a prefix see it stripped, but the
/// signature covers the whole path.
fn original_uri(parts: &axum::http::request::Parts) -> axum::http::Uri {
    match parts.extensions.get::<OriginalUri>() {
        Some(OriginalUri(uri)) => uri.clone(),
        None => parts.uri.clone(),
    }
}

/// The caller, or the response that refuses the request (a 429 carries `Retry-After`).
async fn identify(state: &AppState, parts: &axum::http::request::Parts, body: &[u8]) -> Result<Caller, Response> {
    let now = time::OffsetDateTime::now_utc();
    let unauthenticated = || ApiError::unauthenticated().into_response();
    if let Some(token) = parts.headers.get("x-auth-token") {
        let token = token.to_str().map_err(|_| unauthenticated())?;
        let claims = token::verify(&state.token_key, token, now).map_err(|_| unauthenticated())?;
        return Ok(Caller {
            user_id: claims.user_id,
            user_name: claims.user_name,
            projects: vec![claims.project_id],
            readonly: claims.readonly,
        });
    }
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(unauthenticated)?;
    let authorization = signature::parse_authorization(header).map_err(|_| unauthenticated())?;
    // No lockout check first: a valid signature is accepted whatever the key's failures.
    let principal = Principal::AccessKey(authorization.access_key.clone());
    let ip = lockout::client_ip(&parts.extensions);
    let refused = || match state.failures.fail(principal.clone(), ip) {
        Ok(()) => unauthenticated(),
        Err(locked) => too_many_failures(locked),
    };
    let (credential, user) = match state.store.credential(&authorization.access_key).await {
        Ok(found) => found,
        Err(StoreError::NotFound { .. }) => return Err(refused()),
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let uri = original_uri(parts);
    let request = RequestParts {
        method: parts.method.as_str(),
        raw_path: uri.path(),
        raw_query: uri.query(),
        headers: &parts.headers,
        body,
    };
    signature::verify(&request, &authorization, &credential.secret_key, now).map_err(|_| refused())?;
    Ok(Caller { user_id: user.id, user_name: user.name, projects: user.projects, readonly: user.readonly })
}

fn too_many_failures(locked: LockedOut) -> Response {
    let retry_after = locked.retry_after_secs();
    let mut response = ApiError::too_many_failures(retry_after).into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}
