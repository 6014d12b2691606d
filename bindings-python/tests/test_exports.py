"""What the package shows: dir() lists its public names (the lazily imported ones too,
before their first use) and none of its helpers."""

from __future__ import annotations

import json
import subprocess
import sys

# A fresh interpreter: in this one, earlier tests have already used the lazy names.
SCRIPT = r"""
import asyncio, json
import smartai_events as se
before = dir(se)
from smartai_events.testing import Emulator

async def drain(url_kwargs):
    async with getattr(se, "AsyncAssessmentClient")(**url_kwargs) as client:
        return (await client.drain(lambda events: None)).acknowledged

with Emulator(rate_limit=False) as emu:
    emu.generate(3)
    acknowledged = asyncio.run(drain(emu.client_kwargs()))
print(json.dumps({"before": before, "all": se.__all__, "after": dir(se), "acknowledged": acknowledged,
                  "resolves": [n for n in before if not hasattr(se, n)]}))
"""


def test_dir_lists_the_public_names_and_no_helpers() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    public = {n for n in out["before"] if not n.startswith("_")}
    # Lazily imported (AsyncAssessmentClient, DrainSummary...) yet listed before first use.
    assert set(out["all"]) - {"__version__"} <= public
    # TYPE_CHECKING, annotations, atexit were listed as if they were the package's.
    assert public == set(out["all"]) - {"__version__"} | {"TimeoutError"}
    assert "__version__" in out["before"]
    assert out["resolves"] == []  # every listed name is there
    assert "testing" in out["after"]  # a public submodule, once imported
    assert out["acknowledged"] == 3
