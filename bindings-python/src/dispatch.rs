//! Running core futures for Python: awaited from asyncio (on the shared runtime, with the
//! handlers and the result handed to the loop by a `LoopPump`), or waited for by a blocking
//! call that releases the GIL, wakes every 100 ms for Ctrl-C, and runs the user's handlers
//! on the calling thread.

use crate::convert::events_to_py;
use crate::errors::{PyHandlerError, to_pyerr};
use crate::loop_pump::{Job, LoopPump, LoopSender};
use crate::returned::{Given, refuse_unfinished};
use crate::runtime;
use crate::runtime::{LocalCell, LocalRuntime};
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use smartai_events::{AssessmentClient, BoxError, BoxFuture, DeadLetterHook, Error, Handler, RawEvent};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// How often a blocking call wakes up to check for signals and the stop event.
const SLICE: Duration = Duration::from_millis(100);

/// A handler (or dead-letter hook, with its reason) to run on the blocking caller's thread.
pub struct Call {
    pub callable: Arc<Py<PyAny>>,
    pub events: Vec<RawEvent>,
    pub reason: Option<String>,
    pub reply: oneshot::Sender<Result<(), BoxError>>,
}

/// Where Python callbacks run.
#[derive(Clone)]
pub enum Target {
    /// On the caller's event loop (the callable may return an awaitable).
    Loop(LoopSender),
    /// On the blocking caller's thread, between two turns of its runtime.
    Thread(mpsc::UnboundedSender<Call>),
}

/// A Python handler or dead-letter hook, as the core's `Handler` / `DeadLetterHook`.
pub struct PyCallback {
    // Shared with the calls in flight, so that handing one over never needs the GIL.
    callable: Arc<Py<PyAny>>,
    target: Target,
}

impl PyCallback {
    pub fn new(callable: Py<PyAny>, target: Target) -> Self {
        PyCallback { callable: Arc::new(callable), target }
    }

    fn invoke(&self, events: Vec<RawEvent>, reason: Option<String>) -> BoxFuture<Result<(), BoxError>> {
        let (reply, rx) = oneshot::channel();
        let call = Call { callable: self.callable.clone(), events, reason, reply };
        match &self.target {
            Target::Loop(sender) => sender.send(Job::Call(call)),
            // A closed channel drops the call, and with it `reply`.
            Target::Thread(tx) => drop(tx.send(call)),
        }
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err("the caller stopped waiting for the handler".into())) })
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
    pump: Py<LoopPump>,
}

#[pymethods]
impl Pending {
    /// Aborts the operation at once (and stops listening for it on the loop).
    fn cancel(&self, py: Python<'_>) {
        self.abort.abort();
        self.pump.get().close(py);
    }

    /// Asks a `run` to stop gracefully (finish the handler in progress, acknowledge, return).
    /// Other operations are aborted.
    fn stop(&self, py: Python<'_>) {
        match &self.stop {
            Some(token) => token.cancel(),
            None => self.cancel(py),
        }
    }
}

/// One call from Python: blocking (no loop) or async (an event loop and a future to resolve).
pub enum Ctx {
    Async { pump: Py<LoopPump>, sender: LoopSender },
    Blocking { local: Arc<LocalRuntime>, tx: mpsc::UnboundedSender<Call>, rx: mpsc::UnboundedReceiver<Call> },
}

impl Ctx {
    /// `local` is the client's own runtime, used (and built) by blocking calls only.
    pub fn new(
        py: Python<'_>,
        event_loop: Option<Py<PyAny>>,
        future: Option<Py<PyAny>>,
        local: &LocalCell,
    ) -> PyResult<Self> {
        match (event_loop, future) {
            (Some(event_loop), Some(future)) => {
                let (pump, sender) = LoopPump::start(py, event_loop, future)?;
                Ok(Ctx::Async { pump, sender })
            }
            (None, None) => {
                let local =
                    local.get().map_err(|e| PyRuntimeError::new_err(format!("cannot start a tokio runtime: {e}")))?;
                let (tx, rx) = mpsc::unbounded_channel();
                Ok(Ctx::Blocking { local, tx, rx })
            }
            _ => Err(PyRuntimeError::new_err("pass both the loop and the future, or neither")),
        }
    }

    /// Where the handlers of this call run.
    pub fn target(&self) -> Target {
        match self {
            Ctx::Async { sender, .. } => Target::Loop(sender.clone()),
            Ctx::Blocking { tx, .. } => Target::Thread(tx.clone()),
        }
    }

    /// Runs `fut`, a call of `client`. Async: on the shared runtime; returns a `Pending` at
    /// once and resolves the future later. Blocking: on the client's own runtime, driven by
    /// this thread with the GIL released, and returns the result. `stop` (a run's) is the
    /// stop event, polled every slice by a blocking call, and the token it cancels.
    ///
    /// A call other than a run whose client was closed before its result reached the caller
    /// ends with `Error::Closed`, as a call in flight when the client closes does: an async
    /// call's result is handed to its event loop a moment after the core produced it, and a
    /// `close()` on that loop in the meantime came first for the caller. (A batch that `next`
    /// brought then reaches no one: it is put back, not acknowledged.) A run resolves with
    /// its summary, since closing is one way to stop it.
    pub fn finish<T, F, C>(
        self,
        py: Python<'_>,
        client: AssessmentClient,
        fut: F,
        convert: C,
        stop: Option<(Option<Py<PyAny>>, CancellationToken)>,
    ) -> PyResult<Py<PyAny>>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
        C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        let is_run = stop.is_some();
        let convert = move |py: Python<'_>, value: T| {
            if !is_run && client.is_closed() { Err(to_pyerr(py, Error::Closed)) } else { convert(py, value) }
        };
        match self {
            Ctx::Async { pump, sender } => {
                // The waiter in `_async.py` hears of the stop a few loop turns later; the
                // pump looks at the event itself before handing a handler's result over.
                if let Some((Some(event), token)) = &stop {
                    pump.get().watch_stop(event.clone_ref(py), token.clone());
                }
                let task = runtime::handle().spawn(async move {
                    let result = fut.await;
                    sender.send(Job::Finish(Box::new(move |py| match result {
                        Ok(v) => convert(py, v),
                        Err(e) => Err(to_pyerr(py, e)),
                    })));
                });
                let pending = Pending { abort: task.abort_handle(), stop: stop.map(|(_, t)| t), pump };
                Ok(Py::new(py, pending)?.into_any())
            }
            Ctx::Blocking { local, tx, rx } => {
                drop(tx);
                match drive(py, &local, fut, rx, stop.as_ref())? {
                    Ok(v) => convert(py, v),
                    Err(e) => Err(to_pyerr(py, e)),
                }
            }
        }
    }
}

/// Drives `fut` on `local` from this thread until it ends. The runtime runs with the GIL
/// released and returns to this thread whenever a handler is due (it runs here, with the
/// GIL, outside the runtime, so that it may itself make blocking calls on any client) and
/// every slice, to check for signals and the stop event. Returning early drops `fut`,
/// which abandons the operation: nothing more is acknowledged.
fn drive<T: Send, F: Future<Output = Result<T, Error>> + Send>(
    py: Python<'_>,
    local: &LocalRuntime,
    fut: F,
    mut calls: mpsc::UnboundedReceiver<Call>,
    stop: Option<&(Option<Py<PyAny>>, CancellationToken)>,
) -> PyResult<Result<T, Error>> {
    enum Step<T> {
        Done(Result<T, Error>),
        Call(Call),
        Tick,
    }
    let fut = async move {
        // Connection tasks only run while some call drives this runtime, so one the server
        // closed while the client was idle may not know yet. Two turns let it see its socket
        // first (the first turn polls the sockets, the second runs the connection's task),
        // so the request does not go out on a dead connection.
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        fut.await
    };
    let mut fut = std::pin::pin!(fut);
    // A stop event already set stops a `run` before its first fetch, as in the async client.
    check_stop(py, stop)?;
    loop {
        let step = py.detach(|| {
            local.get().block_on(async {
                tokio::select! {
                    biased;
                    result = &mut fut => Step::Done(result),
                    Some(call) = calls.recv() => Step::Call(call),
                    _ = tokio::time::sleep(SLICE) => Step::Tick,
                }
            })
        });
        match step {
            Step::Done(result) => return Ok(result),
            Step::Call(Call { callable, events, reason, reply }) => {
                let result = (|| -> PyResult<()> {
                    let list = events_to_py(py, events)?;
                    let (what, returned) = match reason {
                        None => ("handler", callable.bind(py).call1((list,))?),
                        Some(r) => ("dead_letter", callable.bind(py).call1((list, r))?),
                    };
                    refuse_unfinished(py, what, Given::Returned, &returned)
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
            Step::Tick => {}
        }
        py.check_signals()?;
        check_stop(py, stop)?;
    }
}

/// Cancels the stop token once the stop event is set.
fn check_stop(py: Python<'_>, stop: Option<&(Option<Py<PyAny>>, CancellationToken)>) -> PyResult<()> {
    match stop {
        Some((Some(event), token)) => stop_if_set(py, event, token),
        _ => Ok(()),
    }
}

/// Cancels `token` if `event` is set. Called before a handler's result goes to the core, so
/// that a stop set by the handler itself is seen with its result (a handler that sets the
/// stop and then raises was cut short by the stop, not failed).
pub(crate) fn stop_if_set(py: Python<'_>, event: &Py<PyAny>, token: &CancellationToken) -> PyResult<()> {
    if !token.is_cancelled() && event.call_method0(py, "is_set")?.is_truthy(py)? {
        token.cancel();
    }
    Ok(())
}
