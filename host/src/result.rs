//! The result contract: what every execution returns, whatever happened. `nestbox run --json`,
//! `nestbox serve`'s `POST /v1/run` and the Open WebUI files all speak this JSON.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// The code ran and exited with status 0.
    Ok,
    /// The code exited with a nonzero status or hit a runtime error (a trap, a stack overflow).
    Error,
    /// The wall-clock limit or the CPU (fuel) budget ran out.
    Timeout,
    /// The code asked for more memory than its limit.
    MemoryLimit,
    /// The code wrote more than the output cap to stdout or stderr.
    OutputLimit,
    /// The request was malformed (unknown language, empty code, bad limits...): nothing ran.
    InvalidInput,
    /// The sandbox could not be set up or failed; nothing ran, or the run was lost.
    SandboxError,
    /// The run finished but its files could not be kept (quota, storage failure).
    StorageError,
}

impl Status {
    /// Every status, in the order of their exit codes (`nestbox statuses --json` lists them).
    pub const ALL: [Status; 8] = [
        Status::Ok,
        Status::Error,
        Status::InvalidInput,
        Status::Timeout,
        Status::MemoryLimit,
        Status::OutputLimit,
        Status::SandboxError,
        Status::StorageError,
    ];

    /// The documented exit code of `nestbox run` for this status.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Error => 1,
            Status::InvalidInput => 2,
            Status::Timeout => 3,
            Status::MemoryLimit => 4,
            Status::OutputLimit => 5,
            Status::SandboxError => 6,
            Status::StorageError => 7,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Error => "ERROR",
            Status::Timeout => "TIMEOUT",
            Status::MemoryLimit => "MEMORY_LIMIT",
            Status::OutputLimit => "OUTPUT_LIMIT",
            Status::InvalidInput => "INVALID_INPUT",
            Status::SandboxError => "SANDBOX_ERROR",
            Status::StorageError => "STORAGE_ERROR",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run ended: the one type for it, from where the run ended to the [`RunResult`]. The runner
/// makes it (inside Wasmtime, see `ending.rs` for the classification), the guest agent sends it
/// to the host as its `result` event unchanged, the sandbox's supervisor adds the output it
/// collected (or makes one itself when the sandbox ended otherwise), and [`RunResult::ran`] turns
/// it into the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub status: Status,
    /// The code's exit status, when it exited.
    pub exit_code: Option<i32>,
    /// The output as the code wrote it (bytes: a nested call passes them on unchanged). Not part
    /// of the guest's `result` event: the guest streams output in `output` events as it comes.
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub fuel_used: u64,
    /// The most linear memory the code's store held.
    pub peak_memory_bytes: u64,
    /// One line for people: what happened and, for failures, what to do.
    pub message: String,
    /// How long the run took, as the side that reports it measured.
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
}

impl Outcome {
    /// A run that ended before its code ran, or whose end was not the code's (`message` says).
    pub fn failed(status: Status, message: String) -> Outcome {
        Outcome {
            status,
            exit_code: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            fuel_used: 0,
            peak_memory_bytes: 0,
            message,
            elapsed: Duration::ZERO,
        }
    }
}

/// A duration as whole milliseconds in JSON.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A file the code left in `/work`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to `/work`, with `/` separators.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// Where the file is served from, when it was kept (`--keep-files-for`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where it was kept, relative to WEB_ACCESSIBLE_DIRECTORY_PATH (`--keep-files-for`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_path: Option<String>,
    /// The file's content, base64, when the job asked for `return_files` and it fitted under
    /// the server's cap (`max_returned_megabytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// Why the content is not there, when the job asked for `return_files`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_omitted: Option<String>,
}

/// Which plugin ran the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    /// SHA-256 of the plugin's WebAssembly artifact.
    pub sha256: String,
}

/// The limits the execution ran under, after the request was applied to the operator's maxima.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedLimits {
    pub max_runtime_seconds: f64,
    pub max_ram_mb: u64,
    pub max_output_bytes: u64,
    /// The CPU budget in Wasmtime fuel units (derived from the runtime and the plugin's calibration).
    pub fuel: u64,
    /// Whether the outer wall's (cgroup) limits were enforced. False only when the operator allowed
    /// running without them (REQUIRE_RESOURCE_LIMITING=false) or for `--no-gvisor` runs.
    pub enforced: bool,
}

/// How the code was isolated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxInfo {
    /// `gvisor`, or `none` for the unsafe developer switch `--no-gvisor`.
    pub outer: String,
    /// Always `wasmtime`.
    pub inner: String,
    /// The gVisor platform, when gVisor was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Always `none`: the code has no network.
    pub network: String,
    /// Whether the sandbox came from `nestbox serve`'s warm pool.
    #[serde(default)]
    pub pooled: bool,
}

/// The result of one execution. `stdout` and `stderr` are always present (possibly empty),
/// whatever the status: output produced before a limit was hit is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub status: Status,
    /// The code's exit status, when it exited (absent after a timeout or a limit).
    pub exit_code: Option<i32>,
    /// Standard output, decoded as UTF-8 (invalid bytes replaced by U+FFFD).
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// Wall time of the whole execution as nestbox saw it, sandbox start included.
    pub duration_ms: u64,
    /// Wasmtime fuel consumed (a CPU-work measure; 0 when nothing ran).
    pub fuel_used: u64,
    /// The most WebAssembly linear memory the code's store held, in bytes (0 when nothing ran).
    #[serde(default)]
    pub peak_memory_bytes: u64,
    /// Files the code left in `/work`, sorted by path; at most 1000 entries and 256 KiB of
    /// names (`workdir::MAX_LISTED_FILES`, `workdir::MAX_LISTED_NAME_BYTES`).
    pub files: Vec<FileEntry>,
    /// Further files in `/work` left out of `files` because the list was full.
    #[serde(default)]
    pub files_omitted: u64,
    pub plugin: Option<PluginInfo>,
    pub limits: Option<AppliedLimits>,
    pub sandbox: Option<SandboxInfo>,
    /// One line for people: what happened and, for failures, what to do.
    pub message: String,
    /// Things the caller should know (a clamped limit, unenforced limits, unsafe mode).
    #[serde(default)]
    pub notices: Vec<String>,
    /// An id for this execution, as used in logs.
    pub execution_id: String,
}

impl RunResult {
    /// The result of a run that ended with `outcome` under `limits` (files, plugin, sandbox and
    /// notices are added by the caller). Output is decoded as UTF-8, invalid bytes replaced.
    pub fn ran(outcome: Outcome, limits: AppliedLimits) -> RunResult {
        let Outcome {
            status,
            exit_code,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            fuel_used,
            peak_memory_bytes,
            message,
            elapsed,
        } = outcome;
        RunResult {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            stdout_truncated,
            stderr_truncated,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            fuel_used,
            peak_memory_bytes,
            exit_code,
            limits: Some(limits),
            ..RunResult::not_run(status, message)
        }
    }

    /// A result for a run that never started (bad input, a broken sandbox, ...).
    pub fn not_run(status: Status, message: impl Into<String>) -> RunResult {
        RunResult {
            status,
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            duration_ms: 0,
            fuel_used: 0,
            peak_memory_bytes: 0,
            files: Vec::new(),
            files_omitted: 0,
            plugin: None,
            limits: None,
            sandbox: None,
            message: message.into(),
            notices: Vec::new(),
            execution_id: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_status_once_in_exit_code_order() {
        let codes: Vec<u8> = Status::ALL.iter().map(|s| s.exit_code()).collect();
        assert_eq!(codes, (0..8).collect::<Vec<_>>());
        // A status added to the enum without a place in ALL fails to compile here.
        for s in Status::ALL {
            match s {
                Status::Ok
                | Status::Error
                | Status::InvalidInput
                | Status::Timeout
                | Status::MemoryLimit
                | Status::OutputLimit
                | Status::SandboxError
                | Status::StorageError => {}
            }
        }
    }

    #[test]
    fn status_serialises_in_screaming_case() {
        assert_eq!(
            serde_json::to_string(&Status::MemoryLimit).unwrap(),
            "\"MEMORY_LIMIT\""
        );
        assert_eq!(
            serde_json::from_str::<Status>("\"SANDBOX_ERROR\"").unwrap(),
            Status::SandboxError
        );
    }

    #[test]
    fn an_outcome_travels_without_its_output_and_fills_the_result() {
        let mut o = Outcome::failed(Status::Error, "the code exited with status 3".into());
        o.exit_code = Some(3);
        o.stdout = b"out \xff".to_vec();
        o.stderr = b"err".to_vec();
        o.stderr_truncated = true;
        o.fuel_used = 42;
        o.peak_memory_bytes = 7;
        o.elapsed = Duration::from_millis(1234);
        // The guest's `result` event: output travels in `output` events, not here.
        let wire = serde_json::to_value(&o).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({
                "status": "ERROR", "exit_code": 3, "stdout_truncated": false,
                "stderr_truncated": true, "fuel_used": 42, "peak_memory_bytes": 7,
                "message": "the code exited with status 3", "elapsed_ms": 1234
            })
        );
        let back: Outcome = serde_json::from_value(wire).unwrap();
        assert_eq!(
            back,
            Outcome {
                stdout: Vec::new(),
                stderr: Vec::new(),
                ..o.clone()
            }
        );
        let limits = AppliedLimits {
            max_runtime_seconds: 5.0,
            max_ram_mb: 64,
            max_output_bytes: 1024,
            fuel: 100,
            enforced: true,
        };
        let r = RunResult::ran(o, limits.clone());
        assert_eq!((r.status, r.exit_code), (Status::Error, Some(3)));
        assert_eq!(
            (r.stdout.as_str(), r.stderr.as_str()),
            ("out \u{fffd}", "err")
        );
        assert_eq!((r.stdout_truncated, r.stderr_truncated), (false, true));
        assert_eq!((r.fuel_used, r.duration_ms), (42, 1234));
        assert_eq!(r.limits, Some(limits));
        assert_eq!(r.message, "the code exited with status 3");
    }

    #[test]
    fn exit_codes_are_distinct() {
        let mut codes: Vec<u8> = Status::ALL.iter().map(|s| s.exit_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Status::ALL.len());
        for s in Status::ALL {
            assert_eq!(s.as_str(), s.to_string());
        }
    }
}
