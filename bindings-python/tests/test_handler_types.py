"""Handlers that return what their store returns: accepted by the types (this file is
checked by ``mypy --strict``) and by both clients at run time, which ignore the value."""

from __future__ import annotations

import smartai_events as se
from smartai_events.testing import Emulator


class Store:
    def __init__(self) -> None:
        self.rows: list[str] = []

    def insert_many(self, events: list[se.WebhookEvent]) -> int:
        self.rows.extend(e.event_id for e in events)
        return len(events)

    async def insert_many_async(self, events: list[se.WebhookEvent]) -> dict[str, int]:
        return {"inserted": self.insert_many(events)}


async def test_async_handlers_may_return_a_value(emu: Emulator) -> None:
    emu.generate(7)
    store = Store()
    async with se.AsyncAssessmentClient(**emu.client_kwargs()) as client:
        summary = await client.drain(store.insert_many_async, limit=3)
        emu.generate(2)
        summary2 = await client.drain(store.insert_many)
    assert (summary.acknowledged, summary2.acknowledged) == (7, 2)
    assert len(store.rows) == 9 and emu.pending_ids() == []


def test_blocking_handlers_may_return_a_value(emu: Emulator) -> None:
    emu.generate(4)
    store = Store()
    with se.AssessmentClient(**emu.client_kwargs()) as client:
        summary = client.drain(store.insert_many, limit=3)
    assert summary.acknowledged == 4 and len(store.rows) == 4
