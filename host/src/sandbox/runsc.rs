//! The runsc binary: finding it, learning its version and platform, and running it with an
//! explicit environment, no inherited file descriptors, its own state directory and no network.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use super::container::{Container, ContainerRuntime};
use super::reaper;
use crate::plugin::artifact::FileStamp;

/// Where `nestbox gvisor install` puts runsc (root-owned).
pub const INSTALL_DIR: &str = "/usr/local/lib/nestbox/gvisor";
/// Folders searched for runsc after the configured path and nestbox's own install.
const SEARCH: &[&str] = &[
    "/usr/local/bin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/sbin",
    "/bin",
    "/sbin",
];
/// The environment runsc gets; nothing else from ours.
const RUNSC_PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// First gVisor release date whose default platform is systrap.
const SYSTRAP_SINCE: u32 = 20230612;

#[derive(Debug, thiserror::Error)]
pub enum RunscError {
    #[error(
        "runsc (gVisor) was not found (looked at {looked}); nothing was run. \
         fix: install it with `nestbox gvisor install` (or `apt-get install runsc`), \
         or set NESTBOX_RUNSC_PATH"
    )]
    NotFound { looked: String },
    #[error(
        "runsc at {path} does not work: {detail}; nothing was run. fix: reinstall it with `nestbox gvisor install`"
    )]
    Broken { path: PathBuf, detail: String },
    #[error("starting {path} for sandbox {id}: {source}")]
    Start {
        path: PathBuf,
        id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`runsc {verb}` failed for sandbox {id}: {detail}")]
    Command {
        verb: &'static str,
        id: String,
        detail: String,
    },
}

/// A usable runsc.
#[derive(Debug, Clone)]
pub struct Runsc {
    pub path: PathBuf,
    pub version: String,
    pub platform: String,
    /// runsc's private state directory (`--root`).
    pub root: PathBuf,
    /// `--rootless --ignore-cgroups`: only when the operator allowed running without limits and
    /// we are not root.
    pub rootless: bool,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Probe {
    path: PathBuf,
    stamp: FileStamp,
    version: String,
}

impl Runsc {
    /// Find runsc: the configured path, nestbox's own install, then the usual folders.
    pub fn locate(configured: Option<&Path>) -> Result<PathBuf, RunscError> {
        if let Some(p) = configured {
            return if p.is_file() {
                Ok(p.to_path_buf())
            } else {
                Err(RunscError::NotFound {
                    looked: format!("{} (NESTBOX_RUNSC_PATH / runsc_path)", p.display()),
                })
            };
        }
        let candidates: Vec<PathBuf> = std::iter::once(PathBuf::from(INSTALL_DIR))
            .chain(SEARCH.iter().map(PathBuf::from))
            .map(|d| d.join("runsc"))
            .collect();
        candidates
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .ok_or_else(|| RunscError::NotFound {
                looked: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Learn runsc's version (cached in `state_dir` while the binary is unchanged) and pick the
    /// platform.
    pub fn open(
        path: PathBuf,
        state_dir: &Path,
        platform: &str,
        rootless: bool,
    ) -> Result<Runsc, RunscError> {
        let version = probe_version(&path, state_dir)?;
        let platform = match platform {
            "auto" => auto_platform(&version).to_string(),
            other => other.to_string(),
        };
        Ok(Runsc {
            path,
            version,
            platform,
            root: state_dir.join("runsc"),
            rootless,
        })
    }

    /// `runsc` with nestbox's global flags. Always `--network=none`.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.env_clear()
            .env("PATH", RUNSC_PATH_ENV)
            .arg(format!("--root={}", self.root.display()))
            .arg("--network=none")
            .arg(format!("--platform={}", self.platform));
        if self.rootless {
            cmd.arg("--rootless").arg("--ignore-cgroups");
        }
        close_inherited_fds(&mut cmd);
        cmd
    }

    /// Start `runsc run` for a bundle, stdio on pipes (runsc reopens /dev/stdout: never files).
    pub fn start(&self, bundle: &Path, id: &str) -> std::io::Result<Child> {
        std::fs::create_dir_all(&self.root)?;
        let mut cmd = self.command();
        // If nestbox dies (even by SIGKILL), runsc gets SIGKILL and takes its sandbox down; the
        // next start's sweep deletes what it leaves. The spawning thread waits for runsc, so
        // the signal is not sent early (it follows the thread, not the process).
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                Ok(())
            });
        }
        cmd.arg("run")
            .arg(format!("--bundle={}", bundle.display()))
            .arg(id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        reaper::global().spawn(cmd)
    }

    /// `runsc kill ID KILL`.
    pub fn kill(&self, id: &str) -> Result<(), RunscError> {
        self.simple("kill", id, &[id, "KILL"])
    }

    /// `runsc delete --force ID` (one id per call: runsc stops at the first missing one).
    pub fn delete(&self, id: &str) -> Result<(), RunscError> {
        self.simple("delete", id, &["--force", id])
    }

    /// Ids runsc still has state for.
    pub fn list(&self) -> Result<Vec<String>, RunscError> {
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        let mut cmd = self.command();
        cmd.args(["list", "--quiet"]);
        let out = reaper::global()
            .output(cmd)
            .map_err(|e| RunscError::Command {
                verb: "list",
                id: String::new(),
                detail: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(RunscError::Command {
                verb: "list",
                id: String::new(),
                detail: quote(&out.stderr),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect())
    }

    fn simple(&self, verb: &'static str, id: &str, args: &[&str]) -> Result<(), RunscError> {
        let mut cmd = self.command();
        cmd.arg(verb).args(args);
        let out = reaper::global()
            .output(cmd)
            .map_err(|e| RunscError::Command {
                verb,
                id: id.to_string(),
                detail: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(RunscError::Command {
                verb,
                id: id.to_string(),
                detail: quote(&out.stderr),
            })
        }
    }
}

impl ContainerRuntime for Runsc {
    fn boot(&self, bundle: &Path, id: &str) -> Result<Container, RunscError> {
        let mut child = self.start(bundle, id).map_err(|source| RunscError::Start {
            path: self.path.clone(),
            id: id.to_string(),
            source,
        })?;
        Ok(Container {
            pid: child.id(),
            stdin: Box::new(child.stdin.take().expect("stdin is piped")),
            stdout: Box::new(child.stdout.take().expect("stdout is piped")),
            stderr: Box::new(child.stderr.take().expect("stderr is piped")),
        })
    }

    fn wait(
        &self,
        pid: u32,
        timeout: Option<std::time::Duration>,
    ) -> Option<std::process::ExitStatus> {
        reaper::global().wait(pid, timeout)
    }

    fn kill(&self, id: &str) -> Result<(), RunscError> {
        Runsc::kill(self, id)
    }

    fn kill_process(&self, pid: u32) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::SIGKILL,
        );
    }

    fn delete(&self, id: &str) -> Result<(), RunscError> {
        Runsc::delete(self, id)
    }

    fn list(&self) -> Result<Vec<String>, RunscError> {
        Runsc::list(self)
    }
}

/// runsc's stderr, trimmed for quoting in a message.
pub fn quote(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return "(runsc printed nothing on stderr)".into();
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(12)..];
    format!("runsc said: {}", tail.join(" | "))
}

fn probe_version(path: &Path, state_dir: &Path) -> Result<String, RunscError> {
    let stamp = FileStamp::of(path).map_err(|e| RunscError::Broken {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let cache = state_dir.join("runsc-probe.json");
    if let Ok(bytes) = std::fs::read(&cache)
        && let Ok(p) = serde_json::from_slice::<Probe>(&bytes)
        && p.path == path
        && p.stamp == stamp
    {
        return Ok(p.version);
    }
    let mut cmd = Command::new(path);
    cmd.env_clear().env("PATH", RUNSC_PATH_ENV).arg("--version");
    close_inherited_fds(&mut cmd);
    let out = reaper::global()
        .output(cmd)
        .map_err(|e| RunscError::Broken {
            path: path.to_path_buf(),
            detail: format!("cannot execute it: {e}"),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("runsc version "))
        .map(|v| v.trim().to_string());
    let Some(version) = version.filter(|_| out.status.success()) else {
        return Err(RunscError::Broken {
            path: path.to_path_buf(),
            detail: format!(
                "`runsc --version` exited with {} and printed {:?}; {}",
                out.status,
                text.trim(),
                quote(&out.stderr)
            ),
        });
    };
    let probe = Probe {
        path: path.to_path_buf(),
        stamp,
        version: version.clone(),
    };
    if std::fs::create_dir_all(state_dir).is_ok() {
        let _ = std::fs::write(&cache, serde_json::to_vec(&probe).unwrap_or_default());
    }
    Ok(version)
}

/// The release date (YYYYMMDD) in a runsc version such as `0.0~20221219.0` or `release-20240513.0`.
pub fn release_date(version: &str) -> Option<u32> {
    let digits: Vec<char> = version.chars().collect();
    digits.windows(8).find_map(|w| {
        let s: String = w.iter().collect();
        (s.starts_with("20") && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    })
}

/// The best platform this runsc has that works without hardware virtualisation.
pub fn auto_platform(version: &str) -> &'static str {
    match release_date(version) {
        Some(d) if d >= SYSTRAP_SINCE => "systrap",
        _ => "ptrace",
    }
}

/// Close every file descriptor above stderr in the child, whatever our parent left open.
fn close_inherited_fds(cmd: &mut Command) {
    // SAFETY: close_range is async-signal-safe and only affects the child between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_dates_and_platforms() {
        assert_eq!(release_date("0.0~20221219.0"), Some(20221219));
        assert_eq!(release_date("release-20240513.0"), Some(20240513));
        assert_eq!(release_date("dev"), None);
        assert_eq!(auto_platform("0.0~20221219.0"), "ptrace");
        assert_eq!(auto_platform("release-20240513.0"), "systrap");
    }

    #[test]
    fn quotes_the_tail_of_stderr() {
        assert_eq!(quote(b""), "(runsc printed nothing on stderr)");
        assert_eq!(quote(b"a\nb\n"), "runsc said: a | b");
    }
}
