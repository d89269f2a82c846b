//! The guest's WASI context, deny by default: nothing from the host is inherited. The guest gets
//! exactly its argv, the manifest's environment (plus `NESTBOX_CWD`), the given stdin (else an
//! empty one), the capped output pipes, and these directories:
//!
//! | guest path | host side | access |
//! |---|---|---|
//! | `/work` | the per-run work dir (starts empty, or with the input files) | read-write |
//! | `/tmp` | a per-run scratch dir | read-write |
//! | `/code` | holds only the code file | read-only |
//! | manifest `[[preopen]]` | folders inside the plugin's folder (confined, no symlinks) | read-only |
//!
//! No sockets, no name lookups, no other files. WASI preview 1 has no process creation.

use std::path::{Path, PathBuf};

use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::output::CappedPipe;
use crate::plugin::Plugin;

/// The guest's working directory; plugins move there before running user code.
pub const WORK_DIR: &str = "/work";

/// The host-side directories of one run.
#[derive(Debug, Clone)]
pub struct RunDirs {
    /// Seen as `/work`.
    pub work: PathBuf,
    /// Seen as `/tmp`.
    pub tmp: PathBuf,
    /// Seen as `/code`.
    pub code: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PreopenError {
    #[error("opening {path} for the guest as {guest}: {message}")]
    Open {
        path: PathBuf,
        guest: String,
        message: String,
    },
    /// A manifest preopen that leaves the plugin's folder or holds a symlink.
    #[error(transparent)]
    Confine(#[from] crate::plugin::preopen::PreopenError),
}

/// What the guest process is given.
pub struct GuestIo<'a> {
    pub argv: &'a [String],
    /// A caller's exported variables (the manifest's own win over them).
    pub extra_env: &'a [(String, String)],
    /// The guest path the program should start in (`NESTBOX_CWD`), `/work` or below.
    pub cwd: &'a str,
    /// Filled now, or when a prepared execution's job arrives; empty means end of file.
    pub stdin: super::prepare::LateStdin,
    pub stdout: CappedPipe,
    pub stderr: CappedPipe,
    /// Also preopened at `/` (read-write): a directory inside the work dir.
    pub root_alias: Option<&'a Path>,
}

pub fn build(plugin: &Plugin, dirs: &RunDirs, io: GuestIo<'_>) -> Result<WasiP1Ctx, PreopenError> {
    // Confined before anything is opened: canonical paths inside the plugin's folder, no symlinks.
    let plugin_preopens = crate::plugin::preopen::resolve(plugin)?;
    let mut b = WasiCtxBuilder::new();
    // File operations run inline: the guest is alone on this thread, and it saves a hop per call.
    b.allow_blocking_current_thread(true);
    b.args(io.argv);
    // The caller's variables (a shell's exports) first; the plugin's own and the working
    // directory win over them.
    let mut env: std::collections::BTreeMap<&str, &str> = io
        .extra_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (k, v) in &plugin.manifest.env {
        env.insert(k, v);
    }
    env.insert("NESTBOX_CWD", io.cwd);
    for (k, v) in env {
        b.env(k, v);
    }
    b.stdin(io.stdin);
    b.stdout(io.stdout);
    b.stderr(io.stderr);
    b.allow_tcp(false);
    b.allow_udp(false);
    b.allow_ip_name_lookup(false);

    let mut preopen = |host: &Path, guest: &str, perms: FsPerms| {
        b.preopened_dir(host, guest, perms)
            .map(|_| ())
            .map_err(|e| PreopenError::Open {
                path: host.to_path_buf(),
                guest: guest.to_string(),
                message: format!("{e:#}"),
            })
    };
    preopen(&dirs.work, WORK_DIR, FsPerms::ReadWrite)?;
    if let Some(alias) = io.root_alias {
        // Longer preopens (/work, /tmp, /code) still win for their own paths.
        preopen(alias, "/", FsPerms::ReadWrite)?;
    }
    preopen(&dirs.tmp, "/tmp", FsPerms::ReadWrite)?;
    preopen(&dirs.code, "/code", FsPerms::ReadOnly)?;
    for p in &plugin_preopens {
        preopen(&p.host, &p.guest, FsPerms::ReadOnly)?;
    }
    Ok(b.build_p1())
}
