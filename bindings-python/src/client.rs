//! `NativeClient`: one core client, used by both Python clients.

use crate::convert::{batch_to_py, py_to_json};
use crate::dispatch::{Ctx, PyCallback};
use crate::errors::{invalid_argument, to_pyerr};
use crate::logging;
use crate::runtime::LocalCell;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use smartai_events::{
    AssessmentClient, Batches, ClientBuilder, DrainOptions, DrainSummary, Error, FetchOptions, RawEvent, RunOptions,
    SessionRequest, Spelling, validate,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

fn json_arg(py: Python<'_>, obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    py_to_json(obj, name).map_err(|e| to_pyerr(py, e))
}

fn core<T>(py: Python<'_>, r: Result<T, Error>) -> PyResult<T> {
    r.map_err(|e| to_pyerr(py, e))
}

fn build(options: &Value) -> Result<AssessmentClient, Error> {
    ClientBuilder::from_json_spelled(options, Spelling::SnakeCase)?.sdk_language("python").build()
}

/// The core client, rebuilt in a forked child (the parent's connections belong to the
/// parent's runtime, which does not exist there).
#[pyclass(frozen, module = "smartai_events._native")]
pub struct NativeClient {
    /// The options as given; they may hold the secret key, so they are never shown.
    options: Value,
    client: Mutex<(u32, AssessmentClient)>,
    /// Whether `close` was called: a client rebuilt in a forked child is closed too, so that
    /// the core refuses its calls as it refuses the parent's.
    closed: AtomicBool,
    /// The runtime of the blocking calls (see `LocalRuntime`); async calls use the shared one.
    local: Arc<LocalCell>,
}

impl NativeClient {
    fn client(&self) -> Result<AssessmentClient, Error> {
        let pid = std::process::id();
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if guard.0 != pid {
            let client = build(&self.options)?;
            if self.closed.load(Ordering::SeqCst) {
                client.close();
            }
            *guard = (pid, client);
        }
        Ok(guard.1.clone())
    }

    fn begin(&self, py: Python<'_>) -> PyResult<AssessmentClient> {
        logging::refresh(py);
        core(py, self.client())
    }
}

pub fn summary_to_py(py: Python<'_>, s: DrainSummary) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("batches", s.batches)?;
    d.set_item("events", s.events)?;
    d.set_item("acknowledged", s.acknowledged)?;
    d.set_item("pending_count", s.pending_count)?;
    Ok(d.into_any().unbind())
}

fn micros(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_micros())
}

#[pymethods]
impl NativeClient {
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyAny>) -> PyResult<Self> {
        logging::refresh(py);
        let options = json_arg(py, options, "options")?;
        let client = core(py, build(&options))?;
        Ok(NativeClient {
            options,
            client: Mutex::new((std::process::id(), client)),
            closed: AtomicBool::new(false),
            local: Arc::default(),
        })
    }

    /// Closes the core client: calls in flight raise `CancelledError`, a `run` stops, and
    /// the core refuses later calls with the same error (`health` still answers).
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.client.lock().unwrap_or_else(|p| p.into_inner()).1.close();
    }

    /// `"test"` or `"live"`.
    #[getter]
    fn environment(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(core(py, self.client())?.environment().as_str())
    }

    /// The API key, masked.
    #[getter]
    fn api_key_masked(&self, py: Python<'_>) -> PyResult<String> {
        Ok(core(py, self.client())?.config().api_key_masked())
    }

    #[getter]
    fn base_url(&self, py: Python<'_>) -> PyResult<String> {
        Ok(core(py, self.client())?.config().base_url().to_string())
    }

    fn health(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let client = core(py, self.client())?;
        let h = py.detach(|| client.health());
        let d = PyDict::new(py);
        d.set_item("last_success_at", micros(h.last_success_at))?;
        d.set_item("last_error_at", micros(h.last_error_at))?;
        d.set_item("last_error_code", h.last_error_code)?;
        d.set_item("last_error", h.last_error)?;
        d.set_item("polls", h.polls)?;
        d.set_item("pending_count", h.pending_count)?;
        d.set_item("events_handled", h.events_handled)?;
        d.set_item("events_acknowledged", h.events_acknowledged)?;
        d.set_item("events_dead_lettered", h.events_dead_lettered)?;
        d.set_item("errors", h.errors)?;
        d.set_item("consecutive_failures", h.consecutive_failures)?;
        Ok(d.into_any().unbind())
    }

    #[pyo3(signature = (options, event_loop=None, future=None))]
    fn get_webhook_events(
        &self,
        py: Python<'_>,
        options: &Bound<'_, PyAny>,
        event_loop: Option<Py<PyAny>>,
        future: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.begin(py)?;
        let opts = core(py, FetchOptions::from_json(&json_arg(py, options, "options")?))?;
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        ctx.finish(
            py,
            client.clone(),
            async move { client.get_webhook_events_as::<RawEvent>(opts).await },
            batch_to_py,
            None,
        )
    }

    #[pyo3(signature = (event_ids, event_loop=None, future=None))]
    fn acknowledge_webhook_events(
        &self,
        py: Python<'_>,
        event_ids: &Bound<'_, PyAny>,
        event_loop: Option<Py<PyAny>>,
        future: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.begin(py)?;
        // Named as the core names it in its own messages about these IDs.
        let ids = json_arg(py, event_ids, "eventIds")?;
        let ids = core(py, validate::event_ids_value(&ids))?;
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        let convert = |py: Python<'_>, r: smartai_events::AcknowledgeResult| {
            Ok(r.acknowledged.into_pyobject(py)?.into_any().unbind())
        };
        ctx.finish(py, client.clone(), async move { client.acknowledge_webhook_events(&ids).await }, convert, None)
    }

    #[pyo3(signature = (request, event_loop=None, future=None))]
    fn create_session(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        event_loop: Option<Py<PyAny>>,
        future: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.begin(py)?;
        let req = core(py, SessionRequest::from_json(&json_arg(py, request, "request")?))?;
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        let convert = |py: Python<'_>, t: smartai_events::SessionToken| {
            Ok((t.token, t.expires_at).into_pyobject(py)?.into_any().unbind())
        };
        ctx.finish(py, client.clone(), async move { client.create_session(req).await }, convert, None)
    }

    #[pyo3(signature = (handler, options, event_loop=None, future=None))]
    fn drain(
        &self,
        py: Python<'_>,
        handler: Py<PyAny>,
        options: &Bound<'_, PyAny>,
        event_loop: Option<Py<PyAny>>,
        future: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.begin(py)?;
        let opts =
            core(py, DrainOptions::from_json_strict_spelled(&json_arg(py, options, "options")?, Spelling::SnakeCase))?;
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        let handler = PyCallback::new(handler, ctx.target());
        ctx.finish(py, client.clone(), async move { client.drain_as(handler, opts).await }, summary_to_py, None)
    }

    /// `stop_event`: an object with `is_set()`, checked as the run starts, and every 100 ms by
    /// a blocking run.
    #[pyo3(signature = (handler, options, dead_letter=None, stop_event=None, event_loop=None, future=None))]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        py: Python<'_>,
        handler: Py<PyAny>,
        options: &Bound<'_, PyAny>,
        dead_letter: Option<Py<PyAny>>,
        stop_event: Option<Py<PyAny>>,
        event_loop: Option<Py<PyAny>>,
        future: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.begin(py)?;
        let mut opts = core(
            py,
            RunOptions::<RawEvent>::from_json_spelled(&json_arg(py, options, "options")?, Spelling::SnakeCase),
        )?;
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        if let Some(hook) = dead_letter {
            opts = opts.dead_letter(PyCallback::new(hook, ctx.target()));
        }
        let handler = PyCallback::new(handler, ctx.target());
        // Set by the stop event; closing the client stops the run in the core.
        let token = CancellationToken::new();
        let stop = token.clone().cancelled_owned();
        let stop_event = stop_event.filter(|ev| !ev.is_none(py));
        // A stop event already set begins no cycle. The blocking call checks it again every
        // slice; the async one hears of a later set from its event loop.
        if let Some(event) = &stop_event
            && event.call_method0(py, "is_set")?.is_truthy(py)?
        {
            token.cancel();
        }
        let convert = |py: Python<'_>, s: smartai_events::RunSummary| -> PyResult<Py<PyAny>> {
            let d = PyDict::new(py);
            d.set_item("cycles", s.cycles)?;
            d.set_item("events", s.events)?;
            d.set_item("acknowledged", s.acknowledged)?;
            d.set_item("errors", s.errors)?;
            Ok(d.into_any().unbind())
        };
        ctx.finish(
            py,
            client.clone(),
            async move { client.run_as(handler, opts, stop).await },
            convert,
            Some((stop_event, token)),
        )
    }

    #[pyo3(signature = (options))]
    fn batches(&self, py: Python<'_>, options: &Bound<'_, PyAny>) -> PyResult<NativeBatches> {
        let client = self.begin(py)?;
        let opts =
            core(py, DrainOptions::from_json_strict_spelled(&json_arg(py, options, "options")?, Spelling::SnakeCase))?;
        Ok(NativeBatches {
            inner: Arc::new(tokio::sync::Mutex::new(client.batches_as::<RawEvent>(opts))),
            client,
            in_flight: Arc::default(),
            local: self.local.clone(),
        })
    }
}

/// A pull-based drain: `next` acknowledges the batch handed out before, then fetches.
#[pyclass(frozen, module = "smartai_events._native")]
pub struct NativeBatches {
    inner: Arc<tokio::sync::Mutex<Batches<RawEvent>>>,
    /// The IDs of the batch fetched last, until the facade says it reached its caller
    /// (`received`). One that did not (the awaiting task was cancelled while the batch was
    /// on its way) is put back before the next step, so that it is handed out again rather
    /// than acknowledged unseen.
    in_flight: Arc<Mutex<Vec<String>>>,
    /// The client, whose close ends the calls in flight.
    client: AssessmentClient,
    local: Arc<LocalCell>,
}

/// Puts back the batch that never reached its caller, if any.
fn put_back_undelivered(batches: &mut Batches<RawEvent>, in_flight: &Mutex<Vec<String>>) {
    let ids = std::mem::take(&mut *in_flight.lock().unwrap_or_else(|p| p.into_inner()));
    batches.put_back(&ids);
}

#[pymethods]
impl NativeBatches {
    /// The next batch (a `WebhookEventBatch`) or `None` at the end.
    #[pyo3(signature = (event_loop=None, future=None))]
    fn next(&self, py: Python<'_>, event_loop: Option<Py<PyAny>>, future: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        logging::refresh(py);
        let (inner, in_flight) = (self.inner.clone(), self.in_flight.clone());
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        ctx.finish(
            py,
            self.client.clone(),
            async move {
                let mut batches = inner.lock().await;
                put_back_undelivered(&mut batches, &in_flight);
                let batch = batches.next_batch().await?;
                if let Some(batch) = &batch {
                    *in_flight.lock().unwrap_or_else(|p| p.into_inner()) =
                        batch.events.iter().map(|e| e.event_id().to_string()).collect();
                }
                Ok(batch)
            },
            |py, b| match b {
                Some(batch) => batch_to_py(py, batch),
                None => Ok(py.None()),
            },
            None,
        )
    }

    /// Acknowledges the batch handed out last, if any.
    #[pyo3(signature = (event_loop=None, future=None))]
    fn commit(&self, py: Python<'_>, event_loop: Option<Py<PyAny>>, future: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        let (inner, in_flight) = (self.inner.clone(), self.in_flight.clone());
        let ctx = Ctx::new(py, event_loop, future, &self.local)?;
        let fut = async move {
            let mut batches = inner.lock().await;
            put_back_undelivered(&mut batches, &in_flight);
            batches.commit().await
        };
        ctx.finish(py, self.client.clone(), fut, |py, ()| Ok(py.None()), None)
    }

    /// The batch `next` returned reached the caller.
    fn received(&self) {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Forgets the batch handed out last without acknowledging it.
    fn abandon(&self, py: Python<'_>) -> PyResult<()> {
        match self.inner.try_lock() {
            Ok(mut b) => {
                put_back_undelivered(&mut b, &self.in_flight);
                b.abandon();
                Ok(())
            }
            Err(_) => Err(to_pyerr(py, invalid_argument("another call on these batches is still running"))),
        }
    }

    /// How many event IDs the next advance will acknowledge.
    fn owed(&self) -> usize {
        self.inner
            .try_lock()
            .map(|mut b| {
                put_back_undelivered(&mut b, &self.in_flight);
                b.owed().len()
            })
            .unwrap_or(0)
    }

    fn summary(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.inner.try_lock() {
            Ok(mut b) => {
                put_back_undelivered(&mut b, &self.in_flight);
                summary_to_py(py, b.summary())
            }
            Err(_) => Err(to_pyerr(py, invalid_argument("another call on these batches is still running"))),
        }
    }
}
