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
use std::time::Instant;

use wasmtime::{Engine, Linker, Module, Store, Trap};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::ending::{self, Ending};
use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::plugin::manifest::{EntryKind, Prepare};
use crate::result::{Outcome, Status};
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
        let ending = ending_of(
            result,
            limiter.denied,
            stdout.truncated() || stderr.truncated(),
        );
        let ending::Verdict {
            status,
            exit_code,
            mut message,
        } = ending::classify(ending, &limits, &plugin_name, None);
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

/// Which [`Ending`] a call that ended so saw (`ending::classify` puts it in words). An output
/// cap or a refused memory request explains a trap that follows it.
fn ending_of(result: Result<i32, Failure>, memory_denied: bool, output_cut: bool) -> Ending {
    let e = match result {
        Ok(code) => {
            return Ending::Exited {
                code,
                memory_denied,
            };
        }
        Err(Failure::WallClock) => return Ending::WallClock,
        Err(Failure::NeverAsked) => return Ending::NeverAsked,
        Err(Failure::Start(_)) if memory_denied => return Ending::MemoryDenied,
        Err(Failure::Start(e)) => return Ending::StartFailed(format!("{e:#}")),
        Err(Failure::Run(_)) if output_cut => return Ending::OutputCut,
        Err(Failure::Run(e)) => e,
    };
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Ending::Exited {
            code: exit.0,
            memory_denied,
        };
    }
    if let Some(gate) = e.downcast_ref::<GateError>() {
        return Ending::JobNotPlaced {
            status: gate.status(),
            message: gate.to_string(),
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Ending::WallClock,
        Some(Trap::OutOfFuel) => Ending::OutOfFuel,
        _ if memory_denied => Ending::MemoryDenied,
        Some(Trap::StackOverflow) => Ending::StackOverflow,
        Some(trap) => Ending::Trap(trap.to_string()),
        None => Ending::RuntimeFailed(format!("{e:#}")),
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

    #[test]
    fn each_way_a_call_ends_is_its_ending() {
        let run = |e: wasmtime::Error| Err(Failure::Run(e));
        assert_eq!(
            ending_of(Ok(3), false, false),
            Ending::Exited {
                code: 3,
                memory_denied: false
            }
        );
        assert_eq!(
            ending_of(Ok(1), true, false),
            Ending::Exited {
                code: 1,
                memory_denied: true
            }
        );
        assert_eq!(
            ending_of(Err(Failure::WallClock), false, false),
            Ending::WallClock
        );
        assert_eq!(
            ending_of(run(Trap::OutOfFuel.into()), false, false),
            Ending::OutOfFuel
        );
        assert_eq!(
            ending_of(run(Trap::Interrupt.into()), false, false),
            Ending::WallClock
        );
        assert_eq!(
            ending_of(run(Trap::StackOverflow.into()), false, false),
            Ending::StackOverflow
        );
        assert_eq!(
            ending_of(run(Trap::StackOverflow.into()), true, false),
            Ending::MemoryDenied
        );
        assert_eq!(
            ending_of(run(Trap::UnreachableCodeReached.into()), false, true),
            Ending::OutputCut
        );
        assert_eq!(
            ending_of(run(I32Exit(200).into()), false, false),
            Ending::Exited {
                code: 200,
                memory_denied: false
            }
        );
        assert!(matches!(
            ending_of(
                Err(Failure::Start(wasmtime::format_err!("unknown import"))),
                false,
                false
            ),
            Ending::StartFailed(m) if m.contains("unknown import")
        ));
        assert_eq!(
            ending_of(
                Err(Failure::Start(wasmtime::format_err!("out of memory"))),
                true,
                false
            ),
            Ending::MemoryDenied
        );
    }
}
