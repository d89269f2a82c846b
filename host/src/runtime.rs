//! The async runtime and the stop signal, shared by the command line, the server and the guest
//! agent: Wasmtime's async calls, the timers and the sandbox supervision all need a Tokio runtime.

use thiserror::Error;
use tokio::runtime::{Builder, Runtime};

/// Tokio could not start (no threads, no epoll, no timer: the host is out of resources).
#[derive(Debug, Error)]
#[error("starting the async runtime: {source}; check the process and file limits (ulimit -u, -n)")]
pub struct RuntimeError {
    #[source]
    source: std::io::Error,
}

/// A single-threaded runtime with I/O and timers, for one command or one guest run.
pub fn current_thread() -> Result<Runtime, RuntimeError> {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| RuntimeError { source })
}

/// A multi-threaded runtime with I/O and timers, for `nestbox serve`.
pub fn multi_thread() -> Result<Runtime, RuntimeError> {
    Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| RuntimeError { source })
}

/// Resolves on SIGTERM or SIGINT; never, when the handlers cannot be installed.
pub async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
