//! From a job to a result: validate, resolve limits, make sure the plugin's module is prepared,
//! run it behind the walls, list its files. Every path ends in a [`RunResult`]; nothing here panics
//! or returns early without one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::Module;

use crate::job::{CheckedJob, Job};
use crate::limits::{self, Limits};
use crate::plugin::cache::{self, ModuleCache, Progress, Quiet, Ready};
use crate::plugin::{Plugin, Registry};
use crate::result::{PluginInfo, RunResult, SandboxInfo, Status};
use crate::runner::nested::ModuleSource;
use crate::runner::output::OutputObserver;
use crate::runner::{Execution, Outcome, RunDirs, Runner, engine};
use crate::settings::LoadedSettings;
use crate::workdir;

/// How the code is isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// gVisor outside, Wasmtime inside: the default and the only safe choice.
    Gvisor,
    /// Wasmtime only, in this process. A developer switch: unsafe for untrusted code, and every
    /// result says so.
    WasmtimeOnly,
}

/// Per-call options that are not part of the job.
#[derive(Clone)]
pub struct RunOptions {
    pub isolation: Isolation,
    /// Sees output as it is produced (live output on a terminal).
    pub observer: Option<Arc<dyn OutputObserver>>,
    /// Progress of slow steps (compiling a plugin that was not prepared).
    pub progress: Arc<dyn Progress + Send + Sync>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            isolation: Isolation::Gvisor,
            observer: None,
            progress: Arc::new(Quiet),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Registry(#[from] crate::plugin::RegistryError),
    #[error("creating the Wasmtime engine: {0}")]
    Engine(String),
}

/// Everything a process needs to execute jobs: settings, plugins, the module cache and the runner.
pub struct Nestbox {
    pub settings: LoadedSettings,
    pub registry: Arc<Registry>,
    pub cache: Arc<ModuleCache>,
    pub runner: Arc<Runner>,
}

impl Nestbox {
    pub fn open(settings: LoadedSettings) -> Result<Nestbox, SetupError> {
        let dir = Registry::locate(settings.settings.plugins_dir.as_deref())?;
        let registry = Arc::new(Registry::load(&dir)?);
        let cache = Arc::new(ModuleCache::new(&settings.settings.cache_dir));
        let engine = engine::new_engine().map_err(|e| SetupError::Engine(format!("{e:#}")))?;
        let modules = Arc::new(LocalModules {
            engine: engine.clone(),
            registry: registry.clone(),
            cache: cache.clone(),
            loaded: Mutex::default(),
        });
        let runner =
            Runner::new(engine, Some(modules)).map_err(|e| SetupError::Engine(format!("{e:#}")))?;
        Ok(Nestbox {
            settings,
            registry,
            cache,
            runner: Arc::new(runner),
        })
    }

    /// Run a job. Always returns a result, whatever happens.
    pub async fn execute(&self, job: Job, opts: &RunOptions) -> RunResult {
        let started = Instant::now();
        let id = uuid::Uuid::new_v4().to_string();
        let mut result = self.execute_inner(job, opts, &id).await;
        result.execution_id = id;
        result.duration_ms = started.elapsed().as_millis() as u64;
        result
    }

    async fn execute_inner(&self, job: Job, opts: &RunOptions, id: &str) -> RunResult {
        let checked = match job.check(&self.registry) {
            Ok(c) => c,
            Err(e) => return RunResult::not_run(Status::InvalidInput, e.0),
        };
        let plugin = self
            .registry
            .find(&checked.plugin)
            .expect("checked jobs name installed plugins")
            .clone();
        let settings = &self.settings.settings;
        if settings.networking_allowed {
            return RunResult::not_run(
                Status::SandboxError,
                format!(
                    "NETWORKING_ALLOWED=true was set by {}, but nestbox gives code no network: the \
                     only network gVisor could offer here is the host's own, which reaches services \
                     on the host's 127.0.0.1. hint: set it to false",
                    self.settings.origin("networking_allowed")
                ),
            );
        }
        let (limits, mut notices) =
            match limits::resolve(settings, &plugin.manifest, checked.requested) {
                Ok(l) => l,
                Err(e) => return RunResult::not_run(Status::InvalidInput, e.0),
            };
        let ready = match self
            .cache
            .ensure(&self.runner.engine, &plugin, opts.progress.as_ref())
        {
            Ok(r) => r,
            Err(e) => return RunResult::not_run(Status::SandboxError, e.to_string()),
        };
        if let Some((why, took)) = &ready.rebuilt {
            notices.push(format!(
                "the {} plugin's precompiled module was {why}; compiled it in {:.1} s \
                 (run `nestbox plugins prepare` ahead of time to avoid this)",
                plugin.manifest.name,
                took.as_secs_f64()
            ));
        }
        let plugin_info = PluginInfo {
            name: plugin.manifest.name.clone(),
            version: plugin.manifest.version.clone(),
            sha256: ready.artifact_sha256.clone(),
        };
        let mut result = match opts.isolation {
            Isolation::WasmtimeOnly => {
                notices.push(
                    "UNSAFE: --no-gvisor ran the code with Wasmtime only, without the gVisor \
                     sandbox and without cgroup limits; never do this with untrusted code"
                        .to_string(),
                );
                self.run_in_process(id, &plugin, &ready, checked, limits, opts)
                    .await
            }
            Isolation::Gvisor => {
                return RunResult::not_run(
                    Status::SandboxError,
                    "the gVisor sandbox is not available in this build; use --no-gvisor for \
                     development only",
                );
            }
        };
        result.plugin = Some(plugin_info);
        result.notices.splice(0..0, notices);
        result
    }

    /// The Wasmtime-only path: the runner in this process, per-run dirs under the state dir.
    async fn run_in_process(
        &self,
        id: &str,
        plugin: &Plugin,
        ready: &Ready,
        checked: CheckedJob,
        limits: Limits,
        opts: &RunOptions,
    ) -> RunResult {
        let runs = self.settings.settings.state_dir.join("runs");
        let root = match RunRoot::create(&runs, id) {
            Ok(r) => r,
            Err(e) => {
                return RunResult::not_run(
                    Status::SandboxError,
                    format!("creating the run directory under {}: {e}", runs.display()),
                );
            }
        };
        let prepared = (|| -> Result<(RunDirs, workdir::Inputs), String> {
            let dirs = RunDirs::create_under(root.path()).map_err(|e| {
                format!("creating run directories in {}: {e}", root.path().display())
            })?;
            let code_path = dirs.code.join(&plugin.manifest.entry.code_file);
            std::fs::write(&code_path, &checked.code)
                .map_err(|e| format!("writing the code to {}: {e}", code_path.display()))?;
            let inputs = workdir::place_inputs(&dirs.work, &checked.input_files)
                .map_err(|e| e.to_string())?;
            Ok((dirs, inputs))
        })();
        let (dirs, inputs) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let status = if e.contains("input file") {
                    Status::InvalidInput
                } else {
                    Status::SandboxError
                };
                return RunResult::not_run(status, e);
            }
        };
        let module = match cache::load(&self.runner.engine, ready) {
            Ok(m) => m,
            Err(e) => return RunResult::not_run(Status::SandboxError, e.to_string()),
        };
        let outcome = self
            .runner
            .run(Execution {
                plugin,
                module: &module,
                argv: plugin.manifest.argv(),
                extra_env: Vec::new(),
                stdin: checked.stdin,
                limits,
                dirs: &dirs,
                observer: opts.observer.clone(),
            })
            .await;
        let files = workdir::list_files(&dirs.work, &inputs);
        let mut result = result_from_outcome(outcome, limits, false);
        result.files = files;
        result.sandbox = Some(SandboxInfo {
            outer: "none".into(),
            inner: "wasmtime".into(),
            platform: None,
            network: "none".into(),
            pooled: false,
        });
        result
    }
}

/// Fill a result from a runner outcome.
pub fn result_from_outcome(outcome: Outcome, limits: Limits, enforced: bool) -> RunResult {
    RunResult {
        status: outcome.status,
        exit_code: outcome.exit_code,
        stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
        stdout_truncated: outcome.stdout_truncated,
        stderr_truncated: outcome.stderr_truncated,
        duration_ms: outcome.elapsed.as_millis() as u64,
        fuel_used: outcome.fuel_used,
        files: Vec::new(),
        plugin: None,
        limits: Some(limits.applied(enforced)),
        sandbox: None,
        message: outcome.message,
        notices: Vec::new(),
        execution_id: String::new(),
    }
}

/// A per-run directory, removed when dropped.
pub struct RunRoot {
    path: PathBuf,
}

impl RunRoot {
    pub fn create(parent: &Path, id: &str) -> std::io::Result<RunRoot> {
        std::fs::create_dir_all(parent)?;
        let path = parent.join(id);
        std::fs::create_dir(&path)?;
        Ok(RunRoot { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Plugins available to nested calls in this process, loaded on first use.
struct LocalModules {
    engine: wasmtime::Engine,
    registry: Arc<Registry>,
    cache: Arc<ModuleCache>,
    loaded: Mutex<HashMap<String, Module>>,
}

impl ModuleSource for LocalModules {
    fn lookup(&self, command: &str) -> Option<(Plugin, Module)> {
        let plugin = self.registry.find(command)?.clone();
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = loaded.get(&plugin.manifest.name) {
            return Some((plugin, m.clone()));
        }
        let ready = self.cache.ensure(&self.engine, &plugin, &Quiet).ok()?;
        let module = cache::load(&self.engine, &ready).ok()?;
        loaded.insert(plugin.manifest.name.clone(), module.clone());
        Some((plugin, module))
    }
}
