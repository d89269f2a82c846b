//! `nestbox run`: one execution from the command line.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use super::progress::Compiling;
use crate::execute::{Isolation, Nestbox, RunOptions};
use crate::job::{self, InputFile, InvalidInput, Job};
use crate::result::{RunResult, Status};
use crate::runner::output::{OutputObserver, StreamKind};
use crate::server::client;
use crate::settings::{self, ProcessEnv};

const AFTER_HELP: &str = "\
The code comes from --code, --file, or standard input (in that order).

Exit codes:
  0 OK             the code exited with status 0
  1 ERROR          the code exited with another status, or hit a runtime error
  2 INVALID_INPUT  the request was wrong (message says what to change); nothing ran
  3 TIMEOUT        the wall-clock limit or the CPU budget ran out
  4 MEMORY_LIMIT   the code wanted more memory than its limit
  5 OUTPUT_LIMIT   the code wrote more than the output cap (first part kept)
  6 SANDBOX_ERROR  the sandbox could not run the code (message names the cause and fix)
  7 STORAGE_ERROR  the code ran but its files could not be kept
The code's own exit status is the result's exit_code (see --json).

Limits asked for here may only tighten the operator's (MAX_RUNTIME_SECONDS,
MAX_RAM_MEGABYTES); a larger request is clamped to the operator's limit and noted.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct RunArgs {
    /// The language: a plugin name or alias (python, python3, py, bash, sh, ...).
    #[arg(long, short = 'l', value_name = "LANG")]
    lang: String,
    /// The code to run.
    #[arg(long, short = 'c', value_name = "CODE", conflicts_with = "file")]
    code: Option<String>,
    /// Read the code from this file.
    #[arg(long, short = 'f', value_name = "PATH")]
    file: Option<PathBuf>,
    /// Give this file's content to the code on its standard input (text).
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// Copy this file into /work (read-only) before the code runs; repeat for more.
    #[arg(long = "input-file", value_name = "PATH")]
    input_files: Vec<PathBuf>,
    /// Wall-clock limit in seconds (may only be lower than the operator's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    max_runtime_seconds: Option<String>,
    /// Memory limit in MiB (may only be lower than the operator's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    max_ram_mb: Option<String>,
    /// Keep the files the code leaves in /work in this user's storage (under
    /// WEB_ACCESSIBLE_DIRECTORY_PATH, with per-user quotas); each kept file gets a URL.
    #[arg(long, value_name = "USER_ID")]
    keep_files_for: Option<String>,
    /// Print the result as one JSON object (the contract in the README) instead of the output.
    #[arg(long)]
    json: bool,
    /// UNSAFE, for development: run with Wasmtime only, without the gVisor sandbox.
    #[arg(long, conflicts_with = "server")]
    no_gvisor: bool,
    /// Run through a `nestbox serve` (its unix socket path, or http://127.0.0.1:PORT): warm
    /// sandboxes, tens of milliseconds. The token comes from --token-file, NESTBOX_SERVER_TOKEN,
    /// or the server's <state dir>/serve.token.
    #[arg(long, value_name = "PATH_OR_URL")]
    server: Option<String>,
    /// The file holding the server's bearer token.
    #[arg(long, value_name = "FILE", requires = "server")]
    token_file: Option<PathBuf>,
    /// When the server cannot be reached (not when it refuses), run in a fresh sandbox here.
    #[arg(long, requires = "server")]
    fallback_to_cold: bool,
}

pub fn run(config: Option<&Path>, args: RunArgs) -> i32 {
    let json = args.json;
    // One runtime for the run and its teardown, which may still be going when the answer is out.
    let runtime = super::runtime();
    let (result, local) = execute(&runtime, config, args);
    if json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &result);
        let _ = writeln!(out);
    } else {
        // A local run's output reached the terminal live; a server's arrives with the result.
        if local.is_none() {
            let _ = std::io::stdout().write_all(result.stdout.as_bytes());
            let _ = std::io::stderr().write_all(result.stderr.as_bytes());
        }
        report_text(&result);
    }
    // The answer is out; now wait for the sandbox's teardown before exiting.
    if let Some(nestbox) = local {
        runtime.block_on(nestbox.finish_teardowns());
    }
    result.status.exit_code()
}

/// Run the job; also returns the local `Nestbox` when it ran here (its teardowns to wait for).
fn execute(
    runtime: &tokio::runtime::Runtime,
    config: Option<&Path>,
    args: RunArgs,
) -> (RunResult, Option<Nestbox>) {
    let not_run = |status, message: String| (RunResult::not_run(status, message), None);
    let loaded = match settings::load(config, &ProcessEnv) {
        Ok(s) => s,
        Err(e) => return not_run(Status::InvalidInput, e.to_string()),
    };
    let job = match job_from_args(&args) {
        Ok(j) => j,
        Err(e) => return not_run(Status::InvalidInput, e.0),
    };
    let mut fallback_notice = None;
    if let Some(server) = &args.server {
        match remote(runtime, &loaded, &args, server, job.clone()) {
            Ok(result) => return (result, None),
            // Only a server that cannot be reached is replaced by a local run; one that answers
            // (a wrong token, a refusal) has said no.
            Err(e @ client::ClientError::Unreachable { .. }) if args.fallback_to_cold => {
                fallback_notice = Some(format!(
                    "{e}; ran in a fresh sandbox instead (--fallback-to-cold)"
                ));
            }
            Err(e @ client::ClientError::Unreachable { .. }) => {
                return not_run(
                    Status::SandboxError,
                    format!(
                        "{e}. fix: start `nestbox serve`, or drop --server, or add --fallback-to-cold"
                    ),
                );
            }
            Err(e) => return not_run(Status::SandboxError, e.to_string()),
        }
    }
    let nestbox = match Nestbox::open(loaded) {
        Ok(n) => n,
        Err(e) => return not_run(Status::SandboxError, e.to_string()),
    };
    let observer: Option<Arc<dyn OutputObserver>> =
        (!args.json).then(|| Arc::new(LiveOutput) as Arc<dyn OutputObserver>);
    let isolation = if args.no_gvisor {
        Isolation::WasmtimeOnly
    } else {
        Isolation::Gvisor
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let opts = RunOptions {
        isolation,
        observer,
        progress: Arc::new(Compiling::default()),
        cancel: Some(cancel.clone()),
        pool: None,
    };
    let result = runtime.block_on(async {
        // SIGTERM or SIGINT: kill the sandbox and clean up, then report; never leave it behind.
        tokio::spawn(async move {
            stop_signal().await;
            cancel.store(true, Ordering::Relaxed);
            if isolation == Isolation::WasmtimeOnly {
                // The in-process runner has no sandbox to kill: just stop.
                std::process::exit(130);
            }
        });
        let mut result = nestbox.execute(job, &opts).await;
        result.notices.extend(fallback_notice);
        result
    });
    (result, Some(nestbox))
}

/// Send the job to a `nestbox serve`. Errors only when the server cannot be used at all.
fn remote(
    runtime: &tokio::runtime::Runtime,
    loaded: &crate::settings::LoadedSettings,
    args: &RunArgs,
    server: &str,
    job: Job,
) -> Result<RunResult, client::ClientError> {
    let token = match &args.token_file {
        Some(f) => std::fs::read_to_string(f).map_err(|e| {
            client::ClientError::Job(format!("reading the token file {}: {e}", f.display()))
        })?,
        None => match std::env::var("NESTBOX_SERVER_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t,
            _ => {
                let path = crate::server::default_token_path(&loaded.settings.state_dir);
                std::fs::read_to_string(&path).map_err(|e| {
                    client::ClientError::Job(format!(
                        "no token for the server: set NESTBOX_SERVER_TOKEN or --token-file \
                         (the server's own {} could not be read: {e})",
                        path.display()
                    ))
                })?
            }
        },
    };
    let job = match client::api_job(job) {
        Ok(j) => j,
        Err(e) => return Ok(RunResult::not_run(Status::InvalidInput, e.to_string())),
    };
    runtime.block_on(client::run(server, token.trim(), &job))
}

/// Resolves on SIGTERM or SIGINT.
pub(crate) async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn job_from_args(args: &RunArgs) -> Result<Job, InvalidInput> {
    let code = match (&args.code, &args.file) {
        (Some(c), _) => c.clone(),
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|e| {
                InvalidInput(format!("cannot read the code file {}: {e}", path.display()))
            })?;
            job::code_from_bytes(bytes, &format!("the code file {}", path.display()))?
        }
        (None, None) => {
            if std::io::stdin().is_terminal() {
                return Err(InvalidInput(
                    "no code given; pass --code CODE, --file PATH, or pipe the code on standard input"
                        .into(),
                ));
            }
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(job::MAX_CODE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| InvalidInput(format!("reading the code from standard input: {e}")))?;
            job::code_from_bytes(bytes, "the code on standard input")?
        }
    };
    let stdin = match &args.stdin {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                InvalidInput(format!(
                    "cannot read the --stdin file {}: {e}",
                    path.display()
                ))
            })?;
            Some(String::from_utf8(bytes).map_err(|_| {
                InvalidInput(format!(
                    "the --stdin file {} is not UTF-8 text; pass binary data with --input-file",
                    path.display()
                ))
            })?)
        }
    };
    let input_files = args
        .input_files
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    InvalidInput(format!("--input-file {} has no file name", p.display()))
                })?;
            if !p.is_file() {
                return Err(InvalidInput(format!(
                    "--input-file {} is not a readable regular file",
                    p.display()
                )));
            }
            Ok(InputFile {
                name,
                source_path: Some(p.clone()),
                content_base64: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Job {
        language: args.lang.clone(),
        code,
        stdin,
        max_runtime_seconds: args
            .max_runtime_seconds
            .as_deref()
            .map(|v| job::parse_limit(v, "--max-runtime-seconds", "seconds"))
            .transpose()?,
        max_ram_mb: args
            .max_ram_mb
            .as_deref()
            .map(|v| job::parse_limit(v, "--max-ram-mb", "MiB"))
            .transpose()?,
        input_files,
        keep_files_for_user: args.keep_files_for.clone(),
    })
}

/// Copies output to the terminal as the code produces it.
struct LiveOutput;

impl OutputObserver for LiveOutput {
    fn output(&self, stream: StreamKind, bytes: &[u8]) {
        let _ = match stream {
            StreamKind::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(bytes).and_then(|_| o.flush())
            }
            StreamKind::Stderr => {
                let mut e = std::io::stderr().lock();
                e.write_all(bytes).and_then(|_| e.flush())
            }
        };
    }
}

/// After live output: a status line for anything but a clean exit, notices, and the files.
fn report_text(r: &RunResult) {
    // Output reached the terminal live, unless the run never started (then there is none).
    let mut err = std::io::stderr().lock();
    for n in &r.notices {
        let _ = writeln!(err, "nestbox: note: {n}");
    }
    if r.status != Status::Ok {
        let _ = writeln!(err, "nestbox: {}: {}", r.status, r.message);
    }
    for f in &r.files {
        let _ = writeln!(err, "nestbox: file /work/{} ({} bytes)", f.path, f.size);
    }
}
