//! The outer wall with the real runsc: cgroup limits, teardown after SIGKILL, concurrency, and
//! clear failures when runsc is missing or broken or limits cannot be enforced.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{Env, own_cgroup, sandbox_cgroup};

/// Leftovers of a run: state dirs, runsc state, cgroup dirs.
fn leftovers(env: &Env) -> Vec<String> {
    let mut found = Vec::new();
    let runs = env.state_dir().join("runs");
    if let Ok(entries) = std::fs::read_dir(&runs) {
        found.extend(
            entries
                .flatten()
                .map(|e| format!("run {}", e.path().display())),
        );
    }
    let out = std::process::Command::new("runsc")
        .arg(format!(
            "--root={}",
            env.state_dir().join("runsc").display()
        ))
        .args(["list", "--quiet"])
        .output();
    if let Ok(out) = out {
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("runsc state {l}")),
        );
    }
    found
}

/// A sandbox's cgroup directories: below this process's own cgroup in each hierarchy (where
/// nestbox puts them), and at each hierarchy's root (where it used to).
fn cgroup_dirs(id: &str) -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| {
            let mount = e.file_name().to_string_lossy().into_owned();
            [
                e.path().join("nestbox").join(id),
                sandbox_cgroup(&mount, id),
            ]
        })
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

#[test]
fn an_allocation_past_the_inner_limit_is_stopped_by_the_cgroup_as_memory_limit() {
    // The code may use 400 MiB of Wasm memory, but the sandbox's cgroup allows only 400 + 1 MiB
    // for everything. Wasmtime's limiter counts linear memory only; freeing a million-deep
    // nested list recurses on the WebAssembly stack (~220 bytes a level, reserved up to 512 MiB,
    // counted by nobody but the kernel): with 200 MiB touched on top, the kernel's OOM killer
    // ends the sandbox.
    let r = Env::new()
        .with("CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES", "400")
        .with("NESTBOX_SANDBOX_MEMORY_OVERHEAD_MEGABYTES", "1")
        .python(
            "print('allocating')
x = bytearray(200 * 1024 * 1024)
for i in range(0, len(x), 4096):
    x[i] = 1
y = []
for _ in range(10**6):
    y = [y]
del y
print('survived')",
            &[],
        );
    assert_eq!(r.status(), "MEMORY_LIMIT", "{r:?}");
    assert!(
        r.message().contains("out-of-memory killer"),
        "{}",
        r.message()
    );
    assert_eq!(r.out(), "allocating\n", "output before the kill is kept");
}

#[test]
fn sigkill_of_nestbox_mid_run_leaves_nothing_after_the_next_start() {
    let env = Env::new();
    let mut child = env
        .cmd()
        .args([
            "run",
            "--lang",
            "python",
            "--code",
            "import time\nprint('up', flush=True)\ntime.sleep(60)",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the code is running (its output came out), then SIGKILL nestbox.
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 3];
    std::io::Read::read_exact(&mut stdout, &mut buf).unwrap();
    assert_eq!(&buf, b"up\n");
    let runs = env.state_dir().join("runs");
    let id = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| !n.ends_with(".lock"))
        .expect("a run directory while running");
    assert!(
        !cgroup_dirs(&id).is_empty(),
        "the sandbox has cgroups while it runs"
    );
    // Its memory cgroup is below the one nestbox runs in (so nestbox's own limit, a pod's,
    // covers it too), and the sandbox's processes are in it.
    if let Some(own) = own_cgroup("memory") {
        let memory = sandbox_cgroup("memory", &id);
        let tasks = std::fs::read_to_string(memory.join("tasks")).unwrap_or_default();
        assert!(
            !tasks.trim().is_empty(),
            "no process in {} (own memory cgroup {own:?}; found {:?})",
            memory.display(),
            cgroup_dirs(&id)
        );
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    // A new run sweeps what the killed one left.
    let r = env.python("print('next')", &[]);
    assert_eq!(r.out(), "next\n", "{r:?}");
    assert!(r.notices().contains("left behind"), "{}", r.notices());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !(leftovers(&env).is_empty() && cgroup_dirs(&id).is_empty())
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(leftovers(&env), Vec::<String>::new());
    assert_eq!(cgroup_dirs(&id), Vec::<String>::new());
}

#[test]
fn twenty_runs_in_parallel_all_succeed() {
    let env = Env::new();
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let mut cmd = env.cmd();
            cmd.args([
                "run",
                "--json",
                "--lang",
                if i % 2 == 0 { "python" } else { "bash" },
                "--code",
                &if i % 2 == 0 {
                    format!("print({i})")
                } else {
                    format!("echo {i}")
                },
            ]);
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let out = h.join().unwrap();
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["status"], "OK", "run {i}: {j}");
        assert_eq!(j["stdout"], format!("{i}\n"), "run {i}");
    }
    assert_eq!(leftovers(&env), Vec::<String>::new());
}

#[test]
fn a_missing_runsc_is_a_sandbox_error_naming_the_fix() {
    let r = Env::new()
        .with("NESTBOX_RUNSC_PATH", "/nonexistent/runsc")
        .python("print(1)", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert_eq!(r.code, 6);
    assert!(
        r.message().contains("/nonexistent/runsc"),
        "{}",
        r.message()
    );
    assert!(
        r.message().contains("nestbox gvisor install"),
        "{}",
        r.message()
    );
    assert_eq!(r.out(), "");
}

fn fake_runsc(dir: &Path, script: &str) -> String {
    let path = dir.join("runsc");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn a_broken_runsc_is_a_sandbox_error_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    // Fails even to say its version.
    let broken = fake_runsc(
        dir.path(),
        "echo 'runsc: cannot execute: Exec format error' >&2; exit 126",
    );
    let r = Env::new()
        .with("NESTBOX_RUNSC_PATH", broken)
        .python("print(1)", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert!(r.message().contains("Exec format error"), "{}", r.message());

    // Knows its version, but cannot start sandboxes (a seam for what the real one can't show).
    let dir = tempfile::tempdir().unwrap();
    let failing = fake_runsc(
        dir.path(),
        r#"case "$*" in *--version*) echo "runsc version fake-20240101.0"; exit 0;; esac
echo "creating container: cannot create sandbox: permission denied" >&2; exit 128"#,
    );
    let r = Env::new()
        .with("NESTBOX_RUNSC_PATH", failing)
        .python("print(1)", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert!(
        r.message()
            .contains("cannot create sandbox: permission denied"),
        "{}",
        r.message()
    );
}

#[test]
fn networking_allowed_is_refused() {
    let r = Env::new()
        .with("CODE_EVAL_VALVE_OVERRIDE_NETWORKING_ALLOWED", "true")
        .python("print(1)", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert!(
        r.message().contains("NETWORKING_ALLOWED"),
        "{}",
        r.message()
    );
    assert!(r.message().contains("127.0.0.1"), "{}", r.message());
}

#[test]
fn without_root_limits_are_refused_unless_waived_and_then_reported() {
    let env = Env::new();
    // The unprivileged user needs its own state dir.
    std::fs::set_permissions(env.state_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let as_nobody = |env: &Env, extra: &[(&str, &str)]| {
        let mut cmd = crate::util::as_nobody(crate::util::bin());
        cmd.args(["run", "--json", "--lang", "python", "--code", "print(1)"]);
        for (k, v) in &env.vars {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        // The root-owned module cache prepared by setup (readable by everyone).
        let cache = std::env::var("NESTBOX_CACHE_DIR").unwrap_or("/var/cache/nestbox".into());
        cmd.env("NESTBOX_CACHE_DIR", cache);
        let out = cmd.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "no JSON: {} / {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    let j = as_nobody(&env, &[]);
    assert_eq!(j["status"], "SANDBOX_ERROR", "{j}");
    let m = j["message"].as_str().unwrap();
    assert!(m.contains("not running as real root"), "{m}");
    assert!(m.contains("REQUIRE_RESOURCE_LIMITING=false"), "{m}");

    let j = as_nobody(
        &env,
        &[(
            "CODE_EVAL_VALVE_OVERRIDE_REQUIRE_RESOURCE_LIMITING",
            "false",
        )],
    );
    // Whether rootless gVisor can run here or not, it is never a silent downgrade.
    if j["status"] == "OK" {
        assert_eq!(j["limits"]["enforced"], false, "{j}");
        assert!(
            j["notices"].to_string().contains("LIMITS NOT ENFORCED"),
            "{j}"
        );
    } else {
        assert_eq!(j["status"], "SANDBOX_ERROR", "{j}");
    }
}

#[test]
fn sigterm_kills_the_sandbox_keeps_the_output_and_cleans_up() {
    let env = Env::new();
    let child = env
        .cmd()
        .args([
            "run",
            "--json",
            "--lang",
            "python",
            "--code",
            "import time\nprint('working', flush=True)\ntime.sleep(60)",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the sandbox exists, then ask nestbox to stop.
    let runs = env.state_dir().join("runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && std::fs::read_dir(&runs).map_or(0, |d| d.count()) == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));
    let asked = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "took {:?}",
        asked.elapsed()
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "SANDBOX_ERROR", "{j}");
    assert!(j["message"].as_str().unwrap().contains("cancelled"), "{j}");
    assert_eq!(j["stdout"], "working\n");
    assert_eq!(leftovers(&env), Vec::<String>::new());
}
