"""Event objects: equality, pickling, repr, dict access."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

import smartai_events as se
from smartai_events.testing import Emulator

from conftest import SEED_EVENT, seed_event


@pytest.fixture
def events(emu: Emulator, client: se.AssessmentClient) -> list[se.WebhookEvent]:
    emu.enqueue([SEED_EVENT, seed_event(eventId="e2"), {"eventId": "u", "event": "x.y"}])
    emu.generate(20)
    return client.get_webhook_events(limit=100).events


def test_pickle_and_equality(events: list[se.WebhookEvent], client: se.AssessmentClient) -> None:
    for event in events:
        clone = pickle.loads(pickle.dumps(event))
        assert clone == event and type(clone) is type(event)
        assert clone.stored_at == event.stored_at
        assert hash(clone) == hash(event)
        assert copy.deepcopy(event) == event
    assert events[0] != events[1]
    again = client.get_webhook_events(limit=100).events
    assert again == events  # fetched twice, equal by value
    batch = client.get_webhook_events(limit=100)
    assert pickle.loads(pickle.dumps(batch)) == batch


def test_repr_is_short_and_private(events: list[se.WebhookEvent]) -> None:
    for event in events:
        text = repr(event)
        assert len(text) < 200
        assert "@" not in text
        assert event.event_id in text
    assert all("priya@example.com" not in repr(e) for e in events)


def test_dict_access(events: list[se.WebhookEvent]) -> None:
    first = next(e for e in events if e.event_id == "evt_01J9XYZABC")
    assert first["eventId"] == "evt_01J9XYZABC"
    assert first.get("missing", 5) == 5
    assert "candidateName" in first
    with pytest.raises(KeyError):
        first["nope"]
    d = first.to_dict()
    d["candidateName"] = "changed"
    assert first["candidateName"] == "Priya Sharma"  # to_dict is a copy
    assert json.loads(json.dumps(first.to_dict())) == SEED_EVENT


def test_integers_of_any_size_stay_exact(emu: Emulator, client: se.AssessmentClient) -> None:
    numbers = {"i64": -(2**63), "u64": 2**63 + 5, "beyond": 2**70 + 1, "float": 0.1, "exp": 1e300}
    emu.enqueue([{"eventId": "n", "event": "x.y", "storedAt": "2026-06-09T10:31:00.000Z", **numbers}])
    event = client.get_webhook_events().events[0]
    for key, value in numbers.items():
        assert event[key] == value and type(event[key]) is type(value), (key, event[key])
    assert {k: event.to_dict()[k] for k in numbers} == numbers


def test_results_are_typed(events: list[se.WebhookEvent]) -> None:
    s = se.DrainSummary(batches=1, events=2, acknowledged=2, pending_count=0)
    assert pickle.loads(pickle.dumps(s)) == s


def test_unknown_event_that_is_not_an_object() -> None:
    # The core delivers a non-object event as UnknownEvent with its decode problem; the
    # Python side must cope with its raw JSON being null or a number.
    from smartai_events._events import _events

    class Source:
        def get(self, index: int) -> object:
            return [None, 42][index]

    meta = [(3, 0, "", "", None, None, "expected a JSON object, got null"), (3, 1, "", "", None, None, "x")]
    for event in _events(Source(), meta):
        assert isinstance(event, se.UnknownEvent)
        assert event.get("a") is None and event.get("a") is None
        assert event.decode_error
        assert event == event


def test_an_event_that_is_not_an_object_reads_as_an_empty_mapping(
    emu: Emulator, client: se.AssessmentClient
) -> None:
    # The platform's events array may hold a non-object; the core delivers it as
    # UnknownEvent. `in` raised TypeError for null, keys() gave a string's characters, and
    # to_dict() returned None or the string although typed dict.
    values: list[object] = [None, "evt", 7, ["a", "b"], True]
    body = json.dumps({"events": values, "pendingCount": 0})
    emu.add_fault({"kind": {"type": "status", "status": 200, "body": body}, "endpoint": "fetch", "remaining": 1})
    batch = client.get_webhook_events()
    assert len(batch) == len(values)
    for event, value in zip(batch, values):
        assert isinstance(event, se.UnknownEvent) and event.decode_error
        for _ in range(2):  # before and after the JSON is read once
            assert "eventId" not in event and "e" not in event and "a" not in event
            assert event.keys() == []
            assert event.get("eventId") is None and event.get("a", 5) == 5
            with pytest.raises(KeyError):
                event["eventId"]
            assert event.to_dict() == {} and type(event.to_dict()) is dict
            assert event.raw == value and type(event.raw) is type(value)
        assert pickle.loads(pickle.dumps(event)).raw == value
    # The batch still gives back what the server sent.
    assert batch.to_dict() == {"events": values, "pendingCount": 0}


def test_raw_is_a_copy_of_the_events_json(events: list[se.WebhookEvent]) -> None:
    first = next(e for e in events if e.event_id == "evt_01J9XYZABC")
    assert first.raw == SEED_EVENT == first.to_dict()
    first.raw["candidateName"] = "changed"
    assert first["candidateName"] == "Priya Sharma"
    assert first.raw == SEED_EVENT
