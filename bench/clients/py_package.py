"""The Python package draining the emulator: `AsyncAssessmentClient.drain` (mode `async`)
or the blocking `AssessmentClient.drain` (mode `blocking`), a no-op handler touching each
event's ID.

    python py_package.py async|blocking URL API_KEY SECRET_KEY EXPECTED

Prints one JSON line {"events": n, "batches": b, "seconds": s} (the drain alone).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import smartai_events as se


def main() -> int:
    mode, url, api_key, secret_key, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    kwargs = {"api_key": api_key, "secret_key": secret_key, "base_url": url, "min_poll_interval": 0.0}
    sink = 0

    if mode == "async":
        client = se.AsyncAssessmentClient(**kwargs)

        async def ahandler(events: list[se.WebhookEvent]) -> None:
            nonlocal sink
            for e in events:
                sink += len(e.event_id)

        started = time.perf_counter()
        summary = asyncio.run(client.drain(ahandler, limit=100))
        seconds = time.perf_counter() - started
    elif mode == "blocking":
        bclient = se.AssessmentClient(**kwargs)

        def handler(events: list[se.WebhookEvent]) -> None:
            nonlocal sink
            for e in events:
                sink += len(e.event_id)

        started = time.perf_counter()
        summary = bclient.drain(handler, limit=100)
        seconds = time.perf_counter() - started
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    print(json.dumps({"events": summary.events, "batches": summary.batches, "seconds": seconds}))
    return 0 if summary.events == expected and sink > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
