//! Child processes of the supervisor. nestbox makes itself a child subreaper, so gVisor's sandbox
//! and gofer processes come back to it when `runsc run` exits, and one thread reaps every child
//! (`waitpid(-1)`): without that, `runsc` waits and `delete` take seconds longer (see the README).
//! Because that thread reaps everything, every child nestbox starts must be started here and waited
//! for here, never with `Child::wait`.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

#[derive(Default)]
struct Inner {
    /// Children someone will wait for.
    registered: HashSet<i32>,
    /// Exit statuses of registered children, not yet collected.
    exited: HashMap<i32, ExitStatus>,
    /// Bumped at every spawn, to wake the reaper when it had no children.
    generation: u64,
}

pub struct Reaper {
    inner: Mutex<Inner>,
    changed: Condvar,
    /// Children are started from one long-lived thread: a child's PR_SET_PDEATHSIG follows the
    /// thread that forked it, and threads of a pool come and go.
    spawner: Mutex<std::sync::mpsc::Sender<SpawnRequest>>,
}

type SpawnRequest = (Command, std::sync::mpsc::Sender<std::io::Result<Child>>);

/// The process-wide reaper, started on first use.
pub fn global() -> &'static Reaper {
    static REAPER: OnceLock<Reaper> = OnceLock::new();
    REAPER.get_or_init(|| {
        // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument and touches no memory.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        std::thread::Builder::new()
            .name("nestbox-reaper".into())
            .spawn(|| global().reap_forever())
            .expect("spawning the reaper thread");
        let (tx, rx) = std::sync::mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("nestbox-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(global().spawn_here(&mut cmd));
                }
            })
            .expect("spawning the spawner thread");
        Reaper {
            inner: Mutex::default(),
            changed: Condvar::new(),
            spawner: Mutex::new(tx),
        }
    })
}

impl Reaper {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start a child from the spawner thread. Wait for it with [`Reaper::wait`].
    pub fn spawn(&self, cmd: Command) -> std::io::Result<Child> {
        let (reply, answer) = std::sync::mpsc::channel();
        let sent = self
            .spawner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send((cmd, reply));
        if sent.is_err() {
            return Err(std::io::Error::other("the spawner thread is gone"));
        }
        answer
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the spawner thread is gone")))
    }

    fn spawn_here(&self, cmd: &mut Command) -> std::io::Result<Child> {
        // Holding the lock across the fork means the reaper cannot record (and drop) this child's
        // exit before it is registered.
        let mut inner = self.lock();
        let child = cmd.spawn()?;
        inner.registered.insert(child.id() as i32);
        inner.generation += 1;
        drop(inner);
        self.changed.notify_all();
        Ok(child)
    }

    /// Wait for a child started by [`Reaper::spawn`]; `None` if it is still running at `timeout`.
    pub fn wait(&self, pid: u32, timeout: Option<Duration>) -> Option<ExitStatus> {
        let pid = pid as i32;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inner = self.lock();
        loop {
            if let Some(status) = inner.exited.remove(&pid) {
                inner.registered.remove(&pid);
                return Some(status);
            }
            match deadline {
                None => inner = self.changed.wait(inner).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return None;
                    }
                    inner = self
                        .changed
                        .wait_timeout(inner, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// Run a command to completion, capturing its output (a `Command::output` that goes through
    /// the reaper). Stdin is closed.
    pub fn output(&self, mut cmd: Command) -> std::io::Result<Output> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.spawn(cmd)?;
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        let err_thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_end(&mut buf);
            }
            buf
        });
        let mut stdout = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut stdout);
        }
        let stderr = err_thread.join().unwrap_or_default();
        let status = self
            .wait(child.id(), None)
            .unwrap_or(ExitStatus::from_raw(0));
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    fn reap_forever(&self) {
        loop {
            let generation = self.lock().generation;
            match waitpid(Pid::from_raw(-1), None) {
                Ok(status) => {
                    let (pid, raw) = match status {
                        WaitStatus::Exited(pid, code) => (pid, code << 8),
                        WaitStatus::Signaled(pid, sig, core) => {
                            (pid, sig as i32 | if core { 0x80 } else { 0 })
                        }
                        _ => continue,
                    };
                    let mut inner = self.lock();
                    if inner.registered.contains(&pid.as_raw()) {
                        inner.exited.insert(pid.as_raw(), ExitStatus::from_raw(raw));
                        drop(inner);
                        self.changed.notify_all();
                    }
                    // Anything else is an orphan handed to us (a gVisor process): reaped, forgotten.
                }
                Err(Errno::EINTR) => {}
                Err(_) => {
                    // No children right now: sleep until one is spawned.
                    let inner = self.lock();
                    let _ = self
                        .changed
                        .wait_timeout_while(inner, Duration::from_secs(1), |i| {
                            i.generation == generation
                        });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_exit_codes_and_times_out() {
        let r = global();
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo out; echo err >&2; exit 7"]);
        let out = r.output(sh).unwrap();
        assert_eq!(out.status.code(), Some(7));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");

        let mut sleep = Command::new("sleep");
        sleep.arg("5");
        #[allow(clippy::zombie_processes)] // waited for through the reaper below
        let child = r.spawn(sleep).unwrap();
        assert!(
            r.wait(child.id(), Some(Duration::from_millis(50)))
                .is_none()
        );
        nix::sys::signal::kill(Pid::from_raw(child.id() as i32), nix::sys::signal::SIGKILL)
            .unwrap();
        let status = r.wait(child.id(), Some(Duration::from_secs(5))).unwrap();
        assert_eq!(status.signal(), Some(9));
    }
}
