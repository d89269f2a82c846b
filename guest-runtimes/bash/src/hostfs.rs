//! A bashkit filesystem backend over a directory the WASI host preopened (`/work`, `/tmp`, `/code`).
//!
//! bashkit's own `RealFs` canonicalizes paths (WASI cannot without a preopened `/`) and goes through
//! `tokio::fs` (a blocking thread pool, which WASI preview 1 lacks). This backend calls `std::fs`
//! directly: the module is single-threaded and each call is a short WASI syscall. Containment is
//! the host's: WASI resolves every path inside a preopen and refuses `..` or symlinks that leave it.

use bashkit::{DirEntry, FileType, FsBackend, Metadata, Result};
use std::io::{Error as IoError, ErrorKind, Write};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug)]
pub struct HostDir {
    root: PathBuf,
    writable: bool,
}

impl HostDir {
    pub fn new(root: impl Into<PathBuf>, writable: bool) -> Self {
        Self {
            root: root.into(),
            writable,
        }
    }

    /// The host path for a path inside this mount (bashkit passes it rooted at `/`).
    fn real(&self, path: &Path) -> PathBuf {
        let mut out = self.root.clone();
        let mut depth = 0usize;
        for c in path.components() {
            match c {
                Component::Normal(part) => {
                    out.push(part);
                    depth += 1;
                }
                Component::ParentDir if depth > 0 => {
                    out.pop();
                    depth -= 1;
                }
                _ => {}
            }
        }
        out
    }

    fn check_writable(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(IoError::new(ErrorKind::PermissionDenied, "Read-only file system").into())
        }
    }
}

fn file_type(ft: std::fs::FileType) -> FileType {
    if ft.is_dir() {
        FileType::Directory
    } else if ft.is_symlink() {
        FileType::Symlink
    } else {
        FileType::File
    }
}

fn metadata(m: &std::fs::Metadata, writable: bool) -> Metadata {
    let file_type = file_type(m.file_type());
    // WASI preview 1 has no permission bits (std reports every file read-only): report what a
    // umask-022 Linux would, read-only on the read-only mount.
    let mode = match file_type {
        FileType::Directory => 0o755,
        _ if !writable => 0o444,
        _ => 0o644,
    };
    Metadata {
        file_type,
        size: if file_type.is_dir() { 0 } else { m.len() },
        mode,
        modified: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        created: m
            .created()
            .or_else(|_| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH),
    }
}

#[bashkit::async_trait]
impl FsBackend for HostDir {
    async fn read(&self, path: &Path) -> Result<Vec<u8>> {
        Ok(std::fs::read(self.real(path))?)
    }

    async fn write(&self, path: &Path, content: &[u8]) -> Result<()> {
        self.check_writable()?;
        Ok(std::fs::write(self.real(path), content)?)
    }

    async fn append(&self, path: &Path, content: &[u8]) -> Result<()> {
        self.check_writable()?;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.real(path))?;
        Ok(f.write_all(content)?)
    }

    async fn mkdir(&self, path: &Path, recursive: bool) -> Result<()> {
        self.check_writable()?;
        let real = self.real(path);
        if recursive {
            std::fs::create_dir_all(real)?;
        } else {
            std::fs::create_dir(real)?;
        }
        Ok(())
    }

    async fn remove(&self, path: &Path, recursive: bool) -> Result<()> {
        self.check_writable()?;
        let real = self.real(path);
        let meta = std::fs::symlink_metadata(&real)?;
        if meta.is_dir() {
            if recursive {
                std::fs::remove_dir_all(&real)?;
            } else {
                std::fs::remove_dir(&real)?;
            }
        } else {
            std::fs::remove_file(&real)?;
        }
        Ok(())
    }

    async fn stat(&self, path: &Path) -> Result<Metadata> {
        let meta = std::fs::symlink_metadata(self.real(path))?;
        Ok(metadata(&meta, self.writable))
    }

    async fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(self.real(path))? {
            let entry = entry?;
            let meta = std::fs::symlink_metadata(entry.path())?;
            entries.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                metadata: metadata(&meta, self.writable),
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    async fn exists(&self, path: &Path) -> Result<bool> {
        Ok(std::fs::symlink_metadata(self.real(path)).is_ok())
    }

    async fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.check_writable()?;
        Ok(std::fs::rename(self.real(from), self.real(to))?)
    }

    async fn copy(&self, from: &Path, to: &Path) -> Result<()> {
        self.check_writable()?;
        std::fs::copy(self.real(from), self.real(to))?;
        Ok(())
    }

    async fn symlink(&self, target: &Path, link: &Path) -> Result<()> {
        self.check_writable()?;
        if target.is_absolute() || target.components().any(|c| c == Component::ParentDir) {
            return Err(IoError::new(
                ErrorKind::PermissionDenied,
                "symlinks must stay inside their directory",
            )
            .into());
        }
        // `std::fs::soft_link` is the one portable spelling on WASI (std::os::wasi::fs is unstable).
        #[allow(deprecated)]
        std::fs::soft_link(target, self.real(link))?;
        Ok(())
    }

    async fn read_link(&self, path: &Path) -> Result<PathBuf> {
        Ok(std::fs::read_link(self.real(path))?)
    }

    async fn chmod(&self, path: &Path, _mode: u32) -> Result<()> {
        // WASI preview 1 has no permissions; succeed if the file exists, as chmod would.
        self.check_writable()?;
        std::fs::symlink_metadata(self.real(path))?;
        Ok(())
    }

    async fn set_modified_time(&self, path: &Path, time: SystemTime) -> Result<()> {
        self.check_writable()?;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.real(path))?;
        Ok(f.set_modified(time)?)
    }
}
