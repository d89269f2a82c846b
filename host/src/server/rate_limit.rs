//! A per-client-IP request rate limit for the TCP listeners (`--rate-limit-per-ip N/s` or `N/m`,
//! `--rate-limit-burst B`): a token bucket per address (per /64 for IPv6, which a single client
//! holds whole), checked on the request head before the token or the body; beyond it, 429 with
//! Retry-After. `/healthz` and `/readyz` are not limited (probes). Buckets that are full again
//! are forgotten once more than [`MAX_TRACKED`] addresses are tracked, so memory stays bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::metrics::counter::Counter;

use super::listen::PeerAddr;
use crate::result::{RunResult, Status};

/// Addresses tracked before full buckets are dropped.
pub const MAX_TRACKED: usize = 10_000;

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
         such as 5/s, 60/m or 600/h (a positive number)"
    )]
    Invalid(String),
    #[error("--rate-limit-burst needs --rate-limit-per-ip")]
    BurstAlone,
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
        if !n.is_finite() || n <= 0.0 {
            return Err(invalid());
        }
        let burst = burst.unwrap_or_else(|| (n.ceil() as u32).max(1)).max(1);
        Ok(Some(Rate {
            per_second: n / seconds,
            burst,
        }))
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client address.
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    pub limited: Counter,
}

impl Limiter {
    pub fn new(rate: Rate, limited: Counter) -> Limiter {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
            limited,
        }
    }

    /// Take one request from `ip`'s bucket at `now`: Ok, or how long until one is allowed.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = client_key(ip);
        let burst = f64::from(self.rate.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            let rate = self.rate.per_second;
            buckets.retain(|_, b| {
                b.tokens + rate * now.saturating_duration_since(b.at).as_secs_f64() < burst
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate.per_second).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.rate.per_second,
            ))
        }
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
    match limiter.take(ip, Instant::now()) {
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

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let limiter = Limiter::new(
            Rate {
                per_second: 2.0,
                burst: 3,
            },
            Counter::default(),
        );
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.take(ip, t0).unwrap();
        }
        let wait = limiter.take(ip, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another address has its own bucket.
        limiter.take(other, t0).unwrap();
        // Half a second later one more request is allowed, and not two.
        let t1 = t0 + Duration::from_millis(500);
        limiter.take(ip, t1).unwrap();
        assert!(limiter.take(ip, t1).is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let limiter = Limiter::new(
            Rate {
                per_second: 1.0,
                burst: 1,
            },
            Counter::default(),
        );
        let t0 = Instant::now();
        limiter
            .take("2001:db8:1:2::1".parse().unwrap(), t0)
            .unwrap();
        assert!(
            limiter
                .take("2001:db8:1:2:ffff::9".parse().unwrap(), t0)
                .is_err()
        );
        limiter
            .take("2001:db8:1:3::1".parse().unwrap(), t0)
            .unwrap();
        // An IPv4-mapped address is the IPv4 client.
        limiter.take("192.0.2.1".parse().unwrap(), t0).unwrap();
        assert!(
            limiter
                .take("::ffff:192.0.2.1".parse().unwrap(), t0)
                .is_err()
        );
    }

    #[test]
    fn full_buckets_are_forgotten_when_too_many_are_tracked() {
        let limiter = Limiter::new(
            Rate {
                per_second: 1.0,
                burst: 1,
            },
            Counter::default(),
        );
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED as u32 {
            limiter
                .take(IpAddr::V4((0x0a00_0000 + i).into()), t0)
                .unwrap();
        }
        // Two seconds on, every bucket is full again: a new address makes room.
        limiter
            .take("192.0.2.1".parse().unwrap(), t0 + Duration::from_secs(2))
            .unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
