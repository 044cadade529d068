//! The web console: plain HTML, CSS and ES-module JavaScript, compiled into the binary and
//! served at `/console/`. It is a client of the public management API (an IAM token from
//! `POST /v3/auth/tokens`, then `X-Auth-Token` on `/v2/…`), so it needs no routes or rights of
//! its own. No build step and no external asset: `cargo build` is all it takes.
#![warn(missing_docs)]

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// Where the console is mounted.
pub const PREFIX: &str = "/console";

/// Every asset: name under `/console/`, media type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../assets/index.html")),
    ("console.css", "text/css; charset=utf-8", include_str!("../assets/console.css")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../assets/api.js")),
    ("ui.js", "text/javascript; charset=utf-8", include_str!("../assets/ui.js")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/app.js")),
    ("pages.js", "text/javascript; charset=utf-8", include_str!("../assets/pages.js")),
    ("transfer.js", "text/javascript; charset=utf-8", include_str!("../assets/transfer.js")),
];

/// Only our own scripts and styles, and requests to this origin: no inline code, no CDN.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `/console` (redirects to `/console/`), `/console/` (the page) and `/console/{asset}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(PREFIX, get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(|| async { asset("index.html") }))
        .route("/console/{name}", get(|Path(name): Path<String>| async move { asset(&name) }))
}

fn asset(name: &str) -> Response {
    let Some((_, media_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such console asset").into_response();
    };
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Assets change with the binary; revalidating is cheap on loopback and never serves a
    // page of one version with a script of another.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(path: &str) -> Response {
        router::<()>().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn the_page_and_every_asset_are_served_with_their_media_type_and_policy() {
        let page = get("/console/").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
        for (name, media_type, _) in ASSETS {
            let response = get(&format!("/console/{name}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], *media_type, "{name}");
        }
    }

    #[tokio::test]
    async fn the_bare_prefix_redirects_and_unknown_assets_are_404() {
        let bare = get("/console").await;
        assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(bare.headers()[header::LOCATION], "/console/");
        assert_eq!(get("/console/../Cargo.toml").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/console/nope.js").await.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_page_loads_only_our_own_assets() {
        let page = ASSETS[0].2;
        for src in page.split("src=\"").skip(1).chain(page.split("href=\"").skip(1)) {
            let target = src.split('"').next().unwrap_or_default();
            if target.starts_with('#') {
                continue;
            }
            assert!(ASSETS.iter().any(|(name, _, _)| *name == target), "{target} is not an embedded asset");
        }
        for (name, _, body) in ASSETS {
            assert!(!body.contains("http://") && !body.contains("https://"), "{name} names an external URL");
        }
    }
}
