//! The signing clock: the local clock plus an offset learned from the server's `Date`.
//!
//! The platform refuses timestamps outside its window, so a client whose clock drifted
//! would fail every request. Every response's `Date` header tells the server's time; after
//! a 401, if the two clocks differ by more than [`SKEW_THRESHOLD_MS`], the client adopts
//! the server's clock and signs again.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Clock differences below this are left alone (the `Date` header has 1 s resolution).
pub const SKEW_THRESHOLD_MS: i64 = 30_000;

/// The local clock corrected by a learned offset. Shared by all requests of a client.
#[derive(Debug, Default)]
pub struct SkewClock {
    offset_ms: AtomicI64,
    last_server_delta_ms: AtomicI64,
}

impl SkewClock {
    /// The local wall clock in Unix milliseconds.
    pub fn local_now_ms() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }

    /// The corrected clock in Unix milliseconds; this is what gets signed.
    pub fn now_ms(&self) -> i64 {
        Self::local_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The offset in milliseconds currently applied.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Records the `Date` header of a response.
    pub fn observe_date(&self, date_header: &str) {
        if let Ok(server) = httpdate::parse_http_date(date_header.trim()) {
            let server_ms = server.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
            self.last_server_delta_ms.store(server_ms - Self::local_now_ms(), Ordering::Relaxed);
        }
    }

    /// After a 401: adopts the server's clock if it differs from ours by more than the
    /// threshold. Returns whether the offset changed, that is whether a re-signed retry
    /// could succeed.
    pub fn correct_after_auth_failure(&self) -> bool {
        let delta = self.last_server_delta_ms.load(Ordering::Relaxed);
        let current = self.offset_ms.load(Ordering::Relaxed);
        if (delta - current).abs() > SKEW_THRESHOLD_MS {
            self.offset_ms.store(delta, Ordering::Relaxed);
            tracing::warn!(offset_ms = delta, "local clock differs from the server's; signing with the server's clock");
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn adopts_a_large_skew_only() {
        let clock = SkewClock::default();
        let ahead = SystemTime::now() + Duration::from_secs(600);
        clock.observe_date(&httpdate::fmt_http_date(ahead));
        assert!(clock.correct_after_auth_failure());
        assert!((clock.offset_ms() - 600_000).abs() < 2_000);
        // Once corrected, the same observation is no reason to retry again.
        assert!(!clock.correct_after_auth_failure());

        let fresh = SkewClock::default();
        fresh.observe_date(&httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5)));
        assert!(!fresh.correct_after_auth_failure());
        assert_eq!(fresh.offset_ms(), 0);
    }
}
