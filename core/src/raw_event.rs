//! Events that are checked but not built: what a batch holds for code that reads the JSON
//! text itself (the Python and Node packages, a forwarder, a store of raw JSON).

use crate::event_check;
use crate::events::{
    ASSESSMENT_COMPLETED, ASSESSMENT_DISQUALIFIED, ASSESSMENT_SENT, RawJson, WebhookEvent, only_whitespace_after,
};
use crate::json_text::JsonText;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Which [`WebhookEvent`] variant an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// [`WebhookEvent::AssessmentCompleted`].
    AssessmentCompleted,
    /// [`WebhookEvent::AssessmentDisqualified`].
    AssessmentDisqualified,
    /// [`WebhookEvent::AssessmentSent`].
    AssessmentSent,
    /// An unknown type, or a known type that did not decode.
    Unknown,
}

/// An event decoded by exactly the rules of [`WebhookEvent`] (the same variant, ID,
/// timestamps and decode error), without building its typed fields: it keeps the JSON
/// text, and [`RawEvent::into_webhook_event`] builds the typed event when it is wanted.
///
/// A drain or a `run` whose handler takes `Vec<RawEvent>` hands over these; it costs a
/// fraction of the CPU of typed events.
///
/// The events of one fetch share its response body: each keeps its text (and, unless it
/// was escaped, its ID) as a range of it, so cloning one is cheap, and an event kept
/// after its batch keeps the whole body (up to 100 events' worth) in memory.
///
/// ```
/// use smartai_events::{EventKind, RawEvent, WebhookEvent};
/// let text = r#"{"eventId":"e1","event":"assessment.sent","assessmentId":"a",
///     "candidates":[{"id":"c","name":"Zoë","email":"z@x"}],"storedAt":"2026-06-09T10:31:00Z"}"#;
/// let event = RawEvent::from_json(text).unwrap();
/// assert_eq!(event.kind(), EventKind::AssessmentSent);
/// assert_eq!(event.event_id(), "e1");
/// assert!(matches!(event.into_webhook_event(), WebhookEvent::AssessmentSent(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    kind: EventKind,
    event_id: JsonText,
    /// Only an unknown event has a type other than its kind's.
    unknown_type: Option<String>,
    stored_at: Option<DateTime<Utc>>,
    submitted_at: Option<DateTime<Utc>>,
    decode_error: Option<String>,
    raw: RawJson,
}

impl RawEvent {
    /// Reads one event from JSON text; an error only if the text is not JSON. Like
    /// [`WebhookEvent::from_raw_json`], an event that does not decode is
    /// [`EventKind::Unknown`] with its reason.
    pub fn from_json(text: &str) -> serde_json::Result<RawEvent> {
        // The fast path reads only what is one JSON value; anything else is checked once.
        if let Some(event) = Self::from_fast(text) {
            return Ok(event);
        }
        serde_json::from_str::<serde::de::IgnoredAny>(text)?;
        Ok(<Self as crate::QueueEvent>::read_checked(text))
    }

    /// The usual case without building the event; `None` means "not sure", and the typed
    /// decode decides.
    pub(crate) fn from_fast(text: &str) -> Option<RawEvent> {
        let (mut event, len) = Self::from_fast_prefix(text, None)?;
        if len < text.len() {
            if !only_whitespace_after(text, len) {
                return None;
            }
            // Trailing whitespace: the raw text stays the text as given.
            event.raw = RawJson::new(text.to_string());
        }
        Some(event)
    }

    /// [`RawEvent::from_fast`] of the JSON value that `text` starts with, and its length.
    /// When `text` is a range of `body`, the event's text and ID are ranges of it too.
    pub(crate) fn from_fast_prefix(text: &str, body: Option<&Arc<String>>) -> Option<(RawEvent, usize)> {
        if let Some((checked, len)) = event_check::check_prefix(text) {
            let kind = match checked.event_type {
                ASSESSMENT_COMPLETED => EventKind::AssessmentCompleted,
                ASSESSMENT_DISQUALIFIED => EventKind::AssessmentDisqualified,
                _ => EventKind::AssessmentSent,
            };
            let event_id = match (checked.event_id, body) {
                (Cow::Borrowed(id), Some(body)) => JsonText::in_body(body, id),
                (id, _) => JsonText::Own(id.into_owned()),
            };
            let event = RawEvent {
                kind,
                event_id,
                unknown_type: None,
                stored_at: Some(checked.stored_at),
                submitted_at: checked.submitted_at,
                decode_error: None,
                raw: RawJson::kept(&text[..len], body),
            };
            return Some((event, len));
        }
        let (event, len) = WebhookEvent::from_json_prefix(text, body)?;
        Some((RawEvent::from(event), len))
    }

    /// The fetch body the event's text is a range of, if it is one.
    #[cfg(test)]
    pub(crate) fn body(&self) -> Option<&Arc<String>> {
        self.raw.text.body()
    }

    /// Which variant the typed event is.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The event's ID, used to acknowledge it (`""` for an unknown event without one).
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The `event` field, such as `"assessment.completed"`.
    pub fn event_type(&self) -> &str {
        match self.kind {
            EventKind::AssessmentCompleted => ASSESSMENT_COMPLETED,
            EventKind::AssessmentDisqualified => ASSESSMENT_DISQUALIFIED,
            EventKind::AssessmentSent => ASSESSMENT_SENT,
            EventKind::Unknown => self.unknown_type.as_deref().unwrap_or(""),
        }
    }

    /// As [`WebhookEvent::stored_at`].
    pub fn stored_at(&self) -> Option<DateTime<Utc>> {
        self.stored_at
    }

    /// `submittedAt` of a completed or disqualified assessment, if it has one.
    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submitted_at
    }

    /// Why the event did not decode, if it did not.
    pub fn decode_error(&self) -> Option<&str> {
        self.decode_error.as_deref()
    }

    /// The event exactly as the server sent it, as JSON text.
    pub fn raw_json(&self) -> &str {
        &self.raw.text
    }

    /// As [`WebhookEvent::raw`]: the JSON as a `Value`, built on first use.
    pub fn raw(&self) -> &Value {
        self.raw.value()
    }

    /// The typed event: the variant [`RawEvent::kind`] names.
    pub fn into_webhook_event(self) -> WebhookEvent {
        WebhookEvent::from_checked_json(&self.raw.text)
    }
}

impl From<WebhookEvent> for RawEvent {
    fn from(event: WebhookEvent) -> RawEvent {
        let (kind, submitted_at) = match &event {
            WebhookEvent::AssessmentCompleted(e) => (EventKind::AssessmentCompleted, e.submitted_at),
            WebhookEvent::AssessmentDisqualified(e) => (EventKind::AssessmentDisqualified, e.submitted_at),
            WebhookEvent::AssessmentSent(_) => (EventKind::AssessmentSent, None),
            WebhookEvent::Unknown(_) => (EventKind::Unknown, None),
        };
        RawEvent {
            kind,
            event_id: JsonText::Own(event.event_id().to_string()),
            unknown_type: (kind == EventKind::Unknown).then(|| event.event_type().to_string()),
            stored_at: event.stored_at(),
            submitted_at,
            decode_error: event.decode_error().map(str::to_string),
            raw: event.into_raw_json(),
        }
    }
}

impl serde::Serialize for RawEvent {
    /// Serialises as the original JSON, as a [`WebhookEvent`] does.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize_as_json(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &str = r#"{"eventId":"e1","event":"assessment.sent","assessmentId":"a","candidates":[],"storedAt":"2026-06-09T10:31:00Z"}"#;

    #[test]
    fn the_raw_text_is_the_text_as_given() {
        for text in [SENT.to_string(), format!(" \n{SENT} \t\r\n"), format!("{SENT}\n")] {
            let event = RawEvent::from_json(&text).unwrap();
            assert_eq!(event.kind(), EventKind::AssessmentSent);
            assert_eq!(event.raw_json(), text);
        }
        for text in [format!("{SENT} x"), format!("{SENT}{{}}"), format!("{SENT},")] {
            assert!(RawEvent::from_json(&text).is_err(), "{text}");
        }
    }
}
