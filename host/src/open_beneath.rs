//! Open a file the code left, beneath its run's folder, so that nothing the code did to that
//! folder can make the host read outside it. Each folder on the way is opened from the one before
//! it (cap-std: `openat` on the parent's descriptor, never a path walked again from the root) and
//! without following a symbolic link, and so is the file; only a regular file is accepted. A
//! symbolic link swapped in at any level between a listing and the open is refused, not followed.
//! The file is opened without blocking, so a FIFO swapped in cannot stall the host.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the listed name {0:?} is not a plain relative path")]
    NotRelative(String),
    #[error("opening the run's folder {path}: {source}")]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "its folder {folder:?} is no longer a plain directory (a symbolic link is never \
         followed), or is gone: {source}"
    )]
    Folder {
        folder: String,
        #[source]
        source: std::io::Error,
    },
    #[error("it could not be opened (a symbolic link is never followed): {source}")]
    Open {
        #[source]
        source: std::io::Error,
    },
    #[error("it could not be read: {source}")]
    Stat {
        #[source]
        source: std::io::Error,
    },
    #[error("it is no longer a regular file")]
    NotRegular,
}

/// Open `rel` (plain names only, as listed) beneath `root` for reading, through no symbolic link.
pub fn open_regular(root: &Path, rel: &str) -> Result<File, OpenError> {
    let path = Path::new(rel);
    let mut names = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(name) => names.push(name),
            _ => return Err(OpenError::NotRelative(rel.to_string())),
        }
    }
    let Some((file_name, folders)) = names.split_last() else {
        return Err(OpenError::NotRelative(rel.to_string()));
    };
    let mut dir =
        Dir::open_ambient_dir(root, ambient_authority()).map_err(|source| OpenError::Root {
            path: root.to_path_buf(),
            source,
        })?;
    let mut walked = PathBuf::new();
    for folder in folders {
        walked.push(folder);
        dir = dir
            .open_dir_nofollow(folder)
            .map_err(|source| OpenError::Folder {
                folder: walked.to_string_lossy().into_owned(),
                source,
            })?;
    }
    let file = dir
        .open_with(
            file_name,
            OpenOptions::new()
                .read(true)
                .follow(FollowSymlinks::No)
                .nonblock(true),
        )
        .map_err(|source| OpenError::Open { source })?
        .into_std();
    let meta = file
        .metadata()
        .map_err(|source| OpenError::Stat { source })?;
    if !meta.file_type().is_file() {
        return Err(OpenError::NotRegular);
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::symlink;

    use super::*;

    fn read(root: &Path, rel: &str) -> Result<String, OpenError> {
        let mut text = String::new();
        open_regular(root, rel)?.read_to_string(&mut text).unwrap();
        Ok(text)
    }

    #[test]
    fn plain_files_open_at_any_depth() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("a/b")).unwrap();
        std::fs::write(work.path().join("top.txt"), "top").unwrap();
        std::fs::write(work.path().join("a/b/deep.txt"), "deep").unwrap();
        assert_eq!(read(work.path(), "top.txt").unwrap(), "top");
        assert_eq!(read(work.path(), "a/b/deep.txt").unwrap(), "deep");
    }

    #[test]
    fn no_symbolic_link_is_followed_at_any_level_even_inside_the_folder() {
        let work = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "secret").unwrap();
        std::fs::create_dir(work.path().join("real")).unwrap();
        std::fs::write(work.path().join("real/f"), "inside").unwrap();
        symlink(outside.path().join("secret"), work.path().join("link")).unwrap();
        symlink(outside.path(), work.path().join("out")).unwrap();
        symlink("real", work.path().join("alias")).unwrap();
        symlink("real/f", work.path().join("alias_f")).unwrap();
        // A link to a file, outside or in.
        for rel in ["link", "alias_f"] {
            let err = read(work.path(), rel).unwrap_err();
            assert!(matches!(err, OpenError::Open { .. }), "{rel}: {err}");
        }
        // A link as a folder on the way, outside or in.
        for rel in ["out/secret", "alias/f"] {
            let err = read(work.path(), rel).unwrap_err();
            assert!(matches!(err, OpenError::Folder { .. }), "{rel}: {err}");
            assert!(
                err.to_string().contains("no longer a plain directory"),
                "{err}"
            );
        }
    }

    #[test]
    fn names_that_are_not_plain_and_files_that_are_not_regular_are_refused() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir(work.path().join("d")).unwrap();
        nix::unistd::mkfifo(&work.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        for rel in ["", "/etc/passwd", "../x", "d/../x", "./x"] {
            let err = read(work.path(), rel).unwrap_err();
            assert!(matches!(err, OpenError::NotRelative(_)), "{rel:?}: {err}");
        }
        for rel in ["d", "fifo"] {
            let err = read(work.path(), rel).unwrap_err();
            assert!(matches!(err, OpenError::NotRegular), "{rel}: {err}");
        }
    }
}
