//! The memory of the last fetch response, kept for the next fetch to read into.
//!
//! A fetch body (about 120 kB for 100 events) is freed when the last event of its batch is
//! dropped. With glibc's allocator that free usually hands the top of the heap back to the
//! kernel, and the next fetch faults the same pages in again, zeroed: in a raw-event drain
//! that cost about 8 % of the client's CPU. The client keeps a reference to the last body
//! and, once no event holds it any more, reads the next response into its allocation.

use std::sync::{Arc, Mutex, PoisonError};

/// A body larger than this is not kept: its memory goes back as soon as its events do.
const MAX_KEPT_BYTES: usize = 1 << 20;

/// The last fetch body, if it is worth keeping.
#[derive(Default)]
pub(crate) struct SpareBody(Mutex<Option<Arc<String>>>);

impl SpareBody {
    /// Keeps `body` for the next [`SpareBody::take`], instead of the body kept before.
    pub(crate) fn keep(&self, body: &Arc<String>) {
        if body.capacity() <= MAX_KEPT_BYTES {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(body));
        }
    }

    /// An empty buffer: the kept body's allocation when nothing else holds that body any
    /// more, a new one otherwise. Either way nothing stays kept.
    pub(crate) fn take(&self) -> Vec<u8> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        match kept.map(Arc::try_unwrap) {
            Some(Ok(text)) => {
                let mut bytes = text.into_bytes();
                bytes.clear();
                bytes
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_reused_only_once_nothing_else_holds_it() {
        let spare = SpareBody::default();
        assert_eq!(spare.take().capacity(), 0);

        let body = Arc::new(String::with_capacity(4096) + "{\"events\":[]}");
        let address = body.as_ptr();
        spare.keep(&body);
        // An event of the batch still holds the body: it is not touched, and not kept.
        let buffer = spare.take();
        assert_eq!(buffer.capacity(), 0);
        assert_eq!(*body, "{\"events\":[]}");

        spare.keep(&body);
        drop(body);
        let buffer = spare.take();
        assert!(buffer.is_empty());
        assert_eq!((buffer.as_ptr(), buffer.capacity()), (address, 4096));
        assert_eq!(spare.take().capacity(), 0, "a body is handed out once");
    }

    #[test]
    fn a_large_body_is_not_kept() {
        let spare = SpareBody::default();
        let body = Arc::new(String::with_capacity(MAX_KEPT_BYTES + 1));
        spare.keep(&body);
        drop(body);
        assert_eq!(spare.take().capacity(), 0);
    }
}
