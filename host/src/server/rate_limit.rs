//! A per-client-IP request rate limit for the TCP listeners (`--rate-limit-per-ip N/s`, `N/m`
//! or `N/h`, `--rate-limit-burst B`): governor's GCRA (a token bucket's behaviour: B requests at
//! once, then one per 1/N) per address (per /64 for IPv6, which a single client holds whole),
//! checked on the request head before the token or the body; beyond it, 429 with Retry-After.
//! `/healthz` and `/readyz` are not limited (probes).
//!
//! Memory is fixed: governor keeps one 8-byte state per client, and here it keeps them in an LRU
//! map of at most [`MAX_TRACKED`] clients. A new client past that forgets the one seen least
//! recently, in O(1) (no scan); a forgotten client starts again with a full burst, so eviction
//! can only loosen the limit for an idle address, never refuse anyone.

use std::net::IpAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};
use lru::LruCache;
use prometheus_client::metrics::counter::Counter;

use super::listen::PeerAddr;
use crate::result::{RunResult, Status};

/// Clients tracked at once; past it the least recently seen one is forgotten.
pub const MAX_TRACKED: usize = 10_000;
/// The slowest rate accepted: one request an hour.
const LONGEST_PERIOD: Duration = Duration::from_secs(3600);
/// The largest burst accepted (with [`LONGEST_PERIOD`], governor's arithmetic stays far inside
/// its 64-bit nanoseconds).
const MAX_BURST: u32 = 10_000;

/// Requests per second and the burst allowed above that rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RateError {
    #[error(
        "--rate-limit-per-ip {0:?} is not a rate; write requests per second, minute or hour, \
         such as 5/s, 60/m or 600/h (a positive number, at least 1/h)"
    )]
    Invalid(String),
    #[error("--rate-limit-burst needs --rate-limit-per-ip")]
    BurstAlone,
    #[error("--rate-limit-burst {0} is more than {MAX_BURST}; give a smaller burst")]
    BurstTooLarge(u32),
}

impl Rate {
    /// `N/s`, `N/m` or `N/h`; the burst defaults to one unit's worth (at least 1).
    pub fn from_flags(rate: Option<&str>, burst: Option<u32>) -> Result<Option<Rate>, RateError> {
        let Some(text) = rate else {
            return match burst {
                Some(_) => Err(RateError::BurstAlone),
                None => Ok(None),
            };
        };
        let invalid = || RateError::Invalid(text.to_string());
        let (n, unit) = text.trim().split_once('/').ok_or_else(invalid)?;
        let n: f64 = n.trim().parse().map_err(|_| invalid())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            _ => return Err(invalid()),
        };
        if !n.is_finite() || n <= 0.0 || seconds / n > LONGEST_PERIOD.as_secs_f64() {
            return Err(invalid());
        }
        if let Some(b) = burst.filter(|b| *b > MAX_BURST) {
            return Err(RateError::BurstTooLarge(b));
        }
        let burst = burst
            .unwrap_or_else(|| (n.ceil().min(f64::from(MAX_BURST)) as u32).max(1))
            .max(1);
        Ok(Some(Rate {
            per_second: n / seconds,
            burst,
        }))
    }

    /// governor's quota: one request per period, `burst` at once. Values outside what
    /// [`Rate::from_flags`] accepts are brought to its bounds.
    fn quota(self) -> Quota {
        let period = Duration::try_from_secs_f64(1.0 / self.per_second)
            .unwrap_or(LONGEST_PERIOD)
            .clamp(Duration::from_nanos(1), LONGEST_PERIOD);
        let burst = NonZeroU32::new(self.burst.min(MAX_BURST)).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_hour(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// governor's state store for the clients: its per-key state (the time the next request is due)
/// in an LRU map with a fixed capacity, so inserting a client past it evicts one in O(1). Clones
/// share the map.
#[derive(Clone)]
struct BoundedStore {
    clients: Arc<Mutex<LruCache<IpAddr, Nanos>>>,
}

impl BoundedStore {
    fn new(capacity: NonZeroUsize) -> BoundedStore {
        BoundedStore {
            clients: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<IpAddr, Nanos>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StateStore for BoundedStore {
    type Key = IpAddr;

    fn measure_and_replace<T, F, E>(&self, key: &IpAddr, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // The lock is held from the read to the write, so no other request sees the old state.
        let mut clients = self.lock();
        let (allowed, next) = f(clients.get(key).copied())?;
        clients.put(*key, next);
        Ok(allowed)
    }
}

/// The rate limit of every client address.
pub struct Limiter<C: Clock = DefaultClock> {
    rate: Rate,
    limiter: RateLimiter<IpAddr, BoundedStore, C, NoOpMiddleware<C::Instant>>,
    clients: BoundedStore,
    pub limited: Counter,
}

impl Limiter {
    pub fn new(rate: Rate, limited: Counter) -> Limiter {
        Limiter::with_clock(rate, limited, DefaultClock::default(), MAX_TRACKED)
    }
}

impl<C: Clock> Limiter<C> {
    fn with_clock(rate: Rate, limited: Counter, clock: C, capacity: usize) -> Limiter<C> {
        let clients = BoundedStore::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN));
        Limiter {
            rate,
            limiter: RateLimiter::new(rate.quota(), clients.clone(), clock),
            clients,
            limited,
        }
    }

    /// Take one request from `ip`'s allowance now: Ok, or how long until one is allowed.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client_key(ip))
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// How many clients are tracked.
    pub fn tracked(&self) -> usize {
        self.clients.lock().len()
    }
}

/// An IPv4 address (or an IPv4-mapped IPv6 one) as itself, an IPv6 address by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
    }
}

/// The middleware: probes and requests without an address pass; others take from their bucket.
pub async fn check(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let ip = request
        .extensions()
        .get::<PeerAddr>()
        .and_then(|p| p.0)
        .filter(|_| path != "/healthz" && path != "/readyz");
    let Some(ip) = ip else {
        return next.run(request).await;
    };
    match limiter.take(ip) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            limiter.limited.inc();
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(RunResult::not_run(
                    Status::SandboxError,
                    format!(
                        "too many requests from this address (the server allows {}); retry \
                         after {seconds} s",
                        describe(limiter.rate)
                    ),
                )),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

fn describe(rate: Rate) -> String {
    format!("{:.3}/s with a burst of {}", rate.per_second, rate.burst)
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn rates_parse_and_bad_ones_are_named() {
        let r = Rate::from_flags(Some("60/m"), None).unwrap().unwrap();
        assert_eq!(
            r,
            Rate {
                per_second: 1.0,
                burst: 60
            }
        );
        let r = Rate::from_flags(Some("2/s"), Some(5)).unwrap().unwrap();
        assert_eq!(
            r,
            Rate {
                per_second: 2.0,
                burst: 5
            }
        );
        assert_eq!(Rate::from_flags(None, None).unwrap(), None);
        assert_eq!(Rate::from_flags(None, Some(3)), Err(RateError::BurstAlone));
        for bad in ["5", "0/s", "-1/s", "x/s", "5/d", "NaN/s", "inf/s"] {
            let err = Rate::from_flags(Some(bad), None).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    fn limiter(
        per_second: f64,
        burst: u32,
        capacity: usize,
    ) -> (Limiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let rate = Rate { per_second, burst };
        let limiter = Limiter::with_clock(rate, Counter::default(), clock.clone(), capacity);
        (limiter, clock)
    }

    #[test]
    fn the_slowest_rate_and_the_largest_burst_are_bounded() {
        assert!(
            Rate::from_flags(Some("1/h"), Some(MAX_BURST))
                .unwrap()
                .is_some()
        );
        let err = Rate::from_flags(Some("0.5/h"), None).unwrap_err();
        assert!(err.to_string().contains("at least 1/h"), "{err}");
        let err = Rate::from_flags(Some("5/s"), Some(MAX_BURST + 1)).unwrap_err();
        assert_eq!(err, RateError::BurstTooLarge(MAX_BURST + 1));
        // A huge rate is a nanosecond period, not a panic; its default burst is capped.
        let r = Rate::from_flags(Some("1e12/s"), None).unwrap().unwrap();
        assert_eq!(r.burst, MAX_BURST);
        let (limiter, _) = limiter(r.per_second, r.burst, 4);
        limiter.take("10.0.0.1".parse().unwrap()).unwrap();
    }

    #[test]
    fn a_client_gets_its_burst_then_one_request_per_period() {
        let (limiter, clock) = limiter(2.0, 3, MAX_TRACKED);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            limiter.take(ip).unwrap();
        }
        let wait = limiter.take(ip).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another address has its own allowance.
        limiter.take(other).unwrap();
        // Half a second later one more request is allowed, and not two.
        clock.advance(Duration::from_millis(500));
        limiter.take(ip).unwrap();
        assert_eq!(limiter.take(ip), Err(Duration::from_millis(500)));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let (limiter, _) = limiter(1.0, 1, MAX_TRACKED);
        limiter.take("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(
            limiter
                .take("2001:db8:1:2:ffff::9".parse().unwrap())
                .is_err()
        );
        limiter.take("2001:db8:1:3::1".parse().unwrap()).unwrap();
        // An IPv4-mapped address is the IPv4 client.
        limiter.take("192.0.2.1".parse().unwrap()).unwrap();
        assert!(limiter.take("::ffff:192.0.2.1".parse().unwrap()).is_err());
        assert_eq!(limiter.tracked(), 3);
    }

    #[test]
    fn no_more_clients_than_the_cap_are_ever_tracked() {
        let (limiter, _) = limiter(1.0, 1, MAX_TRACKED);
        // Ten times the cap, all at the same instant: no client's state has expired, so a
        // store that only drops expired ones would grow; this one stays at the cap.
        for i in 0..10 * MAX_TRACKED as u32 {
            limiter.take(IpAddr::V4((0x0a00_0000 + i).into())).unwrap();
            assert!(limiter.tracked() <= MAX_TRACKED);
        }
        assert_eq!(limiter.tracked(), MAX_TRACKED);
        // IPv6 /64s count the same way.
        for i in 0..2 * MAX_TRACKED as u128 {
            let ip = std::net::Ipv6Addr::from((0x2001_0db8u128 << 96) | (i << 64));
            limiter.take(IpAddr::V6(ip)).unwrap();
        }
        assert_eq!(limiter.tracked(), MAX_TRACKED);
    }

    #[test]
    fn the_client_seen_least_recently_is_the_one_forgotten() {
        let (limiter, _) = limiter(1.0, 1, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let c: IpAddr = "10.0.0.3".parse().unwrap();
        let d: IpAddr = "10.0.0.4".parse().unwrap();
        for ip in [a, b, c] {
            limiter.take(ip).unwrap();
        }
        // `a` is refused (and so seen again), then a fourth client evicts `b`, not `a`.
        assert!(limiter.take(a).is_err());
        limiter.take(d).unwrap();
        assert_eq!(limiter.tracked(), 3);
        assert!(limiter.take(a).is_err(), "a was still tracked");
        assert!(limiter.take(c).is_err(), "c was still tracked");
        // `b` was forgotten: it starts again with a full burst.
        limiter.take(b).unwrap();
    }
}
