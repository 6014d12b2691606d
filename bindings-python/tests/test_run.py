"""run(): stopping on asyncio.Event, task cancellation and threading.Event; dead letters."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings
from typing import Any

import pytest

import smartai_events as se
from smartai_events.testing import Emulator


async def test_run_stops_on_asyncio_event(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(20)
    stop = asyncio.Event()
    seen: list[str] = []

    async def handler(events: list[se.WebhookEvent]) -> None:
        seen.extend(e.event_id for e in events)
        if len(seen) >= 30:
            stop.set()

    task = asyncio.create_task(aclient.run(handler, interval=0.1, stop=stop, limit=10))
    await asyncio.sleep(0.5)
    emu.generate(10)  # picked up by a later cycle
    summary = await asyncio.wait_for(task, 30)
    assert isinstance(summary, se.RunSummary)
    assert summary.events == 30 and summary.cycles >= 2
    assert emu.pending_ids() == []
    assert aclient.health().events_handled == 30


async def test_run_stops_on_cancellation(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(5)
    task = asyncio.create_task(aclient.run(lambda events: None, interval=0.1))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert emu.pending_ids() == []


def test_run_stops_on_threading_event(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(12)
    stop = threading.Event()
    seen: list[str] = []
    caller = threading.get_ident()

    def handler(events: list[se.WebhookEvent]) -> None:
        assert threading.get_ident() == caller  # handlers run on the calling thread
        seen.extend(e.event_id for e in events)

    threading.Timer(0.8, stop.set).start()
    started = time.monotonic()
    summary = client.run(handler, interval=0.2, stop=stop, limit=5)
    assert time.monotonic() - started < 30
    assert summary.events == 12 and len(seen) == 12
    assert emu.pending_ids() == []


def test_run_dead_letters_after_max_attempts(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(3)
    stop = threading.Event()
    attempts: list[int] = []
    dead: list[tuple[list[str], str]] = []

    def handler(events: list[se.WebhookEvent]) -> None:
        attempts.append(len(events))
        raise ValueError("cannot save")

    def dead_letter(events: list[se.WebhookEvent], reason: str) -> None:
        dead.append(([e.event_id for e in events], reason))
        if sum(len(ids) for ids, _ in dead) == 3:
            stop.set()

    summary = client.run(handler, interval=0.05, stop=stop, max_attempts=2, dead_letter=dead_letter)
    # Every event failed twice (the core may retry a failing batch in smaller pieces).
    assert sum(attempts) >= 6
    assert sorted(i for ids, _ in dead for i in ids) == sorted(set(i for ids, _ in dead for i in ids))
    assert sum(len(ids) for ids, _ in dead) == 3
    assert all("cannot save" in reason for _, reason in dead)
    assert summary.errors >= 2
    assert emu.pending_ids() == []  # acknowledged after the hook succeeded
    assert client.health().events_dead_lettered == 3


def test_an_ordered_run_retries_whole_batches_and_dead_letters_nothing(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(3)
    stop = threading.Event()
    sizes: list[int] = []
    # A hook would never be called, so it is refused rather than taken in silence.
    with pytest.raises(se.InvalidArgumentError, match="dead_letter is never called when ordered is true"):
        client.run(lambda events: None, interval=0.05, stop=stop, ordered=True, dead_letter=lambda events, _: None)
    assert emu.stats()["fetches"] == 0, "refused before the first poll"

    def handler(events: list[se.WebhookEvent]) -> None:
        sizes.append(len(events))
        if len(sizes) == 4:
            stop.set()
        raise ValueError("cannot save")

    summary = client.run(handler, interval=0.05, stop=stop, max_attempts=1, ordered=True)
    # Whole batches every time: without ordered, the second cycle hands them out one by one
    # and the third dead-letters them.
    assert sizes == [3, 3, 3, 3]
    # The fourth failure came after the stop: no error of its events.
    assert summary.errors == 3
    assert len(emu.pending_ids()) == 3


async def test_run_async_dead_letter(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(2)
    stop = asyncio.Event()
    dead: list[str] = []

    async def handler(events: list[se.WebhookEvent]) -> None:
        raise ValueError("bad")

    async def dead_letter(events: list[se.WebhookEvent], reason: str) -> None:
        dead.extend(e.event_id for e in events)
        if len(dead) == 2:
            stop.set()

    await asyncio.wait_for(
        aclient.run(handler, interval=0.05, stop=stop, max_attempts=1, dead_letter=dead_letter), 30
    )
    assert len(dead) == 2 and emu.pending_ids() == []


def test_run_fatal_error_ends(emu: Emulator) -> None:
    emu.add_fault("status", status=401, endpoint="fetch")
    client = se.AssessmentClient(**emu.client_kwargs())
    with pytest.raises(se.AuthenticationError):
        client.run(lambda e: None, interval=0.1)


def test_a_dead_letter_hook_returning_a_coroutine_acknowledges_nothing(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(3)
    stop = threading.Event()
    hooks: list[int] = []

    def handler(events: list[se.WebhookEvent]) -> None:
        raise ValueError("cannot save")

    def dead_letter(events: list[se.WebhookEvent], reason: str) -> Any:
        hooks.append(len(events))
        if len(hooks) == 2:
            stop.set()
        return asyncio.sleep(0)

    backstop = threading.Timer(10, stop.set)  # without the fix the hook runs only once
    backstop.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = client.run(handler, interval=0.05, stop=stop, max_attempts=1, dead_letter=dead_letter)
        gc.collect()
    backstop.cancel()
    assert len(hooks) == 2 and summary.errors >= 2
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
    assert len(emu.pending_ids()) == 3  # the hook failed: nothing was acknowledged
    health = client.health()
    assert health.events_dead_lettered == 0
    assert health.last_error is not None and "returned a coroutine" in health.last_error


def test_run_with_a_stop_event_already_set_fetches_nothing(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(5)
    emu.clear_request_log()
    stop = threading.Event()
    stop.set()
    seen: list[int] = []
    summary = client.run(lambda events: seen.append(len(events)), interval=0.1, stop=stop)
    assert seen == [] and summary.events == 0
    assert emu.request_log() == []
    assert len(emu.pending_ids()) == 5


async def test_an_async_run_with_a_stop_event_already_set_begins_no_cycle(
    emu: Emulator, aclient: se.AsyncAssessmentClient
) -> None:
    emu.generate(5)
    emu.clear_request_log()
    stop = asyncio.Event()
    stop.set()
    seen: list[int] = []
    # A busy loop: other callbacks run before the run's own first step on it.
    asyncio.get_running_loop().call_soon(time.sleep, 0.2)
    summary = await aclient.run(lambda events: seen.append(len(events)), interval=0.1, stop=stop)
    assert seen == [] and summary.events == 0
    assert summary.cycles == 0
    assert emu.request_log() == []
    assert len(emu.pending_ids()) == 5


async def test_an_async_run_stops_on_an_asyncio_event_set_from_another_thread(
    emu: Emulator, aclient: se.AsyncAssessmentClient
) -> None:
    # asyncio.Event.set() from another thread (or from a signal.signal handler) does not wake
    # the loop; the run must notice it anyway rather than sleep in the selector for ever.
    emu.generate(5)
    stop = asyncio.Event()
    seen: list[str] = []
    first_cycle = threading.Event()

    def handler(events: list[se.WebhookEvent]) -> None:
        seen.extend(e.event_id for e in events)
        first_cycle.set()

    def set_from_thread() -> None:
        first_cycle.wait(30)
        stop.set()

    thread = threading.Thread(target=set_from_thread)
    thread.start()
    try:
        summary = await asyncio.wait_for(aclient.run(handler, interval=30, stop=stop), 20)
    finally:
        thread.join()
    assert summary.events == 5 and len(seen) == 5
    assert emu.pending_ids() == []


async def test_a_handler_that_sets_the_stop_and_raises_is_cut_short_not_failed(
    emu: Emulator, aclient: se.AsyncAssessmentClient, client: se.AssessmentClient
) -> None:
    # The stop came before the handler's exception, so the run counts it as cut short by the
    # stop: no error, no failed attempt, nothing acknowledged. The async client once told
    # the run about the stop only after the exception (about 1 run in 8 reported an error).
    emu.generate(3)
    async_errors = []
    for _ in range(50):
        astop = asyncio.Event()

        async def ahandler(events: list[se.WebhookEvent]) -> None:
            astop.set()
            raise RuntimeError("cut short by the stop")

        summary = await asyncio.wait_for(aclient.run(ahandler, interval=30, stop=astop), 20)
        async_errors.append(summary.errors)
    blocking_errors = []
    for _ in range(50):
        stop = threading.Event()

        def handler(events: list[se.WebhookEvent]) -> None:
            stop.set()
            raise RuntimeError("cut short by the stop")

        blocking_errors.append(client.run(handler, interval=30, stop=stop).errors)
    assert async_errors == [0] * 50
    assert blocking_errors == [0] * 50
    assert aclient.health().errors == 0 and client.health().errors == 0
    assert len(emu.pending_ids()) == 3


def test_health_reports_the_pending_count_of_the_last_fetch(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(30)
    assert client.health().pending_count == 0  # no fetch yet
    client.drain(lambda events: None, limit=10, max_batches=1)
    assert client.health().pending_count == 20


async def test_async_health_reports_the_pending_count_of_the_last_fetch(
    emu: Emulator, aclient: se.AsyncAssessmentClient
) -> None:
    emu.generate(30)
    await aclient.drain(lambda events: None, limit=10, max_batches=1)
    assert aclient.health().pending_count == 20


async def test_an_async_run_stopped_and_closed_stops_waiting_for_a_handler_that_never_returns(emu: Emulator) -> None:
    emu.generate(5)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    stop = asyncio.Event()
    started = asyncio.Event()

    async def handler(events: list[se.WebhookEvent]) -> None:
        started.set()
        await asyncio.Event().wait()  # never returns, whatever it is told

    task = asyncio.create_task(client.run(handler, stop=stop))
    await asyncio.wait_for(started.wait(), 20)
    stop.set()
    # The stop alone is graceful: the run still waits for the handler.
    await asyncio.sleep(0.3)
    assert not task.done()
    await client.aclose()
    done, _ = await asyncio.wait({task}, timeout=10)
    if not done:
        # Fail rather than hang: wait_for's cancel would be one more graceful stop; a second
        # cancel aborts.
        for _ in range(2):
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        pytest.fail("the run kept waiting for the handler after its stop and a close")
    summary = task.result()
    assert (summary.events, summary.acknowledged) == (5, 0)
    assert len(emu.pending_ids()) == 5

