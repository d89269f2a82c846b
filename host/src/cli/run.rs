//! `nestbox run`: one execution from the command line.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use clap::Args;

use super::outcome::CommandResult;
use super::progress::Compiling;
use super::terminal::{Neutraliser, one_line};
use crate::execute::{Isolation, Nestbox, RunOptions};
use crate::job::{self, InputFile, InvalidInput, Job};
use crate::result::{RunResult, Status};
use crate::runner::output::{OutputObserver, StreamKind};
use crate::server::client;
use crate::settings::{self, ProcessEnv};
use crate::workdir::{self, HostFileError};

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

/// The largest token file read.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

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

pub fn run(config: Option<&Path>, args: RunArgs) -> CommandResult {
    let json = args.json;
    // One runtime for the run and its teardown, which may still be going when the answer is out.
    let runtime = super::runtime()?;
    let live = (!json).then(|| Arc::new(LiveOutput::new()));
    let observer = live.clone().map(|l| l as Arc<dyn OutputObserver>);
    let (result, local) = execute(&runtime, config, args, observer);
    if json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &result);
        let _ = writeln!(out);
    } else if let Some(live) = live {
        // A local run's output reached the terminal live; a server's arrives with the result.
        if local.is_none() {
            live.output(StreamKind::Stdout, result.stdout.as_bytes());
            live.output(StreamKind::Stderr, result.stderr.as_bytes());
        }
        live.finish();
        report_text(&result);
    }
    // The answer is out; now wait for the sandbox's teardown before exiting.
    if let Some(nestbox) = local {
        runtime.block_on(nestbox.finish_teardowns());
    }
    Ok(result.status)
}

/// Run the job; also returns the local `Nestbox` when it ran here (its teardowns to wait for).
fn execute(
    runtime: &tokio::runtime::Runtime,
    config: Option<&Path>,
    args: RunArgs,
    observer: Option<Arc<dyn OutputObserver>>,
) -> (RunResult, Option<Nestbox>) {
    let not_run = |status, message: String| (RunResult::not_run(status, message), None);
    let loaded = match settings::load(config, &ProcessEnv) {
        Ok(s) => s,
        Err(e) => return not_run(Status::InvalidInput, e.to_string()),
    };
    let work_bytes = loaded
        .settings
        .work_dir_megabytes
        .saturating_mul(1024 * 1024);
    let job = match job_from_args(&args, work_bytes) {
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
            crate::runtime::stop_signal().await;
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
        Some(f) => workdir::read_regular(f, MAX_TOKEN_BYTES)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| client::ClientError::Job(format!("reading the token file: {e}")))?,
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

/// Build the job from the flags. Every file is read bounded, and only regular files are read by
/// path (a FIFO would block, `/dev/zero` would never end); `--stdin -` reads standard input.
/// `work_bytes` is the size of `/work`, which the input files together must fit.
fn job_from_args(args: &RunArgs, work_bytes: u64) -> Result<Job, InvalidInput> {
    let code = match (&args.code, &args.file) {
        (Some(c), _) => c.clone(),
        (None, Some(path)) => {
            let bytes = read_flag_file(
                path,
                job::MAX_CODE_BYTES as u64,
                "the code file",
                "the code may be at most 1 MiB: put large data in an input file instead",
            )?;
            job::code_from_bytes(bytes, &format!("the code file {}", path.display()))?
        }
        (None, None) => {
            if std::io::stdin().is_terminal() {
                return Err(InvalidInput(
                    "no code given; pass --code CODE, --file PATH, or pipe the code on standard input"
                        .into(),
                ));
            }
            if args.stdin.as_deref() == Some(Path::new("-")) {
                return Err(InvalidInput(
                    "--stdin - reads standard input, which already carries the code; pass the \
                     code with --code or --file"
                        .into(),
                ));
            }
            let bytes = read_own_stdin(job::MAX_CODE_BYTES, "the code")?;
            job::code_from_bytes(bytes, "the code on standard input")?
        }
    };
    let stdin = match &args.stdin {
        None => None,
        Some(path) => {
            let bytes = if path == Path::new("-") {
                let bytes = read_own_stdin(job::MAX_STDIN_BYTES, "--stdin -")?;
                if bytes.len() > job::MAX_STDIN_BYTES {
                    return Err(InvalidInput(format!(
                        "--stdin -: standard input is more than {} bytes (16 MiB); pass large \
                         data with --input-file",
                        job::MAX_STDIN_BYTES
                    )));
                }
                bytes
            } else {
                read_flag_file(
                    path,
                    job::MAX_STDIN_BYTES as u64,
                    "the --stdin file",
                    "standard input may be at most 16 MiB: pass large data with --input-file",
                )?
            };
            Some(String::from_utf8(bytes).map_err(|_| {
                let what = if path == Path::new("-") {
                    "standard input (--stdin -)".to_string()
                } else {
                    format!("the --stdin file {}", path.display())
                };
                InvalidInput(format!(
                    "{what} is not UTF-8 text; pass binary data with --input-file"
                ))
            })?)
        }
    };
    let mut room = work_bytes;
    let mut input_files = Vec::new();
    for p in &args.input_files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                InvalidInput(format!("--input-file {} has no file name", p.display()))
            })?;
        let bytes = read_flag_file(
            p,
            room,
            "the --input-file",
            &format!(
                "the input files together may be at most {} MiB, the size of /work \
                 (NESTBOX_WORK_DIR_MEGABYTES)",
                work_bytes / (1024 * 1024)
            ),
        )?;
        room -= bytes.len() as u64;
        // Inline, as the API sends them: the file is read once, here, bounded.
        input_files.push(InputFile {
            name,
            source_path: None,
            content_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        });
    }
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
        return_files: false,
    })
}

/// Read the file a flag names: a regular file of at most `limit` bytes, else INVALID_INPUT
/// naming the file, what was wrong, and what to do (`too_large` says what the limit is).
fn read_flag_file(
    path: &Path,
    limit: u64,
    what: &str,
    too_large: &str,
) -> Result<Vec<u8>, InvalidInput> {
    workdir::read_regular(path, limit).map_err(|e| {
        let fix = match &e {
            HostFileError::NotRegular { .. } if what == "the --stdin file" => {
                "; nestbox reads only regular files by path: save the data to a file, or pipe it \
                 into nestbox and pass --stdin -"
                    .to_string()
            }
            HostFileError::NotRegular { .. } => {
                "; nestbox reads only regular files by path: save the data to a file".to_string()
            }
            HostFileError::TooLarge { .. } => format!("; {too_large}"),
            HostFileError::Io { .. } => String::new(),
        };
        InvalidInput(format!("cannot read {what} {}: {e}{fix}", path.display()))
    })
}

/// Read nestbox's own standard input: at most `limit` + 1 bytes, so that the job's checks see
/// that it is too large without it being read whole.
fn read_own_stdin(limit: usize, what: &str) -> Result<Vec<u8>, InvalidInput> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InvalidInput(format!("reading {what} from standard input: {e}")))?;
    Ok(bytes)
}

/// Copies output to stdout and stderr as the code produces it: the exact bytes when they go to a
/// file or a program, neutralised (escape sequences made visible) when they go to a terminal.
struct LiveOutput {
    stdout: Option<Mutex<Neutraliser>>,
    stderr: Option<Mutex<Neutraliser>>,
}

impl LiveOutput {
    fn new() -> LiveOutput {
        let neutraliser = |tty: bool| tty.then(|| Mutex::new(Neutraliser::default()));
        LiveOutput {
            stdout: neutraliser(std::io::stdout().is_terminal()),
            stderr: neutraliser(std::io::stderr().is_terminal()),
        }
    }

    /// Print what a terminal stream still holds (an unfinished UTF-8 sequence).
    fn finish(&self) {
        for (stream, n) in [
            (StreamKind::Stdout, &self.stdout),
            (StreamKind::Stderr, &self.stderr),
        ] {
            if let Some(n) = n {
                let rest = n.lock().unwrap_or_else(|e| e.into_inner()).finish();
                write_to(stream, rest.as_bytes());
            }
        }
    }
}

impl OutputObserver for LiveOutput {
    fn output(&self, stream: StreamKind, bytes: &[u8]) {
        let terminal = match stream {
            StreamKind::Stdout => &self.stdout,
            StreamKind::Stderr => &self.stderr,
        };
        match terminal {
            Some(n) => {
                let text = n.lock().unwrap_or_else(|e| e.into_inner()).push(bytes);
                write_to(stream, text.as_bytes());
            }
            None => write_to(stream, bytes),
        }
    }
}

fn write_to(stream: StreamKind, bytes: &[u8]) {
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

/// After live output: a status line for anything but a clean exit, notices, and the files. They
/// may quote the code's data (file names, output), so control characters are always made visible.
fn report_text(r: &RunResult) {
    // Output reached the terminal live, unless the run never started (then there is none).
    let mut err = std::io::stderr().lock();
    for n in &r.notices {
        let _ = writeln!(err, "nestbox: note: {}", one_line(n));
    }
    if r.status != Status::Ok {
        let _ = writeln!(err, "nestbox: {}: {}", r.status, one_line(&r.message));
    }
    for f in &r.files {
        let _ = writeln!(
            err,
            "nestbox: file /work/{} ({} bytes)",
            one_line(&f.path),
            f.size
        );
    }
}
