//! `nestbox self-test`: each wall proven on its own, then both together.
//!
//! - **outer wall (gVisor, probe)**: a native probe runs in the exact sandbox a real run gets and
//!   reports what it can see and do; [`probe::checks`] judges every isolation property.
//! - **inner wall (Wasmtime, --no-gvisor)**: the isolation canaries run with Wasmtime alone.
//! - **both**: the reference project's six self-tests plus every canary through the real sandbox,
//!   exactly as a user's code would run.
//!
//! Every check fails closed: a canary whose own setup fails (a listener that cannot bind, a
//! plugin that is missing, a probe that cannot start, a write test that cannot write anywhere)
//! is Failed, never a pass or a skip.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::execute::{InspectError, Isolation, Nestbox, RunOptions};
use crate::job::Job;
pub use crate::language_check::Failure;
use crate::language_check::{LanguageCheck, expect};
use crate::result::{RunResult, Status};
use crate::sandbox::probe::{self, Findings, ProbeError, ProbeOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// Which wall a self-test proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Wall {
    /// gVisor alone, judged by the native probe.
    Outer,
    /// Wasmtime alone (`--no-gvisor`), judged by the isolation canaries.
    Inner,
    /// Both walls, as every real run gets them.
    Both,
}

impl Wall {
    pub const ALL: [Wall; 3] = [Wall::Outer, Wall::Inner, Wall::Both];

    pub fn title(self) -> &'static str {
        match self {
            Wall::Outer => "outer wall (gVisor, probe)",
            Wall::Inner => "inner wall (Wasmtime, --no-gvisor)",
            Wall::Both => "both walls (gVisor + Wasmtime)",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub name: String,
    pub wall: Wall,
    pub verdict: Verdict,
    pub detail: String,
    pub duration_ms: u64,
}

impl Outcome {
    fn judged(
        name: String,
        wall: Wall,
        verdict: Result<String, Failure>,
        started: Instant,
    ) -> Self {
        let (verdict, detail) = match verdict {
            Ok(d) => (Verdict::Passed, d),
            Err(d) => (Verdict::Failed, d.0),
        };
        Outcome {
            name,
            wall,
            verdict,
            detail,
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }
}

/// Judges a result: `Err` says what was wrong.
type Check = Box<dyn Fn(&RunResult) -> Result<(), Failure> + Send + Sync>;

struct Case {
    name: String,
    language: String,
    code: String,
    max_runtime_seconds: Option<f64>,
    max_ram_mb: Option<f64>,
    check: Check,
    /// An isolation canary: it cannot be skipped, and a setup failure fails it.
    canary: bool,
    /// Judged by the inner wall alone too (what Wasmtime itself must contain; disk and file
    /// descriptor caps come from the outer wall's tmpfs and rlimits).
    inner: bool,
    /// Also judged by whether the host listener saw a connection.
    uses_listener: bool,
}

fn case(
    name: impl Into<String>,
    language: impl Into<String>,
    code: impl Into<String>,
    check: impl Fn(&RunResult) -> Result<(), Failure> + Send + Sync + 'static,
) -> Case {
    Case {
        name: name.into(),
        language: language.into(),
        code: code.into(),
        max_runtime_seconds: None,
        max_ram_mb: None,
        check: Box::new(check),
        canary: false,
        inner: false,
        uses_listener: false,
    }
}

fn canary(
    name: &'static str,
    code: impl Into<String>,
    check: impl Fn(&RunResult) -> Result<(), Failure> + Send + Sync + 'static,
    inner: bool,
) -> Case {
    Case {
        canary: true,
        inner,
        ..case(name, "python", code, check)
    }
}

fn show(r: &RunResult) -> String {
    format!(
        "{}: stdout {:?}, stderr {:?}",
        r.status,
        r.stdout.chars().take(300).collect::<String>(),
        r.stderr.chars().take(300).collect::<String>()
    )
}

/// The canary printed CONTAINED, nothing escaped, and its own setup worked.
fn contained(r: &RunResult) -> Result<(), Failure> {
    if r.stdout.contains("SETUP FAILED") {
        return Err(Failure(format!(
            "the canary's own setup failed: {}",
            show(r)
        )));
    }
    if r.stdout.contains("CONTAINED") && !r.stdout.contains("ESCAPED") {
        Ok(())
    } else {
        Err(Failure(show(r)))
    }
}

/// Contained by a limit after at least `min` units of real progress ("CONTAINED after N ..."):
/// stopping at once means the canary never got going, which proves nothing.
fn contained_after(r: &RunResult, min: u64) -> Result<(), Failure> {
    contained(r)?;
    let n: Option<u64> = r
        .stdout
        .split("CONTAINED after ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    match n {
        Some(n) if n >= min => Ok(()),
        _ => Err(Failure(format!(
            "the canary stopped before it got going (needs at least {min}): {}",
            show(r)
        ))),
    }
}

/// The canary code that tries to reach the host listener on `port`.
fn network_canary(port: u16) -> String {
    format!(
        r#"import socket
try:
    s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
    s.sendall(b"ESCAPED")
    print("ESCAPED: connected to the host")
except Exception as e:  # WASI's socket module lacks even getaddrinfo
    print("CONTAINED:", type(e).__name__, e)
"#
    )
}

/// Each language's own checks from its manifest's `[selftest]`: `simple_<name>`, then
/// `bad_syntax_<name>` when it gives a program with a syntax error.
fn language_cases(checks: &[LanguageCheck]) -> Vec<Case> {
    let simple = checks.iter().map(|c| {
        let job = c.job();
        let check = c.clone();
        case(
            format!("simple_{}", c.language),
            &c.language,
            job.code,
            move |r| check.judge(r),
        )
    });
    let bad = checks.iter().filter_map(|c| {
        let job = c.syntax_error_job()?;
        let check = c.clone();
        Some(case(
            format!("bad_syntax_{}", c.language),
            &c.language,
            job.code,
            move |r| check.judge_syntax_error(r),
        ))
    });
    simple.chain(bad).collect()
}

fn cases(checks: &[LanguageCheck], listener_port: u16) -> Vec<Case> {
    let mut timeout = case(
        "long_running_code",
        "python",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(15)\nprint('woke up')",
        |r| {
            expect(r, Status::Timeout)?;
            if r.stdout.contains("sleeping") && !r.stdout.contains("woke") {
                Ok(())
            } else {
                Err(Failure(format!("partial output not kept: {:?}", r.stdout)))
            }
        },
    );
    timeout.max_runtime_seconds = Some(5.0);
    let mut ram = case(
        "ram_hog",
        "python",
        "chunks = []\nfor i in range(256):\n    chunks.append(bytearray(1024 * 1024))\nprint('allocated', len(chunks))",
        |r| expect(r, Status::MemoryLimit),
    );
    ram.max_ram_mb = Some(128.0);
    let mut network = canary(
        "canary_reach_host_listener",
        network_canary(listener_port),
        contained,
        true,
    );
    network.uses_listener = true;
    let mut all = language_cases(checks);
    all.extend([
        timeout,
        ram,
        canary(
            "canary_read_host_file",
            r#"try:
    open(__file__, "rb").read(1)
except Exception as e:
    print("SETUP FAILED: cannot read its own code file:", e)
leaks = []
for p in ["/etc/passwd", "/etc/hostname", "/proc/self/environ", "../etc/passwd", "/nestbox", "/plugins/python/plugin.toml"]:
    try:
        open(p, "rb").read(16)
        leaks.append(p)
    except OSError:
        pass
print("ESCAPED: read " + ", ".join(leaks) if leaks else "CONTAINED")
"#,
            contained,
            true,
        ),
        network,
        canary(
            "canary_write_outside_work",
            r#"try:
    with open("/work/canary-control", "w") as f:
        f.write("x")
except OSError as e:
    print("SETUP FAILED: cannot write even in /work:", e)
wrote = []
for p in ["/etc/nestbox-canary", "/nestbox-canary", "/code/main.py", "/work/../nestbox-canary"]:
    try:
        with open(p, "w") as f:
            f.write("x")
        wrote.append(p)
    except OSError:
        pass
print("ESCAPED: wrote " + ", ".join(wrote) if wrote else "CONTAINED")
"#,
            contained,
            true,
        ),
        canary(
            "canary_see_host_processes",
            r#"import os
try:
    os.listdir("/work")
except OSError as e:
    print("SETUP FAILED: cannot list even /work:", e)
try:
    entries = [e for e in os.listdir("/proc") if e.isdigit()]
    print("ESCAPED: saw processes", entries[:5])
except OSError:
    print("CONTAINED")
"#,
            contained,
            true,
        ),
        canary(
            "canary_exhaust_file_descriptors",
            r#"files = []
try:
    while len(files) < 100000:
        files.append(open("/tmp/fd%d" % len(files), "w"))
    print("ESCAPED: opened", len(files))
except OSError as e:
    print("CONTAINED after", len(files), "files:", e)
"#,
            |r| contained_after(r, 16),
            false,
        ),
        canary(
            "canary_fill_disk",
            r#"written = 0
block = b"x" * (1024 * 1024)
try:
    with open("big.bin", "wb") as f:
        while written < 2048 * 1024 * 1024:
            f.write(block)
            written += len(block)
    print("ESCAPED: wrote", written)
except OSError as e:
    print("CONTAINED after", written // (1024 * 1024), "MiB:", e)
"#,
            |r| contained_after(r, 1),
            false,
        ),
        canary(
            "canary_flood_output",
            "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)",
            |r| {
                expect(r, Status::OutputLimit)?;
                let cap = r.limits.as_ref().map_or(0, |l| l.max_output_bytes) as usize;
                (cap > 0 && r.stdout.len() == cap && r.stdout_truncated)
                    .then_some(())
                    .ok_or_else(|| Failure(format!("kept {} bytes, cap {cap}", r.stdout.len())))
            },
            true,
        ),
    ]);
    all
}

/// A TCP listener on the host's loopback that the network canaries try to reach.
pub struct HostListener {
    listener: TcpListener,
    pub addr: SocketAddr,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "setting up the canary's host listener on {addr}: {step}: {source}; fix: free a loopback port \
     (the canary cannot prove anything without it)"
)]
pub struct ListenerError {
    addr: String,
    step: &'static str,
    #[source]
    source: std::io::Error,
}

impl HostListener {
    /// Listen on `addr` (normally `127.0.0.1:0`), without blocking on accept.
    pub fn bind(addr: &str) -> Result<HostListener, ListenerError> {
        let fail = |step| {
            let addr = addr.to_string();
            move |source| ListenerError { addr, step, source }
        };
        let listener = TcpListener::bind(addr).map_err(fail("binding"))?;
        listener
            .set_nonblocking(true)
            .map_err(fail("making accept non-blocking"))?;
        let addr = listener.local_addr().map_err(fail("reading its address"))?;
        Ok(HostListener { listener, addr })
    }

    /// `Ok` when no connection arrived; a connection, or a failure to tell, is an `Err`.
    pub fn untouched(&self) -> Result<(), Failure> {
        std::thread::sleep(Duration::from_millis(50));
        match self.listener.accept() {
            // Not read from: a connection that sends nothing must not hang the self-test.
            Ok((_, addr)) => Err(Failure(format!(
                "the host listener on {} accepted a connection from {addr}",
                self.addr
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(Failure(format!(
                "checking the host listener on {}: {e}",
                self.addr
            ))),
        }
    }
}

/// Judge a case that needs the host listener: its setup must have worked, and no connection may
/// have arrived, whatever the code printed.
fn judge_listener(
    listener: &Result<HostListener, ListenerError>,
    printed: Result<(), Failure>,
) -> Result<(), Failure> {
    let l = listener.as_ref().map_err(|e| Failure(e.to_string()))?;
    printed?;
    l.untouched()
}

/// Why the outer-wall probe could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeSetupError {
    #[error("no plugin is installed, so there is no real run's sandbox to probe")]
    NoPlugin,
    #[error("preparing a real run's sandbox: {0}")]
    Inspect(#[from] InspectError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("the probe's supervisor thread failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Run the probe in the sandbox a default run gets (Python's when installed).
pub async fn probe_default_sandbox(
    nestbox: &Nestbox,
    connect: SocketAddr,
) -> Result<Findings, ProbeSetupError> {
    let plugin = nestbox
        .registry
        .find("python")
        .or_else(|| nestbox.registry.plugins.first())
        .ok_or(ProbeSetupError::NoPlugin)?;
    let id = uuid::Uuid::new_v4().to_string();
    let (gvisor, spec, _) = nestbox.default_sandbox(&plugin.manifest.name, &id).await?;
    let sandbox = gvisor.probe_sandbox(
        &spec,
        &ProbeOptions {
            connect: vec![connect],
            guest_binary: None,
        },
    )?;
    Ok(tokio::task::spawn_blocking(move || sandbox.run()).await??)
}

/// The outer wall's outcomes: one per property, or one failure when the probe could not run
/// (`found` is `None` when the listener it needed could not be set up).
fn outer_outcomes(
    found: Option<Result<Findings, ProbeSetupError>>,
    listener: &Result<HostListener, ListenerError>,
    started: Instant,
) -> Vec<Outcome> {
    let found = match (found, listener) {
        (Some(f), _) => f.map_err(|e| e.to_string()),
        (None, Err(e)) => Err(e.to_string()),
        (None, Ok(_)) => Err("the probe was not started".to_string()),
    };
    let findings = match found {
        Ok(f) => f,
        Err(e) => {
            return vec![Outcome::judged(
                "outer_probe".into(),
                Wall::Outer,
                Err(Failure(format!(
                    "the probe could not run, so the outer wall is unproven: {e}"
                ))),
                started,
            )];
        }
    };
    let mut out: Vec<Outcome> = probe::checks(&findings)
        .into_iter()
        .map(|c| {
            Outcome::judged(
                format!("outer_{}", c.property),
                Wall::Outer,
                c.problem
                    .map_or(Ok("holds".to_string()), |p| Err(Failure(p))),
                started,
            )
        })
        .collect();
    out.push(Outcome::judged(
        "outer_host_listener".into(),
        Wall::Outer,
        judge_listener(listener, Ok(())).map(|_| "no connection arrived".to_string()),
        started,
    ));
    out
}

/// Run the self-tests of the given walls, announcing each section, and each test as it starts
/// and ends.
pub async fn run(
    nestbox: &Nestbox,
    walls: &[Wall],
    on_section: &dyn Fn(Wall),
    on_start: &dyn Fn(&str),
    on_end: &dyn Fn(&Outcome),
) -> Vec<Outcome> {
    let listener = HostListener::bind("127.0.0.1:0");
    let port = listener.as_ref().map_or(0, |l| l.addr.port());
    let mut outcomes = Vec::new();
    for wall in Wall::ALL.into_iter().filter(|w| walls.contains(w)) {
        on_section(wall);
        if wall == Wall::Outer {
            on_start("outer_probe");
            let started = Instant::now();
            let found = match &listener {
                Ok(l) => Some(probe_default_sandbox(nestbox, l.addr).await),
                Err(_) => None,
            };
            for o in outer_outcomes(found, &listener, started) {
                on_end(&o);
                outcomes.push(o);
            }
            continue;
        }
        let (prefix, isolation) = match wall {
            Wall::Inner => ("inner_", Isolation::WasmtimeOnly),
            _ => ("", Isolation::Gvisor),
        };
        for c in cases(&LanguageCheck::all(&nestbox.registry), port)
            .into_iter()
            .filter(|c| wall != Wall::Inner || c.inner)
        {
            let name = format!("{prefix}{}", c.name);
            on_start(&name);
            let o = run_case(nestbox, &c, name, wall, isolation, &listener).await;
            on_end(&o);
            outcomes.push(o);
        }
    }
    outcomes
}

async fn run_case(
    nestbox: &Nestbox,
    c: &Case,
    name: String,
    wall: Wall,
    isolation: Isolation,
    listener: &Result<HostListener, ListenerError>,
) -> Outcome {
    let started = Instant::now();
    if nestbox.registry.find(&c.language).is_none() {
        let why = format!("no {} plugin is installed", c.language);
        if c.canary {
            return Outcome::judged(
                name,
                wall,
                Err(Failure(format!(
                    "{why}, so this isolation canary cannot run"
                ))),
                started,
            );
        }
        return Outcome {
            name,
            wall,
            verdict: Verdict::Skipped,
            detail: why,
            duration_ms: 0,
        };
    }
    if let (true, Err(e)) = (c.uses_listener, listener) {
        return Outcome::judged(name, wall, Err(Failure(e.to_string())), started);
    }
    let result = nestbox
        .execute(
            Job {
                language: c.language.clone(),
                code: c.code.clone(),
                max_runtime_seconds: c.max_runtime_seconds,
                max_ram_mb: c.max_ram_mb,
                ..Default::default()
            },
            &RunOptions {
                isolation,
                ..RunOptions::default()
            },
        )
        .await;
    let mut verdict = (c.check)(&result);
    if c.uses_listener {
        verdict = judge_listener(listener, verdict);
    }
    Outcome::judged(name, wall, verdict.map(|_| result.message.clone()), started)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(stdout: &str) -> RunResult {
        RunResult {
            status: Status::Ok,
            stdout: stdout.into(),
            ..RunResult::not_run(Status::Ok, String::new())
        }
    }

    #[test]
    fn a_listener_that_cannot_bind_fails_the_canary() {
        // 192.0.2.1 (TEST-NET-1) is on no interface here: binding it fails.
        let listener = HostListener::bind("192.0.2.1:0");
        let err = listener.as_ref().err().expect("binding must fail");
        assert!(err.to_string().contains("binding"), "{err}");
        let verdict = judge_listener(&listener, Ok(()));
        assert!(verdict.unwrap_err().0.contains("192.0.2.1"));
    }

    #[test]
    fn a_listener_that_was_reached_fails_the_canary() {
        let listener = HostListener::bind("127.0.0.1:0");
        let addr = listener.as_ref().unwrap().addr;
        assert_eq!(judge_listener(&listener, Ok(())), Ok(()));
        let _conn = std::net::TcpStream::connect(addr).unwrap();
        let verdict = judge_listener(&listener, Ok(()));
        assert!(verdict.unwrap_err().0.contains("accepted a connection"));
    }

    #[test]
    fn canaries_whose_setup_failed_are_failures() {
        assert!(contained(&printed("CONTAINED\n")).is_ok());
        assert!(contained(&printed("SETUP FAILED: x\nCONTAINED\n")).is_err());
        assert!(contained(&printed("ESCAPED: read /etc/passwd\n")).is_err());
        assert!(contained(&printed("")).is_err());
        let stopped = printed("CONTAINED after 0 files: [Errno 2] no such directory\n");
        assert!(contained_after(&stopped, 16).is_err());
        let limited = printed("CONTAINED after 250 files: [Errno 24] Too many open files\n");
        assert!(contained_after(&limited, 16).is_ok());
    }

    #[test]
    fn a_probe_that_cannot_start_is_one_failure() {
        let listener = HostListener::bind("127.0.0.1:0");
        let failed = Err(ProbeSetupError::Probe(ProbeError::Start {
            runsc: "/nonexistent/runsc".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        }));
        let out = outer_outcomes(Some(failed), &listener, Instant::now());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].verdict, Verdict::Failed);
        assert_eq!(out[0].wall, Wall::Outer);
        assert!(
            out[0].detail.contains("/nonexistent/runsc"),
            "{}",
            out[0].detail
        );
        // No listener, no probe: failed too, naming the listener.
        let unbound = HostListener::bind("192.0.2.1:0");
        let out = outer_outcomes(None, &unbound, Instant::now());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].verdict, Verdict::Failed);
        assert!(out[0].detail.contains("host listener"), "{}", out[0].detail);
    }
}
