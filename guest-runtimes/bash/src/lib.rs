//! nestbox's bash plugin: a WASI preview 1 reactor running one script with bashkit.
//!
//! The host calls `_initialize`, then [`run`], whose return value is the script's exit status.
//! WASI argv is `["bash", "/code/main.sh", args...]` (messages and `$0` call it `main.sh`); the script runs in `$NESTBOX_CWD` (`/work`),
//! with `/work`, `/tmp` (read-write) and `/code` (read-only) mapped to the preopened directories,
//! and every command bashkit does not implement is asked of the host (see `hostcall.rs`).

mod coreutils;
mod hostcall;
mod hostfs;

use bashkit::{
    Bash, ExecOptions, ExecutionLimits, FileSystem, MemoryLimits, PosixFs, ReadOnlyFs,
    SessionLimits,
};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

/// Where the host puts the code file.
const CODE_DIR: &str = "/code/";
/// Where the script runs when the host does not say (`NESTBOX_CWD`).
const DEFAULT_CWD: &str = "/work";
/// Exit status for a script that cannot be read, as bash gives for a missing file.
const STATUS_NOT_FOUND: i32 = 127;
/// Exit status for bashkit's own failures (limits, internal errors): bash's "misuse" status.
const STATUS_SHELL_ERROR: i32 = 2;

/// Runs the script named by argv[1]; returns its exit status (0..=255).
///
/// Never calls `exit`: Wasmtime traps on a WASI exit status >= 126, so the status is returned.
#[unsafe(no_mangle)]
pub extern "C" fn run() -> i32 {
    let status = run_script();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    status & 0xff
}

fn run_script() -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let Some(script_path) = args.get(1).cloned() else {
        eprintln!("bash: nestbox: no script path in argv");
        return STATUS_SHELL_ERROR;
    };
    let script = match std::fs::read(&script_path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("bash: {script_path}: {}", io_message(&e));
            return STATUS_NOT_FOUND;
        }
    };

    // The name bash's messages and `$0` give the script: the host's code file is named as the
    // user knows it (`main.sh`, as `bash main.sh` would), not by the folder nestbox puts it in.
    let shown = match script_path.strip_prefix(CODE_DIR) {
        Some(name) if !name.contains('/') => name.to_string(),
        _ => script_path.clone(),
    };
    hostcall::set_script(&shown, &script);

    let mut cwd = DEFAULT_CWD.to_string();
    let mut env = Vec::new();
    for (k, v) in std::env::vars() {
        if k == "NESTBOX_CWD" {
            cwd = v;
        } else {
            env.push((k, v));
        }
    }

    let mut stdin = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut stdin);

    let mut builder = Bash::builder()
        .limits(limits())
        .session_limits(SessionLimits::unlimited())
        .memory_limits(MemoryLimits::unlimited())
        .command_resolver(Arc::new(hostcall::HostResolver))
        .command("sleep", coreutils::Sleep)
        .command("yes", coreutils::Yes)
        .command("seq", coreutils::Seq)
        .command("head", coreutils::Head)
        .cwd(&cwd);
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    let mut bash = builder.build();
    for (guest, writable) in [("/work", true), ("/tmp", true), ("/code", false)] {
        let fs: Arc<dyn FileSystem> = Arc::new(PosixFs::new(hostfs::HostDir::new(guest, writable)));
        let fs: Arc<dyn FileSystem> = if writable {
            fs
        } else {
            Arc::new(ReadOnlyFs::new(fs))
        };
        if let Err(e) = bash.mount(guest, fs) {
            eprintln!("bash: nestbox: cannot mount {guest}: {e}");
            return STATUS_SHELL_ERROR;
        }
    }

    let mut options = ExecOptions::new()
        .arg0(shown.clone())
        .positional(args.iter().skip(2).cloned());
    if !stdin.is_empty() {
        options = options.stdin(stdin);
    }

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bash: nestbox: cannot start the runtime: {e}");
            return STATUS_SHELL_ERROR;
        }
    };
    let result = runtime.block_on(async {
        bash.execute(&script)
            .stdout_fn(|bytes| async move { write_all(&mut std::io::stdout().lock(), &bytes) })
            .stderr_fn(|bytes| async move { write_all(&mut std::io::stderr().lock(), &bytes) })
            .options(options)
            .await
    });
    match result {
        Ok(r) => r.exit_code,
        Err(e) => {
            let _ = std::io::stdout().flush();
            if let Some(report) = e.syntax_report(&shown, &script) {
                eprint!("{report}");
                return 2;
            }
            eprintln!("{shown}: {e}");
            STATUS_SHELL_ERROR
        }
    }
}

fn write_all(out: &mut dyn Write, bytes: &[u8]) -> bashkit::Result<()> {
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// bashkit's own limits are lifted: the host bounds time (epoch), CPU (fuel), memory
/// (linear-memory limit) and output. What stays bounds native recursion and parser work.
fn limits() -> ExecutionLimits {
    let mut l = ExecutionLimits::cli();
    l.max_work_units = u64::MAX;
    l.max_aggregate_input_bytes = u64::MAX;
    l.max_live_intermediate_bytes = u64::MAX;
    l.max_commands = usize::MAX;
    l.max_loop_iterations = usize::MAX;
    l.max_total_loop_iterations = usize::MAX;
    l.timeout = Duration::from_secs(100 * 365 * 24 * 3600);
    l.parser_timeout = Duration::from_secs(100 * 365 * 24 * 3600);
    l.max_input_bytes = 64 << 20;
    l.max_parser_operations = 100_000_000;
    l.max_stdout_bytes = usize::MAX / 4;
    l.max_stderr_bytes = usize::MAX / 4;
    l.max_word_split_fields = usize::MAX;
    l.max_word_split_bytes = usize::MAX / 4;
    l.max_history_entries = 0;
    // Recursion is bounded by the stack check in the vendored bashkit (and memory, fuel).
    l.max_function_depth = usize::MAX;
    l
}

/// The strerror text bash prints for an I/O error.
fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        std::io::ErrorKind::IsADirectory => "Is a directory".into(),
        _ => e.to_string(),
    }
}
