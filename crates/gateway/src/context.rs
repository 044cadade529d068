//! The request context: what every phase of [`crate::pipeline`] reads and writes ([`Ctx`]),
//! the response [`Body`], and the [`Plugin`] seam. It sits below the phases, so that plugins
//! (CORS), gateway responses and the proxy use it without importing the pipeline.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, SizeHint};
use portico_model::GatewayResponse;
use time::OffsetDateTime;

use crate::auth::Caller;
use crate::entry::RouteMatch;

/// Response body type of the gateway.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// A body of `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never: Infallible| match never {}).boxed()
}

/// `body`, adding the bytes of its data frames to `sent` as they go out.
pub fn counted(body: Body, sent: metrics::Counter) -> Body {
    Counted { body, sent }.boxed()
}

/// A body that counts its bytes. Written here rather than with `BodyExt::map_frame`, which
/// forgets the size hint: hyper would then send a full body chunked instead of with its
/// `Content-Length`, and close the connection of a client still sending when it answers early.
struct Counted {
    body: Body,
    sent: metrics::Counter,
}

impl hyper::body::Body for Counted {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.sent.increment(data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A policy that runs around the request (CORS).
pub trait Plugin: Send + Sync {
    /// After routing, before authentication: `Some` answers the request without going further.
    fn request_filter(&self, ctx: &Ctx) -> Option<Response<Body>>;
    /// Adjusts the response headers of every routed request (errors included).
    fn response_filter(&self, ctx: &Ctx, headers: &mut HeaderMap);
}

/// Per-request state, passed through every phase.
#[derive(Debug)]
pub struct Ctx {
    /// 32 hex digits, also `X-Request-Id` and `$context.requestId`.
    pub request_id: String,
    /// When the request arrived.
    pub started: Instant,
    /// Wall-clock arrival time.
    pub received_at: OffsetDateTime,
    /// The client: the peer, or the address a trusted proxy gave ([`crate::client_address`]).
    pub client: SocketAddr,
    /// The address the request reached Portico from: the client, or the last proxy.
    pub hop: SocketAddr,
    /// The gateway address the client reached.
    pub local: SocketAddr,
    /// The environment name asked for (`X-Stage`, default `RELEASE`).
    pub stage: String,
    /// The matched API.
    pub route: Option<RouteMatch>,
    /// When no API matched: the `default` gateway response of the group the host names.
    pub group_responses: Option<Arc<GatewayResponse>>,
    /// Whether this is a CORS preflight routed by its `Access-Control-Request-Method`.
    pub preflight: bool,
    /// Who is calling.
    pub caller: Option<Caller>,
    /// The backend policy that applied.
    pub policy: Option<String>,
    /// Backend kind and address, for the access log.
    pub upstream: Option<String>,
    /// How long the request waited on its backend (every attempt), once it was called.
    pub upstream_time: Option<Duration>,
}

impl Ctx {
    /// Awaits `call` to the backend, adding the wait to [`Ctx::upstream_time`].
    pub async fn wait_upstream<T>(&mut self, call: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let answer = call.await;
        *self.upstream_time.get_or_insert_default() += started.elapsed();
        answer
    }
}
