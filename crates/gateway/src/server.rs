//! The listener (HTTP/1.1 keep-alive and HTTP/2, graceful shutdown) and the store watcher that
//! keeps the route table current.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use portico_store::Store;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

use crate::pipeline::Gateway;
use crate::routes::RouteTable;

/// How long in-flight requests get to finish after shutdown is asked.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `gateway` on `listener` (over TLS when `tls` is given) until `shutdown` resolves, then
/// lets connections finish their requests in flight (up to 30 s).
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Connections::new(gateway, tls);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => connections.serve(stream, peer)?,
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
    workers: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for i in 0..workers.max(1) {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(std::net::TcpStream, SocketAddr)>();
        let (gateway, tls) = (Arc::new(gateway.worker()), tls.clone());
        let thread = std::thread::Builder::new().name(format!("gateway-{i}")).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let connections = Connections::new(gateway, tls);
                while let Some((stream, peer)) = receiver.recv().await {
                    connections.serve(TcpStream::from_std(stream)?, peer)?;
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
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // The worker's runtime registers the socket with its own reactor.
                    let _ = senders[next].send((stream.into_std()?, peer));
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

async fn accept_failed(e: std::io::Error) {
    tracing::warn!(error = %e, "gateway accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The connections of one runtime: each served on its own task, all drained together.
struct Connections {
    gateway: Arc<Gateway>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    graceful: GracefulShutdown,
}

impl Connections {
    fn new(gateway: Arc<Gateway>, tls: Option<Arc<rustls::ServerConfig>>) -> Connections {
        Connections {
            gateway,
            acceptor: tls.map(tokio_rustls::TlsAcceptor::from),
            builder: auto::Builder::new(TokioExecutor::new()),
            graceful: GracefulShutdown::new(),
        }
    }

    /// Serves `stream` on a new task of the current runtime.
    fn serve(&self, stream: TcpStream, peer: SocketAddr) -> std::io::Result<()> {
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr()?;
        let gateway = self.gateway.clone();
        let service = service_fn(move |request| {
            let gateway = gateway.clone();
            async move { Ok::<_, Infallible>(gateway.handle(request, peer, local).await) }
        });
        let watcher = self.graceful.watcher();
        let builder = self.builder.clone();
        let acceptor = self.acceptor.clone();
        tokio::spawn(async move {
            let result = match acceptor {
                None => watcher.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned()).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        watcher.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned()).await
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, client = %peer, "gateway TLS handshake failed");
                        return;
                    }
                },
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, client = %peer, "gateway connection ended with an error");
            }
        });
        Ok(())
    }

    /// Lets the connections finish their requests in flight (up to 30 s).
    async fn drain(self) {
        if tokio::time::timeout(DRAIN, self.graceful.shutdown()).await.is_err() {
            tracing::warn!("gateway connections still open after the drain period");
        }
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

/// Rebuilds the route table whenever what is live changes ([`Store::live_changed`]) and swaps
/// it in, and runs the VPC channels' health checks ([`crate::channels::check_health`]); runs
/// until the task is dropped. `seen` is the generation the gateway's current table was built
/// at. Two rebuilds start at least `spacing` apart: a change after a quiet spell is applied at
/// once, and a burst of writes is folded into few rebuilds (one takes a CPU for half a second at
/// 100,000 routes).
pub async fn watch(store: Arc<dyn Store>, gateway: Arc<Gateway>, seen: u64, spacing: Duration) {
    tokio::join!(reload(store, gateway.clone(), seen, spacing), crate::channels::check_health(gateway));
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
