"""The secret key never shows; the API key is masked; tracing records reach `logging`."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

import smartai_events as se
from smartai_events.testing import Emulator

from conftest import API_KEY, SECRET


def test_secret_absent_everywhere(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="smartai_events")
    texts: list[str] = []
    client = se.AssessmentClient(**emu.client_kwargs(max_retries=1))
    aclient = se.AsyncAssessmentClient(**emu.client_kwargs())
    texts += [repr(client), str(client), repr(aclient), repr(emu), repr(client.health())]
    emu.generate(5)
    client.drain(lambda e: None)
    emu.add_fault("status", status=503, endpoint="fetch")
    with pytest.raises(se.ServerError) as info:
        client.get_webhook_events()
    texts += [str(info.value), repr(info.value), repr(pickle.loads(pickle.dumps(info.value)))]
    emu.clear_faults()
    wrong = se.AssessmentClient(API_KEY, SECRET + "x", emu.url, min_poll_interval=0)
    with pytest.raises(se.AuthenticationError) as auth:
        wrong.get_webhook_events()
    texts += [str(auth.value), repr(wrong)]
    with pytest.raises(se.ConfigurationError) as cfg:
        se.AssessmentClient(API_KEY, SECRET, "http://example.com")
    texts.append(str(cfg.value))
    with pytest.raises(se.InvalidArgumentError) as bad:
        se.AssessmentClient(API_KEY, SECRET, timeout="x")  # type: ignore[arg-type]
    texts.append(str(bad.value))
    texts.append(caplog.text)
    assert caplog.records, "the logging bridge forwarded nothing"
    for text in texts:
        assert SECRET not in text
        assert API_KEY not in text
    assert se.mask_api_key(API_KEY) in repr(client)
    assert se.mask_api_key(API_KEY) == "wc_ak_test_…abcd"


def test_logging_bridge_levels(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    emu.enqueue([{"eventId": "bad1", "event": "assessment.completed", "storedAt": "2026-11-01T00:00:00Z"}])
    client = se.AssessmentClient(**emu.client_kwargs())
    caplog.set_level(logging.ERROR, logger="smartai_events")
    client.get_webhook_events()
    assert not [r for r in caplog.records if r.name == "smartai_events"]
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="smartai_events")
    client.get_webhook_events()
    records = [r for r in caplog.records if r.name == "smartai_events"]
    assert records and records[0].levelno == logging.WARNING
    assert "did not decode" in records[0].getMessage() and "bad1" in records[0].getMessage()
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="smartai_events")
    client.get_webhook_events()
    assert any(r.levelno == logging.DEBUG for r in caplog.records if r.name == "smartai_events")


def test_no_payloads_at_info(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smartai_events")
    emu.generate(20)
    client = se.AssessmentClient(**emu.client_kwargs())
    emails = [e.candidate_email for e in client.get_webhook_events(limit=100) if isinstance(e, se.AssessmentCompleted)]
    stop_after_one = iter([1])
    import threading

    stop = threading.Event()

    def handler(events: list[se.WebhookEvent]) -> None:
        next(stop_after_one, None)
        stop.set()

    client.run(handler, interval=0.1, stop=stop)
    assert emails
    for email in emails:
        assert email not in caplog.text


def _renderings(value: object) -> list[str]:
    out = [repr(value), str(value)]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        out.append(repr(to_dict()))
    if isinstance(value, BaseException):
        out += [repr(value.args), repr(value.__cause__), repr(pickle.loads(pickle.dumps(value)))]
    return out


def test_secret_absent_from_every_object_and_error(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    """Every value the package hands out, and an error of every code, rendered every way."""
    import socket
    import threading

    caplog.set_level(5, logger="smartai_events")
    shown: list[tuple[str, object]] = []
    client = se.AssessmentClient(**emu.client_kwargs(max_retries=1, timeout=0.5))
    shown.append(("client", client))
    emu.generate(12)
    batch = client.get_webhook_events(limit=5)
    shown += [("batch", batch)] + [("event", e) for e in batch.events]
    shown.append(("ack", client.acknowledge_webhook_events([e.event_id for e in batch.events])))
    shown.append(("session", client.create_session([{"name": "Ada", "email": "ada@example.com"}], recruiter_id="r1")))
    with client.batches(limit=2) as batches:
        shown.append(("iterator", batches))
        for page in batches:
            shown.append(("iterator batch", page))
            break
    shown.append(("drain summary", client.drain(lambda events: None)))
    shown.append(("health", client.health()))

    def error_of(call: Any) -> BaseException:
        with pytest.raises(se.SmartAIError) as info:
            call()
        return info.value

    emu.add_fault("status", status=500, endpoint="fetch", times=2)
    shown.append(("server", error_of(client.get_webhook_events)))
    emu.add_fault("malformed_json", endpoint="fetch", times=1)
    shown.append(("decode", error_of(client.get_webhook_events)))
    emu.add_fault("status", status=429, retry_after="0", endpoint="fetch", times=2)
    shown.append(("rate limited", error_of(client.get_webhook_events)))
    emu.add_fault("hang", endpoint="fetch", times=2)
    shown.append(("timeout", error_of(client.get_webhook_events)))
    emu.clear_faults()
    shown.append(("invalid argument", error_of(lambda: client.get_webhook_events(limit=0))))
    emu.generate(3)

    def fail(events: list[se.WebhookEvent]) -> None:
        raise RuntimeError("the store refused it")

    shown.append(("handler", error_of(lambda: client.drain(fail))))
    emu.add_fault("hang", endpoint="fetch", times=1)
    threading.Timer(0.2, client.close).start()
    shown.append(("cancelled", error_of(client.get_webhook_events)))

    wrong = se.AssessmentClient(API_KEY, SECRET + "x", emu.url, min_poll_interval=0)
    shown += [("wrong-secret client", wrong), ("authentication", error_of(wrong.get_webhook_events))]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unreachable = se.AssessmentClient(API_KEY, SECRET, f"http://127.0.0.1:{port}", max_retries=0)
    shown.append(("network", error_of(unreachable.get_webhook_events)))
    for base_url in ["http://example.com", "not a url", "ftp://127.0.0.1"]:
        shown.append((f"configuration {base_url}", error_of(lambda: se.AssessmentClient(API_KEY, SECRET, base_url))))

    codes = {e.code for _, e in shown if isinstance(e, se.SmartAIError)}
    for code in ["SERVER", "DECODE", "RATE_LIMITED", "TIMEOUT", "INVALID_ARGUMENT", "HANDLER", "CANCELLED",
                 "AUTHENTICATION", "NETWORK", "CONFIGURATION"]:
        assert code in codes, f"no {code} error was rendered ({codes})"
    texts = [(label, text) for label, value in shown for text in _renderings(value)]
    texts.append(("logs", caplog.text))
    assert caplog.records, "the logging bridge forwarded nothing"
    for label, text in texts:
        assert SECRET not in text, f"the secret key shows in {label}: {text.replace(SECRET, '<SECRET>')}"
        assert API_KEY not in text, f"the full API key shows in {label}"
