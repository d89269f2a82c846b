//! `nestbox self-test`: the reference project's six self-tests plus isolation canaries, each run
//! through the real sandbox exactly as a user's code would be.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::execute::{Nestbox, RunOptions};
use crate::job::Job;
use crate::result::{RunResult, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
    pub duration_ms: u64,
}

/// Judges a result: `Err` says what was wrong.
type Check = Box<dyn Fn(&RunResult) -> Result<(), String> + Send + Sync>;

struct Case {
    name: &'static str,
    language: &'static str,
    code: String,
    max_runtime_seconds: Option<f64>,
    max_ram_mb: Option<f64>,
    check: Check,
}

fn case(
    name: &'static str,
    language: &'static str,
    code: impl Into<String>,
    check: impl Fn(&RunResult) -> Result<(), String> + Send + Sync + 'static,
) -> Case {
    Case {
        name,
        language,
        code: code.into(),
        max_runtime_seconds: None,
        max_ram_mb: None,
        check: Box::new(check),
    }
}

fn expect(r: &RunResult, status: Status) -> Result<(), String> {
    if r.status == status {
        Ok(())
    } else {
        Err(format!(
            "expected {status}, got {}: {} (stderr: {})",
            r.status,
            r.message,
            r.stderr.lines().last().unwrap_or("")
        ))
    }
}

fn contained(r: &RunResult) -> Result<(), String> {
    if r.stdout.contains("CONTAINED") && !r.stdout.contains("ESCAPED") {
        Ok(())
    } else {
        Err(format!(
            "{}: stdout {:?}, stderr {:?}",
            r.status,
            r.stdout.chars().take(300).collect::<String>(),
            r.stderr.chars().take(300).collect::<String>()
        ))
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

fn cases(listener_port: u16) -> Vec<Case> {
    let mut timeout = case(
        "long_running_code",
        "python",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(15)\nprint('woke up')",
        |r| {
            expect(r, Status::Timeout)?;
            if r.stdout.contains("sleeping") && !r.stdout.contains("woke") {
                Ok(())
            } else {
                Err(format!("partial output not kept: {:?}", r.stdout))
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
    vec![
        case(
            "simple_python",
            "python",
            "print('hello from python')",
            |r| {
                expect(r, Status::Ok)?;
                (r.stdout == "hello from python\n")
                    .then_some(())
                    .ok_or(format!("stdout {:?}", r.stdout))
            },
        ),
        case("simple_bash", "bash", "echo hello from bash", |r| {
            expect(r, Status::Ok)?;
            (r.stdout == "hello from bash\n")
                .then_some(())
                .ok_or(format!("stdout {:?}", r.stdout))
        }),
        case("bad_syntax_python", "python", "print('foo", |r| {
            expect(r, Status::Error)?;
            r.stderr
                .contains("SyntaxError")
                .then_some(())
                .ok_or(format!("no SyntaxError in stderr {:?}", r.stderr))
        }),
        case("bad_syntax_bash", "bash", "echo 'foo", |r| {
            expect(r, Status::Error)?;
            (r.exit_code == Some(2))
                .then_some(())
                .ok_or(format!("exit code {:?}, bash gives 2", r.exit_code))
        }),
        timeout,
        ram,
        case(
            "canary_read_host_file",
            "python",
            r#"leaks = []
for p in ["/etc/passwd", "/etc/hostname", "/proc/self/environ", "../etc/passwd", "/nestbox", "/plugins/python/plugin.toml"]:
    try:
        open(p, "rb").read(16)
        leaks.append(p)
    except OSError:
        pass
print("ESCAPED: read " + ", ".join(leaks) if leaks else "CONTAINED")
"#,
            contained,
        ),
        case(
            "canary_reach_host_listener",
            "python",
            network_canary(listener_port),
            contained,
        ),
        case(
            "canary_write_outside_work",
            "python",
            r#"wrote = []
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
        ),
        case(
            "canary_see_host_processes",
            "python",
            r#"import os
try:
    entries = [e for e in os.listdir("/proc") if e.isdigit()]
    print("ESCAPED: saw processes", entries[:5])
except OSError:
    print("CONTAINED")
"#,
            contained,
        ),
        case(
            "canary_exhaust_file_descriptors",
            "python",
            r#"files = []
try:
    while len(files) < 100000:
        files.append(open("/tmp/fd%d" % len(files), "w"))
    print("ESCAPED: opened", len(files))
except OSError as e:
    print("CONTAINED after", len(files), "files:", e)
"#,
            contained,
        ),
        case(
            "canary_fill_disk",
            "python",
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
            contained,
        ),
        case(
            "canary_flood_output",
            "python",
            "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)",
            |r| {
                expect(r, Status::OutputLimit)?;
                let cap = r.limits.as_ref().map_or(0, |l| l.max_output_bytes) as usize;
                (r.stdout.len() == cap && r.stdout_truncated)
                    .then_some(())
                    .ok_or(format!("kept {} bytes, cap {cap}", r.stdout.len()))
            },
        ),
    ]
}

/// Run the self-tests, reporting each as it starts and ends.
pub async fn run(
    nestbox: &Nestbox,
    on_start: &dyn Fn(&str),
    on_end: &dyn Fn(&Outcome),
) -> Vec<Outcome> {
    let listener = TcpListener::bind("127.0.0.1:0").ok();
    let port = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map_or(9, |a| a.port());
    if let Some(l) = &listener {
        let _ = l.set_nonblocking(true);
    }
    let mut outcomes = Vec::new();
    for c in cases(port) {
        on_start(c.name);
        let started = Instant::now();
        let outcome = if nestbox.registry.find(c.language).is_none() {
            Outcome {
                name: c.name,
                verdict: Verdict::Skipped,
                detail: format!("no {} plugin is installed", c.language),
                duration_ms: 0,
            }
        } else {
            let result = nestbox
                .execute(
                    Job {
                        language: c.language.into(),
                        code: c.code.clone(),
                        max_runtime_seconds: c.max_runtime_seconds,
                        max_ram_mb: c.max_ram_mb,
                        ..Default::default()
                    },
                    &RunOptions::default(),
                )
                .await;
            let mut verdict = (c.check)(&result);
            if c.name == "canary_reach_host_listener" && verdict.is_ok() {
                verdict = listener_untouched(listener.as_ref());
            }
            Outcome {
                name: c.name,
                verdict: if verdict.is_ok() {
                    Verdict::Passed
                } else {
                    Verdict::Failed
                },
                detail: verdict.err().unwrap_or_else(|| result.message.clone()),
                duration_ms: started.elapsed().as_millis() as u64,
            }
        };
        on_end(&outcome);
        outcomes.push(outcome);
    }
    outcomes
}

/// The listener must not have seen a connection from the sandbox.
fn listener_untouched(listener: Option<&TcpListener>) -> Result<(), String> {
    let Some(l) = listener else {
        return Ok(());
    };
    std::thread::sleep(Duration::from_millis(50));
    match l.accept() {
        Ok((mut s, addr)) => {
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf);
            Err(format!(
                "the host listener accepted a connection from {addr}"
            ))
        }
        Err(_) => Ok(()),
    }
}
