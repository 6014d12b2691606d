"""The secret key never shows; the API key is masked; tracing records reach `logging`."""

from __future__ import annotations

import logging
import pickle

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
