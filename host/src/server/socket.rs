//! The server's unix socket: only a stale socket at the path is replaced (never a file, a
//! directory or a socket another server accepts on), and the new socket is owner-only (0600,
//! checked after the chmod) or the server does not start.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error(
        "{path} exists and is not a socket; nestbox serve will not delete it: choose another \
         --socket path or remove it yourself"
    )]
    NotASocket { path: PathBuf },
    #[error(
        "another server is accepting connections on {path}; stop it first or choose another \
         --socket path"
    )]
    InUse { path: PathBuf },
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the socket {path} has mode {mode:o} after chmod 600, so others could connect; \
         nestbox serve does not start with a socket that is not owner-only (check the file \
         system: it must support unix permissions)"
    )]
    NotPrivate { path: PathBuf, mode: u32 },
}

/// Bind `path` as an owner-only unix socket, replacing only a stale socket.
pub fn bind(path: &Path) -> Result<tokio::net::UnixListener, SocketError> {
    let io = |step: &'static str| {
        let path = path.to_path_buf();
        move |source| SocketError::Io { step, path, source }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| SocketError::Io {
            step: "creating the socket's directory",
            path: parent.to_path_buf(),
            source,
        })?;
    }
    ensure_free(path)?;
    let listener = tokio::net::UnixListener::bind(path).map_err(io("listening on"))?;
    let private = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io("making owner-only (chmod 600)"))
        .and_then(|()| std::fs::symlink_metadata(path).map_err(io("checking the mode of")))
        .and_then(|meta| match meta.permissions().mode() & 0o777 {
            0o600 => Ok(()),
            mode => Err(SocketError::NotPrivate {
                path: path.to_path_buf(),
                mode,
            }),
        });
    if let Err(e) = private {
        drop(listener);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(listener)
}

/// Nothing at `path`, or a socket nobody accepts on (removed): fine. Anything else: refused.
pub fn ensure_free(path: &Path) -> Result<(), SocketError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(SocketError::Io {
                step: "looking at",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !meta.file_type().is_socket() {
        return Err(SocketError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(SocketError::InUse {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .map_err(|source| SocketError::Io {
                step: "removing the stale socket",
                path: path.to_path_buf(),
                source,
            }),
        Err(source) => Err(SocketError::Io {
            step: "checking whether a server accepts on",
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "keep me").unwrap();
        assert!(matches!(bind(&file), Err(SocketError::NotASocket { .. })));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

        let sock = dir.path().join("s.sock");
        let live = bind(&sock).unwrap();
        let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(bind(&sock), Err(SocketError::InUse { .. })));
        drop(live);
        // Its listener is gone: the socket file is stale and may be replaced.
        assert!(sock.exists());
        let _again = bind(&sock).unwrap();
    }
}
