//! The OCI bundle of one sandbox, built with typed `oci-spec` structures.
//!
//! What the sandbox gets: a read-only, otherwise empty root holding only bind mounts of the static
//! `nestbox` binary, the plugin folders and their checked precompiled modules (all read-only), the
//! per-run `/work` and `/scratch` (read-write, size-capped on the host); a non-root user with no
//! capabilities and `noNewPrivileges`; rlimits; its own pid, ipc, uts, mount and network
//! namespaces; and cgroup limits on memory (swap included), CPU and pids.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxMemoryBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder, Mount,
    MountBuilder, PosixRlimitBuilder, PosixRlimitType, ProcessBuilder, RootBuilder, Spec,
    SpecBuilder, UserBuilder,
};

use super::protocol::{GUEST_BINARY, GUEST_MODULES, GUEST_PLUGINS, GUEST_SCRATCH, GUEST_WORK};

/// The unprivileged user the guest runs as inside the sandbox (nobody).
pub const SANDBOX_UID: u32 = 65534;
/// gVisor's own host threads count against `pids.limit` (see the README): never go below this.
pub const PIDS_LIMIT: i64 = 1024;
/// The guest's own process and thread limit inside gVisor.
pub const NPROC: u64 = 64;
/// The most files the guest may have open.
pub const NOFILE: u64 = 256;
const CPU_PERIOD_US: u64 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("building the OCI spec: {0}")]
    Spec(#[from] oci_spec::OciSpecError),
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A host path bound read-only into the sandbox.
#[derive(Debug, Clone)]
pub struct Bind {
    pub host: PathBuf,
    pub guest: PathBuf,
}

/// Everything the spec is made from.
#[derive(Debug, Clone)]
pub struct BundleConfig {
    /// The static nestbox binary on the host.
    pub guest_binary: PathBuf,
    /// The sandbox's process: normally `/nestbox guest --plugin NAME` (see [`guest_command`]).
    pub command: Vec<String>,
    /// Plugin folders and modules to bind read-only (guest paths under /plugins and /modules).
    pub binds: Vec<Bind>,
    pub work_dir: PathBuf,
    pub scratch_dir: PathBuf,
    /// cgroup limits, when enforced.
    pub resources: Option<Resources>,
    /// Largest single file the code may write.
    pub max_file_bytes: u64,
    /// cgroup path for the sandbox (absolute, under nestbox's own parent).
    pub cgroups_path: PathBuf,
}

#[derive(Debug, Clone, Copy)]
pub struct Resources {
    pub memory_bytes: i64,
    /// CPUs the sandbox may use (1.0 = one core).
    pub cpus: f64,
    /// The sandbox's CPU weight against other sandboxes (cgroup v1 `cpu.shares`; runsc converts
    /// it for v2), or `None` for the default. A weight only decides who runs first when the CPU
    /// is contended; the quota above caps the sandbox either way.
    pub cpu_shares: Option<u64>,
}

/// The guest agent's command line for a plugin.
pub fn guest_command(plugin: &str) -> Vec<String> {
    [GUEST_BINARY, "guest", "--plugin", plugin]
        .map(String::from)
        .to_vec()
}

/// Write `config.json` and the root skeleton (mount points) into `bundle_dir`.
pub fn write(bundle_dir: &Path, config: &BundleConfig) -> Result<(), BundleError> {
    write_spec(bundle_dir, &spec(config)?)
}

/// Write `spec` as `config.json`, with a root skeleton holding a mount point for each of its
/// mounts (the root is read-only inside, so they must exist beforehand).
pub fn write_spec(bundle_dir: &Path, spec: &Spec) -> Result<(), BundleError> {
    let rootfs = bundle_dir.join("rootfs");
    let io = |step: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| BundleError::Io { step, path, source }
    };
    for dir in [GUEST_PLUGINS, GUEST_MODULES] {
        let p = rootfs.join(dir.trim_start_matches('/'));
        std::fs::create_dir_all(&p).map_err(io("creating mount point", &p))?;
    }
    for m in spec.mounts().iter().flatten() {
        let dest = m.destination();
        let p = rootfs.join(dest.strip_prefix("/").unwrap_or(dest));
        let file_source =
            m.typ().as_deref() == Some("bind") && m.source().as_ref().is_some_and(|s| s.is_file());
        if file_source {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating mount point", parent))?;
            }
            std::fs::write(&p, b"").map_err(io("creating mount point", &p))?;
        } else {
            std::fs::create_dir_all(&p).map_err(io("creating mount point", &p))?;
        }
    }
    let path = bundle_dir.join("config.json");
    spec.save(&path).map_err(|e| BundleError::Io {
        step: "writing",
        path,
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(())
}

/// The OCI spec for a sandbox.
pub fn spec(c: &BundleConfig) -> Result<Spec, BundleError> {
    let no_caps = HashSet::new();
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(no_caps.clone())
        .effective(no_caps.clone())
        .inheritable(no_caps.clone())
        .permitted(no_caps.clone())
        .ambient(no_caps)
        .build()?;
    let rlimit = |typ, n: u64| {
        PosixRlimitBuilder::default()
            .typ(typ)
            .hard(n)
            .soft(n)
            .build()
    };
    let process = ProcessBuilder::default()
        .terminal(false)
        .user(
            UserBuilder::default()
                .uid(SANDBOX_UID)
                .gid(SANDBOX_UID)
                .build()?,
        )
        .args(c.command.clone())
        .env(vec!["PATH=/".to_string(), "RUST_BACKTRACE=0".to_string()])
        .cwd("/")
        .capabilities(capabilities)
        .no_new_privileges(true)
        .rlimits(vec![
            rlimit(PosixRlimitType::RlimitNofile, NOFILE)?,
            rlimit(PosixRlimitType::RlimitNproc, NPROC)?,
            rlimit(PosixRlimitType::RlimitFsize, c.max_file_bytes)?,
            rlimit(PosixRlimitType::RlimitCore, 0)?,
        ])
        .build()?;

    let mut mounts = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/tmp",
            "tmpfs",
            "tmpfs",
            // Holds the code file (at most 1 MiB; see sandbox::protocol::GUEST_CODE).
            &["nosuid", "nodev", "noexec", "mode=1777", "size=2m"],
        )?,
        bind(&c.guest_binary, Path::new(GUEST_BINARY), true)?,
    ];
    for b in &c.binds {
        mounts.push(bind(&b.host, &b.guest, true)?);
    }
    mounts.push(bind(&c.work_dir, Path::new(GUEST_WORK), false)?);
    mounts.push(bind(&c.scratch_dir, Path::new(GUEST_SCRATCH), false)?);

    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
    ]
    .into_iter()
    .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
    .collect::<Result<Vec<_>, _>>()?;

    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(c.cgroups_path.clone())
        .masked_paths(Vec::<String>::new())
        .readonly_paths(Vec::<String>::new());
    if let Some(r) = c.resources {
        let quota = (r.cpus * CPU_PERIOD_US as f64).round().max(1000.0) as i64;
        linux = linux.resources(
            LinuxResourcesBuilder::default()
                .memory(
                    LinuxMemoryBuilder::default()
                        .limit(r.memory_bytes)
                        // Equal to the limit: no swap beyond it.
                        .swap(r.memory_bytes)
                        .build()?,
                )
                .cpu({
                    let cpu = LinuxCpuBuilder::default()
                        .quota(quota)
                        .period(CPU_PERIOD_US);
                    match r.cpu_shares {
                        Some(shares) => cpu.shares(shares),
                        None => cpu,
                    }
                    .build()?
                })
                .pids(LinuxPidsBuilder::default().limit(PIDS_LIMIT).build()?)
                .build()?,
        );
    }

    Ok(SpecBuilder::default()
        .version("1.0.2")
        .hostname("nestbox")
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(true)
                .build()?,
        )
        .process(process)
        .mounts(mounts)
        .linux(linux.build()?)
        .build()?)
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Result<Mount, BundleError> {
    Ok(MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .build()?)
}

fn bind(host: &Path, guest: &Path, readonly: bool) -> Result<Mount, BundleError> {
    let mut options = vec![
        "rbind".to_string(),
        "nosuid".to_string(),
        "nodev".to_string(),
    ];
    options.push(if readonly { "ro" } else { "rw" }.to_string());
    Ok(MountBuilder::default()
        .destination(guest)
        .typ("bind")
        .source(host)
        .options(options)
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BundleConfig {
        BundleConfig {
            guest_binary: "/opt/nestbox".into(),
            command: guest_command("python"),
            binds: vec![Bind {
                host: "/p/python".into(),
                guest: "/plugins/python".into(),
            }],
            work_dir: "/run/x/work".into(),
            scratch_dir: "/run/x/scratch".into(),
            resources: Some(Resources {
                memory_bytes: 300 << 20,
                cpus: 1.0,
                cpu_shares: None,
            }),
            max_file_bytes: 64 << 20,
            cgroups_path: "/nestbox/abc".into(),
        }
    }

    #[test]
    fn spec_is_locked_down() {
        let spec = spec(&config()).unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        let p = &json["process"];
        assert_eq!(p["user"]["uid"], 65534);
        assert_eq!(p["noNewPrivileges"], true);
        assert_eq!(p["capabilities"]["bounding"], serde_json::json!([]));
        assert_eq!(json["root"]["readonly"], true);
        let ns: Vec<&str> = json["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        for want in ["pid", "network", "ipc", "uts", "mount"] {
            assert!(ns.contains(&want), "{ns:?}");
        }
        let mem = &json["linux"]["resources"]["memory"];
        assert_eq!(mem["limit"], mem["swap"]);
        assert!(
            json["linux"]["resources"]["pids"]["limit"]
                .as_i64()
                .unwrap()
                >= 512
        );
        let mounts = json["mounts"].as_array().unwrap();
        let work = mounts.iter().find(|m| m["destination"] == "/work").unwrap();
        assert!(work["options"].as_array().unwrap().contains(&"rw".into()));
        let plugin = mounts
            .iter()
            .find(|m| m["destination"] == "/plugins/python")
            .unwrap();
        assert!(plugin["options"].as_array().unwrap().contains(&"ro".into()));
    }

    #[test]
    fn the_skeleton_has_a_mount_point_for_every_mount() {
        let d = tempfile::tempdir().unwrap();
        let plugin = d.path().join("python");
        std::fs::create_dir(&plugin).unwrap();
        let module = d.path().join("python.cwasm");
        std::fs::write(&module, "m").unwrap();
        let mut c = config();
        c.guest_binary = module.clone();
        c.binds = vec![
            Bind {
                host: plugin,
                guest: "/plugins/python".into(),
            },
            Bind {
                host: module,
                guest: "/modules/python.cwasm".into(),
            },
        ];
        let bundle = d.path().join("bundle");
        write(&bundle, &c).unwrap();
        let root = bundle.join("rootfs");
        for dir in ["plugins/python", "work", "scratch", "proc", "dev", "tmp"] {
            assert!(root.join(dir).is_dir(), "{dir}");
        }
        for file in ["nestbox", "modules/python.cwasm"] {
            assert!(root.join(file).is_file(), "{file}");
        }
        assert!(bundle.join("config.json").is_file());
    }

    #[test]
    fn a_cpu_weight_is_written_only_when_given_and_never_drops_the_quota() {
        let json = serde_json::to_value(spec(&config()).unwrap()).unwrap();
        let cpu = &json["linux"]["resources"]["cpu"];
        assert!(cpu.get("shares").is_none(), "{cpu}");
        assert_eq!(cpu["quota"], 100_000);
        let mut c = config();
        if let Some(r) = c.resources.as_mut() {
            r.cpu_shares = Some(64);
        }
        let json = serde_json::to_value(spec(&c).unwrap()).unwrap();
        let cpu = &json["linux"]["resources"]["cpu"];
        assert_eq!(cpu["shares"], 64);
        assert_eq!(cpu["quota"], 100_000);
        assert_eq!(cpu["period"], 100_000);
    }

    #[test]
    fn no_resources_when_not_enforced() {
        let mut c = config();
        c.resources = None;
        let json = serde_json::to_value(spec(&c).unwrap()).unwrap();
        let r = &json["linux"]["resources"];
        for key in ["memory", "cpu", "pids"] {
            assert!(r.get(key).is_none(), "{r}");
        }
    }
}
