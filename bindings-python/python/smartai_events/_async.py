"""The asyncio client."""

from __future__ import annotations

import asyncio
import inspect
from types import TracebackType
from typing import Any, Awaitable, Callable, Iterable, Optional, Union

from ._common import (
    ClientBase,
    OneStep,
    check_callable,
    drain_options,
    fetch_options,
    event_ids,
    run_options,
    session_request,
    type_name,
)
from ._errors import InvalidArgumentError, SmartAIError
from ._events import (
    AcknowledgeResult,
    DrainSummary,
    Health,
    RunSummary,
    SessionToken,
    WebhookEvent,
    WebhookEventBatch,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._common import Since

# What a handler returns is ignored once awaited, so `lambda events: store.insert_many(events)`
# fits whatever the store returns.
AsyncHandler = Callable[[list[WebhookEvent]], Union[object, Awaitable[object]]]
AsyncDeadLetterHook = Callable[[list[WebhookEvent], str], Union[object, Awaitable[object]]]


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Called on the loop by the native module when a call ends."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


async def _await_handler(awaitable: Awaitable[Any], done: Any) -> None:
    """Awaits what a handler returned, as a task on the loop, and reports its end to the
    native module in the same step (a done callback would run one loop turn later). What it
    resolved to is judged there too: a coroutine in it is a forgotten ``await``."""
    try:
        value = await awaitable
    except Exception as e:  # the handler failed: the drain reports it, nobody else must
        done.failed(e)
        return
    except BaseException as e:  # cancelled, or the process is told to stop: let it go on
        done.failed(e)
        raise
    done.resolved(value)


# How often a run's stop event is looked at, besides being awaited.
_STOP_POLL = 0.1


async def _wait_for_stop(stop: asyncio.Event) -> None:
    """Returns once ``stop`` is set. Besides awaiting it, looks at it every 100 ms (as the
    blocking client does): an ``asyncio.Event`` set from another thread, or from a
    ``signal.signal`` handler, does not wake the loop, which could otherwise sleep in its
    selector for ever."""
    waiter = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            await asyncio.wait((waiter,), timeout=_STOP_POLL)
    finally:
        waiter.cancel()


async def _call(start: Callable[[asyncio.AbstractEventLoop, asyncio.Future[Any]], Any]) -> Any:
    """Starts a native operation on the core's runtime and awaits it; cancelling the
    awaiting task aborts the operation and cancels its handler task, if one is running."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    pending = start(loop, future)
    try:
        return await future
    except asyncio.CancelledError:
        pending.cancel()
        raise


class AsyncBatches:
    """The queue as an async iterator of batches (from :meth:`AsyncAssessmentClient.batches`).

    Acknowledgement rules, precisely:

    * Asking for the next batch (the next turn of the ``async for`` loop) first acknowledges
      the batch handed out before it: its loop body finished without an exception.
    * Leaving the loop by an exception acknowledges nothing: the batch in hand comes back on a
      later poll (at-least-once).
    * Leaving the loop by ``break`` does not ask for another batch, so by itself it
      acknowledges nothing either. Use the object as an async context manager
      (``async with client.batches() as batches: async for batch in batches: ...``): leaving
      the block normally, ``break`` included, acknowledges the batch whose body has
      finished; leaving it by an exception (cancellation included) acknowledges nothing.
      Or ``await batches.commit()``.
    * The loop ends when the queue is drained or a bound (``max_events``, ``max_batches``)
      is reached; that last step acknowledges the final batch.
    * One step at a time: asking for the next batch, or :meth:`commit`, while another step
      on this iterator is still running (another task or thread) raises
      :class:`InvalidArgumentError` and changes nothing.
    * After the client is closed, asking for the next batch and :meth:`commit` raise
      :class:`CancelledError` ("cancelled: the client was closed", code ``CANCELLED``), as
      the client's other calls do, and as a step in flight at the close ends; :meth:`abandon`
      and :attr:`summary` still work, since they send nothing. The batch in hand is not
      acknowledged: it comes back later.
    """

    def __init__(self, native: Any) -> None:
        self._native = native
        self._one_step = OneStep()

    def __aiter__(self) -> AsyncBatches:
        return self

    async def __anext__(self) -> WebhookEventBatch:
        with self._one_step("__anext__()"):
            batch: Optional[WebhookEventBatch] = await _call(lambda loop, fut: self._native.next(loop, fut))
            if batch is None:
                raise StopAsyncIteration
            # Only now is it the caller's: a batch whose awaiting task was cancelled on the way
            # is put back by the native side and handed out again, not acknowledged unseen.
            self._native.received()
            return batch

    async def commit(self) -> None:
        """Acknowledges the batch handed out last, if it is not acknowledged yet."""
        with self._one_step("commit()"):
            await _call(lambda loop, fut: self._native.commit(loop, fut))

    def abandon(self) -> None:
        """Forgets the batch handed out last without acknowledging it. The platform delivers
        it again, and so does this loop if it goes on (after the last batch, the loop ends and
        the events wait in the queue for the next poll)."""
        self._native.abandon()

    @property
    def summary(self) -> DrainSummary:
        """What the loop did so far."""
        return DrainSummary(**self._native.summary())

    async def __aenter__(self) -> AsyncBatches:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is None:
            await self.commit()
        else:
            try:
                self.abandon()
            except SmartAIError:
                pass  # a cancelled fetch still holds the batches; nothing is owed then


class AsyncAssessmentClient(ClientBase):
    """The asyncio SmartAI client: every call to the platform is a coroutine, run on the Rust core's own
    runtime, so the event loop is never blocked. Works with any number of event loops
    (each call belongs to the loop it was awaited on). Cancelling the awaiting task aborts
    the call.

    Missing ``api_key``, ``secret_key`` and ``base_url`` are read from ``ASSESSMENT_API_KEY``,
    ``ASSESSMENT_SECRET_KEY`` and ``ASSESSMENT_BASE_URL``. Durations are in seconds.
    ``min_poll_interval=0`` turns the idle-poll gate off (for tests). Plain ``http://`` is
    refused unless the host is loopback or ``allow_insecure_http=True``. ``None`` is refused
    for an option not typed ``Optional`` (``timeout=None`` too: every call has a timeout).

    Raises:
        ConfigurationError: missing keys, a bad or insecure base URL.
        InvalidArgumentError: a bad option value.
    """

    async def get_webhook_events(self, limit: int = 50, since: Since = None) -> WebhookEventBatch:
        """Fetches up to ``limit`` events (1 or more; above 100 means 100) without removing them.

        ``since``: only events stored after this time, as Unix milliseconds or an aware
        ``datetime``. A number that looks like seconds is refused.
        """
        native = self._native
        opts = fetch_options(limit, since)
        batch: WebhookEventBatch = await _call(lambda loop, fut: native.get_webhook_events(opts, loop, fut))
        return batch

    async def acknowledge_webhook_events(self, event_ids: Iterable[Union[str, WebhookEvent]]) -> AcknowledgeResult:
        """Removes events from the queue. Takes IDs (or events). Duplicates are sent once,
        more than 100 IDs go in several requests, and IDs already acknowledged are skipped
        by the server without error.

        Raises:
            InvalidArgumentError: ``eventIds must be a non-empty array``, or a bad ID.
        """
        native = self._native
        ids = _event_ids(event_ids)
        n: int = await _call(lambda loop, fut: native.acknowledge_webhook_events(ids, loop, fut))
        return AcknowledgeResult(n)

    async def create_session(
        self,
        users: Iterable[Any],
        recruiter_id: Optional[str] = None,
        recruiter_email: Optional[str] = None,
    ) -> SessionToken:
        """Creates a candidate session. ``users``: a non-empty list of ``{"name", "email"}``;
        at least one of ``recruiter_id`` and ``recruiter_email`` is required."""
        native = self._native
        req = session_request(users, recruiter_id, recruiter_email)
        token, expires_at = await _call(lambda loop, fut: native.create_session(req, loop, fut))
        return SessionToken(token, expires_at)

    async def drain(
        self,
        handler: AsyncHandler,
        limit: int = 100,
        since: Since = None,
        max_events: Optional[int] = None,
        max_batches: Optional[int] = None,
    ) -> DrainSummary:
        """Drains the queue: fetches a batch, awaits ``handler(events)`` (a plain function or
        an ``async def``; it runs on this event loop), acknowledges the batch once the
        handler returned, and repeats while more are pending.

        If the handler raises, nothing of that batch is acknowledged, the drain stops, and
        :class:`HandlerError` is raised with the handler's exception as ``__cause__``; the
        events come back on a later poll (at-least-once: make your save idempotent on
        ``event_id``). Within one drain an event is never handed out twice
        (among the last 50,000 it handed out). So it is when a
        plain handler raises a ``BaseException`` such as ``CancelledError`` or
        ``GeneratorExit``: only the caller sees it. ``KeyboardInterrupt`` and ``SystemExit``
        also go on to the event loop, which stops.

        A handler that resolves to a coroutine, another awaitable or a generator (a
        forgotten ``await``) has failed in the same way, with a :class:`TypeError` as
        ``__cause__``: that work never runs, so nothing of its batch is acknowledged.

        Cancelling the awaiting task aborts the drain and cancels the handler in progress
        (it sees :class:`asyncio.CancelledError`); nothing of its batch is acknowledged.
        """
        check_callable(handler, "handler")
        native = self._native
        opts = drain_options(limit, since, max_events, max_batches)
        d = await _call(lambda loop, fut: native.drain(handler, opts, loop, fut))
        return DrainSummary(**d)

    def batches(
        self,
        limit: int = 100,
        since: Since = None,
        max_events: Optional[int] = None,
        max_batches: Optional[int] = None,
    ) -> AsyncBatches:
        """The queue as an async iterator of :class:`WebhookEventBatch`; see
        :class:`AsyncBatches` for exactly when each batch is acknowledged."""
        return AsyncBatches(self._native.batches(drain_options(limit, since, max_events, max_batches)))

    async def run(
        self,
        handler: AsyncHandler,
        interval: float = 30.0,
        stop: Optional[asyncio.Event] = None,
        max_attempts: int = 5,
        dead_letter: Optional[AsyncDeadLetterHook] = None,
        *,
        limit: int = 100,
        since: Since = None,
        max_events: Optional[int] = None,
        max_batches: Optional[int] = None,
        ordered: bool = False,
    ) -> RunSummary:
        """Polls until ``stop`` is set or the task is cancelled: drains, waits ``interval``
        seconds (at least 5 unless ``min_poll_interval`` was lowered), repeats.

        Transient errors (network, timeouts, 5xx, 429) are logged and retried with backoff;
        authentication, configuration, not-found, invalid-request (400, 422) and
        invalid-argument errors end the run. A handler error
        leaves its batch unacknowledged for the next cycle; an event that failed
        ``max_attempts`` times goes to ``dead_letter(events, reason)`` (plain or async) and
        is acknowledged once that hook returns. Events that failed before are retried one at
        a time, so that one poison event cannot hold back the others; ``ordered=True`` keeps
        queue order strictly instead: every batch is handled whole, and nothing is
        dead-lettered.

        ``stop`` is also looked at every 100 ms, so that one set from another thread or a
        ``signal.signal`` handler (which does not wake the loop) still stops the run; one
        already set makes ``run`` return at once, without fetching.

        On stop (``stop.set()``): a wait or fetch in progress is abandoned at once; a handler
        in progress finishes, its batch is acknowledged, and ``run`` returns its summary. On
        cancellation of the awaiting task the same graceful stop happens, then
        ``asyncio.CancelledError`` propagates (cancel a second time to abort at once, which
        cancels the handler in progress too; nothing of its batch is acknowledged).
        :meth:`aclose` stops it gracefully as well; the stop and a close together no longer
        wait for the handler (its batch is not acknowledged and comes back).
        """
        check_callable(handler, "handler")
        if dead_letter is not None:
            check_callable(dead_letter, "dead_letter")
        # Checked before the poller starts: a threading.Event's blocking wait() would freeze
        # the event loop, and a failure after the start would leave the poller running.
        if stop is not None and not inspect.iscoroutinefunction(getattr(stop, "wait", None)):
            raise InvalidArgumentError(f"stop must be an asyncio.Event, got {type_name(stop)}")
        native = self._native
        opts = run_options(interval, max_attempts, limit, since, max_events, max_batches, ordered)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        # The stop event goes along so that one already set begins no cycle: the waiter
        # below is heard of only once the loop has run it.
        pending = native.run(handler, opts, dead_letter, stop, loop, future)
        waiter: Optional[asyncio.Task[Any]] = None
        if stop is not None:
            waiter = loop.create_task(_wait_for_stop(stop))
            waiter.add_done_callback(lambda _: pending.stop())
        try:
            try:
                d = await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    raise
                pending.stop()
                try:
                    await future
                except asyncio.CancelledError:
                    pending.cancel()
                    raise
                except Exception:
                    pass
                raise
            return RunSummary(**d)
        finally:
            if waiter is not None and not waiter.done():
                waiter.cancel()

    def health(self) -> Health:
        """Last successful poll, last error, counts, and the ``pending_count`` of the last
        successful fetch. Works after :meth:`close` too."""
        return Health._from_native(self._native.health())

    async def aclose(self) -> None:
        """Closes the client. Calls in flight end at once with :class:`CancelledError`; a
        :meth:`run` in progress stops as if ``stop`` were set. Later calls raise
        :class:`CancelledError` too, as the core refuses them ("cancelled: the client was
        closed"); :meth:`health` still works. Idempotent."""
        self.close()

    def close(self) -> None:
        """Like :meth:`aclose`, for code that is not async."""
        self._native.close()

    async def __aenter__(self) -> AsyncAssessmentClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()


def _event_ids(ids: Any) -> Any:
    return event_ids(ids)
