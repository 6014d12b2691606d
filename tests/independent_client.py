#!/usr/bin/env python3
"""An independent client, written from docs/protocol.md alone with the standard library,
drains the emulator binary. It proves the emulator speaks the documented protocol, not just
whatever the project's own client happens to send.

Usage: independent_client.py PATH_TO_SMARTAI_EMULATOR
"""
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

EVENTS = 321


def sign(secret: str, method: str, path: str, ts: str, body: str) -> str:
    payload = f"{method}:{path}:{ts}:{body}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def call(info: dict, method: str, path: str, query: str = "", body=None):
    ts = str(int(time.time() * 1000))
    text = "" if body is None else json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prefix = urlsplit(info["url"]).path.rstrip("/")
    full_path = prefix + path
    req = urllib.request.Request(
        info["url"].rstrip("/") + path + (f"?{query}" if query else ""),
        method=method,
        data=text.encode() if body is not None else None,
        headers={
            "x-api-key": info["apiKey"],
            "x-timestamp": ts,
            "x-signature": sign(info["secretKey"], method, full_path, ts, text),
            "accept": "application/json",
            **({"content-type": "application/json"} if body is not None else {}),
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def main() -> int:
    binary = sys.argv[1]
    proc = subprocess.Popen(
        [binary, "--port", "0", "--events", str(EVENTS), "--seed", "7", "--no-rate-limit"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        seen = set()
        batches = 0
        while True:
            page = call(info, "GET", "/api/v1/webhook/events", "limit=100")
            ids = [e["eventId"] for e in page["events"]]
            seen.update(ids)
            batches += 1
            if ids:
                acked = call(info, "POST", "/api/v1/webhook/events/acknowledge", body={"eventIds": ids})
                assert acked["acknowledged"] == len(ids), acked
            if page["pendingCount"] == 0:
                break
        assert len(seen) == EVENTS, f"drained {len(seen)} of {EVENTS}"
        final = call(info, "GET", "/api/v1/webhook/events", "limit=100")
        assert final == {"events": [], "pendingCount": 0}, final
        # A wrong signature is refused.
        bad = dict(info, secretKey="wc_sk_test_wrong")
        try:
            call(bad, "GET", "/api/v1/webhook/events", "limit=1")
            raise AssertionError("a wrong signature was accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 401, e.code
        print(f"independent client: drained {len(seen)} events in {batches} batches")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0, f"emulator exited with {code}"
    print("independent client: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
