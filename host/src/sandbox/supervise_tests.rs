//! Supervision against the scripted fake runtime (`fake.rs`): what the host makes of each way a
//! guest can behave, and that every path tears the sandbox down. No root, no runsc.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::container::ContainerRuntime;
use super::fake::{self, Call, Fake, Step};
use super::protocol::{GuestJob, MAX_EVENT_LINE};
use super::rundir::RunDir;
use super::supervise::{BootCheck, Booted, boot};
use crate::limits::Limits;
use crate::result::Outcome;
use crate::result::Status;
use crate::runner::output::StreamKind;

struct Bench {
    fake: Arc<Fake>,
    runs: tempfile::TempDir,
}

impl Bench {
    fn new(default: Vec<Step>) -> Bench {
        Bench {
            fake: Fake::new(default),
            runs: tempfile::tempdir().unwrap(),
        }
    }

    fn boot(&self) -> Result<Booted, Outcome> {
        let id = uuid::Uuid::new_v4().to_string();
        let dir = RunDir::create(self.runs.path(), &id, None).unwrap();
        let runtime: Arc<dyn ContainerRuntime> = self.fake.clone();
        boot(&runtime, dir, "python", 64, 0, BootCheck { verify: None })
    }

    fn run_dir(&self, id: &str) -> PathBuf {
        self.runs.path().join(id)
    }

    /// Boot, run `job`, drop what remains; the outcome and the sandbox's id.
    fn run(&self, job: &GuestJob, cancel: Option<&AtomicBool>) -> (Outcome, String) {
        let booted = self.boot().expect("the fake sandbox boots");
        let id = booted.id.clone();
        let (outcome, remains) = booted.run(job, None, cancel);
        assert!(
            remains.work().is_dir(),
            "the work dir stays while remains live"
        );
        drop(remains);
        (outcome, id)
    }

    /// Nothing of sandbox `id` is left: no runtime state, no run directory.
    fn assert_gone(&self, id: &str) {
        assert!(
            !self.fake.listed().contains(&id.to_string()),
            "{id} still listed: {:?}",
            self.fake.calls()
        );
        assert!(!self.run_dir(id).exists(), "{id}'s run dir is left");
        assert!(!Path::new(&self.runs.path().join(format!("{id}.lock"))).exists());
    }

    /// The sandbox was killed and deleted (every unclean end).
    fn assert_killed_and_deleted(&self, id: &str) {
        let calls = self.fake.calls();
        assert!(calls.contains(&Call::Kill(id.into())), "{calls:?}");
        assert!(calls.contains(&Call::Delete(id.into())), "{calls:?}");
        self.assert_gone(id);
    }
}

fn job(max_runtime_ms: u64, max_output_bytes: u64) -> GuestJob {
    GuestJob {
        code: "print('hello')".into(),
        stdin_b64: None,
        input_files: Vec::new(),
        limits: Limits {
            max_runtime_ms,
            max_ram_mb: 64,
            max_output_bytes,
            fuel: 1000,
        },
    }
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn a_normal_run_sends_the_job_and_reports_the_guests_result_and_output() {
    let bench = Bench::new(fake::prints("hello\n"));
    let (outcome, id) = bench.run(&job(5000, 1024), None);
    assert_eq!(outcome.status, Status::Ok, "{}", outcome.message);
    assert_eq!(text(&outcome.stdout), "hello\n");
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(outcome.fuel_used, 7, "the guest's own count");
    let jobs = bench.fake.jobs();
    assert_eq!(jobs.len(), 1);
    let sent: GuestJob = serde_json::from_str(&jobs[0]).unwrap();
    assert_eq!(sent, job(5000, 1024));
    // A clean end: runsc removed its own state, so nothing was killed.
    assert!(!bench.fake.calls().contains(&Call::Kill(id.clone())));
    bench.assert_gone(&id);
}

#[test]
fn output_beyond_the_cap_is_cut_and_marked() {
    let bench = Bench::new(vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Out(StreamKind::Stderr, b"warn\n".to_vec()),
        Step::Flood(300_000),
        fake::ok(),
    ]);
    let (outcome, id) = bench.run(&job(5000, 1000), None);
    assert_eq!(outcome.status, Status::Ok, "{}", outcome.message);
    assert_eq!(outcome.stdout.len(), 1000);
    assert!(outcome.stdout.iter().all(|&b| b == b'x'));
    assert!(outcome.stdout_truncated);
    assert_eq!(text(&outcome.stderr), "warn\n");
    assert!(!outcome.stderr_truncated);
    bench.assert_gone(&id);
}

#[test]
fn a_guest_past_its_deadline_is_killed_as_timeout_keeping_what_it_printed() {
    let bench = Bench::new(vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Out(StreamKind::Stdout, b"before\n".to_vec()),
        Step::Hang,
    ]);
    let (outcome, id) = bench.run(&job(1, 1024), None);
    assert_eq!(outcome.status, Status::Timeout, "{}", outcome.message);
    assert!(
        outcome.message.contains("limit of 0.001 s"),
        "{}",
        outcome.message
    );
    assert_eq!(text(&outcome.stdout), "before\n");
    bench.assert_killed_and_deleted(&id);
}

#[test]
fn cancelling_kills_the_sandbox() {
    let bench = Bench::new(vec![Step::Ready, Step::AwaitJob, Step::Hang]);
    let cancel = AtomicBool::new(false);
    let (outcome, id) = std::thread::scope(|s| {
        s.spawn(|| {
            bench
                .fake
                .wait_until("the job arrives", |f| f.jobs().len() == 1);
            cancel.store(true, Ordering::Relaxed);
        });
        bench.run(&job(600_000, 1024), Some(&cancel))
    });
    assert_eq!(outcome.status, Status::SandboxError, "{}", outcome.message);
    assert!(outcome.message.contains("cancelled"), "{}", outcome.message);
    bench.assert_killed_and_deleted(&id);
}

#[test]
fn a_guest_that_dies_without_a_result_is_a_sandbox_error_naming_its_exit() {
    let bench = Bench::new(vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Out(StreamKind::Stdout, b"partial".to_vec()),
        Step::Stderr("guest: lost its plugin".into()),
        Step::Exit(3),
    ]);
    let (outcome, id) = bench.run(&job(5000, 1024), None);
    assert_eq!(outcome.status, Status::SandboxError, "{}", outcome.message);
    assert!(
        outcome
            .message
            .contains("stopped before reporting a result"),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("exited with status 3"),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("guest: lost its plugin"),
        "runsc's stderr quoted: {}",
        outcome.message
    );
    assert_eq!(text(&outcome.stdout), "partial");
    bench.assert_killed_and_deleted(&id);
}

#[test]
fn a_guest_killed_by_sigkill_without_an_oom_record_is_not_a_memory_limit() {
    let bench = Bench::new(vec![Step::Ready, Step::AwaitJob, Step::Hang]);
    let booted = bench.boot().unwrap();
    let id = booted.id.clone();
    let (outcome, remains) = std::thread::scope(|s| {
        s.spawn(|| {
            bench
                .fake
                .wait_until("the job arrives", |f| f.jobs().len() == 1);
            bench.fake.kill(&id).unwrap();
        });
        booted.run(&job(600_000, 1024), None, None)
    });
    drop(remains);
    assert_eq!(outcome.status, Status::SandboxError, "{}", outcome.message);
    assert!(outcome.message.contains("SIGKILL"), "{}", outcome.message);
    bench.assert_killed_and_deleted(&id);
}

#[test]
fn malformed_event_lines_are_skipped_and_an_over_long_one_fails_the_run() {
    let bench = Bench::new(vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Line("this is not an event".into()),
        Step::Line(r#"{"event":"surprise"}"#.into()),
        Step::Out(StreamKind::Stdout, b"after\n".to_vec()),
        fake::ok(),
    ]);
    let (outcome, id) = bench.run(&job(5000, 1024), None);
    assert_eq!(outcome.status, Status::Ok, "{}", outcome.message);
    assert_eq!(text(&outcome.stdout), "after\n");
    bench.assert_gone(&id);

    bench.fake.script(vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Line("y".repeat(MAX_EVENT_LINE + 10)),
        fake::ok(),
    ]);
    let (outcome, id) = bench.run(&job(5000, 1024), None);
    assert_eq!(outcome.status, Status::SandboxError, "{}", outcome.message);
    assert!(
        outcome.message.contains("over-long event"),
        "{}",
        outcome.message
    );
    bench.assert_killed_and_deleted(&id);
}

#[test]
fn a_guest_that_fails_or_dies_while_booting_is_a_boot_error_and_torn_down() {
    let bench = Bench::new(vec![Step::Failed("no module for python".into())]);
    let Err(outcome) = bench.boot() else {
        panic!("a failed boot is an error");
    };
    assert_eq!(outcome.status, Status::SandboxError);
    assert!(
        outcome.message.contains("no module for python"),
        "{}",
        outcome.message
    );
    let id = match &bench.fake.calls()[0] {
        Call::Boot(id) => id.clone(),
        other => panic!("first call {other:?}"),
    };
    bench.assert_killed_and_deleted(&id);

    bench.fake.script(vec![
        Step::Stderr("runsc: cannot boot".into()),
        Step::Exit(128),
    ]);
    let Err(outcome) = bench.boot() else {
        panic!("a dead boot is an error");
    };
    assert_eq!(outcome.status, Status::SandboxError);
    assert!(
        outcome.message.contains("runsc: cannot boot"),
        "{}",
        outcome.message
    );
    assert!(bench.fake.listed().is_empty(), "{:?}", bench.fake.calls());
}

#[test]
fn a_booted_sandbox_dropped_unused_is_killed_deleted_and_removed() {
    let bench = Bench::new(fake::prints("never\n"));
    let mut booted = bench.boot().unwrap();
    let id = booted.id.clone();
    assert!(booted.is_alive());
    assert_eq!(booted.prepare_ms, Some(1));
    assert!(bench.run_dir(&id).is_dir());
    drop(booted);
    bench.assert_killed_and_deleted(&id);
    assert!(bench.fake.jobs().is_empty());
}

#[test]
fn an_idle_guest_that_dies_is_no_longer_alive() {
    let bench = Bench::new(fake::prints("never\n"));
    let booted = std::sync::Mutex::new(bench.boot().unwrap());
    let id = booted.lock().unwrap().id.clone();
    bench.fake.crash(&id);
    bench
        .fake
        .wait_until("the supervisor sees the guest gone", |_| {
            !booted.lock().unwrap().is_alive()
        });
    drop(booted);
    bench.assert_killed_and_deleted(&id);
}
