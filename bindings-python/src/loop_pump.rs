//! Hand-offs from the runtime's worker to an asyncio event loop, without the GIL.
//!
//! An async call runs on the runtime's worker thread, but its handlers and the resolution
//! of its future belong on the event loop's thread. Asking the loop through
//! `call_soon_threadsafe` needs the GIL on the worker, and the loop's thread, woken by that
//! very call, then waits for the GIL the worker still holds: a drain paid two extra context
//! switches and half a dozen futex calls per batch for it, most of its overhead over the
//! blocking client (bench/RESULTS.md). Here the worker only queues a `Job` and writes one
//! byte to a socket the loop watches (`add_reader`); everything that touches Python runs on
//! the loop's thread, in `LoopPump.__call__`.
//!
//! A loop without `add_reader` (the proactor loop on Windows) is woken through
//! `call_soon_threadsafe` instead, with the GIL.

use crate::convert::events_to_py;
use crate::dispatch::{Call, stop_if_set};
use crate::errors::PyHandlerError;
use crate::returned::Given;
use pyo3::exceptions::{PyKeyboardInterrupt, PyNotImplementedError, PySystemExit};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// Builds the call's result (or exception) on the loop's thread.
pub type Finish = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// What the worker asks of the loop.
pub enum Job {
    /// Run a handler or dead-letter hook and report when it (and its awaitable) finished.
    Call(Call),
    /// The operation ended: resolve the future, and stop listening.
    Finish(Finish),
}

enum Wake {
    /// A datagram to a socket whose other end the loop watches.
    #[cfg(unix)]
    Socket(std::os::unix::net::UnixDatagram),
    /// `loop.call_soon_threadsafe(pump, context=context)`; the pump is dropped when the
    /// pump closes, which breaks the cycle pump → queue → pump. `context` is a copy of the
    /// caller's, taken when the call started: without it the pump (and the handlers) would
    /// run in the context of the runtime's thread. (A reader callback keeps the context of
    /// the `add_reader` call by itself.)
    Threadsafe { event_loop: Py<PyAny>, pump: Mutex<Option<Py<PyAny>>>, context: Py<PyAny> },
}

struct Queue {
    /// `None` once the pump closed: jobs are dropped, so a waiting handler call fails
    /// rather than waits forever.
    jobs: Mutex<Option<VecDeque<Job>>>,
    /// A wake-up is on its way and the pump has not yet looked at the jobs.
    armed: AtomicBool,
    wake: Wake,
}

impl Queue {
    fn close(&self) -> Option<VecDeque<Job>> {
        if let Wake::Threadsafe { pump, .. } = &self.wake {
            drop(pump.lock().unwrap_or_else(|p| p.into_inner()).take());
        }
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn take(&self) -> VecDeque<Job> {
        // Cleared before the jobs are taken: a job queued after the take finds it clear
        // and wakes the pump again.
        self.armed.store(false, Ordering::SeqCst);
        match self.jobs.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(jobs) => std::mem::take(jobs),
            None => VecDeque::new(),
        }
    }
}

/// The worker's end: queues jobs for one call's event loop. Cheap to clone; never needs
/// the GIL (except to wake a loop without `add_reader`).
#[derive(Clone)]
pub struct LoopSender(Arc<Queue>);

impl LoopSender {
    /// Queues `job` and wakes the loop. A job for a pump that closed (the call was
    /// cancelled, or its loop closed) is dropped: a handler call then fails at once.
    pub fn send(&self, job: Job) {
        {
            let mut jobs = self.0.jobs.lock().unwrap_or_else(|p| p.into_inner());
            match jobs.as_mut() {
                Some(jobs) => jobs.push_back(job),
                None => return,
            }
        }
        if self.0.armed.swap(true, Ordering::SeqCst) {
            return;
        }
        match &self.0.wake {
            #[cfg(unix)]
            Wake::Socket(socket) => match socket.send(&[0]) {
                // Full: wake-ups are already waiting to be read.
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // The pump's end is gone: nobody will ever run the jobs.
                Err(_) => drop(self.0.close()),
            },
            Wake::Threadsafe { event_loop, pump, context } => {
                let woken = Python::try_attach(|py| {
                    crate::thread_state::keep(py);
                    let pump = pump.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|p| p.clone_ref(py));
                    let Some(pump) = pump else { return false };
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("context", context).is_ok()
                        && event_loop.call_method(py, "call_soon_threadsafe", (pump,), Some(&kwargs)).is_ok()
                });
                if woken != Some(true) {
                    // The loop is closed (or the interpreter is going away).
                    drop(self.0.close());
                }
            }
        }
    }
}

/// The loop's end of one async call: runs its jobs on the loop's thread when woken.
#[pyclass(frozen, module = "smartai_events._native")]
pub struct LoopPump {
    queue: Arc<Queue>,
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    /// The tasks awaiting what handlers returned, while they may still run: cancelled when
    /// the call is, so that cancellation reaches the handler instead of leaving it running
    /// detached.
    tasks: Mutex<Vec<Py<PyAny>>>,
    /// The socket the loop watches, until the pump closes (`None` for a loop woken through
    /// `call_soon_threadsafe`).
    #[cfg(unix)]
    reader: Mutex<Option<std::os::unix::net::UnixDatagram>>,
    /// A run's stop event and the token it cancels in the core.
    stop: OnceLock<Arc<StopLink>>,
}

/// A run's stop event, looked at before each handler result is handed over.
struct StopLink {
    event: Py<PyAny>,
    token: CancellationToken,
}

/// Hands a handler's result to the core, once the stop event (if set) has reached it.
fn answer(
    py: Python<'_>,
    stop: Option<&StopLink>,
    reply: oneshot::Sender<Result<(), smartai_events::BoxError>>,
    result: Result<(), smartai_events::BoxError>,
) {
    if let Some(link) = stop {
        // Raises only for a stop object that is not an asyncio.Event; the run's waiter
        // meets the same error.
        let _ = stop_if_set(py, &link.event, &link.token);
    }
    let _ = reply.send(result);
}

static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
pub(crate) static IS_AWAITABLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
pub(crate) static IS_COROUTINE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static COPY_CONTEXT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static AWAIT_HANDLER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `module.name`, imported once.
pub(crate) fn cached<'py>(
    py: Python<'py>,
    cell: &PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(cell
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> { Ok(py.import(module)?.getattr(name)?.unbind()) })?
        .bind(py)
        .clone())
}

impl LoopPump {
    /// Starts listening on `event_loop` for the call that resolves `future`; must be called
    /// on the loop's thread (from the coroutine that awaits `future`), so that handlers run
    /// in a copy of its context.
    pub fn start(py: Python<'_>, event_loop: Py<PyAny>, future: Py<PyAny>) -> PyResult<(Py<LoopPump>, LoopSender)> {
        #[cfg(unix)]
        {
            let (reader, writer) = std::os::unix::net::UnixDatagram::pair()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            let fd = std::os::fd::AsRawFd::as_raw_fd(&reader);
            let (pump, sender) = Self::build(py, &event_loop, &future, Wake::Socket(writer), Some(reader))?;
            match event_loop.call_method1(py, "add_reader", (fd, pump.clone_ref(py))) {
                Ok(_) => return Ok((pump, sender)),
                // This pump never listened; dropping it closes its sockets.
                Err(e) if e.is_instance_of::<PyNotImplementedError>(py) => {}
                Err(e) => return Err(e),
            }
        }
        let context = cached(py, &COPY_CONTEXT, "contextvars", "copy_context")?.call0()?.unbind();
        let wake = Wake::Threadsafe { event_loop: event_loop.clone_ref(py), pump: Mutex::new(None), context };
        let (pump, sender) = Self::build(py, &event_loop, &future, wake, None)?;
        if let Wake::Threadsafe { pump: slot, .. } = &sender.0.wake {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(pump.clone_ref(py).into_any());
        }
        Ok((pump, sender))
    }

    fn build(
        py: Python<'_>,
        event_loop: &Py<PyAny>,
        future: &Py<PyAny>,
        wake: Wake,
        #[cfg(unix)] reader: Option<std::os::unix::net::UnixDatagram>,
        #[cfg(not(unix))] _reader: Option<std::convert::Infallible>,
    ) -> PyResult<(Py<LoopPump>, LoopSender)> {
        let queue = Arc::new(Queue { jobs: Mutex::new(Some(VecDeque::new())), armed: AtomicBool::new(false), wake });
        let pump = LoopPump {
            queue: queue.clone(),
            event_loop: event_loop.clone_ref(py),
            future: future.clone_ref(py),
            tasks: Mutex::new(Vec::new()),
            #[cfg(unix)]
            reader: Mutex::new(reader),
            stop: OnceLock::new(),
        };
        Ok((Py::new(py, pump)?, LoopSender(queue)))
    }

    /// Has every handler result of this call wait for `event` to reach the core first.
    pub fn watch_stop(&self, event: Py<PyAny>, token: CancellationToken) {
        let _ = self.stop.set(Arc::new(StopLink { event, token }));
    }

    /// Stops listening, drops what is still queued and cancels the handler tasks still
    /// running (on the loop's thread).
    pub fn close(&self, py: Python<'_>) {
        #[cfg(unix)]
        if let Some(reader) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // Fails only if the loop is already closed, and then it listens to nothing.
            let _ = self.event_loop.call_method1(py, "remove_reader", (std::os::fd::AsRawFd::as_raw_fd(&reader),));
        }
        drop(self.queue.close());
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            // A task that is done ignores it.
            let _ = task.call_method0(py, "cancel");
        }
    }

    fn run_call(&self, py: Python<'_>, call: Call) -> PyResult<()> {
        let Call { callable, events, reason, reply } = call;
        let what = if reason.is_some() { "dead_letter" } else { "handler" };
        let stop = self.stop.get().cloned();
        let stop = stop.as_deref();
        let started = (|| -> PyResult<Bound<'_, PyAny>> {
            let list = events_to_py(py, events)?;
            match reason {
                None => callable.bind(py).call1((list,)),
                Some(r) => callable.bind(py).call1((list, r)),
            }
        })();
        let returned = match started {
            Ok(returned) => returned,
            // KeyboardInterrupt, SystemExit: the process is being told to stop. The call
            // fails (nothing is acknowledged) and the exception goes on to the loop, which
            // lets these two out of `run_forever`. Any other exception (a `CancelledError`
            // or `GeneratorExit` too) is the handler failing: it reaches only the caller,
            // as the loop would hand it to its exception handler as well.
            Err(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) || e.is_instance_of::<PySystemExit>(py) => {
                answer(py, stop, reply, Err(Box::new(PyHandlerError::new(py, e.clone_ref(py)))));
                return Err(e);
            }
            Err(e) => {
                answer(py, stop, reply, Err(Box::new(PyHandlerError::new(py, e))));
                return Ok(());
            }
        };
        if let Err(e) = crate::returned::refuse_unrun(py, what, Given::Returned, &returned) {
            answer(py, stop, reply, Err(Box::new(PyHandlerError::new(py, e))));
            return Ok(());
        }
        if !cached(py, &IS_AWAITABLE, "inspect", "isawaitable")?.call1((&returned,))?.is_truthy()? {
            answer(py, stop, reply, Ok(()));
            return Ok(());
        }
        let completer =
            Py::new(py, Completer { reply: Mutex::new(Some(reply)), what, stop: self.stop.get().cloned() })?;
        let awaiting = cached(py, &AWAIT_HANDLER, "smartai_events._async", "_await_handler")?
            .call1((returned, completer.clone_ref(py)))
            .and_then(|coroutine| self.event_loop.bind(py).call_method1("create_task", (coroutine,)));
        match awaiting {
            Ok(task) => {
                let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
                // Forget the ones that ended, so that a long `run` does not pile them up.
                tasks.retain(|t| !t.call_method0(py, "done").and_then(|d| d.is_truthy(py)).unwrap_or(true));
                tasks.push(task.unbind());
            }
            Err(e) => completer.get().complete(py, Err(Box::new(PyHandlerError::new(py, e)))),
        }
        Ok(())
    }

    fn finish(&self, py: Python<'_>, finish: Finish) -> PyResult<()> {
        self.close(py);
        let (ok, value) = match finish(py) {
            Ok(v) => (true, v),
            Err(e) => (false, e.into_value(py).into_any()),
        };
        cached(py, &RESOLVE, "smartai_events._async", "_resolve")?.call1((self.future.bind(py), ok, value))?;
        Ok(())
    }
}

#[pymethods]
impl LoopPump {
    /// Runs the queued jobs (the loop calls this when the socket is readable).
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        #[cfg(unix)]
        if let Some(reader) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            // One wake-up is (nearly always) all there is; one left over just runs this
            // again with nothing to do.
            let _ = reader.recv(&mut [0u8; 8]);
        }
        for job in self.queue.take() {
            match job {
                Job::Call(call) => self.run_call(py, call)?,
                Job::Finish(finish) => self.finish(py, finish)?,
            }
        }
        Ok(())
    }
}

impl Drop for LoopPump {
    fn drop(&mut self) {
        // The loop let go of it (closed, or the call was cancelled): nothing will run the
        // jobs, so fail them now rather than leave a handler call waiting forever.
        drop(self.queue.close());
    }
}

/// Reports the end of a handler's task to the waiting worker (called by `_await_handler`
/// with the exception, or with what the handler resolved to).
#[pyclass(frozen, module = "smartai_events._native")]
struct Completer {
    reply: Mutex<Option<oneshot::Sender<Result<(), smartai_events::BoxError>>>>,
    /// `handler` or `dead_letter`, for the message if what it resolved to is refused.
    what: &'static str,
    stop: Option<Arc<StopLink>>,
}

impl Completer {
    fn complete(&self, py: Python<'_>, result: Result<(), smartai_events::BoxError>) {
        if let Some(reply) = self.reply.lock().unwrap_or_else(|p| p.into_inner()).take() {
            answer(py, self.stop.as_deref(), reply, result);
        }
    }
}

#[pymethods]
impl Completer {
    /// The handler failed (or was cancelled) with `error`.
    fn failed(&self, py: Python<'_>, error: Bound<'_, PyAny>) {
        self.complete(py, Err(Box::new(PyHandlerError::new(py, PyErr::from_value(error)))));
    }

    /// The handler finished with `value`, judged as a blocking handler's result is: a
    /// coroutine or generator in it is work nothing will run (a forgotten `await`).
    fn resolved(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        self.complete(
            py,
            match crate::returned::refuse_unfinished(py, self.what, Given::ResolvedTo, &value) {
                Ok(()) => Ok(()),
                Err(e) => Err(Box::new(PyHandlerError::new(py, e))),
            },
        );
        Ok(())
    }
}
