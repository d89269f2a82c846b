//! Accepting connections: at most `max_connections` at once (more are closed as soon as they are
//! accepted), a deadline for the request head, one request per connection, one file descriptor
//! per connection, and a graceful stop.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};

use prometheus_client::metrics::counter::Counter;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Connections served at once, over every listener; more are closed on accept.
    pub max_connections: usize,
    /// Time a client has to send its request line and headers.
    pub header_timeout: Duration,
}

/// The client's socket of a request, to notice a client that hangs up while its execution runs
/// (hyper does not watch an HTTP/1 connection while the handler is busy). It is the connection's
/// own descriptor, not a copy: it is valid only while the request is being handled, since the
/// connection that owns it outlives its request, so only the request's own future may use it.
#[derive(Debug, Clone, Copy)]
pub struct PeerSocket(RawFd);

impl PeerSocket {
    /// True once the peer has closed its end (a zero-byte peek).
    pub fn closed(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            nix::sys::socket::recv(
                self.0,
                &mut byte,
                nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            ),
            Ok(0)
        )
    }
}

/// A listener the server accepts on (its unix socket, or a loopback TCP port).
pub trait Accept: Send + 'static {
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + AsRawFd + Send + Unpin + 'static;
    fn accept_one(&self) -> impl Future<Output = std::io::Result<Self::Io>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;
    async fn accept_one(&self) -> std::io::Result<Self::Io> {
        self.accept().await.map(|(s, _)| s)
    }
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;
    async fn accept_one(&self) -> std::io::Result<Self::Io> {
        self.accept().await.map(|(s, _)| s)
    }
}

/// Accept and serve connections until `stop` turns true, then let every open connection finish
/// its request. `slots` holds `max_connections` permits shared by every listener.
pub async fn serve<L: Accept>(
    listener: L,
    app: Router,
    limits: ConnLimits,
    slots: Arc<Semaphore>,
    refused: Counter,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept_one() => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors or memory: wait a little instead of spinning.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            refused.inc();
            tracing::debug!(
                max_connections = limits.max_connections,
                "too many connections; closing a new one"
            );
            drop(stream);
            continue;
        };
        let peer = PeerSocket(stream.as_raw_fd());
        let service = TowerToHyperService::new(app.clone().layer(axum::Extension(peer)));
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(false)
            .serve_connection(TokioIo::new(stream), service);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut conn = std::pin::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.wait_for(|s| *s), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
}
