//! Pacing what goes out to a channel: exponential backoff with jitter after
//! a failure, and a token bucket for the platform's rate limit. Pure: the
//! time and the random draw come in as arguments.

/// Retries after failures: the delay doubles from `first_ms` up to `max_ms`
/// and is then drawn uniformly from its upper half ("equal jitter"), so
/// many connections failing together do not retry in step; after
/// `max_attempts` failures the message is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first_ms: i64,
    pub max_ms: i64,
    pub max_attempts: i64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first_ms: 1_000, max_ms: 300_000, max_attempts: 8 }
    }
}

impl Backoff {
    /// The delay after the `failures`-th failure in a row (1 = the first),
    /// or `None` when that was the last attempt allowed. `draw` is any
    /// random number; it picks the point in the jitter range.
    pub fn delay_ms(&self, failures: i64, draw: u64) -> Option<i64> {
        if failures >= self.max_attempts {
            return None;
        }
        let shift = u32::try_from(failures.clamp(1, 40) - 1).unwrap_or(0);
        let full = self.first_ms.max(1).saturating_mul(1_i64 << shift).min(self.max_ms.max(1));
        let half = full / 2;
        let span = u64::try_from(full - half).unwrap_or(0) + 1;
        Some(half + i64::try_from(draw % span).unwrap_or(0))
    }
}

/// A token bucket: `requests` every `per_ms` on average, at most `burst` at
/// once. Tokens are counted in thousandths so slow rates (one a minute)
/// stay exact in integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    requests: i64,
    per_ms: i64,
    capacity_milli: i64,
    tokens_milli: i64,
    last_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn new(requests: u32, per_ms: u32, burst: u32, now_ms: i64) -> TokenBucket {
        let capacity_milli = i64::from(burst.max(1)) * 1_000;
        TokenBucket {
            requests: i64::from(requests.max(1)),
            per_ms: i64::from(per_ms.max(1)),
            capacity_milli,
            tokens_milli: capacity_milli,
            last_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: i64) {
        let elapsed = now_ms.saturating_sub(self.last_ms).max(0);
        let gained = elapsed.saturating_mul(self.requests).saturating_mul(1_000) / self.per_ms;
        if gained > 0 {
            self.tokens_milli = self.tokens_milli.saturating_add(gained).min(self.capacity_milli);
            self.last_ms = now_ms;
        }
    }

    /// Takes one request's token: `Ok` to send now, or `Err(wait_ms)`, how
    /// long until one is there.
    pub fn take(&mut self, now_ms: i64) -> Result<(), i64> {
        self.refill(now_ms);
        if self.tokens_milli >= 1_000 {
            self.tokens_milli -= 1_000;
            return Ok(());
        }
        let missing = 1_000 - self.tokens_milli;
        // ms per thousandth of a token = per_ms / (requests * 1000), rounded up.
        let wait = (missing.saturating_mul(self.per_ms) + self.requests * 1_000 - 1) / (self.requests * 1_000);
        Err(wait.max(1))
    }

    /// Empties the bucket until `until_ms` (the platform said 429: it knows
    /// better than our count).
    pub fn pause_until(&mut self, until_ms: i64) {
        self.tokens_milli = 0;
        self.last_ms = self.last_ms.max(until_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_in_the_upper_half_then_gives_up() {
        let b = Backoff { first_ms: 1_000, max_ms: 8_000, max_attempts: 6 };
        assert_eq!(b.delay_ms(1, 0), Some(500));
        assert_eq!(b.delay_ms(1, 500), Some(1_000));
        assert_eq!(b.delay_ms(1, 501), Some(500), "the draw wraps within the range");
        assert_eq!(b.delay_ms(3, 0), Some(2_000));
        assert_eq!(b.delay_ms(5, u64::MAX), Some(4_000 + (u64::MAX % 4_001) as i64));
        assert!(b.delay_ms(5, 7).is_some_and(|d| (4_000..=8_000).contains(&d)), "capped at max_ms");
        assert_eq!(b.delay_ms(6, 0), None);
        let draws: std::collections::BTreeSet<_> = (0..50).map(|d| b.delay_ms(2, d * 37)).collect();
        assert!(draws.len() > 10, "jitter spreads retries: {draws:?}");
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let mut b = TokenBucket::new(2, 1_000, 3, 0);
        assert!(b.take(0).is_ok() && b.take(0).is_ok() && b.take(0).is_ok(), "a burst of 3");
        assert_eq!(b.take(0), Err(500), "2 a second: one every 500 ms");
        assert_eq!(b.take(250), Err(250));
        assert!(b.take(500).is_ok());
        assert_eq!(b.take(500), Err(500));
        assert!(b.take(10_000).is_ok() && b.take(10_000).is_ok() && b.take(10_000).is_ok());
        assert!(b.take(10_000).is_err(), "refills only up to the burst");
    }

    #[test]
    fn slow_rates_are_exact_and_a_pause_holds_every_token() {
        let mut b = TokenBucket::new(1, 60_000, 1, 0);
        assert!(b.take(0).is_ok());
        assert_eq!(b.take(30_000), Err(30_000));
        assert!(b.take(60_000).is_ok());
        let mut fast = TokenBucket::new(10, 1_000, 10, 0);
        fast.pause_until(5_000);
        assert!(fast.take(4_999).is_err(), "paused");
        assert_eq!(fast.take(5_000), Err(100));
        assert!(fast.take(5_100).is_ok());
    }
}
