//! `forward` against a local HTTP receiver that fails now and then.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use rand::Rng;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec_test_forward_0123";

#[derive(Default)]
struct Received {
    /// Successful deliveries in arrival order: (event id, signature header, body).
    ok: Vec<(String, Option<String>, String)>,
    failed: usize,
}

async fn hook(State(state): State<Arc<Mutex<Received>>>, headers: HeaderMap, body: String) -> StatusCode {
    let fail = rand::rng().random_bool(0.2);
    let mut r = state.lock().unwrap();
    if fail {
        r.failed += 1;
        return if r.failed % 2 == 0 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
    }
    let id = headers.get("x-smartai-event-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let sig = headers.get("x-smartai-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
    r.ok.push((id, sig, body));
    StatusCode::NO_CONTENT
}

async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received::default()));
    let app = Router::new().route("/hook", post(hook)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

/// `t=<ms>,v1=<hex>` over `"<t>.<body>"`, checked the way a receiver would.
fn verify(header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    t.parse::<i64>().is_ok() && smartai_events::signing::verify(SECRET, &format!("{t}.{body}"), v1)
}

fn first_seen_order(ok: &[(String, Option<String>, String)]) -> Vec<String> {
    let mut seen = HashSet::new();
    ok.iter().filter(|(id, _, _)| seen.insert(id.clone())).map(|(id, _, _)| id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_delivers_every_event_in_order_signed() {
    let emu = emulator(400).await;
    let order = emu.pending_ids();
    let (url, received) = receiver().await;

    let mut cmd = command(&emu);
    cmd.args(["forward", "--json", "--to", &url, "--secret", SECRET, "--limit", "50"]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(120), "queue empty", || {
        let pending = emu.stats().pending;
        async move { pending == 0 }
    })
    .await;
    p.signal("TERM");
    let status = p.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "{status:?}\n{}", p.stderr());
    assert!(!p.stdout().contains(SECRET) && !p.stderr().contains(SECRET), "the secret was echoed");

    let r = received.lock().unwrap();
    assert!(r.failed > 0, "the receiver failed now and then");
    // At least once, in queue order (the queue's order is the order within every batch).
    assert_eq!(first_seen_order(&r.ok), order);
    for (id, sig, body) in &r.ok {
        let sig = sig.as_deref().unwrap_or_else(|| panic!("{id} unsigned"));
        assert!(verify(sig, body), "bad signature for {id}: {sig}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["eventId"], id.as_str(), "the body is the event's JSON");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_once_unsigned_then_exits() {
    let emu = emulator(120).await;
    let order = emu.pending_ids();
    let (url, received) = receiver().await;
    let mut cmd = command(&emu);
    cmd.args(["forward", "--once", "--to", &url]).args(FAST);
    let (status, out, err) = run(cmd, Duration::from_secs(120)).await;
    assert!(status.success(), "{out}\n{err}");
    assert_eq!(emu.stats().pending, 0);
    let r = received.lock().unwrap();
    assert_eq!(first_seen_order(&r.ok), order);
    assert!(r.ok.iter().all(|(_, sig, _)| sig.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_a_delivery_and_nothing_is_acknowledged() {
    let emu = emulator(3).await;
    // The endpoint moved: every POST gets a redirect to a page that answers 200 to anything.
    let landed = Arc::new(Mutex::new(0usize));
    let count = landed.clone();
    let app = Router::new()
        .route("/hook", post(|| async { (StatusCode::FOUND, [("location", "/login")]) }))
        .route("/hook307", post(|| async { (StatusCode::TEMPORARY_REDIRECT, [("location", "/login")]) }))
        .route(
            "/login",
            axum::routing::any(move || {
                let count = count.clone();
                async move {
                    *count.lock().unwrap() += 1;
                    StatusCode::OK
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["/hook", "/hook307"] {
        let mut cmd = command(&emu);
        cmd.args(["forward", "--once", "--to", &format!("{base}{path}")]).args(FAST);
        let mut p = Proc::spawn(cmd);
        // Retried for as long as it runs: wait for a few failed attempts, then stop it.
        eventually(Duration::from_secs(30), "failed deliveries", || {
            let err = p.stderr();
            async move { err.matches("delivery failed").count() >= 2 }
        })
        .await;
        p.signal("TERM");
        let status = p.wait(Duration::from_secs(30)).await;
        let err = p.stderr();
        assert!(status.success(), "{path}: a stop during retries exits 0\n{err}");
        assert!(err.contains("HTTP 302") || err.contains("HTTP 307"), "{path}: {err}");
    }
    assert_eq!(*landed.lock().unwrap(), 0, "no redirect was followed");
    assert_eq!(emu.stats().pending, 3, "nothing acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_the_receiver_is_slow_ends_forward_at_once_and_acknowledges_nothing() {
    let emu = emulator(30).await;
    // A receiver that takes a minute per event.
    let seen = Arc::new(Mutex::new(0usize));
    let count = seen.clone();
    let app = Router::new().route(
        "/slow",
        post(move || {
            let count = count.clone();
            async move {
                *count.lock().unwrap() += 1;
                tokio::time::sleep(Duration::from_secs(60)).await;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for once in [true, false] {
        let mut cmd = command(&emu);
        cmd.args(["forward", "--to", &url, "--timeout", "120s"]).args(FAST);
        if once {
            cmd.arg("--once");
        }
        let mut p = Proc::spawn(cmd);
        let before = *seen.lock().unwrap();
        eventually(Duration::from_secs(30), "a delivery under way", || {
            let n = *seen.lock().unwrap();
            async move { n > before }
        })
        .await;
        p.signal("TERM");
        // Without the stop racing the send, this waits for the receiver's minute.
        let status = p.wait(Duration::from_secs(20)).await;
        assert!(status.success(), "once={once}: {}", p.stderr());
        assert_eq!(*seen.lock().unwrap(), before + 1, "once={once}: no event after the stop");
        assert_eq!(emu.stats().pending, 30, "once={once}: nothing acknowledged");
        // The summary does not count the batch cut short as forwarded.
        let said = if once {
            "forwarded 0 of 30 events in 1 batches"
        } else {
            "30 events received, 0 forwarded, 0 acknowledged"
        };
        assert!(p.stderr().contains(said), "once={once}: {}", p.stderr());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_refuses_a_timeout_below_one_millisecond() {
    let emu = emulator(3).await;
    let (url, received) = receiver().await;
    for timeout in ["0", "0ms"] {
        let mut cmd = command(&emu);
        cmd.args(["forward", "--once", "--to", &url, "--timeout", timeout]).args(FAST);
        // Without the check every delivery timed out and was retried for ever.
        let (status, out, err) = run(cmd, Duration::from_secs(30)).await;
        assert_eq!(status.code(), Some(2), "{timeout}\n{out}\n{err}");
        assert!(err.contains(&format!("'{timeout}'")) && err.contains("--timeout"), "{timeout}: {err}");
    }
    assert_eq!(emu.stats().pending, 3);
    assert!(received.lock().unwrap().ok.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_delivers_events_whose_id_or_type_holds_a_control_character() {
    let emu = emulator(0).await;
    emu.enqueue(vec![
        serde_json::json!({"eventId": "evt_a\nb", "event": "assessment.completed", "score": 1}),
        serde_json::json!({"eventId": "evt_c", "event": "odd\r\ntype", "score": 2}),
        serde_json::json!({"eventId": "evt_after", "event": "assessment.sent"}),
    ]);
    let (url, received) = receiver().await;
    let mut cmd = command(&emu);
    cmd.args(["forward", "--once", "--to", &url]).args(FAST);
    // Without the encoding the first event failed every send and blocked the queue for ever.
    let (status, out, err) = run(cmd, Duration::from_secs(60)).await;
    assert!(status.success(), "{out}\n{err}");
    assert_eq!(emu.stats().pending, 0);
    let r = received.lock().unwrap();
    assert_eq!(first_seen_order(&r.ok), ["evt_a%0Ab", "evt_c", "evt_after"]);
    let bodies: Vec<serde_json::Value> = r.ok.iter().map(|(_, _, b)| serde_json::from_str(b).unwrap()).collect();
    assert!(bodies.iter().any(|b| b["eventId"] == "evt_a\nb"), "the body keeps the exact ID");
    assert!(bodies.iter().any(|b| b["event"] == "odd\r\ntype"));
}
