# Handwritten type stub of the public API (checked with mypy --strict against the examples).
# The implementations live in the typed modules re-exported here.

from ._async import AsyncAssessmentClient as AsyncAssessmentClient
from ._async import AsyncBatches as AsyncBatches
from ._errors import AuthenticationError as AuthenticationError
from ._errors import CancelledError as CancelledError
from ._errors import ConfigurationError as ConfigurationError
from ._errors import DecodeError as DecodeError
from ._errors import HandlerError as HandlerError
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import InvalidRequestError as InvalidRequestError
from ._errors import NetworkError as NetworkError
from ._errors import NotFoundError as NotFoundError
from ._errors import RateLimitedError as RateLimitedError
from ._errors import ServerError as ServerError
from ._errors import SmartAIError as SmartAIError
from ._errors import SmartAITimeoutError as SmartAITimeoutError
from ._events import AcknowledgeResult as AcknowledgeResult
from ._events import AssessmentCompleted as AssessmentCompleted
from ._events import AssessmentDisqualified as AssessmentDisqualified
from ._events import AssessmentSent as AssessmentSent
from ._events import Candidate as Candidate
from ._events import DrainSummary as DrainSummary
from ._events import Health as Health
from ._events import Proctoring as Proctoring
from ._events import RunSummary as RunSummary
from ._events import SessionToken as SessionToken
from ._events import UnknownEvent as UnknownEvent
from ._events import Verification as Verification
from ._events import WebhookEvent as WebhookEvent
from ._events import WebhookEventBatch as WebhookEventBatch
from ._sync import AssessmentClient as AssessmentClient
from ._sync import Batches as Batches

__version__: str

TimeoutError = SmartAITimeoutError

def mask_api_key(api_key: str) -> str: ...

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
