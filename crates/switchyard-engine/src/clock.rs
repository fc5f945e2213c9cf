//! Time and identifiers, injected. The only module that reads the clock:
//! everything else is handed `now_ms` by its caller, so a test (or the
//! simulator) can drive time by hand and replay a run exactly.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Where the current time comes from.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that moves only when told: tests advance it instead of sleeping.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now_ms: i64) -> Self {
        Self(AtomicI64::new(now_ms))
    }
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Measures elapsed time for logs and metrics (monotonic; never used in
/// a decision).
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    pub fn start() -> Self {
        Self(std::time::Instant::now())
    }
    pub fn micros(&self) -> u128 {
        self.0.elapsed().as_micros()
    }
}

/// Mints UUIDv7 identifiers from the injected time: 48 bits of
/// milliseconds, a 12-bit sequence that keeps ids minted within one
/// millisecond in order (and carries into the next millisecond when it runs
/// out), and 62 bits from a seeded generator. The same seed and the same
/// times give the same ids; ids from one generator sort as they were made.
#[derive(Debug)]
pub struct IdGen {
    state: Mutex<IdState>,
}

#[derive(Debug)]
struct IdState {
    last_ms: i64,
    seq: u16,
    rng: u64,
}

impl IdGen {
    /// A deterministic generator.
    pub fn seeded(seed: u64) -> Self {
        Self { state: Mutex::new(IdState { last_ms: i64::MIN, seq: 0, rng: seed }) }
    }

    /// A generator seeded from the operating system (production).
    pub fn random() -> Self {
        Self::seeded(rand::random())
    }

    /// A new id at `now_ms`.
    pub fn next(&self, now_ms: i64) -> String {
        let mut s = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if now_ms > s.last_ms {
            s.last_ms = now_ms;
            s.seq = 0;
        } else if s.seq >= 0x0fff {
            s.last_ms += 1;
            s.seq = 0;
        } else {
            s.seq += 1;
        }
        let ms = u64::try_from(s.last_ms.max(0)).unwrap_or(0);
        let random = splitmix64(&mut s.rng);
        let mut tail = [0u8; 10];
        tail[..2].copy_from_slice(&s.seq.to_be_bytes());
        tail[2..].copy_from_slice(&random.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(ms, &tail).into_uuid().to_string()
    }
}

/// SplitMix64: a tiny, well-known generator; enough for the random bits of
/// an id (uniqueness comes from time + sequence + seed).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_the_order_they_were_made_and_replay_from_a_seed() {
        let a = IdGen::seeded(7);
        let ids: Vec<String> = [5, 5, 5, 4, 9].iter().map(|t| a.next(1_700_000_000_000 + t)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "a clock that stands still or steps back still gives increasing ids");
        let b = IdGen::seeded(7);
        let again: Vec<String> = [5, 5, 5, 4, 9].iter().map(|t| b.next(1_700_000_000_000 + t)).collect();
        assert_eq!(ids, again);
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).map(|u| u.get_version_num()) == Ok(7)));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1000);
        assert_eq!(c.now_ms(), 1000);
        c.advance_ms(500);
        assert_eq!(c.now_ms(), 1500);
        c.set(10);
        assert_eq!(c.now_ms(), 10);
    }
}
