//! `nestbox guest`: the agent inside the gVisor sandbox. It speaks the [`protocol`] on its stdio
//! and runs one job with the inner runner. See `protocol.rs` for the contract.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use base64::Engine as _;
use wasmtime::{Engine, Module};

use super::protocol::{
    GUEST_CODE, GUEST_MODULES, GUEST_PLUGINS, GUEST_SCRATCH, GUEST_WORK, GuestEvent, GuestJob,
};
use crate::engine;
use crate::job::InputFile;
use crate::plugin::{Plugin, Registry, cache};
use crate::runner::nested::ModuleSource;
use crate::runner::output::{OutputObserver, StreamKind};
use crate::runner::prepare::{self, Arrived, GateError, JobGate};
use crate::runner::{Execution, RunDirs, Runner};
use crate::workdir;

/// Run the guest: returns the process exit code (0 when a result or failure was reported).
pub fn main(plugin: &str) -> i32 {
    // A write past RLIMIT_FSIZE must fail with EFBIG inside the code, not kill the guest.
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let events = match EventWriter::start() {
        Ok(e) => e,
        Err(e) => {
            // Without the writer no event can reach the host; stderr is quoted in its error.
            eprintln!("nestbox guest: starting the event writer thread: {e}");
            return 1;
        }
    };
    let code = match serve_one(plugin, &events) {
        Ok(()) => 0,
        Err(e) => {
            events.send(GuestEvent::Failed {
                message: e.to_string(),
            });
            1
        }
    };
    events.finish();
    code
}

/// Why the guest could not serve its job; the host gets this as the `failed` event's message.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    #[error("guest: loading the plugins in /plugins: {0}")]
    Registry(#[source] crate::plugin::RegistryError),
    #[error(
        "guest: no plugin {0:?} in /plugins; fix: the host binds every plugin it names \
         there, so the sandbox's bundle is broken (run `nestbox debug bundle` to inspect it)"
    )]
    UnknownPlugin(String),
    /// Wasmtime's errors carry their own chain, formatted in (`{:#}`).
    #[error("guest: {step}: {message}")]
    Wasmtime { step: &'static str, message: String },
    #[error("guest: {0}; fix: run `nestbox plugins prepare` on the host")]
    Module(#[source] cache::CacheError),
    #[error("guest: creating {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("guest: {0}")]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// The plugin's start-up ended before it asked for its job (the message says how).
    #[error("guest: {message}")]
    NeverReady { message: String },
}

/// Why the job line from the host could not be received or put in place.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("guest: reading the job from stdin: {0}")]
    Read(#[source] std::io::Error),
    #[error("guest: no job arrived on stdin (the host closed it first); nothing ran")]
    Missing,
    #[error(
        "guest: the job line is not a valid job: {0}; fix: the host and the guest must be the \
         same nestbox binary"
    )]
    Invalid(#[source] serde_json::Error),
    #[error("guest: putting the job in place: {0}")]
    Stage(#[source] workdir::WorkDirError),
    #[error("guest: the job's stdin_b64 is not base64: {0}")]
    Stdin(#[source] base64::DecodeError),
}

fn serve_one(plugin_name: &str, events: &EventWriter) -> Result<(), GuestError> {
    let registry =
        Arc::new(Registry::load(Path::new(GUEST_PLUGINS)).map_err(GuestError::Registry)?);
    let plugin = registry
        .find(plugin_name)
        .ok_or_else(|| GuestError::UnknownPlugin(plugin_name.to_string()))?
        .clone();
    let engine = engine::new_engine().map_err(|e| GuestError::Wasmtime {
        step: "creating the engine",
        message: format!("{e:#}"),
    })?;
    let modules = Arc::new(GuestModules {
        engine: engine.clone(),
        registry,
        loaded: Mutex::default(),
    });
    let module = modules
        .load(&plugin.manifest.name)
        .map_err(GuestError::Module)?;
    let runner =
        Arc::new(
            Runner::new(engine, Some(modules)).map_err(|e| GuestError::Wasmtime {
                step: "linking",
                message: format!("{e:#}"),
            })?,
        );

    let dirs = RunDirs {
        work: PathBuf::from(GUEST_WORK),
        tmp: Path::new(GUEST_SCRATCH).join("tmp"),
        // The code file lives in the sandbox's own memory (its /tmp tmpfs), not behind the gofer:
        // writing and reading it costs no round trip to the host.
        code: PathBuf::from(GUEST_CODE),
    };
    // The plugin starts before its job: its /tmp and /code exist from the start (empty).
    for d in [&dirs.tmp, &dirs.code] {
        std::fs::create_dir_all(d).map_err(|source| GuestError::CreateDir {
            path: d.clone(),
            source,
        })?;
    }
    // The plugin starts now, as far as its manifest allows (`entry.prepare`), and says `ready`
    // when it waits for its job; the job's limits start when the job is in place.
    let asked = Arc::new(AtomicBool::new(false));
    let gate = GuestGate {
        events: events.sender(),
        dirs: dirs.clone(),
        code_file: plugin.manifest.entry.code_file.clone(),
        started: Instant::now(),
        asked: asked.clone(),
    };
    let runtime = crate::runtime::current_thread()?;
    let outcome = runtime.block_on(runner.run(Execution {
        plugin: &plugin,
        module: &module,
        argv: plugin.manifest.argv(),
        extra_env: Vec::new(),
        stdin: None,
        limits: prepare::startup_limits(&plugin),
        dirs: &dirs,
        root_alias: None,
        cwd: None,
        observer: Some(Arc::new(events.observer())),
        gate: Some(Box::new(gate)),
    }));
    if !asked.load(Ordering::Relaxed) {
        // Never ready: the host is still waiting for `ready` and takes this as a failed boot.
        return Err(GuestError::NeverReady {
            message: outcome.message,
        });
    }
    events.send(GuestEvent::Result { outcome });
    Ok(())
}

/// The guest's job gate: says `ready` (the plugin is prepared), reads the one job line from
/// stdin, puts the code and input files in place and hands over the stdin and limits.
struct GuestGate {
    events: EventSender,
    dirs: RunDirs,
    code_file: String,
    started: Instant,
    asked: Arc<AtomicBool>,
}

impl JobGate for GuestGate {
    fn wait(self: Box<Self>) -> Result<Arrived, GateError> {
        self.asked.store(true, Ordering::Relaxed);
        self.events.send(GuestEvent::Ready {
            prepare_ms: Some(self.started.elapsed().as_millis() as u64),
        });
        let job = read_job().map_err(|e| GateError::Job(Box::new(e)))?;
        let inputs: Vec<InputFile> = job
            .input_files
            .iter()
            .map(|f| InputFile {
                name: f.name.clone(),
                source_path: None,
                content_base64: Some(f.content_b64.clone()),
            })
            .collect();
        workdir::stage(&self.dirs, &self.code_file, &job.code, &inputs)
            .map_err(|e| GateError::Job(Box::new(JobError::Stage(e))))?;
        let stdin = match &job.stdin_b64 {
            Some(b64) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| GateError::Job(Box::new(JobError::Stdin(e))))?,
            ),
            None => None,
        };
        Ok(Arrived {
            stdin,
            limits: job.limits,
        })
    }
}

/// The one job line from the host.
fn read_job() -> Result<GuestJob, JobError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(JobError::Read)?;
    if line.trim().is_empty() {
        return Err(JobError::Missing);
    }
    serde_json::from_str(&line).map_err(JobError::Invalid)
}

/// Modules bound into the sandbox by the host (which checked them), loaded on first use.
struct GuestModules {
    engine: Engine,
    registry: Arc<Registry>,
    loaded: Mutex<HashMap<String, Module>>,
}

impl GuestModules {
    fn load(&self, name: &str) -> Result<Module, cache::CacheError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = loaded.get(name) {
            return Ok(m.clone());
        }
        let path = Path::new(GUEST_MODULES).join(format!("{name}.cwasm"));
        let module = cache::load_file(&self.engine, &path)?;
        loaded.insert(name.to_string(), module.clone());
        Ok(module)
    }
}

impl ModuleSource for GuestModules {
    fn lookup(&self, command: &str) -> Option<(Plugin, Module)> {
        let plugin = self.registry.find(command)?.clone();
        let module = self.load(&plugin.manifest.name).ok()?;
        Some((plugin, module))
    }
}

enum Message {
    Event(GuestEvent),
    Output(StreamKind, Vec<u8>),
}

/// Writes events to stdout from one thread, merging output chunks that queue up, so a flood of
/// small writes becomes a few large events and the code never waits on the host.
struct EventWriter {
    tx: Sender<Message>,
    thread: JoinHandle<()>,
}

impl EventWriter {
    fn start() -> std::io::Result<EventWriter> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("nestbox-events".into())
            .spawn(move || write_events(rx))?;
        Ok(EventWriter { tx, thread })
    }

    fn send(&self, event: GuestEvent) {
        let _ = self.tx.send(Message::Event(event));
    }

    fn sender(&self) -> EventSender {
        EventSender(Mutex::new(self.tx.clone()))
    }

    fn observer(&self) -> ChannelObserver {
        ChannelObserver(Mutex::new(self.tx.clone()))
    }

    fn finish(self) {
        drop(self.tx);
        let _ = self.thread.join();
    }
}

fn write_events(rx: Receiver<Message>) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let emit = |out: &mut std::io::BufWriter<_>, event: &GuestEvent| {
        let _ = serde_json::to_writer(&mut *out, event);
        let _ = out.write_all(b"\n");
    };
    let flush_output = |out: &mut std::io::BufWriter<_>, stream: StreamKind, data: &mut Vec<u8>| {
        if !data.is_empty() {
            let event = GuestEvent::Output {
                stream,
                data_b64: base64::engine::general_purpose::STANDARD.encode(&data),
            };
            let _ = serde_json::to_writer(&mut *out, &event);
            let _ = out.write_all(b"\n");
            data.clear();
        }
    };
    while let Ok(first) = rx.recv() {
        let mut pending: Option<(StreamKind, Vec<u8>)> = None;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Output(stream, bytes) => match &mut pending {
                    Some((s, data)) if *s == stream && data.len() < 256 * 1024 => {
                        data.extend_from_slice(&bytes)
                    }
                    _ => {
                        if let Some((s, mut data)) = pending.take() {
                            flush_output(&mut out, s, &mut data);
                        }
                        pending = Some((stream, bytes));
                    }
                },
                Message::Event(event) => {
                    if let Some((s, mut data)) = pending.take() {
                        flush_output(&mut out, s, &mut data);
                    }
                    emit(&mut out, &event);
                }
            }
            next = rx.try_recv().ok();
        }
        if let Some((s, mut data)) = pending.take() {
            flush_output(&mut out, s, &mut data);
        }
        let _ = out.flush();
    }
    let _ = out.flush();
}

/// Sends events from another part of the guest (the job gate).
struct EventSender(Mutex<Sender<Message>>);

impl EventSender {
    fn send(&self, event: GuestEvent) {
        let tx = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(Message::Event(event));
    }
}

/// Sends the code's output to the event writer.
struct ChannelObserver(Mutex<Sender<Message>>);

impl OutputObserver for ChannelObserver {
    fn output(&self, stream: StreamKind, bytes: &[u8]) {
        let tx = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(Message::Output(stream, bytes.to_vec()));
    }
}
