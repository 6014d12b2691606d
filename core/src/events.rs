//! Typed webhook events.
//!
//! Every event keeps the exact JSON it arrived as (`raw()`), so fields this crate does
//! not know yet are never lost. An event whose type is unknown, or whose known type does
//! not decode, arrives as [`WebhookEvent::Unknown`] with the reason attached: one
//! malformed event never hides the rest of its batch.
//!
//! Two edges of well-formed JSON, so that every binding reads the same events: a timestamp
//! must fall in the years 0001 to 9999 (UTC), the range of Python's `datetime` and of
//! RFC 3339, or the event is malformed; a lone UTF-16 surrogate escape in a string (half an
//! emoji that JavaScript cut) reads as U+FFFD in typed fields, while `raw_json()` keeps it.

use crate::json_text::JsonText;
pub use crate::question_answer::QuestionAnswer;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

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
    /// `eventId`: what acknowledges the event.
    pub event_id: String,
    /// `assessmentId`.
    pub assessment_id: String,
    /// `candidateId`.
    pub candidate_id: String,
    /// `candidateName`.
    pub candidate_name: String,
    /// `candidateEmail`.
    pub candidate_email: String,
    /// `assessmentName`.
    #[serde(default)]
    pub assessment_name: Option<String>,
    /// `jobTitle`.
    #[serde(default)]
    pub job_title: Option<String>,
    /// `score`, out of `total_marks`.
    pub score: f64,
    /// Documented as always 100.
    pub total_marks: f64,
    /// `passMarks`: the score needed to pass.
    pub pass_marks: f64,
    /// `score >= pass_marks`, as the platform computed it.
    pub passed: bool,
    /// `completed`, `timeout`, `abandoned` (and `submitted` has been seen); kept as text so
    /// that a new status never breaks decoding.
    pub status: String,
    /// `submittedAt`; `None` when the candidate never submitted.
    #[serde(default, deserialize_with = "crate::timestamps::opt_utc")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whole minutes, at least 1; `None` when a start or submit time is missing.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// `None` when first stored: the feedback is generated later.
    #[serde(default)]
    pub ai_feedback: Option<String>,
    /// `reportUrl`: the report on the platform.
    #[serde(default)]
    pub report_url: Option<String>,
    /// `skills` assessed.
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// The item shape is not documented, so items stay JSON (read as a `Value` on first use).
    #[serde(default)]
    pub question_answers: Option<Vec<QuestionAnswer>>,
    /// `verification`: identity verification of the candidate.
    #[serde(default)]
    pub verification: Option<Verification>,
    /// `proctoring` results.
    #[serde(default)]
    pub proctoring: Option<Proctoring>,
    /// `storedAt`: when the platform queued the event.
    #[serde(deserialize_with = "crate::timestamps::utc")]
    pub stored_at: DateTime<Utc>,
    #[serde(skip)]
    raw: RawJson,
}

/// Identity verification of the candidate.
// Its `Deserialize` is in extra_fields.rs, as are those of `Proctoring` and `Candidate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// `imageUrl`.
    pub image_url: Option<String>,
    /// Fields not documented yet.
    pub extra: Map<String, Value>,
}

/// Proctoring results.
#[derive(Debug, Clone, PartialEq)]
pub struct Proctoring {
    /// `score`.
    pub score: Option<f64>,
    /// `violationCount`.
    pub violation_count: Option<u32>,
    /// Fields not documented yet.
    pub extra: Map<String, Value>,
}

/// The fields of `assessment.sent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessmentSent {
    /// `eventId`: what acknowledges the event.
    pub event_id: String,
    /// `assessmentId`.
    pub assessment_id: String,
    /// `assessmentUrl`: the link the candidates received.
    #[serde(default)]
    pub assessment_url: Option<String>,
    /// `keyId`.
    #[serde(default)]
    pub key_id: Option<String>,
    /// `orgId`.
    #[serde(default)]
    pub org_id: Option<String>,
    /// `jobTitle`.
    #[serde(default)]
    pub job_title: Option<String>,
    /// `candidates` the assessment was sent to.
    pub candidates: Vec<Candidate>,
    /// `totalCandidates`.
    #[serde(default)]
    pub total_candidates: Option<u32>,
    /// `storedAt`: when the platform queued the event.
    #[serde(deserialize_with = "crate::timestamps::utc")]
    pub stored_at: DateTime<Utc>,
    #[serde(skip)]
    raw: RawJson,
}

/// A candidate an assessment was sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// Fields not documented yet.
    pub extra: Map<String, Value>,
}

/// An event of a type this crate does not know, or one that did not decode.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    /// The `eventId`, or `""` when the event has none (it cannot be acknowledged then).
    /// Of a repeated key, the last value, as the platform reads it.
    pub event_id: String,
    /// The `event` field, or `""`.
    pub event_type: String,
    /// `storedAt`, if it is there and a valid timestamp.
    pub stored_at: Option<DateTime<Utc>>,
    /// Why a known event type did not decode, or that `event`, `eventId` or `storedAt`
    /// appears twice (whatever the type); `None` for a type that is simply new.
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

    /// [`WebhookEvent::from_raw_json`] for text already known to be one valid JSON value.
    pub(crate) fn from_checked_json(text: &str) -> WebhookEvent {
        Self::from_json_text(text.to_string())
    }

    /// The one-pass decode of a known event type from text that may not be JSON at all:
    /// `Some` only if it is one valid JSON value that decodes, `None` otherwise.
    #[cfg(test)]
    pub(crate) fn from_json_fast(text: &str) -> Option<WebhookEvent> {
        whole(text, Self::from_json_prefix_fast(text)).map(|event| event.with_raw(text.to_string()))
    }

    /// Decodes one event from JSON text. The text must be valid JSON (it comes out of a
    /// parsed response); the typed fields are decoded straight from it, and a `Value` of
    /// the whole event is built only if [`WebhookEvent::raw`] is asked for.
    fn from_json_text(text: String) -> WebhookEvent {
        if let Some(event) = whole(&text, Self::from_json_prefix_fast(&text)) {
            return event.with_raw(text);
        }
        Self::from_json_text_checked(text)
    }

    /// The usual case in one pass: a known `event` type (peeked from the first keys) whose
    /// typed fields decode. Everything `from_json_text_checked` would check still is: the
    /// typed decode also reads `event` (so a second `event` key fails it) and refuses what
    /// the head would. `None` means "not sure", and the checked path decides.
    ///
    /// It reads the JSON value that `text` starts with and gives its length too ([`whole`]
    /// requires it to be all of `text`): a batch is read event by event, each event's end
    /// found by its own decode. The raw text is left for the caller to set.
    pub(crate) fn from_json_prefix_fast(text: &str) -> Option<(WebhookEvent, usize)> {
        match peek_event_type(text)?.as_ref() {
            t @ (ASSESSMENT_COMPLETED | ASSESSMENT_DISQUALIFIED) => {
                let (fields, len) = decode_prefix::<fast::ResultFields>(text)?;
                if fields.event.as_ref().and_then(HeadValue::as_str) != Some(t) {
                    return None;
                }
                let e = Box::new(fields.into_result());
                let event = if t == ASSESSMENT_DISQUALIFIED {
                    WebhookEvent::AssessmentDisqualified(e)
                } else {
                    WebhookEvent::AssessmentCompleted(e)
                };
                Some((event, len))
            }
            ASSESSMENT_SENT => {
                let (fields, len) = decode_prefix::<fast::SentFields>(text)?;
                if fields.event.as_ref().and_then(HeadValue::as_str) != Some(ASSESSMENT_SENT) {
                    return None;
                }
                Some((WebhookEvent::AssessmentSent(Box::new(fields.into_sent())), len))
            }
            _ => None,
        }
    }

    /// [`WebhookEvent::from_json_prefix_fast`] with the event's own text kept as its raw
    /// JSON: a range of `body` when `text` was sliced from it, a copy otherwise.
    pub(crate) fn from_json_prefix(text: &str, body: Option<&Arc<String>>) -> Option<(WebhookEvent, usize)> {
        let (mut event, len) = Self::from_json_prefix_fast(text)?;
        *event.raw_mut() = RawJson::kept(&text[..len], body);
        Some((event, len))
    }

    fn with_raw(mut self, text: String) -> WebhookEvent {
        *self.raw_mut() = RawJson::new(text);
        self
    }

    /// Reads the head (type, ID, `storedAt`) first, then the typed fields of a known type.
    fn from_json_text_checked(text: String) -> WebhookEvent {
        // serde also reads a struct from an array, field by position; an event is an object.
        let head = if text.trim_start().starts_with('{') {
            serde_json::from_str::<Head>(&text).map_err(drop)
        } else {
            Err(())
        };
        let (event_type, event_id, stored_at) = match &head {
            Ok(h) => (
                h.event.as_ref().and_then(HeadValue::as_str).unwrap_or(""),
                h.event_id.as_ref().and_then(HeadValue::as_str).unwrap_or(""),
                h.stored_at.as_ref().and_then(HeadValue::as_str),
            ),
            Err(_) => ("", "", None),
        };
        let repeated = head.as_ref().ok().and_then(|h| h.repeated);
        let decode_error = match (event_type, &head) {
            (_, Err(_)) => Some(format!("expected a JSON object, got {}", json_kind_of_text(&text))),
            // Which of the values is meant cannot be known, whatever the type.
            _ if repeated.is_some() => repeated.map(|key| format!("duplicate field `{key}`")),
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
            // The reason can quote a value of the event (serde's `invalid type: string "…"`),
            // which may be a candidate's name or email: not at the default level. The event
            // carries it in `decode_error`.
            tracing::warn!(
                event_id,
                event_type,
                "event did not decode; delivering it as unknown with its decode_error"
            );
            tracing::debug!(event_id, reason = reason.as_str(), "why the event did not decode");
        }
        WebhookEvent::Unknown(Box::new(UnknownEvent {
            event_id: event_id.to_string(),
            event_type: event_type.to_string(),
            // Parsed here only: a known type reads its own `storedAt`.
            stored_at: stored_at.and_then(parse_time),
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
    /// kept JSON text on first use. A text that `serde_json` cannot hold as a `Value` (a
    /// number beyond a double's range, nesting deeper than 128 levels) gives `Null` here;
    /// [`WebhookEvent::raw_json`] still has it.
    pub fn raw(&self) -> &Value {
        self.raw_json_ref().value()
    }

    pub(crate) fn into_raw_json(self) -> RawJson {
        match self {
            WebhookEvent::AssessmentCompleted(e) | WebhookEvent::AssessmentDisqualified(e) => e.raw,
            WebhookEvent::AssessmentSent(e) => e.raw,
            WebhookEvent::Unknown(e) => e.raw,
        }
    }

    /// Takes the original JSON out of the event.
    pub fn into_raw(self) -> Value {
        self.into_raw_json().into_value()
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
        self.raw_json_ref().serialize_as_json(serializer)
    }
}

/// An event's JSON text as received, and the `Value` of it once somebody asks.
#[derive(Clone)]
pub(crate) struct RawJson {
    pub(crate) text: JsonText,
    value: OnceLock<Value>,
}

impl RawJson {
    pub(crate) fn new(text: String) -> Self {
        RawJson { text: text.into(), value: OnceLock::new() }
    }

    /// `text`, shared with the batch's other events when it is a range of `body`.
    pub(crate) fn kept(text: &str, body: Option<&Arc<String>>) -> Self {
        let text = match body {
            Some(body) => JsonText::in_body(body, text),
            None => JsonText::Own(text.to_string()),
        };
        RawJson { text, value: OnceLock::new() }
    }

    pub(crate) fn value(&self) -> &Value {
        self.value.get_or_init(|| parse_kept_text(&self.text))
    }

    /// Whether [`RawJson::value`] has been built yet.
    #[cfg(test)]
    pub(crate) fn has_value(&self) -> bool {
        self.value.get().is_some()
    }

    pub(crate) fn serialize_as_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::Serialize;
        match serde_json::from_str::<&RawValue>(&self.text) {
            Ok(raw) => raw.serialize(serializer),
            Err(_) => self.value().serialize(serializer),
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self.value.into_inner() {
            Some(value) => value,
            None => parse_kept_text(&self.text),
        }
    }
}

/// The `Value` of an event's text. The text came out of a parsed response, but that parse
/// lets through what a `Value` cannot hold: a lone UTF-16 surrogate escape (`"\ud83d"`, half
/// an emoji that JavaScript cut in two). Such a half becomes U+FFFD, as
/// `String::from_utf16_lossy` makes it, rather than the whole event becoming `null`.
fn parse_kept_text(text: &str) -> Value {
    serde_json::from_str(text).or_else(|_| serde_json::from_str(&replace_lone_surrogates(text))).unwrap_or(Value::Null)
}

fn replace_lone_surrogates(text: &str) -> String {
    /// The code unit of the `\uXXXX` escape at `i`, if there is one.
    fn unit_at(bytes: &[u8], i: usize) -> Option<u16> {
        let escape = bytes.get(i..i + 6).filter(|e| e.starts_with(b"\\u"))?;
        u16::from_str_radix(std::str::from_utf8(&escape[2..]).ok()?, 16).ok()
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        match unit_at(bytes, i) {
            Some(0xD800..=0xDBFF) if matches!(unit_at(bytes, i + 6), Some(0xDC00..=0xDFFF)) => i += 12,
            Some(0xD800..=0xDFFF) => {
                out.push_str(&text[copied..i]);
                out.push_str("\\ufffd");
                i += 6;
                copied = i;
            }
            Some(_) => i += 6,
            // `\\`, `\"` and the other two-character escapes.
            None => i += 2,
        }
    }
    out.push_str(&text[copied..]);
    out
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

/// Decodes the JSON object or array that `text` starts with (after any whitespace), and
/// gives the index just past it; what follows is not read. `None` if that value is not
/// valid JSON or does not decode as `T`.
pub(crate) fn decode_prefix<'a, T: Deserialize<'a>>(text: &'a str) -> Option<(T, usize)> {
    if !matches!(text.trim_start_matches(JSON_WHITESPACE).as_bytes().first(), Some(b'{' | b'[')) {
        // A bare number or literal ends where the text says, not where the value does.
        return None;
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<T>();
    let value = values.next()?.ok()?;
    Some((value, values.byte_offset()))
}

/// What JSON counts as whitespace between tokens.
pub(crate) const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// A prefix decode's value if it spans all of `text` but trailing whitespace, as
/// `serde_json::from_str` requires.
pub(crate) fn whole<T>(text: &str, decoded: Option<(T, usize)>) -> Option<T> {
    let (value, len) = decoded?;
    only_whitespace_after(text, len).then_some(value)
}

/// Whether nothing but JSON whitespace follows the first `len` bytes of `text`.
pub(crate) fn only_whitespace_after(text: &str, len: usize) -> bool {
    text[len..].trim_start_matches(JSON_WHITESPACE).is_empty()
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    // serde quotes a mistyped string whole; the reason is logged and stored, so it stays short.
    let reason = |e: serde_json::Error| crate::validate::shorten(&e.to_string(), 300);
    serde_json::from_str(text).or_else(|e| {
        // A lone surrogate escape (a name that JavaScript cut inside an emoji) is valid JSON
        // that no Rust string holds. The event is well formed, so its typed fields get U+FFFD
        // for that half, as `raw()` does, and its text stays as sent.
        let mended = replace_lone_surrogates(text);
        if mended == text { Err(reason(e)) } else { serde_json::from_str(&mended).map_err(reason) }
    })
}

/// The value of the first top-level `"event"` key, if the text is an object and that value a
/// string; reading stops there, so this costs next to nothing when `event` comes first.
pub(crate) fn peek_event_type(text: &str) -> Option<Cow<'_, str>> {
    struct Peek<'a, 'o>(&'o mut Option<Cow<'a, str>>);
    impl<'de: 'a, 'a> serde::de::Visitor<'de> for Peek<'a, '_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<HeadValue<'a>>()? {
                if key.as_str() == Some("event") {
                    if let HeadValue::Str(s) = map.next_value::<HeadValue<'a>>()? {
                        *self.0 = Some(s);
                    }
                    // Stopping here makes the deserializer report an unfinished object,
                    // which is ignored: only the value matters.
                    return Ok(());
                }
                map.next_value::<serde::de::IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = serde::Deserializer::deserialize_map(&mut de, Peek(&mut found));
    found
}

/// The typed fields of the known event types plus their `event` key, for the one-pass
/// decode. Each mirrors its public struct field for field (the conversions name every
/// field, so one added there must be added here), with the same serde attributes.
mod fast {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ResultFields<'a> {
        #[serde(default, borrow)]
        pub event: Option<HeadValue<'a>>,
        event_id: String,
        assessment_id: String,
        candidate_id: String,
        candidate_name: String,
        candidate_email: String,
        #[serde(default)]
        assessment_name: Option<String>,
        #[serde(default)]
        job_title: Option<String>,
        score: f64,
        total_marks: f64,
        pass_marks: f64,
        passed: bool,
        status: String,
        #[serde(default, deserialize_with = "crate::timestamps::opt_utc")]
        submitted_at: Option<DateTime<Utc>>,
        #[serde(default)]
        duration_minutes: Option<u32>,
        #[serde(default)]
        ai_feedback: Option<String>,
        #[serde(default)]
        report_url: Option<String>,
        #[serde(default)]
        skills: Option<Vec<String>>,
        #[serde(default)]
        question_answers: Option<Vec<QuestionAnswer>>,
        #[serde(default)]
        verification: Option<Verification>,
        #[serde(default)]
        proctoring: Option<Proctoring>,
        #[serde(deserialize_with = "crate::timestamps::utc")]
        stored_at: DateTime<Utc>,
    }

    impl ResultFields<'_> {
        pub(super) fn into_result(self) -> AssessmentResult {
            AssessmentResult {
                event_id: self.event_id,
                assessment_id: self.assessment_id,
                candidate_id: self.candidate_id,
                candidate_name: self.candidate_name,
                candidate_email: self.candidate_email,
                assessment_name: self.assessment_name,
                job_title: self.job_title,
                score: self.score,
                total_marks: self.total_marks,
                pass_marks: self.pass_marks,
                passed: self.passed,
                status: self.status,
                submitted_at: self.submitted_at,
                duration_minutes: self.duration_minutes,
                ai_feedback: self.ai_feedback,
                report_url: self.report_url,
                skills: self.skills,
                question_answers: self.question_answers,
                verification: self.verification,
                proctoring: self.proctoring,
                stored_at: self.stored_at,
                raw: RawJson::default(),
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct SentFields<'a> {
        #[serde(default, borrow)]
        pub event: Option<HeadValue<'a>>,
        event_id: String,
        assessment_id: String,
        #[serde(default)]
        assessment_url: Option<String>,
        #[serde(default)]
        key_id: Option<String>,
        #[serde(default)]
        org_id: Option<String>,
        #[serde(default)]
        job_title: Option<String>,
        candidates: Vec<Candidate>,
        #[serde(default)]
        total_candidates: Option<u32>,
        #[serde(deserialize_with = "crate::timestamps::utc")]
        stored_at: DateTime<Utc>,
    }

    impl SentFields<'_> {
        pub(super) fn into_sent(self) -> AssessmentSent {
            AssessmentSent {
                event_id: self.event_id,
                assessment_id: self.assessment_id,
                assessment_url: self.assessment_url,
                key_id: self.key_id,
                org_id: self.org_id,
                job_title: self.job_title,
                candidates: self.candidates,
                total_candidates: self.total_candidates,
                stored_at: self.stored_at,
                raw: RawJson::default(),
            }
        }
    }
}

/// A field of [`WebhookEvent::from_json_text`]'s head: its text if it is a string (borrowed
/// from the event's JSON unless it has escapes), or nothing. It accepts exactly what a
/// `Value` would, without allocating for the usual case.
pub(crate) enum HeadValue<'a> {
    Str(Cow<'a, str>),
    Other,
}

impl HeadValue<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            HeadValue::Str(s) => Some(s),
            HeadValue::Other => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for HeadValue<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = HeadValue<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(HeadValue::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(HeadValue::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(HeadValue::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(HeadValue::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(HeadValue::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(HeadValue::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(HeadValue::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(HeadValue::Other)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(HeadValue::Other)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            // Nested values are read the way `Value` reads them (`deserialize_any` all the
            // way down), so exactly the same texts are accepted and refused.
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<HeadValue<'a>>()?.is_some() {}
                Ok(HeadValue::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<HeadValue<'a>, HeadValue<'a>>()?.is_some() {}
                Ok(HeadValue::Other)
            }
        }
        deserializer.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

/// The fields needed to pick a type, read without building the rest. A repeated key keeps
/// its last value, as JSON.parse (the platform) and `serde_json::Value` read it: the queue
/// holds the event under that ID, so that ID acknowledges it. The repetition is recorded,
/// and makes the event malformed.
struct Head<'a> {
    event: Option<HeadValue<'a>>,
    event_id: Option<HeadValue<'a>>,
    stored_at: Option<HeadValue<'a>>,
    repeated: Option<&'static str>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Head<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Head<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head<'a>, A::Error> {
                let mut head = Head { event: None, event_id: None, stored_at: None, repeated: None };
                while let Some(key) = map.next_key::<HeadValue<'a>>()? {
                    let (name, slot) = match key.as_str() {
                        Some("event") => ("event", &mut head.event),
                        Some("eventId") => ("eventId", &mut head.event_id),
                        Some("storedAt") => ("storedAt", &mut head.stored_at),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.replace(map.next_value()?).is_some() {
                        head.repeated.get_or_insert(name);
                    }
                }
                Ok(head)
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().and_then(|t| crate::timestamps::in_range(t.with_timezone(&Utc)))
}

fn json_kind_of_text(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object that could not be read",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_decode_ends_where_its_value_ends() {
        let rest = r#"{"a":"}],","b":[{"c":1}]},{"a":"x"}],"pendingCount":1}"#;
        let (value, len) = decode_prefix::<Value>(rest).unwrap();
        assert_eq!(&rest[..len], r#"{"a":"}],","b":[{"c":1}]}"#);
        assert_eq!(value["b"][0]["c"], 1);
        assert_eq!(decode_prefix::<Value>(" \n[1] x").map(|(_, len)| len), Some(5));
        // Only objects and arrays: a number or literal does not say where it ends.
        for text in ["12,", "true", "\"s\"", "", "  "] {
            assert!(decode_prefix::<Value>(text).is_none(), "{text:?}");
        }
        // Invalid inside the value, or a value that is not the type asked for.
        for text in [r#"{"a":1,}"#, r#"{"a":1"#, r#"{"a":01}"#, "[1 2]"] {
            assert!(decode_prefix::<Value>(text).is_none(), "{text:?}");
        }
        assert!(decode_prefix::<Vec<u8>>(r#"[1,"2"]"#).is_none());
        assert_eq!(whole("{} \n", decode_prefix::<Value>("{} \n")), Some(serde_json::json!({})));
        assert_eq!(whole("{} x", decode_prefix::<Value>("{} x")), None);
    }
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
    fn the_one_pass_decode_agrees_with_the_checked_one() {
        let seed = seed_event().to_string();
        let sent = r#"{"eventId":"e2","event":"assessment.sent","storedAt":"2026-06-09T10:31:00Z","assessmentId":"a","candidates":[{"id":"c","name":"Z","email":"z@x","x":1}]}"#;
        let texts = [
            seed.clone(),
            seed.replace("assessment.completed", "assessment.disqualified"),
            sent.to_string(),
            // A second `event` key: malformed, under the last value as JSON.parse reads it.
            seed.replacen('{', r#"{"event":"assessment.sent","#, 1),
            seed.replacen('{', r#"{"event":"assessment.completed","#, 1),
            sent.replace(r#""storedAt""#, r#""event":"assessment.sent","storedAt""#),
            // Types that are known but do not decode, or are not what the head expects.
            seed.replace(r#""score":78"#, r#""score":"seventy""#),
            seed.replace(r#""storedAt":"2026-06-09T10:31:00.000Z""#, r#""storedAt":"yesterday""#),
            seed.replace(
                r#""storedAt":"2026-06-09T10:31:00.000Z""#,
                r#""storedAt":"2026-06-09T10:31:00.000Z","storedAt":"2026-06-09T10:31:00.000Z""#,
            ),
            seed.replace(r#""eventId":"evt_01J9XYZABC""#, r#""eventId":7"#),
            seed.replace(r#""durationMinutes":45"#, r#""durationMinutes":1e400"#),
            seed.replace(r#""event":"assessment.completed""#, r#""event":"assessment.reviewed""#),
            seed.replace(r#""event":"assessment.completed""#, r#""event":["assessment.completed"]"#),
            seed.replace(r#""event":"assessment.completed""#, r#""event":"assessment\u002ecompleted""#),
            seed.replace(r#""event":"assessment.completed""#, r#""event":"assessment.completed","x":1e400"#),
            sent.replace(r#""candidates":[{"id":"c","name":"Z","email":"z@x","x":1}]"#, r#""candidates":{}"#),
            r#"{"event":"assessment.sent"}"#.to_string(),
            r#"["assessment.completed"]"#.to_string(),
            "null".to_string(),
        ];
        assert!(WebhookEvent::from_json_fast(&texts[0]).is_some());
        assert!(WebhookEvent::from_json_fast(&texts[2]).is_some());
        assert!(WebhookEvent::from_json_fast(&texts[3]).is_none());
        for text in texts {
            let fast = WebhookEvent::from_json_text(text.clone());
            let checked = WebhookEvent::from_json_text_checked(text.clone());
            assert_eq!(fast, checked, "{text}");
            assert_eq!(fast.decode_error(), checked.decode_error(), "{text}");
        }
    }

    #[test]
    fn answers_read_as_values_and_one_a_value_cannot_hold_fails_the_event_but_a_lone_surrogate_does_not() {
        let text = seed_event().to_string().replacen(
            r#""passed":true"#,
            r#""passed":true,"questionAnswers":[{"questionId":"q_1","marks":15},"free text",[1,{"a":null}]]"#,
            1,
        );
        let event = WebhookEvent::from_json_text(text.clone());
        let WebhookEvent::AssessmentCompleted(e) = &event else { panic!("{event:?}") };
        let answers = e.question_answers.as_ref().unwrap();
        assert_eq!(answers[0]["marks"], 15);
        assert_eq!(answers[1], json!("free text"));
        assert_eq!(answers[2].raw_json(), r#"[1,{"a":null}]"#);
        assert_eq!(event.raw()["questionAnswers"][2][1], json!({"a": null}));
        let too_big = text.replacen(r#""free text""#, "1e400", 1);
        for event in
            [WebhookEvent::from_json_text(too_big.clone()), WebhookEvent::from_json_text_checked(too_big.clone())]
        {
            assert!(matches!(event, WebhookEvent::Unknown(_)), "{event:?}");
            assert!(
                event.decode_error().is_some_and(|e| e.contains("number out of range")),
                "{:?}",
                event.decode_error()
            );
        }
        // Half a surrogate pair is valid JSON: the answer reads U+FFFD, the text stays as sent.
        let half = text.replacen(r#""free text""#, r#""\udc00""#, 1);
        for event in [WebhookEvent::from_json_text(half.clone()), WebhookEvent::from_json_text_checked(half.clone())] {
            let WebhookEvent::AssessmentCompleted(e) = &event else { panic!("{event:?}") };
            assert_eq!(*e.question_answers.as_ref().unwrap()[1], json!("\u{fffd}"));
            assert_eq!(event.raw_json(), half);
        }
    }

    #[test]
    fn a_repeated_head_key_is_malformed_and_keeps_the_id_the_platform_reads() {
        // JSON.parse (the platform) and serde_json's Value keep the last of repeated keys:
        // the queue holds the event under that ID, so that is the ID that acknowledges it.
        let seed = seed_event().to_string();
        let cases = [
            (seed.replacen('{', r#"{"eventId":"first","#, 1), "evt_01J9XYZABC", "assessment.completed", "eventId"),
            (
                seed.replacen('{', r#"{"event":"assessment.sent","#, 1),
                "evt_01J9XYZABC",
                "assessment.completed",
                "event",
            ),
            (
                seed.replacen('{', r#"{"storedAt":"2020-01-01T00:00:00Z","#, 1),
                "evt_01J9XYZABC",
                "assessment.completed",
                "storedAt",
            ),
            (r#"{"eventId":"a","event":"x.y","eventId":"b"}"#.to_string(), "b", "x.y", "eventId"),
            (r#"{"eventId":"a","event":"x.y","event\u0049d":7}"#.to_string(), "", "x.y", "eventId"),
        ];
        for (text, id, event_type, key) in cases {
            let expected = format!("duplicate field `{key}`");
            for event in [
                WebhookEvent::from_json_text(text.clone()),
                crate::RawEvent::from_json(&text).unwrap().into_webhook_event(),
            ] {
                assert!(matches!(event, WebhookEvent::Unknown(_)), "{text}: {event:?}");
                assert_eq!(event.event_id(), id, "{text}");
                assert_eq!(event.event_type(), event_type, "{text}");
                assert!(
                    event.decode_error().is_some_and(|e| e.contains(&expected)),
                    "{text}: {:?}",
                    event.decode_error()
                );
                assert_eq!(event.raw_json(), text);
            }
            let raw = crate::RawEvent::from_json(&text).unwrap();
            assert_eq!((raw.event_id(), raw.kind()), (id, crate::EventKind::Unknown), "{text}");
        }
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
