//! The host side of a probe run: the exact sandbox a real run of a [`SandboxSpec`] gets, with the
//! probe as its process. [`Gvisor::probe_sandbox`] prepares it (run directory, bundle config, OCI
//! spec); the spec stays open to changes until [`ProbeSandbox::run`], so tests can weaken a copy
//! and show that the checks notice. `run` writes the bundle, starts runsc exactly as a run does,
//! reads the report, looks at the live sandbox from the host, and tears everything down.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use oci_spec::runtime::Spec;

use super::{Expected, Findings, HostView, ProbeReport, inside};
use crate::sandbox::bundle::{self, BundleError};
use crate::sandbox::protocol::{GUEST_SCRATCH, GUEST_WORK};
use crate::sandbox::rundir::{RunDir, RunDirError};
use crate::sandbox::runsc::{self, Runsc};
use crate::sandbox::static_binary::{self, StaticBinaryError};
use crate::sandbox::supervise::BOOT_TIMEOUT;
use crate::sandbox::{Gvisor, SandboxSpec, cgroups, reaper};

/// How long runsc may take to exit once the probe's stdin is closed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of runsc's stderr kept for error messages.
const MAX_DIAGNOSTICS: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("preparing the probe's run directory: {0}")]
    RunDir(#[from] RunDirError),
    #[error("writing the probe's OCI bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error("the probe's binary: {0}")]
    Binary(#[from] StaticBinaryError),
    #[error("starting {runsc} for the probe: {source}")]
    Start {
        runsc: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the probe sandbox gave no report within {} s (runsc {exit}); {diagnostics}. fix: run \
         `nestbox doctor`",
        BOOT_TIMEOUT.as_secs()
    )]
    NoReport { exit: String, diagnostics: String },
    #[error("the probe's report is not valid JSON ({line:?}): {source}")]
    BadReport {
        line: String,
        #[source]
        source: serde_json::Error,
    },
}

/// How to probe.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// Host addresses the probe tries to connect to (none may be reachable).
    pub connect: Vec<SocketAddr>,
    /// The nestbox binary to run inside (default: the one a run uses, this program). Tests pass
    /// the built `nestbox`, since their own binary is the test harness.
    pub guest_binary: Option<PathBuf>,
}

/// A probe sandbox, prepared and not yet started.
pub struct ProbeSandbox {
    pub id: String,
    /// The OCI spec the sandbox will get: a real run's, with the probe as its process.
    pub spec: Spec,
    /// The runsc it will be started with (a real run's: same binary, flags and state).
    pub runsc: Runsc,
    dir: RunDir,
    expected: Expected,
    cgroup_version: Option<cgroups::Version>,
}

impl Gvisor {
    /// Prepare the sandbox a run of `spec` would get, with the probe in place of the guest agent.
    pub fn probe_sandbox(
        &self,
        spec: &SandboxSpec,
        opts: &ProbeOptions,
    ) -> Result<ProbeSandbox, ProbeError> {
        let dir = self.run_dir(&spec.id)?;
        let mut config = self.bundle_config(spec, &dir.work, &dir.scratch);
        if let Some(b) = &opts.guest_binary {
            static_binary::check(b)?;
            config.guest_binary = b.clone();
        }
        config.command = inside::command(&opts.connect);
        let mut root_entries: Vec<String> = bundle::spec(&config)?
            .mounts()
            .iter()
            .flatten()
            .filter_map(|m| {
                m.destination()
                    .components()
                    .nth(1)
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
            })
            .collect();
        // runsc adds /sys (and /dev, /proc, which the spec has) to every sandbox.
        root_entries.push("sys".into());
        root_entries.sort();
        root_entries.dedup();
        let expected = Expected {
            uid: bundle::SANDBOX_UID,
            gid: bundle::SANDBOX_UID,
            nofile: bundle::NOFILE,
            nproc: bundle::NPROC,
            fsize: config.max_file_bytes,
            memory_limit_bytes: config.resources.map(|r| r.memory_bytes as u64),
            root_entries,
            writable_roots: [GUEST_WORK, GUEST_SCRATCH, "/tmp"]
                .map(String::from)
                .to_vec(),
            connect: opts.connect.clone(),
        };
        Ok(ProbeSandbox {
            id: spec.id.clone(),
            spec: bundle::spec(&config)?,
            runsc: self.runsc.clone(),
            dir,
            expected,
            cgroup_version: self.host.version,
        })
    }
}

impl ProbeSandbox {
    /// What a sound sandbox must show (from the real run's config, whatever `spec` became).
    pub fn expected(&self) -> &Expected {
        &self.expected
    }

    /// Start the sandbox, collect the probe's report and the host's view, tear it all down.
    pub fn run(self) -> Result<Findings, ProbeError> {
        bundle::write_spec(&self.dir.bundle, &self.spec)?;
        let mut child = self
            .runsc
            .start(&self.dir.bundle, &self.id)
            .map_err(|source| ProbeError::Start {
                runsc: self.runsc.path.clone(),
                source,
            })?;
        let mut guard = Teardown {
            runsc: &self.runsc,
            id: &self.id,
            pid: child.id(),
            exit: None,
            done: false,
        };
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
        }
        let stderr = child.stderr.take().map(|e| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = e.take(MAX_DIAGNOSTICS).read_to_end(&mut buf);
                buf
            })
        });
        let line = rx.recv_timeout(BOOT_TIMEOUT).unwrap_or_default();
        // The probe waits for stdin to close: the sandbox is alive while the host looks.
        let host = HostView {
            kernel_release: super::kernel_release(),
            memory_limit_bytes: self
                .cgroup_version
                .and_then(|v| cgroups::memory_limit(v, &self.id)),
            run_dir_mode: std::fs::metadata(&self.dir.root).ok().map(|m| m.mode()),
        };
        drop(stdin);
        guard.finish();
        let exit = guard.exit.clone();
        drop(guard);
        if line.trim().is_empty() {
            let diagnostics = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
            return Err(ProbeError::NoReport {
                exit: exit.unwrap_or_else(|| "did not exit".into()),
                diagnostics: runsc::quote(&diagnostics),
            });
        }
        let report: ProbeReport =
            serde_json::from_str(&line).map_err(|source| ProbeError::BadReport {
                line: line.chars().take(200).collect(),
                source,
            })?;
        Ok(Findings {
            report,
            host,
            expected: self.expected,
        })
    }
}

/// Kills (when needed) and deletes the probe sandbox and its cgroups on every path.
struct Teardown<'a> {
    runsc: &'a Runsc,
    id: &'a str,
    pid: u32,
    exit: Option<String>,
    done: bool,
}

impl Teardown<'_> {
    fn finish(&mut self) {
        self.done = true;
        let reaper = reaper::global();
        let status = reaper.wait(self.pid, Some(EXIT_TIMEOUT)).or_else(|| {
            let _ = self.runsc.kill(self.id);
            reaper.wait(self.pid, Some(EXIT_TIMEOUT))
        });
        self.exit = status.map(|s| s.to_string());
    }
}

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.finish();
        }
        let _ = self.runsc.delete(self.id);
        cgroups::remove_sandbox_dirs(self.id);
    }
}
