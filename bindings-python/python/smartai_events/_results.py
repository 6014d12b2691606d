"""The results of calls (acknowledge, drain, run, session, health), as frozen dataclasses.

Kept apart from ``_events`` so that importing the package does not import ``dataclasses``
(and with it ``inspect``); ``_events`` and the package load this module on first use.
``smartai_events._events.DrainSummary`` and the like still resolve (pickles made before the
move load).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from ._events import _time

__all__ = ["AcknowledgeResult", "DrainSummary", "RunSummary", "SessionToken", "Health"]


@dataclass(frozen=True)
class AcknowledgeResult:
    """The result of an acknowledge."""

    acknowledged: int
    """How many events the server removed (already-acknowledged IDs are not counted)."""


@dataclass(frozen=True)
class DrainSummary:
    """What a drain (or a ``batches`` loop) did."""

    batches: int
    """Batches fetched."""
    events: int
    """Events handed out: each once per drain, unless its batch was abandoned (then it is
    handed out, and counted, again)."""
    acknowledged: int
    """Events the server confirmed as removed. An acknowledge the server applied but whose
    answer was lost is sent again, and that retry counts 0 for them: so this can be lower
    than what was handled, with nothing of it left in the queue."""
    pending_count: int
    """``pendingCount`` of the last fetch."""


@dataclass(frozen=True)
class RunSummary:
    """What a ``run`` did before it stopped."""

    cycles: int
    """Drains started."""
    events: int
    """Events handed out, to the handler or to the dead-letter hook. An event handed out
    again (its batch failed, or it is retried alone) counts each time."""
    acknowledged: int
    """Events the server confirmed as removed. An acknowledge the server applied but whose
    answer was lost is sent again, and that retry counts 0 for them: so this can be lower
    than what was handled, with nothing of it left in the queue."""
    errors: int
    """Cycles that ended with an error: a fetch or acknowledge that failed after its retries, a
    handler or dead-letter hook that failed (once per cycle), or an acknowledgement the stop
    grace cut short. ``health().errors`` counts each failed call instead."""


@dataclass(frozen=True)
class SessionToken:
    """A candidate session: ``token`` (a JWT) and ``expires_at`` (ISO-8601 text, if the platform said)."""

    token: str
    expires_at: Optional[str]

    def __repr__(self) -> str:
        # The token is a credential: show its start only.
        return f"SessionToken(token={self.token[:8] + '…'!r}, expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class Health:
    """A snapshot of a client's polling health, for readiness probes and dashboards."""

    last_success_at: Optional[datetime]
    """When a fetch last succeeded."""
    last_error_at: Optional[datetime]
    last_error_code: Optional[str]
    last_error: Optional[str]
    polls: int
    """Successful fetches."""
    pending_count: int
    """``pendingCount`` of the last successful fetch (0 before the first)."""
    events_handled: int
    """Events a handler took: it returned without error."""
    events_acknowledged: int
    events_dead_lettered: int
    errors: int
    """Failed calls since the client was made, each once: a fetch or acknowledge after its last
    retry, a handler or dead-letter hook call (in ``run`` an event retried alone is a call of
    its own), an acknowledgement a stopped ``run`` left unfinished. It can exceed a run's
    ``errors``, which counts failed cycles."""
    consecutive_failures: int
    """Failures since the queue last moved (an acknowledge succeeded, or a fetch found nothing
    to handle). A fetch that brings events does not end the count, so it keeps growing while
    every batch fails in the handler or at the acknowledge; 0 when healthy."""

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> Health:
        d = dict(d)
        d["last_success_at"] = _time(d["last_success_at"])
        d["last_error_at"] = _time(d["last_error_at"])
        return cls(**d)
