//! `plugins/<name>/plugin.toml`: how one language reaches nestbox. Typed, unknown keys refused.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Guest paths nestbox itself provides to every plugin; a manifest may not preopen these.
pub const RESERVED_GUEST_DIRS: &[&str] = &["/work", "/tmp", "/code"];
/// Where the code file is placed inside the sandbox.
pub const CODE_DIR: &str = "/code";
/// The placeholder in `entry.argv` for the code file's path.
pub const CODE_PLACEHOLDER: &str = "{code}";

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("reading plugin manifest {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("plugin manifest {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("plugin manifest {path}: {problem}")]
    Invalid {
        path: PathBuf,
        #[source]
        problem: Problem,
    },
}

/// What is wrong in a manifest that parsed: each names the key and how to fix it.
#[derive(Debug, Error)]
pub enum Problem {
    #[error(
        "name or alias {0:?} must be lower-case letters, digits, '-', '_' or '.', starting with a letter"
    )]
    BadName(String),
    #[error("version is empty")]
    EmptyVersion,
    #[error(
        "artifact.sha256_file ({}) is not accepted: a hash written by the build would vouch \
         for whatever was built. fix: pin the SHA-256 of a reviewed build in the manifest \
         itself, artifact.sha256 = \"<64 hex digits>\" (sha256sum prints it)",
        .0.display()
    )]
    HashFile(PathBuf),
    #[error("artifact.sha256 {0:?} is not 64 lower-case hex digits")]
    BadSha256(String),
    #[error(
        "artifact.sha256 is missing: pin the runtime's SHA-256 (64 hex digits, as sha256sum prints it)"
    )]
    MissingSha256,
    #[error(
        "{key} {path:?} must be a relative path inside the plugin's folder (no '..', not absolute)"
    )]
    NotInside { key: &'static str, path: PathBuf },
    #[error("entry.kind = \"reactor\" needs entry.export (the run function)")]
    ReactorWithoutExport,
    #[error("entry.export is only for reactors; a command module runs `_start`")]
    ExportOnCommand,
    #[error(
        "entry.prepare = \"initialize\" is only for reactors (a command has no `_initialize` \
         to run ahead); use \"await-job\" or \"none\""
    )]
    InitializeOnCommand,
    #[error("{0} is empty; give at least the program name")]
    EmptyArgv(&'static str),
    #[error("entry.argv must contain {CODE_PLACEHOLDER} where the code file's path goes")]
    NoCodePlaceholder,
    #[error("entry.code_file {0:?} must be a plain file name such as main.py")]
    BadCodeFile(String),
    #[error("env key {0:?} is not a valid variable name")]
    BadEnvKey(String),
    #[error("preopen.guest {0:?} must be an absolute path without '..'")]
    BadPreopenGuest(String),
    #[error("preopen.guest {0:?} is reserved: nestbox provides /work, /tmp and /code")]
    ReservedPreopenGuest(String),
    #[error("calibration.fuel_per_cpu_second must be at least 1")]
    ZeroFuel,
    #[error("{0} is empty; give a tiny program (such as one that prints a line)")]
    EmptySelfTest(&'static str),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The canonical name (`python`); lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// The version of the language runtime, reported in results.
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Other names callers may use (`python3`, `py`); also the commands other plugins can run.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub artifact: Artifact,
    pub entry: Entry,
    /// The guest's whole environment (nothing is inherited from the host).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Extra read-only directories from the plugin's folder.
    #[serde(default, rename = "preopen")]
    pub preopens: Vec<Preopen>,
    pub calibration: Calibration,
    #[serde(default)]
    pub limits: PluginLimits,
    /// A JSON file, relative to the plugin's folder, listing the packages the runtime has
    /// besides its standard library (generated from the runtime; see [`Package`]).
    #[serde(default)]
    pub packages: Option<PathBuf>,
    /// How nestbox checks that the language works (`nestbox doctor`, `nestbox self-test`,
    /// `nestbox serve`'s readiness); see [`crate::language_check`].
    #[serde(default)]
    pub selftest: Option<SelfTest>,
}

/// `[selftest]`: a tiny program and its exact stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfTest {
    /// A program that must run and print `expect`.
    pub code: String,
    /// Its whole stdout, byte for byte.
    pub expect: String,
    /// `[selftest.syntax_error]`: a program that must fail as a syntax error does.
    #[serde(default)]
    pub syntax_error: Option<SyntaxError>,
}

/// A program with a syntax error: it must end as ERROR, with these, when given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntaxError {
    pub code: String,
    /// Text its stderr must contain (`SyntaxError`).
    #[serde(default)]
    pub stderr_contains: Option<String>,
    /// The exit status it must end with (bash gives 2).
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// One package a runtime ships, as its `packages` file lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The distribution's name (`scikit-learn`).
    pub distribution: String,
    pub version: String,
    /// The names it is imported by (`sklearn`).
    pub import: Vec<String>,
}

/// The WebAssembly module and its expected SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Path of the `.wasm` file, relative to the plugin's folder.
    pub path: PathBuf,
    /// The expected SHA-256, as 64 hex digits: pinned here, in the reviewed manifest (a manifest
    /// without it is refused when loaded, so every loaded plugin has one).
    #[serde(default)]
    pub sha256: String,
    /// No longer accepted (a hash file written by the build vouched for whatever was built);
    /// parsed only to refuse it with a clear message.
    #[serde(default)]
    pub sha256_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A WASI command: `_start` runs the program; the exit status comes from `proc_exit`.
    Command,
    /// A WASI reactor: `_initialize`, then `entry.export` (`() -> i32`) returns the exit status.
    Reactor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub kind: EntryKind,
    /// For reactors: the exported function that runs the program.
    #[serde(default)]
    pub export: Option<String>,
    /// The guest's argv; `{code}` is replaced by the code file's path.
    pub argv: Vec<String>,
    /// The code file's name inside `/code` (`main.py`).
    pub code_file: String,
    /// When another plugin calls this one (`python3 x.py a` typed in bash): the argv to run,
    /// followed by the caller's arguments after the command name. Without it the caller's argv
    /// is used as it is.
    #[serde(default)]
    pub call_argv: Option<Vec<String>>,
    /// How far a sandbox starts the plugin before its job arrives (see [`Prepare`]).
    #[serde(default)]
    pub prepare: Prepare,
}

/// How far a sandbox runs a plugin ahead of its job. The job's limits (fuel, wall clock, memory)
/// start when the job arrives, so a job pays only for its own code; the start-up runs under the
/// plugin's own start-up budget (`runner::prepare::startup_limits`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prepare {
    /// Nothing ahead: the module is instantiated once the job is in place.
    #[default]
    None,
    /// A reactor is instantiated and `_initialize`d ahead; the job arrives before its `export`
    /// is called.
    Initialize,
    /// Also the start-up inside the entry point runs ahead: the guest asks for its job through
    /// its `host.call` import with the request `{"op":"await_job"}` and goes on once that
    /// returns (the code file, input files and stdin are then in place). A start-up that never
    /// asks is a failure. Without a waiting host the call returns -1 (no host bound): the job is
    /// already in place.
    AwaitJob,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preopen {
    /// A directory relative to the plugin's folder.
    pub host: PathBuf,
    /// Its absolute path inside the guest.
    pub guest: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Wasmtime fuel this runtime burns per CPU-second on the reference machine.
    pub fuel_per_cpu_second: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLimits {
    /// The least memory (MiB) the runtime needs to start; smaller limits are refused.
    #[serde(default)]
    pub min_ram_mb: u64,
}

impl Manifest {
    /// Read and validate `path` (a `plugin.toml`).
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|source| ManifestError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        manifest
            .validate()
            .map_err(|problem| ManifestError::Invalid {
                path: path.to_path_buf(),
                problem,
            })?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), Problem> {
        for n in std::iter::once(&self.name).chain(&self.aliases) {
            if !is_plain_name(n) {
                return Err(Problem::BadName(n.clone()));
            }
        }
        if self.version.trim().is_empty() {
            return Err(Problem::EmptyVersion);
        }
        if let Some(f) = &self.artifact.sha256_file {
            return Err(Problem::HashFile(f.clone()));
        }
        match self.artifact.sha256.as_str() {
            "" => return Err(Problem::MissingSha256),
            h if !is_sha256_hex(h) => return Err(Problem::BadSha256(h.to_string())),
            _ => {}
        }
        relative_inside(&self.artifact.path, "artifact.path")?;
        match (self.entry.kind, &self.entry.export) {
            (EntryKind::Reactor, None) => return Err(Problem::ReactorWithoutExport),
            (EntryKind::Command, Some(_)) => return Err(Problem::ExportOnCommand),
            _ => {}
        }
        if self.entry.prepare == Prepare::Initialize && self.entry.kind != EntryKind::Reactor {
            return Err(Problem::InitializeOnCommand);
        }
        if self.entry.call_argv.as_ref().is_some_and(|a| a.is_empty()) {
            return Err(Problem::EmptyArgv("entry.call_argv"));
        }
        if self.entry.argv.is_empty() {
            return Err(Problem::EmptyArgv("entry.argv"));
        }
        if !self.entry.argv.iter().any(|a| a.contains(CODE_PLACEHOLDER)) {
            return Err(Problem::NoCodePlaceholder);
        }
        if !is_plain_file_name(&self.entry.code_file) {
            return Err(Problem::BadCodeFile(self.entry.code_file.clone()));
        }
        for key in self.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err(Problem::BadEnvKey(key.clone()));
            }
        }
        for p in &self.preopens {
            relative_inside(&p.host, "preopen.host")?;
            if !p.guest.starts_with('/') || p.guest.contains("..") {
                return Err(Problem::BadPreopenGuest(p.guest.clone()));
            }
            if RESERVED_GUEST_DIRS.contains(&p.guest.trim_end_matches('/')) || p.guest == "/" {
                return Err(Problem::ReservedPreopenGuest(p.guest.clone()));
            }
        }
        if let Some(p) = &self.packages {
            relative_inside(p, "packages")?;
        }
        if self.calibration.fuel_per_cpu_second == 0 {
            return Err(Problem::ZeroFuel);
        }
        if let Some(t) = &self.selftest {
            if t.code.trim().is_empty() {
                return Err(Problem::EmptySelfTest("selftest.code"));
            }
            if t.syntax_error.as_ref().is_some_and(|b| b.code.is_empty()) {
                return Err(Problem::EmptySelfTest("selftest.syntax_error.code"));
            }
        }
        Ok(())
    }

    /// The guest argv with the code file's path filled in.
    pub fn argv(&self) -> Vec<String> {
        let code = format!("{CODE_DIR}/{}", self.entry.code_file);
        self.entry
            .argv
            .iter()
            .map(|a| a.replace(CODE_PLACEHOLDER, &code))
            .collect()
    }

    /// The argv for a call from another plugin (`argv[0]` is the name it was called by).
    pub fn call_argv(&self, called: Vec<String>) -> Vec<String> {
        match &self.entry.call_argv {
            Some(prefix) => prefix
                .iter()
                .cloned()
                .chain(called.into_iter().skip(1))
                .collect(),
            None => called,
        }
    }

    /// Every name this plugin answers to.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(
            self.aliases
                .iter()
                .map(String::as_str)
                .filter(|a| *a != self.name),
        )
    }
}

fn is_plain_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && n.len() <= 64
}

fn is_plain_file_name(n: &str) -> bool {
    !n.is_empty() && n != "." && n != ".." && !n.contains('/') && !n.contains('\0')
}

pub(crate) fn is_sha256_hex(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn relative_inside(p: &Path, key: &'static str) -> Result<(), Problem> {
    if p.as_os_str().is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Problem::NotInside {
            key,
            path: p.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"
name = "python"
version = "3.12.0"
aliases = ["python3", "py"]
[artifact]
path = "python.wasm"
sha256 = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
[entry]
kind = "command"
argv = ["python3", "{code}"]
code_file = "main.py"
[env]
HOME = "/tmp"
[[preopen]]
host = "boot"
guest = "/boot"
[calibration]
fuel_per_cpu_second = 1000
[limits]
min_ram_mb = 16
"#;

    pub(crate) fn sample_manifest() -> Manifest {
        Manifest::parse(SAMPLE, Path::new("plugin.toml")).unwrap()
    }

    #[test]
    fn sample_parses_and_fills_argv() {
        let m = sample_manifest();
        assert_eq!(m.argv(), vec!["python3", "/code/main.py"]);
        assert_eq!(
            m.names().collect::<Vec<_>>(),
            vec!["python", "python3", "py"]
        );
    }

    fn refused(text: &str) -> String {
        Manifest::parse(text, Path::new("/p/plugin.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = refused(&SAMPLE.replace("[env]", "colour = \"red\"\n[env]"));
        assert!(
            err.contains("colour") && err.contains("/p/plugin.toml"),
            "{err}"
        );
    }

    #[test]
    fn invalid_fields_are_refused_with_reasons() {
        let cases = [
            (SAMPLE.replace("e5dc5a", "XYZ"), "64 lower-case hex"),
            (SAMPLE.replace("{code}", "x"), "{code}"),
            (
                SAMPLE.replace("host = \"boot\"", "host = \"../etc\""),
                "inside",
            ),
            (
                SAMPLE.replace("guest = \"/boot\"", "guest = \"/work\""),
                "reserved",
            ),
            (
                SAMPLE.replace("kind = \"command\"", "kind = \"reactor\""),
                "entry.export",
            ),
            (
                SAMPLE.replace("\"python3\", \"py\"", "\"Py thon\""),
                "lower-case",
            ),
            (SAMPLE.replace("main.py", "a/main.py"), "plain file name"),
            (
                SAMPLE.replace(
                    "code_file = \"main.py\"",
                    "code_file = \"main.py\"\nprepare = \"initialize\"",
                ),
                "only for reactors",
            ),
            (
                SAMPLE.replace(
                    "code_file = \"main.py\"",
                    "code_file = \"main.py\"\nprepare = \"sometimes\"",
                ),
                "prepare",
            ),
            (
                SAMPLE.replace("path = \"python.wasm\"", "path = \"/abs.wasm\""),
                "relative",
            ),
            (
                SAMPLE.replace(
                    "sha256 = \"e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763\"",
                    "sha256_file = \"python.wasm.sha256\"",
                ),
                "pin the SHA-256",
            ),
            (
                SAMPLE.replace(
                    "sha256 = \"e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763\"",
                    "",
                ),
                "artifact.sha256 is missing",
            ),
        ];
        for (text, want) in cases {
            let err = refused(&text);
            assert!(err.contains(want), "want {want:?} in {err}");
        }
    }
}
