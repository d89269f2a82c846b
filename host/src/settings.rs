//! Operator settings: one typed struct, read from built-in defaults, then an optional TOML
//! config file, then environment variables (which win). These are the operator's *maxima*;
//! a request (a `nestbox run` flag, a job's `limits`) may only tighten them (see [`crate::limits`]).
//!
//! The reference project's valve names are kept: every valve can be set with
//! `CODE_EVAL_VALVE_OVERRIDE_<NAME>` (for example `CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS=10`).
//! Settings that are nestbox's own use `NESTBOX_<NAME>`. In the config file every setting is
//! spelled in lower case (`max_runtime_seconds = 10`); unknown keys are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where the config file is looked for when neither `--config` nor `NESTBOX_CONFIG` names one.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/nestbox/config.toml";
/// Prefix of the reference-compatible environment overrides.
pub const VALVE_ENV_PREFIX: &str = "CODE_EVAL_VALVE_OVERRIDE_";
/// Prefix of nestbox's own environment overrides.
pub const NESTBOX_ENV_PREFIX: &str = "NESTBOX_";
/// Where gVisor publishes releases: the default `gvisor_url_base`.
pub const DEFAULT_GVISOR_URL_BASE: &str = "https://storage.googleapis.com/gvisor/releases/release";

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("reading the config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "config file {path} is not valid: {message}\nhint: settings are lower-case keys such as `max_runtime_seconds = 30`; see `nestbox run --help`"
    )]
    ParseFile { path: PathBuf, message: String },
    #[error("{origin} is not valid: {message}")]
    Invalid { origin: String, message: String },
}

/// The kind of value a setting takes, used to parse environment variables.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    /// A whole number that must be at least 1.
    Positive,
    /// A whole number that may be 0.
    Count,
    Text,
    Path,
}

/// One setting: its config-file key, its environment variable, the kind of its value.
struct Key {
    name: &'static str,
    env: &'static str,
    kind: Kind,
}

macro_rules! keys {
    ($($name:literal => $env:expr, $kind:ident;)*) => {
        &[$(Key { name: $name, env: $env, kind: Kind::$kind },)*]
    };
}

/// Every setting nestbox reads. The first twelve are the reference's valves.
const KEYS: &[Key] = keys! {
    "max_runtime_seconds" => "CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", Positive;
    "max_ram_megabytes" => "CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES", Positive;
    "networking_allowed" => "CODE_EVAL_VALVE_OVERRIDE_NETWORKING_ALLOWED", Bool;
    "require_resource_limiting" => "CODE_EVAL_VALVE_OVERRIDE_REQUIRE_RESOURCE_LIMITING", Bool;
    "auto_install" => "CODE_EVAL_VALVE_OVERRIDE_AUTO_INSTALL", Bool;
    "check_for_updates" => "CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES", Bool;
    "debug" => "CODE_EVAL_VALVE_OVERRIDE_DEBUG", Bool;
    "max_files_per_execution" => "CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_EXECUTION", Count;
    "max_files_per_user" => "CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_USER", Count;
    "max_megabytes_per_user" => "CODE_EVAL_VALVE_OVERRIDE_MAX_MEGABYTES_PER_USER", Count;
    "web_accessible_directory_path" => "CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_PATH", Path;
    "web_accessible_directory_url" => "CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_URL", Text;
    "max_output_bytes" => "NESTBOX_MAX_OUTPUT_BYTES", Positive;
    "work_dir_megabytes" => "NESTBOX_WORK_DIR_MEGABYTES", Positive;
    "tmp_megabytes" => "NESTBOX_TMP_MEGABYTES", Positive;
    "plugins_dir" => "NESTBOX_PLUGINS_DIR", Path;
    "state_dir" => "NESTBOX_STATE_DIR", Path;
    "cache_dir" => "NESTBOX_CACHE_DIR", Path;
    "runsc_path" => "NESTBOX_RUNSC_PATH", Path;
    "gvisor_platform" => "NESTBOX_GVISOR_PLATFORM", Text;
    "sandbox_memory_overhead_megabytes" => "NESTBOX_SANDBOX_MEMORY_OVERHEAD_MEGABYTES", Positive;
    "gvisor_url_base" => "NESTBOX_GVISOR_URL_BASE", Text;
};

/// The operator's settings. Field docs are the user-facing documentation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Wall-clock limit for one execution, in seconds (the most a request may ask for).
    pub max_runtime_seconds: u64,
    /// Memory limit for one execution, in MiB (the most a request may ask for).
    pub max_ram_megabytes: u64,
    /// Network access for the code. Only `false` is accepted: nestbox has no safe egress yet and
    /// never gives code the host's network.
    pub networking_allowed: bool,
    /// Refuse to run when the sandbox's resource limits cannot be enforced (not root, no cgroup
    /// controllers). When false, such runs go ahead and their result says the limits were not enforced.
    pub require_resource_limiting: bool,
    /// Install gVisor's runsc (a pinned, checksum-verified release) when it is missing.
    pub auto_install: bool,
    /// Look for a newer gVisor release at most once every three days (never blocks a run).
    pub check_for_updates: bool,
    /// More detail in logs and status messages (never host details in results).
    pub debug: bool,
    /// Most files kept from one execution (`--keep-files`).
    pub max_files_per_execution: u64,
    /// Most files kept per user; the user's oldest executions are evicted beyond it.
    pub max_files_per_user: u64,
    /// Most MiB kept per user; the user's oldest executions are evicted beyond it.
    pub max_megabytes_per_user: u64,
    /// Root of per-user file storage. Defaults to `$DATA_DIR/cache/functions/run_code` when
    /// Open WebUI's `DATA_DIR` is set.
    pub web_accessible_directory_path: Option<PathBuf>,
    /// URL under which `web_accessible_directory_path` is served.
    pub web_accessible_directory_url: String,
    /// Cap on each of stdout and stderr, in bytes; the rest is cut and the run ends as OUTPUT_LIMIT.
    pub max_output_bytes: u64,
    /// Size cap of the code's `/work` directory inside the sandbox, in MiB.
    pub work_dir_megabytes: u64,
    /// Size cap of the code's `/tmp` inside the sandbox, in MiB.
    pub tmp_megabytes: u64,
    /// Folder holding one sub-folder per plugin (`<name>/plugin.toml`).
    pub plugins_dir: Option<PathBuf>,
    /// nestbox's private state: runsc state, bundles, per-run directories, locks.
    pub state_dir: PathBuf,
    /// Precompiled plugin modules (`nestbox plugins prepare`).
    pub cache_dir: PathBuf,
    /// The runsc binary; found on PATH (or installed by `nestbox gvisor install`) when unset.
    pub runsc_path: Option<PathBuf>,
    /// gVisor platform: `auto` (the best that works here), `ptrace`, `kvm` or `systrap`.
    pub gvisor_platform: String,
    /// Memory the sandbox may use beyond the code's own limit (gVisor, nestbox, compiled code), in
    /// MiB. The cgroup limit is `max_ram_megabytes` plus this, so the inner wall trips first.
    pub sandbox_memory_overhead_megabytes: u64,
    /// Where `nestbox gvisor install` (and AUTO_INSTALL) download gVisor releases from; a mirror
    /// may be given, the checksum stays the one pinned in nestbox.
    pub gvisor_url_base: String,
}

impl Default for Settings {
    fn default() -> Self {
        let root = nix::unistd::geteuid().is_root();
        Settings {
            max_runtime_seconds: 30,
            max_ram_megabytes: 256,
            networking_allowed: false,
            require_resource_limiting: true,
            auto_install: true,
            check_for_updates: true,
            debug: false,
            max_files_per_execution: 32,
            max_files_per_user: 4096,
            max_megabytes_per_user: 256,
            web_accessible_directory_path: std::env::var_os("DATA_DIR")
                .map(|d| PathBuf::from(d).join("cache/functions/run_code")),
            web_accessible_directory_url: "/cache/functions/run_code".to_string(),
            max_output_bytes: 1024 * 1024,
            work_dir_megabytes: 64,
            tmp_megabytes: 64,
            plugins_dir: None,
            state_dir: default_dir(root, "/var/lib/nestbox", dirs::state_dir),
            cache_dir: default_dir(root, "/var/cache/nestbox", dirs::cache_dir),
            runsc_path: None,
            gvisor_platform: "auto".to_string(),
            sandbox_memory_overhead_megabytes: 160,
            gvisor_url_base: DEFAULT_GVISOR_URL_BASE.to_string(),
        }
    }
}

fn default_dir(root: bool, system: &str, user: fn() -> Option<PathBuf>) -> PathBuf {
    if root {
        return PathBuf::from(system);
    }
    user()
        .map(|d| d.join("nestbox"))
        .unwrap_or_else(|| std::env::temp_dir().join("nestbox"))
}

/// Where a setting's value came from, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "the default"),
            Origin::File(p) => write!(f, "the config file {}", p.display()),
            Origin::Env(name) => write!(f, "the environment variable {name}"),
        }
    }
}

/// Settings together with where each non-default value came from.
#[derive(Debug, Clone)]
pub struct LoadedSettings {
    pub settings: Settings,
    pub origins: BTreeMap<&'static str, Origin>,
    pub config_file: Option<PathBuf>,
}

impl LoadedSettings {
    /// The origin of a setting, as text for messages ("the environment variable ...").
    pub fn origin(&self, key: &str) -> String {
        match self.origins.get(key) {
            Some(Origin::Env(name)) => name.to_string(),
            Some(Origin::File(p)) => format!("`{key}` in {}", p.display()),
            _ => format!("the default {key}"),
        }
    }
}

/// A source of environment variables (the real process environment, or a map in tests).
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// Load settings: defaults, then the config file (explicit path, `NESTBOX_CONFIG`, or
/// [`DEFAULT_CONFIG_PATH`] when it exists), then environment overrides.
pub fn load(
    explicit_config: Option<&Path>,
    env: &dyn Env,
) -> Result<LoadedSettings, SettingsError> {
    let config_file = match explicit_config {
        Some(p) => Some(p.to_path_buf()),
        None => match env.get("NESTBOX_CONFIG").filter(|v| !v.is_empty()) {
            Some(p) => Some(PathBuf::from(p)),
            None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.exists()),
        },
    };

    let mut table = toml::Table::new();
    let mut origins = BTreeMap::new();
    if let Some(path) = &config_file {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::ReadFile {
            path: path.clone(),
            source,
        })?;
        table = text
            .parse::<toml::Table>()
            .map_err(|e| SettingsError::ParseFile {
                path: path.clone(),
                message: e.to_string(),
            })?;
        for key in table.keys() {
            if let Some(k) = KEYS.iter().find(|k| k.name == key) {
                origins.insert(k.name, Origin::File(path.clone()));
            }
        }
    }

    for key in KEYS {
        let Some(raw) = env.get(key.env) else {
            continue;
        };
        let value = parse_env(key, &raw)?;
        table.insert(key.name.to_string(), value);
        origins.insert(key.name, Origin::Env(key.env));
    }

    let settings: Settings =
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::ParseFile {
                path: config_file.clone().unwrap_or_default(),
                message: e.to_string(),
            })?;
    let loaded = LoadedSettings {
        settings,
        origins,
        config_file,
    };
    validate(&loaded)?;
    Ok(loaded)
}

fn parse_env(key: &Key, raw: &str) -> Result<toml::Value, SettingsError> {
    let value = raw.trim();
    let invalid = |what: &str| SettingsError::Invalid {
        origin: format!("{}={raw:?}", key.env),
        message: format!("expected {what}"),
    };
    Ok(match key.kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(invalid("true or false")),
        },
        Kind::Positive | Kind::Count => {
            let n: i64 = value.parse().map_err(|_| {
                invalid(if matches!(key.kind, Kind::Positive) {
                    "a whole number of at least 1, such as 30"
                } else {
                    "a whole number (0 or more)"
                })
            })?;
            toml::Value::Integer(n)
        }
        Kind::Text => toml::Value::String(value.to_string()),
        Kind::Path => {
            if value.is_empty() {
                return Err(invalid("a path"));
            }
            toml::Value::String(value.to_string())
        }
    })
}

fn validate(loaded: &LoadedSettings) -> Result<(), SettingsError> {
    let s = &loaded.settings;
    let positive: [(&'static str, u64); 6] = [
        ("max_runtime_seconds", s.max_runtime_seconds),
        ("max_ram_megabytes", s.max_ram_megabytes),
        ("max_output_bytes", s.max_output_bytes),
        ("work_dir_megabytes", s.work_dir_megabytes),
        ("tmp_megabytes", s.tmp_megabytes),
        (
            "sandbox_memory_overhead_megabytes",
            s.sandbox_memory_overhead_megabytes,
        ),
    ];
    for (key, value) in positive {
        if value == 0 {
            return Err(SettingsError::Invalid {
                origin: loaded.origin(key),
                message: format!(
                    "{key} must be at least 1; nestbox always enforces this limit (0 would mean none)"
                ),
            });
        }
    }
    if s.max_runtime_seconds > 24 * 3600 {
        return Err(SettingsError::Invalid {
            origin: loaded.origin("max_runtime_seconds"),
            message: "max_runtime_seconds must be at most 86400 (one day)".into(),
        });
    }
    if s.max_ram_megabytes > 64 * 1024 {
        return Err(SettingsError::Invalid {
            origin: loaded.origin("max_ram_megabytes"),
            message: "max_ram_megabytes must be at most 65536 (WebAssembly memories are 32-bit: \
                      at most 4096 MiB per module is usable)"
                .into(),
        });
    }
    if !["auto", "ptrace", "kvm", "systrap"].contains(&s.gvisor_platform.as_str()) {
        return Err(SettingsError::Invalid {
            origin: loaded.origin("gvisor_platform"),
            message: format!(
                "unknown gVisor platform {:?}; use auto, ptrace, kvm or systrap",
                s.gvisor_platform
            ),
        });
    }
    Ok(())
}

/// A table of every setting, its environment variable and current value, for `--help` texts
/// and `nestbox doctor`.
pub fn describe(settings: &Settings) -> Vec<(&'static str, &'static str, String)> {
    let value = toml::Value::try_from(settings).unwrap_or(toml::Value::Table(Default::default()));
    KEYS.iter()
        .map(|k| {
            let v = value
                .get(k.name)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "(unset)".to_string());
            (k.name, k.env, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_reference_valves_with_network_off() {
        let loaded = load(None, &env(&[("NESTBOX_CONFIG", "")])).unwrap();
        assert_eq!(loaded.settings.max_runtime_seconds, 30);
        assert_eq!(loaded.settings.max_ram_megabytes, 256);
        assert!(!loaded.settings.networking_allowed);
        assert!(loaded.settings.require_resource_limiting);
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "max_runtime_seconds = 10\nmax_ram_megabytes = 64\n").unwrap();
        let loaded = load(
            Some(&file),
            &env(&[("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "7")]),
        )
        .unwrap();
        assert_eq!(loaded.settings.max_runtime_seconds, 7);
        assert_eq!(loaded.settings.max_ram_megabytes, 64);
        assert_eq!(
            loaded.origins["max_runtime_seconds"],
            Origin::Env("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS")
        );
    }

    #[test]
    fn malformed_env_names_the_variable() {
        let err = load(
            None,
            &env(&[
                ("NESTBOX_CONFIG", ""),
                ("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "abc"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS=\"abc\""),
            "{err}"
        );
        assert!(err.contains("whole number"), "{err}");
    }

    #[test]
    fn zero_limit_is_refused_with_its_origin() {
        let err = load(
            None,
            &env(&[
                ("NESTBOX_CONFIG", ""),
                ("CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES", "0"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES"),
            "{err}"
        );
        assert!(err.contains("at least 1"), "{err}");
    }

    #[test]
    fn unknown_file_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "max_runtime = 10\n").unwrap();
        let err = load(Some(&file), &env(&[])).unwrap_err().to_string();
        assert!(err.contains("max_runtime"), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
    }

    #[test]
    fn bad_bool_is_refused() {
        let err = load(
            None,
            &env(&[
                ("NESTBOX_CONFIG", ""),
                ("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "maybe"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("true or false"), "{err}");
    }
}
