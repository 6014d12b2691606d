//! `RawEvent`s are checked against the typed decoding rules without being built (the
//! mirrors in `core/src/event_check.rs`). As a property: whatever is done to the text of a
//! known event, reading it raw gives what reading it typed gives (the same kind, ID, type,
//! timestamps, decode error and text), so that the bindings, which read raw events, see
//! exactly what Rust code sees.

mod properties;
mod strategies;

use proptest::prelude::*;
use smartai_events::{RawEvent, WebhookEvent};

const COMPLETED: &str = r#"{"eventId":"evt_1","event":"assessment.completed","assessmentId":"a","candidateId":"c","candidateName":"Zoë","candidateEmail":"z@x","assessmentName":"A","jobTitle":"J","score":78,"totalMarks":100,"passMarks":60,"passed":true,"status":"completed","submittedAt":"2026-06-09T10:30:00.000Z","durationMinutes":45,"aiFeedback":null,"reportUrl":"https://r","skills":["go","sql"],"questionAnswers":[{"q":"1","a":[1,2.5,{"x":null}]},"free text"],"verification":{"imageUrl":"u","liveness":0.9},"proctoring":{"score":88,"violationCount":2,"tabSwitches":3},"storedAt":"2026-06-09T10:31:00.000Z"}"#;
const SENT: &str = r#"{"eventId":"evt_2","event":"assessment.sent","assessmentId":"a","assessmentUrl":"https://a","keyId":"k","orgId":"o","jobTitle":"J","candidates":[{"id":"c1","name":"A","email":"a@x"},{"id":"c2","name":"B","email":"b@x","phone":"1"}],"totalCandidates":2,"storedAt":"2026-06-09T10:31:00Z"}"#;

/// Keys of the typed fields, at every depth, whose values the mutations replace.
const KEYS: &[&str] = &[
    "eventId",
    "event",
    "assessmentId",
    "candidateId",
    "candidateName",
    "candidateEmail",
    "assessmentName",
    "jobTitle",
    "score",
    "totalMarks",
    "passMarks",
    "passed",
    "status",
    "submittedAt",
    "durationMinutes",
    "aiFeedback",
    "reportUrl",
    "skills",
    "questionAnswers",
    "verification",
    "imageUrl",
    "proctoring",
    "violationCount",
    "storedAt",
    "assessmentUrl",
    "keyId",
    "orgId",
    "candidates",
    "id",
    "name",
    "email",
    "totalCandidates",
    "q",
    "a",
    "x",
    "liveness",
    "tabSwitches",
    "phone",
];

/// Values that each type accepts or refuses, and the edges of what a `Value` can hold.
const VALUES: &[&str] = &[
    "null",
    "true",
    "0",
    "-1",
    "1.5",
    "4294967296",
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551616",
    r#""""#,
    r#""text""#,
    r#""\u00e9\n""#,
    r#""\ud83d""#,
    r#""2026-06-09T10:31:00Z""#,
    r#""2026-13-09T10:31:00Z""#,
    "[]",
    r#"["a"]"#,
    "[1e400]",
    r#"[{"q":1e400}]"#,
    "[[[]]]",
    "{}",
    r#"{"imageUrl":"u"}"#,
    r#"{"imageUrl":1}"#,
    r#"{"imageUrl":"u","imageUrl":"v"}"#,
    r#"{"image\u0055rl":7}"#,
    r#"{"score":"high"}"#,
    r#"{"violationCount":-1}"#,
    r#"{"$serde_json::private::RawValue":"1"}"#,
    r#"{"a":{"$serde_json::private::Number":"1"}}"#,
    r#"[{"id":"c","name":"n","email":"e"}]"#,
    r#"[{"id":"c","name":"n"}]"#,
    r#"[{"id":"c","id":"d","name":"n","email":"e"}]"#,
    r#"[{"\u0069d":"c","name":"n","email":"e"}]"#,
    r#"{"score":null,"violationCount":null}"#,
    r#""assessment.completed""#,
    r#""assessment.sent""#,
    r#""assessment.disqualified""#,
];

/// A mutation of an event's text.
#[derive(Debug, Clone)]
enum Mutation {
    /// The `n`-th value of a key replaced by a value text.
    Replace { key: usize, nth: usize, value: usize },
    /// A member added right after an object's opening brace (at the `n`-th brace).
    Insert { brace: usize, key: usize, value: usize },
    /// The `n`-th member of `key` removed.
    Remove { key: usize, nth: usize },
    /// A key written with a `\u` escape for its first letter.
    Escape { key: usize, nth: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let (k, v) = (0..KEYS.len(), 0..VALUES.len());
    prop_oneof![
        3 => (k.clone(), 0usize..3, v.clone()).prop_map(|(key, nth, value)| Mutation::Replace { key, nth, value }),
        2 => (0usize..8, k.clone(), v).prop_map(|(brace, key, value)| Mutation::Insert { brace, key, value }),
        1 => (k.clone(), 0usize..3).prop_map(|(key, nth)| Mutation::Remove { key, nth }),
        1 => (k, 0usize..3).prop_map(|(key, nth)| Mutation::Escape { key, nth }),
    ]
}

/// Where the `nth` `"key":` starts, and where its value starts and ends.
fn member(text: &str, key: &str, nth: usize) -> Option<(usize, usize, usize)> {
    let pattern = format!("\"{key}\":");
    let start = text.match_indices(&pattern).nth(nth)?.0;
    let value_start = start + pattern.len();
    let mut de = serde_json::Deserializer::from_str(&text[value_start..]).into_iter::<&serde_json::value::RawValue>();
    de.next()?.ok()?;
    Some((start, value_start, value_start + de.byte_offset()))
}

fn apply(text: &str, m: &Mutation) -> Option<String> {
    Some(match *m {
        Mutation::Replace { key, nth, value } => {
            let (_, from, to) = member(text, KEYS[key], nth)?;
            format!("{}{}{}", &text[..from], VALUES[value], &text[to..])
        }
        Mutation::Insert { brace, key, value } => {
            let at = text.match_indices('{').nth(brace)?.0 + 1;
            let rest = &text[at..];
            let sep = if rest.trim_start().starts_with('}') { "" } else { "," };
            format!("{}\"{}\":{}{sep}{rest}", &text[..at], KEYS[key], VALUES[value])
        }
        Mutation::Remove { key, nth } => {
            let (start, _, end) = member(text, KEYS[key], nth)?;
            let (mut from, mut to) = (start, end);
            if text[to..].starts_with(',') {
                to += 1;
            } else if text[..from].ends_with(',') {
                from -= 1;
            }
            format!("{}{}", &text[..from], &text[to..])
        }
        Mutation::Escape { key, nth } => {
            let (start, _, _) = member(text, KEYS[key], nth)?;
            let first = KEYS[key].as_bytes()[0];
            format!("{}\"\\u{:04x}{}", &text[..start], first, &text[start + 2..])
        }
    })
}

/// Reading `text` raw gives what reading it typed gives, alone and inside a batch.
fn check_text(text: &str) -> Result<(), TestCaseError> {
    let raw = RawEvent::from_json(text);
    let typed = serde_json::from_str::<&serde_json::value::RawValue>(text).map(WebhookEvent::from_raw_json);
    match (raw, typed) {
        (Ok(raw), Ok(typed)) => {
            let kind = raw.kind();
            prop_assert_eq!(&raw, &RawEvent::from(typed.clone()), "{}", text);
            let rebuilt = raw.into_webhook_event();
            prop_assert_eq!(&rebuilt, &typed, "{}", text);
            prop_assert_eq!(RawEvent::from(rebuilt).kind(), kind);
        }
        (Err(_), Err(_)) => {}
        (raw, typed) => prop_assert!(false, "{text}: raw {raw:?}, typed {typed:?}"),
    }
    let body = format!("{{\"events\":[{text}],\"pendingCount\":1}}");
    if let Err(reason) = properties::check_fetch_body(body.as_bytes()) {
        prop_assert!(false, "{reason}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn raw_events_read_as_typed_events_do(
        sent in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 0..4),
    ) {
        let mut text = (if sent { SENT } else { COMPLETED }).to_string();
        for m in &mutations {
            if let Some(next) = apply(&text, m) {
                text = next;
            }
        }
        check_text(&text)?;
        let disqualified = text.replace("assessment.completed", "assessment.disqualified");
        check_text(&disqualified)?;
    }
}

#[test]
fn the_seed_texts_read_raw() {
    for text in [COMPLETED, SENT] {
        let raw = RawEvent::from_json(text).unwrap();
        assert_eq!(raw.decode_error(), None, "{text}");
        assert_eq!(raw.raw_json(), text);
        check_text(text).unwrap();
    }
    let raw = RawEvent::from_json(COMPLETED).unwrap();
    assert_eq!(raw.submitted_at().unwrap().to_rfc3339(), "2026-06-09T10:30:00+00:00");
}
