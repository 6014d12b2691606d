//! One status line per poll cycle of the long-running poller.
//!
//! The core's `run` loop does not report cycle boundaries to its caller, so this watches
//! the client's `health()` counters instead: when polls happened and every counter has
//! been still for a moment (the drain ended and the poller is waiting), it prints one line
//! for what happened since the previous line. A long drain gives one line at its end.

use crate::output::Output;
use indicatif::ProgressBar;
use serde_json::json;
use smartai_events::{AssessmentClient, Health};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const TICK: Duration = Duration::from_millis(100);

/// Starts the reporter; it ends when `done` is cancelled, after a last line if needed.
pub fn spawn(
    client: AssessmentClient,
    out: Output,
    bar: ProgressBar,
    verb: &'static str,
    settle: Duration,
    done: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reported = client.health();
        let mut seen = reported.clone();
        let mut still_since = Instant::now();
        loop {
            let finished = tokio::select! {
                _ = done.cancelled() => true,
                _ = tokio::time::sleep(TICK) => false,
            };
            let now = client.health();
            if key(&now) != key(&seen) {
                still_since = Instant::now();
                bar.set_position(now.events_handled - reported.events_handled);
                seen = now.clone();
            }
            let settled = still_since.elapsed() >= settle || finished;
            if settled && key(&now) != key(&reported) {
                line(&out, &bar, verb, &reported, &now);
                bar.set_position(0);
                reported = now;
            }
            if finished {
                bar.finish_and_clear();
                return;
            }
        }
    })
}

fn key(h: &Health) -> (u64, u64, u64, u64) {
    (h.polls, h.events_handled, h.events_dead_lettered, h.errors)
}

fn line(out: &Output, bar: &ProgressBar, verb: &str, before: &Health, now: &Health) {
    let handled = now.events_handled - before.events_handled;
    let dead = now.events_dead_lettered - before.events_dead_lettered;
    let errors = now.errors - before.errors;
    let mut human = if handled == 0 && dead == 0 {
        "polled: no new events".to_string()
    } else {
        format!("{verb} {handled} events")
    };
    if dead > 0 {
        human.push_str(&format!(", {dead} dead-lettered"));
    }
    human.push_str(&format!(" · {} in total", now.events_handled));
    if errors > 0 {
        human.push_str(&format!(" · {errors} errors, last: {}", now.last_error.as_deref().unwrap_or("?")));
    }
    out.status(
        Some(bar),
        human,
        json!({
            "type": "cycle",
            "events": handled,
            "deadLettered": dead,
            "errors": errors,
            "lastError": if errors > 0 { now.last_error.clone() } else { None },
            "totalEvents": now.events_handled,
            "totalAcknowledged": now.events_acknowledged,
            "polls": now.polls,
        }),
    );
}
