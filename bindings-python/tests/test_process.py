"""Process-level safety: fork, Ctrl-C in a blocking call, interpreter exit with a client open."""

from __future__ import annotations

import asyncio
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


def _script(body: str, prefix: str = "") -> list[str]:
    return [sys.executable, "-c", prefix + textwrap.dedent(body)]


# A shell starts background commands with SIGINT ignored, their children inherit that, and
# Python then installs no KeyboardInterrupt handler: a test run started in the background
# (nohup, `cmd &` in a script) would see Ctrl-C ignored. The scripts that test Ctrl-C
# install Python's default handler first, as an interactive start would have it.
_CTRL_C = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


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
            """,
            _CTRL_C,
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
            """,
            _CTRL_C,
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


@pytest.mark.parametrize("flavour", ["async", "blocking"])
def test_interpreter_exit_with_a_used_client_left_open(flavour: str) -> None:
    """Every call kind made, nothing closed, then a plain exit: code 0, nothing on stderr."""
    proc = subprocess.run(
        _script(
            f"""
            import asyncio, threading
            import smartai_events as se
            from smartai_events.testing import Emulator
            emu = Emulator(rate_limit=False, initial_events=30)
            kwargs = emu.client_kwargs()
            if {flavour!r} == "async":
                async def main():
                    client = se.AsyncAssessmentClient(**kwargs)
                    batch = await client.get_webhook_events(limit=5)
                    await client.acknowledge_webhook_events(batch.events)
                    await client.drain(lambda e: None, max_batches=1)
                    async for _ in client.batches(limit=5):
                        break
                    stop = asyncio.Event()
                    asyncio.get_running_loop().call_later(0.3, stop.set)
                    await client.run(lambda e: None, interval=0.05, stop=stop)
                asyncio.run(main())
            else:
                client = se.AssessmentClient(**kwargs)
                batch = client.get_webhook_events(limit=5)
                client.acknowledge_webhook_events(batch.events)
                client.drain(lambda e: None, max_batches=1)
                for _ in client.batches(limit=5):
                    break
                stop = threading.Event()
                threading.Timer(0.3, stop.set).start()
                client.run(lambda e: None, interval=0.05, stop=stop)
            print("bye", flush=True)
            """
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "bye"
    assert proc.stderr == ""


def test_interpreter_exit_while_run_polls() -> None:
    """A blocking run in a daemon thread and an async run task still pending when the loop
    closes do not keep the process alive or abort it; sys.exit's code is kept."""
    proc = subprocess.run(
        _script(
            """
            import asyncio, sys, threading
            import smartai_events as se
            from smartai_events.testing import Emulator
            emu = Emulator(rate_limit=False, initial_events=5)
            emu.add_fault("latency", ms=200)
            client = se.AssessmentClient(**emu.client_kwargs())
            threading.Thread(target=lambda: client.run(lambda e: None, interval=0.05), daemon=True).start()
            aclient = se.AsyncAssessmentClient(**emu.client_kwargs())
            async def main():
                asyncio.get_running_loop().create_task(aclient.run(lambda e: None, interval=0.05))
                await asyncio.sleep(0.5)
            asyncio.run(main())
            print("bye", flush=True)
            sys.exit(3)
            """
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.strip() == "bye"
    assert "Fatal" not in proc.stderr and "panicked" not in proc.stderr, proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_uses_the_parents_async_client(emu: Emulator) -> None:
    emu.generate(10)
    aclient = se.AsyncAssessmentClient(**emu.client_kwargs())

    async def first() -> int:
        return len(await aclient.get_webhook_events(limit=5))

    assert asyncio.run(first()) == 5  # the parent's runtime and pool are live
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:

            async def child() -> int:
                return (await aclient.drain(lambda e: None)).events

            if asyncio.run(child()) == 10:
                code = 0
        finally:
            os._exit(code)
    assert _wait_child(pid) == 0
    assert emu.pending_ids() == []
    emu.generate(2)

    async def again() -> int:
        return (await aclient.drain(lambda e: None)).events

    assert asyncio.run(again()) == 2  # the parent still works
    aclient.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_client_closed_before_a_fork_stays_closed_in_the_child(emu: Emulator) -> None:
    # The child rebuilds the core client (the parent's connections are not its own): the
    # rebuilt one must be closed too, and say so as the core does.
    emu.generate(3)
    client = se.AssessmentClient(**emu.client_kwargs())
    client.close()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            try:
                client.get_webhook_events()
            except se.CancelledError as e:
                if str(e) == "cancelled: the client was closed":
                    code = 0
        finally:
            os._exit(code)
    assert _wait_child(pid) == 0
    assert len(emu.pending_ids()) == 3 and emu.request_log() == []
