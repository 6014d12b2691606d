//! The platform endpoints over real HTTP: signing, queue semantics, retention, rate limits
//! and sessions.

mod common;

use common::{Caller, event, ids, now_ms, start, start_plain};
use serde_json::json;
use smartai_emulator::{ApiKey, EmulatorConfig, RateLimitConfig, TokenBucket};
use smartai_events::signing;
use std::time::Duration;

#[tokio::test]
async fn signed_fetch_returns_events_in_stored_order_with_date_header() {
    let emu = start_plain().await;
    let now = now_ms();
    emu.enqueue(vec![
        event("late", now - 1_000),
        event("early", now - 3_000),
        event("tie-1", now - 2_000),
        event("tie-2", now - 2_000),
    ]);
    let c = Caller::new(&emu);
    let r = c.fetch("?limit=3").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), ["early", "tie-1", "tie-2"]);
    assert_eq!(r.json()["pendingCount"], 1);
    assert!(r.header("date").is_some());
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.header("x-request-id").as_deref(), Some("req-test-1"));

    let log = emu.request_log();
    let last = log.last().unwrap();
    assert_eq!(last.status, 200);
    assert_eq!(last.query.as_deref(), Some("limit=3"));
    assert_eq!(last.request_id.as_deref(), Some("req-test-1"));
    assert_eq!(last.user_agent.as_deref(), Some("smartai-events/0.1.0 (rust)"));
}

#[tokio::test]
async fn authentication_failures_say_why() {
    let emu = start_plain().await;
    let c = Caller::new(&emu);
    let path = "/api/v1/webhook/events?limit=5";

    let r = c.send_replacing(c.request("GET", path, None, now_ms()), "x-signature", &"00".repeat(32)).await;
    assert_eq!((r.status, r.error().as_str()), (401, "Invalid signature"));

    let mut stranger = c.clone();
    stranger.api_key = "wc_ak_test_nobody".into();
    let r = stranger.fetch("").await;
    assert_eq!((r.status, r.error().as_str()), (401, "Invalid API key"));

    let stale = now_ms() - 10 * 60 * 1000;
    let r = c.send(c.request("GET", path, None, stale)).await;
    assert_eq!(r.status, 401);
    let msg = r.error();
    assert!(msg.contains("stale") && msg.contains("server time"), "{msg}");

    let r = c.send(c.http.get(format!("{}{path}", c.base)).header("x-api-key", &c.api_key)).await;
    assert_eq!((r.status, r.error().as_str()), (401, "Missing x-timestamp header"));
    let r = c.send(c.http.get(format!("{}{path}", c.base))).await;
    assert_eq!((r.status, r.error().as_str()), (401, "Missing x-api-key header"));

    let r = c.send_replacing(c.request("GET", path, None, now_ms()), "x-timestamp", "yesterday").await;
    assert_eq!(r.status, 401);
    assert!(r.error().contains("yesterday"));

    // A body that is not JSON has no canonical form: signed as something else, it is a bad
    // signature; signed as sent, it is a bad request.
    let ack = "/api/v1/webhook/events/acknowledge";
    let r = c.send(c.request("POST", ack, None, now_ms()).body("{not json")).await;
    assert_eq!((r.status, r.error().as_str()), (401, "Invalid signature"));
    let ts = now_ms();
    let as_sent = signing::sign(&c.secret, &signing::payload("POST", ack, ts, "{not json"));
    let r = c.send_replacing(c.request("POST", ack, None, ts).body("{not json"), "x-signature", &as_sent).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("not valid JSON"), "{}", r.error());

    // Each header once: a repeated one is refused even when its first copy is right.
    for name in ["x-api-key", "x-timestamp", "x-signature"] {
        let req = c.request("GET", path, None, now_ms());
        let copy = req.try_clone().unwrap().build().unwrap().headers()[name].clone();
        let r = c.send(req.header(name, copy)).await;
        assert_eq!((r.status, r.error()), (401, format!("Invalid {name} header: sent 2 times, expected once")));
    }
    // The query string is not signed, and the signature covers the exact path.
    let r = c.send(c.request("GET", "/api/v1/webhook/events?limit=7", None, now_ms())).await;
    assert_eq!(r.status, 200);
    // The repeated x-api-key is refused before any key is known, the rest count.
    assert_eq!(emu.stats().auth_failures, 7);
}

/// What a sloppy client would send is refused, though a lenient reader could make sense of
/// it: the signature, the timestamp and the body must be written exactly as the protocol
/// writes them, since the platform checks the bytes it receives.
#[tokio::test]
async fn signatures_timestamps_and_bodies_must_be_written_exactly_as_signed() {
    let emu = start_plain().await;
    emu.generate(1);
    let c = Caller::new(&emu);
    let path = "/api/v1/webhook/events";
    let ts = now_ms();
    let good = signing::sign(&c.secret, &signing::payload("GET", path, ts, ""));
    let with_signature = |signature: String| {
        c.http
            .get(format!("{}{path}", c.base))
            .header("x-api-key", &c.api_key)
            .header("x-timestamp", ts.to_string())
            .header("x-signature", signature)
    };
    assert_eq!(c.send(with_signature(good.clone())).await.status, 200, "the control request passes");
    for bad in [good.to_uppercase(), format!("0x{good}"), format!("{good}00")] {
        let r = c.send(with_signature(bad.clone())).await;
        assert_eq!((r.status, r.error().as_str()), (401, "Invalid signature"), "{bad:?}");
    }

    // The timestamp string is what is signed: `+…` and `0…` are not the number's decimal form.
    for written in [format!("+{ts}"), format!("0{ts}"), format!("{ts}.0")] {
        let signature = signing::sign(&c.secret, &format!("GET:{path}:{written}:"));
        let r = c
            .send(
                c.http
                    .get(format!("{}{path}", c.base))
                    .header("x-api-key", &c.api_key)
                    .header("x-timestamp", &written)
                    .header("x-signature", signature),
            )
            .await;
        assert_eq!(r.status, 401, "{written}");
        assert!(r.error().contains("as decimal digits") && r.error().contains(&written), "{}", r.error());
    }

    // A body sent with whitespace, or keys out of order, though its canonical form is signed.
    let ack = "/api/v1/webhook/events/acknowledge";
    for sent in [r#"{"eventIds": ["evt_1"]}"#, r#"{"z":1,"eventIds":["evt_1"]}"#] {
        let canonical = smartai_events::canonical::to_string(&serde_json::from_str(sent).unwrap());
        let signature = signing::sign(&c.secret, &signing::payload("POST", ack, ts, &canonical));
        let r = c
            .send(
                c.http
                    .post(format!("{}{ack}", c.base))
                    .header("x-api-key", &c.api_key)
                    .header("x-timestamp", ts.to_string())
                    .header("x-signature", signature)
                    .header("content-type", "application/json")
                    .body(sent.to_string()),
            )
            .await;
        assert_eq!(r.status, 401, "{sent}");
        assert!(r.error().contains("not the canonical JSON"), "{}", r.error());
    }
    assert_eq!(emu.pending_ids().len(), 1);
}

/// The protocol's fourth test vector, sent byte for byte with its published signature: the
/// emulator's clock is moved to the vector's timestamp.
#[tokio::test]
async fn fourth_test_vector_is_accepted_verbatim() {
    let secret = "wc_sk_test_9e345f2b48dd318d301a2bdd";
    let ts: i64 = 1_717_200_000_123;
    let emu = start(
        EmulatorConfig::default()
            .without_rate_limit()
            .with_keys(vec![ApiKey::new("wc_ak_test_vector", secret)])
            .with_clock_offset_ms(ts - now_ms()),
    )
    .await;
    let odd_id = "évt_ü\"\\\n/";
    assert_eq!(emu.enqueue(vec![json!({ "eventId": odd_id, "event": "assessment.sent" })]), 1);
    let body = smartai_events::canonical::to_string(&json!({ "eventIds": [odd_id] }));
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/api/v1/webhook/events/acknowledge", emu.url()))
        .header("x-api-key", "wc_ak_test_vector")
        .header("x-timestamp", ts.to_string())
        .header("x-signature", "19f5ec03a695b511f60152c135dbdc7bc98044b604d976047524d002277b79a6")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The Date header carries the emulator's (shifted) clock.
    let date = resp.headers()["date"].to_str().unwrap().to_string();
    let date_ms =
        httpdate::parse_http_date(&date).unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!((date_ms - ts).abs() < 60_000, "{date}");
    assert_eq!(resp.text().await.unwrap(), r#"{"acknowledged":1}"#);
    assert_eq!(emu.acknowledged_ids(), [odd_id]);
}

#[tokio::test]
async fn limit_is_defaulted_clamped_and_validated() {
    let emu = start_plain().await;
    emu.generate(160);
    let c = Caller::new(&emu);

    let r = c.fetch("").await;
    assert_eq!(ids(&r).len(), 50);
    assert_eq!(r.json()["pendingCount"], 110);

    let r = c.fetch("?limit=500").await;
    assert_eq!(ids(&r).len(), 100);
    assert_eq!(r.json()["pendingCount"], 60);

    for bad in ["0", "-3", "abc", "2.5", ""] {
        let r = c.fetch(&format!("?limit={bad}")).await;
        assert_eq!(r.status, 400, "limit={bad}");
        assert!(r.error().contains(&format!("\"{bad}\"")), "{}", r.error());
    }
    let r = c.fetch("?limit=5&since=noon").await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("since") && r.error().contains("noon"));
}

#[tokio::test]
async fn since_filters_by_stored_at() {
    let emu = start_plain().await;
    let t = now_ms() - 10_000;
    emu.enqueue(vec![event("a", t), event("b", t + 1_000), event("c", t + 2_000), event("d", t + 3_000)]);
    let c = Caller::new(&emu);
    let r = c.fetch(&format!("?limit=1&since={}", t + 1_000)).await;
    assert_eq!(ids(&r), ["c"]);
    assert_eq!(r.json()["pendingCount"], 1);
    let r = c.fetch(&format!("?limit=10&since={}", t + 3_000)).await;
    assert_eq!(ids(&r), Vec::<String>::new());
    assert_eq!(r.json()["pendingCount"], 0);
    let r = c.fetch(&format!("?since={}", t - 1)).await;
    assert_eq!(ids(&r), ["a", "b", "c", "d"]);
}

#[tokio::test]
async fn fetch_keeps_and_acknowledge_removes() {
    let emu = start_plain().await;
    let now = now_ms();
    emu.enqueue(vec![event("e1", now - 3), event("e2", now - 2), event("e3", now - 1)]);
    let c = Caller::new(&emu);

    assert_eq!(ids(&c.fetch("?limit=2").await), ["e1", "e2"]);
    assert_eq!(ids(&c.fetch("?limit=2").await), ["e1", "e2"]);

    let r = c.ack(&["e1", "e2", "unknown", "e1"]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({ "acknowledged": 2 }));
    let r = c.ack(&["e1"]).await;
    assert_eq!(r.json(), json!({ "acknowledged": 0 }));

    let r = c.fetch("?limit=10").await;
    assert_eq!(ids(&r), ["e3"]);
    assert_eq!(r.json()["pendingCount"], 0);
    assert_eq!(emu.pending_ids(), ["e3"]);
    assert_eq!(emu.acknowledged_ids(), ["e1", "e2"]);

    let path = "/api/v1/webhook/events/acknowledge";
    for body in [json!({ "eventIds": [] }), json!({}), json!({ "eventIds": "e3" })] {
        let r = c.call("POST", path, Some(&body)).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.error(), "eventIds must be a non-empty array");
    }
    let r = c.call("POST", path, None).await;
    assert_eq!(r.error(), "eventIds must be a non-empty array");
    let r = c.call("POST", path, Some(&json!({ "eventIds": ["e3", 7] }))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("eventIds[1]"));

    let stats = emu.stats();
    assert_eq!((stats.pending, stats.acknowledged_total), (1, 2));
    assert_eq!(stats.fetches, 3);
}

#[tokio::test]
async fn events_enqueued_as_text_are_served_exactly_as_written() {
    let emu = start_plain().await;
    let text = r#"[{"eventId":"big","event":"x.y","n":1180591620717411303425}]"#;
    assert_eq!(emu.enqueue_json(text).unwrap(), 1);
    let body = Caller::new(&emu).fetch("").await.text;
    assert!(body.contains(r#"{"eventId":"big","event":"x.y","n":1180591620717411303425,"storedAt":"#), "{body}");
    assert!(emu.enqueue_json(r#"{"eventId":"not an array"}"#).is_err());
    assert!(emu.enqueue_json("[{").is_err());
    // Not one event is left out in silence: a non-object refuses the whole call.
    let err = emu.enqueue_json(r#"[{"eventId":"fine"},1]"#).unwrap_err().to_string();
    assert!(err.contains("events[1] must be a JSON object, got 1"), "{err}");
    assert!(!emu.pending_ids().contains(&"fine".to_string()));
}

#[tokio::test]
async fn an_unusable_event_id_or_stored_at_is_replaced_not_repeated() {
    let emu = start_plain().await;
    let text = r#"[{"eventId":5,"event":"x.y"},{"eventId":"","event":"x.y"},{"eventId":"ok","storedAt":true}]"#;
    assert_eq!(emu.enqueue_json(text).unwrap(), 3);
    let reply = Caller::new(&emu).fetch("").await;
    // A JSON reader keeps one of repeated keys, so they are counted in the text served.
    assert_eq!(reply.text.matches(r#""eventId""#).count(), 3, "{}", reply.text);
    assert_eq!(reply.text.matches(r#""storedAt""#).count(), 3, "{}", reply.text);
    let body = reply.json();
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    for event in events {
        assert!(event["eventId"].as_str().is_some_and(|id| !id.is_empty()), "{event}");
        assert!(event["storedAt"].is_string(), "{event}");
    }
}

#[tokio::test]
async fn a_filled_in_event_id_is_never_one_already_pending() {
    let emu = start_plain().await;
    // IDs the filler would hand out next, enqueued by hand first.
    let taken = [r#"{"eventId":"evt_F000000000","event":"x.y"}"#, r#"{"eventId":"evt_F000000001","event":"x.y"}"#];
    assert_eq!(emu.enqueue_json(&format!("[{}]", taken.join(","))).unwrap(), 2);
    assert_eq!(emu.enqueue_json(r#"[{"event":"x.y","n":1},{"event":"x.y","n":2}]"#).unwrap(), 2, "an event was lost");
    let pending = emu.pending_ids();
    assert_eq!(pending.len(), 4, "{pending:?}");
    assert_eq!(pending.iter().collect::<std::collections::HashSet<_>>().len(), 4, "{pending:?}");
}

#[tokio::test]
async fn only_the_latest_acknowledged_ids_are_remembered_and_all_are_counted() {
    let emu = start(EmulatorConfig::default().without_rate_limit().with_acknowledged_history(2)).await;
    let now = now_ms();
    emu.enqueue(vec![event("e1", now - 4), event("e2", now - 3), event("e3", now - 2), event("e4", now - 1)]);
    let c = Caller::new(&emu);
    assert_eq!(c.ack(&["e1", "e2", "e3"]).await.json(), json!({ "acknowledged": 3 }));
    let listed = c.admin("GET", "/_emulator/events", None).await.json();
    assert_eq!(listed, json!({ "pending": ["e4"], "acknowledged": ["e2", "e3"] }));
    assert_eq!(c.ack(&["e4", "e1"]).await.json(), json!({ "acknowledged": 1 }));
    assert_eq!(emu.acknowledged_ids(), ["e3", "e4"]);
    assert_eq!(emu.stats().acknowledged_total, 4);
    // A reset keeps the configured bound.
    emu.reset();
    emu.enqueue(vec![event("f1", now - 2), event("f2", now - 1), event("f3", now)]);
    assert_eq!(c.ack(&["f1", "f2", "f3"]).await.json(), json!({ "acknowledged": 3 }));
    assert_eq!(emu.acknowledged_ids(), ["f2", "f3"]);
}

#[tokio::test]
async fn each_key_has_its_own_queue() {
    let emu = start(EmulatorConfig::default().without_rate_limit().with_key_count(2)).await;
    let second = emu.keys()[1].clone();
    emu.generate(3);
    assert_eq!(emu.enqueue_for(&second.api_key, vec![event("only-b", now_ms())]), 1);

    let a = Caller::new(&emu);
    let b = Caller::for_key(&emu, &second.api_key, &second.secret_key);
    assert_eq!(ids(&a.fetch("").await).len(), 3);
    assert_eq!(ids(&b.fetch("").await), ["only-b"]);
    assert_eq!(a.ack(&["only-b"]).await.json()["acknowledged"], 0);
    assert_eq!(b.ack(&["only-b"]).await.json()["acknowledged"], 1);
    // Each key signs with its own secret.
    let mut wrong = b.clone();
    wrong.secret = emu.secret_key().to_string();
    assert_eq!(wrong.fetch("").await.status, 401);
    assert_eq!(emu.stats_for(&second.api_key).acknowledged_total, 1);
    assert_eq!(emu.stats().pending, 3);
}

#[tokio::test]
async fn unacknowledged_events_expire_after_retention() {
    let emu = start(EmulatorConfig::default().without_rate_limit().with_retention(Duration::from_secs(60))).await;
    let now = now_ms();
    emu.enqueue(vec![event("old-1", now - 5 * 60_000), event("old-2", now - 2 * 60_000), event("fresh", now - 1_000)]);
    let r = Caller::new(&emu).fetch("").await;
    assert_eq!(ids(&r), ["fresh"]);
    assert_eq!(r.json()["pendingCount"], 0);
    let stats = emu.stats();
    assert_eq!((stats.pending, stats.expired_total), (1, 2));
}

#[tokio::test]
async fn idle_poll_gate_answers_429_with_retry_after() {
    let interval = Duration::from_millis(300);
    let emu = start(
        EmulatorConfig::default().with_rate_limit(RateLimitConfig { idle_poll_interval: Some(interval), bucket: None }),
    )
    .await;
    emu.generate(2);
    let c = Caller::new(&emu);
    // Draining fetches (pendingCount > 0) are never gated.
    assert_eq!(c.fetch("?limit=1").await.json()["pendingCount"], 1);
    let r = c.fetch("?limit=10").await;
    assert_eq!((r.status, r.json()["pendingCount"].as_u64()), (200, Some(0)));

    let r = c.fetch("?limit=1").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert_eq!(r.error(), "Rate limited: poll at most every 300 ms when the queue is empty");
    // Acknowledge is not a poll.
    assert_eq!(c.ack(&["nothing"]).await.status, 200);

    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert_eq!(c.fetch("?limit=1").await.status, 200);
    assert_eq!(emu.stats().rate_limited, 1);
}

#[tokio::test]
async fn default_idle_poll_message_matches_the_platform() {
    let emu = start(EmulatorConfig::default()).await;
    let c = Caller::new(&emu);
    assert_eq!(c.fetch("").await.status, 200);
    let r = c.fetch("").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error(), "Rate limited: poll at most every 5 seconds when the queue is empty");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&secs));
}

#[tokio::test]
async fn token_bucket_limits_bursts() {
    let emu = start(EmulatorConfig::default().with_rate_limit(RateLimitConfig {
        idle_poll_interval: None,
        bucket: Some(TokenBucket { per_second: 1.0, burst: 3 }),
    }))
    .await;
    let c = Caller::new(&emu);
    for _ in 0..3 {
        assert_eq!(c.ack(&["x"]).await.status, 200);
    }
    let r = c.fetch("").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert!(r.error().starts_with("Rate limited"));

    emu.set_rate_limit(RateLimitConfig::disabled());
    assert_eq!(c.fetch("").await.status, 200);

    // The bucket covers every request of a known key, those that fail to authenticate too.
    emu.set_rate_limit(RateLimitConfig {
        idle_poll_interval: None,
        bucket: Some(TokenBucket { per_second: 0.001, burst: 2 }),
    });
    let path = "/api/v1/webhook/events";
    for _ in 0..2 {
        let r = c.send_replacing(c.request("GET", path, None, now_ms()), "x-signature", &"00".repeat(32)).await;
        assert_eq!(r.status, 401);
    }
    assert_eq!(c.fetch("").await.status, 429, "the bad signatures used the burst up");
    let mut stranger = c.clone();
    stranger.api_key = "wc_ak_test_nobody".into();
    assert_eq!(stranger.fetch("").await.status, 401, "an unknown key has no bucket to charge");

    // A rate so low that its wait overflows still answers 429.
    emu.set_rate_limit(RateLimitConfig {
        idle_poll_interval: None,
        bucket: Some(TokenBucket { per_second: 1e-20, burst: 1 }),
    });
    assert_eq!(c.fetch("").await.status, 200);
    let r = c.fetch("").await;
    assert_eq!(r.status, 429);
    let retry_after = r.header("retry-after");
    assert!(retry_after.as_deref().is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 1_000_000)), "{retry_after:?}");
}

#[tokio::test]
async fn a_clock_offset_beyond_the_last_http_date_still_answers() {
    let emu = start_plain().await;
    emu.set_clock_offset_ms(i64::MAX / 2);
    let r = Caller::new(&emu).fetch("").await;
    assert_eq!(r.status, 401, "the request's timestamp is far behind the server's: {}", r.text);
    assert!(r.header("date").is_some_and(|d| d.contains("9999")), "{:?}", r.header("date"));
}

#[tokio::test]
async fn sessions_validate_and_return_a_jwt() {
    let emu = start_plain().await;
    let c = Caller::new(&emu);
    let path = "/api/v1/sessions";
    let r = c
        .call(
            "POST",
            path,
            Some(&json!({
                "users": [{ "name": "Zoë Müller", "email": "zoe@example.de" }],
                "recruiterEmail": "hr@example.com",
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(token.split('.').count(), 3);
    let expires = r.json()["expiresAt"].as_str().unwrap().to_string();
    assert!(chrono::DateTime::parse_from_rfc3339(&expires).is_ok());

    let cases = [
        (json!({ "users": [], "recruiterId": "r1" }), "users must be a non-empty array"),
        (json!({ "recruiterId": "r1" }), "users must be a non-empty array"),
        (json!({ "users": [{ "email": "a@b.com" }], "recruiterId": "r1" }), "name is required"),
        (json!({ "users": [{ "name": "A" }], "recruiterId": "r1" }), "email is required"),
        (
            json!({ "users": [{ "name": "A", "email": "a@b.com" }] }),
            "Provide at least one of recruiterId or recruiterEmail — pass one or both",
        ),
    ];
    for (body, message) in cases {
        let r = c.call("POST", path, Some(&body)).await;
        assert_eq!((r.status, r.error().as_str()), (400, message), "{body}");
    }
    assert_eq!(emu.stats().sessions, 1);
}

#[tokio::test]
async fn prefixed_paths_wrong_methods_and_unknown_paths() {
    // As the platform: its paths exactly, so a base URL with a stray path gets a 404.
    let emu = start_plain().await;
    emu.generate(1);
    let c = Caller::new(&emu);
    let r = c.call("GET", "/prefix/api/v1/webhook/events?limit=5", None).await;
    assert_eq!(r.status, 404);
    let r = c.call("GET", "/api/v1/api/v1/webhook/events?limit=5", None).await;
    assert_eq!(r.status, 404);
    // Behind a gateway: a base URL with the path prefix keeps it in the signed path.
    let emu = start(EmulatorConfig::default().without_rate_limit().with_path_prefix("/prefix")).await;
    emu.generate(1);
    let c = Caller::new(&emu);
    let r = c.call("GET", "/prefix/api/v1/webhook/events?limit=5", None).await;
    assert_eq!(ids(&r).len(), 1);
    let r = c.call("GET", "/api/v1/webhook/events?limit=5", None).await;
    assert_eq!(r.status, 404);
    let emu = start_plain().await;
    let c = Caller::new(&emu);

    let r = c.call("POST", "/api/v1/webhook/events", Some(&json!({}))).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    let r = c.call("GET", "/api/v2/nothing", None).await;
    assert_eq!(r.status, 404);
    assert!(r.error().contains("/api/v2/nothing"));
    assert!(r.header("date").is_some());
}

#[tokio::test]
async fn a_body_cut_short_is_a_bad_request_and_only_an_oversized_one_is_too_large() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = start_plain().await;
    let addr = emu.url().trim_start_matches("http://").to_string();
    let status_of = |head: String, body: &'static [u8]| {
        let addr = addr.clone();
        async move {
            let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
            conn.write_all(head.as_bytes()).await.unwrap();
            conn.write_all(body).await.unwrap();
            conn.shutdown().await.unwrap();
            let mut reply = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut reply)).await;
            String::from_utf8_lossy(&reply).lines().next().unwrap_or_default().to_string()
        }
    };
    let path = "/api/v1/webhook/events/acknowledge";
    // Ten bytes of the hundred announced, then the client stops sending.
    let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 100\r\n\r\n");
    let line = status_of(head, br#"{"eventIds"#).await;
    assert!(line.starts_with("HTTP/1.1 400"), "{line}");
    let big = vec![b' '; 10 * 1024 * 1024 + 1];
    let reply = reqwest::Client::new().post(format!("{}{path}", emu.url())).body(big).send().await.unwrap();
    assert_eq!(reply.status(), 413);
    let body: serde_json::Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "Request body is larger than 10485760 bytes");
}
