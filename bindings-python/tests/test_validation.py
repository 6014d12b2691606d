"""Client-side validation: every error has its code and the core's message, nothing is sent."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import pytest

import smartai_events as se
from smartai_events.testing import Emulator


@pytest.mark.parametrize(
    "limit, fragment",
    [(0, "got 0"), (-1, "got -1"), (1.5, "got 1.5"), ("5", '"5" (a string)'), (True, "true (a boolean)")],
)
def test_bad_limit(emu: Emulator, client: se.AssessmentClient, limit: Any, fragment: str) -> None:
    with pytest.raises(se.InvalidArgumentError) as info:
        client.get_webhook_events(limit=limit)
    err = info.value
    assert err.code == "INVALID_ARGUMENT"
    assert isinstance(err, ValueError) and isinstance(err, se.SmartAIError)
    assert str(err).startswith("limit must be an integer >= 1")
    assert fragment in str(err)
    assert err.status is None and err.request_id is None
    assert emu.request_log() == []  # nothing was sent


def test_limit_nan_and_clamp(emu: Emulator, client: se.AssessmentClient) -> None:
    with pytest.raises(se.InvalidArgumentError, match="finite"):
        client.get_webhook_events(limit=float("nan"))
    client.get_webhook_events(limit=1000)  # clamped to 100
    assert "limit=100" in (emu.request_log()[-1]["query"] or "")


async def test_bad_limit_async(aclient: se.AsyncAssessmentClient) -> None:
    with pytest.raises(se.InvalidArgumentError, match="limit must be an integer >= 1, got -1"):
        await aclient.get_webhook_events(limit=-1)
    with pytest.raises(se.InvalidArgumentError):
        await aclient.drain(lambda e: None, limit=0)


def test_since_in_seconds(client: se.AssessmentClient) -> None:
    with pytest.raises(se.InvalidArgumentError, match="looks like seconds; multiply by 1000"):
        client.get_webhook_events(since=1_717_200_000)
    # A datetime that early arrives as a small number too: the message shows its date.
    from datetime import datetime, timezone

    with pytest.raises(se.InvalidArgumentError, match=r"got 0 \(1970-01-01T00:00:00.000Z\); .*leave since out"):
        client.get_webhook_events(since=datetime(1970, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(se.InvalidArgumentError, match="non-negative"):
        client.get_webhook_events(since=-5)


def test_naive_datetime(client: se.AssessmentClient) -> None:
    with pytest.raises(se.InvalidArgumentError, match="timezone-aware") as info:
        client.get_webhook_events(since=datetime(2026, 1, 1))
    assert info.value.code == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    "ids, message",
    [
        ([], "eventIds must be a non-empty array"),
        ((), "eventIds must be a non-empty array"),
        ("evt_1", 'eventIds must be a non-empty array, got "evt_1" (a string)'),
        (None, "eventIds must be a non-empty array, got null"),
        (5, "eventIds must be a non-empty array, got 5"),
    ],
)
def test_empty_or_wrong_ids(client: se.AssessmentClient, ids: Any, message: str) -> None:
    with pytest.raises(se.InvalidArgumentError) as info:
        client.acknowledge_webhook_events(ids)
    assert str(info.value) == message


@pytest.mark.parametrize("ids, fragment", [(["a", 7], "eventIds[1]"), (["a", ""], "eventIds[1]"), ([None], "eventIds[0]")])
def test_non_string_ids(client: se.AssessmentClient, ids: Any, fragment: str) -> None:
    with pytest.raises(se.InvalidArgumentError) as info:
        client.acknowledge_webhook_events(ids)
    assert fragment in str(info.value) and "must be a non-empty string" in str(info.value)


def test_session_validation(client: se.AssessmentClient) -> None:
    with pytest.raises(se.InvalidArgumentError, match="users must be a non-empty array"):
        client.create_session([], recruiter_id="r")
    with pytest.raises(se.InvalidArgumentError, match="Provide at least one of recruiterId or recruiterEmail"):
        client.create_session([{"name": "A", "email": "a@b.com"}])
    with pytest.raises(se.InvalidArgumentError, match="email is required"):
        client.create_session([{"name": "A"}], recruiter_id="r")


def test_session_refuses_a_value_that_contains_itself(client: se.AssessmentClient) -> None:
    user: dict[str, Any] = {"name": "A", "email": "a@b.com"}
    user["self"] = user
    with pytest.raises(se.InvalidArgumentError, match="users is nested more than 128 levels deep"):
        client.create_session([user], recruiter_id="r")


async def test_session_refuses_a_value_nested_too_deep(aclient: se.AsyncAssessmentClient) -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(se.InvalidArgumentError, match="users is nested more than 128 levels deep"):
        await aclient.create_session([{"name": "A", "email": "a@b.com", "tags": deep}], recruiter_id="r")


def test_bad_base_url() -> None:
    for url in ["ftp://x", "not a url", "https://h/?q=1"]:
        with pytest.raises(se.ConfigurationError) as info:
            se.AssessmentClient("wc_ak_test_0123456789", "s", url)
        assert info.value.code == "CONFIGURATION"
        assert "base URL" in str(info.value)


def test_insecure_http() -> None:
    with pytest.raises(se.ConfigurationError, match="refusing insecure base URL"):
        se.AssessmentClient("wc_ak_test_0123456789", "s", "http://example.com")
    client = se.AssessmentClient("wc_ak_test_0123456789", "s", "http://example.com", allow_insecure_http=True)
    assert client.base_url.startswith("http://example.com")
    se.AssessmentClient("wc_ak_test_0123456789", "s", "http://localhost:1")  # loopback is fine


def test_missing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSESSMENT_API_KEY", raising=False)
    monkeypatch.delenv("ASSESSMENT_SECRET_KEY", raising=False)
    with pytest.raises(se.ConfigurationError) as info:
        se.AssessmentClient(secret_key="s")
    assert str(info.value) == "Missing API key"
    with pytest.raises(se.ConfigurationError, match="^Missing secret key$"):
        se.AsyncAssessmentClient(api_key="wc_ak_test_0123456789")
    monkeypatch.setenv("ASSESSMENT_API_KEY", "wc_ak_live_0123456789")
    monkeypatch.setenv("ASSESSMENT_SECRET_KEY", "s")
    assert se.AssessmentClient().environment == "live"


def test_bad_options() -> None:
    with pytest.raises(se.InvalidArgumentError, match="max_retries"):
        se.AssessmentClient("wc_ak_test_0123456789", "s", max_retries=1.5)  # type: ignore[arg-type]
    with pytest.raises(se.InvalidArgumentError, match="timeout"):
        se.AssessmentClient("wc_ak_test_0123456789", "s", timeout=-1)


def test_run_interval_floor(emu: Emulator) -> None:
    client = se.AssessmentClient(**emu.client_kwargs(min_poll_interval=5.0))
    with pytest.raises(se.InvalidArgumentError, match="interval must be at least 5"):
        client.run(lambda e: None, interval=1.0)


def test_blocking_client_refuses_async_handler(client: se.AssessmentClient) -> None:
    async def handler(events: list[se.WebhookEvent]) -> None:
        pass

    with pytest.raises(se.InvalidArgumentError, match="async"):
        client.drain(handler)


CLIENT_OPTIONS = ["timeout", "max_retries", "min_poll_interval", "allow_insecure_http"]


@pytest.mark.parametrize("cls", [se.AssessmentClient, se.AsyncAssessmentClient])
@pytest.mark.parametrize("option", CLIENT_OPTIONS)
def test_none_for_a_client_option_that_is_not_optional_is_refused(
    emu: Emulator, cls: Any, option: str
) -> None:
    # None was read as "unset" and gave the default: timeout=None, which means "no
    # timeout" in httpx and openai-python, silently became 30 s.
    with pytest.raises(se.InvalidArgumentError) as info:
        cls(**emu.client_kwargs(**{option: None}))
    assert str(info.value).startswith(f"{option} must not be None, got None")
    if option == "timeout":
        assert "every call has a timeout" in str(info.value)
    # Optional options still take None.
    cls(**emu.client_kwargs(connect_timeout=None))


CALLS: list[tuple[str, str]] = [
    ("get_webhook_events", "limit"),
    ("drain", "limit"),
    ("batches", "limit"),
    ("run", "limit"),
    ("run", "interval"),
    ("run", "max_attempts"),
    ("run", "ordered"),
]


def _call(client: Any, method: str, option: str) -> Any:
    kwargs: dict[str, Any] = {option: None}
    if method in ("drain", "run"):
        kwargs["handler"] = lambda events: None
    if method == "run":
        # Already set: a run that accepted the None would return at once, not hang.
        kwargs["stop"] = asyncio.Event() if isinstance(client, se.AsyncAssessmentClient) else threading.Event()
        kwargs["stop"].set()
    return getattr(client, method)(**kwargs)


@pytest.mark.parametrize("method, option", CALLS)
def test_none_for_a_call_option_that_is_not_optional_is_refused(
    emu: Emulator, client: se.AssessmentClient, method: str, option: str
) -> None:
    emu.generate(3)
    with pytest.raises(se.InvalidArgumentError, match=f"^{option} must not be None, got None"):
        _call(client, method, option)
    assert emu.request_log() == []  # nothing was sent
    assert len(emu.pending_ids()) == 3


@pytest.mark.parametrize("method, option", CALLS)
async def test_none_for_a_call_option_that_is_not_optional_is_refused_async(
    emu: Emulator, aclient: se.AsyncAssessmentClient, method: str, option: str
) -> None:
    emu.generate(3)
    with pytest.raises(se.InvalidArgumentError, match=f"^{option} must not be None, got None"):
        result = _call(aclient, method, option)
        if method != "batches":
            await result
    assert emu.request_log() == []
    assert len(emu.pending_ids()) == 3


def test_none_for_an_optional_call_option_still_means_unset(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(3)
    assert len(client.get_webhook_events(since=None)) == 3
    summary = client.drain(lambda events: None, since=None, max_events=None, max_batches=None)
    assert summary.acknowledged == 3
