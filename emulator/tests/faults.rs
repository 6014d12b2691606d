//! Fault injection over real HTTP: every kind, as a client sees it.

mod common;

use common::{Caller, event, ids, now_ms, start_plain};
use serde_json::json;
use smartai_emulator::{Endpoint, FaultKind, FaultRule};
use std::time::{Duration, Instant};

#[tokio::test]
async fn status_fault_with_retry_after_is_spent_after_its_count() {
    let emu = start_plain().await;
    emu.generate(1);
    emu.add_fault(FaultRule::new(FaultKind::status_retry_after(503, "2")).on(Endpoint::Fetch).times(2));
    let c = Caller::new(&emu);
    for _ in 0..2 {
        let r = c.fetch("").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after").as_deref(), Some("2"));
        assert!(r.header("date").is_some());
        assert!(r.error().contains("Service Unavailable"));
    }
    // Other endpoints were never affected, and the rule is now spent.
    assert_eq!(c.ack(&["none"]).await.status, 200);
    assert_eq!(c.fetch("").await.status, 200);
    assert_eq!(emu.faults()[0].remaining, Some(0));

    let faults: Vec<_> = emu.request_log().iter().map(|e| (e.status, e.fault.clone())).collect();
    assert_eq!(
        faults,
        [(503, Some("status:503".to_string())), (503, Some("status:503".to_string())), (200, None), (200, None)]
    );
}

#[tokio::test]
async fn custom_status_body_is_sent_as_is() {
    let emu = start_plain().await;
    emu.add_fault(
        FaultRule::new(FaultKind::Status {
            status: 502,
            retry_after: None,
            body: Some("<html>bad gateway</html>".into()),
        })
        .once(),
    );
    let r = Caller::new(&emu).fetch("").await;
    assert_eq!((r.status, r.text.as_str()), (502, "<html>bad gateway</html>"));
    assert_eq!(r.header("content-type").as_deref(), Some("text/html"));
}

#[tokio::test]
async fn reset_drops_the_connection_and_applies_nothing() {
    let emu = start_plain().await;
    emu.enqueue(vec![event("keep-me", now_ms())]);
    emu.add_fault(FaultRule::new(FaultKind::Reset).on(Endpoint::Acknowledge).once());
    let c = Caller::new(&emu);
    let body = json!({ "eventIds": ["keep-me"] });
    let err = c
        .request("POST", "/api/v1/webhook/events/acknowledge", Some(&body), now_ms())
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(!err.is_timeout(), "{err:?}");
    assert_eq!(emu.pending_ids(), ["keep-me"]);
    let last = emu.request_log().pop().unwrap();
    assert_eq!((last.status, last.fault.as_deref()), (0, Some("reset")));
    // The server is fine afterwards.
    assert_eq!(c.ack(&["keep-me"]).await.json()["acknowledged"], 1);
}

#[tokio::test]
async fn applied_but_lost_acknowledges_then_drops() {
    let emu = start_plain().await;
    emu.enqueue(vec![event("lost-ack", now_ms() - 1), event("other", now_ms())]);
    emu.add_fault(FaultRule::new(FaultKind::AppliedButLost).on(Endpoint::Acknowledge).once());
    let c = Caller::new(&emu);
    let body = json!({ "eventIds": ["lost-ack"] });
    let result = c.request("POST", "/api/v1/webhook/events/acknowledge", Some(&body), now_ms()).send().await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(emu.acknowledged_ids(), ["lost-ack"]);
    assert_eq!(emu.pending_ids(), ["other"]);
    // A retry of the same acknowledge is harmless: the ID is skipped.
    assert_eq!(c.ack(&["lost-ack"]).await.json()["acknowledged"], 0);
}

#[tokio::test]
async fn truncate_sends_part_of_the_body_then_closes() {
    let emu = start_plain().await;
    emu.generate(5);
    emu.add_fault(FaultRule::new(FaultKind::Truncate).once());
    let c = Caller::new(&emu);
    let resp = c.request("GET", "/api/v1/webhook/events?limit=5", None, now_ms()).send().await.expect("headers arrive");
    assert_eq!(resp.status(), 200);
    let declared = resp.content_length().unwrap();
    let err = resp.bytes().await.expect_err("the body is cut short");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    assert!(declared > 100);

    // An acknowledge under truncate is applied even though its answer is lost.
    emu.enqueue(vec![event("t1", now_ms())]);
    emu.add_fault(FaultRule::new(FaultKind::Truncate).on(Endpoint::Acknowledge).once());
    let body = json!({ "eventIds": ["t1"] });
    let resp = c.request("POST", "/api/v1/webhook/events/acknowledge", Some(&body), now_ms()).send().await.unwrap();
    assert!(resp.text().await.is_err());
    assert_eq!(emu.acknowledged_ids(), ["t1"]);
}

#[tokio::test]
async fn malformed_json_is_200_and_not_applied() {
    let emu = start_plain().await;
    emu.enqueue(vec![event("m1", now_ms())]);
    emu.add_fault(FaultRule::new(FaultKind::MalformedJson).times(2));
    let c = Caller::new(&emu);
    let r = c.fetch("").await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    let r = c.ack(&["m1"]).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    assert_eq!(emu.pending_ids(), ["m1"]);
}

#[tokio::test]
async fn oversized_body_is_200_with_exactly_that_many_bytes_and_not_applied() {
    let emu = start_plain().await;
    emu.enqueue(vec![event("o1", now_ms())]);
    let bytes = 10 * 1024 * 1024;
    emu.add_fault(FaultRule::new(FaultKind::OversizedBody { bytes }).times(2));
    let c = Caller::new(&emu);
    let r = c.fetch("").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.len() as u64, bytes);
    assert!(r.text.starts_with("{\"events\":["), "{}", &r.text[..40]);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    let r = c.ack(&["o1"]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.len() as u64, bytes);
    assert_eq!(emu.pending_ids(), ["o1"], "the acknowledge was not applied");
    let labels: Vec<_> = emu.request_log().iter().map(|e| e.fault.clone()).collect();
    assert_eq!(labels, vec![Some(format!("oversized_body:{bytes}")); 2]);

    let too_big = FaultRule::new(FaultKind::OversizedBody { bytes: smartai_emulator::faults::MAX_OVERSIZED_BYTES + 1 });
    assert!(too_big.validate().unwrap_err().contains("bytes must be at most"));
    let rule: FaultRule = serde_json::from_str(r#"{"kind":{"type":"oversized_body","bytes":5}}"#).unwrap();
    assert_eq!(rule.kind, FaultKind::OversizedBody { bytes: 5 });
}

#[tokio::test]
async fn a_204_or_304_fault_has_no_body() {
    let emu = start_plain().await;
    let c = Caller::new(&emu);
    for status in [204, 304] {
        emu.add_fault(FaultRule::new(FaultKind::status(status)).once());
        let r = c.fetch("").await;
        assert_eq!(r.status, status);
        assert!(r.text.is_empty(), "{:?}", r.text);
        let length = r.headers.get("content-length").map(|v| v.to_str().unwrap().to_string());
        assert!(length.is_none() || length.as_deref() == Some("0"), "{status}: content-length {length:?}");
    }
}

#[tokio::test]
async fn redirect_answers_a_3xx_with_its_location_and_is_not_applied() {
    let emu = start_plain().await;
    emu.enqueue(vec![event("r1", now_ms())]);
    let location = "http://127.0.0.1:9/elsewhere";
    emu.add_fault(FaultRule::new(FaultKind::Redirect { status: 307, location: location.into() }).times(2));
    let c = Caller {
        http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        ..Caller::new(&emu)
    };
    for r in [c.fetch("").await, c.ack(&["r1"]).await] {
        assert_eq!(r.status, 307);
        assert_eq!(r.headers.get("location").unwrap(), location);
        assert!(r.text.is_empty(), "{:?}", r.text);
    }
    assert_eq!(emu.pending_ids(), ["r1"], "the acknowledge was not applied");
    let labels: Vec<_> = emu.request_log().iter().map(|e| e.fault.clone()).collect();
    assert_eq!(labels, vec![Some("redirect:307".to_string()); 2]);

    for (status, location, wrong) in [(200, "http://x/", "between 300 and 399, got 200"), (302, "", "location")] {
        let rule = FaultRule::new(FaultKind::Redirect { status, location: location.into() });
        assert!(rule.validate().unwrap_err().contains(wrong), "{status} {location:?}");
    }
    let rule: FaultRule =
        serde_json::from_str(r#"{"kind":{"type":"redirect","status":308,"location":"https://x/"}}"#).unwrap();
    assert_eq!(rule.kind, FaultKind::Redirect { status: 308, location: "https://x/".into() });
}

#[tokio::test]
async fn latency_delays_then_answers() {
    let emu = start_plain().await;
    emu.generate(2);
    emu.add_fault(FaultRule::new(FaultKind::Latency { ms: 300 }).once());
    let c = Caller::new(&emu);
    let started = Instant::now();
    let r = c.fetch("").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(ids(&r).len(), 2);
    assert!(emu.request_log()[0].duration_ms >= 300);
}

#[tokio::test]
async fn hang_outlasts_the_client_timeout_and_does_not_block_shutdown() {
    let emu = start_plain().await;
    emu.add_fault(FaultRule::new(FaultKind::Hang).on(Endpoint::Fetch));
    let c = Caller::new(&emu);
    let err = c
        .request("GET", "/api/v1/webhook/events", None, now_ms())
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err:?}");
    // A second hung request stays open while the emulator shuts down.
    let hung = tokio::spawn(c.request("GET", "/api/v1/webhook/events", None, now_ms()).send());
    while emu.request_log().len() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Hang guard only: shutdown must not wait for the hung request.
    tokio::time::timeout(Duration::from_secs(30), emu.shutdown()).await.expect("shutdown finishes");
    assert!(hung.await.unwrap().is_err());
}

#[tokio::test]
async fn envelope_wraps_successes_and_errors() {
    let emu = start_plain().await;
    emu.generate(1);
    emu.add_fault(FaultRule::new(FaultKind::Envelope).times(2));
    let c = Caller::new(&emu);
    let r = c.fetch("").await;
    let v = r.json();
    assert_eq!(v["success"], true);
    assert_eq!(v["data"]["pendingCount"], 0);
    assert_eq!(v["data"]["events"].as_array().unwrap().len(), 1);

    let mut stranger = c.clone();
    stranger.api_key = "wc_ak_test_nobody".into();
    let r = stranger.fetch("").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), json!({ "success": false, "error": "Invalid API key" }));
}

#[tokio::test]
async fn faults_never_touch_the_admin_api() {
    let emu = start_plain().await;
    emu.add_fault(FaultRule::new(FaultKind::Reset));
    let c = Caller::new(&emu);
    let r = c.admin("GET", "/_emulator/stats", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["pending"], 0);
    emu.clear_faults();
    assert!(emu.faults().is_empty());
    assert_eq!(c.fetch("").await.status, 200);
}
