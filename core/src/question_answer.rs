//! The items of `questionAnswers`: JSON of a shape the platform does not document.
//!
//! They stay JSON, but as text: building a `Value` tree per answer (an ordered map, a
//! `String` per key and per string) was about 30 % of the typed decode (3.1 -> 2.2 µs per
//! event without it, bench/RESULTS.md), and most handlers never read the answers. The
//! `Value` is built on first use, as an event's own `raw()` is.

use crate::events::RawJson;
use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::ops::Deref;

/// One item of [`AssessmentResult::question_answers`](crate::AssessmentResult::question_answers).
///
/// It reads as the [`serde_json::Value`] it holds (it derefs to one), built from the
/// item's JSON text the first time it is read. It decodes only if a `Value` can hold it,
/// so reading it never fails.
///
/// ```
/// use smartai_events::WebhookEvent;
/// let event = WebhookEvent::from_value(serde_json::json!({
///     "eventId": "evt_1", "event": "assessment.completed", "assessmentId": "a",
///     "candidateId": "c", "candidateName": "Zoë", "candidateEmail": "z@example.com",
///     "score": 78, "totalMarks": 100, "passMarks": 60, "passed": true, "status": "completed",
///     "questionAnswers": [{"questionId": "q_1", "marks": 15}],
///     "storedAt": "2026-06-09T10:31:00.000Z"
/// }));
/// let WebhookEvent::AssessmentCompleted(result) = event else { panic!("{:?}", event.decode_error()) };
/// let answer = &result.question_answers.as_ref().unwrap()[0];
/// assert_eq!(answer["marks"], 15);
/// assert_eq!(answer.get("questionId").and_then(|q| q.as_str()), Some("q_1"));
/// assert_eq!(answer.raw_json(), r#"{"questionId":"q_1","marks":15}"#);
/// ```
#[derive(Clone)]
pub struct QuestionAnswer(RawJson);

impl QuestionAnswer {
    /// The item exactly as the server sent it, as JSON text.
    pub fn raw_json(&self) -> &str {
        &self.0.text
    }

    /// The item as a `Value`, built on first use.
    pub fn value(&self) -> &Value {
        self.0.value()
    }

    /// Takes the `Value` out.
    pub fn into_value(self) -> Value {
        self.0.into_value()
    }
}

impl<'de> Deserialize<'de> for QuestionAnswer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        // Capturing the text checks its syntax only. What `Vec<Value>` also refused (a
        // number beyond a double, a lone surrogate escape, nesting as deep as a `Value`'s
        // limit) is refused here too, so that reading the value later cannot fail.
        crate::event_check::holds_as_value(raw.get()).map_err(D::Error::custom)?;
        Ok(QuestionAnswer(RawJson::new(Box::<str>::from(raw).into_string())))
    }
}

impl serde::Serialize for QuestionAnswer {
    /// Serialises as the text the server sent.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_as_json(serializer)
    }
}

impl Deref for QuestionAnswer {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl AsRef<Value> for QuestionAnswer {
    fn as_ref(&self) -> &Value {
        self.value()
    }
}

impl From<QuestionAnswer> for Value {
    fn from(answer: QuestionAnswer) -> Value {
        answer.into_value()
    }
}

/// Answers compare as values, as `Value`s do: `{"a":1, "b":2}` equals `{"b":2,"a":1}`.
impl PartialEq for QuestionAnswer {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl PartialEq<Value> for QuestionAnswer {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl fmt::Debug for QuestionAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw_json())
    }
}

impl fmt::Display for QuestionAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(text: &str) -> Result<QuestionAnswer, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn keeps_the_text_and_reads_it_as_a_value_on_first_use() {
        let answer = decode(r#" {"questionId":"q_1","answer":"Zoë \"quoted\"","marks":15.5,"tags":[1,null]}"#).unwrap();
        assert_eq!(answer.raw_json(), r#"{"questionId":"q_1","answer":"Zoë \"quoted\"","marks":15.5,"tags":[1,null]}"#);
        assert!(!answer.0.has_value());
        assert_eq!(answer["answer"], "Zoë \"quoted\"");
        assert_eq!(answer, json!({"questionId": "q_1", "answer": "Zoë \"quoted\"", "marks": 15.5, "tags": [1, null]}));
        assert_eq!(answer.clone().into_value()["tags"][0], 1);
    }

    #[test]
    fn decodes_from_a_value_too() {
        let answer: QuestionAnswer = serde_json::from_value(json!({"a": 1, "b": [1.5, "x"]})).unwrap();
        assert_eq!(answer.raw_json(), r#"{"a":1,"b":[1.5,"x"]}"#);
        assert_eq!(answer["b"][1], "x");
    }

    #[test]
    fn any_json_value_is_an_answer() {
        for text in ["\"free text\"", "42", "-1.5e3", "true", "null", "[]", "{}", "[[{\"a\":[]}]]"] {
            let answer = decode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(answer.value(), &serde_json::from_str::<Value>(text).unwrap(), "{text}");
        }
    }

    #[test]
    fn refuses_what_a_value_cannot_hold() {
        for (text, why) in [
            ("1e400", "number out of range"),
            (r#"{"a":"\ud800"}"#, "hex escape"),
            (r#"["\udc00"]"#, "lone"),
            ("{\"a\":1,}", "key must be a string"),
            ("[1 2]", "expected `,`"),
        ] {
            let err = decode(text).expect_err(text).to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
        // The nesting limit is the one a `Value` has, wherever it lies.
        for depth in 120..140 {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(decode(&text).is_ok(), serde_json::from_str::<Value>(&text).is_ok(), "depth {depth}");
        }
        assert!(
            decode(&format!("{}{}", "[".repeat(140), "]".repeat(140)))
                .unwrap_err()
                .to_string()
                .contains("recursion limit")
        );
    }

    #[test]
    fn compares_as_values_and_serialises_as_sent() {
        let a = decode(r#"{"a":1,"b":[true]}"#).unwrap();
        let b = decode(r#"{ "b" : [ true ], "a" : 1 }"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, decode(r#"{"a":2,"b":[true]}"#).unwrap());
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{ "b" : [ true ], "a" : 1 }"#);
        assert_eq!(format!("{a:?}"), r#"{"a":1,"b":[true]}"#);
    }
}
