//! Capped stdout/stderr for the guest. Each stream keeps at most `cap` bytes; the first write
//! past the cap keeps what fits, marks the stream truncated and traps, so a flood ends promptly
//! as OUTPUT_LIMIT with the first `cap` bytes kept. An optional observer sees every accepted byte
//! as it is written (the gVisor guest streams output to the host this way, so output survives
//! even if the sandbox is killed).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Which stream a pipe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Stdout,
    Stderr,
}

/// Sees output as it is produced.
pub trait OutputObserver: Send + Sync {
    fn output(&self, stream: StreamKind, bytes: &[u8]);
}

/// The error a guest write traps with when a stream is over its cap.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} exceeded the output limit of {1} bytes")]
pub struct OutputLimitExceeded(pub StreamKind, pub usize);

struct State {
    cap: usize,
    buf: Vec<u8>,
    truncated: bool,
}

/// A capped, shared, in-memory output pipe.
#[derive(Clone)]
pub struct CappedPipe {
    kind: StreamKind,
    state: Arc<Mutex<State>>,
    observer: Option<Arc<dyn OutputObserver>>,
}

impl CappedPipe {
    pub fn new(kind: StreamKind, cap: usize, observer: Option<Arc<dyn OutputObserver>>) -> Self {
        CappedPipe {
            kind,
            state: Arc::new(Mutex::new(State {
                cap,
                buf: Vec::new(),
                truncated: false,
            })),
            observer,
        }
    }

    /// Start over with a new cap: what was written so far (a prepared start-up's output) is
    /// dropped, so the job's output starts empty under the job's own cap.
    pub fn reset(&self, cap: usize) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = State {
            cap,
            buf: Vec::new(),
            truncated: false,
        };
    }

    fn cap(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).cap
    }

    /// Everything kept so far, and whether anything was cut.
    pub fn take(&self) -> (Vec<u8>, bool) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (std::mem::take(&mut s.buf), s.truncated)
    }

    pub fn truncated(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .truncated
    }

    /// Accept what fits; returns how many bytes were accepted and whether some were cut.
    fn push(&self, bytes: &[u8]) -> (usize, bool) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let room = s.cap.saturating_sub(s.buf.len());
        let n = bytes.len().min(room);
        s.buf.extend_from_slice(&bytes[..n]);
        let cut = n < bytes.len();
        if cut {
            s.truncated = true;
        }
        drop(s);
        if n > 0
            && let Some(o) = &self.observer
        {
            o.output(self.kind, &bytes[..n]);
        }
        (n, cut)
    }

    fn over(&self) -> StreamError {
        StreamError::Trap(wasmtime::Error::new(OutputLimitExceeded(
            self.kind,
            self.cap(),
        )))
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        match self.push(&bytes) {
            (_, false) => Ok(()),
            (_, true) => Err(self.over()),
        }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (used, cap) = (s.buf.len(), s.cap);
        if used >= cap {
            // Full: the next byte would be over. Say so now rather than report EPIPE.
            s.truncated = true;
            drop(s);
            return Err(self.over());
        }
        // Offer at least a pipe's worth so one over-long write is cut, kept and trapped.
        Ok((cap - used).max(64 * 1024))
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.push(buf) {
            (n, false) => Poll::Ready(Ok(n)),
            (_, true) => Poll::Ready(Err(io::Error::other(OutputLimitExceeded(
                self.kind,
                self.cap(),
            )))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Record(Mutex<Vec<u8>>);
    impl OutputObserver for Record {
        fn output(&self, _: StreamKind, bytes: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(bytes);
        }
    }

    #[test]
    fn keeps_the_first_cap_bytes_then_traps() {
        let rec = Arc::new(Record(Mutex::new(Vec::new())));
        let mut p = CappedPipe::new(StreamKind::Stdout, 10, Some(rec.clone()));
        assert!(p.write(Bytes::from_static(b"hello")).is_ok());
        assert!(matches!(
            p.write(Bytes::from_static(b" world!")),
            Err(StreamError::Trap(_))
        ));
        assert!(matches!(p.check_write(), Err(StreamError::Trap(_))));
        let (buf, cut) = p.take();
        assert_eq!(buf, b"hello worl");
        assert!(cut);
        assert_eq!(rec.0.lock().unwrap().as_slice(), b"hello worl");
    }

    #[test]
    fn reset_drops_what_was_written_and_applies_the_new_cap() {
        let mut p = CappedPipe::new(StreamKind::Stdout, 3, None);
        assert!(p.write(Bytes::from_static(b"abcdef")).is_err());
        p.reset(5);
        assert!(!p.truncated());
        assert!(p.write(Bytes::from_static(b"12345")).is_ok());
        assert!(p.write(Bytes::from_static(b"6")).is_err());
        assert_eq!(p.take(), (b"12345".to_vec(), true));
    }

    #[test]
    fn exactly_cap_bytes_is_not_truncated() {
        let mut p = CappedPipe::new(StreamKind::Stderr, 4, None);
        assert!(p.write(Bytes::from_static(b"abcd")).is_ok());
        assert!(!p.truncated());
    }
}
