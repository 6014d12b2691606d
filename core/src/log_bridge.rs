//! The core's `tracing` records, handed to another language's logger (Python's `logging`,
//! a Node `console`-like object): one `tracing` layer for both bindings, which only say
//! which records they want and where a record goes.
//!
//! A record that is not wanted costs a call to [`LogSink::wants`] (an atomic load in both
//! bindings): nothing is formatted and nothing calls into the other language.

use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Where a binding's records go.
pub trait LogSink: Send + Sync + 'static {
    /// Whether records from this callsite may ever be wanted: asked once per callsite.
    /// `false` makes the callsite cost nothing from then on.
    fn may_want(&self, _meta: &Metadata<'_>) -> bool {
        true
    }

    /// Whether a record of this level and target is wanted now (the level may change at
    /// any time on the other side, so this is asked for every record).
    fn wants(&self, level: &Level, target: &str) -> bool;

    /// Hands on one wanted record, as one line of text.
    fn emit(&self, level: &Level, target: &str, text: String);
}

/// The `tracing` layer that hands the wanted events (never spans) to a [`LogSink`].
///
/// ```
/// use smartai_events::log_bridge::{LogBridge, LogSink};
/// use std::sync::{Arc, Mutex};
/// use tracing::Level;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// struct Lines(Arc<Mutex<Vec<String>>>);
/// impl LogSink for Lines {
///     fn wants(&self, level: &Level, _target: &str) -> bool {
///         *level <= Level::INFO
///     }
///     fn emit(&self, level: &Level, _target: &str, text: String) {
///         self.0.lock().unwrap().push(format!("{level} {text}"));
///     }
/// }
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let subscriber = tracing_subscriber::registry().with(LogBridge(Lines(lines.clone())));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::warn!(wait_ms = 250u64, error = %"timed out", "poll failed; trying again");
///     tracing::debug!("not wanted");
/// });
/// assert_eq!(*lines.lock().unwrap(), ["WARN poll failed; trying again wait_ms=250 error=timed out"]);
/// ```
pub struct LogBridge<K>(pub K);

impl<S: Subscriber, K: LogSink> Layer<S> for LogBridge<K> {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if meta.is_event() && self.0.may_want(meta) {
            // Whether a record is wanted can change at any time: ask every time.
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        meta.is_event() && self.0.wants(meta.level(), meta.target())
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if self.0.wants(meta.level(), meta.target()) {
            self.0.emit(meta.level(), meta.target(), event_text(event));
        }
    }
}

/// The record's message followed by its fields as ` name=value`, the same line in Python
/// and in Node: `poll failed; trying again error="..." wait_ms=250`.
fn event_text(event: &Event<'_>) -> String {
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
