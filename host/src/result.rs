//! The result contract: what every execution returns, whatever happened. `nestbox run --json`,
//! `nestbox serve`'s `POST /v1/run` and the Open WebUI files all speak this JSON.

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
