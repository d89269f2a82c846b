//! Operator settings: one typed struct, read from built-in defaults, then an optional TOML
//! config file, then environment variables (which win). These are the operator's *maxima*;
//! a request (a `nestbox run` flag, a job's `limits`) may only tighten them (see [`crate::limits`]).
//!
//! Each setting is declared once, in the [`settings!`] table below: its config key (the field
//! name), its environment variable, the kind of its value, its default, the default as the README
//! shows it, and its documentation. The struct, the defaults, the config-file and environment
//! parsing, `nestbox settings` and the README's settings table all come from that table.
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
        "config file {path} is not valid: {source}\nhint: settings are lower-case keys such as `max_runtime_seconds = 30`; see `nestbox settings`"
    )]
    ParseFile {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{origin} is not valid: {message}")]
    Invalid { origin: String, message: String },
}

/// The kind of value a setting takes: how an environment variable is parsed and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// A whole number that must be at least 1 (a limit nestbox always enforces).
    Positive,
    /// A whole number that may be 0.
    Count,
    Text,
    Path,
}

impl Kind {
    fn must_be_positive(self) -> bool {
        matches!(self, Kind::Positive)
    }

    /// What a valid value looks like, for error messages.
    fn expected(self) -> &'static str {
        match self {
            Kind::Bool => "true or false",
            Kind::Positive => "a whole number of at least 1, such as 30",
            Kind::Count => "a whole number (0 or more)",
            Kind::Text => "text",
            Kind::Path => "a path",
        }
    }
}

/// One setting as declared: everything about it but its value.
#[derive(Debug)]
pub struct Key {
    /// The config-file key (and the field of [`Settings`]).
    pub name: &'static str,
    /// The environment variable that overrides it.
    pub env: &'static str,
    pub kind: Kind,
    /// The default as the README and `nestbox settings --markdown` show it.
    pub shown_default: &'static str,
    /// What it does (the field's documentation).
    pub doc: &'static str,
}

/// What the defaults depend on besides constants. `load` reads it from the environment it is
/// given (never from the process directly), so tests choose it.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// Whether nestbox runs as root (system folders) or as a user (folders in the home).
    pub root: bool,
    /// Open WebUI's `DATA_DIR`, when set.
    pub data_dir: Option<PathBuf>,
    /// `$XDG_STATE_HOME`, else `$HOME/.local/state`.
    pub state_home: Option<PathBuf>,
    /// `$XDG_CACHE_HOME`, else `$HOME/.cache`.
    pub cache_home: Option<PathBuf>,
}

impl Host {
    /// The facts from `env` and the effective user id.
    pub fn from_env(env: &dyn Env) -> Host {
        let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = var("HOME");
        Host {
            root: nix::unistd::geteuid().is_root(),
            data_dir: var("DATA_DIR"),
            state_home: var("XDG_STATE_HOME")
                .or_else(|| home.as_ref().map(|h| h.join(".local/state"))),
            cache_home: var("XDG_CACHE_HOME").or_else(|| home.as_ref().map(|h| h.join(".cache"))),
        }
    }

    /// A root host with no Open WebUI: the system defaults, the same everywhere.
    pub fn system() -> Host {
        Host {
            root: true,
            ..Host::default()
        }
    }

    /// A private folder: the system one for root, else `<home>/nestbox` (or `/tmp/nestbox`).
    fn dir(&self, system: &str, home: &Option<PathBuf>) -> PathBuf {
        if self.root {
            return PathBuf::from(system);
        }
        home.as_ref()
            .map(|d| d.join("nestbox"))
            .unwrap_or_else(|| PathBuf::from("/tmp/nestbox"))
    }
}

/// A value an environment variable can set; `None` when the text is not one.
trait FromEnv: Sized {
    fn from_env(raw: &str, kind: Kind) -> Option<Self>;
}

impl FromEnv for bool {
    fn from_env(raw: &str, _: Kind) -> Option<bool> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        }
    }
}

impl FromEnv for u64 {
    /// Zero parses here; [`validate`] refuses it for a `Positive` setting, saying why.
    fn from_env(raw: &str, _: Kind) -> Option<u64> {
        raw.trim().parse().ok()
    }
}

impl FromEnv for String {
    fn from_env(raw: &str, _: Kind) -> Option<String> {
        Some(raw.trim().to_string())
    }
}

impl FromEnv for PathBuf {
    fn from_env(raw: &str, _: Kind) -> Option<PathBuf> {
        let raw = raw.trim();
        (!raw.is_empty()).then(|| PathBuf::from(raw))
    }
}

impl FromEnv for Option<PathBuf> {
    fn from_env(raw: &str, kind: Kind) -> Option<Option<PathBuf>> {
        PathBuf::from_env(raw, kind).map(Some)
    }
}

/// The number in a setting, for the checks every `Positive` setting gets.
trait AsNumber {
    fn as_number(&self) -> Option<u64> {
        None
    }
}
impl AsNumber for u64 {
    fn as_number(&self) -> Option<u64> {
        Some(*self)
    }
}
impl AsNumber for bool {}
impl AsNumber for String {}
impl AsNumber for PathBuf {}
impl AsNumber for Option<PathBuf> {}

/// Declares every setting once; see the module docs.
macro_rules! settings {
    (|$host:ident| $(
        $(#[doc = $doc:literal])+
        $field:ident: $ty:ty = $default:expr, $env:literal, $kind:ident, $shown:literal;
    )*) => {
        /// The operator's settings. Field docs are the user-facing documentation.
        #[derive(Debug, Clone, Serialize, PartialEq)]
        pub struct Settings {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        /// What a config file may set: any subset of the settings, nothing else.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileSettings {
            $( #[serde(default)] $field: Option<$ty>, )*
        }

        /// Every setting nestbox reads, in the order `nestbox settings` and the README show them.
        pub const KEYS: &[Key] = &[$(
            Key {
                name: stringify!($field),
                env: $env,
                kind: Kind::$kind,
                shown_default: $shown,
                doc: concat!($($doc, "\n"),+),
            },
        )*];

        impl Settings {
            /// The built-in defaults on `host`.
            pub fn defaults($host: &Host) -> Settings {
                Settings { $( $field: $default, )* }
            }

            /// Take the values a config file sets, recording where they came from.
            fn overlay(
                &mut self,
                file: FileSettings,
                path: &Path,
                origins: &mut BTreeMap<&'static str, Origin>,
            ) {
                $(
                    if let Some(v) = file.$field {
                        self.$field = v;
                        origins.insert(stringify!($field), Origin::File(path.to_path_buf()));
                    }
                )*
            }

            /// Set one setting from its environment variable's text.
            fn set_from_env(&mut self, key: &Key, raw: &str) -> Result<(), SettingsError> {
                let invalid = || SettingsError::Invalid {
                    origin: format!("{}={raw:?}", key.env),
                    message: format!("expected {}", key.kind.expected()),
                };
                match key.name {
                    $( stringify!($field) => {
                        self.$field = FromEnv::from_env(raw, key.kind).ok_or_else(invalid)?;
                    } )*
                    _ => {}
                }
                Ok(())
            }

            /// The first `Positive` setting that is 0.
            fn zero_limit(&self) -> Option<&'static str> {
                $(
                    if Kind::$kind.must_be_positive() && self.$field.as_number() == Some(0) {
                        return Some(stringify!($field));
                    }
                )*
                None
            }
        }
    };
}

settings! { |host|
    /// Wall-clock limit for one execution, in seconds (the most a request may ask for).
    max_runtime_seconds: u64 = 30,
        "CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", Positive, "30";
    /// Memory limit for one execution, in MiB (the most a request may ask for).
    max_ram_megabytes: u64 = 256,
        "CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES", Positive,
        "256 (a pandas + matplotlib + seaborn chart needs 160; 128 fails in OpenBLAS)";
    /// Network access for the code. Only `false` is accepted: nestbox has no safe egress yet and
    /// never gives code the host's network.
    networking_allowed: bool = false,
        "CODE_EVAL_VALVE_OVERRIDE_NETWORKING_ALLOWED", Bool, "false (true is refused)";
    /// Refuse to run when the sandbox's resource limits cannot be enforced (not root, no cgroup
    /// controllers). When false, such runs go ahead and their result says the limits were not enforced.
    require_resource_limiting: bool = true,
        "CODE_EVAL_VALVE_OVERRIDE_REQUIRE_RESOURCE_LIMITING", Bool, "true";
    /// Install gVisor's runsc (a pinned, checksum-verified release) when it is missing.
    auto_install: bool = true,
        "CODE_EVAL_VALVE_OVERRIDE_AUTO_INSTALL", Bool, "true (pinned, verified)";
    /// Look for a newer gVisor release at most once every three days (never blocks a run).
    check_for_updates: bool = true,
        "CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES", Bool, "true (every 3 days, detached)";
    /// More detail in logs and status messages (never host details in results).
    debug: bool = false,
        "CODE_EVAL_VALVE_OVERRIDE_DEBUG", Bool, "false";
    /// Most files kept from one execution (`--keep-files`).
    max_files_per_execution: u64 = 32,
        "CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_EXECUTION", Count, "32";
    /// Most files kept per user; the user's oldest executions are evicted beyond it.
    max_files_per_user: u64 = 4096,
        "CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_USER", Count, "4096";
    /// Most MiB kept per user; the user's oldest executions are evicted beyond it.
    max_megabytes_per_user: u64 = 256,
        "CODE_EVAL_VALVE_OVERRIDE_MAX_MEGABYTES_PER_USER", Count, "256";
    /// Root of per-user file storage. Defaults to `$DATA_DIR/cache/functions/run_code` when
    /// Open WebUI's `DATA_DIR` is set.
    web_accessible_directory_path: Option<PathBuf> =
        host.data_dir.as_ref().map(|d| d.join("cache/functions/run_code")),
        "CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_PATH", Path,
        "`$DATA_DIR/cache/functions/run_code`";
    /// URL under which `web_accessible_directory_path` is served.
    web_accessible_directory_url: String = "/cache/functions/run_code".to_string(),
        "CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_URL", Text,
        "`/cache/functions/run_code`";
    /// Most MiB of file contents one result carries when its job asks for `return_files` (all
    /// files together; a file past it gets `content_omitted` instead). 0: contents are never
    /// returned.
    max_returned_megabytes: u64 = 32,
        "NESTBOX_MAX_RETURNED_MEGABYTES", Count, "32";
    /// Cap on each of stdout and stderr, in bytes; the rest is cut and the run ends as OUTPUT_LIMIT.
    max_output_bytes: u64 = 1024 * 1024,
        "NESTBOX_MAX_OUTPUT_BYTES", Positive, "1048576";
    /// Size cap of the code's `/work` directory inside the sandbox, in MiB.
    work_dir_megabytes: u64 = 64,
        "NESTBOX_WORK_DIR_MEGABYTES", Positive, "64";
    /// Size cap of the code's `/tmp` inside the sandbox, in MiB.
    tmp_megabytes: u64 = 64,
        "NESTBOX_TMP_MEGABYTES", Positive, "64";
    /// Folder holding one sub-folder per plugin (`<name>/plugin.toml`).
    plugins_dir: Option<PathBuf> = None,
        "NESTBOX_PLUGINS_DIR", Path,
        "`plugins/` near the binary, else `/usr/local/share/nestbox/plugins`";
    /// nestbox's private state: runsc state, bundles, per-run directories, locks.
    state_dir: PathBuf = host.dir("/var/lib/nestbox", &host.state_home),
        "NESTBOX_STATE_DIR", Path, "`/var/lib/nestbox` (root), else `~/.local/state/nestbox`";
    /// Precompiled plugin modules (`nestbox plugins prepare`).
    cache_dir: PathBuf = host.dir("/var/cache/nestbox", &host.cache_home),
        "NESTBOX_CACHE_DIR", Path, "`/var/cache/nestbox` (root), else `~/.cache/nestbox`";
    /// The runsc binary; found on PATH (or installed by `nestbox gvisor install`) when unset.
    runsc_path: Option<PathBuf> = None,
        "NESTBOX_RUNSC_PATH", Path, "nestbox's install, then `PATH`";
    /// gVisor platform: `auto` (the best that works here), `ptrace`, `kvm` or `systrap`.
    gvisor_platform: String = "auto".to_string(),
        "NESTBOX_GVISOR_PLATFORM", Text,
        "`auto` (systrap when the runsc has it, else ptrace)";
    /// Memory the sandbox may use beyond the code's own limit (gVisor, nestbox, compiled code), in
    /// MiB. The cgroup limit is `max_ram_megabytes` plus this, so the inner wall trips first.
    sandbox_memory_overhead_megabytes: u64 = 160,
        "NESTBOX_SANDBOX_MEMORY_OVERHEAD_MEGABYTES", Positive, "160";
    /// Where `nestbox gvisor install` (and AUTO_INSTALL) download gVisor releases from; a mirror
    /// may be given, the checksum stays the one pinned in nestbox.
    gvisor_url_base: String = DEFAULT_GVISOR_URL_BASE.to_string(),
        "NESTBOX_GVISOR_URL_BASE", Text, "gVisor's release bucket";
}

impl Default for Settings {
    /// The defaults on [`Host::system`]: the same on every machine, whatever the environment.
    fn default() -> Self {
        Settings::defaults(&Host::system())
    }
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

    let mut settings = Settings::defaults(&Host::from_env(env));
    let mut origins = BTreeMap::new();
    if let Some(path) = &config_file {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::ReadFile {
            path: path.clone(),
            source,
        })?;
        let file: FileSettings =
            toml::from_str(&text).map_err(|source| SettingsError::ParseFile {
                path: path.clone(),
                source,
            })?;
        settings.overlay(file, path, &mut origins);
    }
    for key in KEYS {
        if let Some(raw) = env.get(key.env) {
            settings.set_from_env(key, &raw)?;
            origins.insert(key.name, Origin::Env(key.env));
        }
    }
    let loaded = LoadedSettings {
        settings,
        origins,
        config_file,
    };
    validate(&loaded)?;
    Ok(loaded)
}

fn validate(loaded: &LoadedSettings) -> Result<(), SettingsError> {
    let s = &loaded.settings;
    if let Some(key) = s.zero_limit() {
        return Err(SettingsError::Invalid {
            origin: loaded.origin(key),
            message: format!(
                "{key} must be at least 1; nestbox always enforces this limit (0 would mean none)"
            ),
        });
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

/// Every setting with its current value (as TOML would spell it), for `nestbox settings`.
pub fn describe(settings: &Settings) -> Vec<(&'static Key, String)> {
    let value = toml::Value::try_from(settings).unwrap_or(toml::Value::Table(Default::default()));
    KEYS.iter()
        .map(|k| {
            let v = value
                .get(k.name)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "(unset)".to_string());
            (k, v)
        })
        .collect()
}

/// The README's settings table (`nestbox settings --markdown` prints it; a test keeps the
/// README's copy equal to it).
pub fn markdown_table() -> String {
    let mut out = String::from("| setting (config key) | environment | default |\n|---|---|---|\n");
    for k in KEYS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} |\n",
            k.name, k.env, k.shown_default
        ));
    }
    out
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
    fn a_negative_env_value_names_the_variable() {
        let err = load(
            None,
            &env(&[("NESTBOX_CONFIG", ""), ("NESTBOX_MAX_OUTPUT_BYTES", "-5")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("NESTBOX_MAX_OUTPUT_BYTES=\"-5\""), "{err}");
        assert!(!err.contains("config file"), "{err}");
    }

    #[test]
    fn defaults_come_from_the_given_environment_only() {
        let loaded = load(
            None,
            &env(&[("NESTBOX_CONFIG", ""), ("DATA_DIR", "/srv/owui")]),
        )
        .unwrap();
        assert_eq!(
            loaded.settings.web_accessible_directory_path,
            Some(PathBuf::from("/srv/owui/cache/functions/run_code"))
        );
        let none = load(None, &env(&[("NESTBOX_CONFIG", "")])).unwrap();
        assert_eq!(none.settings.web_accessible_directory_path, None);
        assert_eq!(
            Settings::default().state_dir,
            PathBuf::from("/var/lib/nestbox")
        );
    }

    #[test]
    fn every_setting_is_declared_once_and_documented() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
        let table = toml::Value::try_from(Settings::default()).unwrap();
        for k in KEYS {
            assert!(
                k.env.starts_with(VALVE_ENV_PREFIX) || k.env.starts_with(NESTBOX_ENV_PREFIX),
                "{}",
                k.env
            );
            assert!(!k.doc.trim().is_empty(), "{}", k.name);
            // Every declared key is a field (Option fields that are None are absent).
            assert!(
                table.get(k.name).is_some() || matches!(k.kind, Kind::Path),
                "{}",
                k.name
            );
        }
    }

    #[test]
    fn the_readme_settings_table_is_generated() {
        let readme = include_str!("../../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's settings table differs from the declared settings; replace it with \
             the output of `nestbox settings --markdown`:\n{table}"
        );
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
