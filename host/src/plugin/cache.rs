//! Precompiled modules (`.cwasm`), keyed by the artifact's SHA-256, the Wasmtime version and the
//! engine's compatibility hash. `nestbox plugins prepare` fills the cache; the run path only checks
//! and maps them (no compiling, no copying).
//!
//! Each entry's file names carry its key (`<plugin>-<key prefix>.cwasm` + `.json`), so two nestbox
//! builds with different engines sharing one cache each keep their own entry instead of
//! recompiling each other's. Building an entry sweeps the same plugin's entries beyond the
//! [`KEEP_PER_PLUGIN`] most recently built (and entries of the older, unkeyed layout).
//!
//! An entry is never trusted blindly. Each is written atomically with a record holding its key,
//! its BLAKE3 hash and its file stamp (size, modification and change times, inode). Every load
//! compares the key and both files' stamps with the record; any difference (a replaced, truncated,
//! edited or touched file) means hashing in full: a module whose hash still matches is re-stamped,
//! one that does not is rebuilt, and an artifact that does not match its manifest is refused.
//! `nestbox plugins verify` hashes everything in full regardless. Hashing 30 MB on every run would
//! cost more than running `print("hi")`; a stamp cannot change without the file being written.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use wasmtime::{Engine, Module};

use super::artifact::{self, ArtifactError, FileStamp};
use super::preopen::{self, PreopenError};
use super::registry::Plugin;
use crate::engine::WASMTIME_VERSION;

#[derive(Debug, Error)]
pub enum CacheError {
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error(transparent)]
    Preopen(#[from] PreopenError),
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the module cache {path} is writable by other users, so its precompiled code cannot be trusted; \
         hint: chmod go-w {path} (or point NESTBOX_CACHE_DIR at a private folder)"
    )]
    Unsafe { path: PathBuf },
    #[error("compiling the {plugin} plugin's runtime {path}: {message}")]
    Compile {
        plugin: String,
        path: PathBuf,
        message: String,
    },
    #[error(
        "loading the precompiled module {path}: {message}; hint: run `nestbox plugins prepare`"
    )]
    Load { path: PathBuf, message: String },
}

/// Why `nestbox plugins verify` finds a precompiled module unusable. Each is fixed by
/// `nestbox plugins prepare`.
#[derive(Debug, Error)]
pub enum VerifyError {
    #[error("not prepared (no readable record {path})")]
    NotPrepared { path: PathBuf },
    #[error("stale: built for another runtime, Wasmtime or engine settings (record {path})")]
    Stale { path: PathBuf },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt: the content of {path} differs from the record")]
    Corrupt { path: PathBuf },
}

/// What is recorded beside each `.cwasm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    plugin: String,
    key: String,
    wasmtime: String,
    artifact_sha256: String,
    artifact_stamp: FileStamp,
    cwasm_stamp: FileStamp,
    cwasm_blake3: String,
}

/// Why an entry had to be (re)built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebuild {
    Missing,
    Stale(String),
    Corrupt(String),
    Forced,
}

impl std::fmt::Display for Rebuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rebuild::Missing => write!(f, "not prepared yet"),
            Rebuild::Stale(why) => write!(f, "stale ({why})"),
            Rebuild::Corrupt(why) => write!(f, "corrupt ({why})"),
            Rebuild::Forced => write!(f, "rebuild requested"),
        }
    }
}

/// A checked cache entry, ready to deserialize.
#[derive(Debug)]
pub struct Ready {
    pub plugin: String,
    pub cwasm_path: PathBuf,
    pub artifact_sha256: String,
    /// Set when the entry was (re)built by this call.
    pub rebuilt: Option<(Rebuild, Duration)>,
}

/// Progress reporting for the slow step (compiling).
pub trait Progress {
    fn compiling(&self, plugin: &str, artifact_bytes: u64, why: &Rebuild);
    fn compiled(&self, plugin: &str, took: Duration, cwasm_bytes: u64);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn compiling(&self, _: &str, _: u64, _: &Rebuild) {}
    fn compiled(&self, _: &str, _: Duration, _: u64) {}
}

pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    pub fn new(cache_dir: &Path) -> ModuleCache {
        ModuleCache {
            dir: cache_dir.join("modules"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache key: artifact hash + Wasmtime version + engine compatibility hash.
    pub fn key(engine: &Engine, artifact_sha256: &str) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let compat = h.finish();
        artifact::sha256_bytes(
            format!("{artifact_sha256}\n{}\n{compat:016x}", WASMTIME_VERSION).as_bytes(),
        )
    }

    /// The entry's files for this key: `<plugin>-<first 16 hex digits of the key>.cwasm`/`.json`.
    fn paths(&self, plugin: &str, key: &str) -> (PathBuf, PathBuf) {
        let stem = entry_stem(plugin, key);
        (
            self.dir.join(format!("{stem}.cwasm")),
            self.dir.join(format!("{stem}.json")),
        )
    }

    /// Remove `plugin`'s entries other than `keep` beyond the most recently built
    /// [`KEEP_PER_PLUGIN`], and its entries from the unkeyed layout (`<plugin>.cwasm`). Best
    /// effort: a file that cannot be removed stays, and is looked at again next build.
    fn sweep(&self, plugin: &str, keep: &str) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let prefix = format!("{plugin}-");
        let mut others: Vec<(std::time::SystemTime, String)> = Vec::new();
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            if stem == plugin {
                self.remove_entry(stem);
                continue;
            }
            let is_entry = stem.strip_prefix(&prefix).is_some_and(|k| {
                k.len() == KEY_PREFIX_LEN && k.bytes().all(|b| b.is_ascii_hexdigit())
            });
            if is_entry && stem != keep {
                let built = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                others.push((built, stem.to_string()));
            }
        }
        // Newest first; the entry just built counts as one of those kept.
        others.sort_by_key(|(built, _)| std::cmp::Reverse(*built));
        for (_, stem) in others.iter().skip(KEEP_PER_PLUGIN.saturating_sub(1)) {
            self.remove_entry(stem);
        }
    }

    /// Why there is no entry for this key: another entry of the plugin says what changed (a
    /// Wasmtime upgrade, a new runtime, other engine settings), else it was never prepared.
    fn why_missing(&self, plugin: &str, expected_sha256: &str) -> Rebuild {
        let prefix = format!("{plugin}-");
        let newest = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".json")
                    && (name.starts_with(&prefix) || name == format!("{plugin}.json"))
            })
            .filter_map(|e| Some((e.metadata().and_then(|m| m.modified()).ok()?, e.path())))
            .max_by_key(|(built, _)| *built);
        let Some(other) = newest
            .and_then(|(_, path)| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<Meta>(&bytes).ok())
        else {
            return Rebuild::Missing;
        };
        Rebuild::Stale(if other.wasmtime != WASMTIME_VERSION {
            format!(
                "built by Wasmtime {}, this is {}",
                other.wasmtime, WASMTIME_VERSION
            )
        } else if other.artifact_sha256 != expected_sha256 {
            "the plugin's runtime changed".to_string()
        } else {
            "engine settings changed".to_string()
        })
    }

    /// The record first, so a half-removed entry reads as missing, never as valid.
    fn remove_entry(&self, stem: &str) {
        let _ = std::fs::remove_file(self.dir.join(format!("{stem}.json")));
        let _ = std::fs::remove_file(self.dir.join(format!("{stem}.cwasm")));
    }

    /// Check the entry for `plugin`; build it if missing, stale or corrupt.
    pub fn ensure(
        &self,
        engine: &Engine,
        plugin: &Plugin,
        progress: &dyn Progress,
    ) -> Result<Ready, CacheError> {
        match self.check(engine, plugin)? {
            Ok(ready) => Ok(ready),
            Err(why) => self.build(engine, plugin, why, progress),
        }
    }

    /// Check without building: `Ok(Ok(ready))` when fresh, `Ok(Err(why))` when it needs a build.
    pub fn check(
        &self,
        engine: &Engine,
        plugin: &Plugin,
    ) -> Result<Result<Ready, Rebuild>, CacheError> {
        let name = &plugin.manifest.name;
        // The folders the guest will see must stay inside the plugin's folder.
        preopen::resolve(plugin)?;
        let expected = artifact::expected_sha256(plugin);
        // A missing or replaced artifact is an error even when a compiled entry exists.
        let stamp = artifact::stamp(plugin)?;
        let key = Self::key(engine, &expected);
        let (cwasm_path, meta_path) = self.paths(name, &key);
        self.check_permissions()?;

        let mut meta: Meta = match std::fs::read(&meta_path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(m) => m,
                Err(e) => return Ok(Err(Rebuild::Corrupt(format!("unreadable record: {e}")))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Err(self.why_missing(name, &expected)));
            }
            Err(source) => {
                return Err(CacheError::Io {
                    step: "reading",
                    path: meta_path,
                    source,
                });
            }
        };
        if meta.key != key {
            let why = if meta.wasmtime != WASMTIME_VERSION {
                format!(
                    "built by Wasmtime {}, this is {}",
                    meta.wasmtime, WASMTIME_VERSION
                )
            } else if meta.artifact_sha256 != expected {
                "the plugin's runtime changed".to_string()
            } else {
                "engine settings changed".to_string()
            };
            return Ok(Err(Rebuild::Stale(why)));
        }
        let mut restamp = false;
        if meta.artifact_stamp != stamp {
            // The artifact file was touched since it was last hashed: hash it again.
            let (_, new_stamp) = artifact::verify(plugin)?;
            meta.artifact_stamp = new_stamp;
            restamp = true;
        }
        let cwasm_stamp = match FileStamp::of(&cwasm_path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Err(Rebuild::Corrupt("compiled module missing".into())));
            }
            Err(source) => {
                return Err(CacheError::Io {
                    step: "reading",
                    path: cwasm_path,
                    source,
                });
            }
        };
        if cwasm_stamp != meta.cwasm_stamp {
            let bytes = std::fs::read(&cwasm_path).map_err(|source| CacheError::Io {
                step: "reading",
                path: cwasm_path.clone(),
                source,
            })?;
            if blake3::hash(&bytes).to_hex().as_str() != meta.cwasm_blake3 {
                return Ok(Err(Rebuild::Corrupt(
                    "its content differs from the record".into(),
                )));
            }
            meta.cwasm_stamp = cwasm_stamp;
            restamp = true;
        }
        if restamp {
            // Best effort: a read-only cache just hashes again next time.
            let _ = write_atomic(
                &meta_path,
                &serde_json::to_vec_pretty(&meta).unwrap_or_default(),
            );
        }
        Ok(Ok(Ready {
            plugin: name.clone(),
            cwasm_path,
            artifact_sha256: expected,
            rebuilt: None,
        }))
    }

    /// Hash an entry in full against its record (`nestbox plugins verify`).
    pub fn verify_full(&self, engine: &Engine, plugin: &Plugin) -> Result<(), VerifyError> {
        let expected = artifact::expected_sha256(plugin);
        let key = Self::key(engine, &expected);
        let (cwasm_path, meta_path) = self.paths(&plugin.manifest.name, &key);
        let meta: Meta = std::fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| VerifyError::NotPrepared {
                path: meta_path.clone(),
            })?;
        if meta.key != key {
            return Err(VerifyError::Stale { path: meta_path });
        }
        let bytes = std::fs::read(&cwasm_path).map_err(|source| VerifyError::Read {
            path: cwasm_path.clone(),
            source,
        })?;
        if blake3::hash(&bytes).to_hex().as_str() != meta.cwasm_blake3 {
            return Err(VerifyError::Corrupt { path: cwasm_path });
        }
        Ok(())
    }

    /// Compile the plugin's artifact and store it. The artifact is hashed in full first.
    pub fn build(
        &self,
        engine: &Engine,
        plugin: &Plugin,
        why: Rebuild,
        progress: &dyn Progress,
    ) -> Result<Ready, CacheError> {
        let name = &plugin.manifest.name;
        let (artifact_sha256, stamp) = artifact::verify(plugin)?;
        let artifact_path = plugin.artifact_path();
        let wasm = std::fs::read(&artifact_path).map_err(|source| CacheError::Io {
            step: "reading",
            path: artifact_path.clone(),
            source,
        })?;
        // Hash what we compile, not only what we hashed a moment ago.
        if artifact::sha256_bytes(&wasm) != artifact_sha256 {
            return Err(ArtifactError::Mismatch {
                plugin: name.clone(),
                path: artifact_path,
                expected: artifact_sha256,
                actual: artifact::sha256_bytes(&wasm),
            }
            .into());
        }
        progress.compiling(name, wasm.len() as u64, &why);
        let started = Instant::now();
        let compiled = engine
            .precompile_module(&wasm)
            .map_err(|e| CacheError::Compile {
                plugin: name.clone(),
                path: artifact_path.clone(),
                message: format!("{e:#}"),
            })?;
        let took = started.elapsed();
        progress.compiled(name, took, compiled.len() as u64);

        self.create_dir()?;
        let key = Self::key(engine, &artifact_sha256);
        let (cwasm_path, meta_path) = self.paths(name, &key);
        let meta = Meta {
            plugin: name.clone(),
            key: key.clone(),
            wasmtime: WASMTIME_VERSION.to_string(),
            artifact_sha256: artifact_sha256.clone(),
            artifact_stamp: stamp,
            // Replaced by the written file's stamp below.
            cwasm_stamp: stamp,
            cwasm_blake3: blake3::hash(&compiled).to_hex().to_string(),
        };
        // The module first, then the record that vouches for it: a crash in between leaves a
        // record that does not match, which is detected and rebuilt.
        write_atomic(&cwasm_path, &compiled)?;
        let meta = Meta {
            cwasm_stamp: FileStamp::of(&cwasm_path).map_err(|source| CacheError::Io {
                step: "reading",
                path: cwasm_path.clone(),
                source,
            })?,
            ..meta
        };
        write_atomic(
            &meta_path,
            &serde_json::to_vec_pretty(&meta).expect("serialising cache metadata"),
        )?;
        self.sweep(name, &entry_stem(name, &key));
        Ok(Ready {
            plugin: name.clone(),
            cwasm_path,
            artifact_sha256,
            rebuilt: Some((why, took)),
        })
    }

    fn create_dir(&self) -> Result<(), CacheError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| CacheError::Io {
            step: "creating the module cache",
            path: self.dir.clone(),
            source,
        })?;
        // Readable by the sandbox's unprivileged user, writable only by us.
        let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
        self.check_permissions()
    }

    fn check_permissions(&self) -> Result<(), CacheError> {
        let me = nix::unistd::geteuid().as_raw();
        for dir in [self.dir.as_path(), self.dir.parent().unwrap_or(&self.dir)] {
            // Writable only by root or by us: nobody else can plant code in it.
            if let Ok(m) = std::fs::metadata(dir)
                && (m.mode() & 0o022 != 0 || (m.uid() != 0 && m.uid() != me))
            {
                return Err(CacheError::Unsafe {
                    path: dir.to_path_buf(),
                });
            }
        }
        Ok(())
    }
}

/// How many entries of one plugin (each for another engine or runtime) the cache keeps.
pub const KEEP_PER_PLUGIN: usize = 3;
/// Hex digits of the key in an entry's file name.
const KEY_PREFIX_LEN: usize = 16;

fn entry_stem(plugin: &str, key: &str) -> String {
    format!("{plugin}-{}", &key[..KEY_PREFIX_LEN.min(key.len())])
}

/// Map a checked entry into memory (pages are loaded lazily; nothing is copied).
pub fn load(engine: &Engine, ready: &Ready) -> Result<Module, CacheError> {
    load_file(engine, &ready.cwasm_path)
}

/// Map an entry by path: after [`ModuleCache::check`] on the host, or inside the sandbox, where
/// the host checked it and mounted it read-only.
pub fn load_file(engine: &Engine, path: &Path) -> Result<Module, CacheError> {
    // SAFETY: the file was produced by `Engine::precompile_module` with a compatible engine (the
    // key covers the Wasmtime version and engine settings), in a folder only root or we can
    // write, and it is unchanged since (its stamp or full hash matches the record).
    unsafe { Module::deserialize_file(engine, path) }.map_err(|e| CacheError::Load {
        path: path.to_path_buf(),
        message: format!("{e:#}"),
    })
}

/// Write a file so readers see the old or the new content, never a half-written one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |step: &'static str| {
        move |source: std::io::Error| CacheError::Io {
            step,
            path: path.to_path_buf(),
            source,
        }
    };
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(io("creating a temporary file for"))?;
    tmp.write_all(bytes).map_err(io("writing"))?;
    tmp.as_file().sync_all().map_err(io("syncing"))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(io("setting permissions of"))?;
    tmp.persist(path).map_err(|e| CacheError::Io {
        step: "renaming into place",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str, age_secs: u64) {
        let path = dir.join(name);
        std::fs::write(&path, b"x").unwrap();
        let when = std::time::SystemTime::now() - Duration::from_secs(age_secs);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn entries_are_named_by_key_and_old_ones_swept() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = ModuleCache::new(tmp.path());
        std::fs::create_dir_all(cache.dir()).unwrap();
        let key = |c: char| c.to_string().repeat(64);
        let (cwasm, meta) = cache.paths("python", &key('a'));
        assert_eq!(cwasm, cache.dir().join("python-aaaaaaaaaaaaaaaa.cwasm"));
        assert_eq!(meta, cache.dir().join("python-aaaaaaaaaaaaaaaa.json"));
        // Four other python entries of different ages, the unkeyed layout, another plugin, and
        // files that only look alike.
        for (c, age) in [('b', 40), ('c', 30), ('d', 20), ('e', 10)] {
            let stem = entry_stem("python", &key(c));
            touch(cache.dir(), &format!("{stem}.json"), age);
            touch(cache.dir(), &format!("{stem}.cwasm"), age);
        }
        for name in [
            "python.json",
            "python.cwasm",
            "bash-bbbbbbbbbbbbbbbb.json",
            "bash-bbbbbbbbbbbbbbbb.cwasm",
            "python-notakey.json",
        ] {
            touch(cache.dir(), name, 100);
        }
        touch(cache.dir(), "python-aaaaaaaaaaaaaaaa.json", 0);
        touch(cache.dir(), "python-aaaaaaaaaaaaaaaa.cwasm", 0);
        cache.sweep("python", &entry_stem("python", &key('a')));
        assert_eq!(
            names(cache.dir()),
            [
                "bash-bbbbbbbbbbbbbbbb.cwasm",
                "bash-bbbbbbbbbbbbbbbb.json",
                "python-aaaaaaaaaaaaaaaa.cwasm",
                "python-aaaaaaaaaaaaaaaa.json",
                "python-dddddddddddddddd.cwasm",
                "python-dddddddddddddddd.json",
                "python-eeeeeeeeeeeeeeee.cwasm",
                "python-eeeeeeeeeeeeeeee.json",
                "python-notakey.json",
            ]
        );
    }

    #[test]
    fn a_missing_entry_says_what_changed_when_another_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = ModuleCache::new(tmp.path());
        std::fs::create_dir_all(cache.dir()).unwrap();
        assert!(matches!(cache.why_missing("bash", "x"), Rebuild::Missing));
        let stamp = FileStamp::of(tmp.path()).unwrap();
        let meta = |wasmtime: &str, sha: &str| Meta {
            plugin: "bash".into(),
            key: "k".repeat(64),
            wasmtime: wasmtime.into(),
            artifact_sha256: sha.into(),
            artifact_stamp: stamp,
            cwasm_stamp: stamp,
            cwasm_blake3: String::new(),
        };
        let record = cache.dir().join("bash-kkkkkkkkkkkkkkkk.json");
        let write = |m: Meta| std::fs::write(&record, serde_json::to_vec(&m).unwrap()).unwrap();
        write(meta("0.0.1", "x"));
        assert!(
            cache
                .why_missing("bash", "x")
                .to_string()
                .contains("built by Wasmtime 0.0.1")
        );
        write(meta(WASMTIME_VERSION, "y"));
        assert!(
            cache
                .why_missing("bash", "x")
                .to_string()
                .contains("runtime changed")
        );
        write(meta(WASMTIME_VERSION, "x"));
        assert!(
            cache
                .why_missing("bash", "x")
                .to_string()
                .contains("engine settings")
        );
    }
}
