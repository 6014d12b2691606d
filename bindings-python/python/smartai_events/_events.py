"""Typed events and results.

Which class an event becomes is decided by the Rust core (its ``WebhookEvent`` enum): the
native module hands over each batch as the events' JSON texts, kept on the Rust side, plus,
per event, the variant the core decoded it as and its timestamps. This module only wraps
those values; it holds no second copy of the decoding rules. Attributes read the original
JSON lazily (one ``json.loads`` of the event's text on first use), so building a batch
costs one small object per event.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# typing, json and dataclasses are not imported at run time: together they cost more
# than the rest of the package's import (`python -X importtime`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional, Sequence, Union, overload

    from ._results import AcknowledgeResult as AcknowledgeResult
    from ._results import DrainSummary as DrainSummary
    from ._results import Health as Health
    from ._results import RunSummary as RunSummary
    from ._results import SessionToken as SessionToken
else:

    def overload(fn):
        return fn

__all__ = [
    "WebhookEvent",
    "AssessmentCompleted",
    "AssessmentDisqualified",
    "AssessmentSent",
    "UnknownEvent",
    "Proctoring",
    "Verification",
    "Candidate",
    "WebhookEventBatch",
    "AcknowledgeResult",
    "DrainSummary",
    "RunSummary",
    "SessionToken",
    "Health",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_RESULTS = ("AcknowledgeResult", "DrainSummary", "RunSummary", "SessionToken", "Health")


def __getattr__(name: str) -> Any:
    # The result classes are dataclasses; they are defined on first use.
    if name in _RESULTS:
        from . import _results

        return getattr(_results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _time(us: Optional[int]) -> Optional[datetime]:
    return None if us is None else _EPOCH + timedelta(microseconds=us)


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _float(value: Any) -> Optional[float]:
    return None if value is None else float(value)


class _JsonObject:
    """Read access to the original camelCase JSON: ``obj["key"]``, ``obj.get(...)``, ``to_dict()``."""

    __slots__ = ()

    @property
    def _raw(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def _mapping(self) -> dict[str, Any]:
        """The object the mapping methods read: the JSON itself, but see :class:`UnknownEvent`."""
        return self._raw

    def __getitem__(self, key: str) -> Any:
        return self._mapping[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a camelCase JSON field, or ``default``."""
        return self._mapping.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._mapping

    def keys(self) -> list[str]:
        """The JSON field names."""
        return list(self._mapping)

    def to_dict(self) -> dict[str, Any]:
        """A copy of the original JSON object, unknown fields included (``json.dumps``-able)."""
        return _copy(self._raw)  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _JsonObject) and type(self) is type(other) and self._raw == other._raw

    def __ne__(self, other: object) -> bool:
        return not self == other


class _Nested(_JsonObject):
    __slots__ = ("_d",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self._d = raw

    @property
    def _raw(self) -> dict[str, Any]:
        return self._d


class Proctoring(_Nested):
    """Proctoring results of an assessment (``event.proctoring``)."""

    __slots__ = ()

    @property
    def score(self) -> Optional[float]:
        return _float(self._raw.get("score"))

    @property
    def violation_count(self) -> Optional[int]:
        return self._raw.get("violationCount")

    @property
    def extra(self) -> dict[str, Any]:
        """Fields not documented yet."""
        return {k: _copy(v) for k, v in self._raw.items() if k not in ("score", "violationCount")}

    def __repr__(self) -> str:
        return f"Proctoring(score={self.score!r}, violation_count={self.violation_count!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Proctoring, (self._d,))


class Verification(_Nested):
    """Identity verification of the candidate (``event.verification``)."""

    __slots__ = ()

    @property
    def image_url(self) -> Optional[str]:
        return self._raw.get("imageUrl")

    @property
    def extra(self) -> dict[str, Any]:
        """Fields not documented yet."""
        return {k: _copy(v) for k, v in self._raw.items() if k != "imageUrl"}

    def __repr__(self) -> str:
        return "Verification(...)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Verification, (self._d,))


class Candidate(_Nested):
    """A candidate an assessment was sent to (``AssessmentSent.candidates``)."""

    __slots__ = ()

    @property
    def id(self) -> str:
        return self._raw["id"]  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self._raw["name"]  # type: ignore[no-any-return]

    @property
    def email(self) -> str:
        return self._raw["email"]  # type: ignore[no-any-return]

    @property
    def extra(self) -> dict[str, Any]:
        """Fields not documented yet."""
        return {k: _copy(v) for k, v in self._raw.items() if k not in ("id", "name", "email")}

    def __repr__(self) -> str:
        return f"Candidate(id={self.id!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Candidate, (self._d,))


class WebhookEvent(_JsonObject):
    """Base class of every event.

    ``event["eventId"]``, ``event.get("jobTitle")`` and ``event.to_dict()`` give the original
    camelCase JSON (unknown fields kept); attributes are snake_case. Events compare by value,
    pickle, and ``json.dumps(event.to_dict())`` round-trips the server's JSON (``event.raw``
    for an :class:`UnknownEvent` whose JSON is not an object).
    """

    # _src: where the raw JSON lives until first needed (a native RawEvents), _d: the raw
    # JSON once converted, _meta: what the core decoded (kind, index, event_id,
    # event_type, stored_at_us, submitted_at_us, decode_error).
    __slots__ = ("_src", "_meta", "_d")
    _src: Any
    _meta: tuple[Any, ...]
    _d: Any

    @property
    def _raw(self) -> dict[str, Any]:
        d: dict[str, Any] = self._d
        if d is None and self._src is not None:
            d = self._d = self._src.get(self._meta[1])
            self._src = None  # do not keep the rest of the batch alive
        return d

    def to_dict(self) -> dict[str, Any]:
        """A copy of the original JSON object, unknown fields included (``json.dumps``-able).
        ``{}`` for an :class:`UnknownEvent` whose JSON is not an object (see :attr:`raw`)."""
        return self.raw  # type: ignore[no-any-return]

    @property
    def raw(self) -> Any:
        """A copy of the event's JSON as the server sent it. The same as :meth:`to_dict`,
        except for an :class:`UnknownEvent` whose JSON is not an object: then the value
        itself (``None``, a ``str``, a number, a ``list``)."""
        if self._d is None and self._src is not None:
            return self._src.get(self._meta[1])  # a new value on every call
        return _copy(self._raw)

    @property
    def event_id(self) -> str:
        """The ID to acknowledge the event with (``""`` for an unknown event without one)."""
        return self._meta[2]  # type: ignore[no-any-return]

    @property
    def event_type(self) -> str:
        """The ``event`` field, such as ``"assessment.completed"``."""
        return self._meta[3]  # type: ignore[no-any-return]

    @property
    def stored_at(self) -> Optional[datetime]:
        """When the platform stored the event (aware, UTC)."""
        return _time(self._meta[4])

    @property
    def decode_error(self) -> Optional[str]:
        """Why the event did not decode (``UnknownEvent`` only); ``None`` otherwise."""
        return self._meta[6]  # type: ignore[no-any-return]

    def __hash__(self) -> int:
        return hash((type(self), self.event_id))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(event_id={self.event_id!r}, stored_at={_iso(self.stored_at)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make, (self._raw, self._meta))


def _iso(t: Optional[datetime]) -> str:
    return "None" if t is None else repr(t.isoformat())


class _AssessmentResult(WebhookEvent):
    """The fields shared by ``assessment.completed`` and ``assessment.disqualified``."""

    __slots__ = ()

    @property
    def stored_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self._meta[4])

    @property
    def assessment_id(self) -> str:
        return self._raw["assessmentId"]  # type: ignore[no-any-return]

    @property
    def candidate_id(self) -> str:
        return self._raw["candidateId"]  # type: ignore[no-any-return]

    @property
    def candidate_name(self) -> str:
        return self._raw["candidateName"]  # type: ignore[no-any-return]

    @property
    def candidate_email(self) -> str:
        return self._raw["candidateEmail"]  # type: ignore[no-any-return]

    @property
    def assessment_name(self) -> Optional[str]:
        return self._raw.get("assessmentName")

    @property
    def job_title(self) -> Optional[str]:
        return self._raw.get("jobTitle")

    @property
    def score(self) -> float:
        return float(self._raw["score"])

    @property
    def total_marks(self) -> float:
        """Documented as always 100."""
        return float(self._raw["totalMarks"])

    @property
    def pass_marks(self) -> float:
        return float(self._raw["passMarks"])

    @property
    def passed(self) -> bool:
        """``score >= pass_marks``, as the platform computed it."""
        return self._raw["passed"]  # type: ignore[no-any-return]

    @property
    def status(self) -> str:
        """``completed``, ``timeout``, ``abandoned`` (``submitted`` has been seen); free text."""
        return self._raw["status"]  # type: ignore[no-any-return]

    @property
    def submitted_at(self) -> Optional[datetime]:
        return _time(self._meta[5])

    @property
    def duration_minutes(self) -> Optional[int]:
        """Whole minutes, at least 1; ``None`` when a start or submit time is missing."""
        return self._raw.get("durationMinutes")

    @property
    def ai_feedback(self) -> Optional[str]:
        """``None`` when first stored: the feedback is generated later."""
        return self._raw.get("aiFeedback")

    @property
    def report_url(self) -> Optional[str]:
        return self._raw.get("reportUrl")

    @property
    def skills(self) -> Optional[list[str]]:
        return self._raw.get("skills")

    @property
    def question_answers(self) -> Optional[list[Any]]:
        """The item shape is not documented, so items stay JSON."""
        return self._raw.get("questionAnswers")

    @property
    def verification(self) -> Optional[Verification]:
        v = self._raw.get("verification")
        return None if v is None else Verification(v)

    @property
    def proctoring(self) -> Optional[Proctoring]:
        p = self._raw.get("proctoring")
        return None if p is None else Proctoring(p)


class AssessmentCompleted(_AssessmentResult):
    """``assessment.completed``: a candidate submitted, or the time ran out."""

    __slots__ = ()


class AssessmentDisqualified(_AssessmentResult):
    """``assessment.disqualified``: the same fields as a completed assessment."""

    __slots__ = ()


class AssessmentSent(WebhookEvent):
    """``assessment.sent``: an assessment was sent to one or more candidates."""

    __slots__ = ()

    @property
    def stored_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self._meta[4])

    @property
    def assessment_id(self) -> str:
        return self._raw["assessmentId"]  # type: ignore[no-any-return]

    @property
    def assessment_url(self) -> Optional[str]:
        return self._raw.get("assessmentUrl")

    @property
    def key_id(self) -> Optional[str]:
        return self._raw.get("keyId")

    @property
    def org_id(self) -> Optional[str]:
        return self._raw.get("orgId")

    @property
    def job_title(self) -> Optional[str]:
        return self._raw.get("jobTitle")

    @property
    def candidates(self) -> list[Candidate]:
        return [Candidate(c) for c in self._raw["candidates"]]

    @property
    def total_candidates(self) -> Optional[int]:
        return self._raw.get("totalCandidates")


class UnknownEvent(WebhookEvent):
    """An event type this SDK does not know, or an event that did not decode (then
    :attr:`decode_error` says why): a known type that does not match its shape, or an event
    of any type whose ``eventId``, ``event`` or ``storedAt`` appears twice (its attributes
    hold the last value, as the platform reads it). The original JSON is kept whole.

    Its JSON may even be something other than an object (``null``, a string): such an
    event reads as an empty mapping (no keys, ``to_dict() == {}``), and :attr:`raw` gives
    the value the server sent."""

    __slots__ = ()

    @property
    def _mapping(self) -> dict[str, Any]:
        d = self._raw
        return d if isinstance(d, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        raw = self.raw
        return raw if isinstance(raw, dict) else {}

    def __repr__(self) -> str:
        return f"UnknownEvent(event_id={self.event_id!r}, event_type={self.event_type!r})"


_CLASSES: tuple[type[WebhookEvent], ...] = (AssessmentCompleted, AssessmentDisqualified, AssessmentSent, UnknownEvent)


def _make(raw: Any, meta: tuple[Any, ...]) -> WebhookEvent:
    event: WebhookEvent = object.__new__(_CLASSES[meta[0]])
    event._src = None
    event._d = raw
    event._meta = meta
    return event


def _events(src: Any, meta: Sequence[tuple[Any, ...]]) -> list[WebhookEvent]:
    """Called by the native module with a batch: ``src`` holds the raw JSON (a native
    ``RawEvents``, read on first use) and ``meta`` the core's decoding of each event (its
    variant, ID, type and timestamps)."""
    classes = _CLASSES
    new = object.__new__
    out: list[WebhookEvent] = []
    append = out.append
    for m in meta:
        event = new(classes[m[0]])
        event._src = src
        event._meta = m
        event._d = None
        append(event)
    return out


def _batch(src: Any, meta: Sequence[tuple[Any, ...]], pending_count: int) -> WebhookEventBatch:
    return WebhookEventBatch(_events(src, meta), pending_count)


class WebhookEventBatch:
    """One fetched batch: ``.events`` and ``.pending_count`` (events still queued after it;
    more than 0 means "fetch again"). Iterable, with ``len()``."""

    __slots__ = ("events", "pending_count")

    def __init__(self, events: list[WebhookEvent], pending_count: int) -> None:
        self.events = events
        self.pending_count = pending_count

    def __iter__(self) -> Iterator[WebhookEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    @overload
    def __getitem__(self, index: int) -> WebhookEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[WebhookEvent]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[WebhookEvent, list[WebhookEvent]]:
        return self.events[index]

    @property
    def event_ids(self) -> list[str]:
        """The IDs of the events, to acknowledge them."""
        return [e.event_id for e in self.events]

    def to_dict(self) -> dict[str, Any]:
        """``{"events": [...], "pendingCount": n}`` as the server sent it."""
        return {"events": [e.raw for e in self.events], "pendingCount": self.pending_count}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, WebhookEventBatch)
            and self.pending_count == other.pending_count
            and self.events == other.events
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"WebhookEventBatch(events=<{len(self.events)} events>, pending_count={self.pending_count})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (WebhookEventBatch, (self.events, self.pending_count))
