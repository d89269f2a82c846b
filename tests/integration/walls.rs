//! Each wall proven on its own. The outer wall: the native probe (`nestbox guest --probe`) in the
//! exact sandbox a real run gets, its report asserted field by field, and for each isolation
//! property a weakened copy of that sandbox (built here, never in the product) in which the same
//! checker must name the property. The inner wall: the canaries with Wasmtime alone. Plus the
//! host-side holes: a live run's files out of reach of other host users, and ownerless cgroups
//! swept.
//!
//! The probe runs through the library, whose reaper collects every child of its process; so each
//! probe runs in a child process of this test binary (the ignored `probe_worker` test), never
//! beside the other tests' `Command::wait`s.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nestbox::sandbox::probe::{Findings, ProbeOptions, ProbeSandbox, violations};

use crate::util::{self, Env, bin, repo};

const WORKER: &str = "NESTBOX_WALLS_WORKER";
const PORT: &str = "NESTBOX_WALLS_PORT";
const FINDINGS: &str = "NESTBOX-WALLS-FINDINGS ";

/// Weaken the prepared sandbox the way `mutation` says: this is the test's doing, never nestbox's.
fn weaken(sandbox: &mut ProbeSandbox, mutation: &str, scratch: &Path) {
    use oci_spec::runtime::{
        Capability, LinuxCapabilitiesBuilder, LinuxNamespaceType, MountBuilder,
    };
    let spec = &mut sandbox.spec;
    match mutation {
        "none" => {}
        "host_network" => {
            // runsc with the host's network stack, and no network namespace of its own.
            let wrapper = scratch.join("runsc-host-network");
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\nfor a in \"$@\"; do shift; [ \"$a\" = --network=none ] && \
                     a=--network=host; set -- \"$@\" \"$a\"; done\nexec {} \"$@\"\n",
                    sandbox.runsc.path.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
            sandbox.runsc.path = wrapper;
            let linux = spec.linux_mut().as_mut().unwrap();
            let namespaces = linux.namespaces_mut().as_mut().unwrap();
            namespaces.retain(|n| n.typ() != LinuxNamespaceType::Network);
        }
        "host_bind" => {
            let host = scratch.join("host-dir");
            std::fs::create_dir_all(&host).unwrap();
            std::fs::write(host.join("secret"), "host data").unwrap();
            spec.mounts_mut().as_mut().unwrap().push(
                MountBuilder::default()
                    .destination("/host")
                    .typ("bind")
                    .source(host)
                    .options(vec!["rbind".to_string(), "ro".to_string()])
                    .build()
                    .unwrap(),
            );
        }
        "capability" => {
            let caps: std::collections::HashSet<Capability> =
                [Capability::NetRaw, Capability::Chown]
                    .into_iter()
                    .collect();
            let process = spec.process_mut().as_mut().unwrap();
            process.set_capabilities(Some(
                LinuxCapabilitiesBuilder::default()
                    .bounding(caps.clone())
                    .effective(caps.clone())
                    .permitted(caps.clone())
                    .inheritable(caps.clone())
                    .ambient(caps)
                    .build()
                    .unwrap(),
            ));
        }
        "uid0" => {
            let user = spec.process_mut().as_mut().unwrap().user_mut();
            user.set_uid(0);
            user.set_gid(0);
        }
        "no_memory_limit" => {
            spec.linux_mut().as_mut().unwrap().set_resources(None);
        }
        other => panic!("unknown mutation {other}"),
    }
}

#[test]
#[ignore = "a child process of the walls tests, started by them"]
fn probe_worker() {
    let Ok(mutation) = std::env::var(WORKER) else {
        return;
    };
    let port: u16 = std::env::var(PORT).unwrap().parse().unwrap();
    let loaded = nestbox::settings::load(None, &nestbox::settings::ProcessEnv).unwrap();
    let state = loaded.settings.state_dir.clone();
    let nb = nestbox::execute::Nestbox::open(loaded).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let (gvisor, spec, _) = rt.block_on(nb.default_sandbox("python", &id)).unwrap();
    let mut sandbox = gvisor
        .probe_sandbox(
            &spec,
            &ProbeOptions {
                connect: vec![format!("127.0.0.1:{port}").parse().unwrap()],
                guest_binary: Some(bin()),
            },
        )
        .unwrap();
    weaken(&mut sandbox, &mutation, &state);
    let findings = sandbox.run().unwrap();
    println!("\n{FINDINGS}{}", serde_json::to_string(&findings).unwrap());
}

/// What a probe saw, and whether the host listener it tried was reached.
struct Probed {
    findings: Findings,
    violations: Vec<String>,
    listener_reached: bool,
}

fn probe(mutation: &str) -> Probed {
    let env = Env::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut worker = Command::new(std::env::current_exe().unwrap());
    worker
        .args([
            "--exact",
            "walls::probe_worker",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear();
    for k in ["PATH", "HOME", "NESTBOX_CACHE_DIR"] {
        if let Ok(v) = std::env::var(k) {
            worker.env(k, v);
        }
    }
    let out = worker
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("NESTBOX_PLUGINS_DIR", repo().join("plugins"))
        .env(WORKER, mutation)
        .env(PORT, port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(FINDINGS).map(|(_, json)| json))
        .unwrap_or_else(|| {
            panic!(
                "the probe worker ({mutation}) reported nothing:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let findings: Findings = serde_json::from_str(line).unwrap();
    let listener_reached = listener.accept().is_ok();
    Probed {
        violations: violations(&findings),
        findings,
        listener_reached,
    }
}

fn assert_names(p: &Probed, property: &str) {
    assert!(
        p.violations
            .iter()
            .any(|v| v.starts_with(&format!("{property}: "))),
        "the {property} check did not notice: {:#?}",
        p.violations
    );
}

#[test]
fn the_probe_in_a_real_runs_sandbox_finds_every_wall_in_place() {
    let p = probe("none");
    assert_eq!(p.violations, Vec::<String>::new(), "{:#?}", p.findings);
    assert!(!p.listener_reached);
    let (r, h, e) = (&p.findings.report, &p.findings.host, &p.findings.expected);
    // gVisor's Sentry answers, not the host kernel.
    assert_ne!(r.kernel_release, h.kernel_release);
    assert_eq!(r.uids, [65534; 3]);
    assert_eq!(r.gids, [65534; 3]);
    for cap in [
        r.capabilities.inheritable,
        r.capabilities.permitted,
        r.capabilities.effective,
        r.capabilities.bounding,
    ] {
        assert_eq!(cap, Some(0), "{:?}", r.capabilities);
    }
    // This gVisor's status has no CapAmb line (the checker accounts for it).
    assert_eq!(r.capabilities.ambient, None);
    assert_eq!(r.no_new_privs, Some(true));
    let limit = |n: &str| r.rlimits[n];
    assert_eq!(
        (limit("nofile").soft, limit("nofile").hard),
        (Some(256), Some(256))
    );
    assert_eq!(
        (limit("nproc").soft, limit("nproc").hard),
        (Some(64), Some(64))
    );
    assert_eq!(limit("core").hard, Some(0));
    assert_eq!(limit("fsize").hard, Some(64 << 20));
    // Only the probe itself in /proc, only loopback, the host's listener refused.
    let pids: Vec<&String> = r
        .proc_entries
        .iter()
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(pids, vec![&r.pid.to_string()]);
    assert_eq!(r.interfaces, Some(vec!["lo".to_string()]));
    assert_eq!(r.connections.len(), 1);
    assert!(!r.connections[0].connected);
    // The root holds only what the bundle puts there; nothing from the host.
    let top: BTreeSet<&str> = r
        .tree
        .iter()
        .filter_map(|t| t.path.strip_prefix('/'))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .collect();
    for want in [
        "nestbox", "plugins", "modules", "work", "scratch", "proc", "dev", "tmp",
    ] {
        assert!(top.contains(want), "{top:?}");
    }
    for host_only in ["etc", "usr", "home", "root", "var", "bin"] {
        assert!(!top.contains(host_only), "{top:?}");
    }
    assert!(!r.tree_truncated);
    let nestbox = r.tree.iter().find(|t| t.path == "/nestbox").unwrap();
    assert_eq!(nestbox.kind, "file");
    // Writable: /work (and the scratch dirs); nothing of the root, plugins or modules.
    assert!(
        r.writable.contains(&"/work".to_string()),
        "{:?}",
        r.writable
    );
    for w in &r.writable {
        assert!(
            ["/work", "/scratch", "/tmp"]
                .iter()
                .any(|root| w == root || w.starts_with(&format!("{root}/"))),
            "{w}"
        );
    }
    // Memory: the host's cgroup holds the sandbox to the code's limit plus the overhead, and
    // gVisor shows that limit as the machine's memory.
    let expected = (256 + 160) << 20;
    assert_eq!(e.memory_limit_bytes, Some(expected));
    assert_eq!(h.memory_limit_bytes, Some(expected));
    assert!(r.memory.meminfo_total_bytes.unwrap() <= expected);
    let fds: Vec<i32> = r.fds.iter().map(|f| f.fd).collect();
    assert_eq!(fds, vec![0, 1, 2]);
    assert_eq!(h.run_dir_mode.map(|m| m & 0o777), Some(0o700));
}

#[test]
fn host_networking_is_caught() {
    let p = probe("host_network");
    assert_names(&p, "network");
    // The weakening was real: the host saw the probe's connection.
    assert!(p.listener_reached, "{:?}", p.findings.report.connections);
}

#[test]
fn a_bind_mount_of_a_host_directory_is_caught() {
    let p = probe("host_bind");
    assert_names(&p, "filesystem");
    assert!(
        p.findings
            .report
            .tree
            .iter()
            .any(|t| t.path == "/host/secret"),
        "the mutation did not take: {:?}",
        p.findings.report.tree.len()
    );
}

#[test]
fn an_added_capability_is_caught() {
    let p = probe("capability");
    assert_names(&p, "capabilities");
}

#[test]
fn running_as_root_is_caught() {
    let p = probe("uid0");
    assert_names(&p, "user");
    assert_eq!(p.findings.report.uids, [0; 3]);
}

#[test]
fn a_missing_memory_limit_is_caught() {
    let p = probe("no_memory_limit");
    assert_names(&p, "memory_limit");
}

#[test]
fn the_inner_wall_alone_contains_every_isolation_canary() {
    // No runsc at all: whatever passes here passed without gVisor.
    let out = Env::new()
        .with("NESTBOX_RUNSC_PATH", "/nonexistent/runsc")
        .output(&["self-test", "--wall", "inner", "--json"], None);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{j:#}");
    let sections = j["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 1, "{j:#}");
    assert_eq!(sections[0]["wall"], "inner");
    let names: Vec<&str> = sections[0]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["verdict"], "passed", "{o}");
            o["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "inner_canary_read_host_file",
            "inner_canary_reach_host_listener",
            "inner_canary_write_outside_work",
            "inner_canary_see_host_processes",
            "inner_canary_flood_output",
        ]
    );
}

#[test]
fn an_outer_wall_probe_that_cannot_start_fails_the_self_test() {
    let out = Env::new()
        .with("NESTBOX_RUNSC_PATH", "/nonexistent/runsc")
        .output(&["self-test", "--wall", "outer"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("── outer wall (gVisor, probe) ──"), "{text}");
    assert!(text.contains("✘ Self-test outer_probe failed:"), "{text}");
    assert!(text.contains("/nonexistent/runsc"), "{text}");
    assert!(!text.contains("skipped"), "{text}");
}

/// Run `args` as the host's `nobody`.
fn as_nobody(args: &[&str]) -> std::process::Output {
    crate::util::as_nobody(args[0])
        .args(&args[1..])
        .output()
        .unwrap()
}

#[test]
fn host_nobody_cannot_reach_a_live_runs_files() {
    let env = Env::new();
    // The test's state dir must be traversable, as /var/lib/nestbox is.
    std::fs::set_permissions(env.state_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = env
        .cmd()
        .args([
            "run",
            "--lang",
            "python",
            "--code",
            "open('/work/secret.txt', 'w').write('attachment')\nimport time\nprint('up', flush=True)\ntime.sleep(60)",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 3];
    stdout.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"up\n");
    let runs = env.state_dir().join("runs");
    let id = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| !n.ends_with(".lock"))
        .expect("a run directory while running");
    let work: PathBuf = runs.join(&id).join("work");
    let secret = work.join("secret.txt");
    // The path is right: root sees the file.
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "attachment");
    let w = work.display().to_string();
    let s = secret.display().to_string();
    let planted = work.join("planted").display().to_string();
    let ls = as_nobody(&["ls", &w]);
    let cat = as_nobody(&["cat", &s]);
    let touch = as_nobody(&["touch", &planted]);
    // Stop the run before asserting, so a failure leaves nothing behind.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    child.wait().unwrap();
    for (what, out) in [("ls", &ls), ("cat", &cat), ("touch", &touch)] {
        assert!(
            !out.status.success(),
            "nobody could {what}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!Path::new(&planted).exists());
}

/// Cgroup directories made by a test, removed when it ends (even when it fails).
struct Cgroups(Vec<PathBuf>);

impl Drop for Cgroups {
    fn drop(&mut self) {
        for d in &self.0 {
            for _ in 0..50 {
                if std::fs::remove_dir(d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

/// Make a sandbox's cgroups in three controllers; `old` dates them an hour back (a sweep only
/// takes ownerless cgroups that are not brand new).
fn make_cgroups(id: &str, old: bool) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = ["memory", "cpu", "pids"]
        .iter()
        .map(|c| util::sandbox_cgroup(c, id))
        .inspect(|d| std::fs::create_dir_all(d).unwrap())
        .collect();
    if old {
        age(&dirs);
    }
    dirs
}

/// Make cgroup directories look an hour old (older than any sweep's grace period).
fn age(dirs: &[PathBuf]) {
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for d in dirs {
        std::fs::File::open(d)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
}

#[test]
fn the_sweep_removes_ownerless_cgroups_and_keeps_live_ones() {
    let env = Env::new();
    let tag = uuid::Uuid::new_v4().to_string();
    let (orphan, busy, named, fresh) = (
        format!("orphan-{tag}"),
        format!("busy-{tag}"),
        format!("named-{tag}"),
        format!("fresh-{tag}"),
    );
    // Other tests' runs sweep at the same time: busy and named are made young (which every
    // sweep leaves alone) and only aged once their process is in place or running.
    let mut guard = Cgroups(Vec::new());
    guard.0.extend(make_cgroups(&orphan, true));
    let busy_dirs = make_cgroups(&busy, false);
    guard.0.extend(busy_dirs.clone());
    // fresh: empty and unnamed, but just made (another state dir's run about to start runsc).
    guard.0.extend(make_cgroups(&fresh, false));
    // busy: a process in it (one that does not name the id).
    let mut sleeper = Command::new("sleep").arg("120").spawn().unwrap();
    std::fs::write(
        util::sandbox_cgroup("pids", &busy).join("cgroup.procs"),
        sleeper.id().to_string(),
    )
    .unwrap();
    age(&busy_dirs);
    // named: empty, but a process names its id, as a starting `runsc run ID` does before its
    // sandbox joins the cgroup.
    let mut starting = Command::new("bash")
        .args(["-c", "exec -a \"$0\" sleep 120", &named])
        .spawn()
        .unwrap();
    // The process names the id once bash has exec'd: wait for that before the cgroups exist.
    let named_pid = starting.id();
    for _ in 0..500 {
        let cmdline = std::fs::read(format!("/proc/{named_pid}/cmdline")).unwrap_or_default();
        if cmdline.starts_with(named.as_bytes()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    guard.0.extend(make_cgroups(&named, true));

    // Any start sweeps.
    let r = env.python("print('swept')", &[]);
    let exists = |id: &str| {
        ["memory", "cpu", "pids"]
            .iter()
            .filter(|c| util::sandbox_cgroup(c, id).exists())
            .count()
    };
    let (orphan_left, busy_left, named_left, fresh_left) = (
        exists(&orphan),
        exists(&busy),
        exists(&named),
        exists(&fresh),
    );
    for p in [&mut sleeper, &mut starting] {
        let _ = p.kill();
        let _ = p.wait();
    }
    assert_eq!(r.out(), "swept\n", "{r:?}");
    assert_eq!(orphan_left, 0, "the ownerless cgroups were kept");
    assert_eq!(busy_left, 3, "a cgroup with a process in it was removed");
    assert_eq!(named_left, 3, "a starting sandbox's cgroups were removed");
    assert_eq!(fresh_left, 3, "a brand-new cgroup was removed");
}
