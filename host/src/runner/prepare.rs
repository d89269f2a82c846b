//! Prepared executions: the plugin starts before its job arrives, and the job's limits start when
//! it does.
//!
//! A sandbox in the warm pool instantiates its plugin, runs `_initialize` and, for a plugin whose
//! manifest says `prepare = "await-job"`, its start-up up to the point where the code comes in
//! (the Python plugin: interpreter, `nestbox_site`, output set-up). There the guest calls its
//! `host.call` import with [`AWAIT_JOB`]; the host side blocks in the execution's [`JobGate`]
//! until the job is in place (code file, input files, stdin), then restarts the store's budget:
//! fuel, the epoch deadline and the memory limit (memory the start-up holds stays counted), the
//! output caps, and the wall clock. A start-up runs under [`startup_limits`], never under a job's.
//!
//! Each prepared store still serves exactly one job: the gate opens once, and a second
//! `await_job` (or any other request) is answered -1, "no host bound", as a host without a gate
//! answers (a nested call, the CLI's `--no-gvisor` run, another embedder).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use wasmtime::{AsContextMut, Caller};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError};

use super::StoreState;
use super::output::CappedPipe;
use super::store_limits;
use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::result::Status;

/// The request a prepared start-up sends through `host.call` to wait for its job.
pub const AWAIT_JOB: &[u8] = br#"{"op":"await_job"}"#;
/// The answer once the job is in place.
const JOB_ARRIVED: &[u8] = br#"{"ok":true}"#;
/// The longest `host.call` request read from the guest.
const MAX_REQUEST: usize = 4096;
/// A start-up's wall clock (epoch deadline) and CPU budget, in CPU-seconds of fuel. Generous:
/// Python's takes ~0.1 s alone, and a pool boots several sandboxes at once on a busy machine.
const STARTUP_SECONDS: u64 = 20;
/// A start-up's output cap (it normally writes nothing; what it writes is dropped at the gate).
const STARTUP_OUTPUT: u64 = 64 * 1024;
/// A start-up's memory when the plugin names no minimum.
const STARTUP_MEMORY_MB: u64 = 64;

/// What the job brings once it is in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrived {
    pub stdin: Option<Vec<u8>>,
    pub limits: Limits,
}

/// Waits for the job: writes its files where the guest finds them and returns its stdin and
/// limits. Called at most once per execution, on the execution's thread, and may block.
pub trait JobGate: Send {
    fn wait(self: Box<Self>) -> Result<Arrived, GateError>;
}

/// A gate for a job that is already in place (a cold run: prepare, then run at once).
pub struct InPlace(pub Arrived);

impl JobGate for InPlace {
    fn wait(self: Box<Self>) -> Result<Arrived, GateError> {
        Ok(self.0)
    }
}

/// Why a prepared execution did not get its job.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The job could not be received or put in place (the guest reports this as its failure).
    #[error("{0}")]
    Job(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The job was put in place but it asks for less memory than the prepared start-up holds.
    #[error(
        "the prepared {plugin} runtime already holds {used_mb} MiB of memory, more than this \
         job's limit of {limit_mb} MiB; ask for at least {used_mb} MiB"
    )]
    TooSmall {
        plugin: String,
        used_mb: u64,
        limit_mb: u64,
    },
}

impl GateError {
    /// The status of an execution whose gate failed.
    pub fn status(&self) -> Status {
        match self {
            GateError::Job(_) => Status::SandboxError,
            GateError::TooSmall { .. } => Status::MemoryLimit,
        }
    }
}

/// The budget a plugin's start-up runs under before its job arrives: its minimum memory (a job
/// may not ask for less, so any job's limit holds the prepared runtime), 20 s of wall clock and
/// 20 CPU-seconds of fuel, a small output cap.
pub fn startup_limits(plugin: &Plugin) -> Limits {
    let m = &plugin.manifest;
    Limits {
        max_runtime_ms: STARTUP_SECONDS * 1000,
        max_ram_mb: if m.limits.min_ram_mb > 0 {
            m.limits.min_ram_mb
        } else {
            STARTUP_MEMORY_MB
        },
        max_output_bytes: STARTUP_OUTPUT,
        fuel: m
            .calibration
            .fuel_per_cpu_second
            .saturating_mul(STARTUP_SECONDS),
    }
}

/// When the job arrived and under which limits: the wall clock of a prepared execution.
#[derive(Default)]
pub struct JobClock {
    arrived: Mutex<Option<(tokio::time::Instant, Limits)>>,
    notify: tokio::sync::Notify,
}

impl JobClock {
    /// A clock whose job is there from the start.
    pub fn started(limits: Limits) -> JobClock {
        let clock = JobClock::default();
        clock.arrive(limits);
        clock
    }

    fn arrive(&self, limits: Limits) {
        *self.arrived.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((tokio::time::Instant::now(), limits));
        self.notify.notify_one();
    }

    /// When the job arrived and its limits, once it has.
    pub fn arrived(&self) -> Option<(tokio::time::Instant, Limits)> {
        *self.arrived.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves when the wall clock is over: the job's `max_runtime` after it arrived, or
    /// `startup` from now when no job has arrived by then.
    pub async fn expired(&self, startup: Duration) {
        let startup_deadline = tokio::time::Instant::now() + startup;
        loop {
            if let Some((at, limits)) = self.arrived() {
                tokio::time::sleep_until(at + limits.max_runtime()).await;
                return;
            }
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep_until(startup_deadline) => {
                    if self.arrived().is_none() {
                        return;
                    }
                }
            }
        }
    }
}

/// The gate's side of a store: what is restarted when the job arrives.
pub struct GateState {
    pub plugin: String,
    pub gate: Option<Box<dyn JobGate>>,
    pub stdin: LateStdin,
    pub stdout: CappedPipe,
    pub stderr: CappedPipe,
    pub clock: Arc<JobClock>,
    /// Pauses the epoch ticker while the store waits for its job.
    pub ticker: Arc<super::EpochPause>,
}

impl GateState {
    /// Whether the gate is still closed (the job has not been asked for).
    pub fn pending(&self) -> bool {
        self.gate.is_some()
    }
}

/// Wait for the job if this store has a closed gate, then restart every limit for it. Returns
/// whether it did.
pub fn open<T: AsContextMut<Data = StoreState>>(mut store: T) -> wasmtime::Result<bool> {
    let mut ctx = store.as_context_mut();
    let Some(gate) = ctx.data_mut().gate.as_mut().and_then(|g| g.gate.take()) else {
        return Ok(false);
    };
    let ticker = ctx
        .data()
        .gate
        .as_ref()
        .map(|g| g.ticker.clone())
        .expect("a gate has its state");
    ticker.pause();
    let arrived = gate.wait();
    ticker.resume();
    let arrived = arrived.map_err(wasmtime::Error::new)?;
    let used = ctx.data_mut().limiter.used_bytes();
    if used > arrived.limits.max_memory_bytes() {
        let plugin = ctx
            .data()
            .gate
            .as_ref()
            .map(|g| g.plugin.clone())
            .unwrap_or_default();
        return Err(wasmtime::Error::new(GateError::TooSmall {
            plugin,
            used_mb: used.div_ceil(1024 * 1024),
            limit_mb: arrived.limits.max_ram_mb,
        }));
    }
    store_limits::restart(&mut ctx, &arrived.limits)?;
    let data = ctx.data_mut();
    data.nested.restart(arrived.limits);
    let g = data.gate.as_ref().expect("a gate has its state");
    let cap = usize::try_from(arrived.limits.max_output_bytes).unwrap_or(usize::MAX);
    g.stdout.reset(cap);
    g.stderr.reset(cap);
    g.stdin.fill(arrived.stdin.unwrap_or_default());
    g.clock.arrive(arrived.limits);
    Ok(true)
}

/// `host.call(req_ptr, req_len, out_ptr_ptr, out_len_ptr) -> i32`, the door the Python runtime
/// imports (`_host.call(bytes)` in Python). [`AWAIT_JOB`] on a store with a closed gate waits
/// for the job and answers `{"ok":true}` (0, the answer in memory the guest's `host_alloc`
/// gives); anything else is -1: no host is bound to the door.
pub async fn host_call(
    caller: &mut Caller<'_, StoreState>,
    ptr: i32,
    len: i32,
    out_ptr_ptr: i32,
    out_len_ptr: i32,
) -> wasmtime::Result<i32> {
    let pending = caller.data().gate.as_ref().is_some_and(GateState::pending);
    let len = len as u32 as usize;
    if !pending || len != AWAIT_JOB.len() || len > MAX_REQUEST {
        return Ok(-1);
    }
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else {
        return Ok(-1);
    };
    let mut request = vec![0u8; len];
    if memory
        .read(&mut *caller, ptr as u32 as usize, &mut request)
        .is_err()
        || request != AWAIT_JOB
    {
        return Ok(-1);
    }
    open(&mut *caller)?;
    let Some(alloc) = caller
        .get_export("host_alloc")
        .and_then(|e| e.into_func())
        .and_then(|f| f.typed::<i32, i32>(&mut *caller).ok())
    else {
        return Err(wasmtime::format_err!(
            "the guest asked for its job but exports no host_alloc(i32) -> i32 for the answer"
        ));
    };
    let at = alloc
        .call_async(&mut *caller, JOB_ARRIVED.len() as i32)
        .await? as u32;
    let write = |caller: &mut Caller<'_, StoreState>, offset: u32, bytes: &[u8]| {
        memory
            .write(&mut *caller, offset as usize, bytes)
            .map_err(|_| wasmtime::format_err!("host.call: the answer's address is outside memory"))
    };
    write(caller, at, JOB_ARRIVED)?;
    write(caller, out_ptr_ptr as u32, &at.to_le_bytes())?;
    write(
        caller,
        out_len_ptr as u32,
        &(JOB_ARRIVED.len() as u32).to_le_bytes(),
    )?;
    Ok(0)
}

/// A stdin that is filled when the job arrives (empty until then, and empty when the job has
/// none): every handle the guest opens shares it.
#[derive(Clone, Default)]
pub struct LateStdin(Arc<Mutex<Bytes>>);

impl LateStdin {
    pub fn fill(&self, bytes: Vec<u8>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Bytes::from(bytes);
    }

    fn split(&self, size: usize) -> Bytes {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = size.min(b.len());
        b.split_to(n)
    }
}

#[wasmtime_wasi::async_trait]
impl InputStream for LateStdin {
    fn read(&mut self, size: usize) -> Result<Bytes, StreamError> {
        let read = self.split(size);
        if read.is_empty() && size > 0 {
            return Err(StreamError::Closed);
        }
        Ok(read)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LateStdin {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncRead for LateStdin {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let read = self.split(buf.remaining());
        buf.put_slice(&read);
        std::task::Poll::Ready(Ok(()))
    }
}

impl IsTerminal for LateStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for LateStdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_stdin_is_empty_until_filled_then_reads_through_to_eof() {
        let mut s = LateStdin::default();
        assert!(matches!(s.read(10), Err(StreamError::Closed)));
        s.clone().fill(b"abc".to_vec());
        assert_eq!(s.read(2).unwrap(), Bytes::from_static(b"ab"));
        assert_eq!(s.read(10).unwrap(), Bytes::from_static(b"c"));
        assert!(matches!(s.read(10), Err(StreamError::Closed)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_wall_clock_starts_when_the_job_arrives() {
        let limits = Limits {
            max_runtime_ms: 1000,
            max_ram_mb: 64,
            max_output_bytes: 10,
            fuel: 10,
        };
        let clock = Arc::new(JobClock::default());
        let waiting = tokio::spawn({
            let clock = clock.clone();
            async move { clock.expired(Duration::from_secs(20)).await }
        });
        // 15 s of waiting for the job is not the job's time.
        tokio::time::sleep(Duration::from_secs(15)).await;
        assert!(!waiting.is_finished());
        clock.arrive(limits);
        let at = tokio::time::Instant::now();
        waiting.await.unwrap();
        let took = at.elapsed();
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_millis(1100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_start_up_that_never_asks_for_its_job_runs_out_of_time() {
        let clock = JobClock::default();
        let at = tokio::time::Instant::now();
        clock.expired(Duration::from_secs(20)).await;
        assert_eq!(at.elapsed().as_secs(), 20);
    }
}
