"""How async calls meet the event loop: where handlers run, in which context, on loops
without add_reader, and that nothing is left behind on the loop or in the process."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import os
import selectors
import threading
from typing import Any

import pytest

import smartai_events as se
from smartai_events.testing import Emulator

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop that cannot watch file descriptors, like the proactor loop on Windows."""

    def __init__(self) -> None:
        super().__init__(selectors.DefaultSelector())
        self.refused = 0

    def add_reader(self, fd: Any, callback: Any, *args: Any) -> None:
        self.refused += 1
        raise NotImplementedError


def unix_sockets() -> int:
    """How many Unix sockets this process holds open (the TCP connections of the client and
    of the in-process emulator come and go with the tests, so they are not counted)."""
    with open("/proc/net/unix") as f:
        inodes = {line.split()[6] for line in list(f)[1:]}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


def test_a_loop_without_add_reader_is_woken_through_call_soon_threadsafe(emu: Emulator) -> None:
    emu.generate(25)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    loop = NoReaderLoop()
    threads: set[int] = set()
    seen: list[str] = []

    async def handler(events: list[se.WebhookEvent]) -> None:
        threads.add(threading.get_ident())
        await asyncio.sleep(0)
        seen.extend(e.event_id for e in events)

    async def main() -> tuple[se.DrainSummary, se.WebhookEventBatch]:
        summary = await client.drain(handler, limit=10)
        return summary, await client.get_webhook_events()

    try:
        summary, batch = loop.run_until_complete(main())
    finally:
        loop.close()
    assert summary.events == 25 and summary.batches == 3 and len(set(seen)) == 25
    assert batch.events == [] and batch.pending_count == 0
    assert threads == {threading.get_ident()}  # on the loop's thread
    assert loop.refused >= 2  # the loop really was asked, and refused
    assert emu.pending_ids() == []


@pytest.mark.parametrize("loop_kind", ["default", "no_reader"])
@pytest.mark.parametrize("flavour", ["plain", "async"])
def test_handlers_run_in_the_callers_context(emu: Emulator, flavour: str, loop_kind: str) -> None:
    emu.generate(12)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    loop = asyncio.new_event_loop() if loop_kind == "default" else NoReaderLoop()
    seen: list[str] = []

    def plain(events: list[se.WebhookEvent]) -> None:
        seen.append(REQUEST_ID.get())

    async def coroutine(events: list[se.WebhookEvent]) -> None:
        await asyncio.sleep(0)
        seen.append(REQUEST_ID.get())

    async def main() -> se.DrainSummary:
        REQUEST_ID.set("req-42")
        return await client.drain(plain if flavour == "plain" else coroutine, limit=5)

    try:
        summary = loop.run_until_complete(main())
    finally:
        loop.close()
    assert summary.batches == 3
    assert seen == ["req-42"] * 3


async def test_calls_leave_no_sockets_or_readers_behind(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    loop = asyncio.get_running_loop()
    emu.generate(10)
    await aclient.get_webhook_events()  # the connection is open from here on
    gc.collect()  # closes the self-pipes of event loops earlier tests left to the collector
    before = unix_sockets()
    for _ in range(30):
        await aclient.get_webhook_events(limit=1)
    await aclient.drain(lambda events: None, limit=3)

    # Cancelled calls, some while their handler runs.
    emu.generate(10)
    never = asyncio.Event()

    async def stuck(events: list[se.WebhookEvent]) -> None:
        await never.wait()

    for _ in range(10):
        task = asyncio.create_task(aclient.drain(stuck))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await asyncio.sleep(0.1)
    gc.collect()
    # Each of those 41 calls had a socket pair of its own; anything left over would show.
    assert unix_sockets() <= before
    if isinstance(loop, asyncio.SelectorEventLoop):
        watched = [key.fd for key in loop._selector.get_map().values()]  # type: ignore[attr-defined]
        assert len(watched) == 1, watched  # the loop's own self-pipe only
    # The handler never finished, so none of its batch was acknowledged.
    assert len(emu.pending_ids()) == 10


def test_keyboard_interrupt_in_a_plain_handler_stops_the_loop_and_acknowledges_nothing(emu: Emulator) -> None:
    emu.generate(5)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())

    def handler(events: list[se.WebhookEvent]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(client.drain(handler))
    assert len(emu.pending_ids()) == 5
    # The client still works afterwards, on a new loop.
    assert asyncio.run(client.drain(lambda events: None)).events == 5


class Custom(BaseException):
    pass


@pytest.mark.parametrize("exc", [asyncio.CancelledError, GeneratorExit, Custom])
@pytest.mark.parametrize("loop_kind", ["selector", "no_reader"])
def test_a_base_exception_from_a_plain_handler_reaches_only_the_caller(
    emu: Emulator, exc: type[BaseException], loop_kind: str
) -> None:
    # It reached the loop's exception handler too ("Exception in callback
    # <smartai_events._native.LoopPump ...>"); only KeyboardInterrupt and SystemExit,
    # the process being told to stop, go on to the loop.
    emu.generate(5)
    with Emulator(rate_limit=False) as other:
        other.generate(20)
        reported: list[dict[str, Any]] = []

        async def main() -> list[Any]:
            asyncio.get_running_loop().set_exception_handler(lambda _loop, context: reported.append(context))
            bad_client = se.AsyncAssessmentClient(**emu.client_kwargs())
            good_client = se.AsyncAssessmentClient(**other.client_kwargs())

            def bad(events: list[se.WebhookEvent]) -> None:
                raise exc()

            results = await asyncio.gather(
                bad_client.drain(bad, limit=1), good_client.drain(lambda events: None, limit=1), return_exceptions=True
            )
            await asyncio.sleep(0.05)
            return results

        loop = asyncio.SelectorEventLoop() if loop_kind == "selector" else NoReaderLoop()
        try:
            failed, summary = loop.run_until_complete(main())
        finally:
            loop.close()
        assert reported == []
        assert isinstance(failed, se.HandlerError) and type(failed.__cause__) is exc
        assert isinstance(summary, se.DrainSummary) and summary.acknowledged == 20
    assert len(emu.pending_ids()) == 5


async def test_a_failing_async_handler_leaves_no_task_exception_unretrieved(
    emu: Emulator, aclient: se.AsyncAssessmentClient
) -> None:
    emu.generate(3)
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))

    async def handler(events: list[se.WebhookEvent]) -> None:
        raise ValueError("boom")

    try:
        with pytest.raises(se.HandlerError) as info:
            await aclient.drain(handler)
        assert isinstance(info.value.__cause__, ValueError)
        gc.collect()
        await asyncio.sleep(0)
        assert reported == []
    finally:
        loop.set_exception_handler(None)


async def test_a_plain_handler_may_return_any_awaitable(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(20)
    loop = asyncio.get_running_loop()
    saved: list[str] = []

    def save(events: list[se.WebhookEvent]) -> None:
        saved.extend(e.event_id for e in events)

    # run_in_executor returns a Future, not a coroutine: it is awaited all the same.
    summary = await aclient.drain(lambda events: loop.run_in_executor(None, save, events), limit=7)
    assert summary.batches == 3 and len(saved) == 20 and emu.pending_ids() == []
