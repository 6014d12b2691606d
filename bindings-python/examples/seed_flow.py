"""The platform documentation's flow, in Python: fetch, save, then acknowledge.

    ASSESSMENT_API_KEY=... ASSESSMENT_SECRET_KEY=... python examples/seed_flow.py
    python examples/seed_flow.py --emulator      # against an in-process emulator
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from smartai_events import AssessmentClient


def save_to_your_database(db: sqlite3.Connection, event: dict[str, Any]) -> None:
    # Idempotent: an event may be delivered again if the acknowledge is lost.
    db.execute(
        "INSERT INTO events (event_id, type, candidate) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id) DO NOTHING",
        (event["eventId"], event["event"], event.get("candidateName")),
    )


def main(client: AssessmentClient) -> int:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE events (event_id TEXT PRIMARY KEY, type TEXT, candidate TEXT)")

    batch = client.get_webhook_events(limit=50)
    print(f"Got {len(batch.events)} events, {batch.pending_count} still pending")
    for event in batch.events:
        save_to_your_database(db, event.to_dict())
    db.commit()  # save first...
    if batch.events:
        result = client.acknowledge_webhook_events([e["eventId"] for e in batch.events])  # ...acknowledge second
        print(f"Acknowledged {result.acknowledged}")
    return 0


if __name__ == "__main__":
    if "--emulator" in sys.argv:
        from smartai_events.testing import Emulator

        with Emulator(initial_events=60) as emu:
            sys.exit(main(AssessmentClient(**emu.client_kwargs())))
    sys.exit(main(AssessmentClient()))
