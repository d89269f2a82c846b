//! The inner wall: one execution of a plugin in Wasmtime, in a fresh store and WASI context, under
//! the execution's [`Limits`]. Everything here runs in whichever process hosts the guest: the
//! `nestbox guest` process inside gVisor, or `nestbox run --no-gvisor` itself.

pub mod nested;
pub mod output;
pub mod prepare;
#[cfg(test)]
mod prepare_tests;
pub mod store_limits;
pub mod wasi;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use wasmtime::{Engine, Linker, Module, Store, Trap};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::plugin::manifest::{EntryKind, Prepare};
use crate::result::Status;
use output::{CappedPipe, OutputObserver, StreamKind};
use prepare::{GateError, GateState, JobClock, JobGate, LateStdin};
use store_limits::{EPOCH_TICK, HasLimiter, MemoryLimiter};
pub use wasi::RunDirs;

/// What a store holds for one guest.
pub struct StoreState {
    pub wasi: WasiP1Ctx,
    pub limiter: MemoryLimiter,
    pub nested: nested::CallState,
    /// A prepared execution's closed gate (see [`prepare`]).
    pub gate: Option<GateState>,
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
    /// A prepared execution: the plugin starts under `limits` (its start-up budget,
    /// [`prepare::startup_limits`]) and the job, its stdin and its own limits come through this
    /// gate, as far into the start-up as the manifest's `entry.prepare` allows. `stdin` is then
    /// unused. Without it the job is in place and `limits` are the job's from the start.
    pub gate: Option<Box<dyn JobGate>>,
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
        // The data-science Python runtime imports a door to its embedder (`host.call`). nestbox
        // answers one request on it, a prepared start-up waiting for its job; every other
        // request is refused (-1, no host bound), as that runtime expects of a host without one.
        linker.func_wrap_async(
            "host",
            "call",
            |mut caller: wasmtime::Caller<'_, StoreState>,
             (ptr, len, out_ptr, out_len): (i32, i32, i32, i32)| {
                Box::new(async move {
                    prepare::host_call(&mut caller, ptr, len, out_ptr, out_len).await
                })
            },
        )?;
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
        let stdin = LateStdin::default();
        let clock = Arc::new(match &exec.gate {
            Some(_) => JobClock::default(),
            None => {
                stdin.fill(exec.stdin.unwrap_or_default());
                JobClock::started(exec.limits)
            }
        });
        let wasi = match wasi::build(
            exec.plugin,
            exec.dirs,
            wasi::GuestIo {
                argv: &exec.argv,
                extra_env: &exec.extra_env,
                stdin: stdin.clone(),
                stdout: stdout.clone(),
                stderr: stderr.clone(),
                root_alias: exec.root_alias.as_deref(),
                cwd: exec.cwd.as_deref().unwrap_or(wasi::WORK_DIR),
            },
        ) {
            Ok(w) => w,
            Err(e) => return Outcome::failed(Status::SandboxError, e.to_string()),
        };
        let ticker = EpochTicker::start(&self.engine);
        let plugin_name = exec.plugin.manifest.name.clone();
        let mut store = Store::new(
            &self.engine,
            StoreState {
                wasi,
                limiter: MemoryLimiter::new(exec.limits.max_memory_bytes()),
                nested: nested::CallState::new(self.clone(), exec.dirs.clone(), exec.limits, depth),
                gate: exec.gate.map(|gate| GateState {
                    plugin: plugin_name.clone(),
                    gate: Some(gate),
                    stdin,
                    stdout: stdout.clone(),
                    stderr: stderr.clone(),
                    clock: clock.clone(),
                    ticker: ticker.pause.clone(),
                }),
            },
        );
        if let Err(e) = store_limits::apply(&mut store, &exec.limits) {
            return Outcome::failed(Status::SandboxError, format!("applying limits: {e:#}"));
        }

        let entry = exec.plugin.manifest.entry.clone();
        let call = async {
            // How far the start-up runs before the job is asked for (a gate still closed at a
            // step is opened there).
            if entry.prepare == Prepare::None {
                prepare::open(&mut store).map_err(Failure::Run)?;
            }
            let instance = self
                .linker
                .instantiate_async(&mut store, exec.module)
                .await
                .map_err(Failure::Start)?;
            let code = match entry.kind {
                EntryKind::Command => {
                    let start = instance
                        .get_typed_func::<(), ()>(&mut store, "_start")
                        .map_err(Failure::Start)?;
                    start
                        .call_async(&mut store, ())
                        .await
                        .map(|()| 0)
                        .map_err(Failure::Run)?
                }
                EntryKind::Reactor => {
                    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
                        init.call_async(&mut store, ())
                            .await
                            .map_err(Failure::Run)?;
                    }
                    if entry.prepare == Prepare::Initialize {
                        prepare::open(&mut store).map_err(Failure::Run)?;
                    }
                    let name = entry.export.as_deref().unwrap_or("run");
                    let run = instance
                        .get_typed_func::<(), i32>(&mut store, name)
                        .map_err(Failure::Start)?;
                    run.call_async(&mut store, ()).await.map_err(Failure::Run)?
                }
            };
            if store.data().gate.as_ref().is_some_and(GateState::pending) {
                return Err(Failure::NeverAsked);
            }
            Ok(code)
        };
        let result = tokio::select! {
            r = call => r,
            () = clock.expired(exec.limits.max_runtime()) => Err(Failure::WallClock),
        };
        drop(ticker);

        // The job's limits once it arrived; the start-up's when it never did.
        let (arrived, limits) = match clock.arrived() {
            Some((_, limits)) => (true, limits),
            None => (false, exec.limits),
        };
        let fuel_left = store.get_fuel().unwrap_or(0);
        let limiter = &store.data().limiter;
        let ended = Ended {
            denied_memory: limiter.denied,
            output_cut: stdout.truncated() || stderr.truncated(),
            limits,
        };
        let (status, exit_code, mut message) = classify(result, &ended, &plugin_name);
        if !arrived && status != Status::Ok {
            message = format!(
                "the {plugin_name} plugin's start-up failed before its job arrived: {message}"
            );
        }
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
            fuel_used: limits.fuel.saturating_sub(fuel_left),
            peak_memory_bytes: peak,
            message,
            // A prepared execution's own time runs from its job's arrival.
            elapsed: clock
                .arrived()
                .map_or(started.elapsed(), |(at, _)| at.elapsed()),
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
    /// A plugin that declares `prepare = "await-job"` finished without asking for its job.
    NeverAsked,
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
        Err(Failure::NeverAsked) => (
            Status::SandboxError,
            None,
            format!(
                "the {plugin} plugin declares entry.prepare = \"await-job\" but its start-up \
                 ended without asking for its job (host.call {{\"op\":\"await_job\"}}); the code \
                 did not run. fix: the plugin's start-up must ask, or its manifest must say \
                 prepare = \"initialize\" or \"none\""
            ),
        ),
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
            if let Some(gate) = e.downcast_ref::<GateError>() {
                return (gate.status(), None, gate.to_string());
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

/// Advances the engine's epoch every [`EPOCH_TICK`] while a run is in progress; paused while a
/// prepared store waits for its job (an idle pooled sandbox then wakes for nothing).
struct EpochTicker {
    pause: Arc<EpochPause>,
}

/// Stops the epoch ticker from waking while a prepared store waits for its job.
#[derive(Default)]
pub struct EpochPause {
    /// (paused, stopped)
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl EpochPause {
    pub fn pause(&self) {
        self.set(|s| s.0 = true);
    }

    pub fn resume(&self) {
        self.set(|s| s.0 = false);
    }

    fn stop(&self) {
        self.set(|s| s.1 = true);
    }

    fn set(&self, f: impl FnOnce(&mut (bool, bool))) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_all();
    }

    /// Wait while paused; false once stopped.
    fn running(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.0 && !s.1 {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        !s.1
    }
}

impl EpochTicker {
    fn start(engine: &Engine) -> EpochTicker {
        let pause = Arc::new(EpochPause::default());
        let flag = pause.clone();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("nestbox-epoch".into())
            .spawn(move || {
                while flag.running() {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { pause }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.pause.stop();
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
