"""Fixtures: a real in-process emulator over real HTTP, and clients pointed at it."""

from __future__ import annotations

import copy
from typing import Any, AsyncIterator, Iterator

import pytest

import smartai_events as se
from smartai_events.testing import Emulator

SEED_EVENT: dict[str, Any] = {
    "eventId": "evt_01J9XYZABC",
    "event": "assessment.completed",
    "assessmentId": "asmt_xyz789",
    "candidateId": "cand_abc123",
    "candidateName": "Priya Sharma",
    "candidateEmail": "priya@example.com",
    "assessmentName": "Full Stack Developer Assessment",
    "jobTitle": "Senior Software Engineer",
    "score": 78,
    "totalMarks": 100,
    "passMarks": 60,
    "passed": True,
    "status": "completed",
    "submittedAt": "2026-06-09T10:30:00.000Z",
    "durationMinutes": 45,
    "reportUrl": "https://platform.smartai.app/reports/evt_01J9XYZABC",
    "proctoring": {"score": 88, "violationCount": 2},
    "storedAt": "2026-06-09T10:31:00.000Z",
}

SECRET = "wc_sk_test_TOPSECRET_d41d8cd98f00b204"
API_KEY = "wc_ak_test_py0123456789abcd"


def seed_event(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(SEED_EVENT)
    event.update(changes)
    return event


@pytest.fixture
def emu() -> Iterator[Emulator]:
    config = {"keys": [{"api_key": API_KEY, "secret_key": SECRET}], "retention_ms": 20 * 365 * 86_400_000}
    with Emulator(rate_limit=False, config=config) as e:
        yield e


@pytest.fixture
def client(emu: Emulator) -> Iterator[se.AssessmentClient]:
    with se.AssessmentClient(**emu.client_kwargs(max_retries=6)) as c:
        yield c


@pytest.fixture
async def aclient(emu: Emulator) -> AsyncIterator[se.AsyncAssessmentClient]:
    async with se.AsyncAssessmentClient(**emu.client_kwargs(max_retries=6)) as c:
        yield c
