//! `nestbox guest --probe`: runs inside the sandbox instead of the guest agent, looks around, prints
//! one [`ProbeReport`] as a JSON line on stdout, then waits for stdin to close (so the host can
//! look at the live sandbox from outside) and exits.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::resource::{Resource, getrlimit};

use super::{Capabilities, Connection, Memory, OpenFd, ProbeReport, Rlimit, TreeEntry};
use crate::sandbox::protocol::GUEST_BINARY;

/// At most this many entries of the file tree are reported.
pub const MAX_ENTRIES: usize = 4000;
/// How deep below `/` the tree is walked.
pub const MAX_DEPTH: usize = 6;
/// Not descended into: listed on their own (`/proc`) or kernel views that are not files.
const NO_DESCENT: [&str; 2] = ["/proc", "/sys"];
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The file each writable-directory attempt creates (and removes).
const MARKER: &str = ".nestbox-probe";

/// The sandbox's command line for the probe, trying to connect to each of `connect`.
pub fn command(connect: &[SocketAddr]) -> Vec<String> {
    let mut c = vec![GUEST_BINARY.to_string(), "guest".into(), "--probe".into()];
    for a in connect {
        c.push("--connect".into());
        c.push(a.to_string());
    }
    c
}

/// Probe, print the report, wait for the host to close stdin. Returns the exit code.
pub fn main(connect: &[SocketAddr]) -> i32 {
    // The probe tries to create a file in every directory it finds: only ever inside a sandbox,
    // where it is the first process, never across the host's file system.
    if std::process::id() != 1 {
        eprintln!(
            "nestbox guest --probe: refusing to run as pid {} (it must be a sandbox's first \
             process); the host runs it inside gVisor, see `nestbox self-test --wall outer`",
            std::process::id()
        );
        return 2;
    }
    let report = probe(connect);
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &report)
        .map_err(std::io::Error::from)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush());
    if let Err(e) = written {
        eprintln!("nestbox guest --probe: writing the report: {e}");
        return 1;
    }
    drop(out);
    // The host looks at the sandbox from outside, then closes stdin.
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);
    0
}

/// Look at everything the report covers.
pub fn probe(connect: &[SocketAddr]) -> ProbeReport {
    let mut errors = Vec::new();
    let mut note = |what: &str, e: &dyn std::fmt::Display| errors.push(format!("{what}: {e}"));
    let read = |path: &str| std::fs::read_to_string(path);

    let kernel_release = super::kernel_release();
    let uids = nix::unistd::getresuid();
    let gids = nix::unistd::getresgid();
    let status = read("/proc/self/status")
        .map_err(|e| note("/proc/self/status", &e))
        .unwrap_or_default();
    let no_new_privs = nix::sys::prctl::get_no_new_privs()
        .map_err(|e| note("prctl(PR_GET_NO_NEW_PRIVS)", &e))
        .ok();
    let (tree, tree_truncated) = walk(Path::new("/"));
    let proc_entries = names(Path::new("/proc"))
        .map_err(|e| note("/proc", &e))
        .unwrap_or_default();
    let interfaces = read("/proc/net/dev")
        .map(|t| interfaces(&t))
        .map_err(|e| note("/proc/net/dev", &e))
        .ok();
    let meminfo_total_bytes = read("/proc/meminfo")
        .map_err(|e| note("/proc/meminfo", &e))
        .ok()
        .and_then(|t| mem_total(&t));
    let proc_self_cgroup = read("/proc/self/cgroup")
        .map_err(|e| note("/proc/self/cgroup", &e))
        .ok();
    let writable = tree
        .iter()
        .filter(|t| t.kind == "dir")
        .filter(|t| can_create_in(Path::new(&t.path)))
        .map(|t| t.path.clone())
        .collect();
    ProbeReport {
        kernel_release,
        pid: std::process::id(),
        uids: uids.map_or([u32::MAX; 3], |u| {
            [u.real.as_raw(), u.effective.as_raw(), u.saved.as_raw()]
        }),
        gids: gids.map_or([u32::MAX; 3], |g| {
            [g.real.as_raw(), g.effective.as_raw(), g.saved.as_raw()]
        }),
        capabilities: capabilities(&status),
        no_new_privs,
        rlimits: rlimits(),
        tree,
        tree_truncated,
        proc_entries,
        interfaces,
        connections: connect.iter().map(try_connect).collect(),
        memory: Memory {
            meminfo_total_bytes,
            proc_self_cgroup,
        },
        writable,
        fds: open_fds(),
        errors,
    }
}

fn names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut n: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    Ok(n)
}

/// The tree from `root`, breadth first, bounded; returns whether it was cut short.
fn walk(root: &Path) -> (Vec<TreeEntry>, bool) {
    let mut out = Vec::new();
    let mut queue = std::collections::VecDeque::from([(root.to_path_buf(), 0usize)]);
    while let Some((path, depth)) = queue.pop_front() {
        if out.len() >= MAX_ENTRIES {
            return (out, true);
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let kind = if meta.is_dir() {
            "dir"
        } else if meta.is_file() {
            "file"
        } else if meta.file_type().is_symlink() {
            "symlink"
        } else {
            "other"
        };
        let shown = path.display().to_string();
        out.push(TreeEntry {
            path: shown.clone(),
            kind: kind.into(),
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
        });
        if kind != "dir" || depth >= MAX_DEPTH || NO_DESCENT.contains(&shown.as_str()) {
            continue;
        }
        if let Ok(children) = names(&path) {
            queue.extend(children.into_iter().map(|n| (path.join(n), depth + 1)));
        }
    }
    (out, false)
}

fn can_create_in(dir: &Path) -> bool {
    let marker: PathBuf = dir.join(MARKER);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&marker);
            true
        }
        Err(_) => false,
    }
}

fn capabilities(status: &str) -> Capabilities {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim_start_matches(':').trim(), 16).ok())
    };
    Capabilities {
        inheritable: field("CapInh"),
        permitted: field("CapPrm"),
        effective: field("CapEff"),
        bounding: field("CapBnd"),
        ambient: field("CapAmb"),
    }
}

fn rlimits() -> BTreeMap<String, Rlimit> {
    let unlimited = |v: u64| (v != nix::sys::resource::RLIM_INFINITY).then_some(v);
    [
        ("nofile", Resource::RLIMIT_NOFILE),
        ("nproc", Resource::RLIMIT_NPROC),
        ("fsize", Resource::RLIMIT_FSIZE),
        ("core", Resource::RLIMIT_CORE),
        ("as", Resource::RLIMIT_AS),
        ("stack", Resource::RLIMIT_STACK),
        ("cpu", Resource::RLIMIT_CPU),
        ("memlock", Resource::RLIMIT_MEMLOCK),
    ]
    .into_iter()
    .filter_map(|(name, r)| {
        let (soft, hard) = getrlimit(r).ok()?;
        Some((
            name.to_string(),
            Rlimit {
                soft: unlimited(soft),
                hard: unlimited(hard),
            },
        ))
    })
    .collect()
}

fn interfaces(proc_net_dev: &str) -> Vec<String> {
    proc_net_dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

fn mem_total(meminfo: &str) -> Option<u64> {
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn try_connect(addr: &SocketAddr) -> Connection {
    match TcpStream::connect_timeout(addr, CONNECT_TIMEOUT) {
        Ok(_) => Connection {
            address: addr.to_string(),
            connected: true,
            error: None,
        },
        Err(e) => Connection {
            address: addr.to_string(),
            connected: false,
            error: Some(e.to_string()),
        },
    }
}

/// Every open descriptor below the NOFILE limit (asked one by one: listing `/proc/self/fd` would
/// open one more).
fn open_fds() -> Vec<OpenFd> {
    let limit = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft.min(65536));
    (0..limit as i32)
        .filter(|&fd| {
            // SAFETY: F_GETFD only reads the descriptor's flags; an unused number gives EBADF.
            unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
        })
        .map(|fd| OpenFd {
            fd,
            target: std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .ok()
                .map(|p| p.display().to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_net_dev_and_meminfo() {
        let caps = capabilities(
            "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n",
        );
        assert_eq!(caps.permitted, Some(0xa80425fb));
        assert_eq!(caps.bounding, Some(0x1ffffffffff));
        assert_eq!(caps.effective, Some(0));
        assert_eq!(capabilities("").effective, None);
        let dev = "Inter-|   Receive\n face |bytes\n    lo: 0 0 0\n  eth0: 1 2 3\n";
        assert_eq!(interfaces(dev), vec!["lo", "eth0"]);
        assert_eq!(
            mem_total("MemTotal:       2048 kB\nMemFree: 1 kB\n"),
            Some(2048 * 1024)
        );
        assert_eq!(
            command(&["127.0.0.1:80".parse().unwrap()]),
            vec!["/nestbox", "guest", "--probe", "--connect", "127.0.0.1:80"]
        );
    }

    #[test]
    fn walks_a_bounded_tree_and_finds_where_files_can_be_created() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/f"), "x").unwrap();
        let (tree, cut) = walk(d.path());
        assert!(!cut);
        let paths: Vec<&str> = tree.iter().map(|t| t.path.as_str()).collect();
        let root = d.path().display().to_string();
        assert_eq!(
            paths,
            vec![
                root.clone(),
                format!("{root}/a"),
                format!("{root}/a/b"),
                format!("{root}/a/f")
            ]
        );
        assert_eq!(tree[3].kind, "file");
        assert!(can_create_in(&d.path().join("a")));
        assert!(
            !d.path().join("a").join(MARKER).exists(),
            "the marker is removed"
        );
        assert!(!can_create_in(&d.path().join("missing")));
        assert!(open_fds().iter().any(|f| f.fd == 1));
    }
}
