//! APP authentication: a request signed with an app's key and secret (`SDK-HMAC-SHA256`, the
//! algorithm of the management API and of the SDKs' signers), or, when the API enables it, an
//! AppCode in `X-Apig-AppCode`. The calling app must belong to the API's instance and be
//! authorized for the API in the environment it is called in.
//!
//! Everything is read from the route table ([`AppDirectory`] and
//! [`crate::entry::ApiPolicies::authorized_apps`]), built with the rest of it: no store query
//! per request.

use std::collections::HashMap;

use portico_auth::signature::{self, RequestParts, SignatureError};
use portico_model::AppCodeAuthType;
use portico_store::LiveApp;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::entry::RouteApi;
use crate::error::GatewayError;

/// The header that carries an AppCode.
pub const APP_CODE_HEADER: &str = "x-apig-appcode";

struct KeyedApp {
    instance_id: String,
    app_id: String,
    secret: String,
}

/// Every app, by key and by AppCode. `Debug` shows how many, not the secrets.
#[derive(Default)]
pub struct AppDirectory {
    by_key: HashMap<String, KeyedApp>,
    /// SHA-256 of the AppCode → (instance id, app id). Looked up by digest so that a lookup's
    /// timing (hashing, bucket comparisons) depends on the digest, never on the code's bytes:
    /// matching a guess byte by byte tells a guesser nothing about a real code.
    by_code: HashMap<[u8; 32], (String, String)>,
}

impl std::fmt::Debug for AppDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppDirectory")
            .field("apps", &self.by_key.len())
            .field("app_codes", &self.by_code.len())
            .finish()
    }
}

impl AppDirectory {
    /// The directory of `apps`.
    pub fn new(apps: Vec<LiveApp>) -> AppDirectory {
        let mut directory = AppDirectory::default();
        for live in apps {
            let app_id = live.app.app.id;
            for code in live.app_codes {
                directory.by_code.insert(Sha256::digest(code).into(), (live.instance_id.clone(), app_id.clone()));
            }
            directory.by_key.insert(
                live.app.app.app_key,
                KeyedApp { instance_id: live.instance_id, app_id, secret: live.app.app_secret.0 },
            );
        }
        directory
    }

    /// The id of the app calling `api`, or why the request is refused: `AppAuth` (401) when
    /// the credentials are missing or wrong, `AppNotAuthorized` (403) when the app is known
    /// but not authorized for the API in its environment.
    pub fn authenticate(
        &self,
        api: &RouteApi,
        request: &RequestParts<'_>,
        now: OffsetDateTime,
    ) -> Result<String, GatewayError> {
        let app_code_enabled =
            api.api.definition.auth_opt.as_ref().is_some_and(|o| o.app_code_auth_type == AppCodeAuthType::Header);
        let code = request.headers.get(APP_CODE_HEADER);
        let (instance_id, app_id) = match (code, request.headers.get(http::header::AUTHORIZATION)) {
            (Some(code), _) if app_code_enabled => {
                let code = code.to_str().map_err(|_| GatewayError::AppAuth("the AppCode is invalid".into()))?;
                let (instance_id, app_id) = self
                    .by_code
                    .get(&<[u8; 32]>::from(Sha256::digest(code)))
                    .ok_or_else(|| GatewayError::AppAuth("the AppCode is invalid".into()))?;
                (instance_id.as_str(), app_id.as_str())
            }
            (_, Some(authorization)) => {
                let authorization = authorization
                    .to_str()
                    .map_err(|_| GatewayError::AppAuth("the Authorization header is not readable".into()))?;
                let parsed = signature::parse_authorization(authorization).map_err(signature_error)?;
                let app = self
                    .by_key
                    .get(&parsed.access_key)
                    .ok_or_else(|| GatewayError::AppAuth(format!("no app has the key {}", parsed.access_key)))?;
                signature::verify(request, &parsed, &app.secret, now).map_err(signature_error)?;
                (app.instance_id.as_str(), app.app_id.as_str())
            }
            (Some(_), None) => {
                return Err(GatewayError::AppAuth("the API does not accept AppCodes; sign the request".into()));
            }
            (None, None) => return Err(GatewayError::AppAuthMissing),
        };
        if instance_id != &*api.instance_id || !api.bound.authorized_apps.contains(app_id) {
            return Err(GatewayError::AppNotAuthorized(app_id.to_string()));
        }
        Ok(app_id.to_string())
    }
}

fn signature_error(e: SignatureError) -> GatewayError {
    GatewayError::AppAuth(match e {
        SignatureError::Mismatch => "the signature does not match".into(),
        other => other.to_string(),
    })
}
