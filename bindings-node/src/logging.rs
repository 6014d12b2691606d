//! The core's `tracing` records, handed to one JavaScript function (the facade's, which
//! passes them to the logger set with `setLogger`, `console` by default).
//!
//! The level is an atomic, so a record below it costs one load, with no formatting and no
//! call into JavaScript. The function is a weak thread-safe function: it never keeps a
//! finished script alive, and a record made after Node began to exit is dropped.

use crate::error::coded;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Result, Status};
use napi_derive::napi;
use smartai_events::ErrorCode;
use smartai_events::log_bridge::{LogBridge, LogSink};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use tracing::{Level, Metadata};
use tracing_subscriber::prelude::*;

/// One record, which JavaScript receives as one array `[level, text]`, level one of `error`,
/// `warn`, `info`, `debug`.
type Sink = ThreadsafeFunction<(String, String), (), (String, String), Status, false, true>;

/// 0 = off, then error, warn, info, debug, trace.
static THRESHOLD: AtomicU8 = AtomicU8::new(0);
static SINK: Mutex<Option<Arc<Sink>>> = Mutex::new(None);

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Where records go from now on, and from which level (`off` for none). Replaces the
/// previous function.
#[napi]
pub fn set_log_sink(sink: Option<Function<(String, String), ()>>, level: String) -> Result<()> {
    let threshold = LEVELS.iter().position(|l| *l == level).ok_or_else(|| {
        coded(ErrorCode::InvalidArgument, format!("level must be one of {}, got {level:?}", LEVELS.join(", ")))
    })? as u8;
    let sink = match sink {
        Some(f) => Some(Arc::new(f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?)),
        None => None,
    };
    let threshold = if sink.is_some() { threshold } else { 0 };
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    THRESHOLD.store(threshold, Ordering::Relaxed);
    Ok(())
}

/// Installs the bridge as the global subscriber, unless the process has one already.
pub fn install() {
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LogBridge(JsLog)));
}

struct JsLog;

/// The package's own records (core, binding, emulator), not those of the HTTP stack.
fn ours(target: &str) -> bool {
    target.starts_with("smartai_")
}

impl LogSink for JsLog {
    fn may_want(&self, meta: &Metadata<'_>) -> bool {
        ours(meta.target())
    }

    fn wants(&self, level: &Level, target: &str) -> bool {
        ours(target) && rank(level) <= THRESHOLD.load(Ordering::Relaxed)
    }

    fn emit(&self, level: &Level, target: &str, mut text: String) {
        let Some(sink) = SINK.lock().unwrap_or_else(|e| e.into_inner()).clone() else { return };
        // `trace` goes to the logger's `debug`: `console.trace` would print a stack.
        let level = LEVELS[rank(level).min(4) as usize];
        if target.starts_with("smartai_emulator") {
            text.insert_str(0, "emulator: ");
        }
        // Non-blocking: a full queue or a closing Node drops the record rather than
        // stalling the poller.
        let _ = sink.call((level.to_string(), text), ThreadsafeFunctionCallMode::NonBlocking);
    }
}
