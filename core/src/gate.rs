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
    last: Mutex<Last>,
    /// Wakes waiters when a fetch records its outcome, so that they go at once when it found
    /// events, and wait a full interval from it when it found none.
    recorded: Notify,
}

/// What the client knows of the queue from its own fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// No fetch has answered yet: the queue may well be empty.
    Unknown,
    /// The last fetch brought events or said more are pending: fetches go at once.
    Events,
    /// The last fetch found the queue empty at this time, or one has been out since then.
    Empty(Instant),
}

impl PollGate {
    pub(crate) fn new(interval: Duration) -> Self {
        PollGate { interval, last: Mutex::new(Last::Unknown), recorded: Notify::new() }
    }

    /// Waits, if the last fetch found the queue empty, until the interval has passed.
    ///
    /// Of several fetches waiting at once (two drains on one client), one goes when the
    /// interval is up and the others wait for its outcome: they would all have reached an
    /// empty queue within the same millisecond, and the platform answers every poll after
    /// the first with 429. So do the first fetches of a new client, which knows nothing of
    /// the queue yet. The outcome is given to the returned [`Turn`]; a turn dropped without
    /// one (the fetch failed or was cancelled) gives the gate back as it was.
    pub(crate) async fn wait(&self) -> Turn<'_> {
        Turn { gate: self, claim: self.claim().await }
    }

    /// Waits as [`PollGate::wait`] says; `Some((previous, claimed_at))` if this fetch took
    /// the turn, which others then wait for.
    async fn claim(&self) -> Option<(Last, Instant)> {
        if self.interval.is_zero() {
            return None;
        }
        loop {
            // Registered before the state is read, so that a record in between still wakes us.
            let recorded = self.recorded.notified();
            tokio::pin!(recorded);
            recorded.as_mut().enable();
            let ready = {
                let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                // An interval too long to add (Duration::MAX) means no further poll, not a panic.
                let ready = match *last {
                    Last::Events => return None,
                    Last::Unknown => Some(now),
                    Last::Empty(since) => since.checked_add(self.interval),
                };
                if ready.is_some_and(|ready| ready <= now) {
                    // This fetch takes the turn; a fetch that comes while it is out waits a
                    // full interval from now, unless its outcome says there are events.
                    let previous = std::mem::replace(&mut *last, Last::Empty(now));
                    return Some((previous, now));
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
    fn record(&self, pending_count: u64) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = if pending_count == 0 { Last::Empty(Instant::now()) } else { Last::Events };
        drop(last);
        self.recorded.notify_waiters();
    }
}

/// A fetch's pass through the gate, until its outcome is recorded.
pub(crate) struct Turn<'a> {
    gate: &'a PollGate,
    claim: Option<(Last, Instant)>,
}

impl Turn<'_> {
    /// The fetch succeeded with this `pendingCount`.
    pub(crate) fn record(mut self, pending_count: u64) {
        self.claim = None;
        self.gate.record(pending_count);
    }
}

impl Drop for Turn<'_> {
    /// No outcome: the fetch failed or was cancelled, and says nothing about the queue. The
    /// next fetch goes as it would have without this one, unless another fetch has recorded
    /// an outcome since.
    fn drop(&mut self) {
        let Some((previous, claimed_at)) = self.claim.take() else { return };
        let mut last = self.gate.last.lock().unwrap_or_else(|p| p.into_inner());
        if *last == Last::Empty(claimed_at) {
            *last = previous;
        }
        drop(last);
        self.gate.recorded.notify_waiters();
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
        let turn = gate.wait().await;
        assert_eq!(Instant::now(), start, "first fetch goes at once");

        turn.record(3);
        let turn = gate.wait().await;
        assert_eq!(Instant::now(), start, "a drain continues at once");

        turn.record(0);
        drop(gate.wait().await);
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn of_fetches_waiting_together_one_goes_and_the_others_wait_for_its_outcome() {
        use tokio::sync::{mpsc, oneshot};
        let gate = std::sync::Arc::new(PollGate::new(Duration::from_secs(5)));
        let start = Instant::now();
        gate.wait().await.record(0);
        // Each fetch reports when it went, then holds its turn until told its outcome
        // (`None`: it failed).
        let (went_tx, mut went) = mpsc::unbounded_channel::<(usize, Duration)>();
        let mut outcomes = Vec::new();
        for i in 0..3 {
            let (outcome_tx, outcome) = oneshot::channel::<Option<u64>>();
            outcomes.push(Some(outcome_tx));
            let (gate, went_tx) = (gate.clone(), went_tx.clone());
            tokio::spawn(async move {
                let turn = gate.wait().await;
                went_tx.send((i, Instant::now() - start)).unwrap();
                if let Some(pending_count) = outcome.await.unwrap() {
                    turn.record(pending_count);
                }
            });
        }
        let mut tell = |i: usize, outcome: Option<u64>| outcomes[i].take().unwrap().send(outcome).unwrap();

        let (first, at) = went.recv().await.unwrap();
        assert_eq!(at, Duration::from_secs(5), "one goes when the interval is up");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(went.try_recv().is_err(), "the others wait for its outcome");
        // It found the queue empty: the next goes 5 s after its answer.
        tell(first, Some(0));
        let (second, at) = went.recv().await.unwrap();
        assert_eq!(at, Duration::from_secs(11));
        // That one fails: it says nothing about the queue, so the last goes at once.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(went.try_recv().is_err());
        tell(second, None);
        let (third, at) = went.recv().await.unwrap();
        assert_eq!(at, Duration::from_secs(12));
        // It found events: a fetch after it goes at once.
        tell(third, Some(7));
        tokio::task::yield_now().await;
        let before = Instant::now();
        drop(gate.wait().await);
        assert_eq!(Instant::now(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fetch_that_fails_or_is_cancelled_leaves_the_gate_as_it_was() {
        let gate = PollGate::new(Duration::from_secs(5));
        gate.wait().await.record(0);
        tokio::time::sleep(Duration::from_secs(5)).await;
        // Took the turn, then failed (dropped without an outcome).
        drop(gate.wait().await);
        let before = Instant::now();
        drop(gate.wait().await);
        assert_eq!(Instant::now(), before, "the next fetch goes at once");
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_fetches_of_a_new_client_wait_for_the_first_answer() {
        let gate = std::sync::Arc::new(PollGate::new(Duration::from_secs(5)));
        let start = Instant::now();
        let first = gate.wait().await;
        assert_eq!(Instant::now(), start, "the first goes at once");
        let second = tokio::spawn({
            let gate = gate.clone();
            async move {
                drop(gate.wait().await);
                Instant::now() - start
            }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!second.is_finished(), "the second waits for the first's answer");
        first.record(7);
        assert_eq!(second.await.unwrap(), Duration::from_secs(1), "events: it goes at once");
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
