//! Prepared executions end to end in the real runner and engine, with a tiny reactor written in
//! WebAssembly text: its start-up burns fuel (and may grow memory), asks for its job through
//! `host.call`, asks a second time (one job per store: -1), reads its stdin, and then returns
//! `1000 * first answer + 100 * (second answer + 1) + bytes of stdin`, or spins for ever when
//! stdin starts with `s`.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Module;

use super::prepare::{Arrived, GateError, InPlace, JobGate, startup_limits};
use super::{Execution, RunDirs, Runner};
use crate::limits::Limits;
use crate::plugin::{Manifest, Plugin};
use crate::result::{Outcome, Status};

/// `ask`: whether `run` asks for its job; `pages`: memory the start-up grows by; `init_burn`,
/// `run_burn`: loop iterations of start-up in `_initialize` and in `run` before it asks.
fn module_text(ask: bool, pages: u32, init_burn: u32, run_burn: u32) -> String {
    let ask_calls = if ask {
        r#"(local.set $first (call $door (i32.const 16) (i32.const 18) (i32.const 256) (i32.const 260)))
           (local.set $second (call $door (i32.const 16) (i32.const 18) (i32.const 264) (i32.const 268)))"#
    } else {
        ""
    };
    format!(
        r#"(module
  (import "host" "call" (func $door (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "{{\"op\":\"await_job\"}}")
  (func (export "host_alloc") (param i32) (result i32) (i32.const 1024))
  (func $burn (param $n i32)
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
  (func (export "_initialize") (call $burn (i32.const {init_burn})))
  (func (export "run") (result i32)
    (local $first i32) (local $second i32)
    (call $burn (i32.const {run_burn}))
    (drop (memory.grow (i32.const {pages})))
    {ask_calls}
    ;; one iovec at 512: 100 bytes at 2048; bytes read at 600
    (i32.store (i32.const 512) (i32.const 2048))
    (i32.store (i32.const 516) (i32.const 100))
    (drop (call $fd_read (i32.const 0) (i32.const 512) (i32.const 1) (i32.const 600)))
    (if (i32.and (i32.gt_s (i32.load (i32.const 600)) (i32.const 0))
                 (i32.eq (i32.load8_u (i32.const 2048)) (i32.const 115)))
      (then (loop $spin (br $spin))))
    (i32.add
      (i32.add (i32.mul (local.get $first) (i32.const 1000))
               (i32.mul (i32.add (local.get $second) (i32.const 1)) (i32.const 100)))
      (i32.load (i32.const 600)))))"#
    )
}

fn plugin(dir: &std::path::Path, prepare: &str) -> Plugin {
    let text = format!(
        r#"name = "tiny"
version = "1"
[artifact]
path = "tiny.wasm"
sha256 = "{zeros}"
[entry]
kind = "reactor"
export = "run"
argv = ["tiny", "{{code}}"]
code_file = "main.tiny"
prepare = "{prepare}"
[calibration]
fuel_per_cpu_second = 1_000_000_000
[limits]
min_ram_mb = 16
"#,
        zeros = "0".repeat(64)
    );
    Plugin {
        manifest: Manifest::parse(&text, &dir.join("plugin.toml")).unwrap(),
        dir: dir.to_path_buf(),
    }
}

fn job_limits(fuel: u64, ram_mb: u64) -> Limits {
    Limits {
        max_runtime_ms: 1000,
        max_ram_mb: ram_mb,
        max_output_bytes: 1024,
        fuel,
    }
}

/// A gate that waits a while before the job arrives, as a pooled sandbox does.
struct Slow(Duration, Arrived);

impl JobGate for Slow {
    fn wait(self: Box<Self>) -> Result<Arrived, GateError> {
        std::thread::sleep(self.0);
        Ok(self.1)
    }
}

fn run(prepare: &str, text: &str, gate: Option<Box<dyn JobGate>>, limits: Limits) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let dirs = RunDirs {
        work: dir.path().join("work"),
        tmp: dir.path().join("tmp"),
        code: dir.path().join("code"),
    };
    for d in [&dirs.work, &dirs.tmp, &dirs.code] {
        std::fs::create_dir(d).unwrap();
    }
    let plugin = plugin(dir.path(), prepare);
    let engine = crate::engine::new_engine().unwrap();
    let module = Module::new(&engine, text).unwrap();
    let runner = Arc::new(Runner::new(engine, None).unwrap());
    let gated = gate.is_some();
    let exec = Execution {
        plugin: &plugin,
        module: &module,
        argv: plugin.manifest.argv(),
        extra_env: Vec::new(),
        stdin: None,
        limits: if gated {
            startup_limits(&plugin)
        } else {
            limits
        },
        dirs: &dirs,
        root_alias: None,
        cwd: None,
        observer: None,
        gate,
    };
    crate::runtime::current_thread()
        .unwrap()
        .block_on(runner.run(exec))
}

fn arrived(stdin: &[u8], limits: Limits) -> Option<Box<dyn JobGate>> {
    Some(Box::new(InPlace(Arrived {
        stdin: Some(stdin.to_vec()),
        limits,
    })))
}

#[test]
fn the_job_is_asked_for_once_and_gets_its_stdin() {
    let limits = job_limits(1_000_000_000, 16);
    let o = run(
        "await-job",
        &module_text(true, 0, 10, 10),
        arrived(b"hello", limits),
        limits,
    );
    // First answer 0, second -1 (one job per store), 5 bytes of stdin.
    assert_eq!((o.status, o.exit_code), (Status::Error, Some(5)), "{o:?}");
}

#[test]
fn without_a_gate_the_door_says_no_host_and_the_job_is_in_place() {
    let limits = job_limits(1_000_000_000, 16);
    let o = run("await-job", &module_text(true, 0, 10, 10), None, limits);
    assert_eq!(o.exit_code, Some(-1000), "{o:?}");
}

#[test]
fn a_spinning_job_gets_its_whole_fuel_not_what_the_start_up_left() {
    // The start-up burns ~3 times the job's budget before it asks; the job then spins.
    let fuel = 10_000_000;
    let limits = job_limits(fuel, 16);
    for (prepare, init_burn, run_burn) in [
        ("await-job", 10, 10_000_000),
        ("await-job", 10_000_000, 10_000_000),
        ("initialize", 10_000_000, 10),
    ] {
        let o = run(
            prepare,
            &module_text(true, 0, init_burn, run_burn),
            arrived(b"spin", limits),
            limits,
        );
        assert_eq!(o.status, Status::Timeout, "{prepare}: {o:?}");
        assert!(o.message.contains("whole CPU budget"), "{prepare}: {o:?}");
        assert_eq!(o.fuel_used, fuel, "{prepare}: {o:?}");
    }
    // Unprepared, the same start-up comes out of the job's budget: it never gets to ask.
    let o = run(
        "none",
        &module_text(true, 0, 10, 10_000_000),
        arrived(b"spin", limits),
        limits,
    );
    assert_eq!(o.status, Status::Timeout, "{o:?}");
    let o = run("none", &module_text(true, 0, 10, 10_000_000), None, limits);
    assert_eq!(o.status, Status::Timeout, "{o:?}");
}

#[test]
fn waiting_for_the_job_is_not_the_job_s_time() {
    // The job may run 1 s; its sandbox waited 1.5 s for it.
    let limits = job_limits(1_000_000_000, 16);
    let gate = Slow(
        Duration::from_millis(1500),
        Arrived {
            stdin: None,
            limits,
        },
    );
    let o = run(
        "await-job",
        &module_text(true, 0, 10, 10),
        Some(Box::new(gate)),
        limits,
    );
    assert_eq!((o.status, o.exit_code), (Status::Ok, Some(0)), "{o:?}");
}

#[test]
fn a_job_smaller_than_the_prepared_runtime_is_refused_clearly() {
    // The start-up holds 2 + 30 pages (2 MiB); the job allows 1 MiB.
    let limits = job_limits(1_000_000_000, 1);
    let o = run(
        "await-job",
        &module_text(true, 30, 10, 10),
        arrived(b"", limits),
        limits,
    );
    assert_eq!(o.status, Status::MemoryLimit, "{o:?}");
    assert!(o.message.contains("already holds 2 MiB"), "{}", o.message);
    assert!(o.message.contains("limit of 1 MiB"), "{}", o.message);
}

#[test]
fn memory_the_start_up_holds_stays_counted_in_the_job_s_limit() {
    let limits = job_limits(1_000_000_000, 2);
    let o = run(
        "await-job",
        &module_text(true, 30, 10, 10),
        arrived(b"", limits),
        limits,
    );
    assert_eq!((o.status, o.exit_code), (Status::Ok, Some(0)), "{o:?}");
    assert_eq!(o.peak_memory_bytes, 32 * 65536, "{o:?}");
}

#[test]
fn a_start_up_that_never_asks_is_a_sandbox_error() {
    let limits = job_limits(1_000_000_000, 16);
    let o = run(
        "await-job",
        &module_text(false, 0, 10, 10),
        arrived(b"", limits),
        limits,
    );
    assert_eq!(o.status, Status::SandboxError, "{o:?}");
    assert!(
        o.message.contains("without asking for its job"),
        "{}",
        o.message
    );
}
