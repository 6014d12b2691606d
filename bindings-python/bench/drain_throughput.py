"""Drain throughput: this package versus a plain requests + hmac + json client.

    python bench/drain_throughput.py [--events 5000]

Both drain the same number of generated events from an in-process emulator (rate limits
off), 100 per fetch, acknowledging each batch; the handler reads every event's ID.
Also times the two ways of handing a batch to Python (one JSON text + json.loads, versus
building dicts through the C API).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import requests

import smartai_events as se
from smartai_events import _native
from smartai_events.testing import Emulator


def baseline(emu: Emulator) -> int:
    session = requests.Session()
    secret = emu.secret_key.encode()

    def call(method: str, path: str, body: Any = None, query: str = "") -> Any:
        ts = str(int(time.time() * 1000))
        text = "" if body is None else json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        sig = hmac.new(secret, f"{method}:{path}:{ts}:{text}".encode(), hashlib.sha256).hexdigest()
        headers = {"x-api-key": emu.api_key, "x-timestamp": ts, "x-signature": sig, "accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        r = session.request(method, emu.url + path + query, data=text.encode() if body is not None else None, headers=headers)
        r.raise_for_status()
        return r.json()

    total = 0
    while True:
        data = call("GET", "/api/v1/webhook/events", query="?limit=100")
        ids = [e["eventId"] for e in data["events"]]
        total += len(ids)
        if ids:
            call("POST", "/api/v1/webhook/events/acknowledge", {"eventIds": ids})
        if data["pendingCount"] == 0:
            return total


def ours_blocking(emu: Emulator) -> int:
    client = se.AssessmentClient(**emu.client_kwargs())
    seen = 0

    def handler(events: list[se.WebhookEvent]) -> None:
        nonlocal seen
        for e in events:
            e.event_id
        seen += len(events)

    client.drain(handler, limit=100)
    return seen


def ours_blocking_to_dict(emu: Emulator) -> int:
    client = se.AssessmentClient(**emu.client_kwargs())
    seen = 0

    def handler(events: list[se.WebhookEvent]) -> None:
        nonlocal seen
        for e in events:
            e.to_dict()
        seen += len(events)

    client.drain(handler, limit=100)
    return seen


def ours_async(emu: Emulator) -> int:
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    seen = 0

    async def handler(events: list[se.WebhookEvent]) -> None:
        nonlocal seen
        for e in events:
            e.event_id
        seen += len(events)

    asyncio.run(client.drain(handler, limit=100))
    return seen


def timed(name: str, fn: Any, emu: Emulator, n: int) -> float:
    emu.reset()
    emu.generate(n)
    started = time.perf_counter()
    count = fn(emu)
    elapsed = time.perf_counter() - started
    assert count == n, (name, count)
    rate = n / elapsed
    print(f"{name:<28} {n} events in {elapsed:6.3f} s = {rate:9.0f} events/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    with Emulator(rate_limit=False) as emu:
        base = timed("requests+hmac+json", baseline, emu, args.events)
        blocking = timed("smartai_events (blocking)", ours_blocking, emu, args.events)
        asyn = timed("smartai_events (asyncio)", ours_async, emu, args.events)
        timed("smartai_events (to_dict)", ours_blocking_to_dict, emu, args.events)
        print(f"speed-up: blocking x{blocking / base:.2f}, asyncio x{asyn / base:.2f}")

        emu.reset()
        emu.generate(100)
        client = se.AssessmentClient(**emu.client_kwargs())
        text = json.dumps([e.to_dict() for e in client.get_webhook_events(limit=100)])
        rounds = 200
        t_loads = _native._bench_convert(text, 0, rounds)  # type: ignore[attr-defined]
        t_capi = _native._bench_convert(text, 1, rounds)  # type: ignore[attr-defined]
        print(
            f"batch of 100 to Python: JSON text + json.loads {t_loads / rounds * 1e3:.3f} ms, "
            f"dicts via the C API {t_capi / rounds * 1e3:.3f} ms"
        )


if __name__ == "__main__":
    main()
