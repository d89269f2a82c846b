//! The outer wall: every execution in a fresh gVisor sandbox. The host side builds a private OCI
//! bundle, starts `runsc run` as a direct child, sends the job to `nestbox guest` inside, collects
//! its events, enforces the wall clock from outside, and tears everything down on every path.

pub mod bundle;
pub mod cgroups;
pub mod guest;
pub mod install;
pub mod protocol;
pub mod reaper;
pub mod rundir;
pub mod runsc;
pub mod static_binary;
pub mod sweep;
pub mod updates;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::result::{FileEntry, Status};
use crate::runner::Outcome;
use crate::runner::output::{OutputObserver, StreamKind};
use crate::settings::Settings;
use crate::workdir;
use bundle::{Bind, BundleConfig, Resources};
use cgroups::HostLimits;
use protocol::{GUEST_MODULES, GUEST_PLUGINS, GuestEvent, GuestJob, GuestOutcome, MAX_EVENT_LINE};
use rundir::{Caps, RunDir};
use runsc::Runsc;

/// How long a sandbox may take to boot and load its plugin before it is given up.
const BOOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long past the code's deadline the host waits for the guest's own timeout to report.
const GRACE: Duration = Duration::from_millis(1500);
/// How long to wait for runsc to exit after the run is over or the sandbox was killed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of runsc's stderr kept for error messages.
const MAX_DIAGNOSTICS: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Runsc(#[from] runsc::RunscError),
    #[error("resource limits cannot be enforced on this host: {0}")]
    NoLimits(String),
    #[error(transparent)]
    Binary(#[from] static_binary::StaticBinaryError),
}

/// A gVisor sandbox factory for this host, checked once per process.
pub struct Gvisor {
    pub runsc: Runsc,
    pub host: HostLimits,
    /// Whether cgroup limits are applied (false only when the operator allowed running without).
    pub enforce: bool,
    guest_binary: PathBuf,
    state_dir: PathBuf,
    settings: Settings,
}

/// One job for a sandbox.
pub struct SandboxJob {
    pub id: String,
    pub plugin: Plugin,
    /// Every plugin the guest may use (the job's and those it may call), with its checked module.
    pub modules: Vec<(Plugin, PathBuf)>,
    pub job: GuestJob,
    pub observer: Option<Arc<dyn OutputObserver>>,
}

/// What a sandbox run produced.
pub struct SandboxRun {
    pub outcome: Outcome,
    pub files: Vec<FileEntry>,
    /// The run's directories, still on disk (the files are in `dir.work`) until this is dropped.
    pub dir: Option<RunDir>,
}

impl Gvisor {
    /// Check the host: runsc present and working, limits enforceable (or explicitly waived), our
    /// own binary static. Also sweeps what dead runs left behind.
    pub fn prepare(settings: &Settings) -> Result<(Gvisor, Vec<String>), SandboxError> {
        let mut notices = Vec::new();
        let host = HostLimits::detect();
        let problem = host.problem();
        if let Some(p) = &problem
            && settings.require_resource_limiting
        {
            return Err(SandboxError::NoLimits(p.clone()));
        }
        if let Some(p) = &problem {
            notices.push(format!(
                "LIMITS NOT ENFORCED: REQUIRE_RESOURCE_LIMITING=false and {p}; only Wasmtime's own \
                 limits applied"
            ));
        }
        let path = Runsc::locate(settings.runsc_path.as_deref())?;
        let runsc = Runsc::open(
            path,
            &settings.state_dir,
            &settings.gvisor_platform,
            !host.root,
        )?;
        let guest_binary = static_binary::current()?;
        let gvisor = Gvisor {
            runsc,
            host,
            enforce: problem.is_none(),
            guest_binary,
            state_dir: settings.state_dir.clone(),
            settings: settings.clone(),
        };
        let swept = sweep::sweep(&gvisor.state_dir, Some(&gvisor.runsc), false);
        if !swept.runs.is_empty() {
            notices.push(format!(
                "removed {} run(s) left behind by a nestbox that was killed",
                swept.runs.len()
            ));
        }
        Ok((gvisor, notices))
    }

    /// Run one job in a fresh sandbox. Always returns; failures become the outcome's status.
    pub fn run(&self, job: SandboxJob) -> SandboxRun {
        let started = Instant::now();
        let limits = job.job.limits;
        let caps = self.host.root.then_some(Caps {
            work_mb: self.settings.work_dir_megabytes,
            scratch_mb: self.settings.tmp_megabytes,
        });
        let dir = match RunDir::create(&self.state_dir.join("runs"), &job.id, caps) {
            Ok(d) => d,
            Err(e) => return failed(Status::SandboxError, e.to_string(), started),
        };
        let config = self.bundle_config(&job, &dir.work, &dir.scratch, &limits);
        if let Err(e) = bundle::write(&dir.bundle, &config) {
            return failed(Status::SandboxError, e.to_string(), started);
        }
        let child = match self.runsc.start(&dir.bundle, &job.id) {
            Ok(c) => c,
            Err(e) => {
                return failed(
                    Status::SandboxError,
                    format!("starting {}: {e}", self.runsc.path.display()),
                    started,
                );
            }
        };
        let mut live = Live {
            runsc: &self.runsc,
            id: &job.id,
            pid: child.id(),
            finished: false,
        };
        let inputs = workdir::inline_inputs(
            job.job
                .input_files
                .iter()
                .map(|f| (f.name.as_str(), f.content_b64.as_str())),
        );
        let mut outcome = self.supervise(child, &mut live, job.job, job.observer, &limits);
        outcome.elapsed = started.elapsed();
        let files = workdir::list_files(&dir.work, &inputs);
        drop(live);
        SandboxRun {
            outcome,
            files,
            dir: Some(dir),
        }
    }

    /// Write the bundle a run of `job` would use into `out` (`out/bundle`, with `out/work` and
    /// `out/scratch` beside it), optionally with another command: for inspecting the spec and for
    /// timing bare runsc with it.
    pub fn write_bundle(
        &self,
        out: &Path,
        job: &SandboxJob,
        command: Option<Vec<String>>,
    ) -> Result<PathBuf, bundle::BundleError> {
        let (work, scratch, bundle_dir) =
            (out.join("work"), out.join("scratch"), out.join("bundle"));
        for d in [&work, &scratch, &bundle_dir] {
            std::fs::create_dir_all(d).map_err(|source| bundle::BundleError::Io {
                step: "creating",
                path: d.clone(),
                source,
            })?;
            let nobody = Some(nix::unistd::Uid::from_raw(bundle::SANDBOX_UID));
            let _ = nix::unistd::chown(
                d,
                nobody,
                Some(nix::unistd::Gid::from_raw(bundle::SANDBOX_UID)),
            );
        }
        let mut config = self.bundle_config(job, &work, &scratch, &job.job.limits);
        if let Some(c) = command {
            config.command = c;
        }
        bundle::write(&bundle_dir, &config)?;
        Ok(bundle_dir)
    }

    fn bundle_config(
        &self,
        job: &SandboxJob,
        work: &Path,
        scratch: &Path,
        limits: &Limits,
    ) -> BundleConfig {
        let mut binds = Vec::new();
        for (plugin, cwasm) in &job.modules {
            let name = &plugin.manifest.name;
            binds.push(Bind {
                host: plugin.dir.clone(),
                guest: Path::new(GUEST_PLUGINS).join(name),
            });
            binds.push(Bind {
                host: cwasm.clone(),
                guest: Path::new(GUEST_MODULES).join(format!("{name}.cwasm")),
            });
        }
        let overhead = self.settings.sandbox_memory_overhead_megabytes;
        BundleConfig {
            guest_binary: self.guest_binary.clone(),
            command: bundle::guest_command(&job.plugin.manifest.name),
            binds,
            work_dir: work.to_path_buf(),
            scratch_dir: scratch.to_path_buf(),
            resources: self.enforce.then(|| Resources {
                memory_bytes: ((limits.max_ram_mb + overhead) * 1024 * 1024) as i64,
                cpus: 1.0,
            }),
            max_file_bytes: self
                .settings
                .work_dir_megabytes
                .max(self.settings.tmp_megabytes)
                * 1024
                * 1024,
            cgroups_path: cgroups::sandbox_path(&job.id),
        }
    }

    fn supervise(
        &self,
        mut child: Child,
        live: &mut Live<'_>,
        job: GuestJob,
        observer: Option<Arc<dyn OutputObserver>>,
        limits: &Limits,
    ) -> Outcome {
        let collected = Arc::new(Mutex::new(Collected::new(limits.max_output_bytes)));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let sink = collected.clone();
        std::thread::spawn(move || read_events(stdout, sink, observer, tx));
        let stderr = child.stderr.take().expect("stderr is piped");
        let diagnostics = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.take(MAX_DIAGNOSTICS as u64).read_to_end(&mut buf);
            buf
        });
        let mut stdin = child.stdin.take();

        let ended = self.converse(&rx, &mut stdin, &job, live, limits);
        drop(stdin);
        let status = self.wait_exit(live);
        live.finished = status.is_some_and(|s| s.success()) && matches!(ended, Ended::Result(_));
        let diagnostics = diagnostics.join().unwrap_or_default();
        let c = std::mem::replace(
            &mut *collected.lock().unwrap_or_else(|e| e.into_inner()),
            Collected::new(0),
        );
        classify(
            ended,
            status,
            c,
            limits,
            &diagnostics,
            self.settings.sandbox_memory_overhead_megabytes,
        )
    }

    /// Wait for the guest to be ready, send the job, wait for its result or the deadline.
    fn converse(
        &self,
        rx: &Receiver<GuestEvent>,
        stdin: &mut Option<std::process::ChildStdin>,
        job: &GuestJob,
        live: &Live<'_>,
        limits: &Limits,
    ) -> Ended {
        match rx.recv_timeout(BOOT_TIMEOUT) {
            Ok(GuestEvent::Ready) => {}
            Ok(GuestEvent::Failed { message }) => return Ended::Failed(message),
            Ok(other) => {
                return Ended::Failed(format!("the guest sent {other:?} before it was ready"));
            }
            Err(RecvTimeoutError::Timeout) => {
                live.kill();
                return Ended::BootTimeout;
            }
            Err(RecvTimeoutError::Disconnected) => return Ended::Died,
        }
        if self.enforce
            && let Some(version) = self.host.version
        {
            let expected =
                (limits.max_ram_mb + self.settings.sandbox_memory_overhead_megabytes) * 1024 * 1024;
            match cgroups::memory_limit(version, live.id) {
                Some(actual) if actual <= expected => {}
                actual => {
                    live.kill();
                    return Ended::LimitsMissing(format!(
                        "gVisor started the sandbox but its memory cgroup limit is {} instead of \
                         {expected} bytes; refusing to run code without it",
                        actual.map_or("missing".to_string(), |a| a.to_string())
                    ));
                }
            }
        }
        let mut line = serde_json::to_vec(job).expect("serialising the job");
        line.push(b'\n');
        let sent = stdin
            .as_mut()
            .map(|s| s.write_all(&line).and_then(|_| s.flush()));
        *stdin = None;
        if let Some(Err(e)) = sent {
            return Ended::Failed(format!("sending the job to the sandbox: {e}"));
        }
        let deadline = Instant::now() + limits.max_runtime() + GRACE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(GuestEvent::Result { outcome }) => return Ended::Result(outcome),
                Ok(GuestEvent::Failed { message }) => return Ended::Failed(message),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    live.kill();
                    return Ended::Killed;
                }
                Err(RecvTimeoutError::Disconnected) => return Ended::Died,
            }
        }
    }

    /// Wait for runsc to exit; if it does not, kill it and its sandbox.
    fn wait_exit(&self, live: &Live<'_>) -> Option<ExitStatus> {
        let reaper = reaper::global();
        if let Some(s) = reaper.wait(live.pid, Some(EXIT_TIMEOUT)) {
            return Some(s);
        }
        live.kill();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(live.pid as i32),
            nix::sys::signal::SIGKILL,
        );
        reaper.wait(live.pid, Some(EXIT_TIMEOUT))
    }
}

/// Owns a started sandbox: unless it finished cleanly, it is killed and its runsc state and
/// cgroups are deleted when this is dropped, whatever path we leave by.
struct Live<'a> {
    runsc: &'a Runsc,
    id: &'a str,
    pid: u32,
    finished: bool,
}

impl Live<'_> {
    fn kill(&self) {
        let _ = self.runsc.kill(self.id);
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.runsc.kill(self.id);
            let _ = self.runsc.delete(self.id);
            cgroups::remove_sandbox_dirs(self.id);
        }
    }
}

/// How the conversation with the guest ended.
#[derive(Debug)]
enum Ended {
    Result(GuestOutcome),
    Failed(String),
    /// stdout closed without a result: the sandbox died.
    Died,
    /// The host killed the sandbox at the deadline.
    Killed,
    BootTimeout,
    LimitsMissing(String),
}

/// Output collected on the host side, capped like the guest's.
struct Collected {
    cap: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_cut: bool,
    stderr_cut: bool,
}

impl Collected {
    fn new(cap: u64) -> Collected {
        Collected {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_cut: false,
            stderr_cut: false,
        }
    }

    /// Keep what fits; returns the part kept.
    fn push<'b>(&mut self, stream: StreamKind, bytes: &'b [u8]) -> &'b [u8] {
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
        &bytes[..n]
    }
}

fn read_events(
    stdout: std::process::ChildStdout,
    sink: Arc<Mutex<Collected>>,
    observer: Option<Arc<dyn OutputObserver>>,
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
                let mut c = sink.lock().unwrap_or_else(|e| e.into_inner());
                let kept = c.push(*stream, &bytes).to_vec();
                drop(c);
                if let Some(o) = &observer
                    && !kept.is_empty()
                {
                    o.output(*stream, &kept);
                }
            }
            continue;
        }
        if tx.send(event).is_err() {
            return;
        }
    }
}

fn classify(
    ended: Ended,
    status: Option<ExitStatus>,
    c: Collected,
    limits: &Limits,
    diagnostics: &[u8],
    overhead_mb: u64,
) -> Outcome {
    let mut outcome = Outcome::failed(Status::SandboxError, String::new());
    outcome.stdout = c.stdout;
    outcome.stderr = c.stderr;
    outcome.stdout_truncated = c.stdout_cut;
    outcome.stderr_truncated = c.stderr_cut;
    let exit = status.map_or("did not exit".to_string(), describe_exit);
    let quoted = runsc::quote(diagnostics);
    let killed_by_signal_9 = status.is_some_and(|s| s.signal() == Some(9) || s.code() == Some(137));
    let (st, message) = match ended {
        Ended::Result(o) => {
            outcome.exit_code = o.exit_code;
            outcome.fuel_used = o.fuel_used;
            outcome.peak_memory_bytes = o.peak_memory_bytes;
            outcome.stdout_truncated |= o.stdout_truncated;
            outcome.stderr_truncated |= o.stderr_truncated;
            (o.status, o.message)
        }
        Ended::Failed(m) => (
            Status::SandboxError,
            format!("{m} (runsc {exit}; {quoted})"),
        ),
        Ended::Killed => (
            Status::Timeout,
            format!(
                "the code ran longer than its limit of {} s and the sandbox was killed",
                limits.max_runtime_ms as f64 / 1000.0
            ),
        ),
        Ended::Died if killed_by_signal_9 => (
            Status::MemoryLimit,
            format!(
                "the sandbox was killed by the kernel's out-of-memory killer at its cgroup limit \
                 of {} MiB (the code's {} MiB plus {overhead_mb} MiB for the sandbox)",
                limits.max_ram_mb + overhead_mb,
                limits.max_ram_mb
            ),
        ),
        Ended::Died => (
            Status::SandboxError,
            format!("the sandbox stopped before reporting a result (runsc {exit}); {quoted}"),
        ),
        Ended::BootTimeout => (
            Status::SandboxError,
            format!(
                "the sandbox did not start within {} s and was killed; {quoted}",
                BOOT_TIMEOUT.as_secs()
            ),
        ),
        Ended::LimitsMissing(m) => (Status::SandboxError, m),
    };
    outcome.status = st;
    outcome.message = message;
    outcome
}

fn describe_exit(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "ended".to_string(),
    }
}

fn failed(status: Status, message: String, started: Instant) -> SandboxRun {
    let mut outcome = Outcome::failed(status, message);
    outcome.elapsed = started.elapsed();
    SandboxRun {
        outcome,
        files: Vec::new(),
        dir: None,
    }
}
