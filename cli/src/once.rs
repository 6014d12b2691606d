//! `--once`: drain until the platform reports `pendingCount == 0`, then return.
//!
//! Built on the core's `Batches` (the engine behind `drain`), because it reports
//! `pendingCount` with every batch, which gives the progress bar its total, and because
//! a stop can be honoured between batches. Acknowledgement timing is the core's: a batch
//! is acknowledged when the next one is asked for, or by the final `commit`.

use crate::output::Output;
use serde_json::json;
use smartai_events::{AssessmentClient, DrainOptions, DrainSummary, WebhookEvent};
use std::future::Future;
use tokio_util::sync::CancellationToken;

/// Consecutive transient failures (after the client's own retries) before `--once` gives up.
const MAX_CONSECUTIVE_FAILURES: u32 = 8;

/// How long an acknowledge in progress may still take once a stop was asked for: the
/// core's, as for `run`.
use smartai_events::STOP_GRACE;

#[allow(dead_code)] // `stopped` is for callers that care; the status line reports it.
pub struct Drained {
    pub summary: DrainSummary,
    /// Whether a stop signal ended the drain early.
    pub stopped: bool,
}

/// Drains with `handle` called on each batch; the batch is acknowledged only after `handle`
/// returned `Ok`. A handler error ends the drain with nothing of that batch acknowledged.
pub async fn drain<F, Fut>(
    client: &AssessmentClient,
    options: DrainOptions,
    stop: &CancellationToken,
    out: &Output,
    progress: bool,
    verb: &str,
    mut handle: F,
) -> anyhow::Result<Drained>
where
    F: FnMut(Vec<WebhookEvent>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let bar = out.progress_bar(progress);
    let mut batches = client.batches(options);
    let mut handled: u64 = 0;
    let mut failures: u32 = 0;
    let mut stopped = false;
    let policy = *client.config().retry();
    loop {
        // Flush what is owed first. A stop does not cut an acknowledge short at once, but gives
        // it STOP_GRACE, not every retry: against a platform that hangs, the process would
        // otherwise outlive its stop by minutes. What is not acknowledged comes back later.
        let flushed = batches.commit_or_stop(stop.cancelled(), STOP_GRACE).await;
        match flushed {
            Some(Ok(())) => {}
            Some(Err(e)) if !stop.is_cancelled() => {
                failures += 1;
                if !e.is_transient() || failures >= MAX_CONSECUTIVE_FAILURES {
                    bar.abandon();
                    return Err(e.into());
                }
                tracing::warn!(error = %e, "acknowledge failed; trying again");
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(policy.backoff(failures - 1, e.retry_after())) => {}
                }
                continue;
            }
            unfinished => {
                let error = unfinished.and_then(Result::err).map(|e| e.to_string());
                tracing::warn!(
                    error = error.as_deref().unwrap_or("still waiting after the grace period"),
                    "stopped before the last batch was acknowledged; the platform delivers it again"
                );
                stopped = true;
                break;
            }
        }
        if stop.is_cancelled() {
            stopped = true;
            break;
        }
        let next = tokio::select! {
            biased;
            _ = stop.cancelled() => { stopped = true; break; }
            next = batches.next_batch() => next,
        };
        let batch = match next {
            Ok(Some(batch)) => batch,
            Ok(None) => break,
            Err(e) if e.is_transient() && failures + 1 < MAX_CONSECUTIVE_FAILURES => {
                failures += 1;
                let wait = policy.backoff(failures - 1, e.retry_after()).max(client.config().min_poll_interval());
                tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "fetch failed; trying again");
                tokio::select! {
                    _ = stop.cancelled() => { stopped = true; break; }
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
            Err(e) => {
                bar.abandon();
                return Err(e.into());
            }
        };
        failures = 0;
        let count = batch.events.len() as u64;
        bar.set_length(handled + count + batch.pending_count);
        if let Err(e) = handle(batch.events).await {
            // Nothing of this batch is acknowledged; the platform hands it out again.
            batches.abandon();
            if stop.is_cancelled() {
                // Cut short by the stop (a write given up after its grace), not a failure.
                tracing::info!(events = count, error = %crate::output::message(&e), "the batch in hand was not finished before the stop; its events stay unacknowledged");
                stopped = true;
                break;
            }
            bar.abandon();
            return Err(e);
        }
        handled += count;
        bar.set_position(handled);
    }
    bar.finish_and_clear();
    let summary = batches.summary();
    // A batch cut short by the stop was received but not taken.
    let taken =
        if handled == summary.events { handled.to_string() } else { format!("{handled} of {}", summary.events) };
    let human = format!(
        "{verb} {taken} events in {} batches; {} acknowledged; {}",
        summary.batches,
        summary.acknowledged,
        if stopped { "stopped by signal".to_string() } else { format!("{} pending", summary.pending_count) }
    );
    out.status(
        None,
        human,
        json!({
            "type": "drained",
            "events": summary.events,
            "handled": handled,
            "batches": summary.batches,
            "acknowledged": summary.acknowledged,
            "pendingCount": summary.pending_count,
            "stopped": stopped,
        }),
    );
    Ok(Drained { summary, stopped })
}
