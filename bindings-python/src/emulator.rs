//! `NativeEmulator`: the in-process emulator for tests. Every call releases the GIL, since
//! the emulator's server threads may log (and so need the GIL) while holding its locks.

use crate::runtime;
use pyo3::exceptions::{PyOverflowError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use smartai_emulator::{Emulator, EmulatorConfig, FaultRule, RateLimitConfig, generator};
use std::sync::Mutex;

fn parse<T: DeserializeOwned>(text: &str, what: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| PyValueError::new_err(format!("invalid {what}: {e}")))
}

/// An integer argument out of the range of the Rust type it is read as: pyo3 raises
/// `OverflowError`, which says neither which argument nor what was given. `Some(text)` (the
/// value, in decimal) for that case, so that the caller raises a `ValueError` naming it;
/// other errors (not an integer at all: `TypeError`) pass through.
fn out_of_range(py: Python<'_>, value: &Bound<'_, PyAny>, err: PyErr) -> PyResult<String> {
    if err.is_instance_of::<PyOverflowError>(py) { Ok(value.str()?.to_string()) } else { Err(err) }
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

#[pyclass(frozen, module = "smartai_events._native")]
pub struct NativeEmulator {
    emulator: Mutex<Option<Emulator>>,
    url: String,
    api_key: String,
    secret_key: String,
}

impl NativeEmulator {
    fn get(&self) -> PyResult<Emulator> {
        self.emulator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the emulator is closed"))
    }
}

#[pymethods]
impl NativeEmulator {
    /// Starts an emulator; `config` is the JSON of `EmulatorConfig` (or `None` for defaults).
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(py: Python<'_>, config: Option<&str>) -> PyResult<Self> {
        let config: EmulatorConfig = match config {
            Some(text) => parse(text, "emulator config")?,
            None => EmulatorConfig::default(),
        };
        let handle = runtime::handle();
        let emulator = py
            .detach(|| handle.block_on(Emulator::start(config)))
            // Options the emulator refuses come back as `InvalidInput`, as a bad config field
            // does from `parse`; anything else is the socket's.
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput => PyValueError::new_err(format!("invalid emulator config: {e}")),
                _ => PyRuntimeError::new_err(format!("cannot start the emulator: {e}")),
            })?;
        Ok(NativeEmulator {
            url: emulator.url(),
            api_key: emulator.api_key().to_string(),
            secret_key: emulator.secret_key().to_string(),
            emulator: Mutex::new(Some(emulator)),
        })
    }

    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    #[getter]
    fn api_key(&self) -> &str {
        &self.api_key
    }

    #[getter]
    fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// Enqueues a JSON array of events; returns how many were added.
    /// Keeps each event's text as given, so that the queue serves it exactly (Python ints
    /// of any size included).
    fn enqueue(&self, py: Python<'_>, events_json: &str) -> PyResult<usize> {
        let emu = self.get()?;
        py.detach(|| emu.enqueue_json(events_json)).map_err(|e| PyValueError::new_err(format!("invalid events: {e}")))
    }

    fn generate(&self, py: Python<'_>, n: &Bound<'_, PyAny>) -> PyResult<usize> {
        let n = match n.extract::<u64>() {
            Ok(n) => n,
            Err(e) => {
                let got = out_of_range(py, n, e)?;
                // Negative (as Node's generate says it), or beyond 64 bits and so beyond the cap.
                return Err(PyValueError::new_err(if n.lt(0)? {
                    generator::not_a_count("generate", got)
                } else {
                    generator::too_many("generate", got)
                }));
            }
        };
        let n = generator::generated_count("generate", n).map_err(PyValueError::new_err)?;
        let emu = self.get()?;
        Ok(py.detach(|| emu.generate(n)))
    }

    /// Replaces the fault rules (a JSON array of `FaultRule`).
    fn set_faults(&self, py: Python<'_>, rules_json: &str) -> PyResult<()> {
        let rules: Vec<FaultRule> = parse(rules_json, "fault rules")?;
        for rule in &rules {
            rule.validate().map_err(PyValueError::new_err)?;
        }
        let emu = self.get()?;
        py.detach(|| emu.set_faults(rules));
        Ok(())
    }

    /// Appends one fault rule (JSON of `FaultRule`).
    fn add_fault(&self, py: Python<'_>, rule_json: &str) -> PyResult<()> {
        let rule: FaultRule = parse(rule_json, "fault rule")?;
        rule.validate().map_err(PyValueError::new_err)?;
        let emu = self.get()?;
        py.detach(|| emu.add_fault(rule));
        Ok(())
    }

    fn clear_faults(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.clear_faults());
        Ok(())
    }

    fn faults(&self, py: Python<'_>) -> PyResult<String> {
        let emu = self.get()?;
        to_json(&py.detach(|| emu.faults()))
    }

    /// Queue statistics as JSON.
    fn stats(&self, py: Python<'_>) -> PyResult<String> {
        let emu = self.get()?;
        to_json(&py.detach(|| emu.stats()))
    }

    fn pending_ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let emu = self.get()?;
        Ok(py.detach(|| emu.pending_ids()))
    }

    fn acknowledged_ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let emu = self.get()?;
        Ok(py.detach(|| emu.acknowledged_ids()))
    }

    /// The request log as JSON.
    fn request_log(&self, py: Python<'_>) -> PyResult<String> {
        let emu = self.get()?;
        to_json(&py.detach(|| emu.request_log()))
    }

    fn clear_request_log(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.clear_request_log());
        Ok(())
    }

    fn set_clock_offset_ms(&self, py: Python<'_>, ms: &Bound<'_, PyAny>) -> PyResult<()> {
        let ms = match ms.extract::<i64>() {
            Ok(ms) => ms,
            Err(e) => {
                let got = out_of_range(py, ms, e)?;
                return Err(PyValueError::new_err(format!(
                    "set_clock_offset_ms takes milliseconds from {} to {}, got {got}",
                    i64::MIN,
                    i64::MAX
                )));
            }
        };
        let emu = self.get()?;
        py.detach(|| emu.set_clock_offset_ms(ms));
        Ok(())
    }

    /// Replaces the rate limits (JSON of `RateLimitConfig`).
    fn set_rate_limit(&self, py: Python<'_>, config_json: &str) -> PyResult<()> {
        let cfg: RateLimitConfig = parse(config_json, "rate limit")?;
        let emu = self.get()?;
        py.detach(|| emu.set_rate_limit(cfg));
        Ok(())
    }

    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.reset());
        Ok(())
    }

    /// Stops the server; later calls raise. Idempotent.
    fn close(&self, py: Python<'_>) {
        let taken = self.emulator.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(emu) = taken {
            // A forked child does not own the parent's server: just forget it.
            let handle = runtime::handle();
            py.detach(|| handle.block_on(emu.shutdown()));
        }
    }

    #[getter]
    fn closed(&self) -> bool {
        self.emulator.lock().unwrap_or_else(|p| p.into_inner()).is_none()
    }
}
