//! The result contract and the inner wall's limits, through the real binary and the real sandbox.

use crate::util::{Env, copy_python_plugin, sha256_hex};

#[test]
fn print_is_ok_with_the_whole_contract() {
    let r = Env::new().python("print('hi')", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.out(), "hi\n");
    assert_eq!(r.err(), "");
    let j = &r.json;
    assert_eq!(j["exit_code"], 0);
    assert_eq!(j["stdout_truncated"], false);
    assert_eq!(j["plugin"]["name"], "python");
    assert_eq!(j["plugin"]["version"], "3.15.0");
    assert_eq!(
        j["plugin"]["sha256"],
        "879bdb628a1a799dc3a6d1a645fee0f88944bf4cdf5e1628e0e1d2b4b33d28d3"
    );
    assert_eq!(j["sandbox"]["outer"], "gvisor");
    assert_eq!(j["sandbox"]["inner"], "wasmtime");
    assert_eq!(j["sandbox"]["network"], "none");
    assert_eq!(j["limits"]["max_runtime_seconds"], 30.0);
    assert_eq!(j["limits"]["max_ram_mb"], 256);
    assert_eq!(j["limits"]["enforced"], true);
    // The job's own fuel only (the interpreter started before it): small, but real.
    let fuel = j["fuel_used"].as_u64().unwrap();
    assert!((10_000..50_000_000).contains(&fuel), "{fuel}");
    // The interpreter's linear memory: some MiB, within the 256 MiB limit.
    let peak = j["peak_memory_bytes"].as_u64().unwrap();
    assert!((1 << 20..=256 << 20).contains(&peak), "{peak}");
    assert_eq!(j["files"], serde_json::json!([]));
    assert_eq!(j["execution_id"].as_str().unwrap().len(), 36);
}

#[test]
fn peak_memory_counts_what_the_code_allocated() {
    let r = Env::new().python("b = bytearray(100 * 1024 * 1024)\nprint(len(b))", &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    let peak = r.json["peak_memory_bytes"].as_u64().unwrap();
    assert!((100 << 20..=256 << 20).contains(&peak), "{peak}");
}

#[test]
fn syntax_error_is_error_with_the_traceback() {
    let r = Env::new().python("print(", &[]);
    assert_eq!(r.status(), "ERROR", "{r:?}");
    assert_eq!(r.code, 1);
    assert_eq!(r.json["exit_code"], 1);
    assert!(
        r.err().contains("SyntaxError: '(' was never closed"),
        "{r:?}"
    );
}

#[test]
fn exit_codes_are_reported_as_they_are() {
    let env = Env::new();
    let r = env.python("raise SystemExit(3)", &[]);
    assert_eq!(
        (r.status(), r.json["exit_code"].as_i64()),
        ("ERROR", Some(3)),
        "{r:?}"
    );
    // Above 125 (which WASI's own proc_exit refuses) too.
    let r = env.python("import sys; sys.exit(200)", &[]);
    assert_eq!(r.json["exit_code"], 200, "{r:?}");
}

#[test]
fn busy_loop_is_stopped_by_the_wall_clock_under_the_default_budget() {
    let r = Env::new().python("while True: pass", &["--max-runtime-seconds", "2"]);
    assert_eq!(r.status(), "TIMEOUT", "{r:?}");
    assert_eq!(r.code, 3);
    assert!(r.json["exit_code"].is_null());
    // The calibrated budget is about 2 s of CPU: on a fast machine the fuel runs out first, on a
    // slow or busy one the deadline comes first. Either is a TIMEOUT that names its limit.
    assert!(
        r.message().contains("ran longer than its limit of 2 s")
            || r.message().contains("used its whole CPU budget"),
        "{r:?}"
    );
}

#[test]
fn fuel_meters_a_call_free_loop_and_stops_it_at_the_budget() {
    // `while True: pass` makes no calls, so Wasmtime keeps its fuel count in a register until
    // the budget runs out; fuel still stops it. A plugin copy calibrated at 2e8 fuel per second
    // gives 5 s a budget of 1e9 fuel, which the loop spends well before the deadline.
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    let manifest = plugin.join("plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replace(
        "fuel_per_cpu_second = 7_200_000_000",
        "fuel_per_cpu_second = 200_000_000",
    );
    assert!(text.contains("= 200_000_000"), "the calibration line moved");
    std::fs::write(&manifest, text).unwrap();
    let r = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .python("while True: pass", &["--max-runtime-seconds", "5"]);
    assert_eq!(r.status(), "TIMEOUT", "{r:?}");
    assert_eq!(r.json["limits"]["fuel"], 1_000_000_000u64);
    assert!(r.message().contains("whole CPU budget"), "{r:?}");
    assert_eq!(r.json["fuel_used"], 1_000_000_000u64, "{r:?}");
}

#[test]
fn sleep_is_cut_at_the_limit_and_output_before_it_is_kept() {
    let r = Env::new().python(
        "import time\nprint('before', flush=True)\ntime.sleep(100)\nprint('after')",
        &["--max-runtime-seconds", "3"],
    );
    assert_eq!(r.status(), "TIMEOUT", "{r:?}");
    assert_eq!(r.out(), "before\n");
    assert!(
        r.message().contains("ran longer than its limit of 3 s"),
        "{r:?}"
    );
}

#[test]
fn large_allocation_is_memory_limit() {
    let r = Env::new().python(
        "print('start', flush=True)\nx = bytearray(512 * 1024 * 1024)",
        &["--max-ram-mb", "128"],
    );
    assert_eq!(r.status(), "MEMORY_LIMIT", "{r:?}");
    assert_eq!(r.code, 4);
    assert_eq!(r.out(), "start\n");
    assert!(r.err().contains("MemoryError"), "{r:?}");
}

#[test]
fn output_flood_keeps_the_first_mebibyte() {
    let r = Env::new().python(
        "import sys\nsys.stderr.write('e')\nsys.stdout.write('x' * (10 * 1024 * 1024))",
        &[],
    );
    assert_eq!(r.status(), "OUTPUT_LIMIT", "{r:?}");
    assert_eq!(r.code, 5);
    assert_eq!(r.out().len(), 1024 * 1024);
    assert!(r.out().bytes().all(|b| b == b'x'));
    assert_eq!(r.json["stdout_truncated"], true);
    assert_eq!(r.err(), "e", "stderr is kept too");
}

#[test]
fn runaway_recursion_is_an_ordinary_error() {
    let r = Env::new().python("def f(n):\n    return f(n + 1)\nf(0)", &[]);
    assert_eq!(r.status(), "ERROR", "{r:?}");
    assert!(r.err().contains("RecursionError"), "{r:?}");
}

#[test]
fn files_left_in_work_are_listed_relative_paths_work() {
    let code = r#"import os
print(os.getcwd())
open("out.csv", "w").write("a,b\n1,2\n")
os.makedirs("sub")
with open("sub/data.bin", "wb") as f:
    f.write(bytes(range(256)))
"#;
    let r = Env::new().python(code, &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.out(), "/work\n");
    let files = r.json["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0]["path"], "out.csv");
    assert_eq!(files[0]["size"], 8);
    assert_eq!(files[0]["sha256"], sha256_hex(b"a,b\n1,2\n"));
    assert_eq!(files[1]["path"], "sub/data.bin");
    assert_eq!(
        files[1]["sha256"],
        sha256_hex(&(0..=255u8).collect::<Vec<_>>())
    );
}

#[test]
fn host_files_are_out_of_reach() {
    let r = Env::new().python(
        "import os\nfor p in ['/etc/passwd', '../etc/passwd', '/proc/self/environ']:\n    try:\n        print(open(p).read()[:20])\n    except OSError as e:\n        print('refused', p, type(e).__name__)",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    assert!(!r.out().contains("root:"), "{r:?}");
    assert_eq!(r.out().matches("refused").count(), 3, "{r:?}");
}

#[test]
fn stdin_and_input_files_reach_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "line one\nline two\n").unwrap();
    let data = dir.path().join("data.csv");
    std::fs::write(&data, "x,y\n3,4\n").unwrap();
    let r = Env::new().python(
        "import sys\nprint(len(sys.stdin.readlines()))\nprint(open('data.csv').read().splitlines()[1])\ntry:\n    open('data.csv', 'w')\n    print('writable')\nexcept OSError:\n    print('read-only')",
        &[
            "--stdin",
            input.to_str().unwrap(),
            "--input-file",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.out(), "2\n3,4\nread-only\n");
    assert_eq!(
        r.json["files"],
        serde_json::json!([]),
        "inputs are not outputs"
    );
}

#[test]
fn no_stdin_reads_end_of_file() {
    let r = Env::new().python("import sys; print(repr(sys.stdin.read()))", &[]);
    assert_eq!(r.out(), "''\n", "{r:?}");
}

#[test]
fn a_larger_request_is_clamped_and_noted() {
    let r = Env::new().python(
        "print(1)",
        &["--max-runtime-seconds", "500", "--max-ram-mb", "9999"],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.json["limits"]["max_runtime_seconds"], 30.0);
    assert_eq!(r.json["limits"]["max_ram_mb"], 256);
    assert!(r.notices().contains("clamped to 30"), "{}", r.notices());
    let r = Env::new()
        .with("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "4")
        .python("print(1)", &["--max-runtime-seconds", "2"]);
    assert_eq!(r.json["limits"]["max_runtime_seconds"], 2.0, "{r:?}");
}

#[test]
fn code_from_a_file_and_from_stdin() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.py");
    std::fs::write(&f, "print('from file')").unwrap();
    let r = env.run(&["--lang", "py", "--file", f.to_str().unwrap()]);
    assert_eq!(r.out(), "from file\n", "{r:?}");
    let r = env.run_with_stdin(&["--lang", "python3"], Some(b"print('from stdin')"));
    assert_eq!(r.out(), "from stdin\n", "{r:?}");
}

#[test]
fn text_mode_prints_output_and_exits_with_the_status_code() {
    let out = Env::new().output(
        &[
            "run",
            "--lang",
            "python",
            "--code",
            "print('plain'); raise SystemExit(2)",
        ],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "plain\n");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ERROR: the code exited with status 2"),
        "{err}"
    );
}

#[test]
fn wasmtime_only_mode_works_and_says_it_is_unsafe() {
    let r = Env::new().python("print('inner only')", &["--no-gvisor"]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.json["sandbox"]["outer"], "none");
    assert_eq!(r.json["limits"]["enforced"], false);
    assert!(r.notices().contains("UNSAFE"), "{}", r.notices());
}

#[test]
fn bad_requests_are_invalid_input_with_a_way_out() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.py");
    std::fs::write(&big, "#".repeat(1024 * 1024 + 1)).unwrap();
    let latin1 = dir.path().join("latin1.py");
    std::fs::write(&latin1, b"print('caf\xe9')").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--lang", "cobol", "--code", "x"],
            "installed: bash (sh, shell), python (python3, py)",
        ),
        (
            vec!["--lang", "python", "--code", "  \n"],
            "the code is empty",
        ),
        (
            vec!["--lang", "python", "--file", big.to_str().unwrap()],
            "1 MiB",
        ),
        (
            vec!["--lang", "python", "--file", latin1.to_str().unwrap()],
            "not valid UTF-8",
        ),
        (
            vec!["--lang", "python", "--file", "/nonexistent.py"],
            "cannot read the code file",
        ),
        (
            vec![
                "--lang",
                "python",
                "--code",
                "1",
                "--max-runtime-seconds",
                "0",
            ],
            "must be a positive number",
        ),
        (
            vec![
                "--lang",
                "python",
                "--code",
                "1",
                "--max-runtime-seconds",
                "-3",
            ],
            "must be a positive number",
        ),
        (
            vec!["--lang", "python", "--code", "1", "--max-ram-mb", "lots"],
            "is not a number",
        ),
        (
            vec!["--lang", "python", "--code", "1", "--max-ram-mb", "1"],
            "needs at least 64 MiB",
        ),
    ];
    for (args, want) in cases {
        let r = env.run(&args);
        assert_eq!(r.status(), "INVALID_INPUT", "{args:?}: {r:?}");
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.message().contains(want),
            "{args:?}: want {want:?} in {:?}",
            r.message()
        );
    }
}

#[test]
fn malformed_settings_name_the_variable() {
    for (var, value, want) in [
        (
            "CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS",
            "abc",
            "whole number",
        ),
        (
            "CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES",
            "0",
            "at least 1",
        ),
        ("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "perhaps", "true or false"),
        ("NESTBOX_GVISOR_PLATFORM", "warp", "unknown gVisor platform"),
    ] {
        let r = Env::new().with(var, value).python("print(1)", &[]);
        assert_eq!(r.status(), "INVALID_INPUT", "{var}: {r:?}");
        assert!(r.message().contains(var), "{var}: {}", r.message());
        assert!(r.message().contains(want), "{var}: {}", r.message());
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nestbox.toml");
    std::fs::write(&file, "max_runtime = 5\n").unwrap();
    let r = Env::new()
        .with("NESTBOX_CONFIG", file.to_str().unwrap())
        .python("print(1)", &[]);
    assert_eq!(r.status(), "INVALID_INPUT", "{r:?}");
    assert!(r.message().contains("max_runtime"), "{}", r.message());
}

#[test]
fn a_config_file_sets_operator_limits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nestbox.toml");
    std::fs::write(&file, "max_runtime_seconds = 7\nmax_ram_megabytes = 64\n").unwrap();
    let r = Env::new()
        .with("NESTBOX_CONFIG", file.to_str().unwrap())
        .python("print(1)", &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.json["limits"]["max_runtime_seconds"], 7.0);
    assert_eq!(r.json["limits"]["max_ram_mb"], 64);
}

#[test]
fn the_files_list_is_capped_and_says_how_many_were_left_out() {
    let env = Env::new();
    // More files than the list holds.
    let r = env.python(
        "for i in range(1200):\n    open(f'f{i:04d}.txt', 'w').close()",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    let files = r.json["files"].as_array().unwrap();
    assert_eq!(files.len(), 1000, "{}", r.notices());
    assert_eq!(files[0]["path"], "f0000.txt");
    assert_eq!(r.json["files_omitted"], 200);
    assert!(
        r.notices()
            .contains("200 more file(s) in /work are not listed"),
        "{}",
        r.notices()
    );
    // Few files, but ~3.9 KB names each: the names' total is capped too.
    let r = env.python(
        "import os\nd = '/'.join(['d' * 250] * 15)\nos.makedirs(d)\nfor i in range(100):\n    open(f'{d}/{i:03d}' + 'n' * 100, 'w').close()",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    let files = r.json["files"].as_array().unwrap();
    let name_bytes: usize = files
        .iter()
        .map(|f| f["path"].as_str().unwrap().len())
        .sum();
    assert!(name_bytes <= 256 * 1024, "{name_bytes} bytes of names");
    assert!(!files.is_empty() && files.len() < 100, "{}", files.len());
    assert_eq!(
        r.json["files_omitted"].as_u64().unwrap() + files.len() as u64,
        100
    );
}

/// Run `nestbox ARGS` with `stdin`, killing it if it is still running after a generous guard
/// (a hang fails the test instead of blocking it). No assertion is made on the time taken.
fn run_guarded(env: &Env, args: &[&str], stdin: std::process::Stdio) -> crate::util::Run {
    use std::process::Stdio;
    let mut child = env
        .cmd()
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if guard.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nestbox {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::util::Run::from(child.wait_with_output().unwrap())
}

#[test]
fn devices_and_fifos_are_refused_as_input_without_reading_them() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let fifo = fifo.to_str().unwrap();
    for (flag, path, kind) in [
        ("--stdin", "/dev/zero", "character device"),
        ("--stdin", fifo, "FIFO"),
        ("--file", "/dev/zero", "character device"),
        ("--file", fifo, "FIFO"),
        ("--input-file", "/dev/zero", "character device"),
        ("--input-file", fifo, "FIFO"),
    ] {
        let mut args = vec!["run", "--json", "--lang", "python", flag, path];
        if flag != "--file" {
            args.extend(["--code", "print(1)"]);
        }
        let r = run_guarded(&env, &args, std::process::Stdio::null());
        assert_eq!(r.status(), "INVALID_INPUT", "{flag} {path}: {r:?}");
        assert_eq!(r.code, 2);
        assert!(
            r.message().contains(path) && r.message().contains(kind),
            "{flag} {path}: {}",
            r.message()
        );
        assert!(r.message().contains("regular file"), "{}", r.message());
    }
}

#[test]
fn stdin_dash_reads_a_pipe_and_input_files_must_fit_in_work() {
    let env = Env::new();
    let mut child = env
        .cmd()
        .args([
            "run",
            "--json",
            "--lang",
            "python",
            "--stdin",
            "-",
            "--code",
            "import sys; print(len(sys.stdin.readlines()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut s = child.stdin.take().unwrap();
        s.write_all(b"a\nb\nc\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["stdout"], "3\n", "{json}");

    // Refused before standard input is read: the write may meet a closed pipe.
    let mut child = env
        .cmd()
        .args(["run", "--json", "--lang", "python", "--stdin", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(b"print(1)");
    }
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "INVALID_INPUT", "{json}");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("--code or --file"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 2 * 1024 * 1024]).unwrap();
    let r = Env::new()
        .with("NESTBOX_WORK_DIR_MEGABYTES", "1")
        .python("print(1)", &["--input-file", big.to_str().unwrap()]);
    assert_eq!(r.status(), "INVALID_INPUT", "{r:?}");
    assert!(
        r.message().contains("NESTBOX_WORK_DIR_MEGABYTES") && r.message().contains("big.bin"),
        "{}",
        r.message()
    );
}

/// The code's escape sequences: made visible on a terminal (a real pty, through `script`), kept
/// exact when the output is piped; nestbox's own lines quoting a file name are always made safe.
#[test]
fn escape_sequences_are_neutralised_on_a_terminal_only() {
    let env = Env::new();
    let code = "import sys\nsys.stdout.write('A\\x1b]0;pwned\\x07B\\x1b[2JC\\n')\nsys.stderr.write('E\\x1b[31mF\\n')\nopen('x\\x1b[1Ay.txt', 'w').close()";
    // Piped: the exact bytes; the file name in nestbox's own line made visible.
    let out = env.output(&["run", "--lang", "python", "--code", code], None);
    assert_eq!(out.stdout, b"A\x1b]0;pwned\x07B\x1b[2JC\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("E\x1b[31mF\n"), "{err:?}");
    assert!(
        err.contains("nestbox: file /work/x\\x1b[1Ay.txt"),
        "{err:?}"
    );

    // On a terminal: nothing the terminal would interpret.
    let quoted: Vec<String> = [
        crate::util::bin().to_str().unwrap(),
        "run",
        "--lang",
        "python",
        "--code",
        code,
    ]
    .iter()
    .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
    .collect();
    let mut cmd = std::process::Command::new("script");
    cmd.env_clear();
    for k in ["PATH", "HOME", "NESTBOX_CACHE_DIR"] {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    cmd.envs(env.vars.iter().map(|(k, v)| (k, v)));
    let out = cmd
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tty:?}");
    assert!(tty.contains("A\\x1b]0;pwned\\x07B\\x1b[2JC"), "{tty:?}");
    assert!(tty.contains("E\\x1b[31mF"), "{tty:?}");
    assert!(
        tty.contains("nestbox: file /work/x\\x1b[1Ay.txt"),
        "{tty:?}"
    );
    assert!(!tty.contains('\x1b') && !tty.contains('\x07'), "{tty:?}");
}

/// Processes whose command line names `needle` (pid, command line with spaces).
fn processes_naming(needle: &str) -> Vec<(i32, String)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(needle).then_some((pid, cmdline))
        })
        .collect()
}

/// Start `nestbox run --json` with code that marks `/work/started` and sleeps; once the marker
/// shows up on the host, SIGKILL the process `pick` chooses among those naming the run's id.
fn kill_mid_sleep(pick: fn(&[(i32, String)]) -> Option<i32>) -> crate::util::Run {
    let env = Env::new();
    let child = env
        .cmd()
        .args([
            "run",
            "--json",
            "--lang",
            "python",
            "--max-runtime-seconds",
            "60",
            "--code",
            "import time\nprint('up', flush=True)\nopen('started', 'w').close()\ntime.sleep(60)",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runs = env.state_dir().join("runs");
    let started = std::time::Instant::now();
    let id = loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the code never started"
        );
        let found = std::fs::read_dir(&runs)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.path().join("work/started").exists());
        if let Some(e) = found {
            break e.file_name().to_string_lossy().into_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let procs = processes_naming(&id);
    let pid = pick(&procs).unwrap_or_else(|| panic!("no process to kill among {procs:#?}"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    crate::util::Run::from(child.wait_with_output().unwrap())
}

fn assert_killed_from_outside(r: &crate::util::Run) {
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert_eq!(r.code, 6, "{r:?}");
    let m = r.message();
    assert!(m.contains("SIGKILL"), "{m}");
    assert!(m.contains("no out-of-memory kill"), "{m}");
    assert!(
        m.contains("oom_kill 0"),
        "the cgroup's count is quoted: {m}"
    );
    assert_eq!(r.out(), "up\n", "output before the kill is kept");
}

#[test]
fn sigkill_of_the_sandbox_from_outside_is_a_sandbox_error_not_memory() {
    // gVisor's sandbox process (the Sentry, `runsc ... boot ... <id>`): runsc then exits 137.
    let r = kill_mid_sleep(|procs| {
        procs
            .iter()
            .find(|(_, c)| c.contains(" boot ") && !c.contains(" gofer "))
            .map(|(pid, _)| *pid)
    });
    assert_killed_from_outside(&r);
}

#[test]
fn sigkill_of_runsc_from_outside_is_a_sandbox_error_not_memory() {
    // `runsc run` itself, nestbox's child: it dies by signal 9 and takes the sandbox with it.
    let r = kill_mid_sleep(|procs| {
        procs
            .iter()
            .find(|(_, c)| c.contains(" run ") && c.contains("--bundle"))
            .map(|(pid, _)| *pid)
    });
    assert_killed_from_outside(&r);
}

#[test]
fn work_holds_a_bounded_number_of_files_and_says_so_cleanly() {
    // 64 MiB of /work holds at most 16384 entries: the code gets ENOSPC, not the host's memory.
    let r = Env::new().python(
        "import errno\nn = 0\ntry:\n    while n < 100000:\n        open(f'e{n}', 'w').close()\n        n += 1\nexcept OSError as e:\n    print('stopped', n, errno.errorcode[e.errno])\nelse:\n    print('made', n)",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    let out = r.out().trim();
    let n: u64 = out
        .strip_prefix("stopped ")
        .and_then(|rest| rest.strip_suffix(" ENOSPC"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expected 'stopped N ENOSPC', got {out:?}"));
    assert!((1_000..=16_384).contains(&n), "{n} files");
    assert_eq!(
        r.json["files_omitted"].as_u64().unwrap() + 1_000,
        n,
        "{r:?}"
    );
}
