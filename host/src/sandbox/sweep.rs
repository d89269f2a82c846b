//! The start-up sweep: Drop does not run when nestbox is SIGKILLed, so each start removes what
//! dead runs left behind: runsc state, cgroup directories, mounts and bundles. Runs whose nestbox is
//! alive hold their lock and are never touched. One sweeper at a time (`<state>/sweep.lock`); a
//! start that finds another sweeping goes on without waiting.

use std::fs::File;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use super::cgroups;
use super::rundir;
use super::runsc::Runsc;

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
pub fn sweep(state_dir: &Path, runsc: Option<&Runsc>, thorough: bool) -> Swept {
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
    if !thorough {
        return swept;
    }
    let live = |id: &str| {
        File::open(runs.join(format!("{id}.lock")))
            .ok()
            .and_then(|f| Flock::lock(f, FlockArg::LockExclusiveNonblock).err())
            .is_some()
    };
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
            if had && cgroups::remove_sandbox_dirs(&id).is_empty() {
                swept.cgroups.push(id);
            }
        }
    }
    swept
}
