//! `nestbox gvisor install`: download runsc for this architecture from a **pinned** gVisor release
//! and check it against a SHA-512 **pinned in nestbox** (never one fetched from the same server),
//! then install it atomically into a root-owned directory. A mirror may serve the file
//! (`--url-base`, honours HTTPS_PROXY); it cannot change what is accepted. An operator who wants
//! another release gives both its name and its SHA-512 (`--release R --sha512 HEX`), obtained
//! out of band.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha512};

/// The gVisor release this nestbox installs.
pub const PINNED_RELEASE: &str = "20260817.0";
/// SHA-512 of `runsc` in [`PINNED_RELEASE`], per architecture (from gVisor's published checksums).
pub const PINNED_SHA512: &[(&str, &str)] = &[
    (
        "x86_64",
        "84936438d583ec976800f464e75a83e1515f0890b451b9b4db219c4472b54ca9b106a6772ee683f1e64cce2128871d7637b14d800591f8451b8137f6c39fb2ef",
    ),
    (
        "aarch64",
        "6394fd161a4af0dc9a2c29f75c3016d05275a55744f124e12023fa7666a9f161c68d6ce3803ad49205c6a7b5bee0ad2ccf48edff340db344fdafec678c788aa4",
    ),
];
/// The largest runsc accepted (it is about 60 MB).
const MAX_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(
        "gVisor has no pinned runsc for the {0} architecture; install runsc yourself and set NESTBOX_RUNSC_PATH"
    )]
    Architecture(String),
    #[error(
        "--release and --sha512 go together: give both (the checksum must come from a source you trust) or neither"
    )]
    HalfPin,
    #[error("--sha512 must be 128 hex digits")]
    BadChecksum,
    #[error(
        "downloading {url}: {message}; hint: check the network or HTTPS_PROXY, or use --url-base for a mirror"
    )]
    Download { url: String, message: String },
    #[error(
        "the runsc downloaded from {url} has SHA-512 {actual}, but {expected} is pinned for release \
         {release}; it was NOT installed (the download is corrupt or was tampered with)"
    )]
    Mismatch {
        url: String,
        release: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{path} must be owned by root and not writable by group or others; fix its permissions or choose another --dir"
    )]
    UnsafeDir { path: PathBuf },
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the installed {path} does not run: {detail}")]
    Broken { path: PathBuf, detail: String },
}

/// What to install.
#[derive(Debug, Clone)]
pub struct Pin {
    pub release: String,
    pub arch: String,
    pub sha512: String,
}

impl Pin {
    /// The built-in pin for this machine, or an operator's (release, checksum) pair.
    pub fn choose(release: Option<&str>, sha512: Option<&str>) -> Result<Pin, InstallError> {
        let arch = std::env::consts::ARCH.to_string();
        match (release, sha512) {
            (None, None) => {
                let sha = PINNED_SHA512
                    .iter()
                    .find(|(a, _)| *a == arch)
                    .map(|(_, s)| s.to_string())
                    .ok_or_else(|| InstallError::Architecture(arch.clone()))?;
                Ok(Pin {
                    release: PINNED_RELEASE.to_string(),
                    arch,
                    sha512: sha,
                })
            }
            (Some(r), Some(s)) => {
                let s = s.trim().to_ascii_lowercase();
                if s.len() != 128 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(InstallError::BadChecksum);
                }
                Ok(Pin {
                    release: r.to_string(),
                    arch,
                    sha512: s,
                })
            }
            _ => Err(InstallError::HalfPin),
        }
    }

    pub fn url(&self, base: &str) -> String {
        format!(
            "{}/{}/{}/runsc",
            base.trim_end_matches('/'),
            self.release,
            self.arch
        )
    }
}

/// Reports download progress.
pub trait DownloadProgress: Send + Sync {
    fn started(&self, url: &str, total: Option<u64>);
    fn advanced(&self, bytes: u64);
    fn finished(&self);
}

/// No progress output.
pub struct Silent;

impl DownloadProgress for Silent {
    fn started(&self, _: &str, _: Option<u64>) {}
    fn advanced(&self, _: u64) {}
    fn finished(&self) {}
}

/// Download, check and install runsc into `dir`; returns the installed path.
pub async fn install(
    pin: &Pin,
    url_base: &str,
    dir: &Path,
    progress: &dyn DownloadProgress,
) -> Result<PathBuf, InstallError> {
    prepare_dir(dir)?;
    let url = pin.url(url_base);
    let download = |message: String| InstallError::Download {
        url: url.clone(),
        message,
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| download(e.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| download(e.to_string()))?;
    progress.started(&url, response.content_length());

    // A random name in the target directory: never a predictable /tmp path, and the final rename
    // stays on one file system.
    let mut tmp = tempfile::Builder::new()
        .prefix(".runsc-download-")
        .tempfile_in(dir)
        .map_err(|source| InstallError::Io {
            step: "creating a temporary file in",
            path: dir.to_path_buf(),
            source,
        })?;
    let mut hasher = Sha512::new();
    let mut received = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| download(e.to_string()))?;
        received += chunk.len() as u64;
        if received > MAX_BYTES {
            return Err(download(format!(
                "more than {MAX_BYTES} bytes: not a runsc binary"
            )));
        }
        hasher.update(&chunk);
        tmp.write_all(&chunk).map_err(|source| InstallError::Io {
            step: "writing",
            path: tmp.path().to_path_buf(),
            source,
        })?;
        progress.advanced(received);
    }
    progress.finished();
    let actual = hex::encode(hasher.finalize());
    if actual != pin.sha512 {
        return Err(InstallError::Mismatch {
            url,
            release: pin.release.clone(),
            expected: pin.sha512.clone(),
            actual,
        });
    }
    let io = |step: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| InstallError::Io { step, path, source }
    };
    tmp.as_file()
        .sync_all()
        .map_err(io("syncing", tmp.path()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o755))
        .map_err(io("setting permissions of", tmp.path()))?;
    let target = dir.join("runsc");
    tmp.persist(&target).map_err(|e| InstallError::Io {
        step: "moving into place",
        path: target.clone(),
        source: e.error,
    })?;
    verify_runs(&target)?;
    Ok(target)
}

/// Create `dir` if needed (root-owned, 0755) and refuse one that others could write to.
fn prepare_dir(dir: &Path) -> Result<(), InstallError> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|source| InstallError::Io {
            step: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    }
    let meta = std::fs::metadata(dir).map_err(|source| InstallError::Io {
        step: "checking",
        path: dir.to_path_buf(),
        source,
    })?;
    if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return Err(InstallError::UnsafeDir {
            path: dir.to_path_buf(),
        });
    }
    Ok(())
}

fn verify_runs(path: &Path) -> Result<(), InstallError> {
    let mut cmd = std::process::Command::new(path);
    cmd.arg("--version").env_clear();
    let out = super::reaper::global()
        .output(cmd)
        .map_err(|e| InstallError::Broken {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(InstallError::Broken {
            path: path.to_path_buf(),
            detail: format!("`runsc --version` exited with {}", out.status),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_pin_is_well_formed() {
        for (arch, sha) in PINNED_SHA512 {
            assert!(["x86_64", "aarch64"].contains(arch));
            assert_eq!(sha.len(), 128);
            assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let pin = Pin::choose(None, None).unwrap();
        assert_eq!(pin.release, PINNED_RELEASE);
        assert_eq!(
            pin.url("https://mirror/x/"),
            format!(
                "https://mirror/x/{PINNED_RELEASE}/{}/runsc",
                std::env::consts::ARCH
            )
        );
    }

    #[test]
    fn an_operator_pin_needs_both_parts() {
        assert!(matches!(
            Pin::choose(Some("1"), None),
            Err(InstallError::HalfPin)
        ));
        assert!(matches!(
            Pin::choose(Some("1"), Some("abc")),
            Err(InstallError::BadChecksum)
        ));
        let sha = "a".repeat(128);
        assert_eq!(Pin::choose(Some("1"), Some(&sha)).unwrap().sha512, sha);
    }
}
