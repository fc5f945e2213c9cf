//! Limits and guards every request passes: the time limit, the security
//! headers, and the limit on failed authentication per client address: after `max`
//! wrong tokens within `window_ms`, the address gets 429 (with
//! `Retry-After`) until the window that began with its first failure ends.
//!
//! Hand-written rather than a rate-limiting crate because it must count
//! failures only (a busy, correctly authenticated integration is never
//! slowed) and run on the engine's injected clock, so tests step time
//! instead of sleeping. Memory is bounded: at most `MAX_TRACKED`
//! addresses; past that, expired entries are dropped first and, if all are
//! live, new addresses are treated as over the limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use switchyard_engine::Code;

use crate::ApiError;

const MAX_TRACKED: usize = 100_000;

#[derive(Debug)]
pub struct FailureLimiter {
    max: u32,
    window_ms: i64,
    seen: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl FailureLimiter {
    pub fn new(max: u32, window_ms: i64) -> Self {
        Self { max: max.max(1), window_ms: window_ms.max(1), seen: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (i64, u32)>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Seconds until `ip` may try again, if it is over the limit at `now_ms`.
    pub fn blocked(&self, ip: IpAddr, now_ms: i64) -> Option<u64> {
        let seen = self.lock();
        if !seen.contains_key(&ip) && seen.len() >= MAX_TRACKED {
            return Some(1);
        }
        let &(start, count) = seen.get(&ip)?;
        let ends = start.saturating_add(self.window_ms);
        (count >= self.max && now_ms < ends).then(|| (ends - now_ms + 999).div_euclid(1000) as u64)
    }

    /// Counts one failure of `ip` at `now_ms`.
    pub fn record(&self, ip: IpAddr, now_ms: i64) {
        let mut seen = self.lock();
        if seen.len() >= MAX_TRACKED && !seen.contains_key(&ip) {
            let window = self.window_ms;
            seen.retain(|_, (start, _)| now_ms < start.saturating_add(window));
            if seen.len() >= MAX_TRACKED {
                return;
            }
        }
        let entry = seen.entry(ip).or_insert((now_ms, 0));
        if now_ms >= entry.0.saturating_add(self.window_ms) {
            *entry = (now_ms, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// Middleware: a request that has not been answered within `limit` gets
/// 408 `request_timeout` (a write already handed to the engine's writer
/// still commits or rolls back on its own; it is simply not acknowledged).
pub async fn time_limit(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(Code::RequestTimeout, format!("the request took longer than {} s", limit.as_secs()))
            .into_response(),
    }
}

/// The headers every answer carries: no framing, no MIME sniffing, no
/// referrer leaks, and a content policy that allows only our own styles,
/// scripts and forms.
pub async fn security_headers(mut res: Response) -> Response {
    const HEADERS: [(&str, &str); 5] = [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    let headers = res.headers_mut();
    for (name, value) in HEADERS {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_max_failures_until_its_window_ends() {
        let l = FailureLimiter::new(3, 60_000);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for t in [0, 1_000, 2_000] {
            assert_eq!(l.blocked(a, t), None);
            l.record(a, t);
        }
        assert_eq!(l.blocked(a, 2_500), Some(58));
        assert_eq!(l.blocked(b, 2_500), None, "another address is not affected");
        assert_eq!(l.blocked(a, 59_999), Some(1));
        assert_eq!(l.blocked(a, 60_000), None, "the window has ended");
        l.record(a, 60_000);
        assert_eq!(l.blocked(a, 60_001), None, "a new window counts from zero");
    }
}
