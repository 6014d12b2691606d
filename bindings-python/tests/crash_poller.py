"""A small real poller, as an application would write one: ``run`` saves every event into a
SQLite file (an upsert on the event ID, committed) before the handler returns, so that a
crash at any point can lose nothing. ``test_crash.py`` SIGKILLs it at random points.

    python crash_poller.py DB_PATH async|blocking

The client is configured from ``ASSESSMENT_API_KEY``, ``ASSESSMENT_SECRET_KEY`` and
``ASSESSMENT_BASE_URL``. SIGTERM stops the poller gracefully (exit 0). Prints ``ready``
once the client is built and the database is open.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
import threading

import smartai_events as se

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    saves INTEGER NOT NULL DEFAULT 1
)
"""

UPSERT = """
INSERT INTO events (event_id, event_type, body) VALUES (?, ?, ?)
ON CONFLICT (event_id) DO UPDATE SET body = excluded.body, saves = saves + 1
"""


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    # Full sync: a commit that returned is on disk, whatever happens to the process next.
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(SCHEMA)
    db.commit()
    return db


def save(db: sqlite3.Connection, events: list[se.WebhookEvent]) -> None:
    rows = [(e.event_id, e.event_type, json.dumps(e.to_dict())) for e in events]
    with db:  # one transaction per batch, committed before the handler returns
        db.executemany(UPSERT, rows)


def client() -> dict[str, object]:
    # Fast cycles and retries so that kills land in every phase of a cycle.
    return {"min_poll_interval": 0.0, "max_retries": 8, "timeout": 10.0}


async def run_async(db: sqlite3.Connection) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with se.AsyncAssessmentClient(**client()) as c:  # type: ignore[arg-type]
        print("ready", flush=True)

        async def handler(events: list[se.WebhookEvent]) -> None:
            save(db, events)

        summary = await c.run(handler, interval=0.05, stop=stop, limit=100)
    print(json.dumps({"events": summary.events, "acknowledged": summary.acknowledged}), flush=True)


def run_blocking(db: sqlite3.Connection) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with se.AssessmentClient(**client()) as c:  # type: ignore[arg-type]
        print("ready", flush=True)
        summary = c.run(lambda events: save(db, events), interval=0.05, stop=stop, limit=100)
    print(json.dumps({"events": summary.events, "acknowledged": summary.acknowledged}), flush=True)


def main() -> None:
    path, flavour = sys.argv[1], sys.argv[2]
    db = open_db(path)
    if flavour == "async":
        asyncio.run(run_async(db))
    else:
        run_blocking(db)
    db.close()


if __name__ == "__main__":
    main()
