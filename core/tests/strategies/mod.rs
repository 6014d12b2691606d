//! Generators shared by the property tests: JSON values that stress canonical JSON, and
//! fetch-response events, valid and malformed.
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Characters where canonical JSON can go wrong: controls, quote, backslash, slash, the
/// private-use block above the surrogates (sorted differently by code point and by UTF-16
/// code unit), astral characters, and plain text.
pub fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => proptest::char::range('a', 'e'),
        2 => proptest::char::range('\0', '\u{1f}'),
        1 => prop_oneof![Just('"'), Just('\\'), Just('/'), Just('\u{7f}'), Just('\u{2028}'), Just('é')],
        1 => proptest::char::range('\u{e000}', '\u{ffff}'),
        1 => proptest::char::range('\u{10000}', '\u{10ffff}'),
        1 => any::<char>(),
    ]
}

pub fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..max).prop_map(String::from_iter)
}

/// Doubles of every magnitude, many near the layout boundaries (1e-7, 1e-6, 1e21, 2^53).
pub fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (1u64..10_000_000, -30i32..30).prop_map(|(m, e)| m as f64 * 10f64.powi(e)),
        (1u64..1000, 0i32..12).prop_map(|(m, s)| (m as f64) * 2f64.powi(50 + s)),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
    ]
    .prop_map(|f| if any_sign(f) { -f } else { f })
}

fn any_sign(f: f64) -> bool {
    f.to_bits() & 1 == 1
}

pub fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        double().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
}

pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        tricky_string(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((tricky_string(4), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// `value` with the keys of every object in another insertion order, chosen by `seed`.
pub fn reorder(value: &Value, seed: u64) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| reorder(v, seed.rotate_left(7))).collect()),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if !entries.is_empty() {
                let len = entries.len();
                entries.rotate_left((seed as usize) % len);
                if seed & 1 == 1 {
                    entries.reverse();
                }
            }
            let out: Map<String, Value> =
                entries.into_iter().map(|(k, v)| (k.clone(), reorder(v, seed.rotate_left(13) ^ 0x9e37))).collect();
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// How an event was generated, and so how it must come out of decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A complete event of a known type: it must decode as that type.
    Valid,
    /// A known type with a required field missing or of the wrong type: it must come out
    /// as an unknown event with a decode error, and must not disturb its neighbours.
    Malformed,
    /// Anything else (a new type, not an object): it must come out as unknown.
    Other,
}

fn timestamp() -> impl Strategy<Value = String> {
    (2020i32..2030, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u32..1000)
        .prop_map(|(y, mo, d, h, mi, ms)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00.{ms:03}Z"))
}

fn result_event() -> impl Strategy<Value = Value> {
    (
        tricky_string(10),
        prop_oneof![Just("assessment.completed"), Just("assessment.disqualified")],
        tricky_string(10),
        0u32..=100,
        any::<bool>(),
        timestamp(),
        proptest::option::of(tricky_string(20)),
        proptest::option::of(1u32..500),
    )
        .prop_map(|(id, ty, name, score, passed, stored_at, feedback, minutes)| {
            json!({
                "eventId": format!("evt_{id}"), "event": ty, "assessmentId": "asmt_1", "candidateId": "cand_1",
                "candidateName": name, "candidateEmail": "c@example.com", "score": score, "totalMarks": 100,
                "passMarks": 60, "passed": passed, "status": "completed", "storedAt": stored_at,
                "aiFeedback": feedback, "durationMinutes": minutes,
                "proctoring": {"score": 88.5, "violationCount": 2, "tabSwitches": 4},
                "skills": ["rust"], "questionAnswers": [{"q": 1}], "extraField": {"nested": [1, 2]}
            })
        })
}

fn sent_event() -> impl Strategy<Value = Value> {
    (tricky_string(10), proptest::collection::vec(tricky_string(8), 0..4), timestamp()).prop_map(
        |(id, names, stored_at)| {
            let candidates: Vec<Value> = names
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"id": format!("c{i}"), "name": n, "email": "e@x", "extra": i}))
                .collect();
            json!({
                "eventId": format!("evt_{id}"), "event": "assessment.sent", "assessmentId": "asmt_2",
                "candidates": candidates, "totalCandidates": names.len(), "storedAt": stored_at
            })
        },
    )
}

/// Breaks a valid event: a required field goes missing or takes a value of the wrong type.
fn malformed(event: Value, pick: usize, replacement: Value) -> Value {
    let Value::Object(mut map) = event else { return event };
    let required: &[&str] = if map["event"] == "assessment.sent" {
        &["assessmentId", "candidates", "storedAt", "eventId"]
    } else {
        &["assessmentId", "candidateName", "score", "passed", "storedAt", "status", "eventId"]
    };
    let field = required[pick % required.len()];
    // A replacement of the same JSON kind as a string field would still decode.
    let wrong = match (&map[field], &replacement) {
        (Value::String(_), Value::String(_)) | (Value::Null, _) => Value::Array(vec![replacement]),
        (Value::Number(_), Value::Number(_)) => Value::String("seventy".into()),
        (Value::Bool(_), Value::Bool(_)) => Value::Null,
        (Value::Array(_), Value::Array(_)) => Value::Bool(true),
        _ => replacement,
    };
    if pick.is_multiple_of(2) {
        map.remove(field);
    } else {
        map.insert(field.to_string(), wrong);
    }
    Value::Object(map)
}

pub fn event() -> impl Strategy<Value = (Shape, Value)> {
    let valid = prop_oneof![result_event(), sent_event()];
    prop_oneof![
        3 => valid.clone().prop_map(|v| (Shape::Valid, v)),
        2 => (valid, any::<usize>(), json_value()).prop_map(|(v, pick, r)| (Shape::Malformed, malformed(v, pick, r))),
        1 => (tricky_string(10), json_value()).prop_map(|(ty, extra)| {
            (Shape::Other, json!({"eventId": "evt_x", "event": format!("assessment.{ty}x"), "storedAt": "nope", "x": extra}))
        }),
        1 => json_value().prop_map(|v| (Shape::Other, v)),
    ]
}
