//! Event decoding of fetch responses as properties: whatever a 200 body holds, decoding
//! never panics, and a malformed event never hides the rest of its batch.

mod properties;
mod strategies;

use proptest::prelude::*;
use serde_json::{Value, json};
use smartai_events::{ErrorCode, WebhookEvent, fuzzing};
use strategies::{Shape, event, json_value};

fn body(events: &[Value], pending: u64, envelope: bool, pretty: bool) -> Vec<u8> {
    let data = json!({"events": events, "pendingCount": pending});
    let value = if envelope { json!({"success": true, "data": data}) } else { data };
    if pretty { serde_json::to_vec_pretty(&value).unwrap() } else { serde_json::to_vec(&value).unwrap() }
}

proptest! {
    #[test]
    fn every_event_of_a_batch_is_delivered(
        events in proptest::collection::vec(event(), 0..8),
        pending in any::<u64>(),
        envelope in any::<bool>(),
        pretty in any::<bool>(),
    ) {
        let values: Vec<Value> = events.iter().map(|(_, v)| v.clone()).collect();
        let bytes = body(&values, pending, envelope, pretty);
        match properties::check_fetch_body(&bytes) {
            Ok(Some(n)) => prop_assert_eq!(n, events.len()),
            Ok(None) => prop_assert!(false, "a well-formed batch did not decode"),
            Err(reason) => prop_assert!(false, "{reason}"),
        }
        let batch = fuzzing::decode_fetch_body(&bytes).unwrap();
        for (i, ((shape, _), decoded)) in events.iter().zip(&batch.events).enumerate() {
            let unknown = matches!(decoded, WebhookEvent::Unknown(_));
            match shape {
                Shape::Valid => prop_assert!(!unknown, "event {i} did not decode: {:?}", decoded.decode_error()),
                Shape::Malformed => prop_assert!(unknown && decoded.decode_error().is_some(), "event {i}: {decoded:?}"),
                Shape::Other => prop_assert!(unknown, "event {i}: {decoded:?}"),
            }
        }
    }

    #[test]
    fn any_json_body_decodes_or_fails_cleanly(value in json_value()) {
        if let Err(reason) = properties::check_fetch_body(&serde_json::to_vec(&value).unwrap()) {
            prop_assert!(false, "{reason}");
        }
    }

    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(reason) = properties::check_fetch_body(&bytes) {
            prop_assert!(false, "{reason}");
        }
    }

    /// A long value where a number or a list belongs must not turn into an equally long
    /// error message or decode reason: both are logged and shown to people.
    #[test]
    fn long_values_give_short_messages(len in 3_000usize..20_000, field in 0usize..3) {
        let long = "x".repeat(len);
        let bytes = match field {
            0 => json!({"events": [], "pendingCount": long}),
            1 => json!({"events": long, "pendingCount": 0}),
            _ => json!({"events": [{"eventId": "e", "event": "assessment.completed", "score": long}], "pendingCount": 0}),
        };
        if let Err(reason) = properties::check_fetch_body(&serde_json::to_vec(&bytes).unwrap()) {
            prop_assert!(false, "{reason}");
        }
    }
}

#[test]
fn a_body_that_is_not_the_documented_object_is_a_decode_error() {
    for body in
        [&b"[[], 0]"[..], b"[true, {\"events\": [], \"pendingCount\": 0}]", b"{\"success\":true,\"data\":[[],1]}"]
    {
        let error = fuzzing::decode_fetch_body(body).unwrap_err();
        assert_eq!(error.code(), ErrorCode::Decode, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn an_array_event_is_unknown_with_a_reason() {
    // Positionally these would fill the head fields (event, eventId, storedAt) of an object.
    let body = br#"{"events": [["assessment.sent", "evt_1", "2026-06-09T10:31:00Z"], []], "pendingCount": 0}"#;
    let batch = fuzzing::decode_fetch_body(body).unwrap();
    assert_eq!(batch.events.len(), 2);
    for event in &batch.events {
        assert!(matches!(event, WebhookEvent::Unknown(_)), "{event:?}");
        assert_eq!((event.event_id(), event.event_type()), ("", ""));
        assert!(event.decode_error().is_some_and(|r| r.contains("an array")), "{:?}", event.decode_error());
    }
}

#[test]
fn a_lone_surrogate_keeps_the_event_and_its_json() {
    // JavaScript strings may hold half a surrogate pair (a name cut inside an emoji), which
    // JSON.stringify writes as a lone `\ud83d`. The batch must still decode, and the event
    // keep both its text and its JSON, with U+FFFD for the lone half.
    let body = r#"{"events":[
        {"eventId":"e1","event":"assessment.reviewed","name":"Zo\ud83d","pair":"\ud83d\ude00","x":"\\ud83d","storedAt":"2026-06-09T10:31:00Z"},
        {"eventId":"e2","event":"assessment.reviewed","tail":"\ude00\ud83d\u0041"}
    ],"pendingCount":0}"#;
    let batch = fuzzing::decode_fetch_body(body.as_bytes()).unwrap();
    assert_eq!(batch.events.len(), 2);
    let (first, second) = (&batch.events[0], &batch.events[1]);
    assert_eq!(first.event_id(), "e1");
    assert!(first.raw_json().contains(r#""Zo\ud83d""#), "{}", first.raw_json());
    assert_eq!(first.raw()["name"], "Zo\u{fffd}");
    assert_eq!(first.raw()["pair"], "\u{1f600}");
    assert_eq!(first.raw()["x"], "\\ud83d", "an escaped backslash is not an escape");
    assert_eq!(first.clone().into_raw()["eventId"], "e1");
    assert_eq!(second.raw()["tail"], "\u{fffd}\u{fffd}A");
    assert_eq!(serde_json::to_string(first).unwrap(), first.raw_json());
}

#[test]
fn a_known_event_with_a_lone_surrogate_in_a_field_decodes_typed_and_keeps_its_text() {
    // JSON.stringify of 'Priya 😀'.slice(0, 7): well formed, so not a malformed event.
    let completed = r#"{"eventId":"e1","event":"assessment.completed","assessmentId":"a","candidateId":"c","candidateName":"Priya \ud83d","candidateEmail":"p@example.com","assessmentName":"n","jobTitle":"j","score":1,"totalMarks":2,"passMarks":1,"passed":false,"status":"completed","submittedAt":"2026-06-09T10:30:00Z","storedAt":"2026-06-09T10:31:00Z"}"#;
    let sent = r#"{"eventId":"e2","event":"assessment.sent","assessmentId":"a","assessmentUrl":"u","keyId":"k","orgId":"o","jobTitle":"j","candidates":[{"id":"c","name":"\ude00 Zoë","email":"z@example.com"}],"totalCandidates":1,"storedAt":"2026-06-09T10:31:00Z"}"#;
    let body = format!(r#"{{"events":[{completed},{sent}],"pendingCount":0}}"#);
    let batch = fuzzing::decode_fetch_body(body.as_bytes()).unwrap();
    match &batch.events[..] {
        [WebhookEvent::AssessmentCompleted(c), WebhookEvent::AssessmentSent(s)] => {
            assert_eq!(c.candidate_name, "Priya \u{fffd}");
            assert_eq!(s.candidates[0].name, "\u{fffd} Zoë");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(batch.events[0].raw_json(), completed, "the text stays as sent");
    assert_eq!(serde_json::to_string(&batch.events[1]).unwrap(), sent);
    let raw = fuzzing::decode_fetch_body_as::<smartai_events::RawEvent>(body.as_bytes()).unwrap();
    let kinds: Vec<_> = raw.events.iter().map(|e| (e.kind(), e.decode_error().is_none())).collect();
    assert_eq!(
        kinds,
        [(smartai_events::EventKind::AssessmentCompleted, true), (smartai_events::EventKind::AssessmentSent, true)]
    );
}

#[test]
fn an_event_stamped_outside_the_years_0001_to_9999_is_malformed_not_typed() {
    // Python's datetime cannot hold such a time: a typed event would fail on reading it.
    let event = |field: &str, at: &str| {
        let mut e = json!({"eventId": "e", "event": "assessment.completed", "assessmentId": "a", "candidateId": "c",
            "candidateName": "n", "candidateEmail": "e", "assessmentName": "n", "jobTitle": "j", "score": 1,
            "totalMarks": 2, "passMarks": 1, "passed": false, "status": "completed",
            "submittedAt": "2026-06-09T10:30:00Z", "storedAt": "2026-06-09T10:31:00Z"});
        e[field] = json!(at);
        e
    };
    let events = [event("storedAt", "+10000-01-01T00:00:00Z"), event("submittedAt", "0000-01-01T00:00:00Z")];
    let body = json!({"events": events, "pendingCount": 0}).to_string();
    let batch = fuzzing::decode_fetch_body(body.as_bytes()).unwrap();
    for event in &batch.events {
        assert!(matches!(event, WebhookEvent::Unknown(_)), "{event:?}");
        let reason = event.decode_error().unwrap_or_default();
        assert!(reason.contains("is outside the years 0001 to 9999"), "{reason}");
    }
    assert_eq!(batch.events[0].stored_at(), None, "a storedAt out of range is none, not a time Python cannot hold");
    assert!(batch.events[1].stored_at().is_some());
    let raw = fuzzing::decode_fetch_body_as::<smartai_events::RawEvent>(body.as_bytes()).unwrap();
    assert!(raw.events.iter().all(|e| e.kind() == smartai_events::EventKind::Unknown && e.decode_error().is_some()));
}

#[test]
fn an_event_beyond_what_a_value_holds_is_still_delivered_with_its_text() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let body = format!(r#"{{"events":[{{"eventId":"e1","n":1e400}},{deep},{{"eventId":"e3"}}],"pendingCount":0}}"#);
    let batch = fuzzing::decode_fetch_body(body.as_bytes()).unwrap();
    assert_eq!(batch.events.len(), 3);
    assert_eq!(batch.events[0].raw_json(), r#"{"eventId":"e1","n":1e400}"#);
    assert_eq!(batch.events[1].raw_json(), deep);
    assert_eq!(batch.events[2].event_id(), "e3");
    assert_eq!(properties::check_fetch_body(body.as_bytes()), Ok(Some(3)));
}
