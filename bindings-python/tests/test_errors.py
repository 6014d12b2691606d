"""Each error code, from real HTTP responses of the emulator's fault injection."""

from __future__ import annotations

import builtins

import pytest

import smartai_events as se
from smartai_events.testing import Emulator


def make(emu: Emulator, **kw: object) -> se.AssessmentClient:
    return se.AssessmentClient(**emu.client_kwargs(**kw))


def test_400_invalid_request(emu: Emulator) -> None:
    emu.add_fault("status", status=400, endpoint="fetch")
    with pytest.raises(se.InvalidRequestError) as info:
        make(emu).get_webhook_events()
    err = info.value
    assert err.code == "INVALID_REQUEST" and err.status == 400
    assert err.request_id and err.server_message
    assert len(emu.request_log()) == 1  # not retried


def test_401_authentication(emu: Emulator) -> None:
    emu.add_fault("status", status=401, endpoint="fetch")
    with pytest.raises(se.AuthenticationError) as info:
        make(emu).get_webhook_events()
    assert info.value.code == "AUTHENTICATION" and info.value.status == 401
    assert str(info.value).startswith("HTTP 401 from SmartAI platform")


def test_wrong_secret_is_authentication(emu: Emulator) -> None:
    client = se.AssessmentClient(emu.api_key, "wc_sk_test_wrong", emu.url, min_poll_interval=0)
    with pytest.raises(se.AuthenticationError):
        client.get_webhook_events()


def test_404_not_found(emu: Emulator) -> None:
    # The emulator serves exactly the platform's paths, so a stray path is a real 404.
    client = se.AssessmentClient(**emu.client_kwargs(base_url=emu.url + "/api/v1"))
    with pytest.raises(se.NotFoundError) as info:
        client.get_webhook_events()
    assert info.value.code == "NOT_FOUND" and info.value.status == 404
    assert "/api/v1/api/v1/webhook/events" in str(info.value)
    assert len(emu.request_log()) == 1, "not retried"


def test_429_rate_limited_with_retry_after(emu: Emulator) -> None:
    emu.add_fault("status", status=429, retry_after="1", endpoint="fetch")
    with pytest.raises(se.RateLimitedError) as info:
        make(emu, max_retries=0).get_webhook_events()
    err = info.value
    assert err.code == "RATE_LIMITED" and err.status == 429
    assert err.retry_after == pytest.approx(1.0)


def test_503_retried_then_server(emu: Emulator) -> None:
    emu.add_fault("status", status=503, endpoint="fetch")
    with pytest.raises(se.ServerError) as info:
        make(emu, max_retries=2).get_webhook_events()
    assert info.value.code == "SERVER" and info.value.status == 503
    log = emu.request_log()
    assert len(log) == 3
    assert len({entry["request_id"] for entry in log}) == 1  # one logical call


def test_500_retried_then_succeeds(emu: Emulator) -> None:
    emu.generate(3)
    emu.add_fault("status", status=500, endpoint="fetch", times=2)
    assert len(make(emu, max_retries=3).get_webhook_events()) == 3


def test_timeout(emu: Emulator) -> None:
    emu.add_fault("hang", endpoint="fetch")
    with pytest.raises(se.SmartAITimeoutError) as info:
        make(emu, timeout=0.3, max_retries=0).get_webhook_events()
    assert isinstance(info.value, builtins.TimeoutError)
    assert info.value.code == "TIMEOUT"
    assert se.TimeoutError is se.SmartAITimeoutError


def test_reset_is_network(emu: Emulator) -> None:
    emu.add_fault("reset", endpoint="fetch")
    with pytest.raises(se.NetworkError) as info:
        make(emu, max_retries=1).get_webhook_events()
    assert info.value.code == "NETWORK"


def test_malformed_json_is_decode(emu: Emulator) -> None:
    emu.add_fault("malformed_json", endpoint="fetch")
    with pytest.raises(se.DecodeError) as info:
        make(emu).get_webhook_events()
    assert info.value.code == "DECODE"
    assert len(emu.request_log()) == 1  # not retried


async def test_errors_async(emu: Emulator) -> None:
    emu.add_fault("status", status=503, endpoint="acknowledge")
    client = se.AsyncAssessmentClient(**emu.client_kwargs(max_retries=0))
    with pytest.raises(se.ServerError):
        await client.acknowledge_webhook_events(["a"])


def test_connection_refused_is_network() -> None:
    client = se.AssessmentClient("wc_ak_test_0123456789", "s", "http://127.0.0.1:9", max_retries=0)
    with pytest.raises(se.NetworkError):
        client.get_webhook_events()


def test_error_classes() -> None:
    assert issubclass(se.InvalidArgumentError, ValueError)
    assert issubclass(se.SmartAITimeoutError, builtins.TimeoutError)
    codes = {
        cls.code
        for cls in (
            se.InvalidArgumentError,
            se.ConfigurationError,
            se.AuthenticationError,
            se.RateLimitedError,
            se.InvalidRequestError,
            se.NotFoundError,
            se.ServerError,
            se.SmartAITimeoutError,
            se.NetworkError,
            se.DecodeError,
            se.HandlerError,
            se.CancelledError,
        )
    }
    assert len(codes) == 12 and "CANCELLED" in codes
