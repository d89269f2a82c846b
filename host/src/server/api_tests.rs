//! The HTTP API end to end over its unix socket, with a tiny WebAssembly plugin and the scripted
//! fake runtime in place of runsc: a job in and its result out, the token, bodies that are not
//! jobs or too large, and back-pressure when every slot and queue place is taken.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sha2::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};

use super::api::{self, AppState, MAX_REQUEST_BYTES};
use super::listen::{self, ConnLimits};
use super::metrics::Metrics;
use super::pool::{Pool, Sizing};
use super::token;
use crate::execute::Nestbox;
use crate::runner::output::StreamKind;
use crate::sandbox::Gvisor;
use crate::sandbox::fake::{self, Fake, Step};
use crate::settings::{LoadedSettings, Settings};

const TOKEN: &str = "a-test-token-that-is-long-enough-0123456789";

/// The tiny plugin: a command module that does nothing (the fake guest never runs it; the host
/// only compiles it, as it does every plugin before a run).
const MODULE: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

fn manifest(sha256: &str) -> String {
    format!(
        r#"name = "tiny"
version = "1"
[artifact]
path = "tiny.wat"
sha256 = "{sha256}"
[entry]
kind = "command"
argv = ["tiny", "{{code}}"]
code_file = "main.tiny"
[calibration]
fuel_per_cpu_second = 1_000_000_000
[limits]
min_ram_mb = 16
"#
    )
}

struct Server {
    socket: PathBuf,
    state: Arc<AppState>,
    fake: Arc<Fake>,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(default: Vec<Step>, max_concurrency: usize, max_queue: usize) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("plugins/tiny");
        std::fs::create_dir_all(&plugin).unwrap();
        std::fs::write(plugin.join("tiny.wat"), MODULE).unwrap();
        let sha = hex::encode(sha2::Sha256::digest(MODULE.as_bytes()));
        std::fs::write(plugin.join("plugin.toml"), manifest(&sha)).unwrap();
        let settings = Settings {
            plugins_dir: Some(dir.path().join("plugins")),
            state_dir: dir.path().join("state"),
            cache_dir: dir.path().join("cache"),
            ..Settings::default()
        };
        let nestbox = Nestbox::open(LoadedSettings {
            settings,
            origins: Default::default(),
            config_file: None,
        })
        .unwrap();
        let fake = Fake::new(default);
        let gvisor = Arc::new(Gvisor::with_runtime(
            fake.clone(),
            &nestbox.settings.settings,
        ));
        nestbox.use_gvisor(gvisor.clone());
        // No pool: every job boots its own sandbox.
        let sizing = Sizing {
            target: 0,
            idle_floor: 0,
            idle_after: Duration::from_secs(3600),
        };
        let pool = Pool::new(gvisor, Vec::new(), sizing);
        let (token, _) = token::load(None, Some(TOKEN.into()), dir.path()).unwrap();
        let state = Arc::new(AppState {
            nestbox: Arc::new(nestbox),
            pool,
            token,
            slots: Semaphore::new(max_concurrency),
            max_queue,
            queued: AtomicUsize::new(0),
            body_timeout: Duration::from_secs(30),
            metrics: Metrics::new(),
            stopping: AtomicBool::new(false),
            running: Default::default(),
            self_check: Default::default(),
        });
        let socket = dir.path().join("serve.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(listen::serve(
            listener,
            api::router(state.clone()),
            ConnLimits {
                max_connections: 16,
                header_timeout: Duration::from_secs(30),
            },
            Arc::new(Semaphore::new(16)),
            Default::default(),
            stopped,
        ));
        Server {
            socket,
            state,
            fake,
            stop,
            _dir: dir,
        }
    }

    /// One request on its own connection; the status code, the head and the body as JSON.
    async fn request(&self, head: &str, body: &[u8]) -> (u16, String, serde_json::Value) {
        let mut stream = tokio::net::UnixStream::connect(&self.socket).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        // A refusal on the head alone (401, 413) may close the connection before the body is
        // written: the answer is there to read all the same.
        let _ = stream.write_all(body).await;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let code = head.split(' ').nth(1).unwrap().parse().unwrap();
        let json = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
        (code, head.to_string(), json)
    }

    /// `POST /v1/run` with `body`, authorised with `token` when given.
    async fn run(&self, token: Option<&str>, body: &str) -> (u16, String, serde_json::Value) {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let head = format!(
            "POST /v1/run HTTP/1.1\r\nHost: nestbox\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        self.request(&head, body.as_bytes()).await
    }

    /// Wait (off the runtime's threads) until `done` holds.
    async fn until(
        &self,
        what: &'static str,
        done: impl Fn(&AppState, &Fake) -> bool + Send + 'static,
    ) {
        let state = self.state.clone();
        self.fake.until(what, move |f| done(&state, f)).await;
    }

    async fn stop(self) {
        self.fake.open_gates();
        let _ = self.stop.send(true);
        self.state.nestbox.finish_teardowns().await;
        self.until("every sandbox is deleted", |_, f| f.listed().is_empty())
            .await;
    }
}

const JOB: &str = r#"{"language": "tiny", "code": "say hi"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_run_in_a_sandbox_and_answered_with_its_result() {
    let server = Server::start(fake::prints("hi\n"), 2, 4).await;
    let (code, _, result) = server.run(Some(TOKEN), JOB).await;
    assert_eq!(code, 200, "{result}");
    assert_eq!(result["status"], "OK", "{result}");
    assert_eq!(result["stdout"], "hi\n");
    assert_eq!(result["exit_code"], 0);
    assert_eq!(result["plugin"]["name"], "tiny");
    assert_eq!(result["sandbox"]["outer"], "gvisor");
    assert_eq!(result["sandbox"]["platform"], "fake");
    assert_eq!(result["sandbox"]["pooled"], false);
    let jobs = server.fake.jobs();
    assert_eq!(jobs.len(), 1);
    let sent: serde_json::Value = serde_json::from_str(&jobs[0]).unwrap();
    assert_eq!(sent["code"], "say hi");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_the_token_is_refused_before_anything_runs() {
    let server = Server::start(fake::prints("hi\n"), 2, 4).await;
    for token in [None, Some("wrong-token-wrong-token-wrong-token-0000")] {
        let (code, head, body) = server.run(token, JOB).await;
        assert_eq!(code, 401, "{head}");
        assert!(
            head.to_lowercase().contains("www-authenticate: bearer"),
            "{head}"
        );
        assert!(
            body["error"].as_str().unwrap().contains("bearer token"),
            "{body}"
        );
    }
    assert_eq!(server.fake.booted(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_job_is_refused_naming_what_is_wrong() {
    let server = Server::start(fake::prints("hi\n"), 2, 4).await;
    let (code, _, result) = server.run(Some(TOKEN), "{not json").await;
    assert_eq!(code, 400, "{result}");
    assert_eq!(result["status"], "INVALID_INPUT", "{result}");
    assert!(
        result["message"].as_str().unwrap().contains("not a job"),
        "{result}"
    );
    let (code, _, result) = server
        .run(Some(TOKEN), r#"{"langauge": "tiny", "code": "x"}"#)
        .await;
    assert_eq!(code, 400, "{result}");
    assert!(
        result["message"].as_str().unwrap().contains("langauge"),
        "the unknown field is named: {result}"
    );
    let (code, _, result) = server
        .run(Some(TOKEN), r#"{"language": "cobol", "code": "x"}"#)
        .await;
    assert_eq!(code, 200, "an execution was attempted: {result}");
    assert_eq!(result["status"], "INVALID_INPUT", "{result}");
    assert!(
        result["message"].as_str().unwrap().contains("cobol"),
        "{result}"
    );
    assert_eq!(server.fake.booted(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_unread() {
    let server = Server::start(fake::prints("hi\n"), 2, 4).await;
    let head = format!(
        "POST /v1/run HTTP/1.1\r\nHost: nestbox\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        MAX_REQUEST_BYTES + 1
    );
    let (code, _, result) = server.request(&head, b"{").await;
    assert_eq!(code, 413, "{result}");
    assert_eq!(result["status"], "INVALID_INPUT", "{result}");
    assert!(
        result["message"].as_str().unwrap().contains("larger than"),
        "{result}"
    );
    assert_eq!(server.fake.booted(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_slot_and_queue_place_is_taken_requests_get_429() {
    // One slot, one queue place; each guest waits at its gate until the test lets it go.
    let gated = vec![
        Step::Ready,
        Step::AwaitJob,
        Step::Gate,
        Step::Out(StreamKind::Stdout, b"done\n".to_vec()),
        fake::ok(),
    ];
    let server = Arc::new(Server::start(gated, 1, 1).await);
    let running = tokio::spawn({
        let s = server.clone();
        async move { s.run(Some(TOKEN), JOB).await }
    });
    server
        .until("the first job runs", |_, f| f.jobs().len() == 1)
        .await;
    let queued = tokio::spawn({
        let s = server.clone();
        async move { s.run(Some(TOKEN), JOB).await }
    });
    server
        .until("the second job is queued", |s, _| {
            s.queued.load(Ordering::Relaxed) == 1
        })
        .await;

    let (code, head, result) = server.run(Some(TOKEN), JOB).await;
    assert_eq!(code, 429, "{result}");
    assert!(head.to_lowercase().contains("retry-after: 1"), "{head}");
    assert_eq!(result["status"], "SANDBOX_ERROR", "{result}");
    assert!(
        result["message"].as_str().unwrap().contains("busy"),
        "{result}"
    );
    assert_eq!(server.state.metrics.rejected.get(), 1);

    server.fake.release();
    let (code, _, result) = running.await.unwrap();
    assert_eq!(
        (code, &result["stdout"]),
        (200, &"done\n".into()),
        "{result}"
    );
    server
        .until("the queued job runs", |_, f| f.jobs().len() == 2)
        .await;
    server.fake.release();
    let (code, _, result) = queued.await.unwrap();
    assert_eq!(
        (code, &result["stdout"]),
        (200, &"done\n".into()),
        "{result}"
    );
    assert_eq!(server.fake.booted(), 2);
    Arc::into_inner(server).unwrap().stop().await;
}
