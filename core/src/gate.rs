//! The idle-poll gate.
//!
//! The platform rate-limits polls that come less than five seconds apart when the queue
//! is empty. After a fetch that returned `pendingCount == 0`, the next fetch of the same
//! client waits until `min_poll_interval` has passed; a fetch that continues a drain
//! (the previous one said more is pending) goes at once.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct PollGate {
    interval: Duration,
    idle_since: Mutex<Option<Instant>>,
}

impl PollGate {
    pub(crate) fn new(interval: Duration) -> Self {
        PollGate { interval, idle_since: Mutex::new(None) }
    }

    /// Waits, if the last fetch found the queue empty, until the interval has passed.
    pub(crate) async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let idle_since = *self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(since) = idle_since {
            // An interval too long to add (Duration::MAX) means no further poll, not a panic.
            let Some(ready) = since.checked_add(self.interval) else {
                return std::future::pending().await;
            };
            if ready > Instant::now() {
                tracing::debug!(wait_ms = (ready - Instant::now()).as_millis() as u64, "idle-poll gate: waiting");
                tokio::time::sleep_until(ready).await;
            }
        }
    }

    /// Records the outcome of a fetch.
    pub(crate) fn record(&self, pending_count: u64) {
        let mut idle_since = self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
        *idle_since = if pending_count == 0 { Some(Instant::now()) } else { None };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_interval_too_long_to_add_waits_rather_than_panics() {
        let gate = PollGate::new(Duration::MAX);
        gate.record(0);
        let waited = tokio::time::timeout(Duration::from_secs(86_400 * 365), gate.wait()).await;
        assert!(waited.is_err(), "still waiting after a year");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_only_after_an_empty_fetch() {
        let gate = PollGate::new(Duration::from_secs(5));
        let start = Instant::now();
        gate.wait().await;
        assert_eq!(Instant::now(), start, "first fetch goes at once");

        gate.record(3);
        gate.wait().await;
        assert_eq!(Instant::now(), start, "a drain continues at once");

        gate.record(0);
        gate.wait().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_interval_never_waits() {
        let gate = PollGate::new(Duration::ZERO);
        gate.record(0);
        let start = Instant::now();
        gate.wait().await;
        assert_eq!(Instant::now(), start);
    }
}
