//! Calling one plugin from another: `python3 script.py` typed in a bash script. The guest imports
//! two functions from module `nestbox`, `call` and `take`; their request and response are the
//! typed messages of the `nestbox-call` crate (`crates/nestbox-call`), which the bash guest uses
//! too and which documents the wire format. A negative answer from `call` means the request was
//! refused (too large, malformed); `found: false` that no installed plugin answers to `argv[0]`
//! (the guest then says `command not found`, status 127).
//!
//! The command runs as a new execution of the named plugin in the same sandbox: the same `/work`
//! and `/tmp`, a fresh store, and the *remaining* budget of the caller: the time left before its
//! deadline, the memory its store has not used, the fuel it has not burned (what the nested run
//! burns is taken from the caller). Its output is captured and handed back to the caller, which
//! writes it wherever the script sends it.

use std::sync::Arc;
use std::time::Instant;

use nestbox_call::{MAX_REQUEST_BYTES, REFUSED_MALFORMED, REFUSED_TOO_LARGE, Request, Response};
use wasmtime::{Caller, Linker, Module, Trap};

use super::{Execution, RunDirs, Runner, StoreState};
use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::result::Status;

/// How deep plugins may call plugins (`bash -c 'bash -c ...'`).
const MAX_DEPTH: u32 = 8;

/// Finds the plugin and loaded module that answer to a command name.
pub trait ModuleSource: Send + Sync {
    fn lookup(&self, command: &str) -> Option<(Plugin, Module)>;
}

/// Per-store state of the `nestbox` imports.
pub struct CallState {
    runner: Arc<Runner>,
    dirs: RunDirs,
    limits: Limits,
    started: Instant,
    depth: u32,
    pending: Option<Vec<u8>>,
}

impl CallState {
    pub fn new(runner: Arc<Runner>, dirs: RunDirs, limits: Limits, depth: u32) -> CallState {
        CallState {
            runner,
            dirs,
            limits,
            started: Instant::now(),
            depth,
            pending: None,
        }
    }
}

impl CallState {
    /// A prepared start-up handed over to its job: nested calls now share the job's budget,
    /// counted from now.
    pub fn restart(&mut self, limits: Limits) {
        self.limits = limits;
        self.started = Instant::now();
    }
}

pub fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        nestbox_call::MODULE,
        nestbox_call::CALL,
        |mut caller: Caller<'_, StoreState>, (ptr, len): (i32, i32)| {
            Box::new(async move { call(&mut caller, ptr, len).await })
        },
    )?;
    linker.func_wrap(
        nestbox_call::MODULE,
        nestbox_call::TAKE,
        |mut caller: Caller<'_, StoreState>, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let pending = caller.data_mut().nested.pending.take().unwrap_or_default();
            let n = pending.len().min(len.max(0) as usize);
            let memory = guest_memory(&mut caller)?;
            memory
                .write(&mut caller, ptr as u32 as usize, &pending[..n])
                .map_err(|_| wasmtime::format_err!("nestbox.take: buffer outside guest memory"))?;
            Ok(n as i32)
        },
    )?;
    Ok(())
}

fn guest_memory(caller: &mut Caller<'_, StoreState>) -> wasmtime::Result<wasmtime::Memory> {
    caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .ok_or_else(|| wasmtime::format_err!("the guest exports no memory"))
}

async fn call(caller: &mut Caller<'_, StoreState>, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    let len = len.max(0) as usize;
    if len > MAX_REQUEST_BYTES {
        return Ok(REFUSED_TOO_LARGE);
    }
    let mut bytes = vec![0u8; len];
    guest_memory(caller)?
        .read(&mut *caller, ptr as u32 as usize, &mut bytes)
        .map_err(|_| wasmtime::format_err!("nestbox.call: request outside guest memory"))?;
    let req = match Request::decode(&bytes) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "refused a nestbox.call request");
            return Ok(REFUSED_MALFORMED);
        }
    };
    let name = req.command().to_string();

    let state = &caller.data().nested;
    let runner = state.runner.clone();
    let found = runner.modules().and_then(|m| m.lookup(&name));
    let Some((plugin, module)) = found else {
        return respond(caller, Response::not_found());
    };
    if state.depth >= MAX_DEPTH {
        let msg = format!("{name}: plugins may call plugins at most {MAX_DEPTH} levels deep\n");
        return respond(caller, Response::failed(126, msg));
    }

    // The nested run gets what the caller has left.
    let elapsed = state.started.elapsed().as_millis() as u64;
    let time_left = state.limits.max_runtime_ms.saturating_sub(elapsed);
    if time_left == 0 {
        return Err(Trap::Interrupt.into());
    }
    let fuel_left = caller.get_fuel()?;
    let memory_left_mb = caller.data().limiter.remaining() / (1024 * 1024);
    let limits = Limits {
        max_runtime_ms: time_left,
        max_ram_mb: memory_left_mb,
        max_output_bytes: state.limits.max_output_bytes,
        fuel: fuel_left,
    };
    let dirs = state.dirs.clone();
    let depth = state.depth + 1;

    let extra_env: Vec<(String, String)> = req.env.into_iter().collect();
    let cwd = req
        .cwd
        .and_then(|c| work_subdir(&dirs.work, &c).map(|host| (c, host)));
    let (cwd, root_alias) = cwd.unzip();
    let exec = Execution {
        plugin: &plugin,
        module: &module,
        argv: plugin.manifest.call_argv(req.argv),
        extra_env,
        stdin: Some(req.stdin),
        limits,
        dirs: &dirs,
        root_alias,
        cwd,
        observer: None,
        gate: None,
    };
    let outcome = Box::pin(runner.run_at_depth(exec, depth)).await;

    caller.set_fuel(fuel_left.saturating_sub(outcome.fuel_used))?;
    match outcome.status {
        // The caller shares the deadline and the CPU budget: it is out of them too.
        Status::Timeout => return Err(Trap::Interrupt.into()),
        Status::MemoryLimit => caller.data_mut().limiter.denied = true,
        _ => {}
    }
    let status = match (outcome.exit_code, outcome.status) {
        (Some(code), _) => code,
        (None, Status::SandboxError) => 126,
        (None, _) => 1,
    };
    let mut stderr = outcome.stderr;
    if outcome.status != Status::Ok && outcome.status != Status::Error {
        stderr.extend_from_slice(format!("{name}: {}\n", outcome.message).as_bytes());
    }
    respond(
        caller,
        Response {
            found: true,
            status,
            stdout: outcome.stdout,
            stderr,
        },
    )
}

/// The host directory for a guest path inside `/work` (`/work/sub` -> `<work>/sub`), if it is a
/// plain path to an existing directory there.
fn work_subdir(work: &std::path::Path, guest: &str) -> Option<std::path::PathBuf> {
    let rel = std::path::Path::new(guest)
        .strip_prefix(super::wasi::WORK_DIR)
        .ok()?;
    if !rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    // Every component must be a real directory: a symbolic link is never followed out of /work.
    let mut host = work.to_path_buf();
    for c in rel.components() {
        host.push(c);
        if !std::fs::symlink_metadata(&host).is_ok_and(|m| m.is_dir()) {
            return None;
        }
    }
    Some(host)
}

fn respond(caller: &mut Caller<'_, StoreState>, response: Response) -> wasmtime::Result<i32> {
    let bytes = response.encode();
    let len = bytes.len() as i32;
    caller.data_mut().nested.pending = Some(bytes);
    Ok(len)
}
