//! `run`: the long-running poller.

use crate::batches::{DrainOptions, DrainSummary};
use crate::client::AssessmentClient;
use crate::drain::{Attempts, DeadLetters, Ended, drive};
use crate::error::{Error, ErrorCode, Result};
use crate::events::WebhookEvent;
use crate::handler::{DeadLetterHook, Handler};
use crate::queue_event::QueueEvent;
use crate::retry::RetryPolicy;
use crate::stop::Stop;
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// The platform's floor for the polling interval.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// How long an acknowledgement in progress may still take once `run` was stopped, by
/// default ([`RunOptions::stop_grace`]). Against a platform that hangs, every retry would
/// keep a stopped poller alive for minutes; after the grace its events stay unacknowledged
/// and come back later.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Options of [`AssessmentClient::run`].
///
/// ```
/// use smartai_events::RunOptions;
/// use std::time::Duration;
/// let opts = RunOptions::new()
///     .interval(Duration::from_secs(30))
///     .max_attempts(5)
///     .dead_letter(|events: Vec<smartai_events::WebhookEvent>, reason: String| async move {
///         eprintln!("parking {} events: {reason}", events.len());
///         Ok::<(), std::io::Error>(())
///     });
/// assert_eq!(opts.get_interval(), Duration::from_secs(30));
/// ```
pub struct RunOptions<E: QueueEvent = WebhookEvent> {
    interval: Duration,
    drain: DrainOptions,
    max_attempts: u32,
    ordered: bool,
    dead_letter: Option<Box<dyn DeadLetterHook<E>>>,
    on_cycle: Option<CycleHook>,
    stop_grace: Duration,
    /// How the options were spelled when read from a binding's JSON, so that an error names
    /// them as the caller wrote them; `None` for options built in Rust.
    pub(crate) spelling: Option<crate::Spelling>,
}

type CycleHook = Box<dyn FnMut(&CycleReport) + Send>;

/// What one cycle of `run` did; see [`RunOptions::on_cycle`].
#[derive(Debug, Clone, PartialEq)]
pub struct CycleReport {
    /// The cycle's number, from 1.
    pub cycle: u64,
    /// The cycle's drain.
    pub drain: DrainSummary,
    /// The error that ended the cycle early, if any (the loop goes on unless it is fatal),
    /// as [`Error::for_log`] gives it.
    pub error: Option<String>,
}

impl<E: QueueEvent> fmt::Debug for RunOptions<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("interval", &self.interval)
            .field("drain", &self.drain)
            .field("max_attempts", &self.max_attempts)
            .field("ordered", &self.ordered)
            .field("dead_letter", &self.dead_letter.is_some())
            .field("on_cycle", &self.on_cycle.is_some())
            .field("stop_grace", &self.stop_grace)
            .finish()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::for_events()
    }
}

impl RunOptions {
    /// The defaults: every 30 s, batches of 100, 5 attempts, no dead-letter hook.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<E: QueueEvent> RunOptions<E> {
    /// The defaults of [`RunOptions::new`], for a handler that takes `Vec<E>`, such as
    /// [`RawEvent`](crate::RawEvent)s.
    ///
    /// ```
    /// use smartai_events::{RawEvent, RunOptions};
    /// let opts = RunOptions::<RawEvent>::for_events().max_attempts(3);
    /// assert_eq!(opts.get_interval(), RunOptions::new().get_interval());
    /// ```
    pub fn for_events() -> Self {
        RunOptions {
            interval: Duration::from_secs(30),
            drain: DrainOptions::default(),
            max_attempts: 5,
            ordered: false,
            dead_letter: None,
            on_cycle: None,
            stop_grace: STOP_GRACE,
            spelling: None,
        }
    }

    /// The wait between drains; at least 5 s unless the client's `min_poll_interval` was lowered.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The options of each drain.
    pub fn drain_options(mut self, options: DrainOptions) -> Self {
        self.drain = options;
        self
    }

    /// After this many handler failures an event goes to the dead-letter hook (default 5).
    /// Only a failure of the event handed out alone counts: a whole batch's failure does not
    /// say which event is bad, so its events are retried one at a time next cycle, and a
    /// poison event reaches the handler `max_attempts` + 1 times (`max_attempts` times if it
    /// came alone in its batch, whose failure then does say which event is bad).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Where events go after `max_attempts` failures; they are acknowledged once it succeeds.
    /// Without a hook they are retried for ever.
    pub fn dead_letter(mut self, hook: impl DeadLetterHook<E> + 'static) -> Self {
        self.dead_letter = Some(Box::new(hook));
        self
    }

    /// Keeps queue order strictly: every batch is handled whole, all or nothing, even after
    /// failures. By default events that failed before are retried one at a time, so that
    /// one poison event cannot hold back the others (at the price of order). With
    /// `ordered(true)` nothing is dead-lettered: a batch that keeps failing blocks the queue,
    /// and a [`RunOptions::dead_letter`] hook with it is refused.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How long an acknowledgement in progress may still take after the stop (default
    /// [`STOP_GRACE`], 10 s); what it does not finish stays unacknowledged and comes back.
    ///
    /// ```
    /// use smartai_events::RunOptions;
    /// let opts = RunOptions::new().stop_grace(std::time::Duration::from_secs(3));
    /// ```
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// Called after every cycle with what it did, for status lines and metrics.
    pub fn on_cycle(mut self, hook: impl FnMut(&CycleReport) + Send + 'static) -> Self {
        self.on_cycle = Some(Box::new(hook));
        self
    }

    /// The configured interval.
    pub fn get_interval(&self) -> Duration {
        self.interval
    }
}

/// What a run did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Drains started.
    pub cycles: u64,
    /// Events handed out, to the handler or to the dead-letter hook. An event handed out
    /// again (its batch failed, or it is retried alone) counts each time.
    pub events: u64,
    /// Events the server confirmed as removed. An acknowledge the server applied but whose
    /// answer was lost is sent again, and that retry counts 0 for them: so this can be lower
    /// than what was handled, with nothing of it left in the queue.
    pub acknowledged: u64,
    /// Cycles that ended with an error: a fetch or acknowledge that failed after its
    /// retries, a handler or dead-letter hook that failed (once per cycle, however many of
    /// its calls failed), or an acknowledgement the stop grace cut short. For each failed
    /// call, see [`Health::errors`](crate::Health::errors).
    pub errors: u64,
}

impl AssessmentClient {
    /// Polls for ever: drains, waits `interval`, and repeats until `stop` resolves.
    ///
    /// - Transient errors (network, timeouts, 5xx, 429, a bad response) are logged and
    ///   retried with backoff; they never end the loop. Authentication, configuration,
    ///   not-found, invalid-request (400, 422) and invalid-argument errors do end it, since
    ///   retrying cannot fix them.
    /// - A handler error leaves its batch unacknowledged for the next cycle. An event that
    ///   failed `max_attempts` times goes to the dead-letter hook, and is acknowledged once
    ///   the hook succeeds.
    /// - On stop, a fetch or a wait in progress is abandoned at once; a handler in progress
    ///   is allowed to finish, its batch is acknowledged, and `run` returns. (If it fails
    ///   once the stop has come, as a handler cut short by the stop does, its events stay
    ///   unacknowledged, without an error reported or an attempt counted against them; so do
    ///   the events of a dead-letter hook that fails once the stop has come.) Events of that
    ///   batch still waiting for a retry one at a time are not handed out: they stay in the
    ///   queue for the next run. [`close`](AssessmentClient::close) stops a run as `stop`
    ///   does; the two together, in either order, no longer wait for a handler (or
    ///   dead-letter hook) in progress: its batch is not acknowledged and comes back.
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// use smartai_events::{RunOptions, WebhookEvent};
    /// let stop = async { tokio::signal::ctrl_c().await.ok(); };
    /// client
    ///     .run(|events: Vec<WebhookEvent>| async move {
    ///         println!("{} events", events.len());
    ///         Ok::<(), std::io::Error>(())
    ///     }, RunOptions::default(), stop)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn run<H: Handler>(
        &self,
        handler: H,
        options: RunOptions,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<RunSummary> {
        self.run_as(handler, options, stop).await
    }

    /// [`AssessmentClient::run`] with the events as `E`, for example
    /// [`RawEvent`](crate::RawEvent)s; the options say the same
    /// ([`RunOptions::for_events`]).
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// use smartai_events::{CancellationToken, RawEvent, RunOptions};
    /// let stop = CancellationToken::new();
    /// client
    ///     .run_as(
    ///         |events: Vec<RawEvent>| async move {
    ///             println!("{} events", events.len());
    ///             Ok::<(), std::io::Error>(())
    ///         },
    ///         RunOptions::<RawEvent>::for_events(),
    ///         stop.cancelled_owned(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn run_as<E: QueueEvent, H: Handler<E>>(
        &self,
        mut handler: H,
        mut options: RunOptions<E>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<RunSummary> {
        self.validate_run_options(&options)?;
        if self.is_closed() {
            return Err(Error::Closed);
        }
        // Closing the client stops a run as `stop` does; the two together also end the wait
        // for a handler that does not return.
        let mut stop = Stop::new(stop).with_close(self.closed_token()).with_grace(options.stop_grace);
        let mut attempts = Attempts::new(options.max_attempts);
        let mut summary = RunSummary::default();
        let mut consecutive_failures: u32 = 0;
        let retry = RetryPolicy { max_retries: u32::MAX, ..self.config().retry };
        tracing::info!(interval_ms = options.interval.as_millis() as u64, "poller started");
        loop {
            if stop.fired() {
                // Stopped before this cycle began (a stop already set at the start).
                break;
            }
            summary.cycles += 1;
            attempts.next_cycle();
            let mut batches = self.batches_as::<E>(options.drain);
            let dead = if options.ordered {
                None
            } else {
                Some(DeadLetters { attempts: &mut attempts, hook: options.dead_letter.as_deref_mut() })
            };
            let outcome = drive(self, &mut batches, &mut handler, dead, &mut stop).await;
            let drained: DrainSummary = batches.summary();
            summary.events += drained.events;
            summary.acknowledged += drained.acknowledged;
            if let Some(hook) = options.on_cycle.as_mut() {
                let error = outcome.as_ref().err().map(Error::for_log);
                hook(&CycleReport { cycle: summary.cycles, drain: drained, error });
            }
            let wait = match outcome {
                Ok(Ended::Stopped) => break,
                Ok(Ended::Drained) => {
                    consecutive_failures = 0;
                    if drained.events > 0 {
                        tracing::info!(events = drained.events, batches = drained.batches, "drained");
                    }
                    options.interval
                }
                Err(e) if is_fatal(&e) => {
                    tracing::error!(error = %e.for_log(), "poller stopped: retrying cannot fix this error");
                    return Err(e);
                }
                Err(e) if stop.fired() => {
                    // Most likely an acknowledgement the stop grace cut short: a failed
                    // cycle, but nothing to try again.
                    tracing::warn!(error = %e.for_log(), "the last cycle ended with an error; stopping");
                    summary.errors += 1;
                    break;
                }
                Err(e) => {
                    summary.errors += 1;
                    consecutive_failures = consecutive_failures.saturating_add(1);
                    if e.code() == ErrorCode::Handler {
                        if options.ordered {
                            // Unordered, each failed group was logged as it failed.
                            tracing::warn!(error = %e, "handler failed; its batch stays unacknowledged");
                        }
                        options.interval
                    } else {
                        // The fetch or acknowledge that failed has counted itself in health().
                        let backoff = retry.backoff(consecutive_failures - 1, e.retry_after());
                        let wait = backoff
                            .max(self.config().min_poll_interval)
                            .min(options.interval.max(e.retry_after().unwrap_or_default()));
                        tracing::warn!(error = %e.for_log(), wait_ms = wait.as_millis() as u64, "poll failed; trying again");
                        tracing::debug!(error = %e, "the poll's error in full");
                        wait
                    }
                }
            };
            tokio::select! {
                biased;
                _ = stop.wait() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!(cycles = summary.cycles, events = summary.events, "poller stopped");
        Ok(summary)
    }

    /// The checks [`AssessmentClient::run`] makes of its options, without running: for a
    /// process that should refuse bad options at start-up, before it waits for its turn.
    ///
    /// ```
    /// use smartai_events::{AssessmentClient, RunOptions};
    /// use std::time::Duration;
    /// let client = AssessmentClient::builder()
    ///     .api_key("wc_ak_test_0123456789")
    ///     .secret_key("wc_sk_test_secret")
    ///     .build()
    ///     .unwrap();
    /// let err = client.validate_run_options(&RunOptions::new().interval(Duration::from_secs(2))).unwrap_err();
    /// assert!(err.to_string().starts_with("interval must be at least 5s"));
    /// assert!(client.validate_run_options(&RunOptions::new()).is_ok());
    /// ```
    pub fn validate_run_options<E: QueueEvent>(&self, options: &RunOptions<E>) -> Result<()> {
        options.drain.validate()?;
        let floor = MIN_INTERVAL.min(self.config().min_poll_interval);
        if options.interval < floor {
            let why = "the platform rate-limits faster polling";
            // Shortest exact decimals, not a fixed precision: 1e-6 s must not read "got 0 ms".
            let (floor_s, floor_ms) = (floor.as_secs_f64(), floor.as_nanos() as f64 / 1e6);
            let (got_s, got_ms) = (options.interval.as_secs_f64(), options.interval.as_nanos() as f64 / 1e6);
            return Err(Error::invalid_argument(match options.spelling {
                Some(crate::Spelling::CamelCase) => {
                    format!("intervalMs must be at least {floor_ms} ms ({floor_s} s; {why}), got {got_ms} ms")
                }
                Some(crate::Spelling::SnakeCase) => {
                    format!("interval must be at least {floor_s} s ({why}), got {got_s} s")
                }
                // Rust callers hold Durations, so Duration's own notation: "got 1ns", not "got 0.000 s".
                None => format!("interval must be at least {floor:?} ({why}), got {:?}", options.interval),
            }));
        }
        if options.ordered && options.dead_letter.is_some() {
            // Ordered runs dead-letter nothing, so the hook would never be called: a run set
            // up to park poison events would block the queue behind one instead.
            let (hook, ordered) = options.spelling.map_or_else(
                || ("dead_letter".to_string(), "ordered".to_string()),
                |s| (s.name("deadLetter"), s.name("ordered")),
            );
            return Err(Error::invalid_argument(format!(
                "{hook} is never called when {ordered} is true (an ordered run dead-letters nothing): drop one of them"
            )));
        }
        if options.max_attempts == 0 {
            let name = options.spelling.map_or_else(|| "max_attempts".to_string(), |s| s.name("maxAttempts"));
            return Err(Error::invalid_argument(format!("{name} must be >= 1, got 0")));
        }
        Ok(())
    }
}

fn is_fatal(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Authentication
            | ErrorCode::Configuration
            | ErrorCode::NotFound
            | ErrorCode::InvalidArgument
            | ErrorCode::InvalidRequest
    )
}
