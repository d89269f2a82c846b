//! The per-run work directory seen by the code as `/work`: input files go in before the run
//! (read-only copies), and what the code left there is listed after it. Listing never follows
//! symbolic links, reports regular files only, and is bounded: at most [`MAX_LISTED_FILES`]
//! files and [`MAX_LISTED_NAME_BYTES`] of names; the rest are only counted.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::job::InputFile;
use crate::open_beneath::open_regular;
use crate::plugin::artifact::{sha256_bytes, sha256_reader};
use crate::result::{FileEntry, RunResult};
use crate::runner::RunDirs;

/// The most files listed in one result; further files are counted in `files_omitted`.
pub const MAX_LISTED_FILES: usize = 1000;
/// The most bytes of file names (relative paths) listed in one result.
pub const MAX_LISTED_NAME_BYTES: usize = 256 * 1024;
/// The largest input file read from a host path (the default `/work` is 64 MiB).
pub const MAX_INPUT_FILE_BYTES: u64 = 1024 * 1024 * 1024;
/// The deepest directory level listed.
const MAX_DEPTH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum WorkDirError {
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("input file {name:?}: content is not valid base64 ({message})")]
    BadBase64 { name: String, message: String },
    #[error("input file {name:?}: {source}")]
    Input {
        name: String,
        #[source]
        source: HostFileError,
    },
}

/// Why a file named on the host (code, standard input, an input file) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HostFileError {
    #[error("{path} is a {kind}, not a regular file")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Read a regular file of at most `limit` bytes. Anything else is refused before a byte is read:
/// a FIFO would block, a device such as `/dev/zero` would never end. The file is opened without
/// blocking and checked again once open, so a swap between the checks is caught too.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, HostFileError> {
    let io = |step| {
        move |source| HostFileError::Io {
            step,
            path: path.to_path_buf(),
            source,
        }
    };
    let check = |ft: std::fs::FileType| {
        if ft.is_file() {
            return Ok(());
        }
        let kind = if ft.is_dir() {
            "directory"
        } else if ft.is_fifo() {
            "FIFO (named pipe)"
        } else if ft.is_char_device() {
            "character device"
        } else if ft.is_block_device() {
            "block device"
        } else if ft.is_socket() {
            "socket"
        } else {
            "special file"
        };
        Err(HostFileError::NotRegular {
            path: path.to_path_buf(),
            kind,
        })
    };
    check(std::fs::metadata(path).map_err(io("reading"))?.file_type())?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io("opening"))?;
    check(file.metadata().map_err(io("reading"))?.file_type())?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io("reading"))?;
    if bytes.len() as u64 > limit {
        return Err(HostFileError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// The input files placed in `/work`, by name and SHA-256, so they are not reported as output
/// unless the code changed them.
pub type Inputs = BTreeMap<String, String>;

/// Get a run's directories ready: create the code's `/tmp` and `/code`, write the code file, and
/// place the input files in `/work`.
pub fn stage(
    dirs: &RunDirs,
    code_file: &str,
    code: &str,
    inputs: &[InputFile],
) -> Result<Inputs, WorkDirError> {
    for d in [&dirs.tmp, &dirs.code] {
        std::fs::create_dir_all(d).map_err(|source| WorkDirError::Io {
            step: "creating run directory",
            path: d.clone(),
            source,
        })?;
    }
    let path = dirs.code.join(code_file);
    std::fs::write(&path, code).map_err(|source| WorkDirError::Io {
        step: "writing the code to",
        path,
        source,
    })?;
    place_inputs(&dirs.work, inputs)
}

/// Copy the input files into `work` as read-only files.
pub fn place_inputs(work: &Path, files: &[InputFile]) -> Result<Inputs, WorkDirError> {
    let mut placed = Inputs::new();
    for f in files {
        let dest = work.join(&f.name);
        let bytes = match (&f.source_path, &f.content_base64) {
            // Never more than the work directory could hold.
            (Some(src), _) => {
                read_regular(src, MAX_INPUT_FILE_BYTES).map_err(|source| WorkDirError::Input {
                    name: f.name.clone(),
                    source,
                })?
            }
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| WorkDirError::BadBase64 {
                    name: f.name.clone(),
                    message: e.to_string(),
                })?,
            (None, None) => Vec::new(),
        };
        std::fs::write(&dest, &bytes).map_err(|source| WorkDirError::Io {
            step: "writing input file",
            path: dest.clone(),
            source,
        })?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o444)).map_err(
            |source| WorkDirError::Io {
                step: "making input file read-only",
                path: dest.clone(),
                source,
            },
        )?;
        placed.insert(f.name.clone(), sha256_bytes(&bytes));
    }
    Ok(placed)
}

/// The [`Inputs`] record of files given inline (base64), as the guest will place them.
pub fn inline_inputs<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Inputs {
    files
        .into_iter()
        .filter_map(|(name, b64)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()?;
            Some((name.to_string(), sha256_bytes(&bytes)))
        })
        .collect()
}

/// The files the code left in `/work`, bounded: what goes into a result's `files` and
/// `files_omitted`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// The listed files, sorted by path.
    pub files: Vec<FileEntry>,
    /// Regular files left out because the list was full.
    pub omitted: u64,
}

impl Listing {
    /// Put the listing into `result`: the files, how many were left out, and a notice saying so.
    pub fn apply_to(self, result: &mut RunResult) {
        if self.omitted > 0 {
            result.notices.push(format!(
                "{} more file(s) in /work are not listed: a result lists at most {} files and \
                 {} KiB of names; write fewer files, or archive them into one",
                self.omitted,
                MAX_LISTED_FILES,
                MAX_LISTED_NAME_BYTES / 1024
            ));
        }
        result.files = self.files;
        result.files_omitted = self.omitted;
    }
}

/// List the regular files under `work`, sorted by path, leaving out unchanged inputs. Once
/// [`MAX_LISTED_FILES`] files or [`MAX_LISTED_NAME_BYTES`] of names are listed, further files
/// are only counted (not hashed).
pub fn list_files(work: &Path, inputs: &Inputs) -> Listing {
    let mut walk = Walk::new(work, inputs);
    walk.dir(work, 0);
    let mut listing = walk.listing;
    listing.files.sort_by(|a, b| a.path.cmp(&b.path));
    listing
}

struct Walk<'a> {
    root: &'a Path,
    inputs: &'a Inputs,
    listing: Listing,
    name_bytes: usize,
    full: bool,
}

impl<'a> Walk<'a> {
    fn new(root: &'a Path, inputs: &'a Inputs) -> Walk<'a> {
        Walk {
            root,
            inputs,
            listing: Listing::default(),
            name_bytes: 0,
            full: false,
        }
    }

    fn dir(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            // `file_type` does not follow symbolic links.
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() {
                self.dir(&path, depth + 1);
            } else if ft.is_file() {
                self.file(&path);
            }
        }
    }

    /// Size and SHA-256 of the listed file `rel`, opened beneath the run's folder through no
    /// symbolic link (`open_beneath`), so a link swapped in after `read_dir` is never followed;
    /// `None` when it is no longer a regular file or cannot be read.
    fn hash(&self, rel: &str) -> Option<(u64, String)> {
        let file = open_regular(self.root, rel).ok()?;
        let size = file.metadata().ok()?.len();
        Some((size, sha256_reader(file).ok()?))
    }

    fn file(&mut self, path: &Path) {
        let Ok(rel) = path.strip_prefix(self.root) else {
            return;
        };
        let rel = rel.to_string_lossy().into_owned();
        let input = self.inputs.get(&rel);
        if self.full
            || self.listing.files.len() >= MAX_LISTED_FILES
            || self.name_bytes + rel.len() > MAX_LISTED_NAME_BYTES
        {
            // Inputs are few and small: check them even here so an unchanged one is not counted.
            let unchanged = input.is_some_and(|h| self.hash(&rel).is_some_and(|(_, s)| &s == h));
            if !unchanged {
                self.full = true;
                self.listing.omitted += 1;
            }
            return;
        }
        let Some((size, sha256)) = self.hash(&rel) else {
            return;
        };
        if input == Some(&sha256) {
            return;
        }
        self.name_bytes += rel.len();
        self.listing.files.push(FileEntry {
            path: rel,
            size,
            sha256,
            url: None,
            content_base64: None,
            content_omitted: None,
            storage_path: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_swapped_for_a_link_after_the_listing_read_it_is_not_followed() {
        // What `read_dir` saw was a plain folder; by the time the file is hashed, the folder is a
        // link to somewhere outside. The hash must not be of the outside file.
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("out.txt"), "secret").unwrap();
        let w = dir.path();
        std::os::unix::fs::symlink(outside.path(), w.join("sub")).unwrap();
        let inputs = Inputs::default();
        let mut walk = Walk::new(w, &inputs);
        walk.file(&w.join("sub/out.txt"));
        assert!(walk.listing.files.is_empty(), "{:?}", walk.listing.files);
        // The same file in a plain folder is listed: the check above can fail.
        std::fs::remove_file(w.join("sub")).unwrap();
        std::fs::create_dir(w.join("sub")).unwrap();
        std::fs::write(w.join("sub/out.txt"), "secret").unwrap();
        walk.file(&w.join("sub/out.txt"));
        assert_eq!(walk.listing.files.len(), 1);
        assert_eq!(walk.listing.files[0].sha256, sha256_bytes(b"secret"));
    }

    #[test]
    fn lists_regular_files_only_and_skips_unchanged_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        let inputs = place_inputs(
            w,
            &[InputFile {
                name: "in.csv".into(),
                source_path: None,
                content_base64: Some(base64::engine::general_purpose::STANDARD.encode("a,b\n")),
            }],
        )
        .unwrap();
        std::fs::create_dir(w.join("sub")).unwrap();
        std::fs::write(w.join("sub/out.txt"), "hello").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", w.join("link")).unwrap();
        let listing = list_files(w, &inputs);
        assert_eq!(listing.omitted, 0);
        let files = listing.files;
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].path, "sub/out.txt");
        assert_eq!(files[0].size, 5);
        assert_eq!(files[0].sha256, sha256_bytes(b"hello"));
        let mode = std::fs::metadata(w.join("in.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o444);
    }

    #[test]
    fn the_listing_stops_at_the_count_and_name_caps_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        for i in 0..MAX_LISTED_FILES + 5 {
            std::fs::write(w.join(format!("f{i:05}")), "x").unwrap();
        }
        let listing = list_files(w, &Inputs::new());
        assert_eq!(listing.files.len(), MAX_LISTED_FILES);
        assert_eq!(listing.omitted, 5);
        assert_eq!(listing.files[0].path, "f00000");

        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        let long = "n".repeat(250);
        let deep = w.join([long.as_str(); 15].join("/"));
        std::fs::create_dir_all(&deep).unwrap();
        for i in 0..100 {
            std::fs::write(deep.join(format!("{i:03}")), "x").unwrap();
        }
        let listing = list_files(w, &Inputs::new());
        let names: usize = listing.files.iter().map(|f| f.path.len()).sum();
        assert!(names <= MAX_LISTED_NAME_BYTES, "{names}");
        assert!(listing.files.len() < 100);
        assert_eq!(listing.files.len() as u64 + listing.omitted, 100);

        let mut result = RunResult::not_run(crate::result::Status::Ok, "");
        listing.clone().apply_to(&mut result);
        assert_eq!(result.files_omitted, listing.omitted);
        assert!(result.notices[0].contains("more file(s) in /work are not listed"));
    }

    #[test]
    fn host_files_are_read_bounded_and_only_when_regular() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_regular(&f, 5).unwrap(), b"12345");
        assert!(matches!(
            read_regular(&f, 4),
            Err(HostFileError::TooLarge { limit: 4, .. })
        ));
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = read_regular(&fifo, 5).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = read_regular(Path::new("/dev/zero"), 5).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(matches!(
            read_regular(dir.path(), 5),
            Err(HostFileError::NotRegular {
                kind: "directory",
                ..
            })
        ));
    }
}
