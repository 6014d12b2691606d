"""Drain the queue with an async handler: each batch is acknowledged only after the
handler returned, so a crash re-delivers it (at-least-once).

    python examples/drain.py --emulator
"""

from __future__ import annotations

import asyncio
import sys

from smartai_events import (
    AssessmentCompleted,
    AssessmentDisqualified,
    AssessmentSent,
    AsyncAssessmentClient,
    HandlerError,
    UnknownEvent,
    WebhookEvent,
)


async def handle(events: list[WebhookEvent]) -> None:
    for event in events:
        if isinstance(event, AssessmentCompleted):
            verdict = "passed" if event.passed else "failed"
            print(f"{event.stored_at:%Y-%m-%d %H:%M} {event.candidate_name}: {event.score:.0f} ({verdict})")
        elif isinstance(event, AssessmentDisqualified):
            violations = event.proctoring.violation_count if event.proctoring else None
            print(f"disqualified: {event.candidate_id} ({violations} violations)")
        elif isinstance(event, AssessmentSent):
            print(f"sent {event.assessment_id} to {len(event.candidates)} candidates")
        elif isinstance(event, UnknownEvent):
            print(f"unknown {event.event_type!r}: {event.decode_error or 'new type'}")
    await asyncio.sleep(0)  # e.g. await your database here


async def main(client: AsyncAssessmentClient) -> int:
    try:
        summary = await client.drain(handle, limit=100)
    except HandlerError as err:
        print(f"handler failed, its batch will come back: {err.__cause__!r}")
        return 1
    print(f"{summary.events} events in {summary.batches} batches, {summary.acknowledged} acknowledged")
    return 0


async def with_emulator() -> int:
    from smartai_events.testing import Emulator

    async with Emulator(initial_events=150) as emu:
        async with AsyncAssessmentClient(**emu.client_kwargs()) as client:
            return await main(client)


if __name__ == "__main__":
    if "--emulator" in sys.argv:
        sys.exit(asyncio.run(with_emulator()))
    sys.exit(asyncio.run(main(AsyncAssessmentClient())))
