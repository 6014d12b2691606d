//! What a long-running poller reports about itself.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Mutex;

/// A snapshot of a client's polling health, for readiness probes and dashboards.
///
/// ```
/// # async fn demo(client: smartai_events::AssessmentClient) {
/// let health = client.health();
/// println!("last poll {:?}, {} events handled", health.last_success_at, health.events_handled);
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Health {
    /// When a fetch last succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the last error happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last error's code (`NETWORK`, `DECODE`, ...).
    pub last_error_code: Option<String>,
    /// The last error's message, as [`Error::for_log`](crate::Error::for_log) gives it.
    pub last_error: Option<String>,
    /// Successful fetches.
    pub polls: u64,
    /// `pendingCount` of the last successful fetch.
    pub pending_count: u64,
    /// Events a handler took: it returned without error.
    pub events_handled: u64,
    /// Events the server confirmed as removed.
    pub events_acknowledged: u64,
    /// Events handed to the dead-letter hook.
    pub events_dead_lettered: u64,
    /// Failed calls since the client was built, each counted once: a fetch or acknowledge
    /// after its last retry, a handler call (in `run`, an event retried alone is a call of
    /// its own), a dead-letter hook call, and an acknowledgement a stopped `run` left
    /// unfinished. A `run` cycle can hold several, so this can exceed
    /// [`RunSummary::errors`](crate::RunSummary::errors).
    pub errors: u64,
    /// Failures since the queue last moved: since an acknowledge succeeded or a fetch found
    /// nothing to handle. A fetch that brings events does not end the count, so it keeps
    /// growing while every batch fails in the handler or at the acknowledge; 0 when healthy.
    pub consecutive_failures: u64,
}

#[derive(Debug, Default)]
pub(crate) struct HealthTracker(Mutex<Health>);

impl HealthTracker {
    pub(crate) fn snapshot(&self) -> Health {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Health> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn poll_succeeded(&self, events: usize, pending_count: u64) {
        let mut h = self.lock();
        h.last_success_at = Some(Utc::now());
        h.polls += 1;
        h.pending_count = pending_count;
        // Events fetched are not progress yet: a handler or an acknowledge that fails on
        // every cycle would otherwise read as healthy after each fetch.
        if events == 0 {
            h.consecutive_failures = 0;
        }
    }

    pub(crate) fn handled(&self, events: usize) {
        self.lock().events_handled += events as u64;
    }

    pub(crate) fn acknowledged(&self, events: u64) {
        let mut h = self.lock();
        h.events_acknowledged += events;
        h.consecutive_failures = 0;
    }

    pub(crate) fn dead_lettered(&self, events: usize) {
        self.lock().events_dead_lettered += events as u64;
    }

    pub(crate) fn failed(&self, error: &crate::Error) {
        let mut h = self.lock();
        h.last_error_at = Some(Utc::now());
        h.last_error_code = Some(error.code().as_str().to_string());
        // Health is often served or logged as it is: no response text that may hold candidates' data.
        h.last_error = Some(error.for_log());
        h.errors += 1;
        h.consecutive_failures += 1;
    }
}
