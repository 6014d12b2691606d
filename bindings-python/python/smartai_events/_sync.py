"""The blocking client."""

from __future__ import annotations

from ._common import (
    ClientBase,
    OneStep,
    check_callable,
    drain_options,
    fetch_options,
    event_ids,
    is_async_callable,
    run_options,
    session_request,
    type_name,
)
from ._errors import InvalidArgumentError, SmartAIError
from ._events import WebhookEvent

# Only for the type checker: typing, threading and the result dataclasses are not needed
# to import the package, and importing them would double its import time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable, Iterator
    from types import TracebackType
    from typing import Any, Callable, Optional, Union

    from ._common import Since
    from ._events import WebhookEventBatch
    from ._results import AcknowledgeResult, DrainSummary, Health, RunSummary, SessionToken

    Handler = Callable[[list[WebhookEvent]], Any]
    DeadLetterHook = Callable[[list[WebhookEvent], str], Any]


class Batches:
    """The queue as a sequence of batches (from :meth:`AssessmentClient.batches`).

    Acknowledgement rules, precisely:

    * Asking for the next batch (the next turn of the ``for`` loop) first acknowledges the
      batch handed out before it: its loop body finished without an exception.
    * Leaving the loop by an exception acknowledges nothing: the batch in hand comes back on a
      later poll (at-least-once).
    * Leaving the loop by ``break`` does not ask for another batch, so by itself it
      acknowledges nothing either. Use the object as a context manager
      (``with client.batches() as batches: for batch in batches: ...``): leaving the
      ``with`` block normally, ``break`` included, acknowledges the batch whose body has
      finished; leaving it by an exception acknowledges nothing. Or call :meth:`commit`.
    * The loop ends when the queue is drained (``pending_count == 0``) or a bound
      (``max_events``, ``max_batches``) is reached; that last step acknowledges the final batch.
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
        self._one_step = OneStep(per_thread=True)

    def __iter__(self) -> Iterator[WebhookEventBatch]:
        return self

    def __next__(self) -> WebhookEventBatch:
        with self._one_step("__next__()"):
            batch: Optional[WebhookEventBatch] = self._native.next()
            if batch is None:
                raise StopIteration
            self._native.received()
            return batch

    def commit(self) -> None:
        """Acknowledges the batch handed out last, if it is not acknowledged yet."""
        with self._one_step("commit()"):
            self._native.commit()

    def abandon(self) -> None:
        """Forgets the batch handed out last without acknowledging it. The platform delivers
        it again, and so does this loop if it goes on (after the last batch, the loop ends and
        the events wait in the queue for the next poll)."""
        self._native.abandon()

    @property
    def summary(self) -> DrainSummary:
        """What the loop did so far."""
        from ._results import DrainSummary

        return DrainSummary(**self._native.summary())

    def __enter__(self) -> Batches:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            try:
                self.abandon()
            except SmartAIError:
                pass  # a cancelled fetch still holds the batches; nothing is owed then


class AssessmentClient(ClientBase):
    """The blocking SmartAI client.

    Every call releases the GIL while it waits, and Ctrl-C interrupts it within about
    100 ms. Handlers passed to :meth:`drain` and :meth:`run` are plain functions; they run
    on the calling thread.

    Missing ``api_key``, ``secret_key`` and ``base_url`` are read from ``ASSESSMENT_API_KEY``,
    ``ASSESSMENT_SECRET_KEY`` and ``ASSESSMENT_BASE_URL``. Durations are in seconds.
    ``min_poll_interval=0`` turns the idle-poll gate off (for tests). Plain ``http://`` is
    refused unless the host is loopback or ``allow_insecure_http=True``. ``None`` is refused
    for an option not typed ``Optional`` (``timeout=None`` too: every call has a timeout).

    Raises:
        ConfigurationError: missing keys, a bad or insecure base URL.
        InvalidArgumentError: a bad option value.
    """

    def get_webhook_events(self, limit: int = 50, since: Since = None) -> WebhookEventBatch:
        """Fetches up to ``limit`` events (1 or more; above 100 means 100) without removing them.

        ``since``: only events stored after this time, as Unix milliseconds or an aware
        ``datetime``. A number that looks like seconds is refused.
        """
        batch: WebhookEventBatch = self._native.get_webhook_events(fetch_options(limit, since))
        return batch

    def acknowledge_webhook_events(self, event_ids: Iterable[Union[str, WebhookEvent]]) -> AcknowledgeResult:
        """Removes events from the queue. Takes IDs (or events). Duplicates are sent once,
        more than 100 IDs go in several requests, and IDs already acknowledged are skipped
        by the server without error.

        Raises:
            InvalidArgumentError: ``eventIds must be a non-empty array``, or a bad ID.
        """
        n: int = self._native.acknowledge_webhook_events(_event_ids(event_ids))
        from ._results import AcknowledgeResult

        return AcknowledgeResult(n)

    def create_session(
        self,
        users: Iterable[Any],
        recruiter_id: Optional[str] = None,
        recruiter_email: Optional[str] = None,
    ) -> SessionToken:
        """Creates a candidate session. ``users``: a non-empty list of ``{"name", "email"}``;
        at least one of ``recruiter_id`` and ``recruiter_email`` is required."""
        token, expires_at = self._native.create_session(session_request(users, recruiter_id, recruiter_email))
        from ._results import SessionToken

        return SessionToken(token, expires_at)

    def drain(
        self,
        handler: Handler,
        limit: int = 100,
        since: Since = None,
        max_events: Optional[int] = None,
        max_batches: Optional[int] = None,
    ) -> DrainSummary:
        """Drains the queue: fetches a batch, calls ``handler(events)``, acknowledges the
        batch once the handler returned, and repeats while more are pending.

        If the handler raises, nothing of that batch is acknowledged, the drain stops, and
        :class:`HandlerError` is raised with the handler's exception as ``__cause__``; the
        events come back on a later poll (at-least-once: make your save idempotent on
        ``event_id``). Within one drain an event is never handed out twice
        (among the last 50,000 it handed out).

        The handler must be a plain function: one that returns an awaitable (a coroutine)
        has failed in the same way, with a :class:`TypeError` as ``__cause__``; the
        coroutine is closed and nothing of that batch is acknowledged.
        """
        _check_sync(handler, "handler")
        d = self._native.drain(handler, drain_options(limit, since, max_events, max_batches))
        from ._results import DrainSummary

        return DrainSummary(**d)

    def batches(
        self,
        limit: int = 100,
        since: Since = None,
        max_events: Optional[int] = None,
        max_batches: Optional[int] = None,
    ) -> Batches:
        """The queue as an iterator of :class:`WebhookEventBatch`; see :class:`Batches` for
        exactly when each batch is acknowledged."""
        return Batches(self._native.batches(drain_options(limit, since, max_events, max_batches)))

    def run(
        self,
        handler: Handler,
        interval: float = 30.0,
        stop: Optional[threading.Event] = None,
        max_attempts: int = 5,
        dead_letter: Optional[DeadLetterHook] = None,
        *,
        limit: int = 100,
        since: Since = None,
        max_events: Optional[int] = None,
        max_batches: Optional[int] = None,
        ordered: bool = False,
    ) -> RunSummary:
        """Polls until ``stop`` is set: drains, waits ``interval`` seconds (at least 5 unless
        ``min_poll_interval`` was lowered), repeats.

        Transient errors (network, timeouts, 5xx, 429) are logged and retried with backoff;
        authentication, configuration, not-found, invalid-request (400, 422) and
        invalid-argument errors end the run. A handler error
        leaves its batch unacknowledged for the next cycle; an event that failed
        ``max_attempts`` times goes to ``dead_letter(events, reason)`` and is acknowledged
        once that hook returns. Events that failed before are retried one at a time, so that
        one poison event cannot hold back the others; ``ordered=True`` keeps queue order
        strictly instead: every batch is handled whole, and nothing is dead-lettered. A handler or hook that returns an awaitable has failed (the
        coroutine is closed, nothing is acknowledged). ``stop`` (a ``threading.Event``, or
        anything with ``is_set()``) is checked before the first fetch, so one already set
        makes ``run`` return at once, and then every 100 ms: a wait or fetch in progress is
        abandoned at once; a handler in progress finishes, its batch is acknowledged, and
        ``run`` returns. :meth:`close` stops it the same way. The handler runs on the calling
        thread, so nothing else ends a handler that does not return; Ctrl-C raises
        ``KeyboardInterrupt`` in it.
        Ctrl-C interrupts at once (the batch in hand comes back later).
        """
        _check_sync(handler, "handler")
        if dead_letter is not None:
            _check_sync(dead_letter, "dead_letter")
        if stop is not None and not callable(getattr(stop, "is_set", None)):
            raise InvalidArgumentError(f"stop must be a threading.Event (or have is_set()), got {type_name(stop)}")
        d = self._native.run(
            handler,
            run_options(interval, max_attempts, limit, since, max_events, max_batches, ordered),
            dead_letter,
            stop,
        )
        from ._results import RunSummary

        return RunSummary(**d)

    def health(self) -> Health:
        """Last successful poll, last error, counts, and the ``pending_count`` of the last
        successful fetch. Works after :meth:`close` too."""
        from ._results import Health

        return Health._from_native(self._native.health())

    def close(self) -> None:
        """Closes the client. Calls in flight, from any thread, end at once with
        :class:`CancelledError`; a :meth:`run` in progress stops as if ``stop`` were set
        (the handler in progress finishes and its batch is acknowledged). Later calls raise
        :class:`CancelledError` too, as the core refuses them ("cancelled: the client was
        closed"); :meth:`health` still works. Idempotent."""
        self._native.close()

    def __enter__(self) -> AssessmentClient:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


def _event_ids(ids: Any) -> Any:
    return event_ids(ids)


def _check_sync(fn: Any, what: str) -> None:
    """Refuses an ``async def`` up front. A plain function that returns an awaitable is
    caught when it returns (the native dispatcher fails its batch)."""
    check_callable(fn, what)
    if is_async_callable(fn):
        raise InvalidArgumentError(
            f"{what} is an async function; the blocking AssessmentClient takes plain functions "
            "(use AsyncAssessmentClient for async handlers)"
        )
