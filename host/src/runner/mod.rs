//! The inner wall: one execution of a plugin in Wasmtime, in a fresh store and WASI context, under
//! the execution's [`Limits`]. Everything here runs in whichever process hosts the guest: the
//! `nestbox guest` process inside gVisor, or `nestbox run --no-gvisor` itself.

pub mod nested;
pub mod output;
pub mod store_limits;
pub mod wasi;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{Engine, Linker, Module, Store, Trap};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::plugin::manifest::EntryKind;
use crate::result::Status;
use output::{CappedPipe, OutputObserver, StreamKind};
use store_limits::{EPOCH_TICK, HasLimiter, MemoryLimiter};
pub use wasi::RunDirs;

/// What a store holds for one guest.
pub struct StoreState {
    pub wasi: WasiP1Ctx,
    pub limiter: MemoryLimiter,
    pub nested: nested::CallState,
}

impl HasLimiter for StoreState {
    fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }
}

/// An engine and a linker with WASI preview 1 and nestbox's own imports, built once per process.
pub struct Runner {
    pub engine: Engine,
    linker: Linker<StoreState>,
    /// Where nested calls (`python3` typed in bash) find other plugins.
    modules: Option<Arc<dyn nested::ModuleSource>>,
}

/// One execution to perform.
pub struct Execution<'a> {
    pub plugin: &'a Plugin,
    pub module: &'a Module,
    pub argv: Vec<String>,
    pub extra_env: Vec<(String, String)>,
    pub stdin: Option<Vec<u8>>,
    pub limits: Limits,
    pub dirs: &'a RunDirs,
    /// A host directory inside the work dir to also show at `/`, so that relative paths resolve
    /// there even before the guest's own start-up moves into its working directory (nested calls
    /// such as `cd sub; python3 script.py`).
    pub root_alias: Option<std::path::PathBuf>,
    /// The guest working directory (`/work` unless a nested call says otherwise).
    pub cwd: Option<String>,
    pub observer: Option<Arc<dyn OutputObserver>>,
}

/// How an execution ended, before files and plugin details are added.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub fuel_used: u64,
    pub peak_memory_bytes: u64,
    pub message: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// An execution that could not start.
    pub fn failed(status: Status, message: String) -> Outcome {
        Outcome {
            status,
            exit_code: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            fuel_used: 0,
            peak_memory_bytes: 0,
            message,
            elapsed: Duration::ZERO,
        }
    }
}

impl Runner {
    pub fn new(
        engine: Engine,
        modules: Option<Arc<dyn nested::ModuleSource>>,
    ) -> wasmtime::Result<Runner> {
        let mut linker: Linker<StoreState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s| &mut s.wasi)?;
        // Report any exit status as it is. WASI's own `proc_exit` traps on 126 and above (shells
        // reserve them), but bash's 127 and a program's `exit(200)` are ordinary results here.
        linker.allow_shadowing(true);
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "proc_exit",
            |status: i32| -> wasmtime::Result<()> { Err(I32Exit(status).into()) },
        )?;
        nested::add_to_linker(&mut linker)?;
        // The data-science Python runtime imports a door to its embedder (`host.call`) for tool
        // calls. nestbox offers no such door: every request is refused (-1), as that runtime
        // expects of a host without one.
        linker.func_wrap("host", "call", |_: i32, _: i32, _: i32, _: i32| -> i32 {
            -1
        })?;
        Ok(Runner {
            engine,
            linker,
            modules,
        })
    }

    /// Run one execution to its end. Never panics on guest behaviour; every end is an [`Outcome`].
    pub async fn run(self: &Arc<Self>, exec: Execution<'_>) -> Outcome {
        self.run_at_depth(exec, 0).await
    }

    /// Run at a nesting depth (0 for a top-level execution; see [`nested`]).
    pub(crate) async fn run_at_depth(self: &Arc<Self>, exec: Execution<'_>, depth: u32) -> Outcome {
        let started = Instant::now();
        let cap = usize::try_from(exec.limits.max_output_bytes).unwrap_or(usize::MAX);
        let stdout = CappedPipe::new(StreamKind::Stdout, cap, exec.observer.clone());
        let stderr = CappedPipe::new(StreamKind::Stderr, cap, exec.observer.clone());
        let wasi = match wasi::build(
            exec.plugin,
            exec.dirs,
            wasi::GuestIo {
                argv: &exec.argv,
                extra_env: &exec.extra_env,
                stdin: exec.stdin,
                stdout: stdout.clone(),
                stderr: stderr.clone(),
                root_alias: exec.root_alias.as_deref(),
                cwd: exec.cwd.as_deref().unwrap_or(wasi::WORK_DIR),
            },
        ) {
            Ok(w) => w,
            Err(e) => return Outcome::failed(Status::SandboxError, e.to_string()),
        };
        let mut store = Store::new(
            &self.engine,
            StoreState {
                wasi,
                limiter: MemoryLimiter::new(exec.limits.max_memory_bytes()),
                nested: nested::CallState::new(self.clone(), exec.dirs.clone(), exec.limits, depth),
            },
        );
        if let Err(e) = store_limits::apply(&mut store, &exec.limits) {
            return Outcome::failed(Status::SandboxError, format!("applying limits: {e:#}"));
        }
        let _ticker = EpochTicker::start(&self.engine);

        let deadline = exec.limits.max_runtime();
        let entry = exec.plugin.manifest.entry.clone();
        let call = async {
            let instance = self
                .linker
                .instantiate_async(&mut store, exec.module)
                .await
                .map_err(Failure::Start)?;
            match entry.kind {
                EntryKind::Command => {
                    let start = instance
                        .get_typed_func::<(), ()>(&mut store, "_start")
                        .map_err(Failure::Start)?;
                    start
                        .call_async(&mut store, ())
                        .await
                        .map(|()| 0)
                        .map_err(Failure::Run)
                }
                EntryKind::Reactor => {
                    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
                        init.call_async(&mut store, ())
                            .await
                            .map_err(Failure::Run)?;
                    }
                    let name = entry.export.as_deref().unwrap_or("run");
                    let run = instance
                        .get_typed_func::<(), i32>(&mut store, name)
                        .map_err(Failure::Start)?;
                    run.call_async(&mut store, ()).await.map_err(Failure::Run)
                }
            }
        };
        let result = match tokio::time::timeout(deadline, call).await {
            Ok(r) => r,
            Err(_) => Err(Failure::WallClock),
        };

        let fuel_left = store.get_fuel().unwrap_or(0);
        let limiter = &store.data().limiter;
        let ended = Ended {
            denied_memory: limiter.denied,
            output_cut: stdout.truncated() || stderr.truncated(),
            limits: exec.limits,
        };
        let (status, exit_code, message) = classify(result, &ended, &exec.plugin.manifest.name);
        let peak = limiter.peak_bytes as u64;
        let (stdout, stdout_truncated) = stdout.take();
        let (stderr, stderr_truncated) = stderr.take();
        Outcome {
            status,
            exit_code,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            fuel_used: exec.limits.fuel.saturating_sub(fuel_left),
            peak_memory_bytes: peak,
            message,
            elapsed: started.elapsed(),
        }
    }

    pub(crate) fn modules(&self) -> Option<&Arc<dyn nested::ModuleSource>> {
        self.modules.as_ref()
    }
}

/// Why a run did not return normally.
#[derive(Debug)]
enum Failure {
    /// Instantiation or lookup of the entry point failed: the plugin does not fit this host.
    Start(wasmtime::Error),
    /// The guest trapped or exited.
    Run(wasmtime::Error),
    /// The wall clock ran out while the guest was blocked in a host call (a sleep, a poll).
    WallClock,
}

struct Ended {
    denied_memory: bool,
    output_cut: bool,
    limits: Limits,
}

fn seconds(limits: &Limits) -> String {
    let s = limits.max_runtime_ms as f64 / 1000.0;
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// Turn how the call ended into a status, an exit code and a message for people.
fn classify(
    result: Result<i32, Failure>,
    ended: &Ended,
    plugin: &str,
) -> (Status, Option<i32>, String) {
    let limits = &ended.limits;
    let timeout = || {
        (
            Status::Timeout,
            None,
            format!(
                "the code ran longer than its limit of {} and was stopped",
                seconds(limits)
            ),
        )
    };
    let output_limit = || {
        (
            Status::OutputLimit,
            None,
            format!(
                "the code wrote more than {} bytes to stdout or stderr; the first {} bytes of each were kept and the code was stopped",
                limits.max_output_bytes, limits.max_output_bytes
            ),
        )
    };
    let memory_limit = |code: Option<i32>| {
        (
            Status::MemoryLimit,
            code,
            format!(
                "the code tried to use more than its memory limit of {} MiB",
                limits.max_ram_mb
            ),
        )
    };
    let exited = |code: i32| {
        if code == 0 {
            (
                Status::Ok,
                Some(0),
                "the code ran and exited with status 0".to_string(),
            )
        } else if ended.denied_memory {
            memory_limit(Some(code))
        } else {
            (
                Status::Error,
                Some(code),
                format!("the code exited with status {code}"),
            )
        }
    };
    match result {
        Ok(code) => exited(code),
        Err(Failure::WallClock) => timeout(),
        Err(Failure::Start(e)) => {
            if ended.denied_memory {
                return memory_limit(None);
            }
            (
                Status::SandboxError,
                None,
                format!("the {plugin} plugin could not be started: {e:#}"),
            )
        }
        Err(Failure::Run(e)) => {
            if ended.output_cut {
                return output_limit();
            }
            if let Some(exit) = e.downcast_ref::<I32Exit>() {
                return exited(exit.0);
            }
            match e.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => timeout(),
                Some(Trap::OutOfFuel) => (
                    Status::Timeout,
                    None,
                    format!(
                        "the code used its whole CPU budget ({} fuel, {} of CPU) and was stopped",
                        limits.fuel,
                        seconds(limits)
                    ),
                ),
                _ if ended.denied_memory => memory_limit(None),
                Some(Trap::StackOverflow) => (
                    Status::Error,
                    None,
                    "the code exhausted its stack (too deep recursion) and was stopped".to_string(),
                ),
                Some(trap) => (
                    Status::Error,
                    None,
                    format!("the {plugin} runtime stopped with a WebAssembly trap: {trap}"),
                ),
                None => (
                    Status::Error,
                    None,
                    format!("the {plugin} runtime failed: {e:#}"),
                ),
            }
        }
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while a run is in progress.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("nestbox-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(denied: bool, cut: bool) -> Ended {
        Ended {
            denied_memory: denied,
            output_cut: cut,
            limits: Limits {
                max_runtime_ms: 5000,
                max_ram_mb: 128,
                max_output_bytes: 1024,
                fuel: 10,
            },
        }
    }

    #[test]
    fn classification() {
        let c = |r, e: &Ended| classify(r, e, "python").0;
        assert_eq!(c(Ok(0), &ended(false, false)), Status::Ok);
        assert_eq!(c(Ok(3), &ended(false, false)), Status::Error);
        assert_eq!(c(Ok(1), &ended(true, false)), Status::MemoryLimit);
        assert_eq!(
            c(Err(Failure::WallClock), &ended(false, false)),
            Status::Timeout
        );
        assert_eq!(
            c(
                Err(Failure::Run(Trap::OutOfFuel.into())),
                &ended(false, false)
            ),
            Status::Timeout
        );
        assert_eq!(
            c(
                Err(Failure::Run(Trap::Interrupt.into())),
                &ended(false, false)
            ),
            Status::Timeout
        );
        assert_eq!(
            c(
                Err(Failure::Run(Trap::StackOverflow.into())),
                &ended(false, false)
            ),
            Status::Error
        );
        assert_eq!(
            c(
                Err(Failure::Run(Trap::UnreachableCodeReached.into())),
                &ended(false, true)
            ),
            Status::OutputLimit
        );
        let (s, code, _) = classify(
            Err(Failure::Run(I32Exit(200).into())),
            &ended(false, false),
            "python",
        );
        assert_eq!((s, code), (Status::Error, Some(200)));
        assert_eq!(
            c(
                Err(Failure::Start(wasmtime::format_err!("unknown import"))),
                &ended(false, false)
            ),
            Status::SandboxError
        );
    }
}
