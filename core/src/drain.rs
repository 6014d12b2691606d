//! `drain`: fetch → handler → acknowledge, until the queue is empty.

use crate::batches::{Batches, DrainOptions, DrainSummary, within_grace};
use crate::client::AssessmentClient;
use crate::error::{Error, Result};
use crate::handler::{DeadLetterHook, Handler};
use crate::queue_event::QueueEvent;
use crate::stop::Stop;
use std::collections::HashMap;

impl AssessmentClient {
    /// Drains the queue: fetches a batch, awaits `handler` with it, acknowledges it, and
    /// repeats while the platform reports more pending.
    ///
    /// A batch is acknowledged only after the handler returned `Ok`. If the handler fails,
    /// nothing of that batch is acknowledged, the drain stops and returns
    /// [`Error::Handler`] with the handler's error as its source; the platform delivers those
    /// events again (at-least-once). If an acknowledge fails after its retries, the drain
    /// stops with that error. Within one drain no event ID is handed to the handler twice
    /// (among the last [`DEDUPE_WINDOW`](crate::DEDUPE_WINDOW) it handed out).
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// use smartai_events::{DrainOptions, WebhookEvent};
    /// let summary = client
    ///     .drain(|events: Vec<WebhookEvent>| async move {
    ///         for event in events {
    ///             println!("saving {}", event.event_id()); // upsert on event_id
    ///         }
    ///         Ok::<(), std::io::Error>(())
    ///     }, DrainOptions::default())
    ///     .await?;
    /// println!("{} events in {} batches", summary.events, summary.batches);
    /// # Ok(()) }
    /// ```
    pub async fn drain<H: Handler>(&self, handler: H, options: DrainOptions) -> Result<DrainSummary> {
        self.drain_as(handler, options).await
    }

    /// [`AssessmentClient::drain`] with the events as `E`, for example
    /// [`RawEvent`](crate::RawEvent)s, which are checked but not built: the way to go for a
    /// handler that stores or forwards the JSON as it came.
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// use smartai_events::{DrainOptions, RawEvent};
    /// client
    ///     .drain_as(|events: Vec<RawEvent>| async move {
    ///         for event in &events {
    ///             println!("{} {}", event.event_id(), event.raw_json());
    ///         }
    ///         Ok::<(), std::io::Error>(())
    ///     }, DrainOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn drain_as<E: QueueEvent, H: Handler<E>>(
        &self,
        mut handler: H,
        options: DrainOptions,
    ) -> Result<DrainSummary> {
        options.validate()?;
        let mut batches = self.batches_as::<E>(options);
        let mut stop = Stop::never();
        // Closing abandons the batch in hand, handler and all: it is not acknowledged.
        self.until_closed(drive(self, &mut batches, &mut handler, None, &mut stop)).await?;
        Ok(batches.summary())
    }

    /// The queue as a sequence of batches; see [`Batches`] for when each is acknowledged.
    pub fn batches(&self, options: DrainOptions) -> Batches {
        self.batches_as(options)
    }

    /// [`AssessmentClient::batches`] with the events as `E`, for example
    /// [`RawEvent`](crate::RawEvent)s.
    pub fn batches_as<E: QueueEvent>(&self, options: DrainOptions) -> Batches<E> {
        Batches::new(self.clone(), options)
    }
}

/// Counts handler failures per event across the cycles of `run`.
///
/// Only a failure of an event handled on its own counts as an attempt: when a batch fails,
/// nobody knows which event was at fault, so its events are only marked as suspects and
/// handled one at a time next cycle. An innocent event then succeeds and is forgotten; the
/// poison one fails alone, `max_attempts` times, and goes to the dead-letter hook.
pub(crate) struct Attempts {
    max_attempts: u32,
    /// Per event: failures alone, the last reason, and the cycle it was last seen in.
    failures: HashMap<String, (u32, String, u64)>,
    cycle: u64,
}

/// An event that failed and then was not fetched for this many cycles of `run` (another
/// consumer acknowledged it, or it expired) is forgotten, so that a poller that runs for
/// months does not keep every such ID. Should it come back, its count starts again: more
/// attempts before the dead-letter hook, never fewer.
pub(crate) const FORGET_AFTER_CYCLES: u64 = 1_000;

impl Attempts {
    pub(crate) fn new(max_attempts: u32) -> Self {
        Attempts { max_attempts, failures: HashMap::new(), cycle: 0 }
    }

    /// Called as each cycle of `run` starts.
    pub(crate) fn next_cycle(&mut self) {
        self.cycle += 1;
        // A pass over the map now and then is enough to bound it.
        if self.cycle.is_multiple_of(64) {
            let cycle = self.cycle;
            self.failures.retain(|_, (_, _, seen)| cycle - *seen <= FORGET_AFTER_CYCLES);
        }
    }

    /// `None` for an event that never failed; `Some(n)` for a suspect that failed alone `n`
    /// times. Marks the event as seen in this cycle.
    fn failure_count(&mut self, id: &str) -> Option<u32> {
        let cycle = self.cycle;
        self.failures.get_mut(id).map(|(n, _, seen)| {
            *seen = cycle;
            *n
        })
    }

    fn reason(&self, id: &str) -> &str {
        self.failures.get(id).map_or("", |(_, reason, _)| reason.as_str())
    }

    fn failed(&mut self, ids: &[String], reason: &str) {
        let alone = ids.len() == 1;
        for id in ids {
            let entry = self.failures.entry(id.clone()).or_insert((0, String::new(), self.cycle));
            if alone {
                entry.0 += 1;
            }
            entry.1 = reason.to_string();
            entry.2 = self.cycle;
        }
    }

    fn forget(&mut self, ids: &[String]) {
        if !self.failures.is_empty() {
            for id in ids {
                self.failures.remove(id);
            }
        }
    }
}

/// Dead-letter state of a `run`: the attempt counts and the optional hook.
pub(crate) struct DeadLetters<'a, E: QueueEvent> {
    pub attempts: &'a mut Attempts,
    pub hook: Option<&'a mut (dyn DeadLetterHook<E> + 'static)>,
}

/// How a drive ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    Drained,
    Stopped,
}

/// The loop behind `drain` and every cycle of `run`.
///
/// Stop is honoured only where nothing is owed: before a fetch (which it aborts), never
/// inside the handler or an acknowledge. So a stop lets the batch in hand finish, sends
/// its acknowledgement, and ends.
///
/// With dead-letter state (`run`), events that failed before are handed to the handler one
/// at a time, so that one poison event cannot hold back, or drag into the dead-letter hook,
/// the events that happened to share its batch; what was handled is acknowledged and what
/// failed is not.
pub(crate) async fn drive<E: QueueEvent, H: Handler<E> + ?Sized>(
    client: &AssessmentClient,
    batches: &mut Batches<E>,
    handler: &mut H,
    mut dead: Option<DeadLetters<'_, E>>,
    stop: &mut Stop,
) -> Result<Ended> {
    loop {
        settle(client, batches, stop).await?;
        if stop.fired() {
            return Ok(Ended::Stopped);
        }
        let next = tokio::select! {
            biased;
            _ = stop.wait() => return Ok(Ended::Stopped),
            next = batches.advance() => next?,
        };
        let Some(batch) = next else { return Ok(Ended::Drained) };
        let Some(dl) = dead.as_mut() else {
            // drain: all or nothing per batch.
            let count = batch.events.len();
            let Some(result) = stop.unless_forced(handler.handle(batch.events)).await else {
                batches.abandon();
                ended_by_close("handler", count);
                return Ok(Ended::Stopped);
            };
            if let Err(source) = result {
                batches.abandon();
                if stop.fired() {
                    ended_by_stop("handler", source, count);
                    return Ok(Ended::Stopped);
                }
                // The error goes to the caller (a drain's, or run's, which logs it).
                let error = Error::handler(source);
                client.inner.health.failed(&error);
                return Err(error);
            }
            client.inner.health.handled(count);
            continue;
        };

        let mut fresh = Vec::new();
        let mut suspects = Vec::new();
        let mut exhausted = Vec::new();
        for event in batch.events {
            match dl.attempts.failure_count(event.event_id()) {
                None => fresh.push(event),
                Some(n) if n >= dl.attempts.max_attempts => exhausted.push(event),
                Some(_) => suspects.push(event),
            }
        }
        let mut first_error = None;
        if !exhausted.is_empty() {
            match dl.hook.as_deref_mut() {
                Some(hook) => {
                    let reason = dl.attempts.reason(exhausted[0].event_id()).to_string();
                    let ids = ids_of(&exhausted);
                    tracing::warn!(events = ids.len(), "handing events that kept failing to the dead-letter hook");
                    match stop.unless_forced(hook.dead_letter(exhausted, reason)).await {
                        None => {
                            ended_by_close("dead-letter hook", ids.len());
                            batches.release(&ids);
                        }
                        Some(Ok(())) => {
                            dl.attempts.forget(&ids);
                            client.inner.health.dead_lettered(ids.len());
                        }
                        Some(Err(source)) if stop.fired() => {
                            ended_by_stop("dead-letter hook", source, ids.len());
                            batches.release(&ids);
                        }
                        Some(Err(source)) => {
                            // Those events stay unacknowledged; the rest of the batch is still
                            // handled, so that a hook that cannot take one event does not
                            // hold back the queue behind it.
                            let error = Error::handler(source);
                            tracing::warn!(events = ids.len(), error = %error, "the dead-letter hook failed; those events stay unacknowledged");
                            client.inner.health.failed(&error);
                            batches.release(&ids);
                            first_error = Some(error);
                        }
                    }
                }
                None => {
                    tracing::error!(
                        events = exhausted.len(),
                        "events keep failing and no dead-letter hook is set; retrying them"
                    );
                    suspects.extend(exhausted);
                }
            }
        }

        let mut groups: Vec<Vec<E>> = Vec::with_capacity(1 + suspects.len());
        if !fresh.is_empty() {
            groups.push(fresh);
        }
        groups.extend(suspects.into_iter().map(|e| vec![e]));
        for group in groups {
            let ids = ids_of(&group);
            if stop.fired() {
                // Stopped between two groups: what is not handled yet is not acknowledged.
                batches.release(&ids);
                continue;
            }
            let Some(result) = stop.unless_forced(handler.handle(group)).await else {
                ended_by_close("handler", ids.len());
                batches.release(&ids);
                continue;
            };
            match result {
                Ok(()) => {
                    client.inner.health.handled(ids.len());
                    dl.attempts.forget(&ids);
                }
                Err(source) if stop.fired() => {
                    ended_by_stop("handler", source, ids.len());
                    batches.release(&ids);
                }
                Err(source) => {
                    let error = handler_failed(client, source, ids.len());
                    dl.attempts.failed(&ids, &error.to_string());
                    batches.release(&ids);
                    first_error.get_or_insert(error);
                }
            }
        }
        if let Some(error) = first_error {
            // Acknowledge what was handled; the failed events come back next cycle.
            settle(client, batches, stop).await?;
            return Err(error);
        }
    }
}

/// Sends what is owed, with every retry; once the stop has fired, for its grace only.
/// What is not acknowledged by then stays owed and unacknowledged, and comes back later.
async fn settle<E: QueueEvent>(client: &AssessmentClient, batches: &mut Batches<E>, stop: &mut Stop) -> Result<()> {
    let grace = stop.grace();
    let owed = batches.owed().len();
    match within_grace(batches.settle(), stop.wait(), grace).await {
        Some(result) => result,
        None => {
            tracing::warn!(
                events = owed,
                grace_ms = grace.as_millis() as u64,
                "stopping with an acknowledgement unfinished; its events come back later"
            );
            // A failed cycle like any other, so that the run's errors and health() show it:
            // the events were handled and will be handed out again.
            let error = Error::Timeout {
                message: format!(
                    "the acknowledgement of {owed} handled events did not finish within the stop grace ({grace:?}); they come back later"
                ),
                context: Default::default(),
            };
            client.inner.health.failed(&error);
            Err(error)
        }
    }
}

fn ids_of<E: QueueEvent>(events: &[E]) -> Vec<String> {
    events.iter().map(|e| e.event_id().to_string()).collect()
}

/// A handler (or dead-letter hook) that failed once the run was stopping, most likely
/// because of the stop (a delivery cut short, a pool closing): its events stay
/// unacknowledged and come back, but no attempt is counted and no error reported against
/// them.
fn ended_by_stop(what: &str, source: crate::handler::BoxError, events: usize) {
    tracing::info!(events, error = %Error::handler(source), "the {what} failed after the stop; its events stay unacknowledged");
}

/// A handler (or dead-letter hook) still running when the client was closed after the stop:
/// the run no longer waits for it, and its events stay unacknowledged and come back.
fn ended_by_close(what: &str, events: usize) {
    tracing::warn!(
        events,
        "the client was closed after the stop while the {what} was still running; no longer waiting for it, its events stay unacknowledged"
    );
}

fn handler_failed(client: &AssessmentClient, source: crate::handler::BoxError, events: usize) -> Error {
    let error = Error::handler(source);
    tracing::warn!(events, error = %error, "handler failed; its events stay unacknowledged");
    client.inner.health.failed(&error);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_event_not_seen_for_many_cycles_is_forgotten_and_one_still_seen_is_kept() {
        let mut attempts = Attempts::new(5);
        attempts.next_cycle();
        attempts.failed(&["gone".into()], "boom");
        attempts.failed(&["stays".into()], "boom");
        for _ in 0..FORGET_AFTER_CYCLES + 64 {
            attempts.next_cycle();
            assert_eq!(attempts.failure_count("stays"), Some(1), "fetched every cycle");
        }
        assert_eq!(attempts.failures.len(), 1);
        assert_eq!(attempts.failure_count("gone"), None, "forgotten: counted from zero if it comes back");
        assert_eq!(attempts.reason("stays"), "boom");
    }
}
