//! Submission limits per link (a QR poster, a web link, a kiosk), not per IP address: a school
//! or a hospital often reaches the internet through one public address, so an address limit
//! would shut out a whole building, while a link limit stops a script hammering one poster's
//! code and leaves every other link alone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per link: `burst` submissions at once, refilled at `per_minute`.
pub struct LinkLimiter {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets kept before idle (full) ones are dropped; bounds memory whatever links arrive.
const MAX_BUCKETS: usize = 100_000;

impl LinkLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        LinkLimiter {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one submission from `link`'s allowance; false when it has none left.
    pub fn try_take(&self, link: &str) -> bool {
        self.try_take_at(link, Instant::now())
    }

    fn try_take_at(&self, link: &str, now: Instant) -> bool {
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_BUCKETS {
            let (per_minute, burst) = (self.per_minute, self.burst);
            buckets.retain(|_, b| refilled(b, now, per_minute, burst) < burst);
        }
        let bucket = buckets.entry(link.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        bucket.tokens = refilled(bucket, now, self.per_minute, self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn refilled(bucket: &Bucket, now: Instant, per_minute: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    (bucket.tokens + elapsed * per_minute / 60.0).min(burst)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_link_gets_its_burst_then_its_rate_and_other_links_are_unaffected() {
        let limiter = LinkLimiter::new(60, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.try_take_at("poster-a", t0));
        }
        assert!(!limiter.try_take_at("poster-a", t0), "burst used up");
        assert!(
            limiter.try_take_at("poster-b", t0),
            "another link has its own allowance"
        );
        assert!(!limiter.try_take_at("poster-a", t0 + Duration::from_millis(500)));
        assert!(
            limiter.try_take_at("poster-a", t0 + Duration::from_millis(1100)),
            "one per second refills"
        );
        assert!(limiter.try_take_at("poster-a", t0 + Duration::from_secs(600)));
    }
}
