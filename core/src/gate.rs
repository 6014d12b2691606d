//! The idle-poll gate.
//!
//! The platform rate-limits polls that come less than five seconds apart when the queue
//! is empty. After a fetch that returned `pendingCount == 0`, the next fetch of the same
//! client waits until `min_poll_interval` has passed; a fetch that continues a drain
//! (the previous one said more is pending) goes at once.

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct PollGate {
    interval: Duration,
    idle_since: Mutex<Option<Instant>>,
    /// Wakes waiters when a fetch records its outcome, so that they go at once when it found
    /// events, and wait a full interval from it when it found none.
    recorded: Notify,
}

impl PollGate {
    pub(crate) fn new(interval: Duration) -> Self {
        PollGate { interval, idle_since: Mutex::new(None), recorded: Notify::new() }
    }

    /// Waits, if the last fetch found the queue empty, until the interval has passed.
    ///
    /// Of several fetches waiting at once (two drains on one client), one goes when the
    /// interval is up and the others wait for its outcome: they would all have reached an
    /// empty queue within the same millisecond, and the platform answers every poll after
    /// the first with 429.
    pub(crate) async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        loop {
            // Registered before the state is read, so that a record in between still wakes us.
            let recorded = self.recorded.notified();
            tokio::pin!(recorded);
            recorded.as_mut().enable();
            let ready = {
                let mut idle_since = self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
                let Some(since) = *idle_since else { return };
                // An interval too long to add (Duration::MAX) means no further poll, not a panic.
                let ready = since.checked_add(self.interval);
                let now = Instant::now();
                if ready.is_some_and(|ready| ready <= now) {
                    // This fetch takes the turn; a fetch that comes while it is out waits a
                    // full interval from now, unless its outcome says there are events.
                    *idle_since = Some(now);
                    return;
                }
                ready
            };
            let Some(ready) = ready else { return std::future::pending().await };
            tracing::debug!(wait_ms = (ready - Instant::now()).as_millis() as u64, "idle-poll gate: waiting");
            tokio::select! {
                () = tokio::time::sleep_until(ready) => {}
                () = &mut recorded => {}
            }
        }
    }

    /// Records the outcome of a fetch.
    pub(crate) fn record(&self, pending_count: u64) {
        let mut idle_since = self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
        *idle_since = if pending_count == 0 { Some(Instant::now()) } else { None };
        drop(idle_since);
        self.recorded.notify_waiters();
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
    async fn of_fetches_waiting_together_one_goes_and_the_others_wait_for_its_outcome() {
        let gate = std::sync::Arc::new(PollGate::new(Duration::from_secs(5)));
        let start = Instant::now();
        gate.record(0);
        let waiter = |gate: std::sync::Arc<PollGate>| {
            tokio::spawn(async move {
                gate.wait().await;
                Instant::now()
            })
        };
        let (a, b, c) = (waiter(gate.clone()), waiter(gate.clone()), waiter(gate.clone()));
        tokio::time::sleep(Duration::from_secs(6)).await;
        let finished: Vec<bool> = [&a, &b, &c].iter().map(|t| t.is_finished()).collect();
        assert_eq!(finished.iter().filter(|f| **f).count(), 1, "one fetch went at 5 s: {finished:?}");
        // That fetch found the queue empty again: the next goes 5 s after it answered.
        tokio::time::sleep(Duration::from_secs(1)).await;
        gate.record(0);
        tokio::time::sleep(Duration::from_secs(6)).await;
        let finished = [&a, &b, &c].iter().filter(|t| t.is_finished()).count();
        assert_eq!(finished, 2, "the second went 5 s after the first's outcome");
        // That one found events: whoever waits goes at once.
        gate.record(7);
        tokio::task::yield_now().await;
        let times = [a.await.unwrap(), b.await.unwrap(), c.await.unwrap()];
        let mut offsets: Vec<Duration> = times.iter().map(|t| *t - start).collect();
        offsets.sort();
        assert_eq!(offsets, [Duration::from_secs(5), Duration::from_secs(12), Duration::from_secs(13)]);
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
