//! `drain`: fetch → handler → acknowledge, until the queue is empty.

use crate::batches::{Batches, DrainOptions, DrainSummary};
use crate::client::AssessmentClient;
use crate::error::{Error, Result};
use crate::events::WebhookEvent;
use crate::handler::{DeadLetterHook, Handler};
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
    /// stops with that error. Within one drain no event ID is handed to the handler twice.
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
    pub async fn drain<H: Handler>(&self, mut handler: H, options: DrainOptions) -> Result<DrainSummary> {
        options.validate()?;
        let mut batches = self.batches(options);
        let mut stop = Stop::never();
        drive(self, &mut batches, &mut handler, None, &mut stop).await?;
        Ok(batches.summary())
    }

    /// The queue as a sequence of batches; see [`Batches`] for when each is acknowledged.
    pub fn batches(&self, options: DrainOptions) -> Batches {
        Batches::new(self.clone(), options)
    }
}

/// Counts handler failures per event across the cycles of `run`.
pub(crate) struct Attempts {
    max_attempts: u32,
    failures: HashMap<String, (u32, String)>,
}

impl Attempts {
    pub(crate) fn new(max_attempts: u32) -> Self {
        Attempts { max_attempts, failures: HashMap::new() }
    }

    fn exhausted(&self, event: &WebhookEvent) -> Option<&str> {
        self.failures.get(event.event_id()).filter(|(n, _)| *n >= self.max_attempts).map(|(_, reason)| reason.as_str())
    }

    fn failed(&mut self, ids: &[String], reason: &str) {
        for id in ids {
            let entry = self.failures.entry(id.clone()).or_insert((0, String::new()));
            entry.0 += 1;
            entry.1 = reason.to_string();
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
pub(crate) struct DeadLetters<'a> {
    pub attempts: &'a mut Attempts,
    pub hook: Option<&'a mut (dyn DeadLetterHook + 'static)>,
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
pub(crate) async fn drive<H: Handler + ?Sized>(
    client: &AssessmentClient,
    batches: &mut Batches,
    handler: &mut H,
    mut dead: Option<DeadLetters<'_>>,
    stop: &mut Stop,
) -> Result<Ended> {
    loop {
        batches.commit().await?;
        if stop.fired() {
            return Ok(Ended::Stopped);
        }
        let next = tokio::select! {
            biased;
            _ = stop.wait() => return Ok(Ended::Stopped),
            next = batches.next_batch() => next?,
        };
        let Some(batch) = next else { return Ok(Ended::Drained) };
        let ids: Vec<String> = batch.events.iter().map(|e| e.event_id().to_string()).collect();
        let mut events = batch.events;

        if let Some(dl) = dead.as_mut() {
            let (exhausted, live): (Vec<_>, Vec<_>) =
                events.into_iter().partition(|e| dl.attempts.exhausted(e).is_some());
            events = live;
            if !exhausted.is_empty() {
                match dl.hook.as_deref_mut() {
                    Some(hook) => {
                        let reason = dl.attempts.exhausted(&exhausted[0]).unwrap_or_default().to_string();
                        let dead_ids: Vec<String> = exhausted.iter().map(|e| e.event_id().to_string()).collect();
                        let count = exhausted.len();
                        tracing::warn!(events = count, "handing events that kept failing to the dead-letter hook");
                        if let Err(source) = hook.dead_letter(exhausted, reason).await {
                            batches.abandon();
                            let error = Error::handler(source);
                            client.inner.health.failed(&error);
                            return Err(error);
                        }
                        dl.attempts.forget(&dead_ids);
                        client.inner.health.dead_lettered(count);
                    }
                    None => {
                        tracing::error!(
                            events = exhausted.len(),
                            "events keep failing and no dead-letter hook is set; retrying them"
                        );
                        events.extend(exhausted);
                    }
                }
            }
        }

        if events.is_empty() {
            continue;
        }
        let count = events.len();
        match handler.handle(events).await {
            Ok(()) => {
                client.inner.health.handled(count);
                if let Some(dl) = dead.as_mut() {
                    dl.attempts.forget(&ids);
                }
            }
            Err(source) => {
                batches.abandon();
                let error = Error::handler(source);
                tracing::warn!(events = count, error = %error, "handler failed; the batch stays unacknowledged");
                client.inner.health.failed(&error);
                if let Some(dl) = dead.as_mut() {
                    dl.attempts.failed(&ids, &error.to_string());
                }
                return Err(error);
            }
        }
    }
}
