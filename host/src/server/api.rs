//! The HTTP API of `nestbox serve`:
//!
//! | route | auth | what |
//! |---|---|---|
//! | `POST /v1/run` | bearer | a [`Job`] in, a [`RunResult`] out (the same JSON as `nestbox run --json`) |
//! | `GET /v1/plugins` | bearer | the installed plugins and their pools |
//! | `GET /metrics` | bearer | Prometheus text |
//! | `GET /healthz` | none | liveness: the process answers |
//! | `GET /readyz` | none | readiness: pool filled, runsc usable, last self-check passed |
//!
//! Every result, including refusals, is a `RunResult`, with HTTP 200 when an execution was
//! attempted; 400 for a body that is not a job; 401 without the token; 429 (with Retry-After) when
//! the queue is full; 503 while shutting down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::metrics::{ExecutionLabels, Metrics, PluginLabel, PooledLabel};
use super::pool::Pool;
use crate::execute::{Isolation, Nestbox, RunOptions};
use crate::job::Job;
use crate::result::{RunResult, Status};

/// Shared by every request.
pub struct AppState {
    pub nestbox: Arc<Nestbox>,
    pub pool: Arc<Pool>,
    pub token: String,
    pub slots: Semaphore,
    pub max_queue: usize,
    pub queued: AtomicUsize,
    pub metrics: Metrics,
    pub stopping: AtomicBool,
    /// Cancel flags of running executions, to cut them off when shutdown's grace period ends.
    pub running: std::sync::Mutex<Vec<std::sync::Weak<AtomicBool>>>,
    /// The last self-check: when, and what went wrong (None = passed).
    pub self_check: std::sync::Mutex<Option<(Instant, Option<String>)>>,
}

/// The largest request accepted: code (1 MiB), stdin (16 MiB) and input files up to a 64 MiB
/// work directory, base64-encoded.
pub const MAX_REQUEST_BYTES: usize = 112 * 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/run", post(run))
        .route("/v1/plugins", get(plugins))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(given) = value.strip_prefix("Bearer ") else {
        return false;
    };
    given.as_bytes().ct_eq(state.token.as_bytes()).into()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
        axum::Json(json!({"error": "missing or wrong bearer token; send `Authorization: Bearer <token>` (see `nestbox serve --help`)"})),
    )
        .into_response()
}

/// The client's socket, duplicated, to notice a client that goes away while its execution runs
/// (hyper does not watch an HTTP/1 connection while the handler is busy).
#[derive(Clone)]
pub struct PeerSocket(Option<Arc<std::os::fd::OwnedFd>>);

impl PeerSocket {
    fn of(fd: std::os::fd::BorrowedFd<'_>) -> PeerSocket {
        PeerSocket(fd.try_clone_to_owned().ok().map(Arc::new))
    }

    /// True once the peer has closed its end (a zero-byte peek).
    fn closed(&self) -> bool {
        let Some(fd) = &self.0 else { return false };
        let mut byte = [0u8; 1];
        matches!(
            nix::sys::socket::recv(
                std::os::fd::AsRawFd::as_raw_fd(fd.as_ref()),
                &mut byte,
                nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            ),
            Ok(0)
        )
    }
}

impl
    axum::extract::connect_info::Connected<
        axum::serve::IncomingStream<'_, tokio::net::UnixListener>,
    > for PeerSocket
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::UnixListener>) -> Self {
        use std::os::fd::AsFd;
        PeerSocket::of(stream.io().as_fd())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for PeerSocket
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        use std::os::fd::AsFd;
        PeerSocket::of(stream.io().as_fd())
    }
}

/// Sets its flag when dropped: a request future dropped because the client went away cancels
/// its execution (the sandbox is killed).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Counts a running execution; if the request is dropped before it finishes (the client went
/// away), the execution is counted as CANCELLED.
struct Running<'a> {
    state: &'a AppState,
    language: String,
    finished: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.state.metrics.running.dec();
        if !self.finished {
            self.state
                .metrics
                .executions
                .get_or_create(&ExecutionLabels {
                    plugin: self.language.clone(),
                    status: "CANCELLED".into(),
                })
                .inc();
        }
    }
}

/// Counts a queued request until it gets a slot (or gives up).
struct Queued<'a>(&'a AppState);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::Relaxed);
        self.0.metrics.queue_depth.dec();
    }
}

async fn run(
    State(state): State<Arc<AppState>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<PeerSocket>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    if state.stopping.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(RunResult::not_run(
                Status::SandboxError,
                "the server is shutting down; retry against another instance or later",
            )),
        )
            .into_response();
    }
    let job: Job = match serde_json::from_slice(&body) {
        Ok(j) => j,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(RunResult::not_run(
                    Status::InvalidInput,
                    format!(
                        "the request body is not a job: {e}; send JSON such as \
                         {{\"language\": \"python\", \"code\": \"print(1)\"}}"
                    ),
                )),
            )
                .into_response();
        }
    };

    // Back-pressure: a bounded queue in front of a bounded number of slots.
    if state.queued.fetch_add(1, Ordering::Relaxed) >= state.max_queue {
        state.queued.fetch_sub(1, Ordering::Relaxed);
        state.metrics.rejected.inc();
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(RunResult::not_run(
                Status::SandboxError,
                format!(
                    "the server is busy ({} requests waiting); retry after a second",
                    state.max_queue
                ),
            )),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    state.metrics.queue_depth.inc();
    let queued = Queued(&state);
    let Ok(_slot) = state.slots.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    drop(queued);

    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    {
        let mut cancels = state.running.lock().unwrap_or_else(|e| e.into_inner());
        cancels.retain(|w| w.strong_count() > 0);
        cancels.push(Arc::downgrade(&cancel));
    }
    state.metrics.running.inc();
    let mut running = Running {
        state: &state,
        language: job.language.clone(),
        finished: false,
    };
    // Cancel when the client hangs up, checked a few times a second.
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                if peer.closed() {
                    tracing::info!("the client went away; cancelling its execution");
                    cancel.store(true, Ordering::Relaxed);
                    return;
                }
            }
        })
    };
    let opts = RunOptions {
        isolation: Isolation::Gvisor,
        observer: None,
        progress: Arc::new(crate::plugin::cache::Quiet),
        cancel: Some(cancel),
        pool: Some(state.pool.clone()),
    };
    let result = state.nestbox.execute(job, &opts).await;
    watcher.abort();
    running.finished = true;
    let plugin = result
        .plugin
        .as_ref()
        .map_or(running.language.clone(), |p| p.name.clone());
    drop(running);
    state
        .metrics
        .executions
        .get_or_create(&ExecutionLabels {
            plugin: plugin.clone(),
            status: result.status.to_string(),
        })
        .inc();
    let pooled = result.sandbox.as_ref().is_some_and(|s| s.pooled);
    state
        .metrics
        .latency
        .get_or_create(&PooledLabel {
            pooled: pooled.to_string(),
        })
        .observe(result.duration_ms as f64 / 1000.0);
    tracing::info!(
        execution_id = %result.execution_id,
        plugin = %plugin,
        status = %result.status,
        duration_ms = result.duration_ms,
        pooled,
        "execution finished"
    );
    axum::Json(result).into_response()
}

async fn plugins(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let pools = state.pool.states();
    let list: Vec<serde_json::Value> = state
        .nestbox
        .registry
        .plugins
        .iter()
        .map(|p| {
            let pool = pools.iter().find(|s| s.plugin == p.manifest.name);
            json!({
                "name": p.manifest.name,
                "version": p.manifest.version,
                "aliases": p.manifest.names().skip(1).collect::<Vec<_>>(),
                "description": p.manifest.description,
                "pool": pool,
            })
        })
        .collect();
    axum::Json(list).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    for s in state.pool.states() {
        state
            .metrics
            .pool_idle
            .get_or_create(&PluginLabel { plugin: s.plugin })
            .set(s.idle as i64);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let mut reasons = state.pool.unready();
    if state.stopping.load(Ordering::Relaxed) {
        reasons.push("shutting down".into());
    }
    match &*state.self_check.lock().unwrap_or_else(|e| e.into_inner()) {
        None => reasons.push("the start-up self-check has not finished".into()),
        Some((_, Some(failure))) => reasons.push(format!("the last self-check failed: {failure}")),
        Some((_, None)) => {}
    }
    let body = json!({
        "ready": reasons.is_empty(),
        "reasons": reasons,
        "pool": state.pool.states(),
        "runsc": state.nestbox.gvisor_version(),
    });
    let code = if reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}
