//! The memory cgroup's own record of a sandbox's end: did the kernel's OOM killer act in it? A
//! sandbox that dies by SIGKILL (runsc exit 137) was only killed for memory when its cgroup says
//! so; anything else killed it from outside.
//!
//! `runsc run` removes the cgroups it created as it exits, counters and all, before nestbox can
//! read them. On cgroup v1 runsc leaves alone a controller's cgroup that already exists (it joins
//! it, does not configure it, and does not remove it), so nestbox creates the sandbox's memory
//! cgroup itself, with the same limits the bundle asks for, and reads `memory.oom_control`
//! (`oom_kill`), `memory.failcnt` and `memory.max_usage_in_bytes` after runsc has exited. On
//! cgroup v2 runsc ignores every resource of a pre-created cgroup, so nothing is pre-created and
//! `memory.events` is read while it still exists (when it is gone, no OOM can be confirmed).

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::cgroups::{self, Version};

#[derive(Debug, Error)]
pub enum OomError {
    #[error(
        "{step} {path}: {source}; hint: nestbox must be root with the cgroup v1 memory controller \
         mounted at /sys/fs/cgroup/memory (see `nestbox doctor`)"
    )]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A sandbox's memory cgroup, watched for OOM kills.
#[derive(Debug)]
pub struct MemoryWatch {
    version: Version,
    dir: PathBuf,
    /// nestbox created it (v1), so nestbox removes it.
    owned: bool,
}

/// What the memory cgroup recorded. `None` fields could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryRecord {
    pub oom_kills: Option<u64>,
    pub failcnt: Option<u64>,
    pub max_usage_bytes: Option<u64>,
    pub limit_bytes: Option<u64>,
}

impl MemoryWatch {
    /// Set up the watch for sandbox `id` before runsc starts. On v1 this creates
    /// `memory/<own cgroup>/nestbox/<id>` (where runsc puts it: `cgroups.rs`) with `limit_bytes`
    /// for memory and memory+swap (what the bundle's `linux.resources.memory` asks runsc to set).
    pub fn prepare(version: Version, id: &str, limit_bytes: u64) -> Result<MemoryWatch, OomError> {
        Self::prepare_in(&cgroups::memory_parent(version), version, id, limit_bytes)
    }

    /// As [`MemoryWatch::prepare`], with `parent` the directory holding sandbox memory cgroups.
    fn prepare_in(
        parent: &Path,
        version: Version,
        id: &str,
        limit_bytes: u64,
    ) -> Result<MemoryWatch, OomError> {
        match version {
            Version::V2 => Ok(MemoryWatch {
                version,
                dir: parent.join(id),
                owned: false,
            }),
            Version::V1 => {
                let dir = parent.join(id);
                std::fs::create_dir_all(&dir).map_err(|source| OomError::Io {
                    step: "creating the sandbox's memory cgroup",
                    path: dir.clone(),
                    source,
                })?;
                let watch = MemoryWatch {
                    version,
                    dir,
                    owned: true,
                };
                // The memory limit first: memory+swap may never be below it.
                let limit = limit_bytes.to_string();
                watch.write("memory.limit_in_bytes", &limit)?;
                let memsw = watch.dir.join("memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    watch.write("memory.memsw.limit_in_bytes", &limit)?;
                }
                Ok(watch)
            }
        }
    }

    fn write(&self, file: &str, value: &str) -> Result<(), OomError> {
        let path = self.dir.join(file);
        std::fs::write(&path, value).map_err(|source| OomError::Io {
            step: "setting",
            path,
            source,
        })
    }

    /// Whether any process has joined the cgroup (runsc put the sandbox in it).
    pub fn joined(&self) -> bool {
        let file = match self.version {
            Version::V1 => "tasks",
            Version::V2 => "cgroup.procs",
        };
        std::fs::read_to_string(self.dir.join(file)).is_ok_and(|t| !t.trim().is_empty())
    }

    /// Read the counters (after the sandbox died, before the cgroup is removed).
    pub fn record(&self) -> MemoryRecord {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).ok();
        let number = |f: &str| read(f).and_then(|t| t.trim().parse::<u64>().ok());
        match self.version {
            Version::V1 => MemoryRecord {
                oom_kills: read("memory.oom_control").and_then(|t| key_value(&t, "oom_kill")),
                failcnt: number("memory.failcnt"),
                max_usage_bytes: number("memory.max_usage_in_bytes"),
                limit_bytes: number("memory.limit_in_bytes"),
            },
            Version::V2 => MemoryRecord {
                oom_kills: read("memory.events").and_then(|t| key_value(&t, "oom_kill")),
                failcnt: read("memory.events").and_then(|t| key_value(&t, "max")),
                max_usage_bytes: number("memory.peak"),
                limit_bytes: number("memory.max"),
            },
        }
    }

    /// Remove the cgroup nestbox created (it must be empty: call after the sandbox is gone).
    pub fn remove(&self) {
        if self.owned {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl MemoryRecord {
    /// The kernel's OOM killer acted in this cgroup. Kernels without an `oom_kill` count (before
    /// 4.13) fall back to: the limit was hit (`failcnt`) and usage peaked at the limit.
    pub fn oom_killed(&self) -> bool {
        match self.oom_kills {
            Some(n) => n > 0,
            None => match (self.failcnt, self.max_usage_bytes, self.limit_bytes) {
                (Some(f), Some(peak), Some(limit)) => f > 0 && peak >= limit,
                _ => false,
            },
        }
    }

    /// What the record says, for the classification of how the sandbox ended.
    pub fn facts(&self) -> crate::ending::MemoryFacts {
        crate::ending::MemoryFacts {
            oom_killed: self.oom_killed(),
            counted: self.oom_kills.is_some(),
            described: self.describe(),
        }
    }

    /// "oom_kill 0, failcnt 3, peak 95 of 96 MiB", for messages.
    pub fn describe(&self) -> String {
        let n = |v: Option<u64>| v.map_or("unreadable".to_string(), |v| v.to_string());
        let mib = |v: Option<u64>| v.map_or("unreadable".to_string(), |v| (v >> 20).to_string());
        format!(
            "oom_kill {}, failcnt {}, peak {} of {} MiB",
            n(self.oom_kills),
            n(self.failcnt),
            mib(self.max_usage_bytes),
            mib(self.limit_bytes)
        )
    }
}

/// The number after `key` in "key value" lines (`memory.oom_control`, `memory.events`).
fn key_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let mut parts = l.split_whitespace();
        (parts.next() == Some(key))
            .then(|| parts.next()?.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_kill_is_read_from_oom_control_and_events() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(key_value(v1, "oom_kill"), Some(2));
        assert_eq!(key_value(v1, "oom_kill_disable"), Some(0));
        let v2 = "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(key_value(v2, "oom_kill"), Some(1));
        assert_eq!(key_value(v2, "max"), Some(7));
        assert_eq!(key_value("", "oom_kill"), None);
    }

    #[test]
    fn only_a_recorded_oom_kill_counts() {
        let none = MemoryRecord {
            oom_kills: Some(0),
            failcnt: Some(5),
            max_usage_bytes: Some(100 << 20),
            limit_bytes: Some(100 << 20),
        };
        assert!(!none.oom_killed(), "failcnt alone is reclaim, not a kill");
        assert!(
            MemoryRecord {
                oom_kills: Some(1),
                ..none.clone()
            }
            .oom_killed()
        );
        let old_kernel = MemoryRecord {
            oom_kills: None,
            ..none.clone()
        };
        assert!(old_kernel.oom_killed());
        assert!(!MemoryRecord::default().oom_killed());
        assert_eq!(
            none.describe(),
            "oom_kill 0, failcnt 5, peak 100 of 100 MiB"
        );
    }

    #[test]
    fn v1_prepare_creates_the_cgroup_with_its_limits_and_reads_it_back() {
        let root = tempfile::tempdir().unwrap();
        let parent = root.path().join("memory/kubepods/pod1/nestbox");
        let dir = parent.join("abc");
        // A real cgroup file system provides these files; here they are made up front.
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("memory.memsw.limit_in_bytes"), "").unwrap();
        let w = MemoryWatch::prepare_in(&parent, Version::V1, "abc", 96 << 20).unwrap();
        assert_eq!(w.dir(), dir);
        let limit = (96u64 << 20).to_string();
        for f in ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] {
            assert_eq!(std::fs::read_to_string(dir.join(f)).unwrap(), limit);
        }
        assert!(!w.joined());
        std::fs::write(dir.join("tasks"), "123\n").unwrap();
        assert!(w.joined());
        std::fs::write(dir.join("memory.oom_control"), "oom_kill 1\n").unwrap();
        std::fs::write(dir.join("memory.failcnt"), "9\n").unwrap();
        let r = w.record();
        assert!(r.oom_killed(), "{r:?}");
        assert_eq!(r.limit_bytes, Some(96 << 20));
    }

    #[test]
    fn v2_prepares_nothing_and_a_vanished_cgroup_confirms_no_oom() {
        let root = tempfile::tempdir().unwrap();
        let parent = root.path().join("nestbox");
        let w = MemoryWatch::prepare_in(&parent, Version::V2, "abc", 1 << 20).unwrap();
        assert!(!root.path().join("nestbox").exists());
        let r = w.record();
        assert_eq!(r, MemoryRecord::default());
        assert!(!r.oom_killed());
    }
}
