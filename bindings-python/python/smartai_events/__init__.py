"""smartai_events: fetch, acknowledge and drain SmartAI assessment events.

Two clients with the same methods: :class:`AsyncAssessmentClient` (asyncio) and the blocking
:class:`AssessmentClient`. Signing, retries, rate limits, validation and event decoding are
done by the Rust core; events arrive as typed classes under :class:`WebhookEvent`.
"""

import atexit as _atexit

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
    AssessmentCompleted,
    AssessmentDisqualified,
    AssessmentSent,
    Candidate,
    Proctoring,
    UnknownEvent,
    Verification,
    WebhookEvent,
    WebhookEventBatch,
)
from ._sync import AssessmentClient, Batches

# The names a type checker sees are in __init__.pyi; this module only has to provide them.
_LAZY = {
    "AsyncAssessmentClient": "_async",
    "AsyncBatches": "_async",
    "AcknowledgeResult": "_results",
    "DrainSummary": "_results",
    "Health": "_results",
    "RunSummary": "_results",
    "SessionToken": "_results",
}


def __getattr__(name: str) -> object:
    # Imported on first use: the asyncio client (importing asyncio costs more than the rest
    # of the package, and a blocking poller never needs it) and the result dataclasses
    # (dataclasses imports inspect). typing is not imported at all at run time.
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public names, the lazily imported ones included before their first use, public
    # submodules once imported (testing), and the module's own dunders; not its helpers.
    names = {*__all__, "TimeoutError"}
    for name, value in globals().items():
        if (name.startswith("__") and name.endswith("__")) or (
            not name.startswith("_") and isinstance(value, type(_native))
        ):
            names.add(name)
    return sorted(names)


__version__: str = _native.__version__

TimeoutError = SmartAITimeoutError
"""Alias of :class:`SmartAITimeoutError` (also a subclass of the builtin ``TimeoutError``)."""


def mask_api_key(api_key: str) -> str:
    """Shows an API key as ``wc_ak_test_…1234``."""
    return str(_native.mask_api_key(api_key))


# Stop the core's runtime threads before the interpreter tears itself down.
_atexit.register(_native._shutdown)

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
