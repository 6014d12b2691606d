//! One status line per poll cycle of the long-running poller, from the core's cycle report.

use crate::output::Output;
use indicatif::ProgressBar;
use serde_json::json;
use smartai_events::{AssessmentClient, CycleReport, Health, RunSummary};

/// A `RunOptions::on_cycle` hook that prints what each cycle did.
pub fn cycle_hook(
    client: AssessmentClient,
    out: Output,
    bar: ProgressBar,
    verb: &'static str,
) -> impl FnMut(&CycleReport) + Send + 'static {
    let mut before = client.health();
    move |report: &CycleReport| {
        let now = client.health();
        // Handed out is not handled: a batch the store refused was handed out too.
        let handed_out = report.drain.events;
        let handled = now.events_handled - before.events_handled;
        let dead = now.events_dead_lettered - before.events_dead_lettered;
        let mut human = if handed_out == 0 && dead == 0 {
            "polled: no new events".to_string()
        } else {
            format!("{verb} {handled} events")
        };
        let failed = handed_out.saturating_sub(handled + dead);
        if failed > 0 {
            human.push_str(&format!(", {failed} failed and stay queued"));
        }
        if dead > 0 {
            human.push_str(&format!(", {dead} dead-lettered"));
        }
        human.push_str(&format!(" · {} in total", now.events_handled));
        if report.drain.pending_count > 0 {
            human.push_str(&format!(" · {} pending", report.drain.pending_count));
        }
        if let Some(error) = &report.error {
            human.push_str(&format!(" · error: {error}"));
        }
        out.status(
            Some(&bar),
            human,
            json!({
                "type": "cycle",
                "cycle": report.cycle,
                "events": handed_out,
                "handled": handled,
                "batches": report.drain.batches,
                "acknowledged": report.drain.acknowledged,
                "pendingCount": report.drain.pending_count,
                "deadLettered": dead,
                "error": report.error,
                "totalEvents": now.events_handled,
                "totalAcknowledged": now.events_acknowledged,
                "polls": now.polls,
            }),
        );
        before = now;
    }
}

/// The line a poller prints when the process stops. As in [`cycle_hook`], handed out is
/// not handled: `before` is the client's health when the poller began, so that a batch the
/// handler failed, or that the stop cut short, is received but not counted as `verb`.
pub fn stopped(out: &Output, client: &AssessmentClient, before: &Health, summary: &RunSummary, verb: &str) {
    let handled = client.health().events_handled - before.events_handled;
    out.status(
        None,
        format!(
            "stopped after {} cycles: {} events received, {handled} {verb}, {} acknowledged",
            summary.cycles, summary.events, summary.acknowledged
        ),
        json!({
            "type": "stopped",
            "cycles": summary.cycles,
            "events": summary.events,
            "handled": handled,
            "acknowledged": summary.acknowledged,
            "errors": summary.errors,
        }),
    );
}
