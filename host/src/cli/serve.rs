//! `nestbox serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::outcome::CommandResult;
use super::progress::Compiling;
use crate::execute::Nestbox;
use crate::result::Status;
use crate::server::listen::ConnLimits;
use crate::server::rate_limit::Rate;
use crate::server::tls::TlsFiles;
use crate::server::token::{self, TokenSource};
use crate::server::{self, ServeConfig, ServeError};
use crate::settings::LoadedSettings;

const AFTER_HELP: &str = "\
API (same job and result JSON as `nestbox run --json`; see the README):
  POST /v1/run      {\"language\": \"python\", \"code\": \"print(1)\"}  -> result JSON
  GET  /v1/plugins  installed plugins and their pools
  GET  /metrics     Prometheus text
  GET  /healthz     liveness (no token)
  GET  /readyz      readiness: pool filled, runsc usable, self-check passed (no token)

Every request but /healthz and /readyz needs `Authorization: Bearer <token>`, checked before
the body is read. The token (16 characters or more) comes from --token-file, else
NESTBOX_SERVER_TOKEN, else a random one written to <state dir>/serve.token (mode 0600), where
`nestbox run --server` finds it too.

--listen on a non-loopback address (0.0.0.0, ::, a pod IP) is refused unless the token comes
from --token-file or NESTBOX_SERVER_TOKEN; without --tls-cert/--tls-key such a listener is
warned about (the token crosses the network in clear). TLS and the rate limit apply to the TCP
listeners only; the unix socket stays plain and unlimited.

Input files travel as content (content_base64); a job naming a host path is refused with 400.
The socket is owner-only (0600); an existing socket is replaced only when nobody accepts on it.
Each connection serves one request; its head must arrive within --header-timeout-seconds and
its body within --body-timeout-seconds; beyond --max-connections, new connections are closed.

Examples:
  nestbox serve &
  nestbox run --server /var/lib/nestbox/serve.sock --lang python --code 'print(1)'
  NESTBOX_SERVER_TOKEN=... nestbox serve --listen 0.0.0.0:8089 \\
      --tls-cert tls.crt --tls-key tls.key --rate-limit-per-ip 60/m";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ServeArgs {
    /// Unix socket to listen on [default: <state dir>/serve.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Also listen on this TCP address, such as 127.0.0.1:8089 (repeatable). A non-loopback
    /// address (0.0.0.0 and :: included) needs a token you chose: --token-file or
    /// NESTBOX_SERVER_TOKEN.
    #[arg(long, value_name = "ADDR")]
    listen: Vec<SocketAddr>,
    /// Serve TLS on every --listen address with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Requests per client IP address on the --listen addresses, such as 5/s or 60/m (per /64
    /// for IPv6); beyond it, 429 with Retry-After. /healthz and /readyz are not limited.
    #[arg(long, value_name = "N/s|N/m|N/h")]
    rate_limit_per_ip: Option<String>,
    /// Requests a client may make at once above --rate-limit-per-ip [default: N of N/unit].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit_burst: Option<u32>,
    /// A file holding the bearer token clients must send.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Idle sandboxes kept booted per plugin [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    pool: Option<usize>,
    /// Idle sandboxes kept per plugin once it had no request for --pool-idle-after-seconds
    /// (idle sandboxes hold memory); the next request fills the pool again.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pool_idle_floor: usize,
    /// Seconds without a request for a plugin before its pool shrinks to --pool-idle-floor.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pool_idle_after_seconds: u64,
    /// Executions at once [default: twice the number of CPUs].
    #[arg(long, value_name = "N")]
    max_concurrency: Option<usize>,
    /// Requests that may wait for a slot; beyond them, 429 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_queue: usize,
    /// Seconds running executions may go on after SIGTERM before they are killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    grace_seconds: u64,
    /// Connections served at once; more are closed as soon as they are accepted.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds a client has to send a request's line and headers.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_seconds: u64,
    /// Seconds an authorised client has to send a request's body.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_seconds: u64,
    /// Log as JSON lines (default: human-readable). NESTBOX_LOG sets the level (info).
    #[arg(long)]
    log_json: bool,
}

pub fn main(loaded: LoadedSettings, args: ServeArgs) -> CommandResult {
    init_logging(args.log_json);
    let tls = TlsFiles::from_flags(args.tls_cert, args.tls_key).map_err(ServeError::from)?;
    let rate_limit = Rate::from_flags(args.rate_limit_per_ip.as_deref(), args.rate_limit_burst)
        .map_err(ServeError::from)?;
    let state_dir = loaded.settings.state_dir.clone();
    let env_token = std::env::var(token::TOKEN_ENV).ok();
    let (token, from) = token::load(args.token_file.as_deref(), env_token, &state_dir)?;
    if let TokenSource::StateDir(path) = &from {
        tracing::info!(token_file = %path.display(), "using the token in this file");
    }
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = ServeConfig {
        socket: args
            .socket
            .unwrap_or_else(|| server::default_socket(&state_dir)),
        listen: args.listen,
        token,
        token_source: from,
        tls,
        rate_limit,
        pool: server::pool::Sizing {
            target: args.pool.unwrap_or(cpus),
            idle_floor: args.pool_idle_floor,
            idle_after: Duration::from_secs(args.pool_idle_after_seconds),
        },
        max_concurrency: args.max_concurrency.unwrap_or(2 * cpus),
        max_queue: args.max_queue,
        grace: Duration::from_secs(args.grace_seconds),
        connections: ConnLimits {
            max_connections: args.max_connections as usize,
            header_timeout: Duration::from_secs(args.header_timeout_seconds),
        },
        body_timeout: Duration::from_secs(args.body_timeout_seconds),
    };
    let nestbox = Arc::new(Nestbox::open(loaded)?);
    let runtime = crate::runtime::multi_thread()?;
    runtime.block_on(server::serve(
        nestbox,
        config,
        Arc::new(Compiling::default()),
    ))?;
    Ok(Status::Ok)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NESTBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}
