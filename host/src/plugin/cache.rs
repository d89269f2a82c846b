//! Precompiled modules (`.cwasm`), one per plugin, keyed by the artifact's SHA-256, the Wasmtime
//! version and the engine's compatibility hash. `nestbox plugins prepare` fills the cache; the run
//! path only checks and deserializes. An entry is never trusted blindly: its key, its size and its
//! BLAKE3 hash are checked on every load, and the artifact's stamp (size, times, inode) is compared
//! with the one recorded when it was last hashed, so a replaced artifact is hashed again. A stale or
//! corrupt entry is rebuilt.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use wasmtime::{Engine, Module};

use super::artifact::{self, ArtifactError, FileStamp};
use super::registry::Plugin;
use crate::runner::engine::WASMTIME_VERSION;

#[derive(Debug, Error)]
pub enum CacheError {
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
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

/// What is recorded beside each `.cwasm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    plugin: String,
    key: String,
    wasmtime: String,
    artifact_sha256: String,
    artifact_stamp: FileStamp,
    cwasm_size: u64,
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
    /// The entry's bytes, already read for the check.
    pub bytes: Vec<u8>,
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
        let expected = artifact::expected_sha256(plugin)?;
        // A missing or replaced artifact is an error even when a compiled entry exists.
        let stamp = artifact::stamp(plugin)?;
        let key = Self::key(engine, &expected);
        let (cwasm_path, meta_path) = self.paths(name);
        self.check_permissions()?;

        let meta: Meta = match std::fs::read(&meta_path) {
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
        if meta.artifact_stamp != stamp {
            // The artifact file was touched since it was last hashed: hash it again.
            let (_, new_stamp) = artifact::verify(plugin)?;
            let meta = Meta {
                artifact_stamp: new_stamp,
                ..meta.clone()
            };
            // Best effort: a read-only cache just rehashes next time.
            let _ = write_atomic(
                &meta_path,
                &serde_json::to_vec_pretty(&meta).unwrap_or_default(),
            );
        }
        let bytes = match std::fs::read(&cwasm_path) {
            Ok(b) => b,
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
        if bytes.len() as u64 != meta.cwasm_size {
            return Ok(Err(Rebuild::Corrupt(format!(
                "{} bytes, {} recorded",
                bytes.len(),
                meta.cwasm_size
            ))));
        }
        let actual = blake3::hash(&bytes).to_hex().to_string();
        if actual != meta.cwasm_blake3 {
            return Ok(Err(Rebuild::Corrupt(
                "content hash differs from the record".into(),
            )));
        }
        Ok(Ok(Ready {
            plugin: name.clone(),
            cwasm_path,
            bytes,
            artifact_sha256: expected,
            rebuilt: None,
        }))
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
            cwasm_size: compiled.len() as u64,
            cwasm_blake3: blake3::hash(&compiled).to_hex().to_string(),
        };
        // The module first, then the record that vouches for it: a crash in between leaves a
        // record that does not match, which is detected and rebuilt.
        write_atomic(&cwasm_path, &compiled)?;
        write_atomic(
            &meta_path,
            &serde_json::to_vec_pretty(&meta).expect("serialising cache metadata"),
        )?;
        Ok(Ready {
            plugin: name.clone(),
            cwasm_path,
            bytes: compiled,
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

/// Deserialize a checked entry.
pub fn load(engine: &Engine, ready: &Ready) -> Result<Module, CacheError> {
    // SAFETY: the bytes were produced by `Engine::precompile_module` with a compatible engine
    // (the key covers the Wasmtime version and engine settings) and were checked against the
    // BLAKE3 hash recorded when they were written, in a folder only we can write.
    unsafe { Module::deserialize(engine, &ready.bytes) }.map_err(|e| CacheError::Load {
        path: ready.cwasm_path.clone(),
        message: format!("{e:#}"),
    })
}

/// Deserialize an entry by path, inside the sandbox, where the host has already checked it.
pub fn load_file(engine: &Engine, path: &Path) -> Result<Module, CacheError> {
    // SAFETY: the host checked this entry (see `load`) and mounted it read-only.
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
