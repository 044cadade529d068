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
use tokio::net::TcpListener;

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
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "gateway accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr()?;
        let gateway = gateway.clone();
        let service = service_fn(move |request| {
            let gateway = gateway.clone();
            async move { Ok::<_, Infallible>(gateway.handle(request, peer, local).await) }
        });
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let acceptor = acceptor.clone();
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
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("gateway connections still open after the drain period");
    }
    Ok(())
}

/// Loads the route table from `store` and logs what could not be routed, and how long reading
/// and building took.
pub async fn load_routes(store: &dyn Store) -> Result<RouteTable, portico_store::StoreError> {
    let started = std::time::Instant::now();
    let live = store.live_routes().await?;
    let read = started.elapsed();
    // Building 100 000 routes takes a CPU for a while: not on a runtime worker serving requests.
    let (table, problems) = match tokio::task::spawn_blocking(move || RouteTable::build(live)).await {
        Ok(built) => built,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    for problem in problems {
        tracing::warn!(problem, "gateway route skipped");
    }
    tracing::info!(
        apis = table.len(),
        read_ms = read.as_millis() as u64,
        build_ms = (started.elapsed() - read).as_millis() as u64,
        "gateway route table built"
    );
    Ok(table)
}

/// Polls `store` every `interval` and swaps in a new route table whenever it changed; runs
/// until the task is dropped. `seen` is the generation the gateway's current table was built at.
pub async fn watch(store: Arc<dyn Store>, gateway: Arc<Gateway>, mut seen: u64, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let generation = store.generation();
        if generation == seen {
            continue;
        }
        match load_routes(store.as_ref()).await {
            Ok(table) => {
                gateway.replace_routes(table);
                seen = generation;
            }
            Err(e) => tracing::warn!(error = %e, "cannot reload the gateway routes; keeping the previous ones"),
        }
    }
}
