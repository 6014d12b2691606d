"""The documented flow (fetch, save, acknowledge) and typed events."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import smartai_events as se
from smartai_events.testing import Emulator

from conftest import SEED_EVENT, seed_event


def test_seed_flow_blocking(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.enqueue([SEED_EVENT, seed_event(eventId="evt_2", storedAt="2026-06-09T10:32:00.000Z")])
    batch = client.get_webhook_events(limit=50)
    assert len(batch) == 2 and batch.pending_count == 0
    saved: dict[str, dict[str, Any]] = {}
    for event in batch.events:
        saved[event["eventId"]] = event.to_dict()  # the docs' Python style
    assert saved["evt_01J9XYZABC"] == SEED_EVENT
    result = client.acknowledge_webhook_events([e["eventId"] for e in batch.events])
    assert result == se.AcknowledgeResult(acknowledged=2)
    assert emu.pending_ids() == []
    # Acknowledging again is silently skipped.
    assert client.acknowledge_webhook_events(["evt_01J9XYZABC"]).acknowledged == 0


async def test_seed_flow_async(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.enqueue([SEED_EVENT])
    batch = await aclient.get_webhook_events()
    (event,) = batch.events
    assert isinstance(event, se.AssessmentCompleted) and isinstance(event, se.WebhookEvent)
    assert event.event_id == "evt_01J9XYZABC"
    assert event.event_type == "assessment.completed"
    assert event.candidate_name == "Priya Sharma"
    assert event.candidate_email == "priya@example.com"
    assert event.score == 78 and event.total_marks == 100 and event.pass_marks == 60 and event.passed
    assert event.status == "completed"
    assert event.duration_minutes == 45
    assert event.ai_feedback is None
    assert event.stored_at == datetime(2026, 6, 9, 10, 31, tzinfo=timezone.utc)
    assert event.submitted_at == datetime(2026, 6, 9, 10, 30, tzinfo=timezone.utc)
    assert event.stored_at.tzinfo is not None
    assert event.proctoring is not None and event.proctoring.violation_count == 2
    assert event.proctoring.score == 88
    assert event.verification is None
    assert event.report_url == "https://platform.smartai.app/reports/evt_01J9XYZABC"
    assert (await aclient.acknowledge_webhook_events(batch.events)).acknowledged == 1
    assert emu.stats()["pending"] == 0


def test_environment_and_since(emu: Emulator, client: se.AssessmentClient) -> None:
    assert client.environment == "test"
    emu.enqueue([seed_event(eventId="old", storedAt="2026-01-01T00:00:00Z"), seed_event(eventId="new")])
    since = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert [e.event_id for e in client.get_webhook_events(since=since)] == ["new"]
    ms = int(since.timestamp() * 1000)
    assert [e.event_id for e in client.get_webhook_events(since=ms)] == ["new"]


def test_create_session(emu: Emulator, client: se.AssessmentClient) -> None:
    token = client.create_session([{"name": "A", "email": "a@b.com"}], recruiter_email="r@b.com")
    assert token.token.count(".") == 2  # a JWT
    assert token.token not in repr(token)


def test_event_types_and_unknown_fields(emu: Emulator, client: se.AssessmentClient) -> None:
    sent = {
        "eventId": "s1",
        "event": "assessment.sent",
        "storedAt": "2026-06-09T10:31:00Z",
        "assessmentId": "a",
        "assessmentUrl": "https://x",
        "keyId": "k",
        "orgId": "o",
        "jobTitle": "J",
        "candidates": [{"id": "c", "name": "Zoë", "email": "z@x", "phone": "1"}],
        "totalCandidates": 1,
        "brandNew": {"x": [1, 2]},
    }
    disq = seed_event(eventId="d1", event="assessment.disqualified")
    disq["proctoring"]["tabSwitches"] = 4
    unknown = {"eventId": "u1", "event": "assessment.reviewed", "storedAt": "2026-06-09T10:31:00Z", "k": 1}
    broken = seed_event(eventId="b1", score="seventy")
    emu.enqueue([sent, disq, unknown, broken])
    events = {e.event_id: e for e in client.get_webhook_events()}
    s = events["s1"]
    assert isinstance(s, se.AssessmentSent)
    assert s.candidates[0].name == "Zoë" and s.candidates[0].extra == {"phone": "1"}
    assert s.total_candidates == 1 and s["brandNew"] == {"x": [1, 2]}
    assert s.to_dict() == sent
    d = events["d1"]
    assert isinstance(d, se.AssessmentDisqualified) and not isinstance(d, se.AssessmentCompleted)
    assert d.proctoring is not None and d.proctoring.extra == {"tabSwitches": 4}
    u = events["u1"]
    assert isinstance(u, se.UnknownEvent) and u.decode_error is None and u.event_type == "assessment.reviewed"
    assert u.get("k") == 1
    b = events["b1"]
    assert isinstance(b, se.UnknownEvent)
    assert b.event_type == "assessment.completed"
    assert b.decode_error is not None and "seventy" in b.decode_error
    assert json.loads(json.dumps(b.to_dict()))["score"] == "seventy"


def test_generated_events_roundtrip(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(60)
    batch = client.get_webhook_events(limit=100)
    assert len(batch) == 60
    for event in batch:
        assert json.loads(json.dumps(event.to_dict())) == event.to_dict()
        assert event.event_id
        assert isinstance(event.stored_at, datetime)
        if isinstance(event, (se.AssessmentCompleted, se.AssessmentDisqualified)):
            assert isinstance(event.candidate_name, str)
            assert event.submitted_at is None or event.submitted_at.tzinfo is not None


def test_create_session_takes_any_iterable_of_users(emu: Emulator, client: se.AssessmentClient) -> None:
    # create_session(users: Iterable[...]): a generator is an iterable too.
    users = ({"name": n, "email": f"{n.lower()}@b.com"} for n in ["A", "B"])
    token = client.create_session(users, recruiter_email="r@b.com")
    assert token.token
