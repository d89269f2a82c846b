//! The HTTP API of `nestbox serve`:
//!
//! | route | auth | what |
//! |---|---|---|
//! | `POST /v1/run` | bearer | an [`ApiJob`] in (content only, never host paths), a [`RunResult`] out (the same JSON as `nestbox run --json`) |
//! | `GET /v1/plugins` | bearer | the installed plugins and their pools |
//! | `GET /metrics` | bearer | Prometheus text |
//! | `GET /healthz` | none | liveness: the process answers |
//! | `GET /readyz` | none | readiness: pool filled, runsc usable, last self-check passed |
//!
//! Every result, including refusals, is a `RunResult`, with HTTP 200 when an execution was
//! attempted; 400 for a body that is not a job; 401 without the token; 408 for a body that does
//! not arrive in time; 413 for a body over [`MAX_REQUEST_BYTES`]; 429 (with Retry-After) when the
//! queue is full (or, on TCP, the client's address is over its rate: `rate_limit.rs`); 503 while
//! shutting down.
//!
//! The token is checked on the request head alone, before any byte of the body is read; a body
//! is read only for an authorised request that got a place in the queue, within a deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::Semaphore;

use super::job::ApiJob;
use super::listen::PeerSocket;
use super::metrics::{ExecutionLabels, Metrics, PluginLabel, PooledLabel};
use super::pool::Pool;
use super::token::Token;
use crate::execute::{Isolation, Nestbox, RunOptions};
use crate::job::Job;
use crate::result::{RunResult, Status};

/// The plugin label of anything that is not an installed plugin's name or alias.
pub const UNKNOWN_PLUGIN: &str = "unknown";

/// Shared by every request.
pub struct AppState {
    pub nestbox: Arc<Nestbox>,
    pub pool: Arc<Pool>,
    pub token: Token,
    pub slots: Semaphore,
    pub max_queue: usize,
    pub queued: AtomicUsize,
    /// Time an authorised client has to send its whole body.
    pub body_timeout: Duration,
    pub metrics: Metrics,
    pub stopping: AtomicBool,
    /// Cancel flags of running executions, to cut them off when shutdown's grace period ends.
    pub running: std::sync::Mutex<Vec<std::sync::Weak<AtomicBool>>>,
    /// The last self-check: when, and what went wrong (None = passed).
    pub self_check: std::sync::Mutex<Option<(Instant, Option<String>)>>,
}

impl AppState {
    /// The metrics and log label for a requested language: the plugin's canonical name, or
    /// [`UNKNOWN_PLUGIN`]; never the client's own text.
    fn plugin_label(&self, language: &str) -> String {
        self.nestbox
            .registry
            .find(language.trim())
            .map_or_else(|| UNKNOWN_PLUGIN.to_string(), |p| p.manifest.name.clone())
    }
}

/// The largest request accepted: code (1 MiB), stdin (16 MiB) and input files up to a 64 MiB
/// work directory, base64-encoded.
pub const MAX_REQUEST_BYTES: usize = 112 * 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    let protected = Router::new()
        .route("/v1/run", post(run))
        .route("/v1/plugins", get(plugins))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ));
    Router::new()
        .merge(protected)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// Refuse a request without the token on its head alone: the body is never read.
async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&state, request.headers()) {
        next.run(request).await
    } else {
        unauthorized()
    }
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
    state.token.matches(given)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
        axum::Json(json!({"error": "missing or wrong bearer token; send `Authorization: Bearer <token>` (see `nestbox serve --help`)"})),
    )
        .into_response()
}

/// A refusal before anything ran: the status code and an INVALID_INPUT or SANDBOX_ERROR result.
fn refuse(code: StatusCode, status: Status, message: String) -> Response {
    (code, axum::Json(RunResult::not_run(status, message))).into_response()
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
    plugin: String,
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
                    plugin: self.plugin.clone(),
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
    axum::Extension(peer): axum::Extension<PeerSocket>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if state.stopping.load(Ordering::Relaxed) {
        discard(&state, &headers, body).await;
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            Status::SandboxError,
            "the server is shutting down; retry against another instance or later".into(),
        );
    }
    // Back-pressure: a bounded queue in front of a bounded number of slots. A place in the queue
    // comes first, so that only that many bodies are ever held in memory.
    if state.queued.fetch_add(1, Ordering::Relaxed) >= state.max_queue {
        state.queued.fetch_sub(1, Ordering::Relaxed);
        state.metrics.rejected.inc();
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            Status::SandboxError,
            format!(
                "the server is busy ({} requests waiting); retry after a second",
                state.max_queue
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        discard(&state, &headers, body).await;
        return response;
    }
    state.metrics.queue_depth.inc();
    let queued = Queued(&state);
    let job = match read_job(&state, &headers, body).await {
        Ok(job) => job,
        Err(response) => return response,
    };
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
        plugin: state.plugin_label(&job.language),
        finished: false,
    };
    let opts = RunOptions {
        isolation: Isolation::Gvisor,
        observer: None,
        progress: Arc::new(crate::plugin::cache::Quiet),
        cancel: Some(cancel.clone()),
        pool: Some(state.pool.clone()),
    };
    // Cancel when the client hangs up, checked a few times a second. The watch lives in this
    // request's own future, so it never looks at the socket after the connection is gone.
    let execution = state.nestbox.execute(job, &opts);
    let hangup = async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if peer.closed() {
                tracing::info!("the client went away; cancelling its execution");
                cancel.store(true, Ordering::Relaxed);
                return;
            }
        }
    };
    let result = {
        let mut execution = std::pin::pin!(execution);
        tokio::select! {
            r = execution.as_mut() => r,
            () = hangup => execution.await,
        }
    };
    running.finished = true;
    let plugin = result
        .plugin
        .as_ref()
        .map_or(running.plugin.clone(), |p| p.name.clone());
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
        execution_id = ?result.execution_id,
        plugin = ?plugin,
        status = %result.status,
        duration_ms = result.duration_ms,
        pooled,
        "execution finished"
    );
    axum::Json(result).into_response()
}

/// Read and drop an authorised request's body before refusing it (429, 503), so that a client
/// still sending it reads the answer instead of a broken pipe. Nothing is kept; reading stops at
/// the body deadline or [`MAX_REQUEST_BYTES`].
async fn discard(state: &AppState, headers: &HeaderMap, body: Body) {
    use http_body_util::BodyExt as _;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return;
    }
    let drain = async {
        let mut body = body;
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > MAX_REQUEST_BYTES {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(state.body_timeout, drain).await;
}

/// Read the body (bounded in size and time) and parse it as an API job.
async fn read_job(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Job, Response> {
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            Status::InvalidInput,
            format!(
                "the request body is larger than {MAX_REQUEST_BYTES} bytes (112 MiB); \
                 send smaller input files"
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = match tokio::time::timeout(
        state.body_timeout,
        axum::body::to_bytes(body, MAX_REQUEST_BYTES),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            let over = std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.is::<http_body_util::LengthLimitError>());
            if over {
                return Err(too_large());
            }
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                Status::InvalidInput,
                format!("reading the request body failed: {e}; send the whole body"),
            ));
        }
        Err(_) => {
            return Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                Status::InvalidInput,
                format!(
                    "the request body did not arrive within {} s; send it at once",
                    state.body_timeout.as_secs_f64()
                ),
            ));
        }
    };
    match serde_json::from_slice::<ApiJob>(&bytes) {
        Ok(job) => Ok(job.into()),
        Err(e) => Err(refuse(
            StatusCode::BAD_REQUEST,
            Status::InvalidInput,
            format!(
                "the request body is not a job: {e}; send JSON such as \
                 {{\"language\": \"python\", \"code\": \"print(1)\"}} (input files as \
                 {{\"name\": ..., \"content_base64\": ...}}: the server never reads host paths)"
            ),
        )),
    }
}

async fn plugins(State(state): State<Arc<AppState>>) -> Response {
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

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
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
