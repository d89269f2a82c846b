//! CHECK_FOR_UPDATES: is a newer gVisor release out than the runsc this host runs? At most one
//! check every three days, done by a detached `nestbox update-check` process so a run never waits
//! on the network; its answer is cached in the state dir and turned into a notice by later runs.
//! Offline, the check fails quietly and is not retried for three days.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::install::PINNED_RELEASE;
use super::runsc::release_date;

/// How often the network is asked.
pub const INTERVAL: Duration = Duration::from_secs(3 * 24 * 3600);
/// gVisor's latest release (overridable with NESTBOX_UPDATE_URL for mirrors and tests).
pub const LATEST_URL: &str = "https://api.github.com/repos/google/gvisor/releases/latest";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cached {
    pub checked_at: u64,
    /// The latest release tag, when the check got an answer.
    pub latest: Option<String>,
}

/// Why the update check could not even ask (an unanswered question is not an error).
#[derive(Debug, thiserror::Error)]
pub enum UpdateCheckError {
    #[error(
        "setting up the HTTPS client for the gVisor update check: {0}; fix: check the system's \
         TLS roots, or set CHECK_FOR_UPDATES=false"
    )]
    Client(#[source] reqwest::Error),
}

fn cache_path(state_dir: &Path) -> PathBuf {
    state_dir.join("update-check.json")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn read(state_dir: &Path) -> Option<Cached> {
    serde_json::from_slice(&std::fs::read(cache_path(state_dir)).ok()?).ok()
}

/// Whether a check is due (never checked, or the last one is older than [`INTERVAL`]).
pub fn due(state_dir: &Path) -> bool {
    read(state_dir).is_none_or(|c| now().saturating_sub(c.checked_at) >= INTERVAL.as_secs())
}

/// Start a detached `nestbox update-check` if one is due. Never blocks, never fails.
pub fn start_if_due(state_dir: &Path) {
    if !due(state_dir) {
        return;
    }
    // Claim the slot first, so concurrent runs do not all start a check.
    record(
        state_dir,
        &Cached {
            checked_at: now(),
            latest: read(state_dir).and_then(|c| c.latest),
        },
    );
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = Command::new(exe);
    cmd.arg("update-check")
        .env("NESTBOX_STATE_DIR", state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe; it detaches the checker from our session.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let _ = cmd.spawn();
}

fn record(state_dir: &Path, cached: &Cached) {
    let _ = std::fs::create_dir_all(state_dir);
    let path = cache_path(state_dir);
    let tmp = path.with_extension("json.tmp");
    if std::fs::write(&tmp, serde_json::to_vec(cached).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(tmp, path);
    }
}

/// Ask for the latest release now and cache the answer (the body of `nestbox update-check`).
pub async fn check_now(state_dir: &Path, url: &str) -> Result<Option<String>, UpdateCheckError> {
    #[derive(Deserialize)]
    struct Release {
        tag_name: String,
    }
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(20))
        .user_agent(concat!("nestbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(UpdateCheckError::Client)?;
    let answer = async {
        client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json::<Release>()
            .await
    }
    .await;
    let latest = answer.ok().map(|r| r.tag_name);
    record(
        state_dir,
        &Cached {
            checked_at: now(),
            latest: latest.clone(),
        },
    );
    Ok(latest)
}

/// A notice when the cached latest release is newer than the installed runsc.
pub fn notice(state_dir: &Path, installed: &str) -> Option<String> {
    let latest = read(state_dir)?.latest?;
    let (Some(new), Some(have)) = (release_date(&latest), release_date(installed)) else {
        return None;
    };
    (new > have).then(|| {
        format!(
            "gVisor {latest} is available; this host runs runsc {installed}. Newer releases fix \
             security issues: `nestbox gvisor install` installs release {PINNED_RELEASE} \
             (checksum pinned in nestbox)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_and_notice_follow_the_cache() {
        let d = tempfile::tempdir().unwrap();
        assert!(due(d.path()));
        record(
            d.path(),
            &Cached {
                checked_at: now(),
                latest: Some("release-20991231.0".into()),
            },
        );
        assert!(!due(d.path()));
        let n = notice(d.path(), "0.0~20221219.0").unwrap();
        assert!(n.contains("release-20991231.0"), "{n}");
        assert!(notice(d.path(), "release-20991231.0").is_none());
        record(
            d.path(),
            &Cached {
                checked_at: 0,
                latest: None,
            },
        );
        assert!(due(d.path()));
        assert!(notice(d.path(), "0.0~20221219.0").is_none());
    }
}
