//! Prometheus metrics for `GET /metrics`: executions by plugin and status, their latency, the
//! pool, the queue and what is running. Plugin labels are only ever installed plugins' canonical
//! names or `unknown` (see `api::AppState::plugin_label`), never a client's text.

use std::sync::atomic::AtomicI64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExecutionLabels {
    pub plugin: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabel {
    pub plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PooledLabel {
    pub pooled: String,
}

pub struct Metrics {
    registry: Registry,
    pub executions: Family<ExecutionLabels, Counter>,
    pub latency: Family<PooledLabel, Histogram>,
    pub pool_idle: Family<PluginLabel, Gauge<i64, AtomicI64>>,
    pub queue_depth: Gauge<i64, AtomicI64>,
    pub running: Gauge<i64, AtomicI64>,
    pub rejected: Counter,
    pub refused_connections: Counter,
    pub rate_limited: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nestbox");
        let executions = Family::<ExecutionLabels, Counter>::default();
        registry.register(
            "executions",
            "Executions finished, by plugin and result status",
            executions.clone(),
        );
        let latency = Family::<PooledLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                30.0,
            ])
        });
        registry.register(
            "execution_duration_seconds",
            "Wall time of executions as the server saw them, by whether a pooled sandbox was used",
            latency.clone(),
        );
        let pool_idle = Family::<PluginLabel, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "pool_idle_sandboxes",
            "Booted sandboxes waiting for a job",
            pool_idle.clone(),
        );
        let queue_depth = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "queue_depth",
            "Requests waiting for an execution slot",
            queue_depth.clone(),
        );
        let running = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "running_executions",
            "Executions in progress",
            running.clone(),
        );
        let rejected = Counter::default();
        registry.register(
            "rejected_requests",
            "Requests refused with 429 (queue full)",
            rejected.clone(),
        );
        let refused_connections = Counter::default();
        registry.register(
            "refused_connections",
            "Connections closed on accept because --max-connections were open",
            refused_connections.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited_requests",
            "Requests refused with 429 because their client address went over --rate-limit-per-ip",
            rate_limited.clone(),
        );
        Metrics {
            registry,
            rate_limited,
            refused_connections,
            executions,
            latency,
            pool_idle,
            queue_depth,
            running,
            rejected,
        }
    }

    /// Count the pool's hits, misses, boot and start-up times too.
    pub fn register_pool(&mut self, pool: &super::pool::PoolMetrics) {
        self.registry.register(
            "pool_hits",
            "Executions that found a prepared sandbox waiting in the pool",
            pool.hits.clone(),
        );
        self.registry.register(
            "pool_misses",
            "Executions that found no prepared sandbox and booted one themselves",
            pool.misses.clone(),
        );
        self.registry.register(
            "pool_boot_seconds",
            "Seconds from starting a pooled sandbox to its guest being ready (boot and plugin start-up)",
            pool.boot_seconds.clone(),
        );
        self.registry.register(
            "pool_prepare_seconds",
            "Seconds a pooled sandbox's guest took to load and start its plugin up to its job",
            pool.prepare_seconds.clone(),
        );
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
