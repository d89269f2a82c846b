//! Accepting connections: at most `max_connections` at once (more are closed as soon as they are
//! accepted), a deadline for the request head, one request per connection, one file descriptor
//! per connection, and a graceful stop.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
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
    /// True once the peer has closed its end: the kernel reports it hung up (POLLRDHUP, which
    /// also sees a TLS client whose close_notify alert is still unread), or a peek reads zero
    /// bytes.
    pub fn closed(&self) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        // SAFETY: the descriptor is the connection's own and stays open while its request is
        // being handled, which is the only time a PeerSocket is used (see above).
        let fd = unsafe { BorrowedFd::borrow_raw(self.0) };
        // nix has no name for Linux's POLLRDHUP.
        let rdhup = PollFlags::from_bits_retain(libc::POLLRDHUP);
        let mut fds = [PollFd::new(fd, rdhup)];
        if poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n > 0)
            && fds[0]
                .revents()
                .is_some_and(|r| r.intersects(rdhup | PollFlags::POLLHUP | PollFlags::POLLERR))
        {
            return true;
        }
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

/// The client's address of a TCP connection (none on the unix socket), for the rate limit.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<IpAddr>);

/// A listener the server accepts on (its unix socket, a TCP port, or a TCP port with TLS).
/// Accepting is quick; `open` (the TLS handshake) runs in the connection's own task, within the
/// header deadline, so a slow client never holds up the others.
pub trait Accept: Send + 'static {
    type Stream: AsRawFd + Send + 'static;
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static;
    /// A new connection and the client's address (none on a unix socket).
    fn accept_one(
        &self,
    ) -> impl Future<Output = std::io::Result<(Self::Stream, Option<IpAddr>)>> + Send;
    fn open(
        &self,
        stream: Self::Stream,
    ) -> impl Future<Output = std::io::Result<Self::Io>> + Send + 'static;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    type Io = tokio::net::UnixStream;
    async fn accept_one(&self) -> std::io::Result<(Self::Stream, Option<IpAddr>)> {
        self.accept().await.map(|(s, _)| (s, None))
    }
    fn open(
        &self,
        stream: Self::Stream,
    ) -> impl Future<Output = std::io::Result<Self::Io>> + Send + 'static {
        std::future::ready(Ok(stream))
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    type Io = tokio::net::TcpStream;
    async fn accept_one(&self) -> std::io::Result<(Self::Stream, Option<IpAddr>)> {
        self.accept().await.map(|(s, a)| (s, Some(a.ip())))
    }
    fn open(
        &self,
        stream: Self::Stream,
    ) -> impl Future<Output = std::io::Result<Self::Io>> + Send + 'static {
        std::future::ready(Ok(stream))
    }
}

/// A TCP listener whose connections speak TLS.
pub struct TlsListener {
    pub tcp: tokio::net::TcpListener,
    pub acceptor: tokio_rustls::TlsAcceptor,
}

impl Accept for TlsListener {
    type Stream = tokio::net::TcpStream;
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    async fn accept_one(&self) -> std::io::Result<(Self::Stream, Option<IpAddr>)> {
        self.tcp.accept_one().await
    }
    fn open(
        &self,
        stream: Self::Stream,
    ) -> impl Future<Output = std::io::Result<Self::Io>> + Send + 'static {
        self.acceptor.accept(stream)
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
        let (stream, addr) = match accepted {
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
        let app = app
            .clone()
            .layer(axum::Extension(peer))
            .layer(axum::Extension(PeerAddr(addr)));
        let opening = listener.open(stream);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            // The TLS handshake counts against the header deadline.
            let io = match tokio::time::timeout(limits.header_timeout, opening).await {
                Ok(Ok(io)) => io,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "opening a connection failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!("a connection did not finish its TLS handshake in time");
                    return;
                }
            };
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(false)
                .serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
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
