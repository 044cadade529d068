//! The listeners (HTTP/1.1 keep-alive and HTTP/2, graceful shutdown, time and connection
//! limits) and the store watcher that keeps the route table current.

use std::convert::Infallible;
use std::future::Future;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use portico_store::Store;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::client_address::{ClientAddressing, read_proxy_header};
use crate::pipeline::Gateway;
use crate::routes::RouteTable;
use crate::tls::{SniAcceptor, TlsSession};
use tokio_rustls::server::TlsStream;

/// How long in-flight requests get to finish after shutdown is asked.
const DRAIN: Duration = Duration::from_secs(30);

/// How a listener bounds its connections; both of Portico's listeners have their own
/// (`docs/configuration.md`, "Slow and idle clients").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long an HTTP/1.1 client may take to send a request's head. hyper starts this clock
    /// as soon as a connection waits for its next request, so it also closes HTTP/1.1
    /// connections idle that long.
    pub header_read_timeout: Duration,
    /// How long a connection may stay without a byte either way and with no request in
    /// flight (HTTP/1.1 and HTTP/2) before it is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; past it, new ones wait in the kernel's accept queue.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    /// nginx's: `client_header_timeout` 60 s and `keepalive_timeout` 75 s (longer than the
    /// 60 s idle timeout of common load balancers, so that they, not Portico, close idle
    /// connections and never send a request on one Portico is closing); 10,000 connections, at
    /// a few kilobytes each while idle.
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(75),
            max_connections: 10_000,
        }
    }
}

/// Serves `gateway` on `listener` (over TLS when `tls` is given) until `shutdown` resolves, then
/// lets connections finish their requests in flight (up to 30 s).
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    addressing: ClientAddressing,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(|config| sni_acceptor(&config, &gateway));
    let make = move |local| gateway_service(gateway.clone(), local);
    serve_connections(listener, make, acceptor, limits, addressing, shutdown).await
}

/// The gateway listener's TLS: the bound domains' certificates by SNI over the listener's own.
fn sni_acceptor(config: &rustls::ServerConfig, gateway: &Gateway) -> Acceptor {
    Acceptor::Sni(Arc::new(SniAcceptor::new(config, gateway.certificates().clone())))
}

/// Serves the services `make` gives each connection (from its local address) on `listener`
/// with `limits`, until `shutdown` resolves; then lets connections finish their requests in
/// flight (up to 30 s). Every request carries its [`crate::client_address::Origin`] in its extensions, worked out by
/// `addressing`. `portico serve` runs the management API this way too.
pub async fn serve_with<M, S, B>(
    listener: TcpListener,
    make: M,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    addressing: ClientAddressing,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    M: Fn(SocketAddr) -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acceptor = tls.map(|config| Acceptor::Fixed(tokio_rustls::TlsAcceptor::from(config)));
    serve_connections(listener, make, acceptor, limits, addressing, shutdown).await
}

async fn serve_connections<M, S, B>(
    listener: TcpListener,
    make: M,
    acceptor: Option<Acceptor>,
    limits: ConnectionLimits,
    addressing: ClientAddressing,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    M: Fn(SocketAddr) -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connections = Connections::new(make, acceptor, limits, addressing);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = accept(&listener, &slots) => match accepted {
                Ok((stream, peer, slot)) => connections.serve(stream, peer, slot)?,
                Err(e) => accept_failed(e).await,
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    connections.drain().await;
    Ok(())
}

/// Serves `gateway` on `workers` threads, each running its own single-threaded runtime with its
/// own pool of backend connections ([`Gateway::worker`]): this task accepts on `listener` and
/// hands each connection to the next thread in turn, which serves it to the end, so a request
/// never changes threads (on a busy machine that costs far less than a work-stealing runtime's
/// hand-offs; see BENCHMARKS.md). When `shutdown` resolves, accepting stops and every thread
/// finishes its requests in flight.
pub async fn serve_on_threads(
    listener: TcpListener,
    gateway: &Gateway,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    addressing: ClientAddressing,
    workers: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    type Accepted = (std::net::TcpStream, SocketAddr, OwnedSemaphorePermit);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    let acceptor = tls.map(|config| sni_acceptor(&config, gateway));
    for i in 0..workers.max(1) {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Accepted>();
        let (gateway, tls, addressing) = (Arc::new(gateway.worker()), acceptor.clone(), addressing.clone());
        let thread = std::thread::Builder::new().name(format!("gateway-{i}")).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let make = move |local| gateway_service(gateway.clone(), local);
                let connections = Connections::new(make, tls, limits, addressing);
                while let Some((stream, peer, slot)) = receiver.recv().await {
                    connections.serve(TcpStream::from_std(stream)?, peer, slot)?;
                }
                connections.drain().await;
                Ok::<_, std::io::Error>(())
            })
        })?;
        senders.push(sender);
        threads.push(thread);
    }
    tokio::pin!(shutdown);
    let mut next = 0;
    loop {
        tokio::select! {
            accepted = accept(&listener, &slots) => match accepted {
                Ok((stream, peer, slot)) => {
                    // The worker's runtime registers the socket with its own reactor.
                    let _ = senders[next].send((stream.into_std()?, peer, slot));
                    next = (next + 1) % senders.len();
                }
                Err(e) => accept_failed(e).await,
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    drop(senders);
    let results =
        tokio::task::spawn_blocking(move || threads.into_iter().map(std::thread::JoinHandle::join).collect::<Vec<_>>())
            .await
            .map_err(std::io::Error::other)?;
    for result in results {
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    }
    Ok(())
}

/// The next connection, once one of `slots` is free: the connection holds it until it closes.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> std::io::Result<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let slot = slots.clone().acquire_owned().await.map_err(std::io::Error::other)?;
    let (stream, peer) = listener.accept().await?;
    Ok((stream, peer, slot))
}

async fn accept_failed(e: std::io::Error) {
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn gateway_service(
    gateway: Arc<Gateway>,
    local: SocketAddr,
) -> impl Service<
    Request<Incoming>,
    Response = Response<crate::context::Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<crate::context::Body>, Infallible>> + Send + 'static,
> + Send
+ 'static {
    service_fn(move |request| {
        let gateway = gateway.clone();
        async move { Ok::<_, Infallible>(gateway.handle(request, local).await) }
    })
}

/// How a listener speaks TLS.
#[derive(Clone)]
enum Acceptor {
    /// One configuration for every connection (the management listener).
    Fixed(tokio_rustls::TlsAcceptor),
    /// The gateway's: chosen by the SNI of each connection.
    Sni(Arc<SniAcceptor>),
}

impl Acceptor {
    async fn accept(&self, stream: TcpStream) -> std::io::Result<(TlsStream<TcpStream>, Option<TlsSession>)> {
        match self {
            Acceptor::Fixed(acceptor) => Ok((acceptor.accept(stream).await?, None)),
            Acceptor::Sni(acceptor) => {
                let (stream, session) = acceptor.accept(stream).await?;
                Ok((stream, Some(session)))
            }
        }
    }
}

/// The connections of one runtime: each served on its own task, all drained together.
struct Connections<M> {
    make: M,
    acceptor: Option<Acceptor>,
    builder: auto::Builder<TokioExecutor>,
    limits: ConnectionLimits,
    addressing: ClientAddressing,
    /// Tells the connections to finish; each holds a receiver until it ends.
    stop: watch::Sender<()>,
}

impl<M, S, B> Connections<M>
where
    M: Fn(SocketAddr) -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn new(
        make: M,
        acceptor: Option<Acceptor>,
        limits: ConnectionLimits,
        addressing: ClientAddressing,
    ) -> Connections<M> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
        Connections { make, acceptor, builder, limits, addressing, stop: watch::channel(()).0 }
    }

    /// Serves `stream` on a new task of the current runtime; `slot` is freed when it closes.
    fn serve(&self, mut stream: TcpStream, peer: SocketAddr, slot: OwnedSemaphorePermit) -> std::io::Result<()> {
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr()?;
        let activity = Arc::new(Activity::default());
        let service = (self.make)(local);
        let stop = self.stop.subscribe();
        let builder = self.builder.clone();
        let acceptor = self.acceptor.clone();
        let addressing = self.addressing.clone();
        let (idle, header_read) = (self.limits.idle_timeout, self.limits.header_read_timeout);
        tokio::spawn(async move {
            let mut hop = peer;
            if addressing.proxy_protocol {
                match read_proxy_header(&mut stream, header_read).await {
                    Ok(source) if addressing.trusted.trusts(peer.ip()) => hop = source.unwrap_or(peer),
                    Ok(_) => tracing::debug!(client = %peer, "PROXY header from an untrusted peer ignored"),
                    Err(e) => {
                        tracing::debug!(error = %e, client = %peer, "connection refused: no valid PROXY header");
                        return;
                    }
                }
            }
            // Every request carries its client's origin and, on TLS, what the handshake established.
            let counted = {
                let activity = activity.clone();
                move |session: Option<TlsSession>| {
                    service_fn(move |mut request: Request<Incoming>| {
                        let origin = addressing.origin(hop, request.headers());
                        request.extensions_mut().insert(origin);
                        if let Some(session) = &session {
                            request.extensions_mut().insert(session.clone());
                        }
                        let in_flight = activity.begin();
                        let response = service.call(request);
                        async move {
                            let response = response.await;
                            drop(in_flight);
                            response
                        }
                    })
                }
            };
            let result = match acceptor {
                None => {
                    let io = TokioIo::new(Tracked { io: stream, activity: activity.clone() });
                    drive(builder.serve_connection(io, counted(None)), stop, &activity, idle).await
                }
                Some(acceptor) => {
                    // The handshake counts against the idle time: a client that opens a TLS
                    // connection and sends nothing holds it no longer than a plain one.
                    let handshake = tokio::time::timeout(idle, acceptor.accept(stream)).await;
                    match handshake {
                        Ok(Ok((stream, session))) => {
                            let io = TokioIo::new(Tracked { io: stream, activity: activity.clone() });
                            drive(builder.serve_connection(io, counted(session)), stop, &activity, idle).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, client = %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(client = %peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, client = %peer, "connection ended with an error");
            }
            drop(slot);
        });
        Ok(())
    }

    /// Lets the connections finish their requests in flight (up to 30 s).
    async fn drain(self) {
        let _ = self.stop.send(());
        if tokio::time::timeout(DRAIN, self.stop.closed()).await.is_err() {
            tracing::warn!("connections still open after the drain period");
        }
    }
}

/// Runs `connection` to its end: gracefully shut down when `stop` says so, or once it has been
/// idle for `idle` ([`Activity::idle_for`]).
async fn drive<C, E>(connection: C, mut stop: watch::Receiver<()>, activity: &Activity, idle: Duration) -> Result<(), E>
where
    C: Future<Output = Result<(), E>> + GracefulConnection,
{
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let check = tokio::time::sleep(activity.idle_left(idle));
        tokio::select! {
            result = connection.as_mut() => return result,
            _ = stop.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = check, if !closing => {
                if activity.idle_left(idle).is_zero() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A connection that can be asked to finish its requests in flight and close.
trait GracefulConnection {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for auto::Connection<'_, I, S, TokioExecutor>
where
    S: Service<Request<Incoming>, Response = Response<B>>,
    S::Future: 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    TokioExecutor: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        auto::Connection::graceful_shutdown(self)
    }
}

/// When a connection last moved a byte, and how many of its requests are in flight.
#[derive(Debug)]
struct Activity {
    opened: tokio::time::Instant,
    /// Milliseconds after `opened`.
    last: AtomicU64,
    in_flight: AtomicUsize,
}

impl Default for Activity {
    fn default() -> Self {
        Activity { opened: tokio::time::Instant::now(), last: AtomicU64::new(0), in_flight: AtomicUsize::new(0) }
    }
}

impl Activity {
    fn touch(&self) {
        self.last.store(self.opened.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// A request in flight until the guard is dropped.
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// How long until the connection has been idle for `idle`: zero when it has. A connection
    /// with a request in flight is not idle (its backend may take its time), and is looked at
    /// again after `idle`.
    fn idle_left(&self, idle: Duration) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return idle;
        }
        let since = self.opened.elapsed().saturating_sub(Duration::from_millis(self.last.load(Ordering::Relaxed)));
        idle.saturating_sub(since)
    }
}

struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's socket that notes when bytes go through it.
struct Tracked<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Loads the route table from `store`, and logs what could not be routed, and how long
/// reading and building took.
pub async fn load_routes(store: &dyn Store) -> Result<RouteTable, portico_store::StoreError> {
    let started = std::time::Instant::now();
    let live = store.live_routes().await?;
    let read = started.elapsed();
    // Building 100 000 routes takes a CPU for a while: not on a runtime worker serving requests.
    let (table, problems) = match tokio::task::spawn_blocking(move || RouteTable::build(live)).await {
        Ok(built) => built,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled: the runtime is shutting down (a stop during a reload), and drops this
        // future with it; there is no table to return and no one to return it to.
        Err(_) => return std::future::pending().await,
    };
    for problem in problems {
        tracing::warn!(problem, "gateway route table");
    }
    tracing::info!(
        apis = table.len(),
        read_ms = read.as_millis() as u64,
        build_ms = (started.elapsed() - read).as_millis() as u64,
        "gateway route table built"
    );
    Ok(table)
}

/// Runs the channels' active health checks forever: every second, each channel whose
/// interval has passed has all its members probed (concurrently, each within the check's
/// timeout), and the results update [`crate::channels::ChannelStates`]; each tick sets the
/// channel health gauges ([`crate::metrics::channel_health`]) from them. One per process: the
/// gauges are the process's.
async fn check_health(gateway: Arc<Gateway>) {
    let mut due: std::collections::HashMap<String, std::time::Instant> = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let table = gateway.routes();
        let now = std::time::Instant::now();
        due.retain(|id, _| table.channel(id).is_some());
        for channel in table.channels() {
            let Some(check) = &channel.health else { continue };
            if due.get(&channel.id).is_some_and(|at| *at > now) {
                continue;
            }
            due.insert(channel.id.clone(), now + check.interval);
            let (gateway, channel) = (gateway.clone(), channel.clone());
            tokio::spawn(async move {
                for (index, member) in channel.members.iter().enumerate() {
                    let Some(check) = &channel.health else { return };
                    let ok = tokio::time::timeout(check.timeout, gateway.probe(member, check)).await.unwrap_or(false);
                    gateway.channel_states().record(&channel, index, ok);
                }
            });
        }
        // The results of the checks spawned above show at the next tick.
        let health = gateway.channel_states().member_health();
        crate::metrics::channel_health(
            health.iter().map(|(id, healthy, unhealthy)| (id.as_str(), *healthy, *unhealthy)),
        );
    }
}

/// Rebuilds the route table whenever what is live changes ([`Store::live_changed`]) and swaps
/// it in, and runs the VPC channels' health checks (`check_health`, above); runs
/// until the task is dropped. `seen` is the generation the gateway's current table was built
/// at. Two rebuilds start at least `spacing` apart: a change after a quiet spell is applied at
/// once, and a burst of writes is folded into few rebuilds (one takes a CPU for half a second at
/// 100,000 routes).
pub async fn watch(store: Arc<dyn Store>, gateway: Arc<Gateway>, seen: u64, spacing: Duration) {
    tokio::join!(reload(store, gateway.clone(), seen, spacing), check_health(gateway));
}

async fn reload(store: Arc<dyn Store>, gateway: Arc<Gateway>, mut seen: u64, spacing: Duration) {
    gateway.set_loaded_generation(seen);
    loop {
        // Returns at once when a write committed while the last table was read: it is not in it.
        store.live_changed(seen).await;
        let started = tokio::time::Instant::now();
        let generation = store.generation();
        match load_routes(store.as_ref()).await {
            Ok(table) => {
                let previous = gateway.replace_routes(table);
                // Freeing 100,000 routes takes tens of ms: not on a runtime thread.
                tokio::task::spawn_blocking(move || drop(previous));
                gateway.set_loaded_generation(generation);
                seen = generation;
            }
            Err(e) => tracing::warn!(error = %e, "cannot reload the gateway routes; keeping the previous ones"),
        }
        tokio::time::sleep_until(started + spacing).await;
    }
}
