//! The accept loop. Each connection is served by hyper with the axum router as its
//! service, and gets a kill switch so a handler can make its connection disappear without
//! a response (the reset and applied-but-lost faults), which no response type can express.

use crate::state::Shared;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::Service;

/// How long in-flight requests may finish after shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How a killed connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillMode {
    /// Orderly close (FIN): the client sees the response end early.
    Close = 1,
    /// Abortive close (RST): the client sees "connection reset".
    Reset = 2,
}

/// Fired by a handler, watched by the connection task.
#[derive(Clone, Default)]
pub(crate) struct KillSwitch(Arc<KillInner>);

#[derive(Default)]
struct KillInner {
    notify: Notify,
    mode: AtomicU8,
}

impl KillSwitch {
    pub fn fire(&self, mode: KillMode) {
        self.0.mode.store(mode as u8, Ordering::SeqCst);
        // notify_one keeps a permit if the connection task is not waiting right now.
        self.0.notify.notify_one();
    }

    async fn fired(&self) -> KillMode {
        loop {
            match self.0.mode.load(Ordering::SeqCst) {
                1 => return KillMode::Close,
                2 => return KillMode::Reset,
                _ => self.0.notify.notified().await,
            }
        }
    }
}

/// Per-connection facts put into every request's extensions.
#[derive(Clone)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    pub kill: KillSwitch,
}

/// Resolves when shutdown starts; the watch guard is dropped here so callers stay `Send`.
async fn stopped(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

pub(crate) async fn serve(listener: TcpListener, router: Router, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown_receiver();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, router.clone(), shared.clone()));
                }
                Err(e) => {
                    // Usually EMFILE; pausing lets connections close instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_millis(500), drain).await.is_err() {
        connections.abort_all();
    }
    tracing::debug!("emulator server stopped");
}

/// Keeps a second handle on the socket so its linger can be set after hyper owns the stream.
fn with_reset_handle(stream: TcpStream) -> (Option<TcpStream>, Option<std::net::TcpStream>) {
    let std_stream = match stream.into_std() {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "could not detach accepted socket");
            return (None, None);
        }
    };
    let dup = std_stream.try_clone().ok();
    match TcpStream::from_std(std_stream) {
        Ok(s) => (Some(s), dup),
        Err(e) => {
            tracing::debug!(error = %e, "could not re-register accepted socket");
            (None, None)
        }
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, router: Router, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (Some(stream), reset_handle) = with_reset_handle(stream) else {
        return;
    };
    let kill = KillSwitch::default();
    let info = ConnInfo { peer, kill: kill.clone() };
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(info.clone());
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut shutdown = shared.shutdown_receiver();

    let mode = tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            return;
        }
        mode = kill.fired() => mode,
        _ = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => return,
                mode = kill.fired() => mode,
                _ = tokio::time::sleep(SHUTDOWN_GRACE) => KillMode::Close,
            }
        }
    };
    if mode == KillMode::Reset
        && let Some(dup) = reset_handle
    {
        // SO_LINGER 0 belongs to the socket, so the close of hyper's handle (when `conn`
        // is dropped as this function returns) sends RST instead of FIN.
        let socket = TcpSocket::from_std_stream(dup);
        if let Err(e) = socket.set_zero_linger() {
            tracing::debug!(error = %e, "could not set SO_LINGER");
        }
    }
}
