//! The app's own extractors, so that bad input is answered in the APIG error shape.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// The instance every `/v2/{project_id}/apigw/instances/{instance_id}/…` route acts in,
/// checked to exist in that project.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The instance id.
    pub instance_id: String,
}

impl FromRequestParts<AppState> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::no_route())?;
        let param =
            |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()).unwrap_or_default();
        let instance = state.store.instance(&param("project_id"), &param("instance_id")).await?;
        Ok(Scope { instance_id: instance.id })
    }
}

/// `Query<T>` whose rejection names the offending parameter as `APIG.2011`.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        // No parameter of APIG's holds a NUL, and PostgreSQL refuses one in any text it is given
        // (a filter would fail as a 500): refused here, for every query of every route.
        if let Some((name, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::invalid(&name.replace('\0', "")));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(AppQuery).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(if path == "." { "query" } else { &path })
        })
    }
}

/// Which product's path a request came in on: the same instance routes serve APIG
/// (`/v2/{project_id}/apigw/…`) and ROMA Connect (`/v2/{project_id}/apic/…`), and a handler
/// that behaves differently asks for this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// API Gateway.
    Apig,
    /// ROMA Connect's API Connect.
    Roma,
}

impl<S: Send + Sync> FromRequestParts<S> for Flavor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Flavor>().copied().unwrap_or(Flavor::Apig))
    }
}
