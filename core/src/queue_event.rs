//! What a batch can hold: typed events ([`WebhookEvent`]) or events checked by the same
//! rules but not built ([`RawEvent`]). The drain, the batches and `run` work with either;
//! the handler's parameter type picks which.

use crate::events::WebhookEvent;
use crate::raw_event::RawEvent;
use std::sync::Arc;

mod sealed {
    pub trait Sealed {}
}

/// An event as a batch hands it out: [`WebhookEvent`] or [`RawEvent`].
///
/// ```
/// use smartai_events::{QueueEvent, RawEvent, WebhookEvent};
/// fn ids<E: QueueEvent>(events: &[E]) -> Vec<&str> {
///     events.iter().map(QueueEvent::event_id).collect()
/// }
/// let event = RawEvent::from_json(r#"{"eventId":"e1","event":"assessment.reviewed"}"#).unwrap();
/// assert_eq!(ids(&[event]), ["e1"]);
/// ```
pub trait QueueEvent: sealed::Sealed + Send + Sized + 'static {
    /// The event's ID, used to acknowledge it (`""` for an unknown event without one).
    fn event_id(&self) -> &str;

    /// The usual case in one pass, from text that may not be JSON: `Some` only if it
    /// starts with one JSON value that decodes as a known type; with that value's length.
    /// `text` is a suffix of `body`, which the event may keep a range of.
    #[doc(hidden)]
    fn read_fast_prefix(text: &str, body: &Arc<String>) -> Option<(Self, usize)>;

    /// Any event, from text known to be one JSON value.
    #[doc(hidden)]
    fn read_checked(text: &str) -> Self;
}

impl sealed::Sealed for WebhookEvent {}

impl QueueEvent for WebhookEvent {
    fn event_id(&self) -> &str {
        WebhookEvent::event_id(self)
    }

    fn read_fast_prefix(text: &str, body: &Arc<String>) -> Option<(Self, usize)> {
        WebhookEvent::from_json_prefix(text, Some(body))
    }

    fn read_checked(text: &str) -> Self {
        WebhookEvent::from_checked_json(text)
    }
}

impl sealed::Sealed for RawEvent {}

impl QueueEvent for RawEvent {
    fn event_id(&self) -> &str {
        RawEvent::event_id(self)
    }

    fn read_fast_prefix(text: &str, body: &Arc<String>) -> Option<(Self, usize)> {
        RawEvent::from_fast_prefix(text, Some(body))
    }

    fn read_checked(text: &str) -> Self {
        RawEvent::from(WebhookEvent::from_checked_json(text))
    }
}
