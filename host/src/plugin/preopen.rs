//! A plugin's `[[preopen]]` folders, resolved and confined. A preopen is shown to the guest
//! read-only, so it must be a real directory inside the plugin's folder: it is canonicalized (every
//! symlink on the way resolved) and must stay inside the canonical plugin folder, and nothing under
//! it may be a symlink (the whole tree is walked). Otherwise a plugin folder holding a symlink
//! could show the guest any host directory, `/` included (with `--no-gvisor` nothing else stands
//! in the way). Checked on the host before every run and again where the guest's WASI context is
//! built.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::registry::Plugin;

/// Deeper trees than this are refused rather than walked (a loop guard; real preopens are shallow).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Error)]
pub enum PreopenError {
    #[error(
        "{step} {path} (the {plugin} plugin's preopen for {guest}): {source}; nothing was run. \
         hint: a preopen must be a directory inside the plugin's folder"
    )]
    Io {
        plugin: String,
        guest: String,
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the {plugin} plugin's preopen {path} (for {guest}) resolves to {resolved}, outside the \
         plugin's folder {folder}; nothing was run. hint: put the files themselves in the plugin's \
         folder instead of a symlink to them"
    )]
    Escapes {
        plugin: String,
        guest: String,
        path: PathBuf,
        resolved: PathBuf,
        folder: PathBuf,
    },
    #[error(
        "the {plugin} plugin's preopen for {guest} holds a symlink, {path}; symlinks are refused \
         under a preopen (they could lead out of the plugin's folder); nothing was run. hint: \
         replace it with the file or folder it points to"
    )]
    Symlink {
        plugin: String,
        guest: String,
        path: PathBuf,
    },
    #[error(
        "the {plugin} plugin's preopen {path} (for {guest}) is not a directory; nothing was run. \
         hint: a preopen names a folder inside the plugin's folder"
    )]
    NotDir {
        plugin: String,
        guest: String,
        path: PathBuf,
    },
    #[error(
        "the {plugin} plugin's preopen for {guest} is nested deeper than {MAX_DEPTH} levels at \
         {path}; nothing was run. hint: flatten the folder"
    )]
    TooDeep {
        plugin: String,
        guest: String,
        path: PathBuf,
    },
}

/// A checked preopen: a canonical host directory inside the plugin's folder, and its guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub host: PathBuf,
    pub guest: String,
}

/// Resolve and confine every preopen of `plugin`.
pub fn resolve(plugin: &Plugin) -> Result<Vec<Resolved>, PreopenError> {
    let name = &plugin.manifest.name;
    plugin
        .manifest
        .preopens
        .iter()
        .map(|p| {
            let err_io = |step: &'static str, path: &Path| {
                let path = path.to_path_buf();
                move |source| PreopenError::Io {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    step,
                    path,
                    source,
                }
            };
            let folder = plugin
                .dir
                .canonicalize()
                .map_err(err_io("resolving the plugin folder", &plugin.dir))?;
            let path = plugin.dir.join(&p.host);
            let resolved = path.canonicalize().map_err(err_io("resolving", &path))?;
            if !resolved.starts_with(&folder) || resolved == folder {
                return Err(PreopenError::Escapes {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    path,
                    resolved,
                    folder,
                });
            }
            // A symlink on the way (`boot -> elsewhere/boot` inside the folder) is refused too:
            // what is checked must be what the manifest names.
            if resolved != folder.join(&p.host) {
                return Err(PreopenError::Symlink {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    path,
                });
            }
            if !resolved.is_dir() {
                return Err(PreopenError::NotDir {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    path,
                });
            }
            refuse_symlinks(&resolved, 0, &|path: PathBuf, what: Problem| match what {
                Problem::Symlink => PreopenError::Symlink {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    path,
                },
                Problem::TooDeep => PreopenError::TooDeep {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    path,
                },
                Problem::Io(step, source) => PreopenError::Io {
                    plugin: name.clone(),
                    guest: p.guest.clone(),
                    step,
                    path,
                    source,
                },
            })?;
            Ok(Resolved {
                host: resolved,
                guest: p.guest.clone(),
            })
        })
        .collect()
}

enum Problem {
    Symlink,
    TooDeep,
    Io(&'static str, std::io::Error),
}

/// Walk `dir` without following links; the first symlink found is an error.
fn refuse_symlinks(
    dir: &Path,
    depth: usize,
    error: &dyn Fn(PathBuf, Problem) -> PreopenError,
) -> Result<(), PreopenError> {
    if depth > MAX_DEPTH {
        return Err(error(dir.to_path_buf(), Problem::TooDeep));
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| error(dir.to_path_buf(), Problem::Io("listing", e)))?;
    for entry in entries {
        let entry = entry.map_err(|e| error(dir.to_path_buf(), Problem::Io("listing", e)))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| error(path.clone(), Problem::Io("inspecting", e)))?;
        if kind.is_symlink() {
            return Err(error(path, Problem::Symlink));
        }
        if kind.is_dir() {
            refuse_symlinks(&path, depth + 1, error)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::manifest::tests::sample_manifest;
    use std::os::unix::fs::symlink;

    fn plugin_in(dir: &Path) -> Plugin {
        Plugin {
            manifest: sample_manifest(),
            dir: dir.join("python"),
        }
    }

    fn folder_with_boot() -> (tempfile::TempDir, Plugin) {
        let d = tempfile::tempdir().unwrap();
        let p = plugin_in(d.path());
        std::fs::create_dir_all(p.dir.join("boot/sub")).unwrap();
        std::fs::write(p.dir.join("boot/sub/x.py"), "").unwrap();
        (d, p)
    }

    #[test]
    fn a_real_directory_inside_the_folder_is_accepted() {
        let (_d, p) = folder_with_boot();
        let r = resolve(&p).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].guest, "/boot");
        assert_eq!(r[0].host, p.dir.canonicalize().unwrap().join("boot"));
    }

    #[test]
    fn a_preopen_that_is_a_symlink_out_of_the_folder_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = plugin_in(d.path());
        std::fs::create_dir_all(&p.dir).unwrap();
        symlink("/", p.dir.join("boot")).unwrap();
        let err = resolve(&p).unwrap_err();
        assert!(matches!(err, PreopenError::Escapes { .. }), "{err}");
        let m = err.to_string();
        assert!(m.contains(&p.dir.join("boot").display().to_string()), "{m}");
        assert!(m.contains("outside the plugin's folder"), "{m}");
    }

    #[test]
    fn a_preopen_that_is_a_symlink_inside_the_folder_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = plugin_in(d.path());
        std::fs::create_dir_all(p.dir.join("real")).unwrap();
        symlink("real", p.dir.join("boot")).unwrap();
        let err = resolve(&p).unwrap_err();
        assert!(matches!(err, PreopenError::Symlink { .. }), "{err}");
    }

    #[test]
    fn a_symlink_anywhere_under_a_preopen_is_refused() {
        let (_d, p) = folder_with_boot();
        symlink("/etc", p.dir.join("boot/sub/etc")).unwrap();
        let err = resolve(&p).unwrap_err();
        let m = err.to_string();
        assert!(matches!(err, PreopenError::Symlink { .. }), "{m}");
        assert!(m.contains("boot/sub/etc"), "{m}");
    }

    #[test]
    fn a_missing_preopen_or_a_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = plugin_in(d.path());
        std::fs::create_dir_all(&p.dir).unwrap();
        let m = resolve(&p).unwrap_err().to_string();
        assert!(m.contains("resolving") && m.contains("boot"), "{m}");
        std::fs::write(p.dir.join("boot"), "").unwrap();
        let err = resolve(&p).unwrap_err();
        assert!(matches!(err, PreopenError::NotDir { .. }), "{err}");
    }
}
