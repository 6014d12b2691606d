"""A blocking poller (no asyncio), stopped by SIGTERM, Ctrl-C or ``--seconds N`` through a
``threading.Event``. Handlers run on the calling thread, so thread-bound resources such as
a sqlite connection work as usual.

    python examples/blocking_poller.py --emulator --seconds 2
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import threading
from types import FrameType
from typing import Optional

from smartai_events import AssessmentClient, WebhookEvent


def main(client: AssessmentClient, seconds: Optional[float], interval: float) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE events (event_id TEXT PRIMARY KEY, body TEXT)")
    stop = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if seconds is not None:
        threading.Timer(seconds, stop.set).start()

    def handle(events: list[WebhookEvent]) -> None:
        import json

        db.executemany(
            "INSERT OR IGNORE INTO events VALUES (?, ?)",
            [(e.event_id, json.dumps(e.to_dict())) for e in events],
        )
        db.commit()

    summary = client.run(handle, interval=interval, stop=stop)
    (count,) = db.execute("SELECT count(*) FROM events").fetchone()
    print(f"stopped: {summary.cycles} cycles, {summary.acknowledged} acknowledged, {count} rows saved")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--interval", type=float, default=30.0)
    args = parser.parse_args()
    if args.emulator:
        from smartai_events.testing import Emulator

        with Emulator(initial_events=40, rate_limit=False) as emu:
            main(AssessmentClient(**emu.client_kwargs(min_poll_interval=1.0)), args.seconds, 1.0)
    else:
        main(AssessmentClient(), args.seconds, args.interval)
