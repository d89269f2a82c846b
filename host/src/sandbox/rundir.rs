//! The host side of one run: `<state>/runs/<id>/` with `work/` (the code's `/work`), `scratch/`
//! (its `/tmp` and the code file) and `bundle/` (the OCI bundle). When nestbox is root, `work/`
//! and `scratch/` are size-capped tmpfs mounts owned by the sandbox user, so filling the disk ends
//! at the cap. The run directory itself is mode 0700, so no other host user can reach them. A
//! lock file held for the run's lifetime tells the start-up sweep which runs are
//! still alive: a run whose lock can be taken was abandoned (its nestbox was SIGKILLed).

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use nix::mount::{MntFlags, MsFlags};

use super::bundle::SANDBOX_UID;

#[derive(Debug, thiserror::Error)]
#[error("{step} {path}: {source}")]
pub struct RunDirError {
    pub step: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

fn err(step: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RunDirError {
    let path = path.to_path_buf();
    move |source| RunDirError { step, path, source }
}

/// Size caps for the run's writable directories, in MiB.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub work_mb: u64,
    pub scratch_mb: u64,
}

/// A run's directories, removed (and unmounted) on drop.
pub struct RunDir {
    pub id: String,
    pub root: PathBuf,
    pub work: PathBuf,
    pub scratch: PathBuf,
    pub bundle: PathBuf,
    lock_path: PathBuf,
    _lock: Flock<File>,
    mounts: Vec<PathBuf>,
}

impl RunDir {
    /// Create the run's directories under `runs`. With `caps`, `work/` and `scratch/` are tmpfs
    /// mounts of those sizes (needs root); without, plain directories.
    pub fn create(runs: &Path, id: &str, caps: Option<Caps>) -> Result<RunDir, RunDirError> {
        std::fs::create_dir_all(runs).map_err(err("creating", runs))?;
        let _ = std::fs::set_permissions(runs, std::fs::Permissions::from_mode(0o711));
        // The lock file appears under its real name already locked (locked under a hidden name,
        // then renamed), so a concurrent sweep never takes it for a dead run's.
        let lock_path = runs.join(format!("{id}.lock"));
        let hidden = runs.join(format!(".{id}.lock.new"));
        let file = File::create(&hidden).map_err(err("creating lock", &hidden))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| RunDirError {
                step: "locking",
                path: hidden.clone(),
                source: e.into(),
            })?;
        std::fs::rename(&hidden, &lock_path).map_err(err("renaming lock to", &lock_path))?;
        let root = runs.join(id);
        // Private to nestbox's user (root): the sandbox reaches work/ and scratch/ through
        // gVisor's gofer, which runs as root, while other host users, the sandbox user's host
        // namesake (nobody) included, cannot reach the code's files.
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&root)
            .map_err(err("creating", &root))?;
        let mut dir = RunDir {
            id: id.to_string(),
            work: root.join("work"),
            scratch: root.join("scratch"),
            bundle: root.join("bundle"),
            root,
            lock_path,
            _lock: lock,
            mounts: Vec::new(),
        };
        for d in [&dir.work, &dir.scratch, &dir.bundle] {
            std::fs::create_dir(d).map_err(err("creating", d))?;
        }
        let owner = nix::unistd::geteuid().is_root();
        for (path, size) in [
            (dir.work.clone(), caps.map(|c| c.work_mb)),
            (dir.scratch.clone(), caps.map(|c| c.scratch_mb)),
        ] {
            if let Some(mb) = size {
                let inodes = inode_cap(mb);
                let options = format!(
                    "size={mb}m,nr_inodes={inodes},mode=0700,uid={SANDBOX_UID},gid={SANDBOX_UID}"
                );
                nix::mount::mount(
                    Some("tmpfs"),
                    &path,
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    Some(options.as_str()),
                )
                .map_err(|e| RunDirError {
                    step: "mounting a size-capped tmpfs on",
                    path: path.clone(),
                    source: e.into(),
                })?;
                dir.mounts.push(path);
            } else if owner {
                let uid = Some(nix::unistd::Uid::from_raw(SANDBOX_UID));
                let gid = Some(nix::unistd::Gid::from_raw(SANDBOX_UID));
                nix::unistd::chown(&path, uid, gid).map_err(|e| RunDirError {
                    step: "handing to the sandbox user",
                    path: path.clone(),
                    source: e.into(),
                })?;
            }
        }
        Ok(dir)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        remove(&self.root, &self.mounts);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Unmount what is mounted under a run's root, then remove it.
fn remove(root: &Path, mounts: &[PathBuf]) {
    for m in mounts {
        let _ = nix::mount::umount2(m, MntFlags::MNT_DETACH);
    }
    let _ = std::fs::remove_dir_all(root);
}

/// Mount points under `root`, from /proc/self/mountinfo.
pub fn mounts_under(root: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(root))
        .collect();
    // Deepest first.
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found
}

/// A run left behind by a nestbox that died: its id and whether its lock could be taken.
pub struct Abandoned {
    pub id: String,
    runs: PathBuf,
    _lock: Option<Flock<File>>,
}

impl Abandoned {
    /// Remove the run's mounts, directories and lock file.
    pub fn remove_files(self) {
        let root = self.runs.join(&self.id);
        remove(&root, &mounts_under(&root));
        let _ = std::fs::remove_file(self.runs.join(format!("{}.lock", self.id)));
    }
}

/// How old a hidden lock must be before a sweep may take it for a dead creator's: a creator
/// makes the file and locks it a moment later, and a sweep that took the lock in between would
/// remove a starting run's lock (seen with 20 runs started at once).
const NEW_LOCK_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove hidden `.<id>.lock.new` files left by a nestbox that died while creating a run (any
/// still being created are locked, or too new to judge, and kept).
pub fn remove_stale_new_locks(runs: &Path) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let old_enough = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= NEW_LOCK_STALE_AFTER);
        if name.starts_with('.')
            && name.ends_with(".lock.new")
            && old_enough
            && let Ok(f) = File::open(e.path())
            && Flock::lock(f, FlockArg::LockExclusiveNonblock).is_ok()
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Runs under `runs` whose owner is gone (their lock is free, or they have no lock file).
pub fn abandoned(runs: &Path) -> Vec<Abandoned> {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .flatten()
        // Hidden names are locks being created.
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".lock").unwrap_or(&name).to_string()
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            let lock_path = runs.join(format!("{id}.lock"));
            let lock = match File::open(&lock_path) {
                Ok(f) => match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
                    Ok(l) => Some(l),
                    // Held: its nestbox is alive.
                    Err(_) => return None,
                },
                Err(_) => None,
            };
            Some(Abandoned {
                id,
                runs: runs.to_path_buf(),
                _lock: lock,
            })
        })
        .collect()
}

/// Files (and directories) a tmpfs of `mb` MiB may hold: 256 per MiB, at least 1024. Without a cap
/// a tmpfs allows millions of empty files, which cost the host memory outside the size cap and
/// time to list when the run ends.
pub fn inode_cap(mb: u64) -> u64 {
    (mb.saturating_mul(256)).max(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_runs_are_not_abandoned_and_dead_ones_are() {
        let d = tempfile::tempdir().unwrap();
        let runs = d.path().join("runs");
        let live = RunDir::create(&runs, "live", None).unwrap();
        assert!(live.work.is_dir() && live.scratch.is_dir() && live.bundle.is_dir());
        let mode = std::fs::metadata(&live.root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        // A run whose process died: directory and lock file, lock not held.
        std::fs::create_dir_all(runs.join("dead/work")).unwrap();
        std::fs::write(runs.join("dead.lock"), "").unwrap();
        let found: Vec<String> = abandoned(&runs).iter().map(|a| a.id.clone()).collect();
        assert_eq!(found, vec!["dead"]);
        for a in abandoned(&runs) {
            a.remove_files();
        }
        assert!(!runs.join("dead").exists());
        assert!(!runs.join("dead.lock").exists());
        drop(live);
        assert!(!runs.join("live").exists());
        assert!(!runs.join("live.lock").exists());

        // A lock being created is kept (locked, or just made and not locked yet); one whose
        // creator died is removed.
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let dead = File::create(runs.join(".dead.lock.new")).unwrap();
        dead.set_modified(hour_ago).unwrap();
        let held = File::create(runs.join(".busy.lock.new")).unwrap();
        held.set_modified(hour_ago).unwrap();
        let _held = Flock::lock(held, FlockArg::LockExclusiveNonblock).unwrap();
        std::fs::write(runs.join(".starting.lock.new"), "").unwrap();
        remove_stale_new_locks(&runs);
        assert!(!runs.join(".dead.lock.new").exists());
        assert!(runs.join(".busy.lock.new").exists());
        assert!(
            runs.join(".starting.lock.new").exists(),
            "a lock made a moment ago, not yet locked, was removed"
        );
    }
}
