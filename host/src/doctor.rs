//! `nestbox doctor`: everything a run needs from this host, each failure with its fix. The last
//! check runs real code through the real sandbox, so a green doctor means runs work.

use std::path::Path;

use serde::Serialize;

use crate::execute::{Nestbox, RunOptions};
use crate::language_check::LanguageCheck;
use crate::plugin::cache::Rebuild;
use crate::sandbox::cgroups::{self, HostLimits, Version};
use crate::sandbox::runsc::{self, Runsc};
use crate::sandbox::{static_binary, updates};
use crate::settings::LoadedSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn ok(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        level: Level::Ok,
        detail: detail.into(),
        fix: None,
    }
}

fn bad(
    name: &'static str,
    level: Level,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        name,
        level,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// Linux capabilities runsc needs as root, with what each is for.
const CAPABILITIES: &[(u32, &str, &str)] = &[
    (21, "CAP_SYS_ADMIN", "namespaces, mounts and cgroups"),
    (19, "CAP_SYS_PTRACE", "the ptrace platform"),
    (18, "CAP_SYS_CHROOT", "pivot_root into the sandbox's root"),
    (6, "CAP_SETGID", "dropping to the sandbox's user"),
    (7, "CAP_SETUID", "dropping to the sandbox's user"),
    (1, "CAP_DAC_OVERRIDE", "the gofer serving files"),
];

/// Run every check. `probe` also runs code through the sandbox.
pub async fn run(loaded: &LoadedSettings, probe: bool) -> Vec<Check> {
    let s = &loaded.settings;
    let mut checks = Vec::new();
    let host = HostLimits::detect();

    checks.push(if host.root {
        ok("root", "running as real root (uid 0)")
    } else {
        bad(
            "root",
            Level::Fail,
            format!("running as uid {}", nix::unistd::getuid()),
            "run nestbox as root: gVisor applies cgroup limits only for real root",
        )
    });
    checks.push(capabilities());
    checks.extend(confinement());
    checks.push(match host.problem() {
        None => ok(
            "cgroups",
            format!(
                "cgroup {} with memory, cpu and pids controllers",
                if host.version == Some(Version::V2) {
                    "v2"
                } else {
                    "v1"
                }
            ),
        ),
        Some(p) => bad(
            "cgroups",
            if s.require_resource_limiting {
                Level::Fail
            } else {
                Level::Warn
            },
            "resource limits cannot be enforced",
            p,
        ),
    });
    if host.root
        && let Some(v) = host.version
    {
        checks.push(cgroup_writable(v));
    }
    checks.push(if s.networking_allowed {
        bad(
            "network",
            Level::Fail,
            "NETWORKING_ALLOWED=true",
            "set it to false: nestbox never gives code the host's network, so it refuses to run",
        )
    } else {
        ok(
            "network",
            "code gets no network (runsc --network=none, no WASI sockets)",
        )
    });

    let runsc = match Runsc::locate(s.runsc_path.as_deref())
        .and_then(|path| Runsc::open(path, &s.state_dir, &s.gvisor_platform, !host.root))
    {
        Ok(r) => {
            checks.push(ok(
                "runsc",
                format!("{} (version {})", r.path.display(), r.version),
            ));
            if let Some(n) = updates::notice(&s.state_dir, &r.version) {
                checks.push(bad(
                    "gvisor version",
                    Level::Warn,
                    n,
                    "run `nestbox gvisor install`",
                ));
            }
            Some(r)
        }
        Err(e) => {
            checks.push(bad(
                "runsc",
                Level::Fail,
                e.to_string(),
                "run `nestbox gvisor install`",
            ));
            None
        }
    };
    if let Some(r) = &runsc {
        checks.push(platform(r, &s.gvisor_platform));
    }
    checks.push(match static_binary::current() {
        Ok(p) => ok("static binary", format!("{} is static", p.display())),
        Err(e) => bad(
            "static binary",
            Level::Fail,
            e.to_string(),
            "build with scripts/setup.sh",
        ),
    });
    checks.push(writable("state dir", &s.state_dir));

    let nestbox = match Nestbox::open(loaded.clone()) {
        Ok(n) => n,
        Err(e) => {
            checks.push(bad(
                "plugins",
                Level::Fail,
                e.to_string(),
                "set NESTBOX_PLUGINS_DIR",
            ));
            return checks;
        }
    };
    for b in &nestbox.registry.broken {
        checks.push(bad(
            "plugin",
            Level::Fail,
            b.to_string(),
            "fix or remove that plugin.toml",
        ));
    }
    let mut runnable = Vec::new();
    for p in &nestbox.registry.plugins {
        let name = &p.manifest.name;
        checks.push(match nestbox.cache.check(&nestbox.runner.engine, p) {
            Ok(Ok(_)) => {
                runnable.push(p);
                ok(
                    "plugin",
                    format!("{name} {} is prepared", p.manifest.version),
                )
            }
            Ok(Err(Rebuild::Missing)) => bad(
                "plugin",
                Level::Warn,
                format!("{name} is not prepared: its first run compiles it (seconds)"),
                "run `nestbox plugins prepare`",
            ),
            Ok(Err(why)) => bad(
                "plugin",
                Level::Warn,
                format!("{name}'s precompiled module is {why}"),
                "run `nestbox plugins prepare`",
            ),
            Err(e) => bad("plugin", Level::Fail, e.to_string(), "run scripts/setup.sh"),
        });
    }
    for p in runnable {
        match LanguageCheck::of(p) {
            Some(c) if probe && runsc.is_some() => checks.push(round_trip(&nestbox, &c).await),
            Some(_) => {}
            None => checks.push(bad(
                "plugin",
                Level::Warn,
                format!(
                    "{} has no [selftest], so no check runs its code",
                    p.manifest.name
                ),
                "add [selftest] code and expect to its plugin.toml (see the README)",
            )),
        }
    }
    checks
}

fn capabilities() -> Check {
    let effective = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0);
    let missing: Vec<String> = CAPABILITIES
        .iter()
        .filter(|(bit, _, _)| effective & (1 << bit) == 0)
        .map(|(_, name, why)| format!("{name} ({why})"))
        .collect();
    if missing.is_empty() {
        ok("capabilities", "runsc's capabilities are available")
    } else {
        bad(
            "capabilities",
            Level::Fail,
            format!("missing: {}", missing.join(", ")),
            "in a container, add them (docker run --cap-add SYS_ADMIN --cap-add SYS_PTRACE ...; see the README's container section)",
        )
    }
}

/// seccomp, AppArmor and SELinux confinement that stops runsc inside containers.
fn confinement() -> Vec<Check> {
    let mut checks = Vec::new();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let seccomp = status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .map(str::trim)
        .unwrap_or("0");
    checks.push(if seccomp == "2" {
        bad(
            "seccomp",
            Level::Warn,
            "nestbox runs under a seccomp filter (a container's default profile?)",
            "if runs fail with 'operation not permitted', start the container with \
             --security-opt seccomp=unconfined (runsc needs unshare, mount, pivot_root, ptrace)",
        )
    } else {
        ok("seccomp", "no seccomp filter on nestbox itself")
    });
    let label = [
        "/proc/self/attr/apparmor/current",
        "/proc/self/attr/current",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .map(|s| s.trim_matches(char::from(0)).trim().to_string())
    .unwrap_or_default();
    if label.contains("docker-default") || label.contains("cri-containerd") {
        checks.push(bad(
            "apparmor",
            Level::Fail,
            format!("AppArmor profile {label:?} forbids the mounts gVisor makes"),
            "start the container with --security-opt apparmor=unconfined",
        ));
    } else if label.contains("container_t") {
        checks.push(bad(
            "selinux",
            Level::Fail,
            format!("SELinux label {label:?} forbids creating namespaces"),
            "start the container with --security-opt label=type:container_engine_t",
        ));
    } else {
        checks.push(ok(
            "mac",
            if label.is_empty() || label == "unconfined" {
                "no AppArmor/SELinux confinement".to_string()
            } else {
                format!("confinement {label:?}")
            },
        ));
    }
    checks
}

fn cgroup_writable(v: Version) -> Check {
    let dir = cgroups::memory_parent(v);
    let probe = dir.join(format!("doctor-{}", std::process::id()));
    match std::fs::create_dir_all(&probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(&probe);
            ok(
                "cgroup writable",
                format!("can create cgroups under {}", dir.display()),
            )
        }
        Err(e) => bad(
            "cgroup writable",
            Level::Fail,
            format!("cannot create {}: {e}", probe.display()),
            "run nestbox as root where it may create cgroups below its own: on a host, or in a \
             container started with --privileged (docker and Kubernetes mount the container's \
             cgroups read-write only then; see deploy/). Do not bind-mount the host's \
             /sys/fs/cgroup: sandboxes would escape the container's own limits",
        ),
    }
}

fn platform(r: &Runsc, configured: &str) -> Check {
    let kvm = Path::new("/dev/kvm").exists()
        && std::fs::read_to_string("/proc/cpuinfo")
            .map(|c| c.contains(" vmx") || c.contains(" svm"))
            .unwrap_or(false);
    let detail = format!(
        "{} ({}; auto picks {} for runsc {}; KVM {})",
        r.platform,
        if configured == "auto" {
            "auto"
        } else {
            "configured"
        },
        runsc::auto_platform(&r.version),
        r.version,
        if kvm {
            "usable: NESTBOX_GVISOR_PLATFORM=kvm may be faster"
        } else {
            "not usable here"
        }
    );
    if r.platform == "kvm" && !kvm {
        bad(
            "platform",
            Level::Fail,
            detail,
            "set NESTBOX_GVISOR_PLATFORM=auto: this machine has no usable KVM",
        )
    } else {
        ok("platform", detail)
    }
}

fn writable(name: &'static str, dir: &Path) -> Check {
    let result =
        std::fs::create_dir_all(dir).and_then(|_| tempfile::NamedTempFile::new_in(dir).map(|_| ()));
    match result {
        Ok(()) => ok(name, format!("{} is writable", dir.display())),
        Err(e) => bad(
            name,
            Level::Fail,
            format!("{}: {e}", dir.display()),
            "make it writable by root, or set NESTBOX_STATE_DIR",
        ),
    }
}

/// Run the language's own check (its manifest's `[selftest]`) through both walls.
async fn round_trip(nestbox: &Nestbox, check: &LanguageCheck) -> Check {
    let lang = &check.language;
    let result = nestbox.execute(check.job(), &RunOptions::default()).await;
    if let Err(failure) = check.judge(&result) {
        bad(
            "sandbox",
            Level::Fail,
            format!("a {lang} test run failed: {failure}"),
            "fix the failures above (a sandbox failure quotes runsc); if only the output differs, \
             check the plugin's runtime against the [selftest] in its plugin.toml",
        )
    } else {
        ok(
            "sandbox",
            format!(
                "ran {lang} code through gVisor + Wasmtime in {} ms",
                result.duration_ms
            ),
        )
    }
}
