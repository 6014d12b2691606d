//! The idle-poll gate against the emulator's own idle-poll rate limit.

mod common;

use common::*;
use smartai_emulator::{EmulatorConfig, RateLimitConfig};
use smartai_events::{AssessmentClient, DrainOptions, FetchOptions, WebhookEvent};
use std::time::Duration;

/// An emulator that rate-limits idle polls closer than `interval`, and a client whose gate
/// keeps them that far apart, with no retry to hide a 429.
async fn gated(interval: Duration) -> (smartai_emulator::Emulator, AssessmentClient) {
    let config = EmulatorConfig {
        rate_limit: RateLimitConfig { idle_poll_interval: Some(interval), bucket: None },
        ..Default::default()
    };
    let emu = smartai_emulator::Emulator::start(config).await.unwrap();
    let client = builder(&emu).min_poll_interval(interval).max_retries(0).build().unwrap();
    (emu, client)
}

#[tokio::test]
async fn the_gate_keeps_idle_polls_apart_so_the_server_never_says_429() {
    let (emu, client) = gated(Duration::from_millis(400)).await;

    for _ in 0..3 {
        let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
        assert_eq!(batch.pending_count, 0);
    }
    let log = emu.request_log();
    assert!(log.iter().all(|r| r.status == 200), "{log:?}");
    for pair in log.windows(2) {
        assert!(pair[1].at_ms - pair[0].at_ms >= 390, "polls {} ms apart", pair[1].at_ms - pair[0].at_ms);
    }

    // A drain that continues (pendingCount > 0) is not held back by the gate, and the
    // server's rule agrees: no 429 anywhere.
    emu.generate(250);
    emu.clear_request_log();
    let summary = client
        .drain(|_e: Vec<WebhookEvent>| async { Ok::<(), std::io::Error>(()) }, DrainOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.events, 250);
    assert!(emu.request_log().iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn without_the_gate_the_server_rate_limits_idle_polls() {
    let config = EmulatorConfig {
        rate_limit: RateLimitConfig { idle_poll_interval: Some(Duration::from_secs(5)), bucket: None },
        ..Default::default()
    };
    let emu = smartai_emulator::Emulator::start(config).await.unwrap();
    let client = builder(&emu).min_poll_interval(Duration::ZERO).max_retries(0).build().unwrap();
    client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let err = client.get_webhook_events(FetchOptions::new()).await.unwrap_err();
    assert_eq!(err.code(), smartai_events::ErrorCode::RateLimited);
    assert!(err.retry_after().is_some());
}

#[tokio::test]
async fn fetches_of_one_client_at_once_go_one_at_a_time_so_the_server_never_says_429() {
    let (emu, client) = gated(Duration::from_millis(400)).await;

    // Three fetches of a new client at once, then three after an empty poll: each waits its turn.
    let fetch = || {
        let client = client.clone();
        tokio::spawn(async move { client.get_webhook_events(FetchOptions::new()).await })
    };
    for _ in 0..2 {
        let (a, b, c) = (fetch(), fetch(), fetch());
        for task in [a, b, c] {
            let batch = task.await.unwrap().unwrap();
            assert_eq!(batch.pending_count, 0);
        }
    }
    let log = emu.request_log();
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|r| r.status == 200), "{log:?}");
    for pair in log.windows(2) {
        assert!(pair[1].at_ms - pair[0].at_ms >= 390, "polls {} ms apart", pair[1].at_ms - pair[0].at_ms);
    }
}
