//! The warm pool: sandboxes booted ahead of demand, each used for exactly one job and then
//! destroyed. A pooled sandbox is booted exactly like a cold one (same spec, same limits, network
//! none); its guest has loaded its plugin, started it as far as the manifest allows
//! (`entry.prepare`: the Python interpreter waits just before the code comes in) and waits for
//! its job. Taking one (or finding none) starts a refill at once, not at the next tick;
//! sandboxes that die while idle are replaced; if boots keep failing, the pool reports why.
//! After `idle_after` without a request for a plugin, its pool shrinks to `idle_floor` (idle
//! sandboxes hold memory); the next request fills it again.
//!
//! While a plugin still has idle sandboxes, its refills are speculative and boot at a low CPU
//! weight ([`Gvisor::boot_in_background`]), so they do not slow the jobs running beside them; a
//! sandbox gets the default weight when it is taken, boots in progress get it when a request
//! finds the pool empty or after [`BACKGROUND_FOR`], and refills started while the pool is empty
//! boot at the default weight.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::Notify;

use super::metrics::PluginLabel;

use crate::sandbox::{Booted, Gvisor, SandboxSource, SandboxSpec};

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;

/// After this many boots in a row fail for a plugin, it is reported unready.
const FAILURES_UNREADY: u32 = 3;
/// How often idle sandboxes are checked and the pool topped up, at the least.
const TICK: Duration = Duration::from_secs(1);
/// The longest a refill boots at the low CPU weight: under sustained load it would otherwise
/// starve toward the boot timeout.
const BACKGROUND_FOR: Duration = Duration::from_secs(3);

/// A refill in progress.
struct Boot {
    since: Instant,
    /// Still at the low CPU weight.
    background: bool,
}

struct PluginPool {
    idle: VecDeque<Booted>,
    /// Refills in progress, by sandbox id.
    booting: HashMap<String, Boot>,
    consecutive_failures: u32,
    last_error: Option<String>,
    /// The last request for this plugin (taken or missed); the pool shrinks when it is old.
    last_demand: Instant,
}

impl Default for PluginPool {
    fn default() -> Self {
        PluginPool {
            idle: VecDeque::new(),
            booting: HashMap::new(),
            consecutive_failures: 0,
            last_error: None,
            last_demand: Instant::now(),
        }
    }
}

/// How many sandboxes the pool keeps.
#[derive(Debug, Clone, Copy)]
pub struct Sizing {
    /// Idle sandboxes kept per plugin while it is in use.
    pub target: usize,
    /// Idle sandboxes kept per plugin once it had no request for `idle_after`.
    pub idle_floor: usize,
    pub idle_after: Duration,
}

/// What the pool counts for `/metrics`.
pub struct PoolMetrics {
    /// Requests that found a booted sandbox.
    pub hits: Family<PluginLabel, Counter>,
    /// Requests that found none and booted one themselves.
    pub misses: Family<PluginLabel, Counter>,
    /// Seconds from `runsc run` to the guest's `ready` (sandbox boot plus plugin start-up).
    pub boot_seconds: Family<PluginLabel, Histogram, fn() -> Histogram>,
    /// Seconds the guest took from its own start to `ready`: loading and starting the plugin.
    pub prepare_seconds: Family<PluginLabel, Histogram, fn() -> Histogram>,
}

fn seconds_histogram() -> Histogram {
    Histogram::new([
        0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0,
    ])
}

impl PoolMetrics {
    fn new() -> PoolMetrics {
        PoolMetrics {
            hits: Family::default(),
            misses: Family::default(),
            boot_seconds: Family::new_with_constructor(seconds_histogram),
            prepare_seconds: Family::new_with_constructor(seconds_histogram),
        }
    }
}

/// What the pool reports for `/readyz` and `/metrics`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginState {
    pub plugin: String,
    pub idle: usize,
    pub booting: usize,
    /// The idle sandboxes wanted now (`target`, or the idle floor after a quiet spell).
    pub target: usize,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

pub struct Pool {
    gvisor: Arc<Gvisor>,
    /// One template per plugin; each boot gets a fresh id.
    templates: HashMap<String, SandboxSpec>,
    sizing: Sizing,
    plugins: Mutex<HashMap<String, PluginPool>>,
    wake: Notify,
    stopping: AtomicBool,
    pub metrics: PoolMetrics,
}

impl Pool {
    pub fn new(gvisor: Arc<Gvisor>, templates: Vec<SandboxSpec>, sizing: Sizing) -> Arc<Pool> {
        let plugins = templates
            .iter()
            .map(|t| (t.plugin.manifest.name.clone(), PluginPool::default()))
            .collect();
        Arc::new(Pool {
            gvisor,
            templates: templates
                .into_iter()
                .map(|t| (t.plugin.manifest.name.clone(), t))
                .collect(),
            sizing,
            plugins: Mutex::new(plugins),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            metrics: PoolMetrics::new(),
        })
    }

    /// The idle sandboxes wanted for a plugin now.
    fn target(&self, p: &PluginPool) -> usize {
        if p.last_demand.elapsed() >= self.sizing.idle_after {
            self.sizing.idle_floor.min(self.sizing.target)
        } else {
            self.sizing.target
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PluginPool>> {
        self.plugins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep the pool filled until [`Pool::stop`].
    pub async fn maintain(self: Arc<Self>) {
        while !self.stopping.load(Ordering::Relaxed) {
            self.reap_dead();
            self.foreground_boots(None, BACKGROUND_FOR);
            let mut surplus = Vec::new();
            for name in self.templates.keys() {
                let (wanted, background) = {
                    let mut plugins = self.lock();
                    let p = plugins.entry(name.clone()).or_default();
                    let target = self.target(p);
                    // Quiet for long: let go of sandboxes beyond the floor (oldest first).
                    while p.idle.len() > target {
                        surplus.extend(p.idle.pop_front());
                    }
                    // Back off while a plugin keeps failing: one boot at a time.
                    let cap = if p.consecutive_failures > 0 {
                        1.min(target)
                    } else {
                        target
                    };
                    // Speculative while sandboxes are still idle; needed now when none is.
                    let background = !p.idle.is_empty();
                    (
                        cap.saturating_sub(p.idle.len() + p.booting.len()),
                        background,
                    )
                };
                for _ in 0..wanted {
                    self.clone().boot_one(name.clone(), background);
                }
            }
            if !surplus.is_empty() {
                tracing::info!(
                    released = surplus.len(),
                    "no requests for a while: idle sandboxes beyond the idle floor released"
                );
                tokio::task::spawn_blocking(move || drop(surplus));
            }
            let _ = tokio::time::timeout(TICK, self.wake.notified()).await;
        }
    }

    /// Boot one sandbox for the pool, at the low CPU weight when `background`.
    fn boot_one(self: Arc<Self>, name: String, background: bool) {
        let Some(template) = self.templates.get(&name) else {
            return;
        };
        let mut spec = template.clone();
        spec.id = uuid::Uuid::new_v4().to_string();
        let boot = Boot {
            since: Instant::now(),
            background,
        };
        self.lock()
            .entry(name.clone())
            .or_default()
            .booting
            .insert(spec.id.clone(), boot);
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let result = if background {
                pool.gvisor.boot_in_background(&spec)
            } else {
                pool.gvisor.boot(&spec)
            };
            let mut plugins = pool.lock();
            let p = plugins.entry(name.clone()).or_default();
            p.booting.remove(&spec.id);
            match result {
                Ok(booted) if !pool.stopping.load(Ordering::Relaxed) => {
                    p.consecutive_failures = 0;
                    p.last_error = None;
                    let label = PluginLabel {
                        plugin: name.clone(),
                    };
                    pool.metrics
                        .boot_seconds
                        .get_or_create(&label)
                        .observe(booted.boot_time.as_secs_f64());
                    if let Some(ms) = booted.prepare_ms {
                        pool.metrics
                            .prepare_seconds
                            .get_or_create(&label)
                            .observe(ms as f64 / 1000.0);
                    }
                    p.idle.push_back(booted);
                }
                Ok(booted) => {
                    drop(plugins);
                    drop(booted);
                }
                Err(outcome) => {
                    p.consecutive_failures += 1;
                    p.last_error = Some(outcome.message);
                    tracing::warn!(plugin = %name, error = ?p.last_error, "a pooled sandbox failed to boot");
                    drop(plugins);
                    // Do not spin on a broken runsc.
                    std::thread::sleep(Duration::from_millis(500));
                    pool.wake.notify_one();
                }
            }
        });
    }

    /// Give boots in progress the default CPU weight: those of `plugin` (all plugins when
    /// `None`) that have booted in the background for at least `after`.
    fn foreground_boots(&self, plugin: Option<&str>, after: Duration) {
        let mut ids = Vec::new();
        for (name, p) in self.lock().iter_mut() {
            if plugin.is_some_and(|want| want != name) {
                continue;
            }
            for (id, boot) in p.booting.iter_mut() {
                if boot.background && boot.since.elapsed() >= after {
                    boot.background = false;
                    ids.push(id.clone());
                }
            }
        }
        // The cgroup may not exist yet (runsc makes it early in its boot); the sandbox then
        // stays at the low weight until it is taken.
        for id in ids {
            self.gvisor.foreground(&id);
        }
    }

    /// Drop idle sandboxes whose guest died, so they are replaced.
    fn reap_dead(&self) {
        let mut dead = Vec::new();
        for (name, p) in self.lock().iter_mut() {
            let before = p.idle.len();
            let mut kept = VecDeque::new();
            while let Some(mut b) = p.idle.pop_front() {
                if b.is_alive() {
                    kept.push_back(b);
                } else {
                    dead.push(b);
                }
            }
            p.idle = kept;
            if p.idle.len() < before {
                tracing::warn!(plugin = %name, died = before - p.idle.len(), "idle sandboxes died; replacing them");
            }
        }
        if !dead.is_empty() {
            tokio::task::spawn_blocking(move || drop(dead));
        }
    }

    pub fn states(&self) -> Vec<PluginState> {
        let plugins = self.lock();
        let mut states: Vec<PluginState> = self
            .templates
            .keys()
            .map(|name| {
                let p = plugins.get(name);
                PluginState {
                    plugin: name.clone(),
                    idle: p.map_or(0, |p| p.idle.len()),
                    booting: p.map_or(0, |p| p.booting.len()),
                    target: p.map_or(self.sizing.target, |p| self.target(p)),
                    consecutive_failures: p.map_or(0, |p| p.consecutive_failures),
                    last_error: p.and_then(|p| p.last_error.clone()),
                }
            })
            .collect();
        states.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        states
    }

    /// Why the pool is not ready, if it is not: a plugin with no idle sandbox that keeps failing
    /// to boot, or one that has not booted any yet.
    pub fn unready(&self) -> Vec<String> {
        self.states()
            .into_iter()
            .filter_map(|s| {
                if s.consecutive_failures >= FAILURES_UNREADY {
                    Some(format!(
                        "{}: {} boots in a row failed; last: {}",
                        s.plugin,
                        s.consecutive_failures,
                        s.last_error.unwrap_or_default()
                    ))
                } else if s.idle == 0 && s.target > 0 {
                    Some(format!("{}: no sandbox booted yet", s.plugin))
                } else {
                    None
                }
            })
            .collect()
    }

    /// Stop refilling and destroy every idle sandbox (and what it had on disk).
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.wake.notify_one();
        // Boots in flight finish and are destroyed by their task; wait for them.
        let deadline = Instant::now() + Duration::from_secs(35);
        while self.lock().values().any(|p| !p.booting.is_empty()) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let idle: Vec<Booted> = self
            .lock()
            .values_mut()
            .flat_map(|p| p.idle.drain(..))
            .collect();
        let _ = tokio::task::spawn_blocking(move || drop(idle)).await;
    }
}

impl SandboxSource for Pool {
    fn take(&self, spec: &SandboxSpec) -> Option<Booted> {
        let name = &spec.plugin.manifest.name;
        let taken = {
            let mut plugins = self.lock();
            let p = plugins.get_mut(name)?;
            p.last_demand = Instant::now();
            loop {
                let Some(mut b) = p.idle.pop_front() else {
                    break None;
                };
                if b.memory_mb >= spec.memory_mb && b.is_alive() {
                    break Some(b);
                }
                // Dead (or too small, which does not happen: pools boot at the operator's limit).
                std::thread::spawn(move || drop(b));
            }
        };
        let label = PluginLabel {
            plugin: name.clone(),
        };
        match &taken {
            Some(b) => {
                // It booted at the low weight; the job runs at the default one.
                self.gvisor.foreground(&b.id);
                self.metrics.hits.get_or_create(&label).inc();
            }
            None => {
                // Requests are waiting for sandboxes: the refills in progress are needed now.
                self.foreground_boots(Some(name), Duration::ZERO);
                self.metrics.misses.get_or_create(&label).inc();
            }
        };
        // Refill now, not at the next tick: a burst finds the next one booting already.
        self.wake.notify_one();
        taken
    }
}
