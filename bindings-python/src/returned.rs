//! What a Python handler or dead-letter hook returned (or, async, resolved to), judged
//! before its batch may be acknowledged: a value that shows its work never ran fails the
//! batch.

use crate::loop_pump::{IS_AWAITABLE, IS_COROUTINE, cached};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

static GENERATOR_TYPES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Where the value comes from: a call's result, or what an awaited handler resolved to.
#[derive(Clone, Copy)]
pub(crate) enum Given {
    Returned,
    ResolvedTo,
}

impl Given {
    fn verb(self) -> &'static str {
        match self {
            Given::Returned => "returned",
            Given::ResolvedTo => "resolved to",
        }
    }
}

/// Calling a function that contains `yield` only makes a generator: none of its body ran,
/// so its events were not handled, and nothing of its batch may be acknowledged. A
/// generator is closed; an async generator that never started needs no closing.
fn refuse_generator(py: Python<'_>, what: &str, given: Given, returned: &Bound<'_, PyAny>) -> PyResult<()> {
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
    let verb = given.verb();
    Err(PyTypeError::new_err(format!(
        "{what} {verb} {kind}: it contains `yield`, so calling it did not run its body; a {what} must not yield"
    )))
}

/// An awaitable the handler leaves behind is work that nothing will run: a blocking
/// client's handler is not awaited (a plain function or lambda returning a coroutine), and
/// an async handler that resolves to one forgot an `await` (`return save(events)`). Either
/// way the handler did not do its work, and nothing of its batch may be acknowledged. A
/// coroutine is closed so that it does not warn "never awaited" later.
fn refuse_awaitable(py: Python<'_>, what: &str, given: Given, returned: &Bound<'_, PyAny>) -> PyResult<()> {
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
    let why = match given {
        Given::Returned => "which nothing awaits: the blocking AssessmentClient takes plain functions (use \
                            AsyncAssessmentClient for async handlers)"
            .to_string(),
        Given::ResolvedTo => format!(
            "which nothing awaits: its work is not done, so its batch is not acknowledged (a missing `await` in \
             the {what}?)"
        ),
    };
    Err(PyTypeError::new_err(format!("{what} {} {returned_what}, {why}", given.verb())))
}

static THREAD_FUTURE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A `concurrent.futures.Future` (`return executor.submit(save, events)`, a forgotten
/// `.result()`) is work that may not have run, or that failed without anyone seeing it:
/// the handler must wait for it itself.
fn refuse_thread_future(py: Python<'_>, what: &str, given: Given, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if !value.is_instance(&cached(py, &THREAD_FUTURE, "concurrent.futures", "Future")?)? {
        return Ok(());
    }
    Err(PyTypeError::new_err(format!(
        "{what} {} a concurrent.futures.Future, which nothing waits for: its work may not be done, so its batch \
         is not acknowledged (call .result() in the {what})",
        given.verb()
    )))
}

/// What no client runs for the handler: a generator or a thread's future. (An async
/// client awaits an awaitable a handler returns.)
pub(crate) fn refuse_unrun(py: Python<'_>, what: &str, given: Given, value: &Bound<'_, PyAny>) -> PyResult<()> {
    refuse_generator(py, what, given, value)?;
    refuse_thread_future(py, what, given, value)
}

/// Every check: what a blocking handler returns, or what an async one resolved to.
pub(crate) fn refuse_unfinished(py: Python<'_>, what: &str, given: Given, value: &Bound<'_, PyAny>) -> PyResult<()> {
    refuse_unrun(py, what, given, value)?;
    refuse_awaitable(py, what, given, value)
}
