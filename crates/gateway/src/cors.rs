//! CORS for APIs with `cors` on (the headers APIG documents, `extensions.md` §2.3): a browser's
//! preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered by the gateway before
//! authentication, and every response of such an API carries the CORS headers.

use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::context::{Body, Ctx, Plugin, empty};

const HEADERS: [(&str, &str); 4] = [
    ("access-control-max-age", "172800"),
    ("access-control-allow-origin", "*"),
    (
        "access-control-allow-headers",
        "X-Sdk-Date, X-Sdk-Nonce, X-Proxy-Signed-Headers, X-Sdk-Content-Sha256, X-Forwarded-For, Authorization, \
         Content-Type, Accept, Accept-Ranges, Cache-Control, Range",
    ),
    ("access-control-allow-methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH"),
];

/// The CORS plugin.
pub struct Cors;

fn enabled(ctx: &Ctx) -> bool {
    ctx.route.as_ref().is_some_and(|r| r.api.api.definition.cors)
}

impl Plugin for Cors {
    fn request_filter(&self, ctx: &Ctx) -> Option<Response<Body>> {
        if !ctx.preflight || !enabled(ctx) {
            return None;
        }
        let mut response = Response::new(empty());
        *response.status_mut() = StatusCode::OK;
        Some(response)
    }

    fn response_filter(&self, ctx: &Ctx, headers: &mut HeaderMap) {
        if enabled(ctx) {
            for (name, value) in HEADERS {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
    }
}
