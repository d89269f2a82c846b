//! The outer wall: every execution in a fresh gVisor sandbox. The host side builds a private OCI
//! bundle, starts `runsc run` as a direct child, sends the job to `nestbox guest` inside, collects
//! its events, enforces the wall clock from outside, and tears everything down on every path.

pub mod bundle;
pub mod cgroups;
pub mod container;
#[cfg(test)]
pub mod fake;
pub mod guest;
pub mod install;
pub mod oom;
pub mod probe;
pub mod protocol;
pub mod reaper;
pub mod rundir;
pub mod runsc;
pub mod static_binary;
pub mod supervise;
#[cfg(test)]
mod supervise_tests;
pub mod sweep;
pub mod updates;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::plugin::Plugin;
use crate::result::{Outcome, Status};
use crate::runner::output::OutputObserver;
use crate::settings::Settings;
use crate::workdir;
use bundle::{Bind, BundleConfig, Resources};
use cgroups::HostLimits;
use container::ContainerRuntime;
use protocol::{GUEST_MODULES, GUEST_PLUGINS, GuestJob};
use rundir::{Caps, RunDir};
use runsc::Runsc;
pub use supervise::{Booted, Remains};

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
    /// The container runtime sandboxes are booted with: `runsc`, or a unit test's fake.
    pub runtime: Arc<dyn ContainerRuntime>,
    /// The runsc binary: its version and platform for results, and what the outer-wall probe
    /// runs directly.
    pub runsc: Runsc,
    pub host: HostLimits,
    /// Whether cgroup limits are applied (false only when the operator allowed running without).
    pub enforce: bool,
    guest_binary: PathBuf,
    state_dir: PathBuf,
    settings: Settings,
}

/// What a sandbox is booted with: everything but the job.
#[derive(Clone)]
pub struct SandboxSpec {
    pub id: String,
    pub plugin: Plugin,
    /// Every plugin the guest may use (the job's and those it may call), with its checked module.
    pub modules: Vec<(Plugin, PathBuf)>,
    /// The code's memory limit (MiB); the cgroup allows this plus the sandbox overhead.
    pub memory_mb: u64,
}

/// Where pre-booted sandboxes come from (`nestbox serve`'s warm pool).
pub trait SandboxSource: Send + Sync {
    /// A booted sandbox matching `spec` (its plugin, enough memory), if one is ready.
    fn take(&self, spec: &SandboxSpec) -> Option<Booted>;
}

/// One job for a fresh sandbox.
pub struct SandboxJob {
    pub spec: SandboxSpec,
    pub job: GuestJob,
    pub observer: Option<Arc<dyn OutputObserver>>,
}

/// What a sandbox run produced.
pub struct SandboxRun {
    pub outcome: Outcome,
    pub files: workdir::Listing,
    /// The sandbox's remains: its files stay on disk (`remains.work()`) until this is dropped,
    /// which also waits for the sandbox to exit and tears it down.
    pub remains: Option<Remains>,
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
            runtime: Arc::new(runsc.clone()),
            runsc,
            host,
            enforce: problem.is_none(),
            guest_binary,
            state_dir: settings.state_dir.clone(),
            settings: settings.clone(),
        };
        let swept = sweep::sweep(&gvisor.state_dir, Some(gvisor.runtime.as_ref()), false);
        if !swept.runs.is_empty() {
            notices.push(format!(
                "removed {} run(s) left behind by a nestbox that was killed",
                swept.runs.len()
            ));
        }
        Ok((gvisor, notices))
    }

    /// A factory over another container runtime (the unit tests' fake) for `settings`: no host
    /// limits are enforced, sandboxes get the default CPU weight.
    #[cfg(test)]
    pub fn with_runtime(runtime: Arc<dyn ContainerRuntime>, settings: &Settings) -> Gvisor {
        Gvisor {
            runtime,
            runsc: Runsc {
                path: PathBuf::from("/nonexistent/runsc"),
                version: "fake".into(),
                platform: "fake".into(),
                root: settings.state_dir.join("runsc"),
                rootless: false,
            },
            host: HostLimits {
                root: false,
                version: None,
                missing: Vec::new(),
            },
            enforce: false,
            guest_binary: PathBuf::from("/nestbox-under-test"),
            state_dir: settings.state_dir.clone(),
            settings: settings.clone(),
        }
    }

    /// Boot a sandbox for `spec`: its guest has loaded the plugin and waits for one job.
    pub fn boot(&self, spec: &SandboxSpec) -> Result<Booted, Outcome> {
        self.boot_with(spec, None)
    }

    /// Boot a sandbox ahead of demand (the warm pool): as [`Gvisor::boot`], but at a low CPU
    /// weight, so that its boot and start-up yield the CPU to sandboxes running jobs. Call
    /// [`Gvisor::foreground`] before giving it a job.
    pub fn boot_in_background(&self, spec: &SandboxSpec) -> Result<Booted, Outcome> {
        self.boot_with(spec, Some(cgroups::BACKGROUND_SHARES))
    }

    /// Give a sandbox booted in the background the default CPU weight. A failure only leaves it
    /// at the lower weight (its limits are unchanged), so it is logged, not returned.
    pub fn foreground(&self, id: &str) {
        let Some(version) = self.host.version.filter(|_| self.enforce) else {
            return;
        };
        if let Err(e) = cgroups::restore_cpu_weight(version, id) {
            tracing::warn!(sandbox = %id, error = %e, "could not raise a pooled sandbox's CPU weight");
        }
    }

    fn boot_with(&self, spec: &SandboxSpec, cpu_shares: Option<u64>) -> Result<Booted, Outcome> {
        let dir = self
            .run_dir(&spec.id)
            .map_err(|e| Outcome::failed(Status::SandboxError, e.to_string()))?;
        let mut config = self.bundle_config(spec, &dir.work, &dir.scratch);
        if let Some(r) = config.resources.as_mut() {
            r.cpu_shares = cpu_shares;
        }
        bundle::write(&dir.bundle, &config)
            .map_err(|e| Outcome::failed(Status::SandboxError, e.to_string()))?;
        supervise::boot(
            &self.runtime,
            dir,
            &spec.plugin.manifest.name,
            spec.memory_mb,
            self.settings.sandbox_memory_overhead_megabytes,
            supervise::BootCheck {
                verify: self.host.version.filter(|_| self.enforce),
            },
        )
    }

    /// Run one job in `pooled` when given (a sandbox booted ahead for it), else in a sandbox
    /// booted now. Always returns; failures become the outcome's status. `cancel` stops the run
    /// early and kills the sandbox.
    pub fn run(
        &self,
        job: SandboxJob,
        pooled: Option<Booted>,
        cancel: Option<&AtomicBool>,
    ) -> SandboxRun {
        let started = Instant::now();
        let booted = match pooled.map_or_else(|| self.boot(&job.spec), Ok) {
            Ok(b) => b,
            Err(mut outcome) => {
                outcome.elapsed = started.elapsed();
                return SandboxRun {
                    outcome,
                    files: workdir::Listing::default(),
                    remains: None,
                };
            }
        };
        let mut run = run_booted(booted, &job.job, job.observer, cancel);
        run.outcome.elapsed = started.elapsed();
        run
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
        let mut config = self.bundle_config(&job.spec, &work, &scratch);
        if let Some(c) = command {
            config.command = c;
        }
        bundle::write(&bundle_dir, &config)?;
        Ok(bundle_dir)
    }

    /// A run's directories: size-capped tmpfs mounts when root, as every run gets.
    fn run_dir(&self, id: &str) -> Result<RunDir, rundir::RunDirError> {
        let caps = self.host.root.then_some(Caps {
            work_mb: self.settings.work_dir_megabytes,
            scratch_mb: self.settings.tmp_megabytes,
        });
        RunDir::create(&self.state_dir.join("runs"), id, caps)
    }

    fn bundle_config(&self, spec: &SandboxSpec, work: &Path, scratch: &Path) -> BundleConfig {
        let mut binds = Vec::new();
        for (plugin, cwasm) in &spec.modules {
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
            command: bundle::guest_command(&spec.plugin.manifest.name),
            binds,
            work_dir: work.to_path_buf(),
            scratch_dir: scratch.to_path_buf(),
            resources: self.enforce.then(|| Resources {
                memory_bytes: ((spec.memory_mb + overhead) * 1024 * 1024) as i64,
                cpus: 1.0,
                cpu_shares: None,
            }),
            max_file_bytes: self
                .settings
                .work_dir_megabytes
                .max(self.settings.tmp_megabytes)
                * 1024
                * 1024,
            cgroups_path: cgroups::sandbox_path(self.host.version, &spec.id),
        }
    }
}

/// Run one job in a booted sandbox, then list its files.
fn run_booted(
    booted: Booted,
    job: &GuestJob,
    observer: Option<Arc<dyn OutputObserver>>,
    cancel: Option<&AtomicBool>,
) -> SandboxRun {
    let started = Instant::now();
    let inputs = workdir::inline_inputs(
        job.input_files
            .iter()
            .map(|f| (f.name.as_str(), f.content_b64.as_str())),
    );
    let (mut outcome, remains) = booted.run(job, observer, cancel);
    outcome.elapsed = started.elapsed();
    let files = workdir::list_files(remains.work(), &inputs);
    SandboxRun {
        outcome,
        files,
        remains: Some(remains),
    }
}
