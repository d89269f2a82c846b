//! From a job to a result: validate, resolve limits, make sure the plugin's module is prepared,
//! run it behind the walls, list its files. Every path ends in a [`RunResult`]; nothing here panics
//! or returns early without one.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine as _;
use wasmtime::Module;

use crate::engine;
use crate::job::{CheckedJob, InputFile, Job};
use crate::limits::{self, Limits};
use crate::plugin::cache::{self, ModuleCache, Progress, Quiet, Ready};
use crate::plugin::{Plugin, Registry};
use crate::result::{PluginInfo, RunResult, SandboxInfo, Status};
use crate::runner::nested::ModuleSource;
use crate::runner::output::OutputObserver;
use crate::runner::prepare;
use crate::runner::{Execution, RunDirs, Runner};
use crate::sandbox::install::{self, Pin};
use crate::sandbox::protocol::{GuestFile, GuestJob};
use crate::sandbox::rundir::RunDir;
use crate::sandbox::runsc::{self, RunscError};
use crate::sandbox::{
    Gvisor, Remains, SandboxError, SandboxJob, SandboxSource, SandboxSpec, updates,
};
use crate::settings::LoadedSettings;
use crate::storage::{Quotas, Storage};
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
    /// Set to stop the run early; its sandbox is killed (a client went away, a signal).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Pre-booted sandboxes to use instead of booting one (`nestbox serve`).
    pub pool: Option<Arc<dyn SandboxSource>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            isolation: Isolation::Gvisor,
            observer: None,
            progress: Arc::new(Quiet),
            cancel: None,
            pool: None,
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

/// Why the sandbox for a language could not be prepared for inspection.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("unknown language {language:?}; installed: {installed}")]
    UnknownLanguage { language: String, installed: String },
    #[error("resolving the default limits: {0}")]
    Limits(#[from] crate::job::InvalidInput),
    #[error("preparing the plugin: {0}")]
    Plugin(#[from] cache::CacheError),
    #[error(transparent)]
    Sandbox(#[from] GvisorSetupError),
}

/// Why the gVisor sandbox factory could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum GvisorSetupError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(
        "runsc (gVisor) was not found (looked at {looked}) and AUTO_INSTALL could not install it: \
         {source}; nothing was run"
    )]
    AutoInstall {
        looked: String,
        #[source]
        source: install::InstallError,
    },
}

/// Why the warm pool's sandbox templates could not be made.
#[derive(Debug, thiserror::Error)]
#[error("preparing the {plugin} plugin for the pool: {source}")]
pub struct TemplateError {
    plugin: String,
    #[source]
    source: Box<cache::CacheError>,
}

/// Why `nestbox debug bundle` could not write a bundle.
#[derive(Debug, thiserror::Error)]
pub enum WriteBundleError {
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error(transparent)]
    Bundle(#[from] crate::sandbox::bundle::BundleError),
}

/// An input file named by a host path (the CLI's) that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading input file {path}: {source}; fix: check that it exists and is readable")]
pub struct InputFileError {
    path: std::path::PathBuf,
    #[source]
    source: std::io::Error,
}

/// Everything a process needs to execute jobs: settings, plugins, the module cache, the runner
/// and (once first needed) the gVisor sandbox factory.
pub struct Nestbox {
    pub settings: LoadedSettings,
    pub registry: Arc<Registry>,
    pub cache: Arc<ModuleCache>,
    pub runner: Arc<Runner>,
    gvisor: Mutex<Option<Arc<Gvisor>>>,
    teardowns: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// What a finished run left on the host: its directories, and for gVisor runs the sandbox's
/// exit and teardown. Dropping it removes everything.
enum Leftover {
    Sandbox(Box<Remains>),
    Dirs(RunDir),
}

impl Leftover {
    fn work(&self) -> &std::path::Path {
        match self {
            Leftover::Sandbox(r) => r.work(),
            Leftover::Dirs(d) => &d.work,
        }
    }
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
            gvisor: Mutex::default(),
            teardowns: Mutex::default(),
        })
    }

    /// The gVisor factory, checked on first use (installing runsc when it is missing and
    /// AUTO_INSTALL allows). Returns it with notices for the result.
    pub async fn gvisor(&self) -> Result<(Arc<Gvisor>, Vec<String>), GvisorSetupError> {
        if let Some(g) = self
            .gvisor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Ok((g.clone(), Vec::new()));
        }
        let settings = &self.settings.settings;
        let mut notices = Vec::new();
        let prepared = match Gvisor::prepare(settings) {
            Err(SandboxError::Runsc(RunscError::NotFound { looked })) if settings.auto_install => {
                let pin =
                    Pin::choose(None, None).map_err(|source| GvisorSetupError::AutoInstall {
                        looked: looked.clone(),
                        source,
                    })?;
                let dir = std::path::Path::new(runsc::INSTALL_DIR);
                eprintln!(
                    "nestbox: runsc is missing; installing gVisor release {} (AUTO_INSTALL=true)",
                    pin.release
                );
                match install::install(&pin, &settings.gvisor_url_base, dir, &install::Silent).await
                {
                    Ok(path) => notices.push(format!(
                        "installed gVisor runsc release {} at {} (AUTO_INSTALL=true)",
                        pin.release,
                        path.display()
                    )),
                    Err(source) => {
                        return Err(GvisorSetupError::AutoInstall { looked, source });
                    }
                }
                Gvisor::prepare(settings)
            }
            other => other,
        };
        let (g, setup) = prepared?;
        notices.extend(setup);
        if settings.check_for_updates {
            updates::start_if_due(&settings.state_dir);
            notices.extend(updates::notice(&settings.state_dir, &g.runsc.version));
        }
        let g = Arc::new(g);
        *self.gvisor.lock().unwrap_or_else(|e| e.into_inner()) = Some(g.clone());
        Ok((g, notices))
    }

    /// Use `gvisor` (a factory over the unit tests' fake runtime) instead of preparing runsc.
    #[cfg(test)]
    pub fn use_gvisor(&self, gvisor: Arc<Gvisor>) {
        *self.gvisor.lock().unwrap_or_else(|e| e.into_inner()) = Some(gvisor);
    }

    /// Wait for the teardowns of finished runs (before a one-shot process exits).
    pub async fn finish_teardowns(&self) {
        let pending: Vec<_> =
            std::mem::take(&mut *self.teardowns.lock().unwrap_or_else(|e| e.into_inner()));
        for h in pending {
            let _ = h.await;
        }
    }

    /// The runsc version, once the sandbox factory is prepared.
    pub fn gvisor_version(&self) -> Option<String> {
        self.gvisor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|g| g.runsc.version.clone())
    }

    /// One sandbox template per plugin for a warm pool: every plugin prepared (compiled now if
    /// needed), each sandbox sized for the operator's memory limit, so it can take any job.
    pub fn pool_templates(
        &self,
        progress: &dyn Progress,
    ) -> Result<Vec<SandboxSpec>, TemplateError> {
        let mut ready = Vec::new();
        for p in &self.registry.plugins {
            match self.cache.ensure(&self.runner.engine, p, progress) {
                Ok(r) => ready.push((p.clone(), r.cwasm_path)),
                Err(source) => {
                    return Err(TemplateError {
                        plugin: p.manifest.name.clone(),
                        source: Box::new(source),
                    });
                }
            }
        }
        Ok(ready
            .iter()
            .map(|(plugin, _)| {
                let mut modules = ready.clone();
                // The template's own plugin first.
                modules.sort_by_key(|(p, _)| p.manifest.name != plugin.manifest.name);
                SandboxSpec {
                    id: String::new(),
                    plugin: plugin.clone(),
                    modules,
                    memory_mb: self.settings.settings.max_ram_megabytes,
                }
            })
            .collect())
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
                     on the host's 127.0.0.1. fix: set it to false",
                    self.settings.origin("networking_allowed")
                ),
            );
        }
        let (limits, mut notices) =
            match limits::resolve(settings, &plugin.manifest, checked.requested) {
                Ok(l) => l,
                Err(e) => return RunResult::not_run(Status::InvalidInput, e.0),
            };
        // Before any slow step: is the sandbox usable at all?
        let gvisor = match opts.isolation {
            Isolation::WasmtimeOnly => None,
            Isolation::Gvisor => match self.gvisor().await {
                Ok((g, setup_notices)) => {
                    notices.extend(setup_notices);
                    Some(g)
                }
                Err(e) => return RunResult::not_run(Status::SandboxError, e.to_string()),
            },
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
        let keep_for = checked.keep_files_for_user.clone();
        let return_files = checked.return_files;
        let (mut result, dir) = match gvisor {
            None => {
                notices.push(
                    "UNSAFE: --no-gvisor ran the code with Wasmtime only, without the gVisor \
                     sandbox and without cgroup limits; never do this with untrusted code"
                        .to_string(),
                );
                self.run_in_process(id, &plugin, &ready, checked, limits, opts)
                    .await
            }
            Some(g) => {
                self.run_in_gvisor(g, id, &plugin, &ready, checked, limits, opts)
                    .await
            }
        };
        if let (Some(user), Some(left)) = (keep_for, &dir) {
            self.keep_files(&user, id, left.work(), &mut result);
        }
        if let (true, Some(left)) = (return_files, &dir) {
            let cap = settings.max_returned_megabytes.saturating_mul(1024 * 1024);
            crate::returned_files::attach(left.work(), &mut result.files, cap);
        }
        if let Some(left) = dir {
            // Tearing down (waiting for the sandbox to exit, unmounting) does not delay the
            // answer; `finish_teardowns` waits for it before a one-shot process exits.
            let handle = tokio::task::spawn_blocking(move || drop(left));
            let mut pending = self.teardowns.lock().unwrap_or_else(|e| e.into_inner());
            pending.retain(|h| !h.is_finished());
            pending.push(handle);
        }
        result.plugin = Some(plugin_info);
        result.notices.splice(0..0, notices);
        result
    }

    /// Keep the run's files in the user's storage; a failure becomes STORAGE_ERROR (or, when the
    /// run already failed for another reason, a notice), and the output is kept either way.
    fn keep_files(&self, user: &str, id: &str, work: &std::path::Path, result: &mut RunResult) {
        let s = &self.settings.settings;
        let storage = Storage::new(
            s.web_accessible_directory_path.as_deref(),
            &s.web_accessible_directory_url,
            Quotas {
                files_per_execution: s.max_files_per_execution,
                files_per_user: s.max_files_per_user,
                bytes_per_user: s.max_megabytes_per_user * 1024 * 1024,
            },
        );
        match storage.and_then(|st| st.keep(user, id, work, &result.files, result.files_omitted)) {
            Ok(kept) => {
                if kept.evicted > 0 {
                    result.notices.push(format!(
                        "removed this user's {} oldest execution(s) from storage to stay within the quota",
                        kept.evicted
                    ));
                }
                if !kept.renamed.is_empty() {
                    result.notices.push(format!(
                        "kept with .txt appended (not a known inert type), so browsers show them as text: {}",
                        crate::storage::name_list(&kept.renamed)
                    ));
                }
                if !kept.skipped.is_empty() {
                    result.notices.push(format!(
                        "not kept (not regular files or unsafe names): {}",
                        crate::storage::name_list(&kept.skipped)
                    ));
                }
                result.files = kept.files;
            }
            Err(e) => {
                if matches!(result.status, Status::Ok | Status::Error) {
                    result.message = format!(
                        "{} ({}), but its files could not be kept: {e}",
                        result.message, result.status
                    );
                    result.status = Status::StorageError;
                } else {
                    result.notices.push(format!("files not kept: {e}"));
                }
            }
        }
    }

    /// The production path: a gVisor sandbox running `nestbox guest`, fresh from the pool or
    /// booted now.
    #[allow(clippy::too_many_arguments)] // each is one piece of the run; a struct would only rename them
    async fn run_in_gvisor(
        &self,
        gvisor: Arc<Gvisor>,
        id: &str,
        plugin: &Plugin,
        ready: &Ready,
        checked: CheckedJob,
        limits: Limits,
        opts: &RunOptions,
    ) -> (RunResult, Option<Leftover>) {
        let input_files = match guest_files(&checked.input_files) {
            Ok(f) => f,
            Err(e) => {
                return (
                    RunResult::not_run(Status::InvalidInput, e.to_string()),
                    None,
                );
            }
        };
        let job = self.sandbox_job(
            id,
            plugin,
            ready,
            GuestJob {
                code: checked.code,
                stdin_b64: checked
                    .stdin
                    .map(|s| base64::engine::general_purpose::STANDARD.encode(s)),
                input_files,
                limits,
            },
            opts.observer.clone(),
        );
        let pooled = opts.pool.as_ref().and_then(|p| p.take(&job.spec));
        tracing::debug!(execution = %id, pooled = pooled.is_some(), "sandbox chosen");
        let was_pooled = pooled.is_some();
        let g = gvisor.clone();
        let cancel = opts.cancel.clone();
        let run = tokio::task::spawn_blocking(move || g.run(job, pooled, cancel.as_deref())).await;
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                let message = format!("the sandbox supervisor failed: {e}");
                return (RunResult::not_run(Status::SandboxError, message), None);
            }
        };
        let mut result = RunResult::ran(run.outcome, limits.applied(gvisor.enforce));
        run.files.apply_to(&mut result);
        result.sandbox = Some(SandboxInfo {
            outer: "gvisor".into(),
            inner: "wasmtime".into(),
            platform: Some(gvisor.runsc.platform.clone()),
            network: "none".into(),
            pooled: was_pooled,
        });
        (result, run.remains.map(|r| Leftover::Sandbox(Box::new(r))))
    }

    /// A sandbox job: the job's plugin, plus every other prepared plugin it may call by name.
    fn sandbox_job(
        &self,
        id: &str,
        plugin: &Plugin,
        ready: &Ready,
        job: GuestJob,
        observer: Option<Arc<dyn OutputObserver>>,
    ) -> SandboxJob {
        let mut modules = vec![(plugin.clone(), ready.cwasm_path.clone())];
        for other in self
            .registry
            .plugins
            .iter()
            .filter(|p| p.manifest.name != plugin.manifest.name)
        {
            if let Ok(Ok(r)) = self.cache.check(&self.runner.engine, other) {
                modules.push((other.clone(), r.cwasm_path));
            }
        }
        SandboxJob {
            spec: SandboxSpec {
                id: id.to_string(),
                plugin: plugin.clone(),
                modules,
                memory_mb: job.limits.max_ram_mb,
            },
            job,
            observer,
        }
    }

    /// Write the OCI bundle a run in `language` would get (see `nestbox debug bundle`).
    pub async fn write_bundle(
        &self,
        language: &str,
        out: &std::path::Path,
        command: Option<Vec<String>>,
    ) -> Result<std::path::PathBuf, WriteBundleError> {
        let (gvisor, spec, limits) = self.default_sandbox(language, "inspect").await?;
        let job = SandboxJob {
            spec,
            job: GuestJob {
                code: String::new(),
                stdin_b64: None,
                input_files: Vec::new(),
                limits,
            },
            observer: None,
        };
        Ok(gvisor.write_bundle(out, &job, command)?)
    }

    /// The sandbox a run in `language` with the operator's default limits gets, under `id`, with
    /// the factory that boots it and those limits: for inspecting and probing the outer wall.
    pub async fn default_sandbox(
        &self,
        language: &str,
        id: &str,
    ) -> Result<(Arc<Gvisor>, SandboxSpec, Limits), InspectError> {
        let plugin = self
            .registry
            .find(language)
            .ok_or_else(|| InspectError::UnknownLanguage {
                language: language.to_string(),
                installed: self.registry.names_and_aliases(),
            })?
            .clone();
        let (limits, _) = limits::resolve(
            &self.settings.settings,
            &plugin.manifest,
            Default::default(),
        )?;
        let ready = self.cache.ensure(&self.runner.engine, &plugin, &Quiet)?;
        let (gvisor, _) = self.gvisor().await?;
        let job = GuestJob {
            code: String::new(),
            stdin_b64: None,
            input_files: Vec::new(),
            limits,
        };
        let spec = self.sandbox_job(id, &plugin, &ready, job, None).spec;
        Ok((gvisor, spec, limits))
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
    ) -> (RunResult, Option<Leftover>) {
        let runs = self.settings.settings.state_dir.join("runs");
        let root = match RunDir::create(&runs, id, None) {
            Ok(r) => r,
            Err(e) => {
                return (
                    RunResult::not_run(Status::SandboxError, e.to_string()),
                    None,
                );
            }
        };
        let dirs = RunDirs {
            work: root.work.clone(),
            tmp: root.scratch.join("tmp"),
            code: root.scratch.join("code"),
        };
        let inputs = match workdir::stage(
            &dirs,
            &plugin.manifest.entry.code_file,
            &checked.code,
            &checked.input_files,
        ) {
            Ok(i) => i,
            Err(e) => {
                return (
                    RunResult::not_run(Status::InvalidInput, e.to_string()),
                    None,
                );
            }
        };
        let module = match cache::load(&self.runner.engine, ready) {
            Ok(m) => m,
            Err(e) => {
                return (
                    RunResult::not_run(Status::SandboxError, e.to_string()),
                    None,
                );
            }
        };
        // The same path as a sandbox's: the plugin starts under its start-up budget and the
        // job's limits start when it asks for the job (at once: it is in place).
        let outcome = self
            .runner
            .run(Execution {
                plugin,
                module: &module,
                argv: plugin.manifest.argv(),
                extra_env: Vec::new(),
                stdin: None,
                limits: prepare::startup_limits(plugin),
                dirs: &dirs,
                root_alias: None,
                cwd: None,
                observer: opts.observer.clone(),
                gate: Some(Box::new(prepare::InPlace(prepare::Arrived {
                    stdin: checked.stdin,
                    limits,
                }))),
            })
            .await;
        let files = workdir::list_files(&dirs.work, &inputs);
        let mut result = RunResult::ran(outcome, limits.applied(false));
        files.apply_to(&mut result);
        result.sandbox = Some(SandboxInfo {
            outer: "none".into(),
            inner: "wasmtime".into(),
            platform: None,
            network: "none".into(),
            pooled: false,
        });
        (result, Some(Leftover::Dirs(root)))
    }
}

/// Input files as the guest receives them (content inline).
fn guest_files(files: &[InputFile]) -> Result<Vec<GuestFile>, InputFileError> {
    files
        .iter()
        .map(|f| {
            let content_b64 = match (&f.source_path, &f.content_base64) {
                (Some(p), _) => base64::engine::general_purpose::STANDARD.encode(
                    std::fs::read(p).map_err(|source| InputFileError {
                        path: p.clone(),
                        source,
                    })?,
                ),
                (None, Some(b)) => b.clone(),
                (None, None) => String::new(),
            };
            Ok(GuestFile {
                name: f.name.clone(),
                content_b64,
            })
        })
        .collect()
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
