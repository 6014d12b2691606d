"""Plain-Python baseline: what you would write without this project.

requests.Session + hmac + json, signing per docs/protocol.md (canonical JSON via
json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)), a loop of
GET limit=100, a no-op handler touching each event's ID, then POST acknowledge.

    python plain_python.py URL API_KEY SECRET_KEY EXPECTED

Prints one JSON line {"events": n, "batches": b, "seconds": s} (the drain alone).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from typing import Any

import requests

FETCH = "/api/v1/webhook/events"
ACK = "/api/v1/webhook/events/acknowledge"
MAX_CYCLES = 1_000_000  # bounded loop


def main() -> int:
    url, api_key, secret_key, expected = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], int(sys.argv[4])
    session = requests.Session()
    secret = secret_key.encode()

    def call(method: str, path: str, body: Any = None, query: str = "") -> Any:
        ts = str(int(time.time() * 1000))
        text = "" if body is None else json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        sig = hmac.new(secret, f"{method}:{path}:{ts}:{text}".encode(), hashlib.sha256).hexdigest()
        headers = {"x-api-key": api_key, "x-timestamp": ts, "x-signature": sig, "accept": "application/json"}
        data = None
        if body is not None:
            headers["content-type"] = "application/json"
            data = text.encode()
        r = session.request(method, url + path + query, data=data, headers=headers, timeout=30)
        r.raise_for_status()
        return r.json()

    def handler(events: list[dict[str, Any]]) -> int:
        n = 0
        for e in events:
            n += len(e["eventId"])
        return n

    events = batches = 0
    started = time.perf_counter()
    for _ in range(MAX_CYCLES):
        data = call("GET", FETCH, query="?limit=100")
        batch = data["events"]
        if batch:
            handler(batch)
            call("POST", ACK, {"eventIds": [e["eventId"] for e in batch]})
            events += len(batch)
            batches += 1
        if data["pendingCount"] == 0 or not batch:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({"events": events, "batches": batches, "seconds": seconds}))
    return 0 if events == expected else 1


if __name__ == "__main__":
    sys.exit(main())
