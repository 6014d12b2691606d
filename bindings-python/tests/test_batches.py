"""batches(): the pull-based drain, async and blocking, and when batches are acknowledged."""

from __future__ import annotations

import pytest

import smartai_events as se
from smartai_events.testing import Emulator


def test_sync_iterates_and_acknowledges(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(35)
    sizes = []
    batches = client.batches(limit=10)
    for batch in batches:
        sizes.append(len(batch))
        # The batch in hand is not acknowledged yet.
        assert len(emu.pending_ids()) == 35 - sum(sizes[:-1])
    assert sizes == [10, 10, 10, 5]
    assert emu.pending_ids() == []
    assert batches.summary.events == 35 and batches.summary.acknowledged == 35


def test_sync_exception_acknowledges_nothing(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(30)
    with pytest.raises(ZeroDivisionError):
        with client.batches(limit=10) as batches:
            for i, _batch in enumerate(batches):
                if i == 1:
                    1 / 0
    # The first batch was acknowledged by asking for the second; the second was not.
    assert len(emu.pending_ids()) == 20


def test_sync_break_in_with_acknowledges_finished_batch(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(30)
    with client.batches(limit=10) as batches:
        for _batch in batches:
            break
    assert len(emu.pending_ids()) == 20


def test_sync_break_without_with_acknowledges_nothing(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(30)
    batches = client.batches(limit=10)
    for _batch in batches:
        break
    assert len(emu.pending_ids()) == 30
    batches.commit()
    assert len(emu.pending_ids()) == 20


async def test_async_iterates(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(25)
    seen = 0
    async for batch in aclient.batches(limit=10):
        seen += len(batch)
    assert seen == 25 and emu.pending_ids() == []


async def test_async_break_and_exception(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(40)
    async with aclient.batches(limit=10) as batches:
        async for _batch in batches:
            break
    assert len(emu.pending_ids()) == 30
    with pytest.raises(LookupError):
        async with aclient.batches(limit=10) as batches:
            async for _batch in batches:
                raise LookupError
    assert len(emu.pending_ids()) == 30
    s = batches.summary
    assert s.batches == 1 and s.acknowledged == 0


async def test_async_batches_fault(emu: Emulator) -> None:
    emu.generate(10)
    emu.add_fault("status", status=503, endpoint="fetch")
    client = se.AsyncAssessmentClient(**emu.client_kwargs(max_retries=0))
    with pytest.raises(se.ServerError):
        async for _ in client.batches():
            pass


async def test_async_cancel_inside_batches(emu: Emulator) -> None:
    import asyncio

    emu.add_fault("hang", endpoint="fetch")
    client = se.AsyncAssessmentClient(**emu.client_kwargs(timeout=60))

    async def consume() -> None:
        async with client.batches() as batches:
            async for _ in batches:
                pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def test_a_batch_cancelled_on_its_way_is_handed_out_again_not_acknowledged(emu: Emulator) -> None:
    import asyncio
    import time

    emu.generate(5)
    expected = sorted(emu.pending_ids())
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    batches = client.batches(limit=10)
    task = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0)  # the native call starts
    # The loop is blocked while the fetch completes, so its batch waits for the loop; then
    # the awaiting task is cancelled before it could receive it.
    time.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(emu.pending_ids()) == expected
    # The next step hands the same events out instead of acknowledging them unseen.
    batch = await batches.__anext__()
    assert sorted(e.event_id for e in batch) == expected
    assert sorted(emu.pending_ids()) == expected
    await batches.commit()
    assert emu.pending_ids() == []
    assert batches.summary.events == 5 and batches.summary.acknowledged == 5
    await client.aclose()


def test_an_abandoned_batch_is_handed_out_again_and_only_then_acknowledged(
    emu: Emulator, client: se.AssessmentClient
) -> None:
    emu.generate(30)
    handed: list[str] = []
    failed: list[str] = []
    batches = client.batches(limit=10)
    for batch in batches:
        ids = [e.event_id for e in batch]
        handed.extend(ids)
        if not failed:  # saving the first batch fails
            failed = ids
            batches.abandon()
            assert set(failed) <= set(emu.pending_ids())
    assert handed.count(failed[0]) == 2, "the abandoned batch came back"
    assert sorted(set(handed)) == sorted(handed[10:]), "after it, every event once"
    assert emu.pending_ids() == []
    assert batches.summary.acknowledged == 30


async def test_an_async_step_cancelled_during_its_acknowledge_sends_it_again(emu: Emulator) -> None:
    import asyncio

    emu.generate(10)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    async with client.batches(limit=5) as batches:
        await batches.__anext__()
        emu.add_fault("latency", ms=1_000, endpoint="acknowledge", times=1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(batches.__anext__(), 0.2)  # cancelled while acknowledging
        rest = [batch async for batch in batches]
    assert sum(len(b) for b in rest) == 5
    assert emu.pending_ids() == [], "the first batch's acknowledge was sent again"
    assert batches.summary.acknowledged == 10
    await client.aclose()


CLOSED = "cancelled: the client was closed"  # the core's Error::Closed


def test_sync_batches_made_before_close_raise_the_cores_cancelled_error_after_it(emu: Emulator) -> None:
    # As the client's other calls after close, and as the Rust core does: CancelledError
    # with the core's message (it was an error of the binding's own).
    emu.generate(25)
    client = se.AssessmentClient(**emu.client_kwargs())
    batches = client.batches(limit=10)
    assert len(next(batches)) == 10
    client.close()
    with pytest.raises(se.CancelledError) as info:
        next(batches)
    assert info.value.code == "CANCELLED" and str(info.value) == CLOSED
    with pytest.raises(se.CancelledError, match=CLOSED):
        batches.commit()
    batches.abandon()  # sends nothing, so it still works
    assert batches.summary.acknowledged == 0
    assert len(emu.pending_ids()) == 25
    # Leaving a with block by an exception after close keeps that exception.
    with pytest.raises(ZeroDivisionError):
        with batches:
            1 / 0


async def test_async_batches_made_before_close_raise_the_cores_cancelled_error_after_it(emu: Emulator) -> None:
    emu.generate(25)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    batches = client.batches(limit=10)
    assert len(await batches.__anext__()) == 10
    await client.aclose()
    with pytest.raises(se.CancelledError) as info:
        await batches.__anext__()
    assert info.value.code == "CANCELLED" and str(info.value) == CLOSED
    with pytest.raises(se.CancelledError, match=CLOSED):
        await batches.commit()
    batches.abandon()
    assert batches.summary.acknowledged == 0
    assert len(emu.pending_ids()) == 25
    with pytest.raises(ZeroDivisionError):
        async with batches:
            1 / 0


async def test_a_second_async_step_while_one_runs_is_refused_not_handed_the_same_batch(emu: Emulator) -> None:
    import asyncio

    emu.generate(30)
    emu.add_fault("latency", ms=300, endpoint="fetch", times=1)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    batches = client.batches(limit=10)
    first = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0.05)  # the first step's fetch is on its way
    with pytest.raises(se.InvalidArgumentError, match=r"__anext__\(\) was called while another call"):
        await batches.__anext__()
    with pytest.raises(se.InvalidArgumentError, match=r"commit\(\) was called while another call"):
        await batches.commit()
    batch = await first
    assert len(batch) == 10
    # The refused calls changed nothing: the loop goes on from the batch in hand.
    seen = [e.event_id for e in batch]
    async for more in batches:
        seen += [e.event_id for e in more]
    assert len(seen) == len(set(seen)) == 30
    assert emu.pending_ids() == []
    await client.aclose()


def test_a_second_blocking_step_from_another_thread_is_refused(emu: Emulator) -> None:
    import threading

    emu.generate(30)
    emu.add_fault("latency", ms=1000, endpoint="fetch", times=1)
    client = se.AssessmentClient(**emu.client_kwargs())
    batches = client.batches(limit=10)
    results: list[object] = []
    calling = threading.Event()

    def step() -> None:
        calling.set()
        results.append(next(batches))

    worker = threading.Thread(target=step)
    worker.start()
    # The worker is about to take its step, which the latency then holds for a second.
    assert calling.wait(10)
    threading.Event().wait(0.2)
    with pytest.raises(se.InvalidArgumentError, match=r"__next__\(\) was called while another call"):
        next(batches)
    worker.join(10)
    assert len(results) == 1 and len(results[0]) == 10  # type: ignore[arg-type]
    assert sum(len(b) for b in batches) == 20
    assert emu.pending_ids() == []
    client.close()


def test_a_blocking_step_interrupted_before_it_gave_the_iterator_back_does_not_lock_it_for_good(
    emu: Emulator,
) -> None:
    import threading

    emu.generate(20)
    client = se.AssessmentClient(**emu.client_kwargs())
    batches = client.batches(limit=10)
    # What Ctrl-C between taking the step and the block that gives it back leaves behind.
    assert batches._one_step._lock.acquire(False)
    # Another thread is refused: for all it knows, a step is running.
    refused: list[BaseException] = []

    def other() -> None:
        try:
            next(batches)
        except se.InvalidArgumentError as e:
            refused.append(e)

    worker = threading.Thread(target=other)
    worker.start()
    worker.join(10)
    assert len(refused) == 1
    # The interrupted thread itself goes on.
    assert sum(len(b) for b in batches) == 20
    assert emu.pending_ids() == []
    client.close()
