//! `nestbox run`: one execution from the command line.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::progress::Compiling;
use crate::execute::{Isolation, Nestbox, RunOptions};
use crate::job::{self, InputFile, InvalidInput, Job};
use crate::result::{RunResult, Status};
use crate::runner::output::{OutputObserver, StreamKind};
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
    #[arg(long)]
    no_gvisor: bool,
}

pub fn run(config: Option<&Path>, args: RunArgs) -> i32 {
    let json = args.json;
    let result = execute(config, args);
    if json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &result);
        let _ = writeln!(out);
    } else {
        report_text(&result);
    }
    result.status.exit_code()
}

fn execute(config: Option<&Path>, args: RunArgs) -> RunResult {
    let loaded = match settings::load(config, &ProcessEnv) {
        Ok(s) => s,
        Err(e) => return RunResult::not_run(Status::InvalidInput, e.to_string()),
    };
    let job = match job_from_args(&args) {
        Ok(j) => j,
        Err(e) => return RunResult::not_run(Status::InvalidInput, e.0),
    };
    let nestbox = match Nestbox::open(loaded) {
        Ok(n) => n,
        Err(e) => return RunResult::not_run(Status::SandboxError, e.to_string()),
    };
    let observer: Option<Arc<dyn OutputObserver>> =
        (!args.json).then(|| Arc::new(LiveOutput) as Arc<dyn OutputObserver>);
    let opts = RunOptions {
        isolation: if args.no_gvisor {
            Isolation::WasmtimeOnly
        } else {
            Isolation::Gvisor
        },
        observer,
        progress: Arc::new(Compiling::default()),
    };
    super::runtime().block_on(nestbox.execute(job, &opts))
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
