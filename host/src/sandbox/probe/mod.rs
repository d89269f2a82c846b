//! The outer-wall probe: `nestbox guest --probe`, a native program (no Wasmtime) run in the exact
//! sandbox a real run gets (same bundle builder, mounts, user, rlimits, namespaces, cgroups and
//! runsc flags), reports what it can see and do ([`inside`]); the host side prepares that sandbox,
//! reads the report and what the host sees of the sandbox ([`outside`]); [`checks`] judges both.
//! The isolation tests and `nestbox self-test` judge with the same [`checks`], and the mutation
//! tests show each check fails when its property is removed.

pub mod inside;
pub mod outside;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use outside::{ProbeError, ProbeOptions, ProbeSandbox};

/// What the probe saw from inside the sandbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// `uname(2)`'s release: gVisor's Sentry reports its own, not the host kernel's.
    pub kernel_release: Option<String>,
    pub pid: u32,
    /// Real, effective, saved.
    pub uids: [u32; 3],
    pub gids: [u32; 3],
    /// From `/proc/self/status` (`None`: not readable).
    pub capabilities: Capabilities,
    /// `prctl(PR_GET_NO_NEW_PRIVS)`.
    pub no_new_privs: Option<bool>,
    /// By name (`nofile`, `nproc`, `fsize`, `core`, ...); `None` is unlimited.
    pub rlimits: BTreeMap<String, Rlimit>,
    /// The file tree from `/` (bounded: see [`inside::MAX_ENTRIES`], [`inside::MAX_DEPTH`]).
    pub tree: Vec<TreeEntry>,
    pub tree_truncated: bool,
    /// Names in `/proc`.
    pub proc_entries: Vec<String>,
    /// Network interfaces (`/proc/net/dev`).
    pub interfaces: Option<Vec<String>>,
    /// One attempt per address the host asked for.
    pub connections: Vec<Connection>,
    pub memory: Memory,
    /// Directories in which a new file could be created.
    pub writable: Vec<String>,
    /// Open file descriptors.
    pub fds: Vec<OpenFd>,
    /// What could not be read, and why.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    pub inheritable: Option<u64>,
    pub permitted: Option<u64>,
    pub effective: Option<u64>,
    pub bounding: Option<u64>,
    pub ambient: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    pub path: String,
    /// `dir`, `file`, `symlink` or `other`.
    pub kind: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub address: String,
    pub connected: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// `MemTotal` of `/proc/meminfo`: gVisor shows its cgroup limit here.
    pub meminfo_total_bytes: Option<u64>,
    /// `/proc/self/cgroup`, as gVisor shows it.
    pub proc_self_cgroup: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFd {
    pub fd: i32,
    pub target: Option<String>,
}

/// What the host saw of the sandbox while the probe was alive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostView {
    /// The host kernel's release.
    pub kernel_release: Option<String>,
    /// The sandbox's memory cgroup limit on the host.
    pub memory_limit_bytes: Option<u64>,
    /// Mode bits of the run directory holding `work/` and `scratch/`.
    pub run_dir_mode: Option<u32>,
}

/// What a real run's spec promises, taken from the unmodified bundle config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    pub uid: u32,
    pub gid: u32,
    pub nofile: u64,
    pub nproc: u64,
    pub fsize: u64,
    /// `None` when limits are not enforced (which is itself a violation).
    pub memory_limit_bytes: Option<u64>,
    /// The only names allowed in `/`.
    pub root_entries: Vec<String>,
    /// The only directories (with what is below them) where files may be created.
    pub writable_roots: Vec<String>,
    /// Host addresses the probe tried; none may be reachable.
    pub connect: Vec<SocketAddr>,
}

/// Everything a probe run produced: the report, the host's view, and what the spec promised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    pub report: ProbeReport,
    pub host: HostView,
    pub expected: Expected,
}

/// The running kernel's release as `uname(2)` tells this process: inside gVisor, the Sentry's.
pub fn kernel_release() -> Option<String> {
    // SAFETY: an all-zero utsname is a valid value (arrays of integers).
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname writes only into the struct it is given, which lives for the call.
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = u
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// One isolation property and, when it does not hold, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub property: &'static str,
    pub problem: Option<String>,
}

/// Every property, judged. Anything the probe could not read counts as a violation.
pub fn checks(f: &Findings) -> Vec<Check> {
    let (r, h, e) = (&f.report, &f.host, &f.expected);
    let check = |property, problems: Vec<String>| Check {
        property,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    };
    vec![
        check("gvisor_kernel", kernel(r, h)),
        check("user", user(r, e)),
        check("capabilities", capabilities(r)),
        check("no_new_privs", no_new_privs(r)),
        check("rlimits", rlimits(r, e)),
        check("processes", processes(r)),
        check("network", network(r, e)),
        check("filesystem", filesystem(r, e)),
        check("writable", writable(r, e)),
        check("memory_limit", memory(r, h, e)),
        check("fds", fds(r)),
        check("host_work_dir", host_work_dir(h)),
    ]
}

/// The properties that do not hold, each as `property: why`. Empty for a sound sandbox.
pub fn violations(f: &Findings) -> Vec<String> {
    checks(f)
        .into_iter()
        .filter_map(|c| c.problem.map(|p| format!("{}: {p}", c.property)))
        .collect()
}

fn kernel(r: &ProbeReport, h: &HostView) -> Vec<String> {
    match (&r.kernel_release, &h.kernel_release) {
        (Some(inside), Some(host)) if inside.trim() == host.trim() => vec![format!(
            "the code sees the host's kernel {inside:?}, not gVisor's: the outer wall is not there"
        )],
        (Some(_), Some(_)) => vec![],
        (None, _) => vec!["the probe could not read the kernel release".into()],
        (_, None) => vec!["the host's kernel release could not be read".into()],
    }
}

fn user(r: &ProbeReport, e: &Expected) -> Vec<String> {
    let mut p = Vec::new();
    if r.uids.iter().any(|&u| u != e.uid) {
        p.push(format!(
            "uid (real, effective, saved) {:?}, expected {}",
            r.uids, e.uid
        ));
    }
    if r.gids.iter().any(|&g| g != e.gid) {
        p.push(format!(
            "gid (real, effective, saved) {:?}, expected {}",
            r.gids, e.gid
        ));
    }
    p
}

fn capabilities(r: &ProbeReport) -> Vec<String> {
    let c = &r.capabilities;
    [
        ("CapInh", c.inheritable),
        ("CapPrm", c.permitted),
        ("CapEff", c.effective),
        ("CapBnd", c.bounding),
        ("CapAmb", c.ambient),
    ]
    .into_iter()
    .filter_map(|(name, v)| match v {
        Some(0) => None,
        // gVisor's status has no CapAmb line; ambient capabilities must also be permitted and
        // inheritable, so with both empty there can be none.
        None if name == "CapAmb" && c.inheritable == Some(0) && c.permitted == Some(0) => None,
        Some(bits) => Some(format!("{name} is {bits:#018x}, expected none")),
        None => Some(format!("{name} could not be read")),
    })
    .collect()
}

fn no_new_privs(r: &ProbeReport) -> Vec<String> {
    match r.no_new_privs {
        Some(true) => vec![],
        Some(false) => vec!["no_new_privs is off".into()],
        None => vec!["no_new_privs could not be read".into()],
    }
}

fn rlimits(r: &ProbeReport, e: &Expected) -> Vec<String> {
    [
        ("nofile", e.nofile),
        ("nproc", e.nproc),
        ("fsize", e.fsize),
        ("core", 0),
    ]
    .into_iter()
    .filter_map(|(name, max)| {
        let l = r.rlimits.get(name).copied().unwrap_or_default();
        match (l.soft, l.hard) {
            (Some(s), Some(h)) if s <= max && h <= max => None,
            _ => Some(format!(
                "{name} is soft {} / hard {}, expected at most {max}",
                show_limit(l.soft),
                show_limit(l.hard)
            )),
        }
    })
    .collect()
}

fn show_limit(v: Option<u64>) -> String {
    v.map_or("unlimited".into(), |n| n.to_string())
}

fn processes(r: &ProbeReport) -> Vec<String> {
    let pids: Vec<&String> = r
        .proc_entries
        .iter()
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        .collect();
    if pids.is_empty() {
        return vec!["/proc lists no processes at all (not even the probe's own)".into()];
    }
    let others: Vec<&&String> = pids.iter().filter(|p| **p != &r.pid.to_string()).collect();
    if others.is_empty() {
        vec![]
    } else {
        vec![format!(
            "processes other than the probe are visible: {others:?}"
        )]
    }
}

fn network(r: &ProbeReport, e: &Expected) -> Vec<String> {
    let mut p = Vec::new();
    match &r.interfaces {
        Some(names) if names.iter().all(|n| n == "lo") => {}
        Some(names) => p.push(format!("network interfaces {names:?}, expected only lo")),
        None => p.push("the network interfaces could not be read".into()),
    }
    for c in r.connections.iter().filter(|c| c.connected) {
        p.push(format!("connected to the host's {}", c.address));
    }
    for want in &e.connect {
        if !r.connections.iter().any(|c| c.address == want.to_string()) {
            p.push(format!("the probe did not try {want}"));
        }
    }
    p
}

fn filesystem(r: &ProbeReport, e: &Expected) -> Vec<String> {
    let mut p = Vec::new();
    let mut top: Vec<&str> = r
        .tree
        .iter()
        .filter_map(|t| t.path.strip_prefix('/'))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .collect();
    top.sort();
    let extra: Vec<&&str> = top
        .iter()
        .filter(|n| !e.root_entries.iter().any(|a| a == *n))
        .collect();
    if !extra.is_empty() {
        p.push(format!("unexpected entries in /: {extra:?}"));
    }
    for must in ["nestbox", "work"] {
        if !top.contains(&must) {
            p.push(format!("/{must} is missing from the probe's view of /"));
        }
    }
    p
}

fn under(path: &str, root: &str) -> bool {
    path == root || path.starts_with(&format!("{root}/"))
}

fn writable(r: &ProbeReport, e: &Expected) -> Vec<String> {
    let mut p = Vec::new();
    let bad: Vec<&String> = r
        .writable
        .iter()
        .filter(|w| !e.writable_roots.iter().any(|root| under(w, root)))
        .collect();
    if !bad.is_empty() {
        p.push(format!("writable outside {:?}: {bad:?}", e.writable_roots));
    }
    // The control: the attempt itself works where writing is allowed.
    if !r.writable.iter().any(|w| w == "/work") {
        p.push("could not create a file even in /work: the write test did not work".into());
    }
    p
}

fn memory(r: &ProbeReport, h: &HostView, e: &Expected) -> Vec<String> {
    let Some(limit) = e.memory_limit_bytes else {
        return vec!["no memory limit is configured (limits are not enforced)".into()];
    };
    let mut p = Vec::new();
    match h.memory_limit_bytes {
        Some(l) if l <= limit => {}
        Some(l) => p.push(format!(
            "the host's memory cgroup allows {l} bytes, expected at most {limit}"
        )),
        None => p.push("the sandbox has no memory cgroup limit on the host".into()),
    }
    match r.memory.meminfo_total_bytes {
        Some(t) if t <= limit => {}
        Some(t) => p.push(format!(
            "inside, MemTotal is {t} bytes, more than the limit of {limit}"
        )),
        None => p.push("the probe could not read MemTotal".into()),
    }
    p
}

fn fds(r: &ProbeReport) -> Vec<String> {
    let extra: Vec<&OpenFd> = r.fds.iter().filter(|f| f.fd > 2).collect();
    let mut p = Vec::new();
    if !extra.is_empty() {
        p.push(format!("file descriptors beyond stdio are open: {extra:?}"));
    }
    if !r.fds.iter().any(|f| f.fd == 1) {
        p.push("stdout is not among the open descriptors: the fd scan did not work".into());
    }
    p
}

fn host_work_dir(h: &HostView) -> Vec<String> {
    match h.run_dir_mode {
        Some(m) if m & 0o077 == 0 => vec![],
        Some(m) => vec![format!(
            "the run directory holding /work is mode {:o} on the host: other host users can reach \
             the code's files",
            m & 0o7777
        )],
        None => vec!["the run directory's mode could not be read".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a sound sandbox reports.
    fn sound() -> Findings {
        let mut rlimits = BTreeMap::new();
        for (n, v) in [
            ("nofile", 256),
            ("nproc", 64),
            ("fsize", 1 << 26),
            ("core", 0),
        ] {
            rlimits.insert(
                n.to_string(),
                Rlimit {
                    soft: Some(v),
                    hard: Some(v),
                },
            );
        }
        let dir = |p: &str| TreeEntry {
            path: p.into(),
            kind: "dir".into(),
            mode: 0o755,
            uid: 0,
            gid: 0,
        };
        Findings {
            report: ProbeReport {
                kernel_release: Some("4.4.0".into()),
                pid: 1,
                uids: [65534; 3],
                gids: [65534; 3],
                capabilities: Capabilities {
                    inheritable: Some(0),
                    permitted: Some(0),
                    effective: Some(0),
                    bounding: Some(0),
                    ambient: Some(0),
                },
                no_new_privs: Some(true),
                rlimits,
                tree: vec![dir("/"), dir("/nestbox"), dir("/work"), dir("/proc")],
                proc_entries: vec!["1".into(), "self".into(), "meminfo".into()],
                interfaces: Some(vec!["lo".into()]),
                connections: vec![Connection {
                    address: "127.0.0.1:9".into(),
                    connected: false,
                    error: Some("refused".into()),
                }],
                memory: Memory {
                    meminfo_total_bytes: Some(100 << 20),
                    proc_self_cgroup: None,
                },
                writable: vec!["/work".into(), "/scratch/tmp".into()],
                fds: (0..3).map(|fd| OpenFd { fd, target: None }).collect(),
                ..Default::default()
            },
            host: HostView {
                kernel_release: Some("6.18.0".into()),
                memory_limit_bytes: Some(288 << 20),
                run_dir_mode: Some(0o40700),
            },
            expected: Expected {
                uid: 65534,
                gid: 65534,
                nofile: 256,
                nproc: 64,
                fsize: 1 << 26,
                memory_limit_bytes: Some(288 << 20),
                root_entries: ["nestbox", "work", "proc"].map(String::from).to_vec(),
                writable_roots: ["/work", "/scratch"].map(String::from).to_vec(),
                connect: vec!["127.0.0.1:9".parse().unwrap()],
            },
        }
    }

    fn named(f: &Findings) -> Vec<&'static str> {
        checks(f)
            .into_iter()
            .filter(|c| c.problem.is_some())
            .map(|c| c.property)
            .collect()
    }

    #[test]
    fn a_sound_report_has_no_violations() {
        assert_eq!(violations(&sound()), Vec::<String>::new());
    }

    #[test]
    fn each_weakness_names_its_property() {
        type Weaken = Box<dyn Fn(&mut Findings)>;
        let cases: Vec<(&str, Weaken)> = vec![
            (
                "gvisor_kernel",
                Box::new(|f| f.report.kernel_release = Some("6.18.0".into())),
            ),
            ("user", Box::new(|f| f.report.uids = [0; 3])),
            (
                "capabilities",
                Box::new(|f| f.report.capabilities.effective = Some(1 << 21)),
            ),
            (
                "capabilities",
                Box::new(|f| f.report.capabilities.bounding = None),
            ),
            ("no_new_privs", Box::new(|f| f.report.no_new_privs = None)),
            (
                "capabilities",
                Box::new(|f| {
                    f.report.capabilities.ambient = None;
                    f.report.capabilities.permitted = Some(1);
                }),
            ),
            (
                "rlimits",
                Box::new(|f| {
                    f.report.rlimits.insert("nofile".into(), Rlimit::default());
                }),
            ),
            (
                "processes",
                Box::new(|f| f.report.proc_entries.push("4242".into())),
            ),
            (
                "network",
                Box::new(|f| f.report.connections[0].connected = true),
            ),
            (
                "network",
                Box::new(|f| f.report.interfaces = Some(vec!["lo".into(), "eth0".into()])),
            ),
            ("network", Box::new(|f| f.report.connections.clear())),
            (
                "filesystem",
                Box::new(|f| {
                    f.report.tree.push(TreeEntry {
                        path: "/etc".into(),
                        kind: "dir".into(),
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                    })
                }),
            ),
            (
                "writable",
                Box::new(|f| f.report.writable.push("/plugins".into())),
            ),
            ("writable", Box::new(|f| f.report.writable.clear())),
            (
                "memory_limit",
                Box::new(|f| f.host.memory_limit_bytes = Some(u64::MAX / 2)),
            ),
            (
                "memory_limit",
                Box::new(|f| f.expected.memory_limit_bytes = None),
            ),
            (
                "fds",
                Box::new(|f| {
                    f.report.fds.push(OpenFd {
                        fd: 7,
                        target: Some("/etc".into()),
                    })
                }),
            ),
            (
                "host_work_dir",
                Box::new(|f| f.host.run_dir_mode = Some(0o40755)),
            ),
        ];
        for (property, weaken) in cases {
            let mut f = sound();
            weaken(&mut f);
            assert_eq!(named(&f), vec![property], "{:?}", violations(&f));
        }
    }
}
