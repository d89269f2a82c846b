//! One sandbox's life on the host side: boot it (runsc run, wait for the guest's `ready`, verify
//! its memory cgroup), then hand it exactly one job, collect its events, enforce the wall clock
//! from outside, and tear it down. Cold runs boot and run at once; the warm pool boots ahead.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::cgroups;
use super::container::{Container, ContainerRuntime};
use super::oom::MemoryWatch;
use super::protocol::{GuestEvent, GuestJob, MAX_EVENT_LINE};
use super::rundir::RunDir;
use super::runsc;
use crate::ending::{self, Ending, SandboxEnd};
use crate::limits::Limits;
use crate::result::{Outcome, Status};
use crate::runner::output::{OutputObserver, StreamKind};

/// How long a sandbox may take to boot and load its plugin before it is given up.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long past the code's deadline the host waits for the guest's own timeout to report.
const GRACE: Duration = Duration::from_millis(1500);
/// How long to wait for runsc to exit after the run is over or the sandbox was killed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a waiting supervisor looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);
/// The most of runsc's stderr kept for error messages.
const MAX_DIAGNOSTICS: usize = 64 * 1024;

/// The guest's stdin, where its job goes.
type GuestStdin = Box<dyn Write + Send>;

/// A booted sandbox whose guest is waiting for its one job. Dropping it kills the sandbox and
/// removes everything it had.
pub struct Booted {
    pub id: String,
    pub plugin: String,
    /// The code's memory limit the sandbox's cgroup was sized for (MiB).
    pub memory_mb: u64,
    pub booted_at: Instant,
    /// How long the boot took until the guest was ready (runsc, guest start, plugin start-up).
    pub boot_time: std::time::Duration,
    /// How long the guest itself took from its start to `ready` (loading and preparing the
    /// plugin), as it reported.
    pub prepare_ms: Option<u64>,
    // Field order is drop order: the sandbox is killed before its directories are removed.
    live: Live,
    dir: Option<RunDir>,
    stdin: Option<GuestStdin>,
    events: Receiver<GuestEvent>,
    collected: Arc<Mutex<Collected>>,
    diagnostics: Option<JoinHandle<Vec<u8>>>,
    overhead_mb: u64,
}

impl Booted {
    /// Whether the guest is still waiting (no event, pipe open).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.events.try_recv(), Err(TryRecvError::Empty))
    }
}

/// Owns a started sandbox: unless it finished cleanly, it is killed and its runsc state and
/// cgroups deleted when dropped, whatever path we leave by.
struct Live {
    runtime: Arc<dyn ContainerRuntime>,
    id: String,
    pid: u32,
    /// It ended cleanly and runsc removed its own state.
    finished: bool,
    /// Its exit status was collected (only one wait can collect it).
    reaped: bool,
    /// Its memory cgroup's OOM record, when limits are enforced.
    memory: Option<MemoryWatch>,
}

impl Live {
    fn kill(&self) {
        let _ = self.runtime.kill(&self.id);
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.runtime.kill(&self.id);
            if !self.reaped {
                let _ = self.runtime.wait(self.pid, Some(EXIT_TIMEOUT));
            }
            let _ = self.runtime.delete(&self.id);
            cgroups::remove_sandbox_dirs(&self.id);
        }
        // runsc never removes the memory cgroup nestbox created, even after a clean end.
        if let Some(m) = &self.memory {
            m.remove();
        }
    }
}

/// What boot needs to know beyond runsc.
pub struct BootCheck {
    /// The cgroup version, when limits are enforced and must be verified.
    pub verify: Option<cgroups::Version>,
}

/// Start the container runtime for a prepared run directory and wait for the guest to be ready.
pub fn boot(
    runtime: &Arc<dyn ContainerRuntime>,
    dir: RunDir,
    plugin: &str,
    memory_mb: u64,
    overhead_mb: u64,
    check: BootCheck,
) -> Result<Booted, Outcome> {
    let started = Instant::now();
    let memory = match check.verify {
        Some(version) => Some(
            MemoryWatch::prepare(version, &dir.id, (memory_mb + overhead_mb) * 1024 * 1024)
                .map_err(|e| {
                    cgroups::remove_sandbox_dirs(&dir.id);
                    Outcome::failed(Status::SandboxError, e.to_string())
                })?,
        ),
        None => None,
    };
    let container = runtime.boot(&dir.bundle, &dir.id).map_err(|e| {
        if let Some(m) = &memory {
            m.remove();
        }
        Outcome::failed(Status::SandboxError, e.to_string())
    })?;
    let live = Live {
        runtime: runtime.clone(),
        id: dir.id.clone(),
        pid: container.pid,
        finished: false,
        reaped: false,
        memory,
    };
    let collected = Arc::new(Mutex::new(Collected::new(0)));
    let (events, diagnostics, stdin) = attach(container, collected.clone());
    let mut booted = Booted {
        id: dir.id.clone(),
        plugin: plugin.to_string(),
        memory_mb,
        booted_at: started,
        boot_time: std::time::Duration::ZERO,
        prepare_ms: None,
        live,
        dir: Some(dir),
        stdin,
        events,
        collected,
        diagnostics: Some(diagnostics),
        overhead_mb,
    };
    let ended = match booted.events.recv_timeout(BOOT_TIMEOUT) {
        Ok(GuestEvent::Ready { prepare_ms }) => {
            booted.prepare_ms = prepare_ms;
            booted.boot_time = started.elapsed();
            None
        }
        Ok(GuestEvent::Failed { message }) => Some(Ending::GuestFailed(message)),
        Ok(other) => Some(Ending::GuestFailed(format!(
            "the guest sent {other:?} before it was ready"
        ))),
        Err(RecvTimeoutError::Timeout) => {
            booted.live.kill();
            Some(Ending::BootTimeout {
                seconds: BOOT_TIMEOUT.as_secs(),
            })
        }
        Err(RecvTimeoutError::Disconnected) => Some(Ending::Died),
    };
    let ended = ended.or_else(|| {
        let version = check.verify?;
        let expected = (memory_mb + overhead_mb) * 1024 * 1024;
        let joined = booted.live.memory.as_ref().is_none_or(MemoryWatch::joined);
        match cgroups::memory_limit(version, &booted.id) {
            Some(_) if !joined => {
                booted.live.kill();
                Some(Ending::LimitsMissing(format!(
                    "gVisor started the sandbox outside its memory cgroup {}; refusing to run \
                     code without its limit",
                    booted
                        .live
                        .memory
                        .as_ref()
                        .map_or(String::new(), |m| m.dir().display().to_string())
                )))
            }
            Some(actual) if actual <= expected => None,
            actual => {
                booted.live.kill();
                Some(Ending::LimitsMissing(format!(
                    "gVisor started the sandbox but its memory cgroup limit is {} instead of \
                     {expected} bytes; refusing to run code without it",
                    actual.map_or("missing".to_string(), |a| a.to_string())
                )))
            }
        }
    });
    match ended {
        None => Ok(booted),
        Some(ended) => {
            let limits = Limits {
                max_runtime_ms: 0,
                max_ram_mb: memory_mb,
                max_output_bytes: 0,
                fuel: 0,
            };
            Err(booted.finish(ended, &limits))
        }
    }
}

/// Wire up a started container: a thread reading events, one collecting its stderr.
fn attach(
    container: Container,
    collected: Arc<Mutex<Collected>>,
) -> (
    Receiver<GuestEvent>,
    JoinHandle<Vec<u8>>,
    Option<GuestStdin>,
) {
    let (tx, rx) = mpsc::channel();
    let Container {
        stdin,
        stdout,
        stderr,
        ..
    } = container;
    std::thread::Builder::new()
        .name("nestbox-events".into())
        .spawn(move || read_events(stdout, collected, tx))
        .expect("spawning the event reader");
    let diagnostics = std::thread::Builder::new()
        .name("nestbox-stderr".into())
        .spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.take(MAX_DIAGNOSTICS as u64).read_to_end(&mut buf);
            buf
        })
        .expect("spawning the stderr reader");
    (rx, diagnostics, Some(stdin))
}

impl Booted {
    /// Give the guest its job and see it through. `cancel` stops the run early (the sandbox is
    /// killed), for example when the client went away.
    pub fn run(
        mut self,
        job: &GuestJob,
        observer: Option<Arc<dyn OutputObserver>>,
        cancel: Option<&AtomicBool>,
    ) -> (Outcome, Remains) {
        let limits = job.limits;
        {
            let mut c = self.collected.lock().unwrap_or_else(|e| e.into_inner());
            *c = Collected::new(limits.max_output_bytes);
            c.observer = observer;
        }
        match self.converse(job, &limits, cancel) {
            // The guest reported: every output event came before the result, and its files are
            // on disk. Answer now; the sandbox's exit and teardown happen when `Remains` drops.
            Ok(outcome) => {
                let c = std::mem::replace(
                    &mut *self.collected.lock().unwrap_or_else(|e| e.into_inner()),
                    Collected::new(0),
                );
                (
                    c.add_to(outcome),
                    Remains {
                        booted: self,
                        clean: true,
                    },
                )
            }
            Err(ending) => {
                let outcome = self.conclude(ending, &limits);
                (
                    outcome,
                    Remains {
                        booted: self,
                        clean: false,
                    },
                )
            }
        }
    }

    /// The work directory (the code's `/work`) on the host.
    fn work(&self) -> &std::path::Path {
        &self
            .dir
            .as_ref()
            .expect("a booted sandbox has its directory")
            .work
    }

    /// The guest's outcome, or how the run ended without one.
    fn converse(
        &mut self,
        job: &GuestJob,
        limits: &Limits,
        cancel: Option<&AtomicBool>,
    ) -> Result<Outcome, Ending> {
        let mut line = serde_json::to_vec(job).expect("serialising the job");
        line.push(b'\n');
        let sent = self
            .stdin
            .as_mut()
            .map(|s| s.write_all(&line).and_then(|_| s.flush()));
        self.stdin = None;
        match sent {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                return Err(Ending::GuestFailed(format!(
                    "sending the job to the sandbox: {e}"
                )));
            }
            None => {
                return Err(Ending::GuestFailed("the sandbox's stdin is closed".into()));
            }
        }
        let sent_at = Instant::now();
        let deadline = sent_at + limits.max_runtime() + GRACE;
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                self.live.kill();
                return Err(Ending::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left.min(CANCEL_POLL)) {
                Ok(GuestEvent::Result { outcome }) => {
                    tracing::debug!(
                        sandbox = %self.id,
                        guest_ms = outcome.elapsed.as_millis() as u64,
                        peak_memory_bytes = outcome.peak_memory_bytes,
                        job_to_result_ms = sent_at.elapsed().as_millis() as u64,
                        since_boot_ms = self.booted_at.elapsed().as_millis() as u64,
                        "the guest reported its result"
                    );
                    return Ok(outcome);
                }
                Ok(GuestEvent::Failed { message }) => return Err(Ending::GuestFailed(message)),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) if left <= CANCEL_POLL => {
                    self.live.kill();
                    return Err(Ending::Killed);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(Ending::Died),
            }
        }
    }

    fn finish(mut self, ending: Ending, limits: &Limits) -> Outcome {
        self.conclude(ending, limits)
    }

    /// The run ended without the guest's outcome: wait for runsc to exit (killing it if it will
    /// not), then classify with what is known of how the sandbox stopped. The sandbox did not
    /// finish cleanly, so it is deleted when dropped.
    fn conclude(&mut self, ending: Ending, limits: &Limits) -> Outcome {
        self.stdin = None;
        let exit = wait_exit(&self.live);
        self.live.reaped = exit.is_some();
        let diagnostics = self
            .diagnostics
            .take()
            .and_then(|d| d.join().ok())
            .unwrap_or_default();
        let c = std::mem::replace(
            &mut *self.collected.lock().unwrap_or_else(|e| e.into_inner()),
            Collected::new(0),
        );
        // runsc has exited; the memory cgroup nestbox created is still there to ask.
        let end = SandboxEnd {
            exit,
            memory: self
                .live
                .memory
                .as_ref()
                .map(|m| MemoryWatch::record(m).facts()),
            diagnostics: runsc::quote(&diagnostics),
            overhead_mb: self.overhead_mb,
        };
        let verdict = ending::classify(ending, limits, &self.plugin, Some(&end));
        let mut outcome = Outcome::failed(verdict.status, verdict.message);
        outcome.exit_code = verdict.exit_code;
        c.add_to(outcome)
    }
}

/// What is left of a sandbox after its job. Dropping it waits for runsc to exit (killing it if it
/// will not), deletes its state and cgroups unless it ended cleanly, and removes its directories.
pub struct Remains {
    booted: Booted,
    clean: bool,
}

impl Remains {
    /// The code's `/work` on the host, still there until this is dropped.
    pub fn work(&self) -> &std::path::Path {
        self.booted.work()
    }
}

impl Drop for Remains {
    fn drop(&mut self) {
        let live = &mut self.booted.live;
        if !live.reaped {
            self.booted.stdin = None;
            let status = wait_exit(live);
            live.reaped = status.is_some();
            live.finished = self.clean && status.is_some_and(|s| s.success());
        }
        // Then `booted` drops: the sandbox (killed and deleted unless finished), then its
        // directories.
    }
}

/// Wait for runsc to exit; if it does not, kill it and its sandbox.
fn wait_exit(live: &Live) -> Option<ExitStatus> {
    if let Some(s) = live.runtime.wait(live.pid, Some(EXIT_TIMEOUT)) {
        return Some(s);
    }
    live.kill();
    live.runtime.kill_process(live.pid);
    live.runtime.wait(live.pid, Some(EXIT_TIMEOUT))
}

/// Output collected on the host side, capped like the guest's.
struct Collected {
    cap: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_cut: bool,
    stderr_cut: bool,
    observer: Option<Arc<dyn OutputObserver>>,
}

impl Collected {
    fn new(cap: u64) -> Collected {
        Collected {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_cut: false,
            stderr_cut: false,
            observer: None,
        }
    }

    /// The output collected for `outcome`, the run's (the guest's own cap may have cut it too).
    fn add_to(self, mut outcome: Outcome) -> Outcome {
        outcome.stdout = self.stdout;
        outcome.stderr = self.stderr;
        outcome.stdout_truncated |= self.stdout_cut;
        outcome.stderr_truncated |= self.stderr_cut;
        outcome
    }

    /// Keep what fits and show it to the observer.
    fn push(&mut self, stream: StreamKind, bytes: &[u8]) {
        let (buf, cut) = match stream {
            StreamKind::Stdout => (&mut self.stdout, &mut self.stdout_cut),
            StreamKind::Stderr => (&mut self.stderr, &mut self.stderr_cut),
        };
        let room = self.cap.saturating_sub(buf.len());
        let n = room.min(bytes.len());
        buf.extend_from_slice(&bytes[..n]);
        if n < bytes.len() {
            *cut = true;
        }
        if n > 0
            && let Some(o) = &self.observer
        {
            o.output(stream, &bytes[..n]);
        }
    }
}

fn read_events(
    stdout: Box<dyn Read + Send>,
    sink: Arc<Mutex<Collected>>,
    tx: mpsc::Sender<GuestEvent>,
) {
    let mut reader = BufReader::with_capacity(256 * 1024, stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_EVENT_LINE as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') && line.len() >= MAX_EVENT_LINE {
            let _ = tx.send(GuestEvent::Failed {
                message: "the guest sent an over-long event; its output was cut off".into(),
            });
            return;
        }
        let Ok(event) = serde_json::from_slice::<GuestEvent>(&line) else {
            continue;
        };
        if let GuestEvent::Output { stream, data_b64 } = &event {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data_b64) {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(*stream, &bytes);
            }
            continue;
        }
        if tx.send(event).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::super::oom::MemoryRecord;
    use super::*;

    fn died(status: ExitStatus, memory: Option<MemoryRecord>) -> ending::Verdict {
        let end = SandboxEnd {
            exit: Some(status),
            memory: memory.as_ref().map(MemoryRecord::facts),
            diagnostics: runsc::quote(b""),
            overhead_mb: 160,
        };
        let limits = Limits {
            max_runtime_ms: 5000,
            max_ram_mb: 64,
            max_output_bytes: 1024,
            fuel: 10,
        };
        ending::classify(Ending::Died, &limits, "python", Some(&end))
    }

    fn record(oom_kills: u64) -> MemoryRecord {
        MemoryRecord {
            oom_kills: Some(oom_kills),
            failcnt: Some(0),
            max_usage_bytes: Some(30 << 20),
            limit_bytes: Some(224 << 20),
        }
    }

    #[test]
    fn a_sigkill_without_a_recorded_oom_is_a_sandbox_error_naming_the_signal() {
        for status in [ExitStatus::from_raw(137 << 8), ExitStatus::from_raw(9)] {
            for memory in [Some(record(0)), Some(MemoryRecord::default()), None] {
                let o = died(status, memory.clone());
                assert_eq!(o.status, Status::SandboxError, "{status:?} {memory:?}");
                assert!(o.message.contains("SIGKILL"), "{}", o.message);
                assert!(o.message.contains("no out-of-memory kill"), "{}", o.message);
            }
        }
        let o = died(ExitStatus::from_raw(137 << 8), Some(record(0)));
        assert!(o.message.contains("oom_kill 0"), "{}", o.message);
        let o = died(
            ExitStatus::from_raw(137 << 8),
            Some(MemoryRecord::default()),
        );
        assert!(o.message.contains("could be confirmed"), "{}", o.message);
    }

    #[test]
    fn only_a_recorded_oom_kill_is_memory_limit() {
        let o = died(ExitStatus::from_raw(137 << 8), Some(record(1)));
        assert_eq!(o.status, Status::MemoryLimit, "{}", o.message);
        assert!(o.message.contains("out-of-memory killer"), "{}", o.message);
        assert!(o.message.contains("oom_kill 1"), "{}", o.message);
        let o = died(ExitStatus::from_raw(1 << 8), Some(record(0)));
        assert_eq!(o.status, Status::SandboxError, "{}", o.message);
    }
}
