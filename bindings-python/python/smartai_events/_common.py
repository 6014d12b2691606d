"""Argument plumbing shared by both clients. Validation itself happens in the Rust core,
which takes the options under their Python names and names them so in its messages."""

from __future__ import annotations

from _thread import RLock, allocate_lock
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone

from . import _native
from ._errors import InvalidArgumentError
from ._events import WebhookEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Union

    Since = Union[int, float, datetime, None]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def since_ms(since: Any) -> Any:
    """An aware ``datetime`` becomes Unix milliseconds; anything else goes to the core as is."""
    if isinstance(since, datetime):
        if since.tzinfo is None or since.utcoffset() is None:
            raise InvalidArgumentError(
                "since must be a timezone-aware datetime, got a naive datetime; "
                "use for example datetime.now(timezone.utc)"
            )
        return (since - _EPOCH) // timedelta(milliseconds=1)
    return since


def event_ids(ids: Any) -> Any:
    """Accepts IDs or events (their ``event_id`` is used), in any iterable. A string, a
    mapping (iterating one gives its keys, not IDs), or anything that is not iterable, goes
    to the core as is, which refuses it."""
    if isinstance(ids, (str, bytes, Mapping)) or not isinstance(ids, Iterable):
        return ids
    return [i.event_id if isinstance(i, WebhookEvent) else i for i in ids]


def not_none(**options: Any) -> None:
    """Refuses ``None`` for the options whose signature does not say ``Optional``. The core
    reads a JSON null as an option left out (for Node's ``undefined``), so without this
    ``timeout=None``, which means "no timeout" in httpx, would silently mean 30 s."""
    for name, value in options.items():
        if value is None:
            why = ": every call has a timeout" if name == "timeout" else ""
            raise InvalidArgumentError(f"{name} must not be None, got None{why}; leave it out for the default")


def fetch_options(limit: Any, since: Any) -> dict[str, Any]:
    not_none(limit=limit)
    return {"limit": limit, "since": since_ms(since)}


def drain_options(limit: Any, since: Any, max_events: Any, max_batches: Any) -> dict[str, Any]:
    not_none(limit=limit)
    return {"limit": limit, "since": since_ms(since), "max_events": max_events, "max_batches": max_batches}


def run_options(
    interval: Any, max_attempts: Any, limit: Any, since: Any, max_events: Any, max_batches: Any, ordered: Any
) -> dict[str, Any]:
    not_none(interval=interval, max_attempts=max_attempts, ordered=ordered)
    opts = drain_options(limit, since, max_events, max_batches)
    opts["interval"] = interval
    opts["max_attempts"] = max_attempts
    opts["ordered"] = ordered
    return opts


def session_request(users: Any, recruiter_id: Any, recruiter_email: Any) -> dict[str, Any]:
    # Any iterable of users (a generator too); a string or a mapping goes to the core as
    # is, which refuses it.
    if isinstance(users, Iterable) and not isinstance(users, (str, bytes, Mapping)):
        users = [_user(u) for u in users]
    return {"users": users, "recruiterId": recruiter_id, "recruiterEmail": recruiter_email}


def _user(user: Any) -> Any:
    # Accept objects with .name/.email (dataclasses, named tuples) as well as dicts.
    if isinstance(user, dict) or not (hasattr(user, "name") and hasattr(user, "email")):
        return user
    return {"name": user.name, "email": user.email}


def type_name(value: Any) -> str:
    """``int``, ``threading.Event``: qualified unless built in, so look-alikes are told apart."""
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def check_callable(fn: Any, what: str) -> None:
    """Refuses what cannot be a handler or hook: not callable, or a generator function, whose
    call would only make a generator and run none of its body."""
    if not callable(fn):
        raise InvalidArgumentError(f"{what} must be callable, got {type(fn).__name__}")
    import inspect  # not at import time: it costs more than the whole package

    for f in (fn, getattr(fn, "__call__", None)):
        if inspect.isgeneratorfunction(f) or inspect.isasyncgenfunction(f):
            raise InvalidArgumentError(
                f"{what} is a generator function: it contains `yield`, so calling it would not "
                f"run its body; a {what} must not yield"
            )


def is_async_callable(fn: Any) -> bool:
    import inspect  # not at import time: it costs more than the whole package

    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


class OneStep:
    """One step at a time on a batches iterator, whatever the thread or task. A second
    ``next`` while one runs would put back the batch the first is bringing (so both callers
    get it), and a ``commit`` would acknowledge it before any loop body has seen it.

    ``per_thread`` (the blocking iterator): the thread that holds the step may take it again.
    A blocking step runs on its caller's thread, so that thread calling again means the last
    step was interrupted (Ctrl-C can land between taking the lock and the ``with`` block
    that gives it back), and it must not lock the iterator for good. Tasks of one event loop
    share a thread, so the asyncio iterator uses a plain lock."""

    def __init__(self, per_thread: bool = False) -> None:
        self._lock = RLock() if per_thread else allocate_lock()

    def __call__(self, what: str) -> OneStep:
        if not self._lock.acquire(False):
            raise InvalidArgumentError(
                f"{what} was called while another call on these batches was still running; "
                "batches are handed out one at a time and asking for the next one acknowledges "
                "the last, so take them in one loop (to share the work, hand events on from it)"
            )
        return self

    def __enter__(self) -> None:
        pass

    def __exit__(self, *_: object) -> None:
        self._lock.release()


class ClientBase:
    """What both clients share: the options they take, the native client they wrap, and how
    they describe themselves. The calls are in the subclasses, blocking or async."""

    def __init__(
        self,
        api_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        min_poll_interval: float = 5.0,
        allow_insecure_http: bool = False,
        connect_timeout: Optional[float] = None,
    ) -> None:
        # The core validates every option and names it by its Python name.
        not_none(
            timeout=timeout,
            max_retries=max_retries,
            min_poll_interval=min_poll_interval,
            allow_insecure_http=allow_insecure_http,
        )
        # Kept after close(): a call on a closed client goes to the core, which refuses it at
        # once with its CancelledError ("cancelled: the client was closed"), as it ends the
        # calls in flight at the close. health() reads it after close too.
        self._native: Any = _native.NativeClient(
            {
                "api_key": api_key,
                "secret_key": secret_key,
                "base_url": base_url,
                "timeout": timeout,
                "connect_timeout": connect_timeout,
                "max_retries": max_retries,
                "min_poll_interval": min_poll_interval,
                "allow_insecure_http": allow_insecure_http,
            }
        )

    @property
    def environment(self) -> str:
        """``"test"`` for a ``wc_ak_test_`` key, ``"live"`` otherwise."""
        return str(self._native.environment)

    @property
    def base_url(self) -> str:
        return str(self._native.base_url)

    def __repr__(self) -> str:
        native = self._native
        return (
            f"{type(self).__name__}(base_url={native.base_url!r}, environment={native.environment!r}, "
            f"api_key={native.api_key_masked!r})"
        )
