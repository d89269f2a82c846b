//! `nestbox serve`: a warm pool of single-use gVisor sandboxes behind an HTTP API (a unix socket,
//! and optionally TCP addresses: non-loopback ones only with a chosen token, TLS optional), with
//! a bearer token, bounded concurrency and queue, an optional per-client-IP rate limit, metrics,
//! and a graceful shutdown that leaves no sandbox, cgroup or bundle behind.

pub mod api;
#[cfg(test)]
mod api_tests;
pub mod client;
pub mod exposure;
pub mod job;
pub mod listen;
pub mod metrics;
pub mod pool;
pub mod rate_limit;
pub mod socket;
pub mod tls;
pub mod token;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

use crate::execute::{Nestbox, RunOptions};
use crate::language_check::LanguageCheck;
use crate::plugin::cache::Progress;
use crate::sandbox::sweep;
use api::AppState;
use listen::ConnLimits;
use pool::Pool;
pub use token::default_path as default_token_path;

/// How often the self-check runs again after start-up.
const SELF_CHECK_EVERY: Duration = Duration::from_secs(600);
/// How long open connections may take to finish after the grace period at shutdown.
const FINISH_AFTER_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub socket: PathBuf,
    /// TCP addresses to listen on too (see [`exposure::check`]).
    pub listen: Vec<SocketAddr>,
    pub token: token::Token,
    /// Where the token came from: a non-loopback address needs one the operator chose.
    pub token_source: token::TokenSource,
    /// TLS on every TCP listener.
    pub tls: Option<tls::TlsFiles>,
    /// Requests per client address on the TCP listeners.
    pub rate_limit: Option<rate_limit::Rate>,
    /// Idle sandboxes kept per plugin, and after how long without requests they shrink to
    /// the idle floor.
    pub pool: pool::Sizing,
    pub max_concurrency: usize,
    pub max_queue: usize,
    /// How long running executions may go on after SIGTERM before they are killed.
    pub grace: Duration,
    /// Connections at once and the deadline for a request's head.
    pub connections: ConnLimits,
    /// Time an authorised client has to send a request body.
    pub body_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Gvisor(#[from] crate::execute::GvisorSetupError),
    #[error(transparent)]
    Templates(#[from] crate::execute::TemplateError),
    #[error(transparent)]
    Socket(#[from] socket::SocketError),
    #[error("listening on {what}: {source}")]
    Listen {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Exposure(#[from] exposure::ExposureError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    RateLimit(#[from] rate_limit::RateError),
}

impl ServeError {
    /// True for flags that cannot work together or files that do not fit them (exit code
    /// INVALID_INPUT), as opposed to a failure of the machine.
    pub fn is_bad_flags(&self) -> bool {
        matches!(
            self,
            ServeError::Exposure(_) | ServeError::Tls(_) | ServeError::RateLimit(_)
        )
    }
}

/// Run the server until SIGTERM or SIGINT.
pub async fn serve(
    nestbox: Arc<Nestbox>,
    config: ServeConfig,
    progress: Arc<dyn Progress + Send + Sync>,
) -> Result<(), ServeError> {
    // Addresses, token and TLS files are checked before anything boots.
    for warning in exposure::check(&config.listen, &config.token_source, config.tls.is_some())? {
        tracing::warn!("{warning}");
    }
    let acceptor = config
        .tls
        .as_ref()
        .map(tls::TlsFiles::acceptor)
        .transpose()?;
    // A socket path that is not ours to take refuses the start before anything boots (and is
    // checked again when binding, once the pool is being filled).
    socket::ensure_free(&config.socket)?;
    let (gvisor, notices) = nestbox.gvisor().await?;
    for n in notices {
        tracing::warn!("{n}");
    }
    // A server that was killed left its pool behind: remove it all before booting anew.
    let swept = sweep::sweep(
        &nestbox.settings.settings.state_dir,
        Some(gvisor.runtime.as_ref()),
        true,
    );
    if !swept.is_empty() {
        tracing::info!(?swept, "removed what a previous server left behind");
    }
    let templates = nestbox.pool_templates(progress.as_ref())?;
    let pool = Pool::new(gvisor, templates, config.pool);
    let mut metrics = metrics::Metrics::new();
    metrics.register_pool(&pool.metrics);
    let maintainer = tokio::spawn(pool.clone().maintain());

    let state = Arc::new(AppState {
        nestbox: nestbox.clone(),
        pool: pool.clone(),
        token: config.token.clone(),
        slots: Semaphore::new(config.max_concurrency.max(1)),
        max_queue: config.max_queue,
        queued: AtomicUsize::new(0),
        body_timeout: config.body_timeout,
        metrics,
        stopping: AtomicBool::new(false),
        running: Default::default(),
        self_check: Default::default(),
    });
    let app = api::router(state.clone());

    let unix = socket::bind(&config.socket)?;
    let _socket_file = RemoveOnDrop(config.socket.clone());
    let mut tcp = Vec::new();
    for &addr in &config.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Listen {
                what: addr.to_string(),
                source,
            })?;
        tcp.push(listener);
    }
    let bound: Vec<String> = tcp
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .collect();

    tracing::info!(
        socket = %config.socket.display(),
        listen = ?bound,
        tls = acceptor.is_some(),
        rate_limit = ?config.rate_limit,
        pool = config.pool.target,
        idle_floor = config.pool.idle_floor,
        max_concurrency = config.max_concurrency,
        max_queue = config.max_queue,
        max_connections = config.connections.max_connections,
        "nestbox serve is listening"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let checker = tokio::spawn(self_check_loop(state.clone()));
    let stop = {
        let state = state.clone();
        let grace = config.grace;
        tokio::spawn(async move {
            crate::runtime::stop_signal().await;
            tracing::info!("stopping: no new requests; running executions get {grace:?}");
            state.stopping.store(true, Ordering::Relaxed);
            let _ = stop_tx.send(true);
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
    let max_connections = config.connections.max_connections.max(1);
    let conn_slots = Arc::new(Semaphore::new(max_connections));
    let refused = state.metrics.refused_connections.clone();
    let tcp_app = match config.rate_limit {
        Some(rate) => app.clone().layer(axum::middleware::from_fn_with_state(
            Arc::new(rate_limit::Limiter::new(
                rate,
                state.metrics.rate_limited.clone(),
            )),
            rate_limit::check,
        )),
        None => app.clone(),
    };
    let mut servers: Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> =
        vec![Box::pin(listen::serve(
            unix,
            app,
            config.connections,
            conn_slots.clone(),
            refused.clone(),
            stop_rx.clone(),
        ))];
    for listener in tcp {
        let (app, limits, slots) = (tcp_app.clone(), config.connections, conn_slots.clone());
        let (refused, stop_rx) = (refused.clone(), stop_rx.clone());
        servers.push(match &acceptor {
            Some(acceptor) => Box::pin(listen::serve(
                listen::TlsListener {
                    tcp: listener,
                    acceptor: acceptor.clone(),
                },
                app,
                limits,
                slots,
                refused,
                stop_rx,
            )),
            None => Box::pin(listen::serve(
                listener, app, limits, slots, refused, stop_rx,
            )),
        });
    }
    futures_util::future::join_all(servers).await;
    // No more connections are accepted; let the open ones finish (their executions are cut off
    // when the grace period ends), but not for ever: a client that does not read its answer
    // does not hold the shutdown.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(
        config.grace + FINISH_AFTER_GRACE,
        conn_slots.acquire_many(all),
    )
    .await
    .is_err()
    {
        tracing::warn!("some connections did not finish; closing them");
    }
    stop.abort();
    checker.abort();
    tracing::info!("destroying the pool");
    pool.stop().await;
    maintainer.abort();
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Removes the server's socket file when the server stops, however it stops.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Run a tiny program through a cold sandbox now and then: readiness reports its result.
async fn self_check_loop(state: Arc<AppState>) {
    loop {
        let started = Instant::now();
        let failure = match LanguageCheck::for_readiness(&state.nestbox.registry) {
            Some(check) => {
                let result = state
                    .nestbox
                    .execute(check.job(), &RunOptions::default())
                    .await;
                check
                    .judge(&result)
                    .err()
                    .map(|f| format!("{} check: {f}", check.language))
            }
            None => Some(
                "no installed plugin has a [selftest] in its plugin.toml to check readiness with"
                    .to_string(),
            ),
        };
        if let Some(f) = &failure {
            tracing::error!(failure = %f, "self-check failed");
        }
        *state.self_check.lock().unwrap_or_else(|e| e.into_inner()) = Some((started, failure));
        tokio::time::sleep(SELF_CHECK_EVERY).await;
    }
}

/// The default unix socket.
pub fn default_socket(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("serve.sock")
}
