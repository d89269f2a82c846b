//! Per-user file storage: files an execution left in `/work`, kept under
//! `WEB_ACCESSIBLE_DIRECTORY_PATH` so Open WebUI can serve them.
//!
//! Layout: `<root>/user_files/<user>/<execution>/<path>`, where `<user>` is the first 32 hex
//! digits of SHA-256("nestbox-user:" + the Open WebUI user id) and `<execution>` is
//! `<unix time in ms, 13 digits>-<execution id>`, so a user's executions sort oldest first.
//!
//! Open WebUI serves these files from its own origin with a Content-Type guessed from the
//! extension (Starlette's `FileResponse`, Python's `mimetypes`). So only files of a known inert
//! type ([`INERT`]: images, media, plain data, documents, archives) keep their name; every other
//! file (HTML, SVG, any XML type, JavaScript, no extension, anything unknown) is kept with `.txt`
//! appended, which is served as `text/plain` and never runs as active content.
//!
//! Rules: only regular files are kept (symbolic links, devices, FIFOs are skipped; files are
//! opened without following links); names are sanitised component by component; an execution's
//! files appear all at once (copied into a hidden staging directory, then renamed into place), so
//! a crash never leaves half an execution visible; quotas (files per execution, files and MiB per
//! user) are enforced by evicting **that user's** oldest executions only; an execution that alone
//! exceeds a quota is refused (STORAGE_ERROR) and nothing of it is kept.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use crate::open_beneath;
use crate::result::FileEntry;

const STAGING_PREFIX: &str = ".staging-";
/// Extensions (lower case) kept as they are: types a browser shows as an image, media, PDF
/// (its viewer is sandboxed) or text, or downloads; none can run script in the serving origin.
/// Anything else gets `.txt` appended. Deny by default: XML types (`.xml`, `.rdf`, `.xsd`, ...)
/// may be rendered with script, and so may types a host's `/etc/mime.types` maps unexpectedly.
const INERT: &[&str] = &[
    // images (not SVG)
    "png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", "avif", "tif", "tiff",
    // audio and video
    "mp3", "wav", "ogg", "oga", "flac", "m4a", "mp4", "m4v", "webm", "mov",
    // text and data
    "txt", "csv", "tsv", "json", "jsonl", "md", "log", "py", "r", "sql", "yaml", "yml", "toml",
    "ipynb", "parquet", "npy", "npz", "sqlite", "db", "pkl", // documents
    "pdf", "xlsx", "xls", "docx", "doc", "pptx", "ppt", "odt", "ods", "odp", // archives
    "zip", "gz", "tgz", "tar", "bz2", "xz", "zst", "7z",
];

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "WEB_ACCESSIBLE_DIRECTORY_PATH is not set, so files cannot be kept; set it (Open WebUI sets \
         DATA_DIR, from which it defaults to $DATA_DIR/cache/functions/run_code)"
    )]
    NoRoot,
    #[error("the user id is empty or longer than 256 characters")]
    BadUser,
    #[error(
        "the code left {count} files but at most {max} are kept per execution \
         (MAX_FILES_PER_EXECUTION); write fewer files, or archive them into one"
    )]
    TooManyFiles { count: u64, max: u64 },
    #[error(
        "the code left {count} files but only the {listed} listed in the result can be kept; \
         write fewer files, or archive them into one"
    )]
    NotAllListed { count: u64, listed: usize },
    #[error(
        "the code left {size} bytes of files, more than this user's whole storage quota of \
         {max} bytes (MAX_MEGABYTES_PER_USER); write smaller files"
    )]
    TooLarge { size: u64, max: u64 },
    #[error(
        "the code left {count} files, more than this user's whole quota of {max} files \
         (MAX_FILES_PER_USER)"
    )]
    TooManyForUser { count: u64, max: u64 },
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(step: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StorageError {
    let path = path.to_path_buf();
    move |source| StorageError::Io { step, path, source }
}

/// The quotas, from the operator's settings.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub files_per_execution: u64,
    pub files_per_user: u64,
    pub bytes_per_user: u64,
}

pub struct Storage {
    root: PathBuf,
    url: String,
    quotas: Quotas,
}

/// What keeping an execution's files did.
#[derive(Debug, Default)]
pub struct Kept {
    /// The files, with their URLs.
    pub files: Vec<FileEntry>,
    /// Executions of this user removed to make room.
    pub evicted: usize,
    /// Files skipped because they were not regular files.
    pub skipped: Vec<String>,
    /// Files kept under another name (`.txt` appended: not a known inert type).
    pub renamed: Vec<String>,
}

impl Storage {
    pub fn new(root: Option<&Path>, url: &str, quotas: Quotas) -> Result<Storage, StorageError> {
        let root = root.ok_or(StorageError::NoRoot)?.to_path_buf();
        Ok(Storage {
            root,
            url: url.trim_end_matches('/').to_string(),
            quotas,
        })
    }

    /// The storage folder name of a user.
    pub fn user_key(user_id: &str) -> String {
        let digest = Sha256::digest(format!("nestbox-user:{user_id}").as_bytes());
        hex::encode(digest)[..32].to_string()
    }

    fn user_dir(&self, user_id: &str) -> PathBuf {
        self.root.join("user_files").join(Self::user_key(user_id))
    }

    /// Keep `files` (as listed from `work`) for `user_id`, evicting the user's oldest executions
    /// when over quota. `omitted` files were left in `work` but not listed: they count against
    /// the quotas, and since they cannot be kept, any of them refuses the whole execution.
    pub fn keep(
        &self,
        user_id: &str,
        execution_id: &str,
        work: &Path,
        files: &[FileEntry],
        omitted: u64,
    ) -> Result<Kept, StorageError> {
        if user_id.is_empty() || user_id.len() > 256 {
            return Err(StorageError::BadUser);
        }
        let q = self.quotas;
        let count = files.len() as u64 + omitted;
        if count > q.files_per_execution {
            return Err(StorageError::TooManyFiles {
                count,
                max: q.files_per_execution,
            });
        }
        if count > q.files_per_user {
            return Err(StorageError::TooManyForUser {
                count,
                max: q.files_per_user,
            });
        }
        if omitted > 0 {
            return Err(StorageError::NotAllListed {
                count,
                listed: files.len(),
            });
        }
        let total: u64 = files.iter().map(|f| f.size).sum();
        if total > q.bytes_per_user {
            return Err(StorageError::TooLarge {
                size: total,
                max: q.bytes_per_user,
            });
        }
        let mut kept = Kept::default();
        if files.is_empty() {
            return Ok(kept);
        }
        let user_dir = self.user_dir(user_id);
        std::fs::create_dir_all(&user_dir).map_err(io("creating", &user_dir))?;
        let lock_path = user_dir.join(".lock");
        let lock_file = File::create(&lock_path).map_err(io("creating", &lock_path))?;
        let _lock =
            Flock::lock(lock_file, FlockArg::LockExclusive).map_err(|(_, e)| StorageError::Io {
                step: "locking",
                path: lock_path.clone(),
                source: e.into(),
            })?;
        remove_stale_staging(&user_dir);

        let name = format!("{:013}-{}", now_ms(), sanitise(execution_id));
        let staging = user_dir.join(format!("{STAGING_PREFIX}{name}"));
        std::fs::create_dir(&staging).map_err(io("creating", &staging))?;
        let result = self.copy_all(work, files, &staging, &name, &mut kept);
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let stored_files = kept.files.len() as u64;
        let stored_bytes: u64 = kept.files.iter().map(|f| f.size).sum();
        kept.evicted = self.evict_for(&user_dir, stored_files, stored_bytes)?;
        let target = user_dir.join(&name);
        std::fs::rename(&staging, &target).map_err(io("moving into place", &target))?;
        Ok(kept)
    }

    fn copy_all(
        &self,
        work: &Path,
        files: &[FileEntry],
        staging: &Path,
        name: &str,
        kept: &mut Kept,
    ) -> Result<(), StorageError> {
        for f in files {
            let Some(mut rel) = sanitised_relative(&f.path) else {
                kept.skipped.push(f.path.clone());
                continue;
            };
            if !is_inert(&rel) {
                let mut name = rel.file_name().unwrap_or_default().to_os_string();
                name.push(".txt");
                rel.set_file_name(name);
                kept.renamed.push(f.path.clone());
            }
            let dest = staging.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            match copy_regular(work, &f.path, &dest, f.size)? {
                Some(size) => kept.files.push(FileEntry {
                    path: f.path.clone(),
                    size,
                    sha256: f.sha256.clone(),
                    url: Some(self.url_of(staging, name, &rel)),
                    storage_path: Some(format!(
                        "user_files/{}/{name}/{}",
                        staging
                            .parent()
                            .and_then(|p| p.file_name())
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        rel.display()
                    )),
                    content_base64: None,
                    content_omitted: None,
                }),
                None => kept.skipped.push(f.path.clone()),
            }
        }
        Ok(())
    }

    fn url_of(&self, staging: &Path, name: &str, rel: &Path) -> String {
        let user = staging
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path: Vec<String> = rel
            .components()
            .map(|c| percent_encode(&c.as_os_str().to_string_lossy()))
            .collect();
        format!("{}/user_files/{user}/{name}/{}", self.url, path.join("/"))
    }

    /// Remove the user's oldest executions until `new_files` and `new_bytes` fit.
    fn evict_for(
        &self,
        user_dir: &Path,
        new_files: u64,
        new_bytes: u64,
    ) -> Result<usize, StorageError> {
        let mut executions = executions(user_dir);
        let (mut files, mut bytes) = executions
            .iter()
            .fold((0u64, 0u64), |(f, b), e| (f + e.files, b + e.bytes));
        let mut evicted = 0;
        executions.sort_by(|a, b| a.name.cmp(&b.name));
        for e in executions {
            if files + new_files <= self.quotas.files_per_user
                && bytes + new_bytes <= self.quotas.bytes_per_user
            {
                break;
            }
            std::fs::remove_dir_all(&e.path).map_err(io("evicting", &e.path))?;
            files -= e.files;
            bytes -= e.bytes;
            evicted += 1;
        }
        Ok(evicted)
    }
}

struct Execution {
    name: String,
    path: PathBuf,
    files: u64,
    bytes: u64,
}

fn executions(user_dir: &Path) -> Vec<Execution> {
    let Ok(entries) = std::fs::read_dir(user_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let (files, bytes) = usage(&e.path());
            Execution {
                name: e.file_name().to_string_lossy().into_owned(),
                path: e.path(),
                files,
                bytes,
            }
        })
        .collect()
}

fn usage(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    let (f, b) = usage(&e.path());
                    files += f;
                    bytes += b;
                }
                Ok(t) if t.is_file() => {
                    files += 1;
                    bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                }
                _ => {}
            }
        }
    }
    (files, bytes)
}

/// Staging directories left by a crash (we hold the user's lock, so none is in use).
fn remove_stale_staging(user_dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(user_dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Copy `rel` beneath `work` to `dest` if it is a regular file reached through no symbolic link
/// (`open_beneath`). Returns the bytes copied, or `None` if it cannot be opened that way.
fn copy_regular(
    work: &Path,
    rel: &str,
    dest: &Path,
    expected: u64,
) -> Result<Option<u64>, StorageError> {
    // A symbolic link at any level, anything that vanished or is not a regular file: skipped.
    let Ok(file) = open_beneath::open_regular(work, rel) else {
        return Ok(None);
    };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dest)
        .map_err(io("creating", dest))?;
    // Never copy more than was listed (and counted against the quota).
    let src = work.join(rel);
    let copied = std::io::copy(&mut file.take(expected), &mut out).map_err(io("copying", &src))?;
    out.flush().map_err(io("writing", dest))?;
    Ok(Some(copied))
}

/// Names for a notice, bounded: the first few, each shortened, and how many more there are.
pub fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 10;
    const CHARS: usize = 120;
    let mut out: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| {
            if n.chars().count() <= CHARS {
                n.clone()
            } else {
                format!("{}…", n.chars().take(CHARS).collect::<String>())
            }
        })
        .collect();
    if names.len() > SHOWN {
        out.push(format!("and {} more", names.len() - SHOWN));
    }
    out.join(", ")
}

/// Compression suffixes that Python's `mimetypes` reads as an encoding: the Content-Type then
/// comes from the extension before them (`x.html.gz` is served as `text/html`).
const ENCODINGS: &[&str] = &["gz", "bz2", "xz"];

fn is_inert(path: &Path) -> bool {
    let Some(ext) = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
    else {
        return false;
    };
    if !INERT.contains(&ext.as_str()) {
        return false;
    }
    if !ENCODINGS.contains(&ext.as_str()) {
        return true;
    }
    // `data.csv.gz` and `x.gz` are fine; `page.html.gz` is not.
    let inner = Path::new(path.file_stem().unwrap_or_default());
    inner.extension().is_none() || is_inert(inner)
}

/// A relative path made of sanitised components, or `None` if nothing safe is left.
fn sanitised_relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => {
                let s = sanitise(&n.to_string_lossy());
                if s.is_empty() || s == "." || s == ".." {
                    return None;
                }
                out.push(s);
            }
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Keep letters, digits and `._-+=@,` (and non-ASCII letters); replace the rest with `_`; no
/// leading dot or dash; at most 200 bytes, keeping a short extension.
fn sanitise(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._-+=@,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.starts_with('.') || s.starts_with('-') {
        s.replace_range(0..1, "_");
    }
    if s.len() > MAX_NAME_BYTES {
        // Cut the stem, not the extension: a long-named chart stays a `.png` (and inline).
        let ext = s
            .rfind('.')
            .filter(|&dot| dot > 0 && s.len() - dot <= MAX_EXTENSION_BYTES)
            .map(|dot| s.split_off(dot))
            .unwrap_or_default();
        while s.len() + ext.len() > MAX_NAME_BYTES {
            s.pop();
        }
        s.push_str(&ext);
    }
    s
}

/// The longest name a kept file gets, in bytes.
const MAX_NAME_BYTES: usize = 200;
/// An extension at most this long (dot included) survives the cut of a long name.
const MAX_EXTENSION_BYTES: usize = 16;

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::artifact::sha256_bytes;

    fn entry(path: &str, content: &[u8]) -> FileEntry {
        FileEntry {
            path: path.into(),
            size: content.len() as u64,
            sha256: sha256_bytes(content),
            url: None,
            storage_path: None,
            content_base64: None,
            content_omitted: None,
        }
    }

    fn storage(root: &Path, files_per_user: u64, bytes_per_user: u64) -> Storage {
        Storage::new(
            Some(root),
            "/cache/x/",
            Quotas {
                files_per_execution: 3,
                files_per_user,
                bytes_per_user,
            },
        )
        .unwrap()
    }

    fn work_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Vec<FileEntry>) {
        let d = tempfile::tempdir().unwrap();
        let mut entries = Vec::new();
        for (p, c) in files {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, c).unwrap();
            entries.push(entry(p, c));
        }
        (d, entries)
    }

    #[test]
    fn keeps_files_with_urls_under_the_user() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 1000);
        let (work, files) = work_with(&[("out.csv", b"a,b"), ("sub dir/x.txt", b"x")]);
        let kept = s.keep("alice", "e1", work.path(), &files, 0).unwrap();
        assert_eq!(kept.files.len(), 2);
        let user = Storage::user_key("alice");
        let url = kept.files[1].url.as_deref().unwrap();
        assert!(
            url.starts_with(&format!("/cache/x/user_files/{user}/")),
            "{url}"
        );
        assert!(url.ends_with("-e1/sub_dir/x.txt"), "{url}");
        let on_disk = root.path().join(url.strip_prefix("/cache/x/").unwrap());
        assert_eq!(std::fs::read(on_disk).unwrap(), b"x");
    }

    #[test]
    fn evicts_only_the_same_users_oldest() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 3, 1000);
        let (w, f2) = work_with(&[("a", b"1"), ("b", b"2")]);
        s.keep("bob", "other", w.path(), &f2, 0).unwrap();
        let first = s.keep("alice", "first", w.path(), &f2, 0).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = s.keep("alice", "second", w.path(), &f2, 0).unwrap();
        assert_eq!(second.evicted, 1);
        let alice = root
            .path()
            .join("user_files")
            .join(Storage::user_key("alice"));
        let names: Vec<String> = executions(&alice).into_iter().map(|e| e.name).collect();
        assert_eq!(names.len(), 1);
        assert!(names[0].ends_with("-second"));
        assert!(first.files[0].url.is_some());
        let bob = root
            .path()
            .join("user_files")
            .join(Storage::user_key("bob"));
        assert_eq!(executions(&bob).len(), 1, "bob's files are untouched");
    }

    #[test]
    fn refuses_an_execution_that_alone_is_too_big() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 4);
        let (w, f) = work_with(&[("big", b"12345")]);
        assert!(matches!(
            s.keep("u", "e", w.path(), &f, 0),
            Err(StorageError::TooLarge { .. })
        ));
        let (w, f) = work_with(&[("1", b""), ("2", b""), ("3", b""), ("4", b"")]);
        assert!(matches!(
            s.keep("u", "e", w.path(), &f, 0),
            Err(StorageError::TooManyFiles { .. })
        ));
    }

    #[test]
    fn symlinks_and_escapes_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 1 << 20);
        let (w, mut f) = work_with(&[("ok.txt", b"ok")]);
        std::os::unix::fs::symlink("/etc/passwd", w.path().join("link")).unwrap();
        f.push(entry("link", b"whatever"));
        f.push(entry("../escape", b"x"));
        let kept = s.keep("u", "e", w.path(), &f, 0).unwrap();
        assert_eq!(kept.files.len(), 1);
        assert_eq!(
            kept.skipped,
            vec!["link".to_string(), "../escape".to_string()]
        );
    }

    #[test]
    fn a_folder_swapped_for_a_link_after_listing_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 1 << 20);
        let (w, f) = work_with(&[("sub/data.csv", b"a,b")]);
        // After the listing, `sub` becomes a link to a folder outside holding a file of the
        // same name, size and content: nothing but the link tells them apart.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("data.csv"), b"a,b").unwrap();
        std::fs::remove_dir_all(w.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(outside.path(), w.path().join("sub")).unwrap();
        let kept = s.keep("u", "e", w.path(), &f, 0).unwrap();
        assert!(kept.files.is_empty(), "{:?}", kept.files);
        assert_eq!(kept.skipped, vec!["sub/data.csv".to_string()]);
    }

    #[test]
    fn a_crash_mid_copy_leaves_nothing_visible() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 1000);
        let user = root.path().join("user_files").join(Storage::user_key("u"));
        // What a crash between copy and rename leaves behind.
        std::fs::create_dir_all(user.join(".staging-0000000000001-dead")).unwrap();
        std::fs::write(user.join(".staging-0000000000001-dead/half"), b"ha").unwrap();
        assert!(executions(&user).is_empty(), "staging is invisible");
        let (w, f) = work_with(&[("a", b"1")]);
        s.keep("u", "next", w.path(), &f, 0).unwrap();
        assert!(!user.join(".staging-0000000000001-dead").exists(), "swept");
    }

    #[test]
    fn active_content_is_kept_as_text() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 1000);
        let (w, f) = work_with(&[("plot.svg", b"<svg onload=alert(1)>"), ("a.png", b"png")]);
        let kept = s.keep("u", "e", w.path(), &f, 0).unwrap();
        assert!(
            kept.files[0]
                .url
                .as_deref()
                .unwrap()
                .ends_with("/plot.svg.txt")
        );
        assert!(kept.files[1].url.as_deref().unwrap().ends_with("/a.png"));
        assert_eq!(kept.renamed, vec!["plot.svg".to_string()]);
        let stored = root
            .path()
            .join(kept.files[0].storage_path.as_deref().unwrap());
        assert_eq!(std::fs::read(stored).unwrap(), b"<svg onload=alert(1)>");
    }

    #[test]
    fn only_inert_types_keep_their_name() {
        let root = tempfile::tempdir().unwrap();
        let s = Storage::new(
            Some(root.path()),
            "/c",
            Quotas {
                files_per_execution: 100,
                files_per_user: 100,
                bytes_per_user: 1 << 20,
            },
        )
        .unwrap();
        let table = [
            ("chart.png", "chart.png"),
            ("Photo.JPG", "Photo.JPG"),
            ("data.csv", "data.csv"),
            ("notes.md", "notes.md"),
            ("report.pdf", "report.pdf"),
            ("sheet.xlsx", "sheet.xlsx"),
            ("out.json", "out.json"),
            ("a.txt", "a.txt"),
            ("page.html", "page.html.txt"),
            ("page.HTM", "page.HTM.txt"),
            ("plot.svg", "plot.svg.txt"),
            ("feed.xml", "feed.xml.txt"),
            ("meta.rdf", "meta.rdf.txt"),
            ("api.wsdl", "api.wsdl.txt"),
            ("schema.xsd", "schema.xsd.txt"),
            ("flow.xpdl", "flow.xpdl.txt"),
            ("doc.xhtml", "doc.xhtml.txt"),
            ("m.mml", "m.mml.txt"),
            ("app.js", "app.js.txt"),
            ("style.css", "style.css.txt"),
            ("x.png.html", "x.png.html.txt"),
            ("data.csv.gz", "data.csv.gz"),
            ("backup.tar.xz", "backup.tar.xz"),
            ("page.html.gz", "page.html.gz.txt"),
            ("p.SVG.BZ2", "p.SVG.BZ2.txt"),
            ("Makefile", "Makefile.txt"),
            ("weird.unknownext", "weird.unknownext.txt"),
        ];
        let contents: Vec<(&str, &[u8])> = table.iter().map(|(n, _)| (*n, &b"<x/>"[..])).collect();
        let (w, f) = work_with(&contents);
        let kept = s.keep("u", "e", w.path(), &f, 0).unwrap();
        assert_eq!(kept.files.len(), table.len());
        for (entry, (name, want)) in kept.files.iter().zip(table) {
            let url = entry.url.as_deref().unwrap();
            assert!(url.ends_with(&format!("/{want}")), "{name}: {url}");
            assert!(
                root.path()
                    .join(entry.storage_path.as_deref().unwrap())
                    .is_file()
            );
        }
        assert_eq!(kept.renamed.len(), 17, "{:?}", kept.renamed);
    }

    #[test]
    fn files_left_out_of_the_listing_count_and_refuse_keeping() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path(), 10, 1000);
        let (w, f) = work_with(&[("a", b"1")]);
        // Over the per-execution quota (3) once the unlisted files count.
        assert!(matches!(
            s.keep("u", "e", w.path(), &f, 5),
            Err(StorageError::TooManyFiles { count: 6, max: 3 })
        ));
        // Within the quotas, but unlisted files cannot be kept: nothing is.
        let err = s.keep("u", "e", w.path(), &f, 1).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::NotAllListed {
                    count: 2,
                    listed: 1
                }
            ),
            "{err}"
        );
        assert!(
            !root
                .path()
                .join("user_files")
                .join(Storage::user_key("u"))
                .exists()
        );
    }

    #[test]
    fn name_lists_in_notices_are_bounded() {
        let names: Vec<String> = (0..25).map(|i| format!("{i}{}", "x".repeat(500))).collect();
        let list = name_list(&names);
        assert!(list.ends_with(", and 15 more"), "{list}");
        assert!(list.chars().count() < 10 * 125 + 20, "{}", list.len());
        assert_eq!(name_list(&["a".into(), "b".into()]), "a, b");
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise("a b/c"), "a_b_c");
        assert_eq!(sanitise(".hidden"), "_hidden");
        assert_eq!(sanitised_relative("x/../y"), None);
        assert_eq!(sanitised_relative("/abs"), None);
        assert_eq!(
            sanitised_relative("d/ümlaut.txt"),
            Some(PathBuf::from("d/ümlaut.txt"))
        );
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.png", "ä".repeat(150));
        let s = sanitise(&long);
        assert!(s.len() <= MAX_NAME_BYTES, "{}", s.len());
        assert!(s.ends_with(".png"), "{s}");
        assert!(s.starts_with("ää"), "{s}");
        // An "extension" too long to be one is cut like the rest.
        let odd = format!("a.{}", "b".repeat(300));
        assert_eq!(sanitise(&odd).len(), MAX_NAME_BYTES);
        assert_eq!(sanitise(&"x".repeat(300)).len(), MAX_NAME_BYTES);
    }
}
