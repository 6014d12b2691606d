//! Typed webhook events.
//!
//! Every event keeps the exact JSON it arrived as (`raw()`), so fields this crate does
//! not know yet are never lost. An event whose type is unknown, or whose known type does
//! not decode, arrives as [`WebhookEvent::Unknown`] with the reason attached: one
//! malformed event never hides the rest of its batch.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::OnceLock;

/// `event` of a completed assessment.
pub const ASSESSMENT_COMPLETED: &str = "assessment.completed";
/// `event` of a disqualified session.
pub const ASSESSMENT_DISQUALIFIED: &str = "assessment.disqualified";
/// `event` of an assessment sent to candidates.
pub const ASSESSMENT_SENT: &str = "assessment.sent";

/// One event from the queue.
///
/// ```
/// use smartai_events::WebhookEvent;
/// let event = WebhookEvent::from_value(serde_json::json!({
///     "eventId": "evt_1", "event": "assessment.reviewed", "storedAt": "2026-06-09T10:31:00.000Z"
/// }));
/// assert_eq!(event.event_id(), "evt_1");
/// assert_eq!(event.event_type(), "assessment.reviewed");
/// assert!(matches!(event, WebhookEvent::Unknown(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    /// `assessment.completed`: a candidate submitted, or the time ran out.
    AssessmentCompleted(Box<AssessmentResult>),
    /// `assessment.disqualified`: the same fields as a completed assessment.
    AssessmentDisqualified(Box<AssessmentResult>),
    /// `assessment.sent`: an assessment was sent to one or more candidates.
    AssessmentSent(Box<AssessmentSent>),
    /// An event type this crate does not know, or a known type that did not decode.
    Unknown(Box<UnknownEvent>),
}

/// The fields of `assessment.completed` and `assessment.disqualified`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessmentResult {
    pub event_id: String,
    pub assessment_id: String,
    pub candidate_id: String,
    pub candidate_name: String,
    pub candidate_email: String,
    #[serde(default)]
    pub assessment_name: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    pub score: f64,
    /// Documented as always 100.
    pub total_marks: f64,
    pub pass_marks: f64,
    /// `score >= pass_marks`, as the platform computed it.
    pub passed: bool,
    /// `completed`, `timeout`, `abandoned` (and `submitted` has been seen); kept as text so
    /// that a new status never breaks decoding.
    pub status: String,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whole minutes, at least 1; `None` when a start or submit time is missing.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// `None` when first stored: the feedback is generated later.
    #[serde(default)]
    pub ai_feedback: Option<String>,
    #[serde(default)]
    pub report_url: Option<String>,
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// The item shape is not documented, so items stay JSON.
    #[serde(default)]
    pub question_answers: Option<Vec<Value>>,
    #[serde(default)]
    pub verification: Option<Verification>,
    #[serde(default)]
    pub proctoring: Option<Proctoring>,
    pub stored_at: DateTime<Utc>,
    #[serde(skip)]
    raw: RawJson,
}

/// Identity verification of the candidate.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    #[serde(default)]
    pub image_url: Option<String>,
    /// Fields not documented yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Proctoring results.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proctoring {
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub violation_count: Option<u32>,
    /// Fields not documented yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The fields of `assessment.sent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessmentSent {
    pub event_id: String,
    pub assessment_id: String,
    #[serde(default)]
    pub assessment_url: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub org_id: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    pub candidates: Vec<Candidate>,
    #[serde(default)]
    pub total_candidates: Option<u32>,
    pub stored_at: DateTime<Utc>,
    #[serde(skip)]
    raw: RawJson,
}

/// A candidate an assessment was sent to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Fields not documented yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An event of a type this crate does not know, or one that did not decode.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    /// The `eventId`, or `""` when the event has none (it cannot be acknowledged then).
    pub event_id: String,
    /// The `event` field, or `""`.
    pub event_type: String,
    pub stored_at: Option<DateTime<Utc>>,
    /// Why a known event type did not decode; `None` for a type that is simply new.
    pub decode_error: Option<String>,
    raw: RawJson,
}

impl UnknownEvent {
    /// The event's original JSON.
    pub fn raw(&self) -> &Value {
        self.raw.value()
    }
}

impl AssessmentResult {
    /// The event's original JSON.
    pub fn raw(&self) -> &Value {
        self.raw.value()
    }
}

impl AssessmentSent {
    /// The event's original JSON.
    pub fn raw(&self) -> &Value {
        self.raw.value()
    }
}

impl WebhookEvent {
    /// Decodes one event. Never fails: what does not decode becomes [`WebhookEvent::Unknown`]
    /// with [`UnknownEvent::decode_error`] set.
    pub fn from_value(raw: Value) -> WebhookEvent {
        let text = raw.to_string();
        let mut event = Self::from_json_text(text);
        event.raw_mut().value = OnceLock::from(raw);
        event
    }

    /// Decodes one event from the JSON text the server sent, which is kept as it is.
    pub fn from_raw_json(raw: &RawValue) -> WebhookEvent {
        Self::from_json_text(raw.get().to_string())
    }

    /// Decodes one event from JSON text. The text must be valid JSON (it comes out of a
    /// parsed response); the typed fields are decoded straight from it, and a `Value` of
    /// the whole event is built only if [`WebhookEvent::raw`] is asked for.
    fn from_json_text(text: String) -> WebhookEvent {
        /// The fields needed to pick a type, read without building the rest.
        #[derive(Deserialize)]
        struct Head {
            #[serde(default)]
            event: Option<Value>,
            #[serde(default, rename = "eventId")]
            event_id: Option<Value>,
            #[serde(default, rename = "storedAt")]
            stored_at: Option<Value>,
        }
        // serde also reads a struct from an array, field by position; an event is an object.
        let head = if text.trim_start().starts_with('{') {
            serde_json::from_str::<Head>(&text).map_err(drop)
        } else {
            Err(())
        };
        let (event_type, event_id, stored_at) = match &head {
            Ok(h) => (
                h.event.as_ref().and_then(Value::as_str).unwrap_or(""),
                h.event_id.as_ref().and_then(Value::as_str).unwrap_or(""),
                h.stored_at.as_ref().and_then(Value::as_str).and_then(parse_time),
            ),
            Err(_) => ("", "", None),
        };
        let decode_error = match (event_type, &head) {
            (_, Err(_)) => Some(format!("expected a JSON object, got {}", json_kind_of_text(&text))),
            (ASSESSMENT_COMPLETED | ASSESSMENT_DISQUALIFIED, _) => match decode::<AssessmentResult>(&text) {
                Ok(mut e) => {
                    let disqualified = event_type == ASSESSMENT_DISQUALIFIED;
                    e.raw = RawJson::new(text);
                    return if disqualified {
                        WebhookEvent::AssessmentDisqualified(Box::new(e))
                    } else {
                        WebhookEvent::AssessmentCompleted(Box::new(e))
                    };
                }
                Err(reason) => Some(reason),
            },
            (ASSESSMENT_SENT, _) => match decode::<AssessmentSent>(&text) {
                Ok(mut e) => {
                    e.raw = RawJson::new(text);
                    return WebhookEvent::AssessmentSent(Box::new(e));
                }
                Err(reason) => Some(reason),
            },
            _ => None,
        };
        if let Some(reason) = &decode_error {
            tracing::warn!(event_id, reason = reason.as_str(), "event did not decode; delivering it as unknown");
        }
        WebhookEvent::Unknown(Box::new(UnknownEvent {
            event_id: event_id.to_string(),
            event_type: event_type.to_string(),
            stored_at,
            decode_error,
            raw: RawJson::new(text),
        }))
    }

    fn raw_mut(&mut self) -> &mut RawJson {
        match self {
            WebhookEvent::AssessmentCompleted(e) | WebhookEvent::AssessmentDisqualified(e) => &mut e.raw,
            WebhookEvent::AssessmentSent(e) => &mut e.raw,
            WebhookEvent::Unknown(e) => &mut e.raw,
        }
    }

    fn raw_json_ref(&self) -> &RawJson {
        match self {
            WebhookEvent::AssessmentCompleted(e) | WebhookEvent::AssessmentDisqualified(e) => &e.raw,
            WebhookEvent::AssessmentSent(e) => &e.raw,
            WebhookEvent::Unknown(e) => &e.raw,
        }
    }

    /// The event exactly as the server sent it, as JSON text.
    pub fn raw_json(&self) -> &str {
        &self.raw_json_ref().text
    }

    /// The event's ID, used to acknowledge it.
    pub fn event_id(&self) -> &str {
        match self {
            WebhookEvent::AssessmentCompleted(e) | WebhookEvent::AssessmentDisqualified(e) => &e.event_id,
            WebhookEvent::AssessmentSent(e) => &e.event_id,
            WebhookEvent::Unknown(e) => &e.event_id,
        }
    }

    /// The `event` field, such as `"assessment.completed"`.
    pub fn event_type(&self) -> &str {
        match self {
            WebhookEvent::AssessmentCompleted(_) => ASSESSMENT_COMPLETED,
            WebhookEvent::AssessmentDisqualified(_) => ASSESSMENT_DISQUALIFIED,
            WebhookEvent::AssessmentSent(_) => ASSESSMENT_SENT,
            WebhookEvent::Unknown(e) => &e.event_type,
        }
    }

    /// When the platform stored the event (`None` only for an unknown event without a valid `storedAt`).
    pub fn stored_at(&self) -> Option<DateTime<Utc>> {
        match self {
            WebhookEvent::AssessmentCompleted(e) | WebhookEvent::AssessmentDisqualified(e) => Some(e.stored_at),
            WebhookEvent::AssessmentSent(e) => Some(e.stored_at),
            WebhookEvent::Unknown(e) => e.stored_at,
        }
    }

    /// The event exactly as the server sent it, unknown fields included. Built from the
    /// kept JSON text on first use.
    pub fn raw(&self) -> &Value {
        self.raw_json_ref().value()
    }

    /// Takes the original JSON out of the event.
    pub fn into_raw(self) -> Value {
        match self {
            WebhookEvent::AssessmentCompleted(e) | WebhookEvent::AssessmentDisqualified(e) => e.raw.into_value(),
            WebhookEvent::AssessmentSent(e) => e.raw.into_value(),
            WebhookEvent::Unknown(e) => e.raw.into_value(),
        }
    }

    /// Why the event did not decode, if it did not.
    pub fn decode_error(&self) -> Option<&str> {
        match self {
            WebhookEvent::Unknown(e) => e.decode_error.as_deref(),
            _ => None,
        }
    }
}

impl serde::Serialize for WebhookEvent {
    /// Serialises as the original JSON, so that storing or forwarding an event loses nothing.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&RawValue>(self.raw_json()) {
            Ok(raw) => raw.serialize(serializer),
            Err(_) => self.raw().serialize(serializer),
        }
    }
}

/// An event's JSON text as received, and the `Value` of it once somebody asks.
#[derive(Clone)]
struct RawJson {
    text: String,
    value: OnceLock<Value>,
}

impl RawJson {
    fn new(text: String) -> Self {
        RawJson { text, value: OnceLock::new() }
    }

    fn value(&self) -> &Value {
        // The text came out of a parsed response, so it parses again.
        self.value.get_or_init(|| serde_json::from_str(&self.text).unwrap_or(Value::Null))
    }

    fn into_value(self) -> Value {
        match self.value.into_inner() {
            Some(value) => value,
            None => serde_json::from_str(&self.text).unwrap_or(Value::Null),
        }
    }
}

impl Default for RawJson {
    fn default() -> Self {
        RawJson::new("null".to_string())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    // serde quotes a mistyped string whole; the reason is logged and stored, so it stays short.
    serde_json::from_str(text).map_err(|e| crate::validate::shorten(&e.to_string(), 300))
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

fn json_kind_of_text(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object with a field of the wrong type",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_event() -> Value {
        json!({
            "eventId": "evt_01J9XYZABC", "event": "assessment.completed",
            "assessmentId": "asmt_xyz789", "candidateId": "cand_abc123",
            "candidateName": "Priya Sharma", "candidateEmail": "priya@example.com",
            "assessmentName": "Full Stack Developer Assessment", "jobTitle": "Senior Software Engineer",
            "score": 78, "totalMarks": 100, "passMarks": 60, "passed": true, "status": "completed",
            "submittedAt": "2026-06-09T10:30:00.000Z", "durationMinutes": 45,
            "reportUrl": "https://platform.smartai.app/reports/evt_01J9XYZABC",
            "proctoring": {"score": 88, "violationCount": 2},
            "storedAt": "2026-06-09T10:31:00.000Z"
        })
    }

    #[test]
    fn decodes_the_seed_sample() {
        let event = WebhookEvent::from_value(seed_event());
        let WebhookEvent::AssessmentCompleted(e) = &event else { panic!("{event:?}") };
        assert_eq!(e.candidate_name, "Priya Sharma");
        assert_eq!(e.proctoring.as_ref().unwrap().violation_count, Some(2));
        assert_eq!(e.ai_feedback, None);
        assert_eq!(event.stored_at().unwrap().to_rfc3339(), "2026-06-09T10:31:00+00:00");
        assert_eq!(event.raw(), &seed_event());
    }

    #[test]
    fn keeps_unknown_fields() {
        let mut raw = seed_event();
        raw["experimental"] = json!({"x": [1, 2]});
        raw["proctoring"]["tabSwitches"] = json!(4);
        let event = WebhookEvent::from_value(raw.clone());
        let WebhookEvent::AssessmentCompleted(e) = &event else { panic!() };
        assert_eq!(e.proctoring.as_ref().unwrap().extra["tabSwitches"], json!(4));
        assert_eq!(serde_json::to_value(&event).unwrap(), raw);
    }

    #[test]
    fn malformed_known_type_becomes_unknown_with_reason() {
        let mut raw = seed_event();
        raw["score"] = json!("seventy");
        let event = WebhookEvent::from_value(raw);
        assert_eq!(event.event_id(), "evt_01J9XYZABC");
        assert_eq!(event.event_type(), "assessment.completed");
        assert!(event.decode_error().unwrap().contains("seventy"), "{:?}", event.decode_error());
    }

    #[test]
    fn keeps_the_exact_text_and_builds_the_value_on_demand() {
        let text = r#"{"storedAt":"2026-06-09T10:31:00.000Z","event":"assessment.reviewed","eventId":"e1","n":1.50}"#;
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        let event = WebhookEvent::from_raw_json(raw);
        assert_eq!(event.raw_json(), text, "key order, spacing and number text are kept");
        assert_eq!(serde_json::to_string(&event).unwrap(), text);
        assert_eq!(event.raw()["eventId"], "e1");
        assert_eq!(event.clone().into_raw()["n"], 1.5);
    }

    #[test]
    fn non_object_event_is_unknown() {
        let event = WebhookEvent::from_value(json!(42));
        assert_eq!(event.event_id(), "");
        assert!(event.decode_error().unwrap().contains("a number"));
    }

    #[test]
    fn disqualified_and_sent() {
        let mut raw = seed_event();
        raw["event"] = json!("assessment.disqualified");
        assert!(matches!(WebhookEvent::from_value(raw), WebhookEvent::AssessmentDisqualified(_)));
        let sent = WebhookEvent::from_value(json!({
            "eventId": "e2", "event": "assessment.sent", "storedAt": "2026-06-09T10:31:00Z",
            "assessmentId": "a", "assessmentUrl": "https://x", "keyId": "k", "orgId": "o",
            "jobTitle": "J", "candidates": [{"id": "c", "name": "Zoë", "email": "z@x"}], "totalCandidates": 1
        }));
        let WebhookEvent::AssessmentSent(s) = sent else { panic!() };
        assert_eq!(s.candidates[0].name, "Zoë");
    }
}
