//! The secret key never leaves the client: not in a log line at any level, not in the
//! `Debug` or `Display` of any public value, not in any error. The full API key appears
//! only masked, and event payloads (candidate emails) are not logged at `info` or above.
//!
//! Every record the SDK emits, down to `trace`, is captured while the client goes through
//! success, retries, rate limits, a skewed clock, authentication failures, decode
//! problems, handler failures and dead letters.

mod common;

use common::*;
use serde_json::json;
use smartai_emulator::{Endpoint, FaultKind};
use smartai_events::{
    AssessmentClient, CancellationToken, DrainOptions, FetchOptions, RunOptions, SessionRequest, SessionUser,
    WebhookEvent,
};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Level;

/// Log lines as formatted text, with their level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(Level, String)>>>);

struct LineWriter {
    sink: Captured,
    level: Level,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        self.sink.0.lock().unwrap().push((self.level, text));
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter { sink: self.clone(), level: Level::TRACE, buf: Vec::new() }
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter { sink: self.clone(), level: *meta.level(), buf: Vec::new() }
    }
}

#[derive(Debug)]
struct Boom;
impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the store refused it")
    }
}
impl std::error::Error for Boom {}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_in_any_log_line_debug_output_or_error() {
    let logs = Captured::default();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(Level::TRACE).with_writer(logs.clone()).with_ansi(false).finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let emu = emulator().await;
    let secret = emu.secret_key().to_string();
    let api_key = emu.api_key().to_string();
    let mut texts: Vec<String> = Vec::new();
    let mut shown = |label: &str, text: String| texts.push(format!("{label}: {text}"));

    let builder = builder(&emu);
    shown("builder", format!("{builder:?}"));
    let client = builder.build().unwrap();
    shown("client", format!("{client:?}"));
    shown("config", format!("{:?}", client.config()));

    // Success, with events whose payloads must not reach info-level logs.
    emu.generate(30);
    emu.enqueue(vec![json!({"eventId": "evt_bad", "event": "assessment.completed", "storedAt": "not a date"})]);
    let batch = client.get_webhook_events(FetchOptions::default().limit(100)).await.unwrap();
    let emails: Vec<String> = batch
        .events
        .iter()
        .filter_map(|e| match e {
            WebhookEvent::AssessmentCompleted(r) | WebhookEvent::AssessmentDisqualified(r) => {
                Some(r.candidate_email.clone())
            }
            _ => None,
        })
        .collect();
    assert!(!emails.is_empty(), "the generated events include completed assessments");
    shown("batch", format!("{batch:?}"));
    // An email where an object belongs: serde's reason for the failed decode quotes it.
    let misplaced =
        json!({"eventId": "evt_sent_bad", "event": "assessment.sent", "assessmentId": "a1", "candidates": [emails[0]]});
    emu.enqueue(vec![misplaced]);
    let batch = client.get_webhook_events(FetchOptions::default().limit(100)).await.unwrap();
    let bad = batch.events.iter().find(|e| e.event_id() == "evt_sent_bad").unwrap();
    assert!(bad.decode_error().is_some_and(|reason| reason.contains(&emails[0])), "the event itself says why");

    // Retries and a rate limit.
    emu.set_faults(vec![
        fault(Endpoint::Fetch, 1, status(503)),
        fault(Endpoint::Fetch, 1, FaultKind::status_retry_after(429, "0")),
        fault(Endpoint::Acknowledge, 1, FaultKind::Reset),
    ]);
    let summary = client.drain(|_events: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) }, DrainOptions::default());
    shown("drain summary", format!("{:?}", within("drain", summary).await.unwrap()));

    // Errors of every kind the server can cause.
    emu.set_faults(vec![fault(Endpoint::Fetch, 10, status(500))]);
    let error = client.get_webhook_events(FetchOptions::default()).await.unwrap_err();
    shown("server error", format!("{error} / {error:?}"));
    emu.set_faults(vec![fault(Endpoint::Fetch, 1, FaultKind::MalformedJson)]);
    let error = client.get_webhook_events(FetchOptions::default()).await.unwrap_err();
    shown("decode error", format!("{error} / {error:?}"));

    // A run whose fetches cannot be decoded: the error quotes the response, which names a
    // candidate, so it stays out of the warning, of health() and of the cycle reports.
    let email = emails[0].clone();
    let body = format!(r#"{{"events":[{{"candidateEmail":"{email}","candidateName":"Zoë"}}],"pendingCount":"1"}}"#);
    emu.set_faults(vec![fault(
        Endpoint::Fetch,
        100,
        FaultKind::Status { status: 200, retry_after: None, body: Some(body) },
    )]);
    let token = CancellationToken::new();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let (seen, stopper) = (reports.clone(), token.clone());
    let options = RunOptions::new().interval(Duration::from_millis(10)).on_cycle(move |report| {
        let mut seen = seen.lock().unwrap();
        seen.push(report.error.clone());
        if seen.len() == 2 {
            stopper.cancel();
        }
    });
    let run = client.run(|_events: Vec<WebhookEvent>| async { Ok::<(), Boom>(()) }, options, token.cancelled_owned());
    within("run", run).await.unwrap();
    let health = client.health();
    let mut reported: Vec<String> = reports.lock().unwrap().iter().map(|e| e.clone().unwrap_or_default()).collect();
    reported.push(health.last_error.clone().unwrap_or_default());
    for text in &reported {
        assert!(text.starts_with("could not decode the response (HTTP 200, request "), "{text}");
        assert!(!text.contains(&email), "a candidate email is reported: {text}");
    }
    assert_eq!(health.last_error_code.as_deref(), Some("DECODE"));
    emu.clear_faults();
    let wrong = AssessmentClient::builder()
        .api_key(&api_key)
        .secret_key(format!("{secret}x"))
        .base_url(emu.url())
        .min_poll_interval(Duration::ZERO)
        .build()
        .unwrap();
    let error = wrong.get_webhook_events(FetchOptions::default()).await.unwrap_err();
    shown("authentication error", format!("{error} / {error:?} / {wrong:?}"));

    // A skewed clock: the client corrects it and signs again.
    emu.set_clock_offset_ms(20 * 60 * 1000);
    client.get_webhook_events(FetchOptions::default()).await.unwrap();
    emu.set_clock_offset_ms(0);

    // Bad configuration names the bad value, never the secret.
    for base_url in ["http://example.com", "not a url", "ftp://127.0.0.1"] {
        let error = AssessmentClient::builder().api_key(&api_key).secret_key(&secret).base_url(base_url).build();
        shown("configuration error", format!("{:?}", error.unwrap_err()));
    }
    let error = AssessmentClient::builder().api_key(&api_key).base_url(emu.url()).build().unwrap_err();
    shown("missing secret", format!("{error} / {error:?}"));

    // A session, a handler failure, a dead letter and the health report.
    let session = client
        .create_session(
            SessionRequest::new(vec![SessionUser { name: "Ada".into(), email: "ada@example.com".into() }])
                .recruiter_id("r1"),
        )
        .await
        .unwrap();
    shown("session", format!("{session:?}"));
    emu.generate(5);
    let error = client
        .drain(|_events: Vec<WebhookEvent>| async { Err::<(), Boom>(Boom) }, DrainOptions::default())
        .await
        .unwrap_err();
    shown("handler error", format!("{error} / {error:?}"));
    let token = CancellationToken::new();
    let stopper = token.clone();
    let options = RunOptions::new().interval(Duration::from_millis(10)).max_attempts(1).dead_letter(
        move |_events: Vec<WebhookEvent>, _reason: String| {
            let stopper = stopper.clone();
            async move {
                stopper.cancel();
                Ok::<(), Boom>(())
            }
        },
    );
    shown("run options", format!("{options:?}"));
    let run =
        client.run(|_events: Vec<WebhookEvent>| async { Err::<(), Boom>(Boom) }, options, token.cancelled_owned());
    shown("run summary", format!("{:?}", within("run", run).await.unwrap()));
    shown("health", format!("{:?}", client.health()));

    let logs = logs.0.lock().unwrap().clone();
    assert!(logs.iter().any(|(_, l)| l.contains("retrying")), "retries were logged");
    let full = |l: &String| l.contains("the poll's error in full") && l.contains(&emails[0]);
    assert!(logs.iter().any(|(level, l)| *level == Level::DEBUG && full(l)), "the undecodable response at debug level");
    assert!(logs.iter().any(|(level, _)| *level == Level::TRACE || *level == Level::DEBUG), "debug records captured");
    let everything: Vec<String> = texts.into_iter().chain(logs.iter().map(|(_, l)| format!("log: {l}"))).collect();
    // A failure names where the key showed, with the key itself blanked out.
    for text in &everything {
        let redacted = || text.replace(&secret, "<SECRET>").replace(&api_key, "<API KEY>");
        assert!(!text.contains(&secret), "the secret key shows in {}", redacted());
        assert!(!text.contains(&api_key), "the full API key shows in {}", redacted());
    }
    for (level, line) in logs.iter().filter(|(level, _)| *level <= Level::INFO) {
        for email in &emails {
            assert!(!line.contains(email.as_str()), "a candidate email is logged at {level}: {line}");
        }
    }
}
