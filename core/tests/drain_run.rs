//! drain, batches and run against the emulator: at-least-once under faults, handler
//! failures, acknowledge-on-advance, cancellation and dead-lettering.

mod common;

use common::*;
use futures::StreamExt;
use smartai_emulator::{Endpoint, FaultKind, FaultRule};
use smartai_events::{
    DrainOptions, ErrorCode, EventKind, FetchOptions, RawEvent, RetryPolicy, RunOptions, WebhookEvent,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
struct Boom(&'static str);
impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Boom {}

fn fault_mix(rate: f64) -> Vec<FaultRule> {
    let each = rate / 6.0;
    let rule = |endpoint, kind| FaultRule { endpoint: Some(endpoint), probability: each, remaining: None, kind };
    vec![
        rule(Endpoint::Fetch, status(503)),
        rule(Endpoint::Fetch, FaultKind::Reset),
        rule(Endpoint::Fetch, FaultKind::Truncate),
        rule(Endpoint::Acknowledge, status(500)),
        rule(Endpoint::Acknowledge, FaultKind::Reset),
        rule(Endpoint::Acknowledge, FaultKind::AppliedButLost),
    ]
}

#[tokio::test]
async fn drain_2000_events_under_faults_hands_each_out_once() {
    let emu = emulator().await;
    emu.generate(2000);
    let expected: std::collections::HashSet<String> = emu.pending_ids().into_iter().collect();
    emu.set_faults(fault_mix(0.20));
    let client = builder(&emu)
        .retry_policy(RetryPolicy {
            max_retries: 12,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
        })
        .build()
        .unwrap();
    let seen: Arc<Mutex<HashMap<String, u32>>> = Default::default();
    let seen2 = seen.clone();
    let summary = within(
        "drain",
        client.drain(
            move |events: Vec<WebhookEvent>| {
                let seen = seen2.clone();
                async move {
                    let mut seen = seen.lock().unwrap();
                    for e in events {
                        *seen.entry(e.event_id().to_string()).or_default() += 1;
                    }
                    Ok::<(), Boom>(())
                }
            },
            DrainOptions::default(),
        ),
    )
    .await
    .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2000);
    assert!(seen.values().all(|n| *n == 1), "an event was handed out twice");
    assert_eq!(seen.keys().cloned().collect::<std::collections::HashSet<_>>(), expected);
    assert!(emu.pending_ids().is_empty(), "queue not empty: {}", emu.pending_ids().len());
    assert_eq!(summary.events, 2000);
    assert_eq!(summary.pending_count, 0);
    assert!(emu.request_log().iter().any(|r| r.fault.is_some()), "the fault mix was never applied");
}

#[tokio::test]
async fn a_failing_handler_leaves_its_batch_unacknowledged() {
    let emu = emulator().await;
    emu.generate(250);
    let client = client(&emu);
    let calls = Arc::new(Mutex::new(0));
    let calls2 = calls.clone();
    let err = client
        .drain(
            move |_events: Vec<WebhookEvent>| {
                let calls = calls2.clone();
                async move {
                    let mut n = calls.lock().unwrap();
                    *n += 1;
                    if *n == 2 { Err(Boom("database is down")) } else { Ok(()) }
                }
            },
            DrainOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Handler);
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "database is down");
    assert!(source.downcast_ref::<Boom>().is_some(), "the handler's own error is kept");
    assert_eq!(emu.pending_ids().len(), 150, "only the first batch of 100 was acknowledged");
    assert_eq!(*calls.lock().unwrap(), 2, "the drain stops at the failure");
}

#[tokio::test]
async fn a_failed_acknowledge_stops_the_drain_with_its_error() {
    let emu = emulator().await;
    emu.generate(150);
    let client = builder(&emu).max_retries(1).build().unwrap();
    emu.add_fault(fault(Endpoint::Acknowledge, 10, status(500)));
    let err =
        client.drain(|_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) }, DrainOptions::default()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Server);
    assert_eq!(emu.pending_ids().len(), 150, "nothing was acknowledged; the events come back");
}

#[tokio::test]
async fn consecutive_failures_keep_counting_while_every_batch_fails_although_each_fetch_succeeds() {
    let emu = emulator().await;
    emu.generate(5);
    let client = builder(&emu).max_retries(0).build().unwrap();
    let failing = |_e: Vec<WebhookEvent>| async { Err::<(), Boom>(Boom("database down")) };
    for _ in 0..3 {
        let err = client.drain(failing, DrainOptions::default()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Handler);
    }
    let health = client.health();
    assert_eq!((health.polls, health.errors, health.consecutive_failures), (3, 3, 3));

    emu.add_fault(fault(Endpoint::Acknowledge, 3, status(500)));
    let fine = |_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) };
    for _ in 0..3 {
        let err = client.drain(fine, DrainOptions::default()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Server);
    }
    let health = client.health();
    assert_eq!((health.errors, health.consecutive_failures, health.events_acknowledged), (6, 6, 0));

    // The queue moves again: the acknowledge ends the count, and an empty fetch keeps it at 0.
    let summary = client.drain(fine, DrainOptions::default()).await.unwrap();
    assert_eq!(summary.acknowledged, 5);
    assert_eq!(client.health().consecutive_failures, 0);
    client.drain(fine, DrainOptions::default()).await.unwrap();
    let health = client.health();
    assert_eq!((health.errors, health.consecutive_failures, health.pending_count), (6, 0, 0));
}

#[tokio::test]
async fn draining_an_empty_queue_never_calls_the_handler() {
    let emu = emulator().await;
    let client = client(&emu);
    let s = client
        .drain(|_e: Vec<WebhookEvent>| async { Err::<(), _>(Boom("called with nothing")) }, DrainOptions::default())
        .await
        .unwrap();
    assert_eq!((s.batches, s.events, s.acknowledged), (1, 0, 0));
}

#[tokio::test]
async fn drain_bounds_and_summary() {
    let emu = emulator().await;
    emu.generate(500);
    let client = client(&emu);
    let ok = |_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) };
    let s = client.drain(ok, DrainOptions::new().limit(40).max_events(100)).await.unwrap();
    assert_eq!((s.batches, s.events, s.acknowledged), (3, 100, 100), "{s:?}");
    let s = client.drain(ok, DrainOptions::new().max_batches(2)).await.unwrap();
    assert_eq!((s.batches, s.events, s.acknowledged, s.pending_count), (2, 200, 200, 200), "{s:?}");
    let s = client.drain(ok, DrainOptions::new()).await.unwrap();
    assert_eq!((s.events, s.pending_count), (200, 0));
    let err = client.drain(ok, DrainOptions::new().limit(0)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn a_max_events_beyond_i64_is_a_bound_like_any_other() {
    let emu = emulator().await;
    emu.generate(150);
    let client = client(&emu);
    let ok = |_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) };
    // u64::MAX, the natural "no bound", once failed every drain with "limit must be an
    // integer >= 1, got -1": a limit the caller never gave.
    for max in [u64::MAX, i64::MAX as u64 + 1] {
        emu.generate(10);
        let s = client.drain(ok, DrainOptions::new().max_events(max)).await.unwrap();
        assert!(s.events >= 10 && s.events == s.acknowledged, "max_events {max}: {s:?}");
        assert!(emu.pending_ids().is_empty(), "max_events {max}");
    }
    let mut batches = client.batches(DrainOptions::new().max_events(u64::MAX));
    emu.generate(3);
    assert_eq!(batches.next_batch().await.unwrap().unwrap().events.len(), 3);
}

#[tokio::test]
async fn an_event_returned_again_within_a_drain_is_not_handed_out_twice() {
    let emu = emulator().await;
    emu.generate(30);
    let first = emu.pending_ids()[0].clone();
    let raw = {
        let client = client(&emu);
        let batch = client.get_webhook_events(smartai_events::FetchOptions::new().limit(1)).await.unwrap();
        batch.events[0].raw().clone()
    };
    let client = client(&emu);
    let handed: Arc<Mutex<Vec<String>>> = Default::default();
    let (handed2, emu2) = (handed.clone(), emu.clone());
    client
        .drain(
            move |events: Vec<WebhookEvent>| {
                let (handed, emu, raw) = (handed2.clone(), emu2.clone(), raw.clone());
                async move {
                    let first_batch = handed.lock().unwrap().is_empty();
                    handed.lock().unwrap().extend(events.iter().map(|e| e.event_id().to_string()));
                    if first_batch {
                        // The server delivers an already handled event once more.
                        emu.enqueue(vec![raw]);
                    }
                    Ok::<(), Boom>(())
                }
            },
            DrainOptions::new().limit(10),
        )
        .await
        .unwrap();
    let handed = handed.lock().unwrap();
    assert_eq!(handed.iter().filter(|id| **id == first).count(), 1);
    assert!(emu.pending_ids().is_empty(), "the duplicate is still acknowledged");
}

#[tokio::test]
async fn batches_acknowledge_on_advance_and_not_on_break() {
    let emu = emulator().await;
    emu.generate(30);
    let client = client(&emu);
    let mut batches = client.batches(DrainOptions::new().limit(10));
    let b1 = batches.next_batch().await.unwrap().unwrap();
    assert_eq!(emu.pending_ids().len(), 30, "holding a batch acknowledges nothing");
    let b2 = batches.next_batch().await.unwrap().unwrap();
    assert_eq!(emu.pending_ids().len(), 20, "asking for the next batch acknowledged the first");
    assert_ne!(b1.events[0].event_id(), b2.events[0].event_id());
    drop(batches); // like `break`: the batch in hand stays queued
    assert_eq!(emu.pending_ids().len(), 20);

    let mut batches = client.batches(DrainOptions::new().limit(10));
    batches.next_batch().await.unwrap().unwrap();
    batches.commit().await.unwrap();
    assert_eq!(emu.pending_ids().len(), 10, "commit acknowledges the batch in hand");
}

#[tokio::test]
async fn batches_as_a_stream_drain_everything() {
    let emu = emulator().await;
    emu.generate(45);
    let client = client(&emu);
    let stream = client.batches(DrainOptions::new().limit(20)).into_stream();
    let sizes: Vec<usize> = stream.map(|b| b.unwrap().events.len()).collect().await;
    assert_eq!(sizes, vec![20, 20, 5]);
    assert!(emu.pending_ids().is_empty());
}

#[tokio::test]
async fn run_keeps_polling_through_transient_errors_and_stops_on_cancel() {
    let emu = emulator().await;
    emu.generate(50);
    let client = client(&emu);
    emu.add_fault(fault(Endpoint::Fetch, 3, status(503)));
    emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::Reset));
    let token = CancellationToken::new();
    let (count, stopper) = (Arc::new(Mutex::new(0usize)), token.clone());
    let count2 = count.clone();
    let emu2 = emu.clone();
    let handle = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .run(
                    move |events: Vec<WebhookEvent>| {
                        let (count, emu, stopper) = (count2.clone(), emu2.clone(), stopper.clone());
                        async move {
                            *count.lock().unwrap() += events.len();
                            if *count.lock().unwrap() >= 50 && emu.pending_ids().len() <= events.len() {
                                stopper.cancel();
                            }
                            Ok::<(), Boom>(())
                        }
                    },
                    RunOptions::new().interval(Duration::from_millis(20)),
                    token.cancelled_owned(),
                )
                .await
        }
    });
    let summary = within("run", handle).await.unwrap().unwrap();
    assert_eq!(*count.lock().unwrap(), 50);
    assert!(emu.pending_ids().is_empty(), "the acks owed are sent before run returns");
    assert_eq!(summary.events, 50);
    let health = client.health();
    assert!(health.last_success_at.is_some());
    assert_eq!(health.events_handled, 50);
    assert_eq!(health.events_acknowledged, 50);
    // Four faults use up one fetch's four attempts: one failed poll, counted once.
    assert_eq!((summary.errors, health.errors, health.consecutive_failures), (1, 1, 0));
}

#[tokio::test]
async fn a_stopped_run_gives_an_unfinished_acknowledgement_its_grace_not_every_retry() {
    let emu = emulator().await;
    emu.generate(3);
    // Without the grace, 21 attempts of 5 s each would outlast `within`.
    let client = builder(&emu).max_retries(20).build().unwrap();
    emu.add_fault(fault(Endpoint::Acknowledge, 100, FaultKind::Hang));
    let token = CancellationToken::new();
    let stopper = token.clone();
    let handler = move |_: Vec<WebhookEvent>| {
        stopper.cancel();
        async { Ok::<(), Boom>(()) }
    };
    let options = RunOptions::new().interval(Duration::from_millis(20)).stop_grace(Duration::from_millis(300));
    let summary = within("run", client.run(handler, options, token.cancelled_owned())).await.unwrap();
    assert_eq!((summary.events, summary.acknowledged), (3, 0));
    assert_eq!(emu.pending_ids().len(), 3, "not acknowledged, so they come back");
    // The unfinished acknowledgement is a failed cycle, in the summary and in health().
    let health = client.health();
    assert_eq!((summary.errors, health.errors), (1, 1));
    assert_eq!(health.last_error_code.as_deref(), Some("TIMEOUT"));
    let message = health.last_error.unwrap_or_default();
    assert!(message.contains("acknowledgement of 3 handled events") && message.contains("300ms"), "{message}");
}

#[tokio::test]
async fn run_stops_promptly_during_a_backoff_sleep() {
    let emu = emulator().await;
    // Every fetch fails, so run sits in its backoff between attempts.
    emu.add_fault(fault(
        Endpoint::Fetch,
        10_000,
        FaultKind::Status { status: 503, retry_after: Some("60".into()), body: None },
    ));
    let client = builder(&emu).max_retries(0).build().unwrap();
    let token = CancellationToken::new();
    let run = tokio::spawn({
        let (client, token) = (client.clone(), token.clone());
        async move {
            client
                .run(|_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) }, RunOptions::new(), token.cancelled_owned())
                .await
        }
    });
    // Wait until the first failure happened, so run is in its 60 s backoff.
    within("first fetch", async {
        while requests(&emu, Endpoint::Fetch).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    token.cancel();
    // A generous bound that only catches a run that ignores the stop during its 60 s sleep.
    let result = tokio::time::timeout(Duration::from_secs(20), run).await.expect("run ignored the stop").unwrap();
    assert!(result.is_ok());
    assert_eq!(requests(&emu, Endpoint::Fetch).len(), 1);
}

#[tokio::test]
async fn run_ends_on_an_authentication_error() {
    let emu = emulator().await;
    let client = builder(&emu).secret_key("wc_sk_test_wrong").build().unwrap();
    let err = within(
        "run",
        client.run(|_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) }, RunOptions::new(), std::future::pending()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Authentication);
}

#[tokio::test]
async fn run_refuses_an_interval_below_five_seconds_unless_the_gate_was_lowered() {
    let emu = emulator().await;
    let strict = builder(&emu).min_poll_interval(Duration::from_secs(5)).build().unwrap();
    let err = strict
        .run(
            |_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) },
            RunOptions::new().interval(Duration::from_secs(1)),
            std::future::pending(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.to_string().contains("at least 5s"), "{err}");
    assert!(emu.request_log().is_empty());
}

#[tokio::test]
async fn poison_events_go_to_the_dead_letter_hook_after_max_attempts() {
    let emu = emulator().await;
    emu.generate(20);
    let poison = emu.pending_ids()[7].clone();
    let client = client(&emu);
    let token = CancellationToken::new();
    let dead: Arc<Mutex<Vec<(String, String)>>> = Default::default();
    let attempts = Arc::new(Mutex::new(0u32));
    let (dead2, attempts2, poison2, stopper) = (dead.clone(), attempts.clone(), poison.clone(), token.clone());
    let summary = within(
        "run",
        client.run(
            move |events: Vec<WebhookEvent>| {
                let (attempts, poison) = (attempts2.clone(), poison2.clone());
                async move {
                    if events.iter().any(|e| e.event_id() == poison) {
                        *attempts.lock().unwrap() += 1;
                        return Err(Boom("cannot parse candidate"));
                    }
                    Ok(())
                }
            },
            RunOptions::new().interval(Duration::from_millis(10)).max_attempts(1).dead_letter(
                move |events: Vec<WebhookEvent>, reason: String| {
                    let (dead, stopper) = (dead2.clone(), stopper.clone());
                    async move {
                        dead.lock().unwrap().extend(events.iter().map(|e| (e.event_id().to_string(), reason.clone())));
                        stopper.cancel();
                        Ok::<(), Boom>(())
                    }
                },
            ),
            token.cancelled_owned(),
        ),
    )
    .await
    .unwrap();
    let dead = dead.lock().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].0, poison);
    assert!(dead[0].1.contains("cannot parse candidate"));
    assert!(emu.pending_ids().is_empty(), "the dead-lettered event is acknowledged after the hook");
    // Failed in its batch, then once alone (max_attempts 1): the other 19 events of the
    // batch were handled one by one and never dead-lettered.
    assert_eq!(*attempts.lock().unwrap(), 2);
    assert_eq!(summary.errors, 2);
    assert_eq!(client.health().events_dead_lettered, 1);
    // Every hand-out counts: the batch (20), its events again one by one (20), and the
    // poison event to the hook (1).
    assert_eq!(summary.events, 41);
}

#[tokio::test]
async fn ordered_run_retries_whole_batches_in_queue_order_and_reports_each_cycle() {
    let emu = emulator().await;
    emu.generate(30);
    let expected = emu.pending_ids();
    let client = client(&emu);
    let token = CancellationToken::new();
    let batches: Arc<Mutex<Vec<Vec<String>>>> = Default::default();
    let reports: Arc<Mutex<Vec<smartai_events::CycleReport>>> = Default::default();
    let (batches2, reports2, emu2, stopper) = (batches.clone(), reports.clone(), emu.clone(), token.clone());
    let failed_once = Arc::new(Mutex::new(false));
    within(
        "run",
        client.run(
            move |events: Vec<WebhookEvent>| {
                let (batches, failed_once) = (batches2.clone(), failed_once.clone());
                async move {
                    batches.lock().unwrap().push(events.iter().map(|e| e.event_id().to_string()).collect());
                    let mut failed = failed_once.lock().unwrap();
                    if !*failed {
                        *failed = true;
                        return Err(Boom("first attempt fails"));
                    }
                    Ok(())
                }
            },
            RunOptions::new()
                .interval(Duration::from_millis(10))
                .drain_options(DrainOptions::new().limit(10))
                .ordered(true)
                .on_cycle(move |report| {
                    reports2.lock().unwrap().push(report.clone());
                    if emu2.pending_ids().is_empty() {
                        stopper.cancel();
                    }
                }),
            token.cancelled_owned(),
        ),
    )
    .await
    .unwrap();
    let batches = batches.lock().unwrap();
    assert_eq!(batches[0], batches[1], "the failed batch comes back whole");
    let handled: Vec<String> = batches[1..].concat();
    assert_eq!(handled, expected, "every event once, in queue order, after the retry");
    let reports = reports.lock().unwrap();
    assert!(reports[0].error.as_deref().unwrap().contains("first attempt fails"));
    assert_eq!(reports[0].cycle, 1);
    assert_eq!(reports.last().unwrap().drain.pending_count, 0);
    assert_eq!(reports.iter().map(|r| r.drain.events).sum::<u64>(), 40, "10 handed out twice, 30 once");
    assert_eq!(client.health().pending_count, 0);
}

/// Raw events (checked, not built) against the real server: a fetch read raw gives what
/// the same fetch read typed gives, malformed and unknown events included, and a raw
/// drain hands every event out once and empties the queue.
#[tokio::test]
async fn raw_events_carry_what_typed_events_carry_and_drain_the_same() {
    let emu = emulator().await;
    emu.generate(250);
    emu.enqueue(vec![
        serde_json::json!({"eventId": "bad_score", "event": "assessment.completed", "score": "high"}),
        serde_json::json!({"eventId": "new_type", "event": "assessment.reviewed", "x": [1]}),
    ]);
    let client = client(&emu);
    let typed = client.get_webhook_events(FetchOptions::new().limit(100)).await.unwrap();
    let raw = client.get_webhook_events_as::<RawEvent>(FetchOptions::new().limit(100)).await.unwrap();
    assert_eq!(raw.pending_count, typed.pending_count);
    let expected: Vec<RawEvent> = typed.events.into_iter().map(RawEvent::from).collect();
    assert_eq!(raw.events, expected);

    type Seen = HashMap<String, (EventKind, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Default::default();
    let sink = seen.clone();
    let summary = within(
        "raw drain",
        client.drain_as(
            move |events: Vec<RawEvent>| {
                let sink = sink.clone();
                async move {
                    let mut seen = sink.lock().unwrap();
                    for e in events {
                        let previous =
                            seen.insert(e.event_id().to_string(), (e.kind(), e.decode_error().map(String::from)));
                        assert!(previous.is_none(), "{} handed out twice", e.event_id());
                    }
                    Ok::<(), Boom>(())
                }
            },
            DrainOptions::new(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(summary.events, 252);
    assert!(emu.pending_ids().is_empty());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 252);
    assert_eq!(seen["new_type"], (EventKind::Unknown, None));
    let (kind, reason) = &seen["bad_score"];
    assert_eq!(*kind, EventKind::Unknown);
    assert!(reason.as_deref().unwrap_or("").contains("high"), "{reason:?}");
    // The generator also makes events of types this crate does not know yet; only the
    // malformed one carries a reason.
    let with_reason: Vec<_> = seen.iter().filter(|(_, (_, r))| r.is_some()).map(|(id, _)| id.as_str()).collect();
    assert_eq!(with_reason, ["bad_score"]);
}

#[tokio::test]
async fn a_dead_letter_hook_that_fails_holds_back_only_its_own_events() {
    let emu = emulator().await;
    emu.generate(5);
    let poison = emu.pending_ids()[0].clone();
    let client = client(&emu);
    let token = CancellationToken::new();
    let (emu2, poison2, stopper) = (emu.clone(), poison.clone(), token.clone());
    let cycles = Arc::new(Mutex::new(0u32));
    let cycles2 = cycles.clone();
    let handler = move |events: Vec<WebhookEvent>| {
        let bad = events.iter().any(|e| e.event_id() == poison2);
        async move { if bad { Err(Boom("cannot store it")) } else { Ok(()) } }
    };
    let options = RunOptions::new()
        .interval(Duration::from_millis(10))
        .max_attempts(1)
        .dead_letter(|_: Vec<WebhookEvent>, _: String| async { Err::<(), Boom>(Boom("the dead-letter table is full")) })
        .on_cycle(move |_| {
            let mut cycles = cycles2.lock().unwrap();
            *cycles += 1;
            // Events that arrive after the poison one was handed to the failing hook.
            if *cycles == 4 {
                emu2.generate(5);
            }
            if *cycles == 8 {
                stopper.cancel();
            }
        });
    let summary = within("run", client.run(handler, options, token.cancelled_owned())).await.unwrap();
    assert_eq!(emu.pending_ids(), [poison], "everything else is stored and acknowledged");
    assert_eq!(summary.acknowledged, 9);
    assert_eq!(client.health().events_dead_lettered, 0);
}

#[tokio::test]
async fn a_raw_run_dead_letters_a_poison_event_and_acknowledges_the_rest() {
    let emu = emulator().await;
    emu.generate(12);
    let poison = emu.pending_ids()[3].clone();
    let client = client(&emu);
    let token = CancellationToken::new();
    let dead: Arc<Mutex<Vec<String>>> = Default::default();
    let (dead2, poison2, stopper) = (dead.clone(), poison.clone(), token.clone());
    within(
        "raw run",
        client.run_as(
            move |events: Vec<RawEvent>| {
                let poison = poison2.clone();
                async move {
                    if events.iter().any(|e| e.event_id() == poison) {
                        return Err(Boom("poison"));
                    }
                    Ok(())
                }
            },
            RunOptions::<RawEvent>::for_events().interval(Duration::from_millis(10)).max_attempts(1).dead_letter(
                move |events: Vec<RawEvent>, _reason: String| {
                    let (dead, stopper) = (dead2.clone(), stopper.clone());
                    async move {
                        dead.lock().unwrap().extend(events.iter().map(|e| e.event_id().to_string()));
                        stopper.cancel();
                        Ok::<(), Boom>(())
                    }
                },
            ),
            token.cancelled_owned(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(*dead.lock().unwrap(), vec![poison]);
    assert!(emu.pending_ids().is_empty());
}

/// A function for a handler to call with its batch's size, and what the first call sent:
/// so that a test can act while the handler works.
fn first_call() -> (impl Fn(usize) + Clone + Send + Sync + 'static, tokio::sync::oneshot::Receiver<usize>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let signal = move |size: usize| {
        if let Some(tx) = tx.lock().unwrap().take() {
            let _ = tx.send(size);
        }
    };
    (signal, rx)
}

#[tokio::test]
async fn close_ends_calls_in_flight_abandons_a_drain_and_stops_a_run_that_still_acknowledges() {
    let emu = emulator().await;
    emu.generate(30);

    // A fetch the server holds ends at once with Cancelled; later calls fail the same way.
    let held = client(&emu);
    emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::Hang));
    let fetch = tokio::spawn({
        let held = held.clone();
        async move { held.get_webhook_events(FetchOptions::new()).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    held.close();
    let err = within("a held fetch after close", fetch).await.unwrap().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(err.to_string(), "cancelled: the client was closed", "says why");
    assert!(held.is_closed());
    let ack = held.acknowledge_webhook_events(&["evt_x"]).await.unwrap_err();
    assert_eq!(ack.code(), ErrorCode::Cancelled);
    let next = held.batches(DrainOptions::new()).next_batch().await.unwrap_err();
    assert_eq!(next.code(), ErrorCode::Cancelled);
    assert_eq!(emu.pending_ids().len(), 30);

    // A drain closed while its handler works: the batch in hand is not acknowledged.
    let drained = client(&emu);
    let (entered, entered_rx) = first_call();
    let drain = tokio::spawn({
        let drained = drained.clone();
        async move {
            drained
                .drain(
                    move |events: Vec<WebhookEvent>| {
                        entered(events.len());
                        async move {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            Ok::<(), Boom>(())
                        }
                    },
                    DrainOptions::new().limit(10),
                )
                .await
        }
    });
    assert_eq!(within("the drain's handler", entered_rx).await.unwrap(), 10);
    drained.close();
    let err = within("a drain after close", drain).await.unwrap().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(emu.pending_ids().len(), 30, "the abandoned batch comes back");

    // A run closed while its handler works: the handler finishes, its batch is acknowledged,
    // and the run returns instead of waiting out its interval.
    let running = client(&emu);
    let (entered, entered_rx) = first_call();
    let run = tokio::spawn({
        let running = running.clone();
        async move {
            running
                .run(
                    move |events: Vec<WebhookEvent>| {
                        entered(events.len());
                        async move {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            Ok::<(), Boom>(())
                        }
                    },
                    RunOptions::new().interval(Duration::from_secs(600)).drain_options(DrainOptions::new().limit(10)),
                    std::future::pending(),
                )
                .await
        }
    });
    assert_eq!(within("the run's handler", entered_rx).await.unwrap(), 10);
    running.close();
    let summary = within("a run after close", run).await.unwrap().unwrap();
    assert_eq!((summary.events, summary.acknowledged), (10, 10));
    assert_eq!(emu.pending_ids().len(), 20, "the batch in hand was acknowledged, nothing more fetched");
    let err = running
        .run(|_e: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) }, RunOptions::new(), std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_whose_handler_fails_once_the_client_is_closed_ends_with_closed_every_time() {
    // The close and the handler's failure come in the same poll here (a binding's handler
    // closes the client and then raises, its result reaching the drain an instant later).
    // The drain was in flight when the client closed: it ends with Closed, never Handler.
    let emu = emulator().await;
    for round in 0..50 {
        emu.reset();
        emu.generate(3);
        let closing = client(&emu);
        let handle = closing.clone();
        let err = closing
            .drain(
                move |_events: Vec<WebhookEvent>| {
                    let handle = handle.clone();
                    async move {
                        if round % 2 == 1 {
                            // From another thread, while the drain waits for the handler.
                            let (tx, rx) = tokio::sync::oneshot::channel();
                            std::thread::spawn(move || {
                                handle.close();
                                let _ = tx.send(());
                            });
                            rx.await.unwrap();
                        } else {
                            handle.close();
                        }
                        Err::<(), Boom>(Boom("the pool closed"))
                    }
                },
                DrainOptions::new().limit(3),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Cancelled, "round {round}: {err}");
        assert_eq!(emu.pending_ids().len(), 3, "round {round}: the batch in hand is not acknowledged");
    }
}

#[tokio::test]
async fn a_batch_put_back_is_not_acknowledged_and_is_handed_out_again() {
    let emu = emulator().await;
    emu.generate(15);
    let client = client(&emu);
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new().limit(10));
    let first = batches.next_batch().await.unwrap().unwrap();
    let first_ids: Vec<String> = first.events.iter().map(|e| e.event_id().to_string()).collect();
    batches.put_back(&first_ids);
    assert!(batches.owed().is_empty());
    assert_eq!(batches.summary().events, 0);

    // Nothing was acknowledged, and the same events come again, not skipped as seen.
    let again = batches.next_batch().await.unwrap().unwrap();
    let again_ids: Vec<String> = again.events.iter().map(|e| e.event_id().to_string()).collect();
    assert_eq!(again_ids, first_ids);
    assert_eq!(emu.pending_ids().len(), 15);
    let mut seen = again_ids;
    while let Some(batch) = batches.next_batch().await.unwrap() {
        seen.extend(batch.events.iter().map(|e| e.event_id().to_string()));
    }
    assert_eq!(seen.len(), 15);
    assert!(emu.pending_ids().is_empty());
    assert_eq!((batches.summary().events, batches.summary().acknowledged), (15, 15));

    // Put back after the last fetch, which found nothing more: the drain goes on for them.
    emu.generate(3);
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new());
    let last = batches.next_batch().await.unwrap().unwrap();
    let ids: Vec<String> = last.events.iter().map(|e| e.event_id().to_string()).collect();
    batches.put_back(&ids);
    assert_eq!(batches.next_batch().await.unwrap().unwrap().events.len(), 3);
    assert!(batches.next_batch().await.unwrap().is_none());
    assert!(emu.pending_ids().is_empty());
}

#[tokio::test]
async fn an_abandoned_batch_is_handed_out_again_before_it_is_acknowledged() {
    let emu = emulator().await;
    emu.generate(30);
    let client = client(&emu);
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new().limit(10));
    let first = batches.next_batch().await.unwrap().unwrap();
    let first_ids: Vec<String> = first.events.iter().map(|e| e.event_id().to_string()).collect();
    batches.abandon(); // say saving it failed

    // The server returns the abandoned events first: this drain hands them out again, and
    // only the next step acknowledges them.
    let again = batches.next_batch().await.unwrap().unwrap();
    let again_ids: Vec<String> = again.events.iter().map(|e| e.event_id().to_string()).collect();
    assert_eq!(again_ids, first_ids);
    assert_eq!(emu.pending_ids().len(), 30, "nothing acknowledged yet");
    let mut handed = again_ids;
    while let Some(batch) = batches.next_batch().await.unwrap() {
        handed.extend(batch.events.iter().map(|e| e.event_id().to_string()));
    }
    assert_eq!(handed.len(), 30, "every event handed out once after the abandon");
    assert!(emu.pending_ids().is_empty());
    assert_eq!((batches.summary().events, batches.summary().acknowledged), (40, 30));
}

#[tokio::test]
async fn an_abandoned_last_batch_ends_the_drain_and_waits_in_the_queue() {
    let emu = emulator().await;
    emu.generate(5);
    let client = client(&emu);
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new().limit(10));
    let only = batches.next_batch().await.unwrap().unwrap();
    assert_eq!((only.events.len(), only.pending_count), (5, 0));
    batches.abandon();
    // Not fetched again at once (a body that keeps failing would spin): the drain ends, and
    // the next one hands the events out.
    assert!(batches.next_batch().await.unwrap().is_none());
    assert_eq!(emu.pending_ids().len(), 5);
    assert_eq!(batches.summary().acknowledged, 0);
    let mut next = client.batches_as::<RawEvent>(DrainOptions::new().limit(10));
    assert_eq!(next.next_batch().await.unwrap().unwrap().events.len(), 5);
}

#[tokio::test]
async fn abandoning_a_batch_with_repeated_events_hands_out_only_its_own_again() {
    let emu = emulator().await;
    emu.generate(4);
    let client = client(&emu);
    let ids = |batch: &smartai_events::WebhookEventBatch<RawEvent>| -> Vec<String> {
        batch.events.iter().map(|e| e.event_id().to_string()).collect()
    };
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new().limit(2));
    let first = batches.next_batch().await.unwrap().unwrap();
    let handled = first.events[0].event_id().to_string();
    let raw = serde_json::from_str::<serde_json::Value>(first.events[0].raw_json()).unwrap();
    let mut handed = ids(&first);
    // The first batch is acknowledged; the server then returns one of its events again (it
    // sorts first, by its storedAt), next to a new one, and that batch is abandoned.
    batches.commit().await.unwrap();
    assert_eq!(emu.enqueue(vec![raw]), 1);
    let second = batches.next_batch().await.unwrap().unwrap();
    assert_eq!(second.events.len(), 1, "the repeated event is not handed out");
    let abandoned = second.events[0].event_id().to_string();
    handed.extend(ids(&second));
    batches.abandon();
    while let Some(batch) = batches.next_batch().await.unwrap() {
        handed.extend(ids(&batch));
    }
    let count = |id: &str| handed.iter().filter(|h| *h == id).count();
    assert_eq!(count(&handled), 1, "the event handled before is not handed out again: {handed:?}");
    assert_eq!(count(&abandoned), 2, "the abandoned event is handed out again: {handed:?}");
    assert_eq!(handed.len(), 5, "four events, one of them twice: {handed:?}");
    assert!(emu.pending_ids().is_empty());
}

#[tokio::test]
async fn a_server_that_keeps_returning_handled_events_ends_the_drain_instead_of_spinning() {
    let emu = emulator().await;
    emu.generate(1);
    let client = client(&emu);
    let page = client.get_webhook_events(smartai_events::FetchOptions::new()).await.unwrap();
    let body = serde_json::json!({ "events": [page.events[0].raw()], "pendingCount": 5 }).to_string();
    emu.clear_request_log();
    fetches_answer(&emu, body);
    let calls = Arc::new(Mutex::new(0));
    let calls2 = calls.clone();
    let summary = within(
        "drain",
        client.drain(
            move |_: Vec<WebhookEvent>| {
                *calls2.lock().unwrap() += 1;
                async { Ok::<(), Boom>(()) }
            },
            DrainOptions::new(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(*calls.lock().unwrap(), 1, "the event is handed out once");
    assert_eq!(requests(&emu, Endpoint::Fetch).len(), 2, "one fetch that brought nothing new ends it");
    assert_eq!(requests(&emu, Endpoint::Acknowledge).len(), 2, "the repeat is acknowledged again");
    assert_eq!((summary.batches, summary.events, summary.pending_count), (2, 1, 5));
}

/// Every fetch answers with this body (a 200 the emulator sends without touching its queue).
fn fetches_answer(emu: &smartai_emulator::Emulator, body: String) {
    emu.set_faults(vec![FaultRule {
        endpoint: Some(Endpoint::Fetch),
        probability: 1.0,
        remaining: None,
        kind: FaultKind::Status { status: 200, retry_after: None, body: Some(body) },
    }]);
}

#[tokio::test]
async fn an_event_twice_in_one_abandoned_batch_is_new_again_and_never_acknowledged() {
    let emu = emulator().await;
    let event = serde_json::json!({
        "eventId": "evt_twice", "event": "assessment.reviewed", "storedAt": "2026-06-09T10:31:00.000Z"
    });
    fetches_answer(&emu, serde_json::json!({ "events": [event, event], "pendingCount": 1 }).to_string());
    let client = client(&emu);
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new());
    let first = batches.next_batch().await.unwrap().unwrap();
    assert_eq!(first.events.len(), 1, "handed out once");
    assert_eq!(batches.owed(), ["evt_twice"], "owed once");
    batches.abandon();
    let again = within("next batch", batches.next_batch()).await.unwrap();
    assert_eq!(again.map(|b| b.events.len()), Some(1), "the abandoned event is handed out again");
    assert!(requests(&emu, Endpoint::Acknowledge).is_empty(), "nothing was acknowledged");
}

#[tokio::test]
async fn a_server_that_sends_more_than_the_limit_cannot_take_a_drain_past_max_events() {
    let emu = emulator().await;
    // Stored now: the emulator's retention would drop an old event at once.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let event = |id: &str| serde_json::json!({ "eventId": id, "event": "assessment.reviewed", "storedAt": now });
    // The queue holds three events, and every fetch answers with all three, whatever its limit.
    assert_eq!(emu.enqueue(vec![event("a"), event("b"), event("c")]), 3);
    let body = serde_json::json!({ "events": [event("a"), event("b"), event("c")], "pendingCount": 0 });
    fetches_answer(&emu, body.to_string());
    let client = client(&emu);
    let handed = Arc::new(Mutex::new(Vec::new()));
    let handed2 = handed.clone();
    let summary = within(
        "drain",
        client.drain(
            move |events: Vec<WebhookEvent>| {
                handed2.lock().unwrap().extend(events.iter().map(|e| e.event_id().to_string()));
                async { Ok::<(), Boom>(()) }
            },
            DrainOptions::new().max_events(2),
        ),
    )
    .await
    .unwrap();
    assert_eq!(*handed.lock().unwrap(), ["a", "b"]);
    assert_eq!(summary.events, 2);
    assert_eq!(emu.pending_ids(), ["c"], "only what was handed out is acknowledged");
}

#[tokio::test]
async fn an_event_with_a_repeated_id_key_is_handed_out_malformed_and_acknowledged_under_the_queue_s_id() {
    // The server (JSON.parse, or the emulator's serde_json::Value) keeps the last of repeated
    // keys, and holds the event under "second". Read as ID "", it could never be
    // acknowledged and came back with every drain.
    for raw in [false, true] {
        let emu = emulator().await;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let text = format!(
            r#"[{{"eventId":"first","event":"assessment.sent","assessmentId":"a","candidates":[],
            "storedAt":"{now}","eventId":"second"}}]"#
        );
        assert_eq!(emu.enqueue_json(&text).unwrap(), 1);
        assert_eq!(emu.pending_ids(), ["second"]);
        let client = client(&emu);
        type Seen = Vec<(String, Option<String>)>;
        let seen: Arc<Mutex<Seen>> = Default::default();
        let sink = seen.clone();
        let summary = if raw {
            within(
                "raw drain",
                client.drain_as(
                    move |events: Vec<RawEvent>| {
                        sink.lock().unwrap().extend(
                            events.iter().map(|e| (e.event_id().to_string(), e.decode_error().map(String::from))),
                        );
                        async { Ok::<(), Boom>(()) }
                    },
                    DrainOptions::new(),
                ),
            )
            .await
        } else {
            within(
                "drain",
                client.drain(
                    move |events: Vec<WebhookEvent>| {
                        sink.lock().unwrap().extend(
                            events.iter().map(|e| (e.event_id().to_string(), e.decode_error().map(String::from))),
                        );
                        async { Ok::<(), Boom>(()) }
                    },
                    DrainOptions::new(),
                ),
            )
            .await
        }
        .unwrap();
        assert_eq!((summary.events, summary.acknowledged), (1, 1), "raw: {raw}");
        assert!(emu.pending_ids().is_empty(), "raw: {raw}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "second");
        assert!(seen[0].1.as_deref().is_some_and(|r| r.contains("duplicate field `eventId`")), "{seen:?}");
    }
}

#[tokio::test]
async fn a_fetch_of_only_events_without_an_id_ends_the_drain_after_handing_them_out() {
    let emu = emulator().await;
    let idless = serde_json::json!({ "event": "assessment.reviewed", "storedAt": "2026-06-09T10:31:00.000Z" });
    fetches_answer(&emu, serde_json::json!({ "events": [idless], "pendingCount": 5 }).to_string());
    let client = client(&emu);
    let calls = Arc::new(Mutex::new(0));
    let calls2 = calls.clone();
    let summary = within(
        "drain",
        client.drain(
            move |events: Vec<WebhookEvent>| {
                assert_eq!(events[0].event_id(), "");
                *calls2.lock().unwrap() += 1;
                async { Ok::<(), Boom>(()) }
            },
            DrainOptions::new().limit(1),
        ),
    )
    .await
    .unwrap();
    assert_eq!(*calls.lock().unwrap(), 1, "handed out once, not in a tight loop");
    assert_eq!(requests(&emu, Endpoint::Fetch).len(), 1);
    assert!(requests(&emu, Endpoint::Acknowledge).is_empty(), "nothing that could be acknowledged");
    assert_eq!((summary.batches, summary.events, summary.pending_count), (1, 1, 5));
}

#[tokio::test]
async fn an_acknowledge_dropped_half_way_is_sent_again_by_the_next_step() {
    let emu = emulator().await;
    emu.generate(10);
    let client = client(&emu);
    let mut batches = client.batches_as::<RawEvent>(DrainOptions::new().limit(5));
    batches.next_batch().await.unwrap().unwrap();
    emu.add_fault(fault(Endpoint::Acknowledge, 1, FaultKind::Latency { ms: 2_000 }));
    // The caller gives up while the acknowledge is on its way (a cancelled task).
    let step = tokio::time::timeout(Duration::from_millis(200), batches.next_batch()).await;
    assert!(step.is_err(), "the step was dropped during the slow acknowledge");
    assert_eq!(batches.owed().len(), 5, "the batch is still owed");
    let second = batches.next_batch().await.unwrap().unwrap();
    assert_eq!(second.events.len(), 5);
    assert!(batches.next_batch().await.unwrap().is_none());
    assert!(emu.pending_ids().is_empty(), "both batches acknowledged");
}

#[tokio::test]
async fn a_stop_between_events_retried_one_by_one_leaves_the_rest_unhandled_and_unacknowledged() {
    let emu = emulator().await;
    emu.generate(10);
    let client = client(&emu);
    let token = CancellationToken::new();
    let calls: Arc<Mutex<Vec<usize>>> = Default::default();
    let (calls2, stopper) = (calls.clone(), token.clone());
    within(
        "run",
        client.run(
            move |events: Vec<WebhookEvent>| {
                let (calls, stopper) = (calls2.clone(), stopper.clone());
                async move {
                    let first = calls.lock().unwrap().is_empty();
                    calls.lock().unwrap().push(events.len());
                    if first {
                        // The whole batch fails; the next cycle retries its events one by one.
                        return Err(Boom("store down"));
                    }
                    // The first of those retries succeeds, and a stop comes meanwhile.
                    stopper.cancel();
                    Ok(())
                }
            },
            RunOptions::new().interval(Duration::from_millis(10)),
            token.cancelled_owned(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(*calls.lock().unwrap(), [10, 1], "no event handled after the stop");
    assert_eq!(emu.pending_ids().len(), 9, "the one handled is acknowledged, the rest not");
}

#[tokio::test]
async fn a_handler_that_fails_because_of_the_stop_is_no_error_and_counts_no_attempt() {
    for ordered in [false, true] {
        let emu = emulator().await;
        emu.generate(10);
        let client = client(&emu);
        let token = CancellationToken::new();
        let reports: Arc<Mutex<Vec<smartai_events::CycleReport>>> = Default::default();
        let (reports2, stopper) = (reports.clone(), token.clone());
        let mut options = RunOptions::new()
            .interval(Duration::from_millis(10))
            .ordered(ordered)
            .max_attempts(1)
            .on_cycle(move |report| reports2.lock().unwrap().push(report.clone()));
        if !ordered {
            options = options.dead_letter(|_: Vec<WebhookEvent>, _: String| async { Err(Boom("never called")) });
        }
        let summary = within(
            "run",
            client.run(
                move |_: Vec<WebhookEvent>| {
                    let stopper = stopper.clone();
                    async move {
                        // As a forwarder cut short by the stop: the stop comes, the handler gives up.
                        stopper.cancel();
                        Err(Boom("stopped before the event was delivered"))
                    }
                },
                options,
                token.cancelled_owned(),
            ),
        )
        .await
        .unwrap();
        assert_eq!(summary.errors, 0, "ordered={ordered}");
        let health = client.health();
        assert_eq!((health.errors, health.last_error_code.clone()), (0, None), "ordered={ordered}");
        let reports = reports.lock().unwrap();
        assert!(reports.iter().all(|r| r.error.is_none()), "ordered={ordered}: {reports:?}");
        assert_eq!(emu.pending_ids().len(), 10, "ordered={ordered}: nothing acknowledged");
    }
}

#[tokio::test]
async fn a_dead_letter_hook_that_fails_because_of_the_stop_is_no_error() {
    let emu = emulator().await;
    emu.generate(5);
    let poison = emu.pending_ids()[0].clone();
    let client = client(&emu);
    let token = CancellationToken::new();
    let reports: Arc<Mutex<Vec<smartai_events::CycleReport>>> = Default::default();
    let (reports2, stopper, poison2) = (reports.clone(), token.clone(), poison.clone());
    let summary = within(
        "run",
        client.run(
            move |events: Vec<WebhookEvent>| {
                let bad = events.iter().any(|e| e.event_id() == poison2);
                async move { if bad { Err(Boom("cannot store it")) } else { Ok(()) } }
            },
            RunOptions::new()
                .interval(Duration::from_millis(10))
                .max_attempts(1)
                .dead_letter(move |_: Vec<WebhookEvent>, _: String| {
                    let stopper = stopper.clone();
                    async move {
                        // As a hook cut short by the stop: the stop comes, the hook gives up.
                        stopper.cancel();
                        Err(Boom("stopped before the event was parked"))
                    }
                })
                .on_cycle(move |report| reports2.lock().unwrap().push(report.clone())),
            token.cancelled_owned(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(emu.pending_ids(), [poison], "the poison event stays queued, the rest is acknowledged");
    // The batch failed, then the poison event alone: two errors, and none for the hook.
    assert_eq!(summary.errors, 2, "{summary:?}");
    let reports = reports.lock().unwrap();
    assert_eq!(reports.last().unwrap().error, None, "{reports:?}");
    let health = client.health();
    assert_eq!(health.errors, 2, "{health:?}");
    assert!(!health.last_error.unwrap_or_default().contains("parked"));
    assert_eq!(health.events_dead_lettered, 0);
}

/// Stopped, a run waits for the handler in progress; closing the client as well ends that
/// wait (a handler that never returns could otherwise keep it for ever). Either order works,
/// and nothing of the batch is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_given_both_its_stop_and_a_close_stops_waiting_for_a_handler_that_never_returns() {
    for close_first in [false, true] {
        let emu = emulator().await;
        emu.generate(5);
        let client = builder(&emu).build().unwrap();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let started_tx = std::sync::Mutex::new(Some(started_tx));
        let handler = move |_: Vec<WebhookEvent>| {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            std::future::pending::<Result<(), Boom>>()
        };
        let token = CancellationToken::new();
        let run = tokio::spawn({
            let (client, token) = (client.clone(), token.clone());
            async move { client.run(handler, RunOptions::new(), token.cancelled_owned()).await }
        });
        within("the handler starts", started).await.unwrap();
        let close = || client.close();
        let stop = || token.cancel();
        let (first, second): (&dyn Fn(), &dyn Fn()) = if close_first { (&close, &stop) } else { (&stop, &close) };
        first();
        // One of them alone is the graceful stop: the run still waits for the handler.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!run.is_finished(), "close_first={close_first}: one stop alone did not wait for the handler");
        second();
        let summary = within("the run after both", run).await.unwrap().unwrap();
        assert_eq!((summary.events, summary.acknowledged), (5, 0), "close_first={close_first}");
        assert_eq!(emu.pending_ids().len(), 5, "close_first={close_first}: nothing acknowledged");
    }
}
