//! The admin API over real HTTP, and its loopback-only gate.

mod common;

use common::{Caller, ids, now_ms, start, start_plain};
use serde_json::json;
use smartai_emulator::admin::is_loopback;
use smartai_emulator::{EmulatorConfig, RateLimitConfig};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

#[test]
fn peer_check_accepts_only_loopback() {
    for ok in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
        assert!(is_loopback(ok.parse().unwrap()), "{ok}");
    }
    for refused in ["10.0.0.5", "192.168.1.2", "0.0.0.0", "::", "fe80::1", "::ffff:10.0.0.1"] {
        assert!(!is_loopback(refused.parse().unwrap()), "{refused}");
    }
}

#[tokio::test]
async fn enqueue_stats_events_and_reset() {
    let emu = start_plain().await;
    let c = Caller::new(&emu);

    let r = c
        .admin(
            "POST",
            "/_emulator/events",
            Some(&json!([{ "eventId": "adm-1", "event": "assessment.completed" }, { "event": "assessment.sent", "marker": 1 }])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({ "enqueued": 2, "pending": 2 }));
    let r = c.admin("POST", "/_emulator/events", Some(&json!({ "generate": 3 }))).await;
    assert_eq!(r.json(), json!({ "enqueued": 3, "pending": 5 }));

    // Missing eventId and storedAt were filled in.
    let fetched = c.fetch("").await.json();
    let events = fetched["events"].as_array().unwrap();
    let second = events.iter().find(|e| e["marker"] == 1).unwrap();
    assert!(second["eventId"].as_str().unwrap().starts_with("evt_"));
    assert!(second["storedAt"].as_str().unwrap().ends_with('Z'));

    let r = c.admin("GET", "/_emulator/stats", None).await;
    let stats = r.json();
    assert_eq!(stats["pending"], 5);
    assert_eq!(stats["fetches"], 1);
    assert_eq!(stats["api_key"], emu.api_key());
    assert_eq!(serde_json::to_value(emu.stats()).unwrap()["pending"], 5);

    let r = c.admin("GET", "/_emulator/events", None).await;
    assert_eq!(r.json()["pending"][0], "adm-1");

    let r = c.admin("POST", "/_emulator/events", Some(&json!([1, 2]))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("events[0]"));
    let r = c.admin("POST", "/_emulator/events", Some(&json!({ "generate": -1 }))).await;
    assert_eq!(r.status, 400);
    // A count that would keep the emulator busy for hours is refused, not started.
    let r = c.admin("POST", "/_emulator/events", Some(&json!({ "generate": u64::MAX }))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("generate must be at most 10000000 events, got 18446744073709551615"), "{}", r.error());
    let r = c.admin("POST", "/_emulator/events?apiKey=wc_ak_test_nobody", Some(&json!([]))).await;
    assert_eq!(r.status, 404);

    let r = c.admin("POST", "/_emulator/reset", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.stats().pending, 0);
    assert_eq!(emu.stats().fetches, 0);
    // The reset emptied the log; the reset request itself is logged when it completes.
    let r = c.admin("GET", "/_emulator/requests", None).await;
    let log = r.json();
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["path"], "/_emulator/reset");
}

#[tokio::test]
async fn faults_clock_rate_limit_and_request_log_routes() {
    let emu = start(EmulatorConfig::default()).await;
    emu.generate(1);
    let c = Caller::new(&emu);

    let rule = json!({ "endpoint": "fetch", "remaining": 1,
                       "kind": { "type": "status", "status": 500 } });
    let r = c.admin("POST", "/_emulator/faults", Some(&json!([rule]))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = c
        .admin("POST", "/_emulator/faults", Some(&json!({ "add": { "kind": { "type": "envelope" }, "remaining": 1 } })))
        .await;
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    assert_eq!(emu.faults().len(), 2);
    assert_eq!(c.fetch("").await.status, 500);
    assert_eq!(c.fetch("").await.json()["success"], true);

    let bad = json!([{ "probability": 3, "kind": { "type": "reset" } }]);
    let r = c.admin("POST", "/_emulator/faults", Some(&bad)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("probability"));
    let r = c.admin("POST", "/_emulator/faults", Some(&json!([{ "kind": { "type": "explode" } }]))).await;
    assert_eq!(r.status, 400);
    let r = c.admin("DELETE", "/_emulator/faults", None).await;
    assert_eq!(r.json(), json!([]));

    let r =
        c.admin("POST", "/_emulator/rate-limit", Some(&json!({ "idle_poll_interval_ms": null, "bucket": null }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({ "idle_poll_interval_ms": null, "bucket": null }));
    for _ in 0..3 {
        assert_eq!(c.fetch("?limit=1").await.status, 200);
    }
    let r = c.admin("POST", "/_emulator/rate-limit", Some(&json!({ "bucket": { "per_second": 0, "burst": 1 } }))).await;
    assert_eq!(r.status, 400);
    let r = c.admin("POST", "/_emulator/rate-limit", Some(&json!({ "idle_poll_interval": 200 }))).await;
    assert_eq!(r.status, 400, "a misspelt field is refused, not ignored");
    let r = c.admin("GET", "/_emulator/rate-limit", None).await;
    assert_eq!(serde_json::from_value::<RateLimitConfig>(r.json()).unwrap(), RateLimitConfig::disabled());

    let r = c.admin("POST", "/_emulator/clock", Some(&json!({ "offsetMs": -3_600_000 }))).await;
    assert_eq!(r.json()["offsetMs"], -3_600_000);
    assert!((emu.now_ms() - (now_ms() - 3_600_000)).abs() < 60_000);
    let r = c.fetch("").await;
    assert_eq!(r.status, 401);
    assert!(r.error().contains("stale"));
    let r = c.admin("POST", "/_emulator/clock", Some(&json!({ "offsetMs": "soon" }))).await;
    assert_eq!(r.status, 400);
    emu.set_clock_offset_ms(0);

    let r = c.admin("GET", "/_emulator/requests", None).await;
    let log = r.json();
    let entries = log.as_array().unwrap();
    assert!(entries.iter().any(|e| e["fault"] == "status:500" && e["status"] == 500));
    assert!(entries.iter().any(|e| e["endpoint"] == "admin"));
    let fetch = entries.iter().find(|e| e["endpoint"] == "fetch").unwrap();
    assert_eq!(fetch["api_key"], "wc_ak_test_…0001");
    let r = c.admin("DELETE", "/_emulator/requests", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.request_log().len(), 1);

    let r = c.admin("GET", "/_emulator/keys", None).await;
    assert_eq!(r.json()[0]["api_key"], emu.api_key());
    let r = c.admin("PUT", "/_emulator/stats", None).await;
    assert_eq!(r.status, 405);
    assert!(!r.error().is_empty());
    let r = c.admin("GET", "/_emulator/nothing", None).await;
    assert_eq!(r.status, 404);
}

/// A local address other than loopback, if this machine has one.
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket only picks a route; nothing is sent.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn admin_refuses_non_loopback_peers() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback address here; only the unit check runs");
        return;
    };
    let emu = start(EmulatorConfig::default().without_rate_limit().with_host(IpAddr::V4(Ipv4Addr::UNSPECIFIED))).await;
    emu.generate(2);
    let mut c = Caller::new(&emu);
    c.base = format!("http://{}", SocketAddr::new(ip, emu.local_addr().port()));
    let r = c.admin("GET", "/_emulator/stats", None).await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("loopback"));
    // The platform endpoints still answer remote clients.
    assert_eq!(ids(&c.fetch("").await).len(), 2);
}

#[tokio::test]
async fn enqueued_json_is_served_as_given_even_numbers_beyond_f64() {
    let emu = start_plain().await;
    let c = Caller::new(&emu);
    let big = "12345678901234567890123";
    // Sent as text: a serde_json Value would already round the number to an f64.
    for body in [
        format!(r#"[{{"eventId":"big-1","event":"x.y","n":{big},"d":1.10}}]"#),
        format!(r#"{{"events":[{{"event":"x.y","n":{big},"marker":2}}]}}"#),
    ] {
        let resp = c
            .http
            .post(format!("{}/_emulator/events", c.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    let text = c.fetch("").await.text;
    assert!(text.contains(&format!(r#"{{"eventId":"big-1","event":"x.y","n":{big},"d":1.10,"storedAt":""#)), "{text}");
    // A missing eventId and storedAt are appended; the given fields keep their form.
    assert!(text.contains(&format!(r#"{{"event":"x.y","n":{big},"marker":2,"eventId":"evt_"#)), "{text}");
}
