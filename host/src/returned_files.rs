//! The contents of a run's files, returned in its result when the job asks (`return_files`):
//! with several servers behind one address a later download could reach another one, so the
//! files travel with the answer. Each listed file gets `content_base64` while the total stays
//! under the operator's cap (`max_returned_megabytes`); a file past it, or one that cannot be
//! read as listed, gets `content_omitted` with the reason instead. Nothing is dropped silently.
//!
//! Files are read as listed: regular files only, never through a symbolic link, never more than
//! the listed size, and only when the bytes read still have the listed SHA-256.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path};

use base64::Engine as _;

use crate::plugin::artifact::sha256_bytes;
use crate::result::FileEntry;

/// Put each file's content (or the reason it is left out) into its entry, in the listed order,
/// while the contents total at most `cap_bytes`. Returns how many were left out.
pub fn attach(work: &Path, files: &mut [FileEntry], cap_bytes: u64) -> usize {
    let mut used = 0u64;
    let mut omitted = 0;
    for entry in files.iter_mut() {
        match read(work, entry, cap_bytes.saturating_sub(used), cap_bytes) {
            Ok(bytes) => {
                used += bytes.len() as u64;
                entry.content_base64 =
                    Some(base64::engine::general_purpose::STANDARD.encode(bytes));
                entry.content_omitted = None;
            }
            Err(reason) => {
                entry.content_base64 = None;
                entry.content_omitted = Some(reason.to_string());
                omitted += 1;
            }
        }
    }
    omitted
}

/// Why a listed file's content is not returned (the result's `content_omitted`, which belongs
/// to the file's own entry, so the path is not repeated).
#[derive(Debug, thiserror::Error)]
enum Omitted {
    #[error(
        "the file ({:.1} MiB) does not fit in what is left of the {:.0} MiB the server returns \
         per result ({:.1} MiB); write smaller files, or ask the operator to raise \
         NESTBOX_MAX_RETURNED_MEGABYTES",
        mib(.size), mib(.cap), mib(.room)
    )]
    TooLarge { size: u64, cap: u64, room: u64 },
    #[error("the listed name is not a plain relative path")]
    NotPlain,
    #[error("its folder could not be read: {0}")]
    Folder(#[source] std::io::Error),
    #[error("its folder is no longer a plain directory")]
    FolderChanged,
    #[error("it could not be opened: {0}")]
    Open(#[source] std::io::Error),
    #[error("it could not be read: {0}")]
    Read(#[source] std::io::Error),
    #[error("it is no longer a regular file")]
    NotRegular,
    #[error("it changed after it was listed")]
    Changed,
}

fn mib(n: &u64) -> f64 {
    *n as f64 / (1024.0 * 1024.0)
}

/// The file's bytes as listed, or why they cannot be returned.
fn read(work: &Path, entry: &FileEntry, room: u64, cap: u64) -> Result<Vec<u8>, Omitted> {
    if entry.size > room {
        return Err(Omitted::TooLarge {
            size: entry.size,
            cap,
            room,
        });
    }
    let rel = Path::new(&entry.path);
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Omitted::NotPlain);
    }
    // Every directory on the way is checked too: none may be a symbolic link.
    let mut dir = work.to_path_buf();
    let mut parts = rel.components().peekable();
    while let Some(part) = parts.next() {
        dir.push(part);
        if parts.peek().is_some() {
            let meta = std::fs::symlink_metadata(&dir).map_err(Omitted::Folder)?;
            if !meta.file_type().is_dir() {
                return Err(Omitted::FolderChanged);
            }
        }
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&dir)
        .map_err(Omitted::Open)?;
    let meta = file.metadata().map_err(Omitted::Read)?;
    if !meta.file_type().is_file() {
        return Err(Omitted::NotRegular);
    }
    let mut bytes = Vec::with_capacity(entry.size as usize);
    file.take(entry.size + 1)
        .read_to_end(&mut bytes)
        .map_err(Omitted::Read)?;
    if bytes.len() as u64 != entry.size || sha256_bytes(&bytes) != entry.sha256 {
        return Err(Omitted::Changed);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(work: &Path, rel: &str) -> FileEntry {
        let bytes = std::fs::read(work.join(rel)).unwrap();
        FileEntry {
            path: rel.to_string(),
            size: bytes.len() as u64,
            sha256: sha256_bytes(&bytes),
            url: None,
            storage_path: None,
            content_base64: None,
            content_omitted: None,
        }
    }

    fn decoded(entry: &FileEntry) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(entry.content_base64.as_deref().unwrap())
            .unwrap()
    }

    #[test]
    fn contents_come_back_until_the_cap_and_each_file_past_it_says_why() {
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("a.txt"), b"hello").unwrap();
        std::fs::create_dir(work.path().join("sub")).unwrap();
        std::fs::write(work.path().join("sub/big.bin"), vec![7u8; 100]).unwrap();
        std::fs::write(work.path().join("z.csv"), b"x,y\n").unwrap();
        let mut files = vec![
            listed(work.path(), "a.txt"),
            listed(work.path(), "sub/big.bin"),
            listed(work.path(), "z.csv"),
        ];
        // 5 + 4 bytes fit in 10; the 100-byte file does not, and a later small one still does.
        assert_eq!(attach(work.path(), &mut files, 10), 1);
        assert_eq!(decoded(&files[0]), b"hello");
        assert_eq!(files[1].content_base64, None);
        let why = files[1].content_omitted.as_deref().unwrap();
        assert!(why.contains("NESTBOX_MAX_RETURNED_MEGABYTES"), "{why}");
        assert_eq!(decoded(&files[2]), b"x,y\n");
        // A cap of 0 returns nothing, and says so for every file.
        assert_eq!(attach(work.path(), &mut files, 0), 3);
        assert!(files.iter().all(|f| f.content_omitted.is_some()));
        // The whole file fits exactly.
        assert_eq!(attach(work.path(), &mut files, 109), 0);
        assert_eq!(decoded(&files[1]), vec![7u8; 100]);
    }

    #[test]
    fn links_escapes_and_changed_files_are_refused_with_a_reason() {
        let work = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"secret").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), work.path().join("link"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), work.path().join("dir")).unwrap();
        std::fs::write(work.path().join("f"), b"one").unwrap();
        let secret = listed(outside.path(), "secret");
        let mut files = vec![
            FileEntry {
                path: "link".into(),
                ..secret.clone()
            },
            FileEntry {
                path: "dir/secret".into(),
                ..secret.clone()
            },
            FileEntry {
                path: "../secret".into(),
                ..secret.clone()
            },
            listed(work.path(), "f"),
        ];
        std::fs::write(work.path().join("f"), b"two").unwrap();
        assert_eq!(attach(work.path(), &mut files, 1 << 20), 4);
        for f in &files {
            assert_eq!(f.content_base64, None, "{f:?}");
        }
        let reasons: Vec<&str> = files
            .iter()
            .map(|f| f.content_omitted.as_deref().unwrap())
            .collect();
        assert!(reasons[0].contains("could not be opened"), "{reasons:?}");
        assert!(
            reasons[1].contains("no longer a plain directory"),
            "{reasons:?}"
        );
        assert!(reasons[2].contains("plain relative path"), "{reasons:?}");
        assert!(
            reasons[3].contains("changed after it was listed"),
            "{reasons:?}"
        );
    }
}
