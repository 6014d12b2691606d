"""Crash safety of ``run``: a real poller process (crash_poller.py) that saves into SQLite is
SIGKILLed at random points, restarted, and finally stopped gracefully. Nothing may be
lost, and nothing may be acknowledged that was not saved first."""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from smartai_events.testing import Emulator

POLLER = Path(__file__).with_name("crash_poller.py")
KILLS = 5


def _spawn(emu: Emulator, db: Path, flavour: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        ASSESSMENT_API_KEY=emu.api_key,
        ASSESSMENT_SECRET_KEY=emu.secret_key,
        ASSESSMENT_BASE_URL=emu.url,
    )
    # stderr goes to a file: retry warnings must never fill a pipe nobody reads and stall the poller.
    with open(db.with_suffix(".stderr"), "a") as err:
        proc = subprocess.Popen(
            [sys.executable, str(POLLER), str(db), flavour], env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline().strip() if ready else ""
    if line != "ready":
        proc.kill()
        proc.communicate(timeout=10)
        raise AssertionError(f"the poller did not start: {line!r}\n{_stderr(db)}")
    return proc


def _stderr(db: Path) -> str:
    path = db.with_suffix(".stderr")
    return path.read_text()[-4000:] if path.exists() else ""


def _saved(db: Path) -> tuple[set[str], int]:
    """The saved event IDs, and how many of them were saved more than once (redelivered)."""
    conn = sqlite3.connect(db)
    try:
        ids = {row[0] for row in conn.execute("SELECT event_id FROM events")}
        again = conn.execute("SELECT COUNT(*) FROM events WHERE saves > 1").fetchone()[0]
    finally:
        conn.close()
    return ids, int(again)


def _wait_until(what: str, check: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("flavour", ["async", "blocking"])
def test_sigkill_at_random_points_loses_nothing(tmp_path: Path, flavour: str) -> None:
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    db = tmp_path / "events.db"
    with Emulator(initial_events=3_000, seed=seed, rate_limit=False) as emu:
        # Slow every request a little so kills land inside drains, saves and acknowledges;
        # lose some acknowledges after applying them, and drop some fetches.
        emu.set_faults(
            [
                {"kind": {"type": "latency", "ms": 25}},
                {"kind": {"type": "applied_but_lost"}, "endpoint": "acknowledge", "probability": 0.1},
                {"kind": {"type": "reset"}, "endpoint": "fetch", "probability": 0.05},
            ]
        )
        generated = set(emu.pending_ids())
        killed_mid_work = 0
        for round_ in range(KILLS):
            proc = _spawn(emu, db, flavour)
            time.sleep(rng.uniform(0.05, 0.6))
            if proc.poll() is not None:
                proc.communicate()
                raise AssertionError(f"seed {seed} round {round_}: the poller exited by itself\n{_stderr(db)}")
            if emu.pending_ids():
                killed_mid_work += 1
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
            assert proc.returncode == -signal.SIGKILL
            saved, _ = _saved(db) if db.exists() else (set(), 0)
            acked = set(emu.acknowledged_ids())
            assert acked <= saved, f"seed {seed} round {round_}: acknowledged before saved: {sorted(acked - saved)[:5]}"
            emu.generate(100)  # new events arrive between crashes
        generated |= set(emu.pending_ids()) | set(emu.acknowledged_ids())
        assert len(generated) == 3_000 + 100 * KILLS
        print(f"seed {seed}: {killed_mid_work} of {KILLS} kills landed with events pending")
        assert killed_mid_work > 0, "no kill landed while events were pending"

        proc = _spawn(emu, db, flavour)
        try:
            _wait_until("the queue to empty", lambda: emu.stats()["pending"] == 0, 60)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, f"seed {seed}: exit {proc.returncode}\n{_stderr(db)}"
        assert '"events"' in out, out

        saved, again = _saved(db)
        print(f"seed {seed}: {again} events delivered again after a crash and saved idempotently")
        acked = set(emu.acknowledged_ids())
        assert saved >= generated, f"seed {seed}: lost {sorted(generated - saved)[:5]}"
        assert emu.stats()["pending"] == 0
        assert emu.pending_ids() == []
        assert acked <= saved, f"seed {seed}: acknowledged without being saved: {sorted(acked - saved)[:5]}"
        assert acked == generated, f"seed {seed}: not all acknowledged"
