//! The per-run work directory seen by the code as `/work`: input files go in before the run
//! (read-only copies), and what the code left there is listed after it. Listing never follows
//! symbolic links and reports regular files only.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::job::InputFile;
use crate::plugin::artifact::{sha256_bytes, sha256_file};
use crate::result::FileEntry;
use crate::runner::RunDirs;

/// The most entries listed from one work directory; beyond it the listing stops.
pub const MAX_LISTED_FILES: usize = 10_000;
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
            (Some(src), _) => std::fs::read(src).map_err(|source| WorkDirError::Io {
                step: "reading input file",
                path: src.clone(),
                source,
            })?,
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

/// List the regular files under `work`, sorted by path, leaving out unchanged inputs.
pub fn list_files(work: &Path, inputs: &Inputs) -> Vec<FileEntry> {
    let mut out = Vec::new();
    walk(work, work, 0, &mut out);
    out.retain(|f| inputs.get(&f.path) != Some(&f.sha256));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<FileEntry>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= MAX_LISTED_FILES {
            return;
        }
        // `file_type` does not follow symbolic links.
        let Ok(ft) = e.file_type() else { continue };
        let path = e.path();
        if ft.is_dir() {
            walk(root, &path, depth + 1, out);
        } else if ft.is_file() {
            let Ok(meta) = e.metadata() else { continue };
            let Ok(sha256) = sha256_file(&path) else {
                continue;
            };
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            out.push(FileEntry {
                path: rel.to_string_lossy().into_owned(),
                size: meta.len(),
                sha256,
                url: None,
                storage_path: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let files = list_files(w, &inputs);
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
}
