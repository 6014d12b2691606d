"""The examples type-check under mypy --strict and run against the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smartai_events.testing import Emulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_mypy_strict_examples() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(EXAMPLES), str(ROOT / "python" / "smartai_events")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["seed_flow.py", "drain.py", "run_async.py", "blocking_poller.py"])
def test_example_runs_with_emulator(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--emulator", "--seconds", "1.5"]
        if name in ("run_async.py", "blocking_poller.py")
        else [sys.executable, str(EXAMPLES / name), "--emulator"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_seed_flow_reads_environment() -> None:
    with Emulator(initial_events=3) as emu:
        env = dict(
            os.environ,
            ASSESSMENT_API_KEY=emu.api_key,
            ASSESSMENT_SECRET_KEY=emu.secret_key,
            ASSESSMENT_BASE_URL=emu.url,
        )
        proc = subprocess.run(
            [sys.executable, str(EXAMPLES / "seed_flow.py")], env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert "Got 3 events, 0 still pending" in proc.stdout
        assert "Acknowledged 3" in proc.stdout
        assert emu.pending_ids() == []


def test_stubs_exist() -> None:
    assert (ROOT / "python" / "smartai_events" / "__init__.pyi").is_file()
    assert (ROOT / "python" / "smartai_events" / "py.typed").is_file()
    assert shutil.which(sys.executable)
