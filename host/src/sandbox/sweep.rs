//! The start-up sweep: Drop does not run when nestbox is SIGKILLed, so each start removes what
//! dead runs left behind: runsc state, cgroup directories, mounts and bundles. Runs whose nestbox is
//! alive hold their lock and are never touched. One sweeper at a time (`<state>/sweep.lock`); a
//! start that finds another sweeping goes on without waiting. Cgroup directories outlive their
//! state dir (a test's, say), so each sweep also removes those under `nestbox/` that nothing owns:
//! no live run lock here, no process in them, and no runsc process naming their id.

use std::fs::File;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use super::cgroups;
use super::container::ContainerRuntime;
use super::rundir;

/// What a sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub runs: Vec<String>,
    pub runsc_states: Vec<String>,
    pub cgroups: Vec<String>,
}

impl Swept {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.runsc_states.is_empty() && self.cgroups.is_empty()
    }
}

/// Remove abandoned runs (cheap: a directory listing and a lock attempt per run).
/// With `thorough`, also ask runsc for state it still holds for ids no live run owns.
pub fn sweep(state_dir: &Path, runsc: Option<&dyn ContainerRuntime>, thorough: bool) -> Swept {
    let mut swept = Swept::default();
    let _ = std::fs::create_dir_all(state_dir);
    let lock_path = state_dir.join("sweep.lock");
    let Ok(file) = File::create(&lock_path) else {
        return swept;
    };
    let Ok(_lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else {
        return swept;
    };
    let runs = state_dir.join("runs");
    rundir::remove_stale_new_locks(&runs);
    for run in rundir::abandoned(&runs) {
        if let Some(r) = runsc {
            // Not listed is fine: `delete --force` of a missing id succeeds.
            let _ = r.delete(&run.id);
        }
        cgroups::remove_sandbox_dirs(&run.id);
        swept.runs.push(run.id.clone());
        run.remove_files();
    }
    let live = |id: &str| {
        File::open(runs.join(format!("{id}.lock")))
            .ok()
            .and_then(|f| Flock::lock(f, FlockArg::LockExclusiveNonblock).err())
            .is_some()
    };
    swept.cgroups = remove_ownerless_cgroups(&live);
    if !thorough {
        return swept;
    }
    if let Some(r) = runsc
        && let Ok(ids) = r.list()
    {
        for id in ids.into_iter().filter(|id| !live(id)) {
            if r.delete(&id).is_ok() {
                swept.runsc_states.push(id.clone());
            }
            // Only ids this state dir knows: another nestbox (another state dir) may be running
            // sandboxes under the same cgroup parent.
            let had = !cgroups::sandbox_dirs(&id).is_empty();
            if had && cgroups::remove_sandbox_dirs(&id).is_empty() && !swept.cgroups.contains(&id) {
                swept.cgroups.push(id);
            }
        }
    }
    swept
}

/// How old an ownerless cgroup must be before a sweep removes it. A run of another state dir
/// (whose lock this sweep cannot see) holds an empty memory cgroup for a moment before runsc
/// starts and after it exits, while nestbox reads its OOM counters; never take it then.
const ORPHAN_CGROUP_AGE: std::time::Duration = std::time::Duration::from_secs(120);

/// Remove sandbox cgroups that nothing owns: not a live run of this state dir, no process in
/// them, no process (a runsc of any nestbox, whatever its state dir) naming their id, and made
/// at least [`ORPHAN_CGROUP_AGE`] ago.
fn remove_ownerless_cgroups(live: &dyn Fn(&str) -> bool) -> Vec<String> {
    let candidates: Vec<String> = cgroups::sandbox_ids()
        .into_iter()
        .filter(|id| !live(id) && cgroups::holds_no_processes(id))
        .filter(|id| cgroups::youngest_age(id).is_some_and(|age| age >= ORPHAN_CGROUP_AGE))
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let cmdlines = command_lines();
    candidates
        .into_iter()
        .filter(|id| !cmdlines.iter().any(|c| contains(c, id.as_bytes())))
        .filter(|id| cgroups::remove_sandbox_dirs(id).is_empty())
        .collect()
}

/// The command lines of every process on the host.
fn command_lines() -> Vec<Vec<u8>> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids_in_command_lines() {
        assert!(contains(b"runsc\0run\0--bundle=/x/abc/bundle\0abc", b"abc"));
        assert!(!contains(b"runsc\0list", b"abc"));
        assert!(!contains(b"anything", b""));
        // This test's own command line is among them.
        let me = std::fs::read("/proc/self/cmdline").unwrap();
        assert!(command_lines().contains(&me));
    }
}
