//! Precompiled modules (`.cwasm`), one per plugin, keyed by the artifact's SHA-256, the Wasmtime
//! version and the engine's compatibility hash. `nestbox plugins prepare` fills the cache; the run
//! path only checks and maps them (no compiling, no copying).
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

    fn paths(&self, plugin: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{plugin}.cwasm")),
            self.dir.join(format!("{plugin}.json")),
        )
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
        let (cwasm_path, meta_path) = self.paths(name);
        self.check_permissions()?;

        let mut meta: Meta = match std::fs::read(&meta_path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(m) => m,
                Err(e) => return Ok(Err(Rebuild::Corrupt(format!("unreadable record: {e}")))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Err(Rebuild::Missing)),
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
        let (cwasm_path, meta_path) = self.paths(&plugin.manifest.name);
        let meta: Meta = std::fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| VerifyError::NotPrepared {
                path: meta_path.clone(),
            })?;
        let expected = artifact::expected_sha256(plugin);
        if meta.key != Self::key(engine, &expected) {
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
        let (cwasm_path, meta_path) = self.paths(name);
        let meta = Meta {
            plugin: name.clone(),
            key: Self::key(engine, &artifact_sha256),
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
