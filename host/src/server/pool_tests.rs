//! The warm pool over the scripted fake runtime: filling, one job per sandbox, replacing the
//! dead, misses, the idle floor and background boots. Every check waits for its condition on the
//! fake's record or the pool's state; nothing sleeps and hopes.

use std::sync::Arc;
use std::time::Duration;

use super::{Pool, Sizing};
use crate::limits::Limits;
use crate::plugin::Plugin;
use crate::plugin::manifest::tests::sample_manifest;
use crate::result::Status;
use crate::sandbox::fake::{self, Call, Fake, Step};
use crate::sandbox::protocol::GuestJob;
use crate::sandbox::{Gvisor, SandboxSource, SandboxSpec};
use crate::server::metrics::PluginLabel;
use crate::settings::Settings;

struct Bench {
    fake: Arc<Fake>,
    pool: Arc<Pool>,
    spec: SandboxSpec,
    maintainer: tokio::task::JoinHandle<()>,
    _state: tempfile::TempDir,
}

fn sizing(target: usize, idle_floor: usize, idle_after: Duration) -> Sizing {
    Sizing {
        target,
        idle_floor,
        idle_after,
    }
}

impl Bench {
    /// A pool of `python` sandboxes over a fake whose guests follow `default`, maintained.
    fn start(default: Vec<Step>, sizing: Sizing) -> Bench {
        let state = tempfile::tempdir().unwrap();
        let settings = Settings {
            state_dir: state.path().to_path_buf(),
            ..Settings::default()
        };
        let fake = Fake::new(default);
        let gvisor = Arc::new(Gvisor::with_runtime(fake.clone(), &settings));
        let spec = SandboxSpec {
            id: String::new(),
            plugin: Plugin {
                manifest: sample_manifest(),
                dir: state.path().to_path_buf(),
            },
            modules: Vec::new(),
            memory_mb: 64,
        };
        let pool = Pool::new(gvisor, vec![spec.clone()], sizing);
        let maintainer = tokio::spawn(pool.clone().maintain());
        Bench {
            fake,
            pool,
            spec,
            maintainer,
            _state: state,
        }
    }

    /// Wait (off the runtime's threads) until `done` holds.
    async fn until(
        &self,
        what: &'static str,
        done: impl Fn(&Pool, &Fake) -> bool + Send + 'static,
    ) {
        let pool = self.pool.clone();
        self.fake.until(what, move |f| done(&pool, f)).await;
    }

    fn counts(pool: &Pool) -> (usize, usize) {
        let s = &pool.states()[0];
        (s.idle, s.booting)
    }

    fn idle_ids(&self) -> Vec<String> {
        self.pool.lock()["python"]
            .idle
            .iter()
            .map(|b| b.id.clone())
            .collect()
    }

    fn label() -> PluginLabel {
        PluginLabel {
            plugin: "python".into(),
        }
    }

    /// Stop the pool; nothing may be left in the runtime.
    async fn stop(self) {
        self.fake.open_gates();
        self.pool.stop().await;
        self.maintainer.abort();
        self.until("every sandbox is deleted", |_, f| f.listed().is_empty())
            .await;
    }
}

fn job() -> GuestJob {
    GuestJob {
        code: "print(1)".into(),
        stdin_b64: None,
        input_files: Vec::new(),
        limits: Limits {
            max_runtime_ms: 5000,
            max_ram_mb: 64,
            max_output_bytes: 1024,
            fuel: 1000,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_to_size_and_gives_each_sandbox_one_job() {
    let b = Bench::start(fake::prints("1\n"), sizing(2, 2, Duration::from_secs(3600)));
    b.until("two idle sandboxes", |p, _| Bench::counts(p) == (2, 0))
        .await;
    assert_eq!(b.fake.booted(), 2);
    assert_eq!(b.fake.started(), 2);

    let first = b.pool.take(&b.spec).expect("a pooled sandbox");
    let second = b.pool.take(&b.spec).expect("a second pooled sandbox");
    assert_ne!(first.id, second.id);
    assert_eq!(b.pool.metrics.hits.get_or_create(&Bench::label()).get(), 2);
    let outcome = tokio::task::spawn_blocking(move || first.run(&job(), None, None).0)
        .await
        .unwrap();
    assert_eq!(outcome.status, Status::Ok, "{}", outcome.message);
    assert_eq!(outcome.stdout, b"1\n");
    drop(second);

    // Taken sandboxes are refilled with new ones, never put back.
    b.until("refilled to two", |p, f| {
        f.booted() == 4 && Bench::counts(p) == (2, 0)
    })
    .await;
    let calls = b.fake.calls();
    let booted: Vec<&String> = calls
        .iter()
        .filter_map(|c| match c {
            Call::Boot(id) => Some(id),
            _ => None,
        })
        .collect();
    for id in b.idle_ids() {
        assert!(booted[2..].contains(&&id), "{id} is one of the refills");
    }
    assert_eq!(b.fake.jobs().len(), 1, "one job, in one sandbox");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_sandbox_that_dies_is_replaced() {
    let b = Bench::start(fake::prints("1\n"), sizing(1, 1, Duration::from_secs(3600)));
    b.until("one idle sandbox", |p, f| {
        f.started() == 1 && Bench::counts(p) == (1, 0)
    })
    .await;
    let dead = b.idle_ids().remove(0);
    b.fake.crash(&dead);
    let gone = dead.clone();
    b.until("the dead sandbox replaced", move |p, f| {
        f.started() == 2
            && Bench::counts(p) == (1, 0)
            && !p.lock()["python"].idle.iter().any(|s| s.id == gone)
    })
    .await;
    let gone = dead.clone();
    b.until("the dead sandbox deleted", move |_, f| {
        f.calls().contains(&Call::Delete(gone.clone()))
    })
    .await;
    assert_eq!(b.fake.booted(), 2);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_pool_misses_and_its_boots_are_then_needed_now() {
    let slow = vec![Step::Gate, Step::Ready, Step::AwaitJob, fake::ok()];
    let b = Bench::start(slow, sizing(1, 1, Duration::from_secs(3600)));
    b.until("a boot in progress", |p, f| {
        f.booted() == 1 && Bench::counts(p) == (0, 1)
    })
    .await;
    assert!(b.pool.take(&b.spec).is_none(), "nothing is ready yet");
    assert_eq!(
        b.pool.metrics.misses.get_or_create(&Bench::label()).get(),
        1
    );
    assert!(
        b.pool.lock()["python"]
            .booting
            .values()
            .all(|boot| !boot.background),
        "a boot a request is waiting for runs at the default CPU weight"
    );
    b.fake.release();
    b.until("the slow boot finished", |p, _| Bench::counts(p) == (1, 0))
        .await;
    assert!(b.pool.take(&b.spec).is_some());
    assert_eq!(b.pool.metrics.hits.get_or_create(&Bench::label()).get(), 1);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refills_beside_idle_sandboxes_boot_in_the_background_until_a_miss() {
    let b = Bench::start(fake::prints("1\n"), sizing(2, 2, Duration::from_secs(3600)));
    b.until("two idle sandboxes", |p, _| Bench::counts(p) == (2, 0))
        .await;
    let slow = vec![Step::Gate, Step::Ready, Step::AwaitJob, fake::ok()];
    for _ in 0..2 {
        b.fake.script(slow.clone());
    }
    let first = b.pool.take(&b.spec).expect("a pooled sandbox");
    b.until("a refill booting", |p, f| {
        Bench::counts(p) == (1, 1) && f.booted() == 3
    })
    .await;
    assert!(
        b.pool.lock()["python"]
            .booting
            .values()
            .all(|boot| boot.background),
        "a refill while a sandbox is still idle is speculative"
    );
    let second = b.pool.take(&b.spec).expect("the other pooled sandbox");
    // Both refills must have reached the runtime, or the release below would miss one.
    b.until("both refills booting", |p, f| {
        Bench::counts(p) == (0, 2) && f.booted() == 4
    })
    .await;
    assert!(b.pool.take(&b.spec).is_none());
    assert!(
        b.pool.lock()["python"]
            .booting
            .values()
            .all(|boot| !boot.background),
        "after a miss every boot in progress is needed now"
    );
    b.fake.release();
    b.until("refilled", |p, _| Bench::counts(p) == (2, 0)).await;
    drop((first, second));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_recent_requests_only_the_idle_floor_is_kept() {
    // Every moment counts as quiet: the pool keeps its floor, not its target.
    let b = Bench::start(fake::prints("1\n"), sizing(3, 1, Duration::ZERO));
    b.until("the floor filled", |p, _| Bench::counts(p) == (1, 0))
        .await;
    let state = &b.pool.states()[0];
    assert_eq!(state.target, 1);
    assert_eq!(b.fake.booted(), 1);
    assert!(b.pool.unready().is_empty(), "{:?}", b.pool.unready());
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boots_that_keep_failing_make_the_pool_unready_with_the_reason() {
    let b = Bench::start(
        vec![Step::Failed("the plugin's module is missing".into())],
        sizing(1, 1, Duration::from_secs(3600)),
    );
    b.until("three failed boots", |p, _| {
        p.states()[0].consecutive_failures >= 3
    })
    .await;
    let unready = b.pool.unready();
    assert_eq!(unready.len(), 1, "{unready:?}");
    assert!(unready[0].contains("boots in a row failed"), "{unready:?}");
    assert!(
        unready[0].contains("the plugin's module is missing"),
        "{unready:?}"
    );
    b.stop().await;
}
