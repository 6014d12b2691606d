"""smartai_events: fetch, acknowledge and drain SmartAI assessment events.

Two clients with the same methods: :class:`AsyncAssessmentClient` (asyncio) and the blocking
:class:`AssessmentClient`. Signing, retries, rate limits, validation and event decoding are
done by the Rust core; events arrive as typed classes under :class:`WebhookEvent`.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

from . import _native
from ._errors import (
    AuthenticationError,
    CancelledError,
    ConfigurationError,
    DecodeError,
    HandlerError,
    InvalidArgumentError,
    InvalidRequestError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SmartAIError,
    SmartAITimeoutError,
)
from ._events import (
    AcknowledgeResult,
    AssessmentCompleted,
    AssessmentDisqualified,
    AssessmentSent,
    Candidate,
    DrainSummary,
    Health,
    Proctoring,
    RunSummary,
    SessionToken,
    UnknownEvent,
    Verification,
    WebhookEvent,
    WebhookEventBatch,
)
from ._sync import AssessmentClient, Batches

if TYPE_CHECKING:
    from ._async import AsyncAssessmentClient, AsyncBatches


def __getattr__(name: str) -> Any:
    # The asyncio client is imported on first use: importing asyncio costs more than the
    # rest of the package, and a blocking poller never needs it.
    if name in ("AsyncAssessmentClient", "AsyncBatches"):
        from . import _async

        return getattr(_async, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__version__: str = _native.__version__

TimeoutError = SmartAITimeoutError
"""Alias of :class:`SmartAITimeoutError` (also a subclass of the builtin ``TimeoutError``)."""


def mask_api_key(api_key: str) -> str:
    """Shows an API key as ``wc_ak_test_…1234``."""
    return str(_native.mask_api_key(api_key))


# Stop the core's runtime threads before the interpreter tears itself down.
atexit.register(_native._shutdown)

__all__ = [
    "AsyncAssessmentClient",
    "AssessmentClient",
    "AsyncBatches",
    "Batches",
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
    "SmartAIError",
    "InvalidArgumentError",
    "ConfigurationError",
    "AuthenticationError",
    "RateLimitedError",
    "InvalidRequestError",
    "NotFoundError",
    "ServerError",
    "SmartAITimeoutError",
    "NetworkError",
    "DecodeError",
    "HandlerError",
    "CancelledError",
    "mask_api_key",
    "__version__",
]
