//! The core's `tracing` records, forwarded to Python's `logging` (logger `smartai_events`).
//!
//! The logger's effective level is cached in an atomic and refreshed at every client call,
//! so a disabled level costs one atomic load per record, with no formatting and no GIL.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use smartai_events::log_bridge::{LogBridge, LogSink};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use tracing::Level;
use tracing_subscriber::prelude::*;

/// The Python level below which records are dropped (`logging.WARNING` until refreshed).
static THRESHOLD: AtomicU8 = AtomicU8::new(30);
/// Set at interpreter exit: no more calls into Python.
static STOPPED: AtomicBool = AtomicBool::new(false);
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
/// The emulator's records go to a child logger, so that tests can tell them apart.
static EMULATOR_LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    named_logger(py, &LOGGER, "smartai_events")
}

fn named_logger<'py>(
    py: Python<'py>,
    cell: &'py PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("logging")?.call_method1("getLogger", (name,))?.unbind())
    })
    .map(|l| l.bind(py))
}

/// Re-reads the logger's effective level.
pub fn refresh(py: Python<'_>) {
    if let Ok(logger) = logger(py) {
        let disabled = logger.getattr("disabled").and_then(|d| d.is_truthy()).unwrap_or(false);
        let level = logger.call_method0("getEffectiveLevel").and_then(|l| l.extract::<i64>()).unwrap_or(30);
        let threshold = if disabled { u8::MAX } else { level.clamp(0, 254) as u8 };
        THRESHOLD.store(threshold, Ordering::Relaxed);
    }
}

/// Stops forwarding (interpreter exit).
pub fn stop() {
    STOPPED.store(true, Ordering::SeqCst);
}

/// Installs the bridge as the global subscriber, unless the process has one already.
pub fn install() {
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LogBridge(PyLog)));
}

struct PyLog;

impl LogSink for PyLog {
    fn wants(&self, level: &Level, _target: &str) -> bool {
        !STOPPED.load(Ordering::Relaxed) && python_level(level) >= THRESHOLD.load(Ordering::Relaxed)
    }

    fn emit(&self, level: &Level, target: &str, text: String) {
        let level = python_level(level);
        let _ = Python::try_attach(|py| {
            crate::thread_state::keep(py);
            let logger = if target.starts_with("smartai_emulator") {
                named_logger(py, &EMULATOR_LOGGER, "smartai_events.emulator")
            } else {
                logger(py)
            };
            if let Ok(logger) = logger {
                let extra = pyo3::types::PyDict::new(py);
                let _ = extra.set_item("rust_target", target);
                let kwargs = pyo3::types::PyDict::new(py);
                let _ = kwargs.set_item("extra", extra);
                let _ = logger.call_method("log", (level, text), Some(&kwargs));
            }
        });
    }
}
