//! Checks an event of a known type against the typed decoding rules of `events.rs`
//! without building it.
//!
//! `RawEvent` (and so every binding) needs to know that an event decodes, and as what,
//! but never reads the typed fields: the bindings read the JSON text. Building the
//! `AssessmentResult` (a `String` per field, a `Map` per object with undocumented keys)
//! and dropping it again was over half of a drain's client CPU.
//!
//! Each mirror below has the fields of its public struct with the same serde attributes,
//! but with types that accept exactly the same JSON and keep nothing: [`Str`] for
//! `String`, [`Seq`] for `Vec`, [`AnyJson`] for `Value` and `QuestionAnswer`, [`Obj`] for
//! a struct with an `extra` map (`extra_fields.rs`). Where a mirror is unsure (a duplicate
//! key in such an object, serde_json's private marker keys, nesting counted from the event
//! where `QuestionAnswer` counts it from the answer) it refuses, and the caller falls back
//! to the full decode, which stays the only judge of what is wrong with an event.

#[cfg(test)]
use crate::events::whole;
use crate::events::{
    ASSESSMENT_COMPLETED, ASSESSMENT_DISQUALIFIED, ASSESSMENT_SENT, HeadValue, decode_prefix, peek_event_type,
};
use chrono::{DateTime, Utc};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// What a check keeps of an event that decodes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked<'a> {
    pub event_type: &'static str,
    pub event_id: Cow<'a, str>,
    pub stored_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// `Some` only if `text` is one JSON value that the one-pass typed decode
/// (`WebhookEvent::from_json_fast`) would accept as a known event type.
#[cfg(test)]
pub(crate) fn check(text: &str) -> Option<Checked<'_>> {
    whole(text, check_prefix(text))
}

/// [`check`] of the JSON value that `text` starts with, and that value's length (as
/// `WebhookEvent::from_json_prefix_fast` gives it).
pub(crate) fn check_prefix(text: &str) -> Option<(Checked<'_>, usize)> {
    let peeked = peek_event_type(text)?;
    let event_type = match peeked.as_ref() {
        ASSESSMENT_COMPLETED => ASSESSMENT_COMPLETED,
        ASSESSMENT_DISQUALIFIED => ASSESSMENT_DISQUALIFIED,
        ASSESSMENT_SENT => ASSESSMENT_SENT,
        _ => return None,
    };
    let (event, event_id, stored_at, submitted_at, len) = if event_type == ASSESSMENT_SENT {
        let (f, len) = decode_prefix::<SentCheck>(text)?;
        (f.event, f.event_id, f.stored_at, None, len)
    } else {
        let (f, len) = decode_prefix::<ResultCheck>(text)?;
        (f.event, f.event_id, f.stored_at, f.submitted_at, len)
    };
    if event.as_ref().and_then(HeadValue::as_str) != Some(event_type) {
        return None;
    }
    Some((Checked { event_type, event_id, stored_at, submitted_at }, len))
}

/// Mirrors `AssessmentResult` (plus its `event` key, as `fast::ResultFields` has it).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read by serde only: each field is there for what it accepts
struct ResultCheck<'a> {
    #[serde(default, borrow)]
    event: Option<HeadValue<'a>>,
    #[serde(borrow)]
    event_id: Cow<'a, str>,
    assessment_id: Str,
    candidate_id: Str,
    candidate_name: Str,
    candidate_email: Str,
    #[serde(default)]
    assessment_name: Option<Str>,
    #[serde(default)]
    job_title: Option<Str>,
    score: f64,
    total_marks: f64,
    pass_marks: f64,
    passed: bool,
    status: Str,
    #[serde(default, deserialize_with = "crate::timestamps::opt_utc")]
    submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    duration_minutes: Option<u32>,
    #[serde(default)]
    ai_feedback: Option<Str>,
    #[serde(default)]
    report_url: Option<Str>,
    #[serde(default)]
    skills: Option<Seq<Str>>,
    #[serde(default)]
    question_answers: Option<Seq<AnyJson>>,
    #[serde(default)]
    verification: Option<Obj<VerificationKeys>>,
    #[serde(default)]
    proctoring: Option<Obj<ProctoringKeys>>,
    #[serde(deserialize_with = "crate::timestamps::utc")]
    stored_at: DateTime<Utc>,
}

/// Mirrors `AssessmentSent` (plus its `event` key).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SentCheck<'a> {
    #[serde(default, borrow)]
    event: Option<HeadValue<'a>>,
    #[serde(borrow)]
    event_id: Cow<'a, str>,
    assessment_id: Str,
    #[serde(default)]
    assessment_url: Option<Str>,
    #[serde(default)]
    key_id: Option<Str>,
    #[serde(default)]
    org_id: Option<Str>,
    #[serde(default)]
    job_title: Option<Str>,
    candidates: Seq<Obj<CandidateKeys>>,
    #[serde(default)]
    total_candidates: Option<u32>,
    #[serde(deserialize_with = "crate::timestamps::utc")]
    stored_at: DateTime<Utc>,
}

/// What a `String` field accepts: a JSON string (escapes decoded into serde_json's
/// scratch buffer, never kept).
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        // `String` asks with `deserialize_string`, which serde_json reads as a string.
        deserializer.deserialize_string(V)
    }
}

/// What a `Vec<T>` field accepts: an array whose every item `T` accepts.
struct Seq<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Seq<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seq<T>, A::Error> {
                while seq.next_element::<T>()?.is_some() {}
                Ok(Seq(PhantomData))
            }
        }
        deserializer.deserialize_seq(V(PhantomData))
    }
}

/// What a `serde_json::Value` accepts: any JSON value that it can hold (numbers within a
/// double's range), read the way `Value` reads it (`deserialize_any` all the way down, so
/// the same nesting limit applies).
struct AnyJson;

/// Object keys that serde_json's `Value` treats as markers of its own private types
/// rather than as keys; an object holding one is left to the full decode.
const PRIVATE_KEY_PREFIX: &str = "$serde_json::private::";

impl<'de> Deserialize<'de> for AnyJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_i64<E>(self, _: i64) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_u64<E>(self, _: u64) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_f64<E>(self, _: f64) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_str<E>(self, _: &str) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_unit<E>(self) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_none<E>(self) -> Result<AnyJson, E> {
                Ok(AnyJson)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AnyJson, D::Error> {
                AnyJson::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyJson, A::Error> {
                while seq.next_element::<AnyJson>()?.is_some() {}
                Ok(AnyJson)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyJson, A::Error> {
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.0.starts_with(PRIVATE_KEY_PREFIX) {
                        return Err(de::Error::custom("a serde_json private key"));
                    }
                    map.next_value::<AnyJson>()?;
                }
                Ok(AnyJson)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Whether `text` is one JSON value that a `serde_json::Value` can hold, checked without
/// building it (the rule `QuestionAnswer` decodes by).
pub(crate) fn holds_as_value(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<AnyJson>(text).map(drop)
}

/// An object key, decoded (borrowed unless it has escapes), so that `"image\u0055rl"` is
/// seen as the `imageUrl` it is.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(V(PhantomData))
    }
}

/// How a typed field of an object with an `extra` map reads its value.
#[derive(Clone, Copy)]
enum Field {
    Str,
    OptStr,
    OptF64,
    OptU32,
}

/// The typed fields of a struct with an `extra: Map<String, Value>` (`extra_fields.rs`);
/// every other key goes to `extra`, so it may hold any value a `Value` holds.
trait Keys {
    const FIELDS: &'static [(&'static str, Field)];
}

struct VerificationKeys;
impl Keys for VerificationKeys {
    const FIELDS: &'static [(&'static str, Field)] = &[("imageUrl", Field::OptStr)];
}

struct ProctoringKeys;
impl Keys for ProctoringKeys {
    const FIELDS: &'static [(&'static str, Field)] = &[("score", Field::OptF64), ("violationCount", Field::OptU32)];
}

struct CandidateKeys;
impl Keys for CandidateKeys {
    const FIELDS: &'static [(&'static str, Field)] = &[("id", Field::Str), ("name", Field::Str), ("email", Field::Str)];
}

/// What a struct with an `extra` map accepts: an object (`extra_fields.rs` reads such a
/// struct only as a map) whose typed keys hold their types, appear at most once (a second
/// one is refused here rather than judged), and are present unless optional.
struct Obj<K>(PhantomData<K>);

impl<'de, K: Keys> Deserialize<'de> for Obj<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: Keys> Visitor<'de> for V<K> {
            type Value = Obj<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj<K>, A::Error> {
                // At most a handful of typed fields: a bit per field.
                let mut seen = 0u32;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    let Some(i) = K::FIELDS.iter().position(|(name, _)| *name == key.0) else {
                        if key.0.starts_with(PRIVATE_KEY_PREFIX) {
                            return Err(de::Error::custom("a serde_json private key"));
                        }
                        map.next_value::<AnyJson>()?;
                        continue;
                    };
                    if seen & (1 << i) != 0 {
                        return Err(de::Error::custom("a duplicate field"));
                    }
                    seen |= 1 << i;
                    match K::FIELDS[i].1 {
                        Field::Str => map.next_value::<Str>().map(drop)?,
                        Field::OptStr => map.next_value::<Option<Str>>().map(drop)?,
                        Field::OptF64 => map.next_value::<Option<f64>>().map(drop)?,
                        Field::OptU32 => map.next_value::<Option<u32>>().map(drop)?,
                    }
                }
                for (i, (_, field)) in K::FIELDS.iter().enumerate() {
                    if matches!(field, Field::Str) && seen & (1 << i) == 0 {
                        return Err(de::Error::custom("a missing field"));
                    }
                }
                Ok(Obj(PhantomData))
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebhookEvent;

    const SEED: &str = r#"{"eventId":"evt_1","event":"assessment.completed","assessmentId":"a","candidateId":"c","candidateName":"Zoë","candidateEmail":"z@x","score":78,"totalMarks":100,"passMarks":60,"passed":true,"status":"completed","submittedAt":"2026-06-09T10:30:00.000Z","skills":["go"],"questionAnswers":[{"q":"\"}"}],"verification":{"imageUrl":"u","x":[1]},"proctoring":{"score":88,"tabSwitches":2},"storedAt":"2026-06-09T10:31:00.000Z"}"#;
    const SENT: &str = r#"{"eventId":"e2","event":"assessment.sent","storedAt":"2026-06-09T10:31:00Z","assessmentId":"a","candidates":[{"id":"c","name":"Z","email":"z@x","x":1}]}"#;

    #[test]
    fn the_usual_events_are_checked_without_the_typed_decode() {
        for text in [SEED, SENT, &SEED.replace("assessment.completed", "assessment.disqualified")] {
            let checked = check(text).unwrap_or_else(|| panic!("refused {text}"));
            let typed = WebhookEvent::from_json_fast(text).unwrap();
            assert_eq!(checked.event_type, typed.event_type());
            assert_eq!(checked.event_id, typed.event_id());
            assert_eq!(Some(checked.stored_at), typed.stored_at());
        }
    }

    /// Where the typed decode refuses, the check must refuse too; where the check is unsure
    /// it may refuse what the typed decode accepts (the caller then asks the typed decode).
    #[test]
    fn the_check_never_accepts_what_the_typed_decode_refuses() {
        let texts = [
            SEED.replace(r#""score":78"#, r#""score":"78""#),
            SEED.replace(r#"[{"q":""}"}]"#, "[1e400]"),
            SEED.replace(r#"[{"q":""}"}]"#, r#"[{"q":-1e400}]"#),
            SEED.replace(r#""imageUrl":"u""#, r#""imageUrl":1"#),
            SEED.replace(r#""imageUrl":"u""#, r#""imageUrl":1"#),
            SEED.replace(r#""imageUrl":"u""#, r#""imageUrl":"u","imageUrl":"v""#),
            SEED.replace(r#""x":[1]"#, r#""x":1e400"#),
            SEED.replace(r#""x":[1]"#, r#""$serde_json::private::RawValue":"1""#),
            SEED.replace(r#""tabSwitches":2"#, r#""violationCount":-2"#),
            SEED.replace(r#""verification":{"imageUrl":"u","x":[1]}"#, r#""verification":[]"#),
            SEED.replace(r#""skills":["go"]"#, r#""skills":[1]"#),
            SEED.replace(r#""skills":["go"]"#, r#""skills":"go""#),
            SEED.replace(r#""storedAt":"2026-06-09T10:31:00.000Z""#, r#""storedAt":"soon""#),
            SEED.replace(r#""eventId":"evt_1","#, ""),
            SEED.replacen('{', r#"{"event":"assessment.sent","#, 1),
            SENT.replace(r#""id":"c","#, ""),
            SENT.replace(r#""id":"c","#, r#""id":"c","id":"d","#),
            SENT.replace(r#""email":"z@x""#, r#""email":null"#),
            SENT.replace(r#""x":1"#, r#""x":1e400"#),
            SENT.replace(r#""candidates":["#, r#""candidates":[{},"#),
        ];
        for text in &texts {
            let typed = WebhookEvent::from_json_fast(text);
            match check(text) {
                Some(checked) => {
                    let typed =
                        typed.unwrap_or_else(|| panic!("the check accepted what the typed decode refuses: {text}"));
                    assert_eq!(checked.event_id, typed.event_id(), "{text}");
                }
                None => {
                    // Refused while the typed decode accepts: only where the check is unsure.
                    let unsure = ["\"imageUrl\":\"u\",\"imageUrl\"", "\"id\":\"d\"", PRIVATE_KEY_PREFIX];
                    assert!(typed.is_none() || unsure.iter().any(|u| text.contains(u)), "refused: {text}");
                }
            }
        }
    }
}
