//! What this host can enforce: cgroup version and controllers, and whether we are real root.
//! gVisor applies a sandbox's limits only when runsc runs as real root with the memory, cpu and
//! pids controllers available; with `--rootless` it silently applies none. nestbox checks before
//! a run and verifies after the sandbox starts that its memory limit is really in place.

use std::path::{Path, PathBuf};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The parent cgroup of every nestbox sandbox (`/nestbox/<id>`).
pub const PARENT: &str = "nestbox";
const NEEDED: [&str; 3] = ["memory", "cpu", "pids"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// What the host offers for limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLimits {
    pub root: bool,
    pub version: Option<Version>,
    /// Needed controllers that are missing.
    pub missing: Vec<String>,
}

impl HostLimits {
    pub fn detect() -> HostLimits {
        let root = nix::unistd::geteuid().is_root() && nix::unistd::getuid().is_root();
        let (version, missing) = detect_controllers(Path::new(CGROUP_ROOT));
        HostLimits {
            root,
            version,
            missing,
        }
    }

    /// Why limits cannot be enforced, with the fix; `None` when they can.
    pub fn problem(&self) -> Option<String> {
        if !self.root {
            return Some(
                "nestbox is not running as real root, and gVisor applies no memory, CPU or process \
                 limits without root (its --rootless mode silently drops them). fix: run nestbox as \
                 root (in a container: as root with the settings in the README), or set \
                 REQUIRE_RESOURCE_LIMITING=false to run without limits"
                    .to_string(),
            );
        }
        match self.version {
            None => Some(format!(
                "no cgroup file system is mounted at {CGROUP_ROOT}, so gVisor cannot limit memory, \
                 CPU or processes. fix: mount cgroups (in Docker, do not pass --cgroupns=private \
                 without --privileged; see the README), or set REQUIRE_RESOURCE_LIMITING=false"
            )),
            Some(_) if !self.missing.is_empty() => Some(format!(
                "the cgroup controller(s) {} are not available in {CGROUP_ROOT}, so gVisor cannot \
                 enforce those limits. fix: enable them (cgroup v2: add them to \
                 cgroup.subtree_control of the parent; v1: mount them), or set \
                 REQUIRE_RESOURCE_LIMITING=false",
                self.missing.join(", ")
            )),
            Some(_) => None,
        }
    }
}

fn detect_controllers(root: &Path) -> (Option<Version>, Vec<String>) {
    let controllers = root.join("cgroup.controllers");
    if let Ok(text) = std::fs::read_to_string(&controllers) {
        let have: Vec<&str> = text.split_whitespace().collect();
        let missing = NEEDED
            .iter()
            .filter(|c| !have.contains(c))
            .map(|c| c.to_string())
            .collect();
        return (Some(Version::V2), missing);
    }
    let v1: Vec<String> = NEEDED
        .iter()
        .filter(|c| !root.join(c).join("tasks").exists())
        .map(|c| c.to_string())
        .collect();
    if v1.len() == NEEDED.len() && !root.join("unified").exists() {
        return (None, v1);
    }
    (Some(Version::V1), v1)
}

/// The sandbox's cgroup path as given to runsc.
pub fn sandbox_path(id: &str) -> PathBuf {
    PathBuf::from(format!("/{PARENT}/{id}"))
}

/// The CPU weight (cgroup v1 `cpu.shares`) a pooled sandbox boots with: while its guest starts
/// up ahead of demand it yields the CPU to sandboxes running jobs (1024, the default, is 16
/// times this), and it is raised to the default when it is taken or when a request finds the
/// pool empty. Only the order of work changes; the CPU quota caps every sandbox alike.
pub const BACKGROUND_SHARES: u64 = 64;

/// Give a sandbox the default CPU weight again (after it booted with [`BACKGROUND_SHARES`]):
/// v1 `cpu.shares` 1024, v2 `cpu.weight` 100.
pub fn restore_cpu_weight(version: Version, id: &str) -> std::io::Result<()> {
    let (file, value) = match version {
        Version::V1 => (
            format!("{CGROUP_ROOT}/cpu/{PARENT}/{id}/cpu.shares"),
            "1024",
        ),
        Version::V2 => (format!("{CGROUP_ROOT}/{PARENT}/{id}/cpu.weight"), "100"),
    };
    std::fs::write(file, value)
}

/// The memory limit actually in force for a sandbox, read from its cgroup.
pub fn memory_limit(version: Version, id: &str) -> Option<u64> {
    let file = match version {
        Version::V1 => format!("{CGROUP_ROOT}/memory/{PARENT}/{id}/memory.limit_in_bytes"),
        Version::V2 => format!("{CGROUP_ROOT}/{PARENT}/{id}/memory.max"),
    };
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Every cgroup directory a sandbox may have left behind (one per v1 controller, or one in v2).
pub fn sandbox_dirs(id: &str) -> Vec<PathBuf> {
    let root = Path::new(CGROUP_ROOT);
    let mut dirs = vec![root.join(PARENT).join(id)];
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let d = e.path().join(PARENT).join(id);
            if d.is_dir() {
                dirs.push(d);
            }
        }
    }
    dirs.retain(|d| d.is_dir());
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Ids that have a cgroup directory under nestbox's parent in any controller.
pub fn sandbox_ids() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(CGROUP_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(PARENT))
        .chain(std::iter::once(Path::new(CGROUP_ROOT).join(PARENT)))
        .filter_map(|parent| std::fs::read_dir(parent).ok())
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// How long ago the youngest of a sandbox's cgroup directories was made or touched (`None` when
/// it has none, or a time cannot be read: treat that as young).
pub fn youngest_age(id: &str) -> Option<std::time::Duration> {
    let dirs = sandbox_dirs(id);
    let mut youngest: Option<std::time::Duration> = None;
    for d in &dirs {
        let age = std::fs::metadata(d)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())?;
        youngest = Some(youngest.map_or(age, |y| y.min(age)));
    }
    youngest
}

/// Whether no process is in any of a sandbox's cgroup directories (or below them). Unreadable
/// counts as occupied: never remove what might be in use.
pub fn holds_no_processes(id: &str) -> bool {
    sandbox_dirs(id).iter().all(|d| tree_is_empty(d))
}

fn tree_is_empty(dir: &Path) -> bool {
    let empty = ["cgroup.procs", "tasks"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|f| f.exists())
        .all(|f| std::fs::read_to_string(f).is_ok_and(|t| t.trim().is_empty()));
    empty
        && std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .all(|e| tree_is_empty(&e.path()))
        })
}

/// Remove a dead sandbox's cgroup directories (children first). Directories that still hold
/// processes cannot be removed; those are reported.
pub fn remove_sandbox_dirs(id: &str) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for dir in sandbox_dirs(id) {
        remove_tree(&dir);
        if dir.exists() {
            left.push(dir);
        }
    }
    left
}

fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                remove_tree(&e.path());
            }
        }
    }
    // cgroup directories are removed with rmdir even though they list files.
    let _ = std::fs::remove_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_v2_controllers() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("cgroup.controllers"),
            "cpuset cpu io memory\n",
        )
        .unwrap();
        let (v, missing) = detect_controllers(d.path());
        assert_eq!(v, Some(Version::V2));
        assert_eq!(missing, vec!["pids"]);
    }

    #[test]
    fn detects_v1_and_nothing() {
        let d = tempfile::tempdir().unwrap();
        let (v, missing) = detect_controllers(d.path());
        assert_eq!(v, None);
        assert_eq!(missing.len(), 3);
        for c in ["memory", "cpu", "pids"] {
            std::fs::create_dir_all(d.path().join(c)).unwrap();
            std::fs::write(d.path().join(c).join("tasks"), "").unwrap();
        }
        assert_eq!(detect_controllers(d.path()), (Some(Version::V1), vec![]));
    }

    #[test]
    fn problems_name_the_fix() {
        let h = HostLimits {
            root: false,
            version: Some(Version::V1),
            missing: vec![],
        };
        assert!(
            h.problem()
                .unwrap()
                .contains("REQUIRE_RESOURCE_LIMITING=false")
        );
        let h = HostLimits {
            root: true,
            version: Some(Version::V2),
            missing: vec!["pids".into()],
        };
        assert!(h.problem().unwrap().contains("pids"));
        let h = HostLimits {
            root: true,
            version: Some(Version::V1),
            missing: vec![],
        };
        assert!(h.problem().is_none());
    }
}
