"""Process-level safety: fork, Ctrl-C in a blocking call, interpreter exit with a client open."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import smartai_events as se
from smartai_events.testing import Emulator


def _wait_child(pid: int, limit: float = 60.0) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_makes_calls(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(10)
    assert len(client.get_webhook_events(limit=5)) == 5  # the parent's runtime and pool are live
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            batch = client.get_webhook_events(limit=100)
            if len(batch) == 10 and client.acknowledge_webhook_events(batch.events).acknowledged == 10:
                code = 0
        finally:
            os._exit(code)
    assert _wait_child(pid) == 0
    assert emu.pending_ids() == []
    emu.generate(2)
    assert client.drain(lambda e: None).events == 2  # the parent still works


def _child_drain(kwargs: dict[str, object], queue: "multiprocessing.Queue[int]") -> None:
    client = se.AssessmentClient(**kwargs)  # type: ignore[arg-type]
    queue.put(client.drain(lambda events: None).events)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_multiprocessing_fork(emu: Emulator, client: se.AssessmentClient) -> None:
    client.get_webhook_events()
    emu.generate(7)
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = ctx.Queue()
    proc = ctx.Process(target=_child_drain, args=(emu.client_kwargs(), queue))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    assert queue.get(timeout=5) == 7


def _script(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def test_ctrl_c_interrupts_blocking_call() -> None:
    proc = subprocess.Popen(
        _script(
            """
            import smartai_events as se
            from smartai_events.testing import Emulator
            emu = Emulator(rate_limit=False)
            emu.add_fault("hang", endpoint="fetch")
            client = se.AssessmentClient(**emu.client_kwargs(timeout=120))
            print("ready", flush=True)
            client.get_webhook_events()
            print("returned", flush=True)
            """
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("Ctrl-C did not interrupt the blocking call")
    assert "KeyboardInterrupt" in err
    assert "returned" not in out
    assert proc.returncode != 0


def test_ctrl_c_interrupts_blocking_run() -> None:
    proc = subprocess.Popen(
        _script(
            """
            import smartai_events as se
            from smartai_events.testing import Emulator
            emu = Emulator(rate_limit=False)
            client = se.AssessmentClient(**emu.client_kwargs())
            print("ready", flush=True)
            client.run(lambda events: None, interval=60)
            """
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("Ctrl-C did not interrupt run()")
    assert "KeyboardInterrupt" in err


def test_interpreter_exit_with_clients_busy() -> None:
    proc = subprocess.run(
        _script(
            """
            import asyncio, threading
            import smartai_events as se
            from smartai_events.testing import Emulator
            emu = Emulator(rate_limit=False, initial_events=5)
            emu.add_fault("hang", endpoint="acknowledge")
            client = se.AssessmentClient(**emu.client_kwargs(timeout=120))
            threading.Thread(target=lambda: client.drain(lambda e: None), daemon=True).start()
            aclient = se.AsyncAssessmentClient(**emu.client_kwargs(timeout=120))
            async def main():
                asyncio.get_running_loop().create_task(aclient.get_webhook_events())
                await asyncio.sleep(0.3)
            asyncio.run(main())
            print("bye", flush=True)
            """
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "bye"
