//! A plugin's WebAssembly artifact: where it is, what hash it must have, and checking it.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::registry::Plugin;

#[derive(Debug, Error)]
pub enum ArtifactError {
    #[error("the {plugin} plugin's runtime {path} is missing; hint: {hint}")]
    Missing {
        plugin: String,
        path: PathBuf,
        hint: String,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the {plugin} plugin's runtime {path} has SHA-256 {actual}, but {expected} is expected; \
         nothing was run. hint: the file is damaged or was replaced: fetch or build it again"
    )]
    Mismatch {
        plugin: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
}

/// Identity of a file as the file system sees it: if any of these change, the content may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

impl FileStamp {
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        let m = std::fs::metadata(path)?;
        Ok(FileStamp {
            size: m.len(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
            ino: m.ino(),
            dev: m.dev(),
        })
    }
}

/// The SHA-256 the plugin's artifact must have: pinned in its manifest (validated on load).
pub fn expected_sha256(plugin: &Plugin) -> String {
    plugin.manifest.artifact.sha256.clone()
}

/// Hash the artifact and compare; returns the verified hash and the file's stamp.
pub fn verify(plugin: &Plugin) -> Result<(String, FileStamp), ArtifactError> {
    let expected = expected_sha256(plugin);
    let path = plugin.artifact_path();
    let stamp = stamp(plugin)?;
    let actual = sha256_file(&path).map_err(|source| ArtifactError::Read {
        path: path.clone(),
        source,
    })?;
    if actual != expected {
        return Err(ArtifactError::Mismatch {
            plugin: plugin.manifest.name.clone(),
            path,
            expected,
            actual,
        });
    }
    Ok((actual, stamp))
}

/// The artifact's stamp, or a "missing" error that says how to get it.
pub fn stamp(plugin: &Plugin) -> Result<FileStamp, ArtifactError> {
    let path = plugin.artifact_path();
    FileStamp::of(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ArtifactError::Missing {
                plugin: plugin.manifest.name.clone(),
                path: path.clone(),
                hint: build_hint(plugin),
            }
        } else {
            ArtifactError::Read {
                path: path.clone(),
                source: e,
            }
        }
    })
}

/// How to get a plugin's artifact: the script under `guest-runtimes/<name>/` when it exists.
fn build_hint(plugin: &Plugin) -> String {
    let name = &plugin.manifest.name;
    format!(
        "run scripts/setup.sh (it runs guest-runtimes/{name}/ to fetch or build the runtime), \
         then `nestbox plugins prepare`"
    )
}

/// SHA-256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    sha256_reader(std::fs::File::open(path)?)
}

/// SHA-256 of everything `f` reads, as lower-case hex.
pub fn sha256_reader(mut f: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 of bytes, as lower-case hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
