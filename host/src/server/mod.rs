//! `nestbox serve`: a warm pool of single-use gVisor sandboxes behind a local HTTP API (a unix
//! socket, and optionally 127.0.0.1:PORT), with a bearer token, bounded concurrency and queue,
//! metrics, and a graceful shutdown that leaves no sandbox, cgroup or bundle behind.

pub mod api;
pub mod client;
pub mod metrics;
pub mod pool;

use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::execute::{Nestbox, RunOptions};
use crate::job::Job;
use crate::plugin::cache::Progress;
use crate::result::Status;
use crate::sandbox::sweep;
use api::AppState;
use pool::Pool;

/// How often the self-check runs again after start-up.
const SELF_CHECK_EVERY: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub socket: PathBuf,
    pub listen: Option<SocketAddr>,
    pub token: String,
    /// Idle sandboxes kept per plugin.
    pub pool_size: usize,
    pub max_concurrency: usize,
    pub max_queue: usize,
    /// How long running executions may go on after SIGTERM before they are killed.
    pub grace: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Setup(String),
    #[error("listening on {what}: {source}")]
    Listen {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "--listen {0} is not a loopback address; nestbox serve only listens on 127.0.0.1 or ::1 \
         (put a reverse proxy with TLS in front for anything else)"
    )]
    NotLoopback(SocketAddr),
}

/// Run the server until SIGTERM or SIGINT.
pub async fn serve(
    nestbox: Arc<Nestbox>,
    config: ServeConfig,
    progress: Arc<dyn Progress + Send + Sync>,
) -> Result<(), ServeError> {
    if let Some(addr) = config.listen
        && !addr.ip().is_loopback()
    {
        return Err(ServeError::NotLoopback(addr));
    }
    let (gvisor, notices) = nestbox.gvisor().await.map_err(ServeError::Setup)?;
    for n in notices {
        tracing::warn!("{n}");
    }
    // A server that was killed left its pool behind: remove it all before booting anew.
    let swept = sweep::sweep(
        &nestbox.settings.settings.state_dir,
        Some(&gvisor.runsc),
        true,
    );
    if !swept.is_empty() {
        tracing::info!(?swept, "removed what a previous server left behind");
    }
    let templates = nestbox
        .pool_templates(progress.as_ref())
        .map_err(ServeError::Setup)?;
    let pool = Pool::new(gvisor, templates, config.pool_size);
    let maintainer = tokio::spawn(pool.clone().maintain());

    let state = Arc::new(AppState {
        nestbox: nestbox.clone(),
        pool: pool.clone(),
        token: config.token.clone(),
        slots: Semaphore::new(config.max_concurrency.max(1)),
        max_queue: config.max_queue,
        queued: AtomicUsize::new(0),
        metrics: metrics::Metrics::new(),
        stopping: AtomicBool::new(false),
        running: Default::default(),
        self_check: Default::default(),
    });
    let app = api::router(state.clone());

    let _ = std::fs::remove_file(&config.socket);
    if let Some(parent) = config.socket.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let unix =
        tokio::net::UnixListener::bind(&config.socket).map_err(|source| ServeError::Listen {
            what: config.socket.display().to_string(),
            source,
        })?;
    // Only the owner (root) may connect; the token is a second lock.
    let _ = std::fs::set_permissions(&config.socket, std::fs::Permissions::from_mode(0o600));
    let tcp = match config.listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Listen {
                    what: addr.to_string(),
                    source,
                })?,
        ),
        None => None,
    };
    tracing::info!(
        socket = %config.socket.display(),
        listen = ?config.listen,
        pool = config.pool_size,
        max_concurrency = config.max_concurrency,
        max_queue = config.max_queue,
        "nestbox serve is listening"
    );

    let shutdown = Arc::new(tokio::sync::Notify::new());
    let checker = tokio::spawn(self_check_loop(state.clone()));
    let stop = {
        let shutdown = shutdown.clone();
        let state = state.clone();
        let grace = config.grace;
        tokio::spawn(async move {
            crate::cli::stop_signal().await;
            tracing::info!("stopping: no new requests; running executions get {grace:?}");
            state.stopping.store(true, Ordering::Relaxed);
            shutdown.notify_waiters();
            tokio::time::sleep(grace).await;
            let running = state
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for cancel in running.iter().filter_map(|w| w.upgrade()) {
                cancel.store(true, Ordering::Relaxed);
            }
        })
    };
    let wait_shutdown = |n: Arc<tokio::sync::Notify>| async move { n.notified().await };
    let unix_server = axum::serve(
        unix,
        app.clone()
            .into_make_service_with_connect_info::<api::PeerSocket>(),
    )
    .with_graceful_shutdown(wait_shutdown(shutdown.clone()));
    match tcp {
        Some(tcp) => {
            let tcp_server = axum::serve(
                tcp,
                app.into_make_service_with_connect_info::<api::PeerSocket>(),
            )
            .with_graceful_shutdown(wait_shutdown(shutdown.clone()));
            let (a, b) = tokio::join!(unix_server, tcp_server);
            a.and(b).map_err(|source| ServeError::Listen {
                what: "the server".into(),
                source,
            })?;
        }
        None => unix_server.await.map_err(|source| ServeError::Listen {
            what: "the server".into(),
            source,
        })?,
    }
    stop.abort();
    checker.abort();
    tracing::info!("destroying the pool");
    pool.stop().await;
    maintainer.abort();
    let _ = std::fs::remove_file(&config.socket);
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Run a tiny program through a cold sandbox now and then: readiness reports its result.
async fn self_check_loop(state: Arc<AppState>) {
    loop {
        let started = Instant::now();
        let language = if state.nestbox.registry.find("python").is_some() {
            "python"
        } else {
            state
                .nestbox
                .registry
                .plugins
                .first()
                .map_or("python", |p| p.manifest.name.as_str())
        };
        let code = if language == "python" {
            "print(6 * 7)"
        } else {
            "echo 42"
        };
        let result = state
            .nestbox
            .execute(
                Job {
                    language: language.into(),
                    code: code.into(),
                    max_runtime_seconds: Some(20.0),
                    ..Default::default()
                },
                &RunOptions::default(),
            )
            .await;
        let failure = (result.status != Status::Ok || result.stdout.trim() != "42")
            .then(|| format!("{}: {}", result.status, result.message));
        if let Some(f) = &failure {
            tracing::error!(failure = %f, "self-check failed");
        }
        *state.self_check.lock().unwrap_or_else(|e| e.into_inner()) = Some((started, failure));
        tokio::time::sleep(SELF_CHECK_EVERY).await;
    }
}

/// Read or create the server's token: `--token-file`, else NESTBOX_SERVER_TOKEN, else a new
/// random one written to `<state>/serve.token` (mode 0600).
pub fn token(
    file: Option<&std::path::Path>,
    state_dir: &std::path::Path,
) -> Result<(String, Option<PathBuf>), String> {
    if let Some(f) = file {
        let t = std::fs::read_to_string(f)
            .map_err(|e| format!("reading the token file {}: {e}", f.display()))?;
        let t = t.trim().to_string();
        if t.len() < 16 {
            return Err(format!(
                "the token in {} is shorter than 16 characters; use a long random token",
                f.display()
            ));
        }
        return Ok((t, None));
    }
    if let Ok(t) = std::env::var("NESTBOX_SERVER_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok((t.trim().to_string(), None));
    }
    let path = default_token_path(state_dir);
    if let Ok(t) = std::fs::read_to_string(&path)
        && t.trim().len() >= 16
    {
        return Ok((t.trim().to_string(), Some(path)));
    }
    let t = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::create_dir_all(state_dir)
        .and_then(|_| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)?;
            f.write_all(t.as_bytes())
        })
        .map_err(|e| format!("writing a new token to {}: {e}", path.display()))?;
    Ok((t, Some(path)))
}

/// Where `nestbox serve` keeps a token it generated (clients read it from there too).
pub fn default_token_path(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("serve.token")
}

/// The default unix socket.
pub fn default_socket(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("serve.sock")
}
