//! The installed plugins: every `<plugins_dir>/<name>/plugin.toml`.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::manifest::{Manifest, ManifestError};

/// Folders searched for plugins when the operator names none, after the ones near the binary.
const SYSTEM_PLUGIN_DIRS: &[&str] = &[
    "/usr/local/share/nestbox/plugins",
    "/usr/share/nestbox/plugins",
];

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error(
        "no plugins folder found (looked near {exe} and in {system}); \
         hint: set NESTBOX_PLUGINS_DIR (or plugins_dir in the config file) to the folder holding <name>/plugin.toml"
    )]
    NotFound { exe: String, system: String },
    #[error("reading the plugins folder {path}: {source}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("plugins {first} and {second} both answer to {name:?}; rename or remove one alias")]
    Conflict {
        name: String,
        first: String,
        second: String,
    },
}

/// A plugin: its manifest and the folder it lives in.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

impl Plugin {
    pub fn artifact_path(&self) -> PathBuf {
        self.dir.join(&self.manifest.artifact.path)
    }
}

/// Plugins found in one folder, plus the ones whose manifests are broken (kept to report them).
#[derive(Debug, Default)]
pub struct Registry {
    pub dir: PathBuf,
    pub plugins: Vec<Plugin>,
    pub broken: Vec<ManifestError>,
}

impl Registry {
    /// Load every plugin in `dir`.
    pub fn load(dir: &Path) -> Result<Registry, RegistryError> {
        let entries = std::fs::read_dir(dir).map_err(|source| RegistryError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut folders: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join("plugin.toml").is_file())
            .collect();
        folders.sort();
        let mut registry = Registry {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        for folder in folders {
            match Manifest::load(&folder.join("plugin.toml")) {
                Ok(manifest) => registry.plugins.push(Plugin {
                    manifest,
                    dir: folder,
                }),
                Err(e) => registry.broken.push(e),
            }
        }
        registry.check_conflicts()?;
        Ok(registry)
    }

    /// Find the plugins folder: the configured one, else a `plugins/` folder beside the binary
    /// or up to four levels above it (a source checkout's `target/<triple>/release/`), else the
    /// system folders.
    pub fn locate(configured: Option<&Path>) -> Result<PathBuf, RegistryError> {
        if let Some(dir) = configured {
            return Ok(dir.to_path_buf());
        }
        let exe = std::env::current_exe().unwrap_or_default();
        let near_exe = exe
            .parent()
            .into_iter()
            .flat_map(|p| p.ancestors().take(5))
            .map(|p| p.join("plugins"));
        let system = SYSTEM_PLUGIN_DIRS.iter().map(PathBuf::from);
        near_exe
            .chain(system)
            .find(|d| has_plugins(d))
            .ok_or_else(|| RegistryError::NotFound {
                exe: exe.display().to_string(),
                system: SYSTEM_PLUGIN_DIRS.join(", "),
            })
    }

    /// Look a plugin up by name or alias (case-insensitive).
    pub fn find(&self, name: &str) -> Option<&Plugin> {
        let name = name.trim().to_ascii_lowercase();
        self.plugins
            .iter()
            .find(|p| p.manifest.names().any(|n| n == name))
    }

    /// "python (python3, py), bash (sh, shell)", for messages.
    pub fn names_and_aliases(&self) -> String {
        if self.plugins.is_empty() {
            return format!("none (no plugin in {})", self.dir.display());
        }
        self.plugins
            .iter()
            .map(|p| {
                let aliases: Vec<&str> = p.manifest.names().skip(1).collect();
                if aliases.is_empty() {
                    p.manifest.name.clone()
                } else {
                    format!("{} ({})", p.manifest.name, aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check_conflicts(&self) -> Result<(), RegistryError> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for p in &self.plugins {
            for n in p.manifest.names() {
                if let Some((_, owner)) = seen
                    .iter()
                    .find(|(s, owner)| *s == n && *owner != p.manifest.name)
                {
                    return Err(RegistryError::Conflict {
                        name: n.to_string(),
                        first: owner.to_string(),
                        second: p.manifest.name.clone(),
                    });
                }
                seen.push((n, &p.manifest.name));
            }
        }
        Ok(())
    }
}

fn has_plugins(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut it| it.any(|e| e.is_ok_and(|e| e.path().join("plugin.toml").is_file())))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::manifest::tests::SAMPLE;

    #[test]
    fn loads_finds_by_alias_and_keeps_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("python")).unwrap();
        std::fs::write(dir.path().join("python/plugin.toml"), SAMPLE).unwrap();
        std::fs::create_dir_all(dir.path().join("broken")).unwrap();
        std::fs::write(dir.path().join("broken/plugin.toml"), "name = 3").unwrap();
        let r = Registry::load(dir.path()).unwrap();
        assert_eq!(r.find("PY").unwrap().manifest.name, "python");
        assert!(r.find("ruby").is_none());
        assert_eq!(r.broken.len(), 1);
        assert!(r.broken[0].to_string().contains("broken/plugin.toml"));
        assert_eq!(r.names_and_aliases(), "python (python3, py)");
    }

    #[test]
    fn alias_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b"] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            let text = SAMPLE.replace("name = \"python\"", &format!("name = \"{name}\""));
            std::fs::write(dir.path().join(name).join("plugin.toml"), text).unwrap();
        }
        let err = Registry::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("python3"), "{err}");
    }
}
