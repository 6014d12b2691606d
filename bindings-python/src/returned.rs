//! What a Python handler or dead-letter hook returned, judged before its batch may be
//! acknowledged: a value that shows its body never ran fails the batch.

use crate::loop_pump::{IS_AWAITABLE, IS_COROUTINE, cached};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

static GENERATOR_TYPES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Calling a function that contains `yield` only makes a generator: none of its body ran,
/// so its events were not handled, and nothing of its batch may be acknowledged. A
/// generator is closed; an async generator that never started needs no closing.
pub(crate) fn refuse_generator(py: Python<'_>, what: &str, returned: &Bound<'_, PyAny>) -> PyResult<()> {
    let types = GENERATOR_TYPES
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            let types = py.import("types")?;
            let pair = [types.getattr("GeneratorType")?, types.getattr("AsyncGeneratorType")?];
            Ok(PyTuple::new(py, pair)?.into_any().unbind())
        })?
        .bind(py);
    if !returned.is_instance(types)? {
        return Ok(());
    }
    let kind = if returned.hasattr("send")? && !returned.hasattr("asend")? {
        returned.call_method0("close")?;
        "a generator"
    } else {
        "an async generator"
    };
    Err(PyTypeError::new_err(format!(
        "{what} returned {kind}: it contains `yield`, so calling it did not run its body; a {what} must not yield"
    )))
}

/// Nothing awaits what a blocking client's handler returns, so an awaitable (a plain
/// function or lambda returning a coroutine) means the handler did not run: that is the
/// handler failing, and nothing of its batch may be acknowledged. A coroutine is closed so
/// that it does not warn "never awaited" later.
pub(crate) fn refuse_awaitable(py: Python<'_>, what: &str, returned: &Bound<'_, PyAny>) -> PyResult<()> {
    if !cached(py, &IS_AWAITABLE, "inspect", "isawaitable")?.call1((returned,))?.is_truthy()? {
        return Ok(());
    }
    let returned_what = if cached(py, &IS_COROUTINE, "inspect", "iscoroutine")?.call1((returned,))?.is_truthy()? {
        returned.call_method0("close")?;
        "a coroutine".to_string()
    } else {
        let type_name = returned.get_type().qualname().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        format!("an awaitable ({type_name})")
    };
    Err(PyTypeError::new_err(format!(
        "{what} returned {returned_what}, which nothing awaits: the blocking AssessmentClient takes plain \
         functions (use AsyncAssessmentClient for async handlers)"
    )))
}
