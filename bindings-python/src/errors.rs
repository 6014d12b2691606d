//! Core errors as Python exceptions, and Python exceptions as handler errors.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use smartai_events::Error;

/// A Python exception raised by a handler or a dead-letter hook, carried through the
/// core as `Error::Handler { source }` and recovered by downcasting.
pub struct PyHandlerError {
    pub err: PyErr,
    summary: String,
}

impl PyHandlerError {
    pub fn new(py: Python<'_>, err: PyErr) -> Self {
        let value = err.value(py);
        let type_name = value.get_type().qualname().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
        let text = value.str().map(|s| s.to_string()).unwrap_or_default();
        let summary = if text.is_empty() { type_name } else { format!("{type_name}: {text}") };
        PyHandlerError { err, summary }
    }
}

impl std::fmt::Debug for PyHandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::fmt::Display for PyHandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for PyHandlerError {}

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Builds the `SmartAIError` subclass for a core error; a handler error gets the
/// handler's own exception as `__cause__`.
pub fn to_pyerr(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => {
            if let Error::Handler { source } = error
                && let Ok(inner) = source.downcast::<PyHandlerError>()
            {
                err.set_cause(py, Some(inner.err));
            }
            err
        }
        Err(e) => e,
    }
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let factory = FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("smartai_events._errors")?.getattr("_from_native")?.unbind())
    })?;
    let instance = factory.bind(py).call1((
        error.code().as_str(),
        error.to_string(),
        error.status(),
        error.request_id(),
        error.retry_after().map(|d| d.as_secs_f64()),
        error.server_message(),
    ))?;
    Ok(PyErr::from_value(instance))
}

/// An invalid-argument error raised by the binding itself (a value Python cannot express in JSON).
pub fn invalid_argument(message: impl Into<String>) -> Error {
    Error::InvalidArgument { message: message.into() }
}
