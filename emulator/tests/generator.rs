//! The event generator, and a large queue drained over HTTP.

mod common;

use common::{Caller, start_plain};
use serde_json::Value;
use smartai_emulator::generator::{generate_events, generate_events_at, sample_completed_event};
use std::collections::HashSet;

const END_MS: i64 = 1_790_000_000_000;

#[test]
fn same_seed_same_events_other_seed_other_events() {
    assert_eq!(generate_events_at(42, 300, END_MS), generate_events_at(42, 300, END_MS));
    assert_ne!(generate_events_at(42, 300, END_MS), generate_events_at(43, 300, END_MS));
    let now_based = generate_events(42, 50);
    let fixed = generate_events_at(42, 50, END_MS);
    for (a, b) in now_based.iter().zip(&fixed) {
        assert_eq!(a["eventId"], b["eventId"]);
        assert_eq!(a["event"], b["event"]);
    }
}

#[test]
fn events_cover_the_documented_variety() {
    let events = generate_events_at(42, 2_000, END_MS);
    let kinds: HashSet<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for kind in ["assessment.completed", "assessment.disqualified", "assessment.sent"] {
        assert!(kinds.contains(kind), "{kind}");
    }
    assert!(kinds.len() > 3, "an unknown event type appears: {kinds:?}");

    let ids: HashSet<&str> = events.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "IDs are unique");
    assert!(ids.iter().any(|id| id.starts_with("evt_") && id.len() == 14));
    assert!(ids.iter().any(|id| uuid::Uuid::parse_str(id).is_ok()));

    let stored: Vec<i64> = events
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["storedAt"].as_str().unwrap()).unwrap().timestamp_millis())
        .collect();
    assert!(stored.windows(2).all(|w| w[0] < w[1]), "storedAt strictly increasing");
    assert_eq!(*stored.last().unwrap(), END_MS);

    let results: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "assessment.completed" || e["event"] == "assessment.disqualified")
        .collect();
    assert!(results.iter().any(|e| e["aiFeedback"].is_null()));
    assert!(results.iter().any(|e| e["aiFeedback"].is_string()));
    assert!(results.iter().any(|e| e["durationMinutes"].is_null()));
    assert!(results.iter().any(|e| !e["candidateName"].as_str().unwrap().is_ascii()));
    assert!(results.iter().any(|e| e.get("experimentalFlag").is_some()));
    for e in &results {
        let score = e["score"].as_f64().unwrap();
        assert_eq!(e["passed"].as_bool().unwrap(), score >= e["passMarks"].as_f64().unwrap());
        assert_eq!(e["totalMarks"], 100);
        assert!(e["proctoring"]["violationCount"].is_u64());
        assert!(e["proctoring"].as_object().unwrap().len() > 2);
        assert!(e["verification"]["imageUrl"].is_string());
        assert!(!e["questionAnswers"].as_array().unwrap().is_empty());
        assert!(!e["skills"].as_array().unwrap().is_empty());
        assert!(e["durationMinutes"].is_null() || e["durationMinutes"].as_u64().unwrap() >= 1);
        let status = e["status"].as_str().unwrap();
        assert!(["completed", "timeout", "abandoned"].contains(&status));
        assert!(e["reportUrl"].as_str().unwrap().ends_with(e["eventId"].as_str().unwrap()));
    }
    let sent = events.iter().find(|e| e["event"] == "assessment.sent").unwrap();
    assert_eq!(sent["totalCandidates"].as_u64().unwrap() as usize, sent["candidates"].as_array().unwrap().len());
}

#[test]
fn sample_event_matches_the_documentation_page() {
    let e = sample_completed_event();
    assert_eq!(e["eventId"], "evt_01J9XYZABC");
    assert_eq!(e["candidateName"], "Priya Sharma");
    assert_eq!(e["score"], 78);
    assert_eq!(e["status"], "completed");
    assert_eq!(e["storedAt"], "2026-06-09T10:31:00.000Z");
    assert_eq!(e["proctoring"], serde_json::json!({ "score": 88, "violationCount": 2 }));
    assert_eq!(e.as_object().unwrap().len(), 18);
}

#[tokio::test]
async fn emulator_generate_continues_the_sequence_with_unique_ids() {
    let emu = start_plain().await;
    assert_eq!(emu.generate(30), 30);
    assert_eq!(emu.generate(30), 30);
    let pending = emu.pending_ids();
    assert_eq!(pending.len(), 60);
    let expected: Vec<String> =
        generate_events_at(42, 60, END_MS).iter().map(|e| e["eventId"].as_str().unwrap().to_string()).collect();
    assert_eq!(pending, expected);
}

#[tokio::test]
async fn a_hundred_thousand_events_drain_in_batches_of_100() {
    let emu = start_plain().await;
    // Small events keep this about the queue, not about JSON speed in a debug build.
    let base = common::now_ms() - 200_000;
    let events: Vec<Value> = (0..100_000)
        .map(|i| serde_json::json!({ "eventId": format!("bulk-{i}"), "storedAt": common::iso(base + i / 3) }))
        .collect();
    assert_eq!(emu.enqueue(events), 100_000);
    let c = Caller::new(&emu);
    let mut seen = HashSet::new();
    let mut rounds = 0;
    loop {
        let r = c.fetch("?limit=100").await;
        assert_eq!(r.status, 200);
        let page = r.json();
        let ids: Vec<String> =
            page["events"].as_array().unwrap().iter().map(|e| e["eventId"].as_str().unwrap().to_string()).collect();
        let pending = page["pendingCount"].as_u64().unwrap() as usize;
        if ids.is_empty() {
            assert_eq!(pending, 0);
            break;
        }
        assert_eq!(ids.len(), 100);
        assert_eq!(pending, 100_000 - seen.len() - ids.len());
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(c.ack(&refs).await.json()["acknowledged"], 100);
        seen.extend(ids);
        rounds += 1;
    }
    assert_eq!(rounds, 1_000);
    assert_eq!(seen.len(), 100_000);
    let stats = emu.stats();
    assert_eq!((stats.pending, stats.acknowledged_total), (0, 100_000));
}

#[tokio::test]
async fn generated_events_queue_after_events_enqueued_just_before() {
    let emu = start_plain().await;
    // Within the same millisecond, 50 generated events used to get storedAt values before
    // the explicit event's "now" and jump the queue.
    emu.enqueue(vec![serde_json::json!({ "eventId": "explicit-1", "event": "assessment.completed" })]);
    emu.generate(50);
    emu.enqueue(vec![serde_json::json!({ "eventId": "explicit-2", "event": "assessment.completed" })]);
    let pending = emu.pending_ids();
    assert_eq!(pending.len(), 52);
    assert_eq!(pending[0], "explicit-1", "{pending:?}");
    assert_eq!(pending[51], "explicit-2", "{pending:?}");
}
