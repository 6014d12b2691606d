//! One line of text per `tracing` record, for the bindings that hand the core's records to
//! their language's logger (Python's `logging`, a Node `console`-like object). Both show
//! the same line for the same record.

use std::fmt::Write as _;
use tracing::field::{Field, Visit};

/// The record's message followed by its fields as ` name=value`, the way the core's
/// records read in Python and in Node: `poll failed; trying again error="..." wait_ms=250`.
///
/// ```
/// use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
///
/// struct Lines(std::sync::Arc<std::sync::Mutex<Vec<String>>>);
/// impl<S: tracing::Subscriber> Layer<S> for Lines {
///     fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
///         self.0.lock().unwrap().push(smartai_events::log_text::event_text(event));
///     }
/// }
/// let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let subscriber = tracing_subscriber::registry().with(Lines(lines.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::warn!(wait_ms = 250u64, error = %"timed out", "poll failed; trying again");
/// });
/// assert_eq!(lines.lock().unwrap()[0], r#"poll failed; trying again wait_ms=250 error=timed out"#);
/// ```
pub fn event_text(event: &tracing::Event<'_>) -> String {
    let mut text = Text::default();
    event.record(&mut text);
    text.message + &text.fields
}

#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}
