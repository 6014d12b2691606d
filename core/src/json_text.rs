//! An event's JSON text: a string of its own, or a piece of the response body that the
//! events of one batch share.
//!
//! A fetch returns up to 100 events whose texts lie side by side in one body. Keeping each
//! event's text (and ID) as a range of that body, behind one reference count for the batch,
//! saves two allocations and a copy per event. The price: an event kept after its batch is
//! gone keeps the whole body (about a hundred events' worth) alive.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Text that derefs to `str`, either owned or a range of a shared body.
#[derive(Clone)]
pub(crate) enum JsonText {
    Own(String),
    Shared { body: Arc<String>, start: usize, end: usize },
}

impl JsonText {
    /// `part` as a range of `body` when it lies inside it (it was sliced from it), and as a
    /// copy otherwise, so any `&str` is accepted.
    pub(crate) fn in_body(body: &Arc<String>, part: &str) -> JsonText {
        let start = (part.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
        if start <= body.len() && part.len() <= body.len() - start {
            JsonText::Shared { body: Arc::clone(body), start, end: start + part.len() }
        } else {
            JsonText::Own(part.to_string())
        }
    }

    /// The body this text is a range of, if it is one.
    #[cfg(test)]
    pub(crate) fn body(&self) -> Option<&Arc<String>> {
        match self {
            JsonText::Own(_) => None,
            JsonText::Shared { body, .. } => Some(body),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            JsonText::Own(text) => text,
            JsonText::Shared { body, start, end } => &body[*start..*end],
        }
    }
}

impl From<String> for JsonText {
    fn from(text: String) -> Self {
        JsonText::Own(text)
    }
}

impl Deref for JsonText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_of_the_body_is_shared_anything_else_copied() {
        let body = Arc::new(r#"{"events":[{"eventId":"é1"}],"pendingCount":0}"#.to_string());
        let event = &body[11..28];
        let shared = JsonText::in_body(&body, event);
        assert!(matches!(shared, JsonText::Shared { start: 11, end: 28, .. }));
        assert_eq!(&*shared, r#"{"eventId":"é1"}"#);
        assert_eq!(Arc::strong_count(&body), 2);
        // The empty tail and the whole body are inside too.
        assert_eq!(&*JsonText::in_body(&body, &body[body.len()..]), "");
        assert_eq!(&*JsonText::in_body(&body, body.as_str()), body.as_str());

        let elsewhere = String::from(r#"{"eventId":"é1"}"#);
        let copied = JsonText::in_body(&body, &elsewhere);
        assert!(matches!(copied, JsonText::Own(_)));
        assert_eq!(copied, shared, "equal texts compare equal however they are kept");
        assert_eq!(format!("{shared:?}"), format!("{:?}", r#"{"eventId":"é1"}"#));
    }
}
