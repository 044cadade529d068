//! Request bodies: streamed to the backend as they arrive, unless a phase needs them whole (an
//! APP signature or a custom authorizer looks at them, a signature key signs them, a retry sends
//! them again). Whole bodies are held in memory, and [`BodyBudget`] bounds the memory all of them
//! take together: past it a request is refused (503 `APIG.0105`), so a burst of large uploads
//! cannot grow the process without bound. Either way no body exceeds `max_body_bytes` (413
//! `APIG.0104`).

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use metrics::Counter;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::GatewayError;

/// What the backend request carries.
pub type UpstreamBody = BoxBody<Bytes, Box<dyn StdError + Send + Sync>>;

/// The memory that whole request bodies may take together, shared by every worker.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
}

impl BodyBudget {
    /// A budget of `total` bytes.
    pub fn new(total: usize) -> BodyBudget {
        BodyBudget { bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))) }
    }

    /// `n` more bytes, added to `held`; none when the budget is spent (the request is refused
    /// rather than kept waiting: its client would hold its connection and its bytes meanwhile).
    fn take(&self, n: usize, held: &mut Option<OwnedSemaphorePermit>) -> Result<(), GatewayError> {
        let n = u32::try_from(n).map_err(|_| GatewayError::BodyBudgetSpent)?;
        let permit = self.bytes.clone().try_acquire_many_owned(n).map_err(|_| GatewayError::BodyBudgetSpent)?;
        match held {
            Some(held) => held.merge(permit),
            None => *held = Some(permit),
        }
        Ok(())
    }
}

/// A request body, read no further than a phase needs it.
#[derive(Debug)]
pub struct RequestBody {
    state: State,
    limit: usize,
    /// Counts the bytes read from the client, whether held whole or streamed.
    received: Counter,
}

#[derive(Debug)]
enum State {
    Unread(Incoming),
    /// The whole body, and its share of the [`BodyBudget`] (released with it).
    Whole(Bytes, Option<OwnedSemaphorePermit>),
    /// Handed to the backend.
    Sent,
}

impl RequestBody {
    /// `body` of a request whose head announced `content_length`; refused at once when that is
    /// over `limit`. The bytes read are added to `received`.
    pub fn new(
        body: Incoming,
        content_length: Option<u64>,
        limit: usize,
        received: Counter,
    ) -> Result<RequestBody, GatewayError> {
        if content_length.is_some_and(|n| n > limit as u64) {
            return Err(GatewayError::BodyTooLarge(limit));
        }
        Ok(RequestBody { state: State::Unread(body), limit, received })
    }

    /// The whole body, read into memory on the first call, within `budget`.
    pub async fn whole(&mut self, budget: &BodyBudget) -> Result<&Bytes, GatewayError> {
        self.state = match std::mem::replace(&mut self.state, State::Sent) {
            State::Unread(body) => {
                let (bytes, permit) = read_whole(body, self.limit, budget, &self.received).await?;
                State::Whole(bytes, permit)
            }
            other => other,
        };
        match &self.state {
            State::Whole(bytes, _) => Ok(bytes),
            _ => Err(GatewayError::Internal),
        }
    }

    /// The body for one attempt at the backend: a copy of the whole body for every attempt, or
    /// the stream itself, once (`None` after).
    pub fn attempt(&mut self) -> Option<UpstreamBody> {
        match std::mem::replace(&mut self.state, State::Sent) {
            State::Whole(bytes, permit) => {
                let body = whole(bytes.clone());
                self.state = State::Whole(bytes, permit);
                Some(body)
            }
            State::Unread(body) => {
                Some(Capped { body, left: self.limit, limit: self.limit, received: self.received.clone() }.boxed())
            }
            State::Sent => None,
        }
    }

    /// Whether the body is still a stream: it can be sent once only.
    pub fn is_stream(&self) -> bool {
        !matches!(self.state, State::Whole(..))
    }
}

/// `bytes` as a backend request body.
pub fn whole(bytes: Bytes) -> UpstreamBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

async fn read_whole(
    mut body: Incoming,
    limit: usize,
    budget: &BodyBudget,
    received: &Counter,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), GatewayError> {
    let mut held = None;
    let mut buffer: Vec<u8> = Vec::new();
    // The announced length is reserved (and counted) at once; a chunked body grows by doubling.
    let announced = body.size_hint().exact().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)).min(limit);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| GatewayError::BodyTooLarge(limit))?;
        let Ok(data) = frame.into_data() else { continue };
        received.increment(data.len() as u64);
        let wanted = buffer.len() + data.len();
        if wanted > limit {
            return Err(GatewayError::BodyTooLarge(limit));
        }
        if wanted > buffer.capacity() {
            let capacity = wanted.max(announced).max(buffer.capacity() * 2).min(limit);
            budget.take(capacity - buffer.capacity(), &mut held)?;
            buffer.reserve_exact(capacity - buffer.len());
        }
        buffer.extend_from_slice(&data);
    }
    Ok((Bytes::from(buffer), held))
}

/// A streamed body that fails once more than `limit` bytes went through.
struct Capped {
    body: Incoming,
    left: usize,
    limit: usize,
    received: Counter,
}

/// The error a streamed body over the limit ends with: the backend request fails, and the gateway answers 413.
#[derive(Debug, thiserror::Error)]
#[error("the request body exceeds {0} bytes")]
pub struct TooLarge(pub usize);

impl Body for Capped {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                if len > this.left {
                    return Poll::Ready(Some(Err(Box::new(TooLarge(this.limit)))));
                }
                this.left -= len;
                this.received.increment(len as u64);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
