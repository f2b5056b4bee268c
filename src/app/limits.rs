//! Rate limits (issue 11): writes per API token, and reports per reporter and per reference, so
//! that nobody floods a household's timeline or a gemeente's counts. Answered 429 with
//! `Retry-After`. The limits are kept in memory per instance (`governor`, GCRA): with several
//! instances behind a load balancer each allows its own share, which still bounds a flood.
//! They run on the injected clock, so tests move time instead of waiting.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};

use super::AppError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Instant;

/// governor's clock on zicht's: nanoseconds since the limiter was made.
#[derive(Clone)]
pub struct Injected {
    clock: Arc<dyn Clock>,
    start: Instant,
}

impl governor::clock::Clock for Injected {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let ms = self.clock.now().millis() - self.start.millis();
        Nanos::from(u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000))
    }
}

type Keyed<K> = RateLimiter<
    K,
    governor::state::keyed::DefaultKeyedStateStore<K>,
    Injected,
    governor::middleware::NoOpMiddleware<Nanos>,
>;

/// The limiters of one instance.
pub struct Limits {
    clock: Injected,
    writes: Keyed<String>,
    reporters: Keyed<i64>,
    references: Keyed<String>,
    checks: AtomicU64,
}

fn quota(per: Duration, count: u32) -> Quota {
    let count = NonZeroU32::new(count.max(1)).expect("at least 1");
    let period = per / count.get();
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(count))
        .allow_burst(count)
}

impl Limits {
    pub fn new(settings: &Settings, clock: Arc<dyn Clock>) -> Limits {
        let start = clock.now();
        let clock = Injected { clock, start };
        let minute = Duration::from_secs(60);
        let hour = minute * 60;
        let day = hour * 24;
        Limits {
            writes: RateLimiter::dashmap_with_clock(
                quota(minute, settings.writes_per_minute),
                clock.clone(),
            ),
            reporters: RateLimiter::dashmap_with_clock(
                quota(hour, settings.reports_per_hour),
                clock.clone(),
            ),
            references: RateLimiter::dashmap_with_clock(
                quota(day, settings.reports_per_reference_per_day),
                clock.clone(),
            ),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// A write by the API token with this hash.
    pub fn write(&self, token_hash: &str) -> Result<(), AppError> {
        self.check(&self.writes, &token_hash.to_owned())
    }

    /// A report by `reporter` about `reference`: both must have room. The same for every
    /// reference, known or not, so a refusal tells nothing about it.
    pub fn report(&self, reporter: i64, reference: &str) -> Result<(), AppError> {
        self.check(&self.reporters, &reporter)?;
        self.check(&self.references, &reference.to_owned())
    }

    fn check<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K>, key: &K) -> Result<(), AppError> {
        // Now and then, forget keys whose buckets are full again, so memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.writes.retain_recent();
            self.reporters.retain_recent();
            self.references.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            let now = governor::clock::Clock::now(&self.clock);
            let wait = not_until.wait_time_from(now);
            AppError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}
