//! Helpers: run the real `nestbox` binary with a private state dir and read its JSON result.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nestbox"))
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// This process's cgroup (as `/proc/self/cgroup` names it, without the leading `/`) in the v1
/// hierarchy mounted at `/sys/fs/cgroup/<mount>` (`memory`, `cpu,cpuacct`); the nestbox it starts
/// inherits it. The test machines mount each hierarchy whole, so no mount root is removed.
pub fn own_cgroup(mount: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let names: Vec<&str> = controllers
            .split(',')
            .map(|c| c.strip_prefix("name=").unwrap_or(c))
            .collect();
        mount
            .split(',')
            .any(|m| names.contains(&m))
            .then(|| path.trim_start_matches('/').to_string())
    })
}

/// Where nestbox puts sandbox `id`'s cgroup in the v1 hierarchy `mount`: below its own cgroup.
pub fn sandbox_cgroup(mount: &str, id: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup")
        .join(mount)
        .join(own_cgroup(mount).unwrap_or_default())
        .join("nestbox")
        .join(id)
}

/// An isolated nestbox environment: its own state dir, no config file, no background update
/// checks or installs unless a test asks for them.
pub struct Env {
    pub state: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

/// One `nestbox` invocation's result.
pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

impl Run {
    pub fn status(&self) -> &str {
        self.json["status"].as_str().unwrap_or("<no status>")
    }

    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }

    pub fn out(&self) -> &str {
        self.json["stdout"].as_str().unwrap_or("")
    }

    pub fn err(&self) -> &str {
        self.json["stderr"].as_str().unwrap_or("")
    }

    pub fn duration_ms(&self) -> u64 {
        self.json["duration_ms"].as_u64().unwrap_or(u64::MAX)
    }

    pub fn notices(&self) -> String {
        self.json["notices"].to_string()
    }
}

/// A finished `nestbox run --json`: its exit code, its JSON (`null` when stdout is not JSON) and
/// its stderr.
impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A command that runs `program` as the host's `nobody` (uid and gid 65534, no groups), with an
/// empty environment but for PATH.
pub fn as_nobody(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        );
    cmd
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {} status {} message {:?}\nstdout {:?}\nstderr {:?}\nprocess stderr {:?}",
            self.code,
            self.status(),
            self.message(),
            self.out().chars().take(500).collect::<String>(),
            self.err().chars().take(800).collect::<String>(),
            self.stderr.chars().take(800).collect::<String>()
        )
    }
}

impl Env {
    pub fn new() -> Env {
        let state = tempfile::Builder::new()
            .prefix("nestbox-test-")
            .tempdir()
            .expect("temp state dir");
        let vars = vec![
            (
                "NESTBOX_STATE_DIR".into(),
                state.path().display().to_string(),
            ),
            ("NESTBOX_CONFIG".into(), String::new()),
            (
                "CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES".into(),
                "false".into(),
            ),
            (
                "CODE_EVAL_VALVE_OVERRIDE_AUTO_INSTALL".into(),
                "false".into(),
            ),
        ];
        Env { state, vars }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Env {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.to_string(), value.into()));
        self
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// A command with only our variables (plus PATH, HOME and a shared module cache, when set).
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_clear();
        for k in ["PATH", "HOME", "NESTBOX_CACHE_DIR"] {
            if let Ok(v) = std::env::var(k) {
                cmd.env(k, v);
            }
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn output(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = self.cmd();
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("starting nestbox");
        if let Some(bytes) = stdin {
            let mut s = child.stdin.take().unwrap();
            s.write_all(bytes).unwrap();
        }
        child.wait_with_output().expect("waiting for nestbox")
    }

    /// `nestbox run --json ARGS...`, parsed.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut all = vec!["run", "--json"];
        all.extend_from_slice(args);
        Run::from(self.output(&all, stdin))
    }

    pub fn python(&self, code: &str, extra: &[&str]) -> Run {
        let mut args = vec!["--lang", "python", "--code", code];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn bash(&self, code: &str, extra: &[&str]) -> Run {
        let mut args = vec!["--lang", "bash", "--code", code];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// An environment that keeps files (`--keep-files-for`) under `root`, served at `/files`.
pub fn storage_env(root: &Path) -> Env {
    Env::new()
        .with(
            "CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_PATH",
            root.to_str().unwrap(),
        )
        .with(
            "CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_URL",
            "/files",
        )
}

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with one body, recording the
/// request lines. Stops when dropped.
pub struct HttpServer {
    pub port: u16,
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    pub fn serve(body: Vec<u8>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, r) = (stop.clone(), requests.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        let mut buf = [0u8; 8192];
                        let n = conn.read(&mut buf).unwrap_or(0);
                        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                        r.lock()
                            .unwrap()
                            .push(head.lines().next().unwrap_or("").to_string());
                        let _ = write!(
                            conn,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = conn.write_all(&body);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        HttpServer {
            port,
            requests,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn sha512_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(bytes))
}

/// Copy the python plugin's folder (manifest, boot dir, runtime, stdlib zip, mpl-data) to a temp
/// plugins dir. Large files are hard-linked when they can be: a test that changes one must
/// replace it (write a new file), never modify it in place.
pub fn copy_python_plugin(to: &Path) -> PathBuf {
    copy_plugin("python", to)
}

/// Copy one plugin's folder (see [`copy_python_plugin`]).
pub fn copy_plugin(name: &str, to: &Path) -> PathBuf {
    let dest = to.join(name);
    copy_tree(&repo().join("plugins").join(name), &dest);
    dest
}

fn copy_tree(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (from, to) = (entry.path(), dest.join(&name));
        let meta = std::fs::symlink_metadata(&from).unwrap();
        if meta.is_dir() {
            copy_tree(&from, &to);
        } else if meta.is_file()
            && (meta.len() < 1 << 20 || std::fs::hard_link(&from, &to).is_err())
        {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// The one precompiled module of `plugin` in a module cache (`<cache>/modules/<plugin>-<key>.cwasm`).
pub fn cwasm_in(cache_dir: &Path, plugin: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(cache_dir.join("modules"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{plugin}-")) && name.ends_with(".cwasm")
        })
        .collect();
    assert_eq!(found.len(), 1, "one module of {plugin} expected: {found:?}");
    found.into_iter().next().unwrap()
}
