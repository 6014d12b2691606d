//! The three platform calls against the real emulator.

mod common;

use common::*;
use serde_json::json;
use smartai_emulator::{Emulator, EmulatorConfig, Endpoint, FaultKind, RateLimitConfig};
use smartai_events::{ErrorCode, FetchOptions, SessionRequest, SessionUser, WebhookEvent};

#[tokio::test]
async fn seed_flow_fetch_save_acknowledge() {
    let emu = emulator().await;
    emu.generate(120);
    let client = client(&emu);

    let batch = client.get_webhook_events(FetchOptions::new().limit(50)).await.unwrap();
    assert_eq!(batch.events.len(), 50);
    assert_eq!(batch.pending_count, 70);
    // Reading does not remove.
    assert_eq!(emu.pending_ids().len(), 120);

    let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id()).collect();
    let ack = client.acknowledge_webhook_events(&ids).await.unwrap();
    assert_eq!(ack.acknowledged, 50);
    assert_eq!(emu.pending_ids().len(), 70);
    // Acknowledging again is silently skipped.
    assert_eq!(client.acknowledge_webhook_events(&ids).await.unwrap().acknowledged, 0);
}

#[tokio::test]
async fn limit_above_cap_is_clamped_and_always_sent() {
    let emu = emulator().await;
    emu.generate(150);
    let client = client(&emu);
    let batch = client.get_webhook_events(FetchOptions::new().limit(1000)).await.unwrap();
    assert_eq!(batch.events.len(), 100);
    assert_eq!(batch.pending_count, 50);
    let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    assert_eq!(batch.events.len(), 50);
    let queries: Vec<String> = requests(&emu, Endpoint::Fetch).into_iter().filter_map(|r| r.query).collect();
    assert_eq!(queries, vec!["limit=100".to_string(), "limit=50".to_string()]);
    let paths: Vec<String> = emu.request_log().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/api/v1/webhook/events"; 2], "no doubled slash after a bare base URL");
}

#[tokio::test]
async fn since_only_returns_later_events() {
    let emu = emulator().await;
    emu.generate(10);
    let client = client(&emu);
    let all = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let cut = all.events[5].stored_at().unwrap().timestamp_millis();
    let later = client.get_webhook_events(FetchOptions::new().since_ms(cut)).await.unwrap();
    assert!(!later.events.is_empty());
    assert!(later.events.iter().all(|e| e.stored_at().unwrap().timestamp_millis() > cut));
    assert_eq!(later.pending_count, 0);
    assert_eq!(later.events.len(), 4, "events 6 to 9 are stored after event 5");
}

#[tokio::test]
async fn acknowledge_dedupes_and_chunks_by_100() {
    let emu = emulator().await;
    emu.generate(250);
    let client = client(&emu);
    let mut ids = emu.pending_ids();
    ids.extend(ids.clone()); // every ID twice
    let ack = client.acknowledge_webhook_events(&ids).await.unwrap();
    assert_eq!(ack.acknowledged, 250);
    let acks = requests(&emu, Endpoint::Acknowledge);
    assert_eq!(acks.len(), 3, "250 unique IDs go as 100 + 100 + 50");
    assert!(emu.pending_ids().is_empty());
}

#[tokio::test]
async fn validation_fails_before_any_request() {
    let emu = emulator().await;
    let client = client(&emu);
    for limit in [0, -1] {
        let err = client.get_webhook_events(FetchOptions::new().limit(limit)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.to_string().contains(&limit.to_string()), "{err}");
    }
    let err = client.get_webhook_events(FetchOptions::new().since_ms(1_717_200_000)).await.unwrap_err();
    assert!(err.to_string().contains("seconds"), "{err}");
    let err = client.acknowledge_webhook_events::<&str>(&[]).await.unwrap_err();
    assert_eq!(err.to_string(), "eventIds must be a non-empty array");
    let err = client.acknowledge_webhook_events(&["ok", " "]).await.unwrap_err();
    assert!(err.to_string().contains("eventIds[1]"), "{err}");
    let err = client.create_session(SessionRequest::new(vec![])).await.unwrap_err();
    assert_eq!(err.to_string(), "users must be a non-empty array");
    let user = SessionUser { name: "A".into(), email: "a@b.com".into() };
    let err = client.create_session(SessionRequest::new(vec![user])).await.unwrap_err();
    assert!(err.to_string().starts_with("Provide at least one of recruiterId or recruiterEmail"));
    assert!(emu.request_log().is_empty(), "nothing may be sent: {:?}", emu.request_log());
}

#[tokio::test]
async fn create_session_returns_a_token() {
    let emu = emulator().await;
    let client = client(&emu);
    let users = vec![SessionUser { name: "José Álvarez".into(), email: "jose@example.com".into() }];
    let token = client.create_session(SessionRequest::new(users).recruiter_id("rec_1")).await.unwrap();
    assert_eq!(token.token.split('.').count(), 3, "a JWT has three parts: {}", token.token);
    assert!(token.expires_at.is_some());
}

#[tokio::test]
async fn envelope_responses_are_unwrapped() {
    let emu = emulator().await;
    emu.generate(3);
    let client = client(&emu);
    emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::Envelope));
    emu.add_fault(fault(Endpoint::Acknowledge, 1, FaultKind::Envelope));
    let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    assert_eq!(batch.events.len(), 3);
    let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id()).collect();
    assert_eq!(client.acknowledge_webhook_events(&ids).await.unwrap().acknowledged, 3);
}

#[tokio::test]
async fn unknown_and_malformed_events_never_hide_the_batch() {
    let emu = emulator().await;
    let mut good = smartai_emulator::generator::sample_completed_event();
    good["eventId"] = json!("evt_good");
    // The sample's storedAt is months old; the emulator would expire it at once.
    let now = chrono::Utc::now();
    good["storedAt"] = json!(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut bad = good.clone();
    bad["eventId"] = json!("evt_bad");
    bad["score"] = json!("seventy-eight");
    let later = now + chrono::Duration::milliseconds(5);
    let unknown = json!({"eventId": "evt_new", "event": "assessment.reviewed",
        "storedAt": later.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "reviewer": "Zoë"});
    emu.enqueue(vec![good, bad, unknown.clone()]);
    let client = client(&emu);
    let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    assert_eq!(batch.events.len(), 3);
    let by_id = |id: &str| batch.events.iter().find(|e| e.event_id() == id).unwrap();
    assert!(matches!(by_id("evt_good"), WebhookEvent::AssessmentCompleted(_)));
    let bad = by_id("evt_bad");
    assert!(matches!(bad, WebhookEvent::Unknown(_)));
    assert!(bad.decode_error().unwrap().contains("seventy-eight"), "{:?}", bad.decode_error());
    let new = by_id("evt_new");
    assert_eq!(new.event_type(), "assessment.reviewed");
    assert_eq!(new.decode_error(), None);
    assert_eq!(new.raw()["reviewer"], json!("Zoë"));
}

#[tokio::test]
async fn generated_events_decode_into_every_type() {
    let emu = emulator().await;
    emu.generate(400);
    let client = client(&emu);
    let mut kinds = std::collections::HashMap::new();
    loop {
        let batch = client.get_webhook_events(FetchOptions::new().limit(100)).await.unwrap();
        for e in &batch.events {
            let kind = match e {
                WebhookEvent::AssessmentCompleted(_) => "completed",
                WebhookEvent::AssessmentDisqualified(_) => "disqualified",
                WebhookEvent::AssessmentSent(_) => "sent",
                WebhookEvent::Unknown(u) => {
                    assert_eq!(u.decode_error, None, "a generated event failed to decode: {:?}", u.decode_error);
                    "unknown"
                }
            };
            *kinds.entry(kind).or_insert(0) += 1;
        }
        let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id()).collect();
        client.acknowledge_webhook_events(&ids).await.unwrap();
        if batch.pending_count == 0 {
            break;
        }
    }
    for kind in ["completed", "disqualified", "sent", "unknown"] {
        assert!(kinds.get(kind).copied().unwrap_or(0) > 0, "no {kind} event among {kinds:?}");
    }
}

#[tokio::test]
async fn headers_carry_user_agent_and_one_request_id_across_retries() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.add_fault(fault(Endpoint::Fetch, 2, status(503)));
    client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let log = requests(&emu, Endpoint::Fetch);
    assert_eq!(log.len(), 3);
    let ids: std::collections::HashSet<_> = log.iter().map(|r| r.request_id.clone().unwrap()).collect();
    assert_eq!(ids.len(), 1, "one x-request-id across the retries");
    // Each call gets a fresh random (version 4) UUID.
    client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let log = requests(&emu, Endpoint::Fetch);
    let ids: Vec<uuid::Uuid> = log.iter().map(|r| r.request_id.as_deref().unwrap().parse().unwrap()).collect();
    assert!(ids.iter().all(|id| id.get_version() == Some(uuid::Version::Random)), "{ids:?}");
    assert_ne!(ids[0], ids[3], "a new call, a new x-request-id");
    assert!(log[0].user_agent.as_deref().unwrap().starts_with("smartai-events/"));
    assert!(log[0].user_agent.as_deref().unwrap().ends_with("(rust)"));
}

#[tokio::test]
async fn base_url_with_a_prefix_is_kept_and_signed() {
    let config = EmulatorConfig { rate_limit: RateLimitConfig::disabled(), ..Default::default() };
    let emu = Emulator::start(config.with_path_prefix("/prefix")).await.unwrap();
    emu.generate(2);
    let client = builder(&emu).base_url(format!("{}/prefix/", emu.url())).build().unwrap();
    // The emulator verifies the signature over the path it received, prefix included.
    let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    assert_eq!(batch.events.len(), 2);
    let log = emu.request_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, "/prefix/api/v1/webhook/events");
}

#[tokio::test]
async fn debug_output_masks_the_keys() {
    let emu = emulator().await;
    let client = client(&emu);
    let text = format!("{client:?}");
    assert!(!text.contains(emu.secret_key()), "{text}");
    assert!(!text.contains(emu.api_key()), "{text}");
    assert!(text.contains("[redacted]"));
}
