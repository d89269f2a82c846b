//! The warm pool: sandboxes booted ahead of demand, each used for exactly one job and then
//! destroyed. A pooled sandbox is booted exactly like a cold one (same spec, same limits, network
//! none); its guest has loaded its plugin and waits for its job. Taking one triggers a refill;
//! sandboxes that die while idle are replaced; if boots keep failing, the pool reports why.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::sandbox::{Booted, Gvisor, SandboxSource, SandboxSpec};

/// After this many boots in a row fail for a plugin, it is reported unready.
const FAILURES_UNREADY: u32 = 3;
/// How often idle sandboxes are checked and the pool topped up, at the least.
const TICK: Duration = Duration::from_secs(1);

#[derive(Default)]
struct PluginPool {
    idle: VecDeque<Booted>,
    booting: usize,
    consecutive_failures: u32,
    last_error: Option<String>,
}

/// What the pool reports for `/readyz` and `/metrics`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginState {
    pub plugin: String,
    pub idle: usize,
    pub booting: usize,
    pub target: usize,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

pub struct Pool {
    gvisor: Arc<Gvisor>,
    /// One template per plugin; each boot gets a fresh id.
    templates: HashMap<String, SandboxSpec>,
    target: usize,
    plugins: Mutex<HashMap<String, PluginPool>>,
    wake: Notify,
    stopping: AtomicBool,
}

impl Pool {
    pub fn new(gvisor: Arc<Gvisor>, templates: Vec<SandboxSpec>, target: usize) -> Arc<Pool> {
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
            target,
            plugins: Mutex::new(plugins),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PluginPool>> {
        self.plugins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep the pool filled until [`Pool::stop`].
    pub async fn maintain(self: Arc<Self>) {
        while !self.stopping.load(Ordering::Relaxed) {
            self.reap_dead();
            for name in self.templates.keys() {
                let wanted = {
                    let mut plugins = self.lock();
                    let p = plugins.entry(name.clone()).or_default();
                    // Back off while a plugin keeps failing: one boot at a time.
                    let cap = if p.consecutive_failures > 0 {
                        1
                    } else {
                        self.target
                    };
                    cap.saturating_sub(p.idle.len() + p.booting)
                };
                for _ in 0..wanted {
                    self.clone().boot_one(name.clone());
                }
            }
            let _ = tokio::time::timeout(TICK, self.wake.notified()).await;
        }
    }

    fn boot_one(self: Arc<Self>, name: String) {
        let Some(template) = self.templates.get(&name) else {
            return;
        };
        let mut spec = template.clone();
        spec.id = uuid::Uuid::new_v4().to_string();
        self.lock().entry(name.clone()).or_default().booting += 1;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let result = pool.gvisor.boot(&spec);
            let mut plugins = pool.lock();
            let p = plugins.entry(name.clone()).or_default();
            p.booting -= 1;
            match result {
                Ok(booted) if !pool.stopping.load(Ordering::Relaxed) => {
                    p.consecutive_failures = 0;
                    p.last_error = None;
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
                    booting: p.map_or(0, |p| p.booting),
                    target: self.target,
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
        while self.lock().values().any(|p| p.booting > 0) && Instant::now() < deadline {
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
            loop {
                let mut b = p.idle.pop_front()?;
                if b.memory_mb >= spec.memory_mb && b.is_alive() {
                    break Some(b);
                }
                // Dead (or too small, which does not happen: pools boot at the operator's limit).
                std::thread::spawn(move || drop(b));
            }
        };
        self.wake.notify_one();
        taken
    }
}
