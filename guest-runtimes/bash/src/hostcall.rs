//! Commands the shell does not know are asked of the host (`python3 x.py`, `py -c ...`).
//!
//! ABI (documented in README.md): two imports from the module `nestbox`, `call` and `take`. The
//! request and response are the typed messages of the `nestbox-call` crate
//! (`crates/nestbox-call`), which the host uses too and which documents the wire format.

use bashkit::{Builtin, BuiltinContext, CommandResolver, ExecResult};
use nestbox_call::{Request, Response};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "nestbox")]
unsafe extern "C" {
    #[link_name = "call"]
    fn nestbox_call(req_ptr: i32, req_len: i32) -> i32;
    #[link_name = "take"]
    fn nestbox_take(buf_ptr: i32, buf_len: i32) -> i32;
}

/// What the host answered.
enum Outcome {
    /// The host ran the command.
    Ran(ExecResult),
    /// No plugin answers to that name (or the host has no `nestbox.call`).
    NotFound,
}

#[cfg(target_arch = "wasm32")]
fn raw_call(request: &[u8]) -> Option<Vec<u8>> {
    let len = i32::try_from(request.len()).ok()?;
    // SAFETY: the host reads `len` bytes at `request.as_ptr()`, which stay alive for the call.
    let pending = unsafe { nestbox_call(request.as_ptr() as i32, len) };
    if pending < 0 {
        return None;
    }
    let mut buf = vec![0u8; pending as usize];
    // SAFETY: the host writes at most `buf.len()` bytes into `buf`.
    let copied = unsafe { nestbox_take(buf.as_mut_ptr() as i32, pending) };
    buf.truncate(copied.clamp(0, pending) as usize);
    Some(buf)
}

#[cfg(not(target_arch = "wasm32"))]
fn raw_call(_request: &[u8]) -> Option<Vec<u8>> {
    None
}

fn call_host(name: &str, ctx: &BuiltinContext<'_>) -> Outcome {
    let mut argv = Vec::with_capacity(ctx.args.len() + 1);
    argv.push(name.to_string());
    argv.extend(ctx.args.iter().cloned());
    let request = Request {
        argv,
        stdin: ctx.stdin.map(|s| s.as_bytes().to_vec()).unwrap_or_default(),
        env: ctx
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        cwd: Some(ctx.cwd.to_string_lossy().into_owned()),
    };
    let Some(raw) = raw_call(&request.encode()) else {
        return Outcome::NotFound;
    };
    let response = match Response::decode(&raw) {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Ran(ExecResult::err(format!("{name}: nestbox: {e}\n"), 126));
        }
    };
    if !response.found {
        return Outcome::NotFound;
    }
    let mut result = ExecResult::with_code(response.stdout, response.status & 0xff);
    result.stderr = response.stderr.into();
    Outcome::Ran(result)
}

thread_local! {
    /// Names the host said it does not know: the resolver leaves them to bashkit, which reports
    /// `$0: line N: NAME: command not found` itself with the exact line number.
    static NOT_FOUND: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    /// `$0` and the script text, for the first `command not found` of a name (see [`guess_line`]).
    static SCRIPT: RefCell<(String, String)> = const { RefCell::new((String::new(), String::new())) };
    /// How many times each name was already reported by us.
    static REPORTED: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
}

/// Records the script's name and text for error messages.
pub fn set_script(arg0: &str, text: &str) {
    SCRIPT.with(|s| *s.borrow_mut() = (arg0.to_string(), text.to_string()));
}

/// The line bash would report for the first unknown `name`: a builtin cannot see `$LINENO`, so
/// take the `nth` line of the script where `name` stands in command position.
fn guess_line(text: &str, name: &str, nth: usize) -> usize {
    let mut hits = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut from = 0;
        while let Some(pos) = line[from..].find(name) {
            let at = from + pos;
            let end = at + name.len();
            let before = line[..at].trim_end();
            let word_end = end == bytes.len()
                || matches!(
                    bytes[end],
                    b' ' | b'\t' | b';' | b')' | b'|' | b'&' | b'<' | b'>'
                );
            let after_keyword = ["then", "do", "else", "!", "time"].iter().any(|k| {
                before
                    .strip_suffix(k)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with([' ', '\t', ';']))
            });
            let command_position = before.is_empty()
                || before.ends_with([';', '|', '&', '(', '{', '`'])
                || before.ends_with("$(")
                || after_keyword;
            if word_end && command_position {
                hits.push(i + 1);
                break;
            }
            from = end;
        }
    }
    hits.get(nth).or(hits.last()).copied().unwrap_or(1)
}

fn not_found_message(name: &str) -> String {
    let nth = REPORTED.with(|r| {
        let mut r = r.borrow_mut();
        let n = r.entry(name.to_string()).or_insert(0);
        *n += 1;
        *n - 1
    });
    SCRIPT.with(|s| {
        let (arg0, text) = &*s.borrow();
        format!(
            "{arg0}: line {}: {name}: command not found\n",
            guess_line(text, name, nth)
        )
    })
}

/// The builtin standing in for every command the shell does not know.
struct HostCommand {
    name: String,
}

#[bashkit::async_trait]
impl Builtin for HostCommand {
    async fn execute(&self, ctx: BuiltinContext<'_>) -> bashkit::Result<ExecResult> {
        // The host call blocks this thread, and may end the whole run (a time-out): let the
        // output writer drain what earlier commands printed first, so none of it is lost.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        match call_host(&self.name, &ctx) {
            Outcome::Ran(result) => Ok(result),
            Outcome::NotFound => {
                NOT_FOUND.with(|n| n.borrow_mut().insert(self.name.clone()));
                Ok(ExecResult::err(not_found_message(&self.name), 127))
            }
        }
    }
}

/// Resolves every unknown command name to [`HostCommand`], except names the host already
/// said it does not know.
pub struct HostResolver;

impl CommandResolver for HostResolver {
    fn resolve(&self, name: &str) -> Option<Arc<dyn Builtin>> {
        if NOT_FOUND.with(|n| n.borrow().contains(name)) {
            return None;
        }
        Some(Arc::new(HostCommand {
            name: name.to_string(),
        }))
    }
}
