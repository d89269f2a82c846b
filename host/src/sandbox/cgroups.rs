//! What this host can enforce: cgroup version and controllers, and whether we are real root.
//! gVisor applies a sandbox's limits only when runsc runs as real root with the memory, cpu and
//! pids controllers available; with `--rootless` it silently applies none. nestbox checks before
//! a run and verifies after the sandbox starts that its memory limit is really in place.
//!
//! Where the sandboxes' cgroups go, so that whatever limits nestbox (a pod's memory limit, a
//! systemd unit's) limits its sandboxes too:
//! - cgroup v1: under nestbox's own cgroup in each hierarchy, `<own>/nestbox/<id>`. The bundle's
//!   `cgroupsPath` is the relative `nestbox/<id>`, which runsc joins to its own cgroup per
//!   controller (read from `/proc/self/cgroup`, less the root of that hierarchy's mount in
//!   `/proc/self/mountinfo`); runsc is nestbox's child, so its cgroup is nestbox's, and nestbox
//!   reads the same two files the same way ([`own_v1_paths`]) to find the directories. A container
//!   that sees only its own cgroup mounted (runc's bind mount) has `<own>` = the mount's root, so
//!   this is `/sys/fs/cgroup/<controller>/nestbox/<id>` there; a host or a container that sees
//!   the whole hierarchy gets the directory below its own cgroup instead of the hierarchy's root.
//! - cgroup v2: `/nestbox/<id>` below the root of nestbox's cgroup namespace: in a pod (containerd
//!   and CRI-O give each container a private cgroup namespace on v2) that root is the container's
//!   cgroup. runsc places a relative path beside its own cgroup, not below it (v2 allows no
//!   processes in a cgroup with children), so v2 keeps the absolute path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The parent cgroup of every nestbox sandbox (`<own>/nestbox/<id>` on v1, `/nestbox/<id>` on v2).
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

/// The sandbox's cgroup path as given to runsc: relative on v1 (runsc puts it under its own, so
/// nestbox's, cgroup in each hierarchy), absolute on v2 and without cgroups.
pub fn sandbox_path(version: Option<Version>, id: &str) -> PathBuf {
    match version {
        Some(Version::V1) => Path::new(PARENT).join(id),
        _ => Path::new("/").join(PARENT).join(id),
    }
}

/// This process's cgroup in each v1 hierarchy, by controller name, relative to the root of that
/// hierarchy's mount: what runsc computes for a relative `cgroupsPath`. `proc_cgroup` is
/// `/proc/self/cgroup` (`4:memory:/kubepods/pod1/c1`), `mountinfo` is `/proc/self/mountinfo`
/// (a container that sees only its own cgroup has it mounted with that root, which is removed).
pub fn own_v1_paths(proc_cgroup: &str, mountinfo: &str) -> BTreeMap<String, PathBuf> {
    let mut own = BTreeMap::new();
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        for c in controllers.split(',').filter(|c| !c.is_empty()) {
            let c = c.strip_prefix("name=").unwrap_or(c);
            own.insert(c.to_string(), PathBuf::from(path));
        }
    }
    // Fields: ID parent major:minor root mount-point options [optional...] - fs-type source super.
    for line in mountinfo.lines() {
        let Some((before, after)) = line.split_once(" - ") else {
            continue;
        };
        let mut after = after.split_whitespace();
        let (Some("cgroup"), Some(_), Some(options)) = (after.next(), after.next(), after.next())
        else {
            continue;
        };
        let Some(root) = before.split_whitespace().nth(3).filter(|r| *r != "/") else {
            continue;
        };
        for option in options.split(',') {
            let option = option.strip_prefix("name=").unwrap_or(option);
            if let Some(path) = own.get_mut(option)
                && let Ok(rel) = path.strip_prefix(root)
            {
                *path = Path::new("/").join(rel);
            }
        }
    }
    own
}

/// [`own_v1_paths`] of this process, read once (a process does not change its cgroup).
fn own_v1() -> &'static BTreeMap<String, PathBuf> {
    static OWN: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    OWN.get_or_init(|| {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        own_v1_paths(&read("/proc/self/cgroup"), &read("/proc/self/mountinfo"))
    })
}

/// The directory holding sandbox cgroups in the v1 hierarchy mounted at `CGROUP_ROOT/<mount>`
/// (`memory`, or `cpu,cpuacct`): `<mount>/<own cgroup>/nestbox`.
fn v1_parent(mount: &str) -> PathBuf {
    v1_parent_in(Path::new(CGROUP_ROOT), own_v1(), mount)
}

fn v1_parent_in(root: &Path, own: &BTreeMap<String, PathBuf>, mount: &str) -> PathBuf {
    let rel = mount
        .split(',')
        .find_map(|c| own.get(c))
        .and_then(|p| p.strip_prefix("/").ok())
        .unwrap_or(Path::new(""));
    root.join(mount).join(rel).join(PARENT)
}

/// The directory holding sandbox cgroups for `version` (`controller` names the v1 hierarchy).
fn parent(version: Version, controller: &str) -> PathBuf {
    match version {
        Version::V1 => v1_parent(controller),
        Version::V2 => Path::new(CGROUP_ROOT).join(PARENT),
    }
}

/// The directory holding sandbox memory cgroups (v1: below nestbox's own memory cgroup), for
/// the memory watch and `nestbox doctor`.
pub fn memory_parent(version: Version) -> PathBuf {
    parent(version, "memory")
}

/// Every directory that may hold sandbox cgroups: the v2 one, and in each v1 hierarchy the one
/// under nestbox's own cgroup and the hierarchy root's (where nestbox put them before it nested
/// them, so a sweep still finds those).
fn parents() -> Vec<PathBuf> {
    let root = Path::new(CGROUP_ROOT);
    let mut dirs = vec![root.join(PARENT)];
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            dirs.push(v1_parent(&name));
            dirs.push(root.join(&name).join(PARENT));
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
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
        Version::V1 => ("cpu.shares", "1024"),
        Version::V2 => ("cpu.weight", "100"),
    };
    std::fs::write(parent(version, "cpu").join(id).join(file), value)
}

/// The memory limit actually in force for a sandbox, read from its cgroup.
pub fn memory_limit(version: Version, id: &str) -> Option<u64> {
    let file = match version {
        Version::V1 => "memory.limit_in_bytes",
        Version::V2 => "memory.max",
    };
    let path = memory_parent(version).join(id).join(file);
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Every cgroup directory a sandbox may have left behind (one per v1 controller, or one in v2).
pub fn sandbox_dirs(id: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = parents().into_iter().map(|p| p.join(id)).collect();
    dirs.retain(|d| d.is_dir());
    dirs
}

/// Ids that have a cgroup directory under nestbox's parent in any controller.
pub fn sandbox_ids() -> Vec<String> {
    let mut ids: Vec<String> = parents()
        .into_iter()
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

    const MOUNTS_WHOLE: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
";

    #[test]
    fn on_a_whole_hierarchy_sandboxes_go_under_our_own_cgroup_per_controller() {
        // A host (or a container with the host's cgroup namespace) sees every hierarchy whole.
        let cgroup = "9:name=systemd:/system.slice/nestbox.service\n4:memory:/process_api/abc\n\
                      2:cpu,cpuacct:/\n1:pids:/system.slice/nestbox.service\n0::/\n";
        let own = own_v1_paths(cgroup, MOUNTS_WHOLE);
        assert_eq!(own["memory"], Path::new("/process_api/abc"));
        assert_eq!(own["cpu"], Path::new("/"));
        assert_eq!(own["cpuacct"], Path::new("/"));
        assert_eq!(own["systemd"], Path::new("/system.slice/nestbox.service"));
        let root = Path::new("/sys/fs/cgroup");
        assert_eq!(
            v1_parent_in(root, &own, "memory"),
            Path::new("/sys/fs/cgroup/memory/process_api/abc/nestbox")
        );
        assert_eq!(
            v1_parent_in(root, &own, "pids"),
            Path::new("/sys/fs/cgroup/pids/system.slice/nestbox.service/nestbox")
        );
        assert_eq!(
            v1_parent_in(root, &own, "cpu,cpuacct"),
            Path::new("/sys/fs/cgroup/cpu,cpuacct/nestbox")
        );
        // A hierarchy we know nothing of: its root.
        assert_eq!(
            v1_parent_in(root, &own, "rdma"),
            Path::new("/sys/fs/cgroup/rdma/nestbox")
        );
    }

    #[test]
    fn in_a_container_that_sees_only_its_own_cgroup_the_mount_root_is_removed() {
        // runc bind-mounts the container's own cgroup at /sys/fs/cgroup/<controller> (no cgroup
        // namespace on v1); /proc/self/cgroup still shows the node's path.
        let own_path = "/kubepods/burstable/pod1/c1";
        let cgroup = format!("4:memory:{own_path}\n1:pids:{own_path}\n");
        let mounts = format!(
            "35 31 0:32 {own_path} /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n\
             39 31 0:36 {own_path} /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"
        );
        let own = own_v1_paths(&cgroup, &mounts);
        assert_eq!(own["memory"], Path::new("/"));
        assert_eq!(own["pids"], Path::new("/"));
        let root = Path::new("/sys/fs/cgroup");
        assert_eq!(
            v1_parent_in(root, &own, "memory"),
            Path::new("/sys/fs/cgroup/memory/nestbox")
        );
        // A process in a child of the mounted cgroup keeps the rest of its path.
        let own = own_v1_paths(&format!("4:memory:{own_path}/worker\n"), &mounts);
        assert_eq!(own["memory"], Path::new("/worker"));
    }

    #[test]
    fn runsc_gets_a_relative_path_on_v1_only() {
        assert_eq!(sandbox_path(Some(Version::V1), "x"), Path::new("nestbox/x"));
        assert_eq!(
            sandbox_path(Some(Version::V2), "x"),
            Path::new("/nestbox/x")
        );
        assert_eq!(sandbox_path(None, "x"), Path::new("/nestbox/x"));
    }

    #[test]
    fn this_process_finds_its_own_memory_cgroup() {
        // Whatever this machine is, the directory is below the memory cgroup we are in.
        let Ok(text) = std::fs::read_to_string("/proc/self/cgroup") else {
            return;
        };
        let Some(own) = text
            .lines()
            .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_string()))
        else {
            return; // no v1 memory hierarchy here
        };
        let parent = v1_parent("memory");
        let mounted_root_is_whole = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.contains(" /sys/fs/cgroup/memory ") && l.split(' ').nth(3) == Some("/"));
        if mounted_root_is_whole {
            let expected = Path::new("/sys/fs/cgroup/memory")
                .join(own.trim_start_matches('/'))
                .join(PARENT);
            assert_eq!(parent, expected);
        }
        assert!(parent.starts_with("/sys/fs/cgroup/memory"));
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
