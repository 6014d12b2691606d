"""An event's JSON reaches Python the same way whatever the environment says: the
``SMARTAI_EVENTS_CONVERSION`` switch that once chose other conversions (eager dicts through
the C API, one JSON text) is gone, since those gave other values (a float for an integer
above 2**64, AttributeError from ``to_dict()``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Runs in a fresh process, since the choice was read once per process.
SCRIPT = r"""
import json, logging
logging.getLogger("smartai_events").addHandler(logging.NullHandler())
import smartai_events as se
from smartai_events.testing import Emulator
BODY = ('{"events":['
        '{"eventId":"big","event":"x.y","storedAt":"2026-06-09T10:31:00Z","n":100000000000000000000000000000},'
        '{"eventId":"neg","event":"x.y","storedAt":"2026-06-09T10:31:00Z","n":-100000000000000000000000000000},'
        '{"eventId":"f","event":"x.y","storedAt":"2026-06-09T10:31:00Z","n":1.5},'
        'null,"text"'
        '],"pendingCount":0}')
out = []
with Emulator(rate_limit=False) as e:
    c = se.AssessmentClient(**e.client_kwargs(max_retries=0))
    e.add_fault({"kind": {"type": "status", "status": 200, "body": BODY}, "endpoint": "fetch", "remaining": 1})
    for ev in c.get_webhook_events().events:
        row = [type(ev).__name__, ev.event_id]
        for f in (ev.to_dict, ev.to_dict, lambda: ev.get("n"), ev.keys, lambda: "eventId" in ev):
            try:
                value = f()
                row.append([type(value).__name__, repr(value)])
            except Exception as ex:
                row.append(["raised", type(ex).__name__])
        out.append(row)
print(json.dumps(out))
"""


def _run(mode: str | None) -> list[list[object]]:
    env = dict(os.environ)
    env.pop("SMARTAI_EVENTS_CONVERSION", None)
    if mode is not None:
        env["SMARTAI_EVENTS_CONVERSION"] = mode
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_default_conversion_keeps_integers_exact() -> None:
    rows = {row[1]: row for row in _run(None)}
    assert rows["big"][2] == ["dict", repr(json.loads(
        '{"eventId":"big","event":"x.y","storedAt":"2026-06-09T10:31:00Z","n":100000000000000000000000000000}'
    ))]
    assert rows["big"][4] == ["int", "100000000000000000000000000000"]
    assert rows["neg"][4] == ["int", "-100000000000000000000000000000"]
    assert rows["f"][4] == ["float", "1.5"]


@pytest.mark.parametrize("mode", ["capi", "text", "lazy", ""])
def test_the_old_conversion_switch_changes_nothing(mode: str) -> None:
    assert _run(mode) == _run(None)
