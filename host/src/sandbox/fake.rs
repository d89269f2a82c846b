//! A scripted container runtime for unit tests: no root, no runsc, no sandbox. Booting a bundle
//! starts a thread (the stand-in guest) on real pipes that follows a script written in the guest
//! protocol (`protocol.rs`): `ready`, read the job, `output` events, a `result`, or not (hang,
//! die, flood, send garbage). Killing it ends it as SIGKILL would; everything the supervisor
//! asked of the runtime is recorded, and tests wait for conditions on that record (never sleep).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::container::{Container, ContainerRuntime};
use super::protocol::GuestEvent;
use super::runsc::RunscError;
use crate::result::{Outcome, Status};
use crate::runner::output::StreamKind;

/// How long a test waits for a condition before it fails (a guard against a hung test, not a
/// timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// One step of a stand-in guest's script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Print `ready`.
    Ready,
    /// Read the job line from stdin (recorded, see [`Fake::jobs`]); ends the guest like a real
    /// one when stdin closes first.
    AwaitJob,
    /// An `output` event.
    Out(StreamKind, Vec<u8>),
    /// `bytes` of stdout in 64 KiB `output` events.
    Flood(usize),
    /// A `result` event.
    Result {
        status: Status,
        exit_code: Option<i32>,
        message: String,
    },
    /// A `failed` event.
    Failed(String),
    /// A raw line on stdout (a malformed event).
    Line(String),
    /// A line on stderr (runsc's diagnostics).
    Stderr(String),
    /// Block until [`Fake::release`] or [`Fake::open_gates`] (a slow boot), or a kill.
    Gate,
    /// Block until killed.
    Hang,
    /// Exit with this status now (the end of a script is exit status 0).
    Exit(i32),
}

/// A guest that prints a line of output and reports OK with exit code 0.
pub fn prints(text: &str) -> Vec<Step> {
    vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Out(StreamKind::Stdout, text.as_bytes().to_vec()),
        ok(),
    ]
}

/// A `result` step: OK, exit code 0.
pub fn ok() -> Step {
    Step::Result {
        status: Status::Ok,
        exit_code: Some(0),
        message: String::new(),
    }
}

/// What the supervisor asked of the runtime, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Boot(String),
    Kill(String),
    Delete(String),
}

/// Messages to a stand-in guest.
enum Msg {
    Job(String),
    StdinClosed,
    Release,
    Kill,
    Crash,
}

struct Guest {
    id: String,
    control: Sender<Msg>,
    /// Its exit status, once it ended and until it is collected.
    exit: Option<ExitStatus>,
    ended: bool,
    collected: bool,
    /// The runtime still has state for it (until a clean exit or a delete).
    listed: bool,
}

#[derive(Default)]
struct State {
    next_pid: u32,
    guests: HashMap<u32, Guest>,
    calls: Vec<Call>,
    jobs: Vec<String>,
    ready: usize,
    /// Gates no longer stop anyone.
    gates_open: bool,
}

/// The fake runtime. Boots take their script from the queue given to [`Fake::script`], then
/// the default one.
pub struct Fake {
    default: Vec<Step>,
    queued: Mutex<VecDeque<Vec<Step>>>,
    shared: Arc<Shared>,
}

/// The record, shared with the guest threads.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

impl Fake {
    /// A fake whose guests follow `default` unless a boot has its own script queued.
    pub fn new(default: Vec<Step>) -> Arc<Fake> {
        Arc::new(Fake {
            default,
            queued: Mutex::default(),
            shared: Arc::default(),
        })
    }

    /// The script of the next boot that has none queued yet.
    pub fn script(&self, steps: Vec<Step>) {
        self.queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(steps);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many containers were booted.
    pub fn booted(&self) -> usize {
        self.calls()
            .iter()
            .filter(|c| matches!(c, Call::Boot(_)))
            .count()
    }

    /// How many guests printed `ready`.
    pub fn started(&self) -> usize {
        self.lock().ready
    }

    /// The job lines guests received.
    pub fn jobs(&self) -> Vec<String> {
        self.lock().jobs.clone()
    }

    /// Ids the runtime still has state for.
    pub fn listed(&self) -> Vec<String> {
        self.lock()
            .guests
            .values()
            .filter(|g| g.listed)
            .map(|g| g.id.clone())
            .collect()
    }

    /// Wait until `done` holds for this fake (panics when it does not come).
    pub fn wait_until(&self, what: &str, done: impl Fn(&Fake) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(self) {
            let now = Instant::now();
            assert!(now < deadline, "the fake runtime never got to: {what}");
            let state = self.lock();
            // Re-checked at every change (and now and then, for conditions outside the fake).
            let _ = self
                .shared
                .changed
                .wait_timeout(state, Duration::from_millis(20).min(deadline - now));
        }
    }

    /// Let every guest waiting at a [`Step::Gate`] go on.
    pub fn release(&self) {
        for g in self.lock().guests.values() {
            let _ = g.control.send(Msg::Release);
        }
    }

    /// [`Fake::wait_until`] from async code: on a blocking thread, off the runtime's workers.
    pub async fn until(
        self: &Arc<Self>,
        what: &'static str,
        done: impl Fn(&Fake) -> bool + Send + 'static,
    ) {
        let fake = self.clone();
        tokio::task::spawn_blocking(move || fake.wait_until(what, done))
            .await
            .expect("waiting for the fake runtime");
    }

    /// Let every guest at a gate go on, now and from now on (before a test tears down).
    pub fn open_gates(&self) {
        self.lock().gates_open = true;
        self.release();
    }

    /// The guest of `id` dies (as if it crashed: exit status 1, no result).
    pub fn crash(&self, id: &str) {
        self.signal(id, Msg::Crash);
    }

    fn signal(&self, id: &str, msg: Msg) {
        if let Some(g) = self.lock().guests.values().find(|g| g.id == id) {
            let _ = g.control.send(msg);
        }
    }

    fn note(&self, f: impl FnOnce(&mut State)) {
        self.shared.note(f);
    }
}

impl ContainerRuntime for Fake {
    fn boot(&self, _bundle: &Path, id: &str) -> Result<Container, RunscError> {
        let steps = self
            .queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .unwrap_or_else(|| self.default.clone());
        let pipe = |what: &'static str| {
            std::io::pipe().map_err(|e| RunscError::Start {
                path: format!("the fake runtime's {what} pipe").into(),
                id: id.to_string(),
                source: e,
            })
        };
        let (stdin_r, stdin_w) = pipe("stdin")?;
        let (stdout_r, stdout_w) = pipe("stdout")?;
        let (stderr_r, stderr_w) = pipe("stderr")?;
        let (control, inbox) = mpsc::channel();
        let pid = {
            let mut state = self.lock();
            state.next_pid += 1;
            let pid = 1000 + state.next_pid;
            state.guests.insert(
                pid,
                Guest {
                    id: id.to_string(),
                    control: control.clone(),
                    exit: None,
                    ended: false,
                    collected: false,
                    listed: true,
                },
            );
            state.calls.push(Call::Boot(id.to_string()));
            pid
        };
        self.shared.changed.notify_all();
        // Stdin is read on its own thread, so a guest waiting for its job still hears a kill.
        std::thread::spawn(move || {
            let mut line = String::new();
            let msg = match BufReader::new(stdin_r).read_line(&mut line) {
                Ok(n) if n > 0 => Msg::Job(line),
                _ => Msg::StdinClosed,
            };
            let _ = control.send(msg);
        });
        let shared = self.shared.clone();
        std::thread::spawn(move || {
            let mut guest = StandIn {
                shared: &shared,
                out: stdout_w,
                err: stderr_w,
                inbox,
                pending: VecDeque::new(),
            };
            let status = guest.follow(&steps);
            drop(guest);
            shared.note(|s| {
                if let Some(g) = s.guests.get_mut(&pid) {
                    g.exit = Some(status);
                    g.ended = true;
                    // runsc removes a container's state itself when it exits cleanly.
                    g.listed &= !status.success();
                }
            });
        });
        Ok(Container {
            pid,
            stdin: Box::new(stdin_w),
            stdout: Box::new(stdout_r),
            stderr: Box::new(stderr_r),
        })
    }

    fn wait(&self, pid: u32, timeout: Option<Duration>) -> Option<ExitStatus> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.lock();
        loop {
            let g = state.guests.get_mut(&pid)?;
            if g.collected {
                return None;
            }
            if g.ended {
                g.collected = true;
                return g.exit;
            }
            let left = match deadline {
                Some(d) if Instant::now() >= d => return None,
                Some(d) => d - Instant::now(),
                None => PATIENCE,
            };
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn kill(&self, id: &str) -> Result<(), RunscError> {
        self.note(|s| s.calls.push(Call::Kill(id.to_string())));
        self.signal(id, Msg::Kill);
        Ok(())
    }

    fn kill_process(&self, pid: u32) {
        if let Some(g) = self.lock().guests.get(&pid) {
            let _ = g.control.send(Msg::Kill);
        }
    }

    fn delete(&self, id: &str) -> Result<(), RunscError> {
        self.note(|s| {
            s.calls.push(Call::Delete(id.to_string()));
            for g in s.guests.values_mut().filter(|g| g.id == id) {
                g.listed = false;
            }
        });
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, RunscError> {
        Ok(self.listed())
    }
}

/// A stand-in guest following its script.
struct StandIn<'a> {
    shared: &'a Shared,
    out: std::io::PipeWriter,
    err: std::io::PipeWriter,
    inbox: Receiver<Msg>,
    /// Messages that came before the step that reads them.
    pending: VecDeque<Msg>,
}

/// How a script ended early.
enum Stop {
    Killed,
    Crashed,
    StdinClosed,
}

impl StandIn<'_> {
    /// Run the script; the exit status it ends with.
    fn follow(&mut self, steps: &[Step]) -> ExitStatus {
        for step in steps {
            // A kill that came while the guest was busy ends it before its next step.
            match self.interrupted().and_then(|()| self.step(step)) {
                Ok(Some(code)) => return ExitStatus::from_raw(code << 8),
                Ok(None) => {}
                Err(Stop::Killed) => return killed(),
                Err(Stop::Crashed) => return ExitStatus::from_raw(1 << 8),
                Err(Stop::StdinClosed) => return ExitStatus::from_raw(0),
            }
        }
        ExitStatus::from_raw(0)
    }

    /// A kill (or crash) that came while the guest was busy stops it; other messages wait.
    fn interrupted(&mut self) -> Result<(), Stop> {
        while let Ok(msg) = self.inbox.try_recv() {
            match msg {
                Msg::Kill => return Err(Stop::Killed),
                Msg::Crash => return Err(Stop::Crashed),
                other => self.pending.push_back(other),
            }
        }
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<Option<i32>, Stop> {
        match step {
            Step::Ready => {
                self.event(&GuestEvent::Ready {
                    prepare_ms: Some(1),
                });
                self.shared.note(|s| s.ready += 1);
            }
            Step::AwaitJob => loop {
                match self.next()? {
                    Msg::Job(line) => {
                        self.shared.note(|s| s.jobs.push(line));
                        break;
                    }
                    Msg::StdinClosed => return Err(Stop::StdinClosed),
                    Msg::Release | Msg::Kill | Msg::Crash => {}
                }
            },
            Step::Out(stream, bytes) => self.output(*stream, bytes),
            Step::Flood(total) => {
                let chunk = vec![b'x'; 64 * 1024];
                let mut left = *total;
                while left > 0 {
                    self.interrupted()?;
                    let n = left.min(chunk.len());
                    self.output(StreamKind::Stdout, &chunk[..n]);
                    left -= n;
                }
            }
            Step::Result {
                status,
                exit_code,
                message,
            } => self.event(&result_event(*status, *exit_code, message)),
            Step::Failed(message) => self.event(&GuestEvent::Failed {
                message: message.clone(),
            }),
            Step::Line(text) => self.line(text.as_bytes()),
            Step::Stderr(text) => {
                let _ = writeln!(self.err, "{text}");
            }
            Step::Gate => {
                if !self.shared.lock().gates_open {
                    while !matches!(self.next()?, Msg::Release) {}
                }
            }
            Step::Hang => loop {
                self.next()?;
            },
            Step::Exit(code) => return Ok(Some(*code)),
        }
        Ok(None)
    }

    /// The next message; a kill (or a fake that went away) stops the script.
    fn next(&mut self) -> Result<Msg, Stop> {
        let msg = match self.pending.pop_front() {
            Some(msg) => Ok(msg),
            None => self.inbox.recv(),
        };
        match msg {
            Ok(Msg::Kill) | Err(_) => Err(Stop::Killed),
            Ok(Msg::Crash) => Err(Stop::Crashed),
            Ok(msg) => Ok(msg),
        }
    }

    fn output(&mut self, stream: StreamKind, bytes: &[u8]) {
        self.event(&GuestEvent::Output {
            stream,
            data_b64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }

    fn event(&mut self, event: &GuestEvent) {
        self.line(&serde_json::to_vec(event).expect("serialising an event"));
    }

    fn line(&mut self, bytes: &[u8]) {
        // The supervisor may have stopped reading (a killed run): a broken pipe is fine.
        let _ = self
            .out
            .write_all(bytes)
            .and_then(|_| self.out.write_all(b"\n"));
    }
}

/// The exit status of a process killed by SIGKILL.
fn killed() -> ExitStatus {
    ExitStatus::from_raw(libc::SIGKILL)
}

/// The guest's `result` event.
fn result_event(status: Status, exit_code: Option<i32>, message: &str) -> GuestEvent {
    GuestEvent::Result {
        outcome: Outcome {
            exit_code,
            fuel_used: 7,
            elapsed: Duration::from_millis(1),
            ..Outcome::failed(status, message.to_string())
        },
    }
}
