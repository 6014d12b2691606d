"""Exceptions: one class per error code, all under :class:`SmartAIError`."""

from __future__ import annotations

import builtins

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

__all__ = [
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
]


class SmartAIError(Exception):
    """Base class of every error this package raises.

    Attributes:
        code: the stable error code, such as ``"RATE_LIMITED"`` (the same in Rust and Node).
        status: the HTTP status of the response that caused the error, if there was one.
        request_id: the ``x-request-id`` of the call (the same across its retries), if sent.
        retry_after: the server's ``Retry-After`` hint in seconds (rate-limited errors), or None.
        server_message: the message the server put in its error body, if any.
    """

    code: str = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        server_message: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after
        self.server_message = server_message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        extra = f", status={self.status}" if self.status is not None else ""
        return f"{type(self).__name__}({self.message!r}{extra})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (
            _rebuild,
            (self.code, self.message, self.status, self.request_id, self.retry_after, self.server_message),
        )


class InvalidArgumentError(SmartAIError, ValueError):
    """An argument failed client-side validation; nothing was sent. Also a ``ValueError``."""

    code = "INVALID_ARGUMENT"


class ConfigurationError(SmartAIError):
    """Missing keys, a bad base URL, or an insecure ``http://`` URL."""

    code = "CONFIGURATION"


class AuthenticationError(SmartAIError):
    """HTTP 401/403: a wrong key, a wrong secret, or a clock the server does not accept."""

    code = "AUTHENTICATION"


class RateLimitedError(SmartAIError):
    """HTTP 429 after the last retry; ``retry_after`` holds the server's hint in seconds."""

    code = "RATE_LIMITED"


class InvalidRequestError(SmartAIError):
    """HTTP 400/422: the server refused the request."""

    code = "INVALID_REQUEST"


class NotFoundError(SmartAIError):
    """HTTP 404/405, usually a wrong base URL."""

    code = "NOT_FOUND"


class ServerError(SmartAIError):
    """HTTP 5xx (or an unexpected status) after the last retry."""

    code = "SERVER"


class SmartAITimeoutError(SmartAIError, builtins.TimeoutError):
    """An attempt took longer than ``timeout``, after the last retry. Also the builtin ``TimeoutError``."""

    code = "TIMEOUT"


class NetworkError(SmartAIError):
    """Connection refused or reset, or a truncated body, after the last retry."""

    code = "NETWORK"


class DecodeError(SmartAIError):
    """A success status whose body is not the documented JSON."""

    code = "DECODE"


class HandlerError(SmartAIError):
    """Your handler (or dead-letter hook) raised; the original exception is ``__cause__``."""

    code = "HANDLER"


class CancelledError(SmartAIError):
    """The operation was cancelled (the stop signal fired)."""

    code = "CANCELLED"


_BY_CODE: dict[str, type[SmartAIError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        ConfigurationError,
        AuthenticationError,
        RateLimitedError,
        InvalidRequestError,
        NotFoundError,
        ServerError,
        SmartAITimeoutError,
        NetworkError,
        DecodeError,
        HandlerError,
        CancelledError,
    )
}


def _from_native(
    code: str,
    message: str,
    status: Optional[int],
    request_id: Optional[str],
    retry_after: Optional[float],
    server_message: Optional[str],
) -> SmartAIError:
    """Called by the native module to build the exception for a core error."""
    cls = _BY_CODE.get(code, SmartAIError)
    return cls(message, status=status, request_id=request_id, retry_after=retry_after, server_message=server_message)


def _rebuild(
    code: str,
    message: str,
    status: Optional[int],
    request_id: Optional[str],
    retry_after: Optional[float],
    server_message: Optional[str],
) -> SmartAIError:
    return _from_native(code, message, status, request_id, retry_after, server_message)


def _invalid_argument(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message)
