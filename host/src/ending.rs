//! How a run ended, put in words once: every way a run can end is an [`Ending`], and
//! [`classify`] gives each its status, exit code and message. The runner says which ending it saw
//! inside Wasmtime (an exit, a trap, a limit); the sandbox's supervisor says which it saw outside
//! (the guest failed or died, the deadline or the caller killed it) and adds what it knows of how
//! the sandbox stopped ([`SandboxEnd`]). Neither decides a status itself.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use crate::limits::Limits;
use crate::result::Status;

/// How a run ended, as the side that saw it end knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    // Seen inside Wasmtime (the runner).
    /// The code returned or exited with this status; `memory_denied`: its store was refused
    /// memory on the way (a nonzero status then counts as the memory limit).
    Exited {
        code: i32,
        memory_denied: bool,
    },
    /// The wall clock ran out inside the sandbox (the epoch deadline, or a host call past it).
    WallClock,
    /// The CPU (fuel) budget ran out.
    OutOfFuel,
    /// The code wrote past the output cap and was stopped.
    OutputCut,
    /// The store was refused memory and the code stopped without exiting.
    MemoryDenied,
    StackOverflow,
    /// Another WebAssembly trap, in words.
    Trap(String),
    /// The runtime failed otherwise (Wasmtime's error, with its chain).
    RuntimeFailed(String),
    /// The plugin could not be instantiated or has no entry point (Wasmtime's error).
    StartFailed(String),
    /// A plugin that declares `prepare = "await-job"` finished without asking for its job.
    NeverAsked,
    /// The job could not be received or put in place (the gate's status and message).
    JobNotPlaced {
        status: Status,
        message: String,
    },

    // Seen outside, by the sandbox's supervisor.
    /// The guest said it could not run the job (its message).
    GuestFailed(String),
    /// The sandbox stopped before reporting a result.
    Died,
    /// The host killed the sandbox at the deadline.
    Killed,
    /// The caller gave up (a client went away, a stop signal); the sandbox was killed.
    Cancelled,
    /// The sandbox did not become ready within this many seconds and was killed.
    BootTimeout {
        seconds: u64,
    },
    /// The sandbox started without the memory limit it must have (the message says how).
    LimitsMissing(String),
}

/// What the supervisor knows about how a sandbox stopped, beyond the conversation.
#[derive(Debug, Default)]
pub struct SandboxEnd {
    /// runsc's exit status, when it exited.
    pub exit: Option<ExitStatus>,
    /// The sandbox's memory cgroup, when limits are enforced.
    pub memory: Option<MemoryFacts>,
    /// runsc's stderr, quoted for a message.
    pub diagnostics: String,
    /// The memory the sandbox gets beyond the code's limit (MiB).
    pub overhead_mb: u64,
}

/// What the sandbox's memory cgroup recorded.
#[derive(Debug)]
pub struct MemoryFacts {
    /// It recorded an out-of-memory kill: the only evidence for MEMORY_LIMIT from outside.
    pub oom_killed: bool,
    /// Its OOM-kill counter could be read at all.
    pub counted: bool,
    /// Its counters, in words.
    pub described: String,
}

/// The status, exit code and message of an [`Ending`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub exit_code: Option<i32>,
    pub message: String,
}

fn verdict(status: Status, exit_code: Option<i32>, message: String) -> Verdict {
    Verdict {
        status,
        exit_code,
        message,
    }
}

/// The run's time limit in words (`5 s`, `0.5 s`).
fn seconds(limits: &Limits) -> String {
    let s = limits.max_runtime_ms as f64 / 1000.0;
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// Put an ending in words: its status, the code's exit code, a message for people. `plugin` names
/// the runtime; `sandbox` is the supervisor's knowledge, for the endings seen outside.
pub fn classify(
    ending: Ending,
    limits: &Limits,
    plugin: &str,
    sandbox: Option<&SandboxEnd>,
) -> Verdict {
    let memory_limit = |code: Option<i32>| {
        verdict(
            Status::MemoryLimit,
            code,
            format!(
                "the code tried to use more than its memory limit of {} MiB",
                limits.max_ram_mb
            ),
        )
    };
    let none = SandboxEnd::default();
    let outside = sandbox.unwrap_or(&none);
    let exit = outside
        .exit
        .map_or("did not exit".to_string(), describe_exit);
    let quoted = &outside.diagnostics;
    match ending {
        Ending::Exited { code: 0, .. } => verdict(
            Status::Ok,
            Some(0),
            "the code ran and exited with status 0".to_string(),
        ),
        Ending::Exited {
            code,
            memory_denied: true,
        } => memory_limit(Some(code)),
        Ending::Exited { code, .. } => verdict(
            Status::Error,
            Some(code),
            format!("the code exited with status {code}"),
        ),
        Ending::WallClock => verdict(
            Status::Timeout,
            None,
            format!(
                "the code ran longer than its limit of {} and was stopped",
                seconds(limits)
            ),
        ),
        Ending::OutOfFuel => verdict(
            Status::Timeout,
            None,
            format!(
                "the code used its whole CPU budget ({} fuel, {} of CPU) and was stopped",
                limits.fuel,
                seconds(limits)
            ),
        ),
        Ending::OutputCut => verdict(
            Status::OutputLimit,
            None,
            format!(
                "the code wrote more than {} bytes to stdout or stderr; the first {} bytes of each were kept and the code was stopped",
                limits.max_output_bytes, limits.max_output_bytes
            ),
        ),
        Ending::MemoryDenied => memory_limit(None),
        Ending::StackOverflow => verdict(
            Status::Error,
            None,
            "the code exhausted its stack (too deep recursion) and was stopped".to_string(),
        ),
        Ending::Trap(trap) => verdict(
            Status::Error,
            None,
            format!("the {plugin} runtime stopped with a WebAssembly trap: {trap}"),
        ),
        Ending::RuntimeFailed(e) => verdict(
            Status::Error,
            None,
            format!("the {plugin} runtime failed: {e}"),
        ),
        Ending::StartFailed(e) => verdict(
            Status::SandboxError,
            None,
            format!("the {plugin} plugin could not be started: {e}"),
        ),
        Ending::NeverAsked => verdict(
            Status::SandboxError,
            None,
            format!(
                "the {plugin} plugin declares entry.prepare = \"await-job\" but its start-up \
                 ended without asking for its job (host.call {{\"op\":\"await_job\"}}); the code \
                 did not run. fix: the plugin's start-up must ask, or its manifest must say \
                 prepare = \"initialize\" or \"none\""
            ),
        ),
        Ending::JobNotPlaced { status, message } => verdict(status, None, message),
        Ending::GuestFailed(m) => verdict(
            Status::SandboxError,
            None,
            format!("{m} (runsc {exit}; {quoted})"),
        ),
        Ending::Killed => verdict(
            Status::Timeout,
            None,
            format!(
                "the code ran longer than its limit of {} s and the sandbox was killed",
                limits.max_runtime_ms as f64 / 1000.0
            ),
        ),
        Ending::Cancelled => verdict(
            Status::SandboxError,
            None,
            "the execution was cancelled (its caller went away or nestbox was told to stop) and \
             its sandbox was killed"
                .into(),
        ),
        Ending::Died => died(limits, outside, &exit),
        Ending::BootTimeout { seconds } => verdict(
            Status::SandboxError,
            None,
            format!("the sandbox did not start within {seconds} s and was killed; {quoted}"),
        ),
        Ending::LimitsMissing(m) => verdict(Status::SandboxError, None, m),
    }
}

/// A sandbox that stopped without a result: MEMORY_LIMIT only on its memory cgroup's word (an
/// out-of-memory kill recorded there), else a SANDBOX_ERROR saying what is known.
fn died(limits: &Limits, outside: &SandboxEnd, exit: &str) -> Verdict {
    let overhead_mb = outside.overhead_mb;
    let killed_by_sigkill = outside
        .exit
        .is_some_and(|s| s.signal() == Some(9) || s.code() == Some(137));
    if outside.memory.as_ref().is_some_and(|m| m.oom_killed) {
        let record = outside.memory.as_ref().map_or_else(
            || "no memory cgroup to ask (limits are not enforced)".to_string(),
            |m| format!("its memory cgroup recorded {}", m.described),
        );
        return verdict(
            Status::MemoryLimit,
            None,
            format!(
                "the sandbox was killed by the kernel's out-of-memory killer at its cgroup limit \
                 of {} MiB (the code's {} MiB plus {overhead_mb} MiB for the sandbox; {record})",
                limits.max_ram_mb + overhead_mb,
                limits.max_ram_mb
            ),
        );
    }
    if killed_by_sigkill {
        let no_oom = match &outside.memory {
            Some(m) if m.counted => format!(
                "its memory cgroup recorded no out-of-memory kill ({})",
                m.described
            ),
            Some(m) => format!(
                "no out-of-memory kill could be confirmed (its memory cgroup's counters were \
                 gone: {})",
                m.described
            ),
            None => "no out-of-memory kill could be confirmed (there is no memory cgroup to ask: \
                     limits are not enforced)"
                .to_string(),
        };
        return verdict(
            Status::SandboxError,
            None,
            format!(
                "the sandbox was killed by SIGKILL (runsc {exit}), and {no_oom}: something \
                 other than its memory limit killed it (an operator, a process manager, the host \
                 itself running out of memory). fix: run the code again; if it recurs, look for \
                 the sender in the host's logs (dmesg, journalctl)"
            ),
        );
    }
    verdict(
        Status::SandboxError,
        None,
        format!(
            "the sandbox stopped before reporting a result (runsc {exit}); {}",
            outside.diagnostics
        ),
    )
}

fn describe_exit(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "ended".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_runtime_ms: 5000,
        max_ram_mb: 64,
        max_output_bytes: 1024,
        fuel: 10,
    };

    fn status(ending: Ending) -> (Status, Option<i32>) {
        let v = classify(ending, &LIMITS, "python", None);
        (v.status, v.exit_code)
    }

    #[test]
    fn endings_inside_wasmtime() {
        let exited = |code, memory_denied| Ending::Exited {
            code,
            memory_denied,
        };
        assert_eq!(status(exited(0, false)), (Status::Ok, Some(0)));
        assert_eq!(status(exited(0, true)), (Status::Ok, Some(0)));
        assert_eq!(status(exited(3, false)), (Status::Error, Some(3)));
        assert_eq!(status(exited(200, false)), (Status::Error, Some(200)));
        assert_eq!(status(exited(1, true)), (Status::MemoryLimit, Some(1)));
        assert_eq!(status(Ending::WallClock), (Status::Timeout, None));
        assert_eq!(status(Ending::OutOfFuel), (Status::Timeout, None));
        assert_eq!(status(Ending::OutputCut), (Status::OutputLimit, None));
        assert_eq!(status(Ending::MemoryDenied), (Status::MemoryLimit, None));
        assert_eq!(status(Ending::StackOverflow), (Status::Error, None));
        assert_eq!(status(Ending::Trap("x".into())), (Status::Error, None));
        assert_eq!(
            status(Ending::StartFailed("unknown import".into())),
            (Status::SandboxError, None)
        );
        assert_eq!(status(Ending::NeverAsked), (Status::SandboxError, None));
        let v = classify(Ending::OutOfFuel, &LIMITS, "python", None);
        assert!(v.message.contains("10 fuel, 5 s of CPU"), "{}", v.message);
        let v = classify(
            Ending::Trap("wasm `unreachable`".into()),
            &LIMITS,
            "bash",
            None,
        );
        assert!(v.message.contains("the bash runtime"), "{}", v.message);
    }

    #[test]
    fn endings_outside_name_what_the_supervisor_saw() {
        let end = SandboxEnd {
            exit: Some(ExitStatus::from_raw(1 << 8)),
            memory: None,
            diagnostics: "\"boom\"".into(),
            overhead_mb: 160,
        };
        let v = classify(
            Ending::GuestFailed("guest: no job".into()),
            &LIMITS,
            "python",
            Some(&end),
        );
        assert_eq!(v.status, Status::SandboxError);
        assert_eq!(
            v.message,
            "guest: no job (runsc exited with status 1; \"boom\")"
        );
        assert_eq!(status(Ending::Killed), (Status::Timeout, None));
        assert_eq!(status(Ending::Cancelled), (Status::SandboxError, None));
        let v = classify(
            Ending::BootTimeout { seconds: 30 },
            &LIMITS,
            "python",
            Some(&end),
        );
        assert!(v.message.contains("within 30 s"), "{}", v.message);
        assert_eq!(
            status(Ending::LimitsMissing("no cgroup".into())),
            (Status::SandboxError, None)
        );
        let v = classify(Ending::Died, &LIMITS, "python", Some(&end));
        assert_eq!(v.status, Status::SandboxError);
        assert!(
            v.message.contains("stopped before reporting"),
            "{}",
            v.message
        );
    }
}
