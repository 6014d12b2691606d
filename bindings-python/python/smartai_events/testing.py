"""Testing helpers: the project's SmartAI emulator, in process, over real HTTP.

Example::

    from smartai_events import AssessmentClient
    from smartai_events.testing import Emulator

    with Emulator(initial_events=25, rate_limit=False) as emu:
        client = AssessmentClient(**emu.client_kwargs())
        emu.add_fault("status", status=503, endpoint="fetch", times=2)  # two 503s, then normal
        summary = client.drain(lambda events: None)
        assert summary.events == 25 and emu.pending_ids() == []

The emulator verifies every signature, keeps a queue per API key, applies the platform's
rate limits (``rate_limit=False`` turns them off) and injects faults. Fault kinds:
``status`` (``status=``, ``retry_after=``, ``body=``), ``latency`` (``ms=``), ``hang``,
``reset``, ``truncate``, ``malformed_json``, ``applied_but_lost``, ``envelope``,
``oversized_body`` (``bytes=``: a 200 body of that many bytes that is not JSON),
``redirect`` (``status=`` 300-399, ``location=``; the client does not follow it). A rule may
be limited to one ``endpoint`` (``fetch``, ``acknowledge``, ``session``), to a number of
``times``, and given a ``probability``.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Mapping, Optional, Sequence, Union

from . import _native

__all__ = ["Emulator"]

_RULE_KEYS = ("endpoint", "probability", "remaining", "times")


_LIMITS_OFF: dict[str, Any] = {"idle_poll_interval_ms": None, "bucket": None}


def _refuse_rate_limit(what: str, value: Any, default: str, settings: str) -> TypeError:
    # None in particular: it could mean the limits off or the defaults, so it is refused,
    # as Node refuses setRateLimit(null).
    return TypeError(
        f"{what} must be True, False or a mapping, got {value!r}: pass False to turn the limits off, "
        f"True ({default}) for the platform's defaults, or {settings}"
    )


def _rule(rule: Union[str, Mapping[str, Any], None], params: Mapping[str, Any]) -> dict[str, Any]:
    """A FaultRule as JSON, from ``("status", status=503, endpoint="fetch", times=2)``
    or ``{"kind": {"type": "status", "status": 503}, "endpoint": "fetch", "remaining": 2}``."""
    if isinstance(rule, Mapping):
        out = dict(rule)
        out.update(params)
    else:
        out = dict(params)
        kind: dict[str, Any] = {"type": rule if rule is not None else out.pop("type")}
        for key in list(out):
            if key not in _RULE_KEYS and key != "kind":
                kind[key] = out.pop(key)
        out.setdefault("kind", kind)
    if "times" in out:
        out["remaining"] = out.pop("times")
    if isinstance(out.get("kind"), str):
        out["kind"] = {"type": out["kind"]}
    return out


class Emulator:
    """An in-process SmartAI emulator (a context manager and an async context manager).

    Args:
        initial_events: generated events enqueued at start.
        seed: seed of the event generator and of the fault dice.
        rate_limit: ``True`` for the platform's limits (default), ``False`` to turn both
            off, or a dict such as ``{"idle_poll_interval_ms": 5000, "bucket": None}``.
            Anything else, ``None`` included, raises ``TypeError``.
        config: any other ``EmulatorConfig`` field (``keys``, ``retention_ms``,
            ``timestamp_window_ms``, ``clock_offset_ms``, ``acknowledged_history``,
            ``path_prefix`` (serve the platform's paths under a gateway path such as
            ``"/gw"``; by default they are exactly the platform's), ``port``...). Any
            other key raises ``ValueError`` naming it, so that a misspelt option is not
            left at its default.
    """

    def __init__(
        self,
        *,
        initial_events: int = 0,
        seed: int = 42,
        rate_limit: Union[bool, Mapping[str, Any]] = True,
        config: Optional[Mapping[str, Any]] = None,
    ) -> None:
        cfg: dict[str, Any] = dict(config or {})
        cfg.setdefault("initial_events", initial_events)
        cfg.setdefault("seed", seed)
        if rate_limit is False:
            cfg["rate_limit"] = dict(_LIMITS_OFF)
        elif isinstance(rate_limit, Mapping):
            cfg["rate_limit"] = dict(rate_limit)
        elif rate_limit is not True:
            # "no" or 0 would otherwise leave the limits on, and the tests fail with 429s.
            raise _refuse_rate_limit("rate_limit", rate_limit, "or leave it out", "a mapping of settings")
        self._native: Any = _native.NativeEmulator(json.dumps(cfg))

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:38211``."""
        return str(self._native.url)

    @property
    def api_key(self) -> str:
        return str(self._native.api_key)

    @property
    def secret_key(self) -> str:
        return str(self._native.secret_key)

    def client_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``AssessmentClient``/``AsyncAssessmentClient``: this
        emulator's URL and keys, ``min_poll_interval=0``, plus ``overrides``."""
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "secret_key": self.secret_key,
            "base_url": self.url,
            "min_poll_interval": 0.0,
        }
        kwargs.update(overrides)
        return kwargs

    def enqueue(self, events: Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]) -> int:
        """Enqueues events (JSON objects): a sequence of them, or a single one (a mapping is
        one event, as in Node's ``enqueue``; its keys are not taken for events).
        ``eventId`` and ``storedAt`` are filled in when missing. Returns how many were added."""
        items = [dict(events)] if isinstance(events, Mapping) else list(events)
        return int(self._native.enqueue(json.dumps(items)))

    def generate(self, n: int) -> int:
        """Enqueues ``n`` realistic generated events (all types, some unknown; at most
        10,000,000 per call); returns how many. A negative or too large ``n`` raises
        ``ValueError`` naming it; a value that is not an integer, ``TypeError``."""
        if isinstance(n, bool):
            raise TypeError(f"generate takes a number of events, got {n!r}")
        return int(self._native.generate(n))

    def add_fault(self, rule: Union[str, Mapping[str, Any], None] = None, /, **params: Any) -> None:
        """Adds a fault rule: ``add_fault("status", status=429, retry_after="1", endpoint="fetch", times=1)``
        or ``add_fault({"kind": {"type": "reset"}, "endpoint": "acknowledge", "remaining": 1})``."""
        self._native.add_fault(json.dumps(_rule(rule, params)))

    def set_faults(self, rules: Sequence[Mapping[str, Any]]) -> None:
        """Replaces all fault rules (each a dict as :meth:`add_fault` takes)."""
        self._native.set_faults(json.dumps([_rule(r, {}) for r in rules]))

    def clear_faults(self) -> None:
        self._native.clear_faults()

    def faults(self) -> list[dict[str, Any]]:
        """The installed rules with their remaining counts."""
        return json.loads(self._native.faults())  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        """Queue statistics: ``pending``, ``enqueued_total``, ``acknowledged_total``,
        ``fetches``, ``acks``, ``rate_limited``, ``auth_failures``..."""
        return json.loads(self._native.stats())  # type: ignore[no-any-return]

    def pending_ids(self) -> list[str]:
        """Unacknowledged event IDs, in queue order."""
        return list(self._native.pending_ids())

    def acknowledged_ids(self) -> list[str]:
        """The latest acknowledged event IDs, oldest first (at most the config's
        ``acknowledged_history``, 100,000 by default; :meth:`stats` counts them all)."""
        return list(self._native.acknowledged_ids())

    def request_log(self) -> list[dict[str, Any]]:
        """The requests received (method, path, status, fault, request_id, ...), oldest first."""
        return json.loads(self._native.request_log())  # type: ignore[no-any-return]

    def clear_request_log(self) -> None:
        self._native.clear_request_log()

    def set_clock_offset_ms(self, ms: int) -> None:
        """Shifts the emulator's clock by ``ms`` (clock-skew tests): an integer that fits in
        64 bits (signed); beyond, ``ValueError`` naming it; not an integer, ``TypeError``."""
        self._native.set_clock_offset_ms(ms)

    def set_rate_limit(
        self,
        config: Union[bool, Mapping[str, Any]] = True,
        /,
        **params: Any,
    ) -> None:
        """``set_rate_limit(False)`` turns both limits off, ``set_rate_limit(True)`` (or no
        argument) restores the defaults; or ``set_rate_limit({...})``,
        ``set_rate_limit(idle_poll_interval_ms=1000, bucket={"per_second": 5, "burst": 5})``
        (keyword arguments are laid over what the positional argument gives).

        ``None`` raises ``TypeError``: it could mean the limits off or the defaults (Node's
        ``setRateLimit(null)`` is refused for the same reason)."""
        if config is False:
            cfg: dict[str, Any] = dict(_LIMITS_OFF)
        elif config is True:
            cfg = {}
        elif isinstance(config, Mapping):
            cfg = dict(config)
        else:
            raise _refuse_rate_limit(
                "set_rate_limit's argument", config, "or no argument", "a mapping or keyword arguments of settings"
            )
        cfg.update(params)
        self._native.set_rate_limit(json.dumps(cfg))

    def reset(self) -> None:
        """Empties queues, statistics, the request log and the faults."""
        self._native.reset()

    def close(self) -> None:
        """Stops the server. Idempotent."""
        self._native.close()

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r})"

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    async def __aenter__(self) -> Emulator:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
