//! Running core futures for Python: awaited from asyncio, or waited for by a blocking call
//! that releases the GIL, wakes every 100 ms for Ctrl-C, and runs the user's handlers on
//! the calling thread.

use crate::convert::events_to_py;
use crate::errors::{PyHandlerError, to_pyerr};
use crate::runtime;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3_async_runtimes::TaskLocals;
use smartai_events::{BoxError, BoxFuture, DeadLetterHook, Error, Handler, RawEvent};
use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// How often a blocking call wakes up to check for signals and the stop event.
const SLICE: Duration = Duration::from_millis(100);

type Convert = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Messages to a blocking caller's thread.
pub enum Msg {
    /// Run a handler (or dead-letter hook, with its reason) on the caller's thread.
    Call {
        callable: Py<PyAny>,
        events: Vec<RawEvent>,
        reason: Option<String>,
        reply: oneshot::Sender<Result<(), BoxError>>,
    },
    /// The operation ended; build its Python result.
    Done(Convert),
}

/// Where Python callbacks run.
#[derive(Clone)]
pub enum Target {
    /// On the caller's event loop (the callable returns an awaitable).
    Loop(TaskLocals),
    /// On the blocking caller's thread.
    Thread(mpsc::Sender<Msg>),
}

/// A Python handler or dead-letter hook, as the core's `Handler` / `DeadLetterHook`.
pub struct PyCallback {
    callable: Py<PyAny>,
    target: Target,
}

fn wrap(err: PyErr) -> BoxError {
    Python::attach(|py| Box::new(PyHandlerError::new(py, err)) as BoxError)
}

impl PyCallback {
    pub fn new(callable: Py<PyAny>, target: Target) -> Self {
        PyCallback { callable, target }
    }

    fn invoke(&self, events: Vec<RawEvent>, reason: Option<String>) -> BoxFuture<Result<(), BoxError>> {
        match &self.target {
            Target::Loop(locals) => {
                let started = Python::attach(|py| -> PyResult<_> {
                    let list = events_to_py(py, events)?;
                    let awaitable = match reason {
                        None => self.callable.call1(py, (list,))?,
                        Some(r) => self.callable.call1(py, (list, r))?,
                    };
                    pyo3_async_runtimes::into_future_with_locals(locals, awaitable.into_bound(py))
                });
                Box::pin(async move {
                    match started {
                        Ok(fut) => fut.await.map(|_| ()).map_err(wrap),
                        Err(e) => Err(wrap(e)),
                    }
                })
            }
            Target::Thread(tx) => {
                let (reply, rx) = oneshot::channel();
                let callable = Python::attach(|py| self.callable.clone_ref(py));
                let sent = tx.send(Msg::Call { callable, events, reason, reply });
                Box::pin(async move {
                    if sent.is_err() {
                        return Err("the calling thread stopped waiting".into());
                    }
                    rx.await.unwrap_or_else(|_| Err("the calling thread stopped waiting".into()))
                })
            }
        }
    }
}

impl Handler<RawEvent> for PyCallback {
    fn handle(&mut self, events: Vec<RawEvent>) -> BoxFuture<Result<(), BoxError>> {
        self.invoke(events, None)
    }
}

impl DeadLetterHook<RawEvent> for PyCallback {
    fn dead_letter(&mut self, events: Vec<RawEvent>, reason: String) -> BoxFuture<Result<(), BoxError>> {
        self.invoke(events, Some(reason))
    }
}

/// A running async operation, so that Python can cancel it.
#[pyclass(frozen, module = "smartai_events._native")]
pub struct Pending {
    abort: tokio::task::AbortHandle,
    stop: Option<CancellationToken>,
}

#[pymethods]
impl Pending {
    /// Aborts the operation at once.
    fn cancel(&self) {
        self.abort.abort();
    }

    /// Asks a `run` to stop gracefully (finish the handler in progress, acknowledge, return).
    /// Other operations are aborted.
    fn stop(&self) {
        match &self.stop {
            Some(token) => token.cancel(),
            None => self.abort.abort(),
        }
    }
}

static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// One call from Python: blocking (no loop) or async (an event loop and a future to resolve).
pub struct Ctx {
    event_loop: Option<(Py<PyAny>, Py<PyAny>, TaskLocals)>,
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
}

impl Ctx {
    pub fn new(py: Python<'_>, event_loop: Option<Py<PyAny>>, future: Option<Py<PyAny>>) -> PyResult<Self> {
        let (tx, rx) = mpsc::channel();
        let event_loop = match (event_loop, future) {
            (Some(l), Some(f)) => {
                let locals = TaskLocals::new(l.bind(py).clone()).copy_context(py)?;
                Some((l, f, locals))
            }
            (None, None) => None,
            _ => return Err(PyRuntimeError::new_err("pass both the loop and the future, or neither")),
        };
        Ok(Ctx { event_loop, tx, rx })
    }

    /// Where the handlers of this call run.
    pub fn target(&self) -> Target {
        match &self.event_loop {
            Some((_, _, locals)) => Target::Loop(locals.clone()),
            None => Target::Thread(self.tx.clone()),
        }
    }

    /// Runs `fut` on the runtime. Async: returns a `Pending` at once and resolves the
    /// future later. Blocking: waits (GIL released) and returns the result. `stop_event`
    /// (blocking only) is polled every slice and cancels `stop_token` once set.
    pub fn finish<T, F, C>(
        self,
        py: Python<'_>,
        fut: F,
        convert: C,
        stop: Option<(Option<Py<PyAny>>, CancellationToken)>,
    ) -> PyResult<Py<PyAny>>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
        C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        let done = move |result: Result<T, Error>| -> Convert {
            Box::new(move |py| match result {
                Ok(v) => convert(py, v),
                Err(e) => Err(to_pyerr(py, e)),
            })
        };
        match self.event_loop {
            Some((event_loop, future, _)) => {
                let task = runtime::handle().spawn(async move {
                    let result = fut.await;
                    let build = done(result);
                    Python::try_attach(|py| {
                        let (ok, value) = match build(py) {
                            Ok(v) => (true, v),
                            Err(e) => (false, e.into_value(py).into_any()),
                        };
                        let resolve = RESOLVE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
                            Ok(py.import("smartai_events._async")?.getattr("_resolve")?.unbind())
                        });
                        if let Ok(resolve) = resolve {
                            // Fails only if the loop is closed; nobody is waiting then.
                            let _ = event_loop.call_method1(py, "call_soon_threadsafe", (resolve, future, ok, value));
                        }
                    });
                });
                let pending = Pending { abort: task.abort_handle(), stop: stop.map(|(_, t)| t) };
                Ok(Py::new(py, pending)?.into_any())
            }
            None => {
                let Ctx { tx, rx, .. } = self;
                let task = {
                    let tx = tx.clone();
                    runtime::handle().spawn(async move {
                        let result = fut.await;
                        let _ = tx.send(Msg::Done(done(result)));
                    })
                };
                drop(tx);
                let abort = task.abort_handle();
                let outcome = wait(py, rx, stop.as_ref());
                if outcome.is_err() {
                    abort.abort();
                }
                outcome
            }
        }
    }
}

fn wait(
    py: Python<'_>,
    mut rx: mpsc::Receiver<Msg>,
    stop: Option<&(Option<Py<PyAny>>, CancellationToken)>,
) -> PyResult<Py<PyAny>> {
    loop {
        let (back, received) = py.detach(move || {
            let received = rx.recv_timeout(SLICE);
            (rx, received)
        });
        rx = back;
        match received {
            Ok(Msg::Done(build)) => return build(py),
            Ok(Msg::Call { callable, events, reason, reply }) => {
                let result = (|| -> PyResult<()> {
                    let list = events_to_py(py, events)?;
                    match reason {
                        None => callable.call1(py, (list,))?,
                        Some(r) => callable.call1(py, (list, r))?,
                    };
                    Ok(())
                })();
                match result {
                    Ok(()) => {
                        let _ = reply.send(Ok(()));
                    }
                    // KeyboardInterrupt, SystemExit: not the handler failing but the process
                    // being told to stop. Abandon the operation and let it propagate.
                    Err(e) if !e.is_instance_of::<PyException>(py) => return Err(e),
                    Err(e) => {
                        let _ = reply.send(Err(Box::new(PyHandlerError::new(py, e))));
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("smartai_events: the operation ended without a result"));
            }
        }
        py.check_signals()?;
        if let Some((Some(event), token)) = stop
            && !token.is_cancelled()
            && event.call_method0(py, "is_set")?.is_truthy(py)?
        {
            token.cancel();
        }
    }
}
