"""drain with plain and async handlers, under injected faults; failing handlers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

import smartai_events as se
from smartai_events.testing import Emulator

from conftest import seed_event

FAULTS = [
    {"kind": {"type": "status", "status": 503}, "endpoint": "fetch", "probability": 0.3},
    {"kind": {"type": "status", "status": 500}, "endpoint": "acknowledge", "probability": 0.2},
    {"kind": {"type": "reset"}, "endpoint": "fetch", "probability": 0.1},
    {"kind": {"type": "applied_but_lost"}, "endpoint": "acknowledge", "probability": 0.1},
    {"kind": {"type": "truncate"}, "endpoint": "fetch", "probability": 0.1},
]


def test_drain_sync_under_faults(emu: Emulator) -> None:
    emu.generate(450)
    expected = set(emu.pending_ids())
    emu.set_faults(FAULTS)
    client = se.AssessmentClient(**emu.client_kwargs(max_retries=12))
    seen: Counter[str] = Counter()

    def handler(events: list[se.WebhookEvent]) -> None:
        seen.update(e.event_id for e in events)

    summary = client.drain(handler, limit=40)
    assert set(seen) == expected
    assert max(seen.values()) == 1  # every event once
    assert summary.events == 450
    assert summary.batches >= 12
    emu.clear_faults()
    assert emu.pending_ids() == []


async def test_drain_async_under_faults(emu: Emulator) -> None:
    emu.generate(300)
    expected = set(emu.pending_ids())
    emu.set_faults(FAULTS)
    client = se.AsyncAssessmentClient(**emu.client_kwargs(max_retries=12))
    seen: Counter[str] = Counter()
    loop = asyncio.get_running_loop()

    async def handler(events: list[se.WebhookEvent]) -> None:
        assert asyncio.get_running_loop() is loop  # handlers run on the caller's loop
        await asyncio.sleep(0)
        seen.update(e.event_id for e in events)

    summary = await client.drain(handler, limit=50)
    assert set(seen) == expected and max(seen.values()) == 1
    assert summary.events == 300
    emu.clear_faults()
    assert emu.pending_ids() == []


async def test_async_client_takes_plain_handler(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(30)
    seen: list[str] = []
    summary = await aclient.drain(lambda events: seen.extend(e.event_id for e in events), limit=10)
    assert len(seen) == 30 and summary.batches == 3 and summary.acknowledged == 30


def test_failing_handler_leaves_its_batch(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(25)
    calls: list[int] = []

    def handler(events: list[se.WebhookEvent]) -> None:
        calls.append(len(events))
        if len(calls) == 2:
            raise KeyError("database down")

    with pytest.raises(se.HandlerError) as info:
        client.drain(handler, limit=10)
    err = info.value
    assert err.code == "HANDLER"
    assert isinstance(err.__cause__, KeyError)
    assert "database down" in str(err)
    # The first batch was acknowledged, the failing one was not.
    assert len(emu.pending_ids()) == 15


async def test_failing_async_handler(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(5)

    async def handler(events: list[se.WebhookEvent]) -> None:
        raise RuntimeError("nope")

    with pytest.raises(se.HandlerError) as info:
        await aclient.drain(handler)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert len(emu.pending_ids()) == 5


def test_a_blocking_handler_returning_a_coroutine_fails_its_batch(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(se.HandlerError) as info:
            client.drain(lambda events: asyncio.sleep(0))
        gc.collect()
    assert isinstance(info.value.__cause__, TypeError)
    message = str(info.value)
    assert "returned a coroutine" in message and "AsyncAssessmentClient" in message, message
    # The coroutine was closed, not left to be collected unawaited.
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
    assert len(emu.pending_ids()) == 5


async def test_a_handler_with_yield_is_refused_and_acknowledges_nothing(
    emu: Emulator, client: se.AssessmentClient, aclient: se.AsyncAssessmentClient
) -> None:
    emu.generate(5)

    def gen(events: list[se.WebhookEvent]) -> Iterator[se.WebhookEvent]:
        yield from events

    async def agen(events: list[se.WebhookEvent]) -> AsyncIterator[se.WebhookEvent]:
        for e in events:
            yield e

    # A generator function is refused up front, before anything is fetched.
    for handler in (gen, agen):
        with pytest.raises(se.InvalidArgumentError, match="handler is a generator function"):
            client.drain(handler)  # type: ignore[arg-type]
        with pytest.raises(se.InvalidArgumentError, match="handler is a generator function"):
            await aclient.drain(handler)  # type: ignore[arg-type]
    with pytest.raises(se.InvalidArgumentError, match="dead_letter is a generator function"):
        await aclient.run(lambda events: None, dead_letter=agen, stop=asyncio.Event())  # type: ignore[arg-type]
    assert emu.request_log() == []

    # One that only returns a generator ran none of its body: its batch failed.
    with pytest.raises(se.HandlerError) as info:
        client.drain(lambda events: gen(events))
    assert isinstance(info.value.__cause__, TypeError)
    assert "handler returned a generator" in str(info.value)
    with pytest.raises(se.HandlerError) as info:
        await aclient.drain(lambda events: agen(events))
    assert isinstance(info.value.__cause__, TypeError)
    assert "handler returned an async generator" in str(info.value)
    assert len(emu.pending_ids()) == 5


async def test_cancelling_a_drain_cancels_its_handler(emu: Emulator, aclient: se.AsyncAssessmentClient) -> None:
    emu.generate(5)
    outcome: list[str] = []

    async def slow(events: list[se.WebhookEvent]) -> None:
        try:
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("finished")

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(aclient.drain(slow), 0.3)
    await asyncio.sleep(1.2)  # long enough for a detached handler to finish
    assert outcome == ["cancelled"]
    assert len(emu.pending_ids()) == 5


def test_drain_bounds(emu: Emulator, client: se.AssessmentClient) -> None:
    emu.generate(50)
    s = client.drain(lambda e: None, limit=10, max_batches=2)
    assert s.batches == 2 and s.events == 20 and s.pending_count == 30
    s = client.drain(lambda e: None, limit=100, max_events=7)
    assert s.events == 7


def test_ack_failure_stops_drain(emu: Emulator) -> None:
    emu.generate(5)
    emu.add_fault("status", status=503, endpoint="acknowledge")
    client = se.AssessmentClient(**emu.client_kwargs(max_retries=1))
    with pytest.raises(se.ServerError):
        client.drain(lambda e: None)
    emu.clear_faults()
    assert len(emu.pending_ids()) == 5


async def test_cancel_async_call(emu: Emulator) -> None:
    emu.add_fault("hang", endpoint="fetch")
    client = se.AsyncAssessmentClient(**emu.client_kwargs(timeout=60))
    task = asyncio.create_task(client.get_webhook_events())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


def test_many_event_loops(emu: Emulator) -> None:
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    for _ in range(5):
        emu.generate(3)
        seen: list[str] = []

        async def handler(events: list[se.WebhookEvent]) -> None:
            seen.extend(e.event_id for e in events)

        assert asyncio.run(client.drain(handler)).events == 3
        assert len(seen) == 3


def test_close_cancels_blocking_call_from_another_thread(emu: Emulator) -> None:
    import threading

    emu.add_fault("hang", endpoint="fetch")
    client = se.AssessmentClient(**emu.client_kwargs(timeout=120))
    threading.Timer(0.3, client.close).start()
    with pytest.raises(se.CancelledError) as info:
        client.get_webhook_events()
    assert info.value.code == "CANCELLED"
    assert str(info.value) == "cancelled: the client was closed"
    with pytest.raises(se.CancelledError, match="the client was closed"):
        client.get_webhook_events()


CLOSED = "cancelled: the client was closed"  # the core's Error::Closed


def _refused_as_closed(call: Callable[[], object]) -> None:
    with pytest.raises(se.CancelledError) as info:
        call()
    assert info.value.code == "CANCELLED" and str(info.value) == CLOSED, repr(info.value)


def test_every_call_on_a_closed_blocking_client_raises_the_cores_cancelled_error(emu: Emulator) -> None:
    emu.generate(5)
    client = se.AssessmentClient(**emu.client_kwargs())
    client.close()
    _refused_as_closed(lambda: client.get_webhook_events())
    _refused_as_closed(lambda: client.acknowledge_webhook_events(["evt_1"]))
    _refused_as_closed(lambda: client.create_session([{"name": "A", "email": "a@b.com"}], recruiter_id="r"))
    _refused_as_closed(lambda: client.drain(lambda events: None))
    _refused_as_closed(lambda: client.run(lambda events: None, interval=0.1))
    batches = client.batches()
    _refused_as_closed(lambda: next(batches))
    _refused_as_closed(batches.commit)
    assert client.health().polls == 0  # health() still works
    client.close()  # idempotent
    assert len(emu.pending_ids()) == 5 and emu.request_log() == []


async def test_every_call_on_a_closed_async_client_raises_the_cores_cancelled_error(emu: Emulator) -> None:
    emu.generate(5)
    client = se.AsyncAssessmentClient(**emu.client_kwargs())
    await client.aclose()
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: client.get_webhook_events(),
        lambda: client.acknowledge_webhook_events(["evt_1"]),
        lambda: client.create_session([{"name": "A", "email": "a@b.com"}], recruiter_id="r"),
        lambda: client.drain(lambda events: None),
        lambda: client.run(lambda events: None, interval=0.1),
        lambda: client.batches().__anext__(),
        lambda: client.batches().commit(),
    ]
    for call in calls:
        with pytest.raises(se.CancelledError) as info:
            await call()
        assert info.value.code == "CANCELLED" and str(info.value) == CLOSED, repr(info.value)
    assert client.health().polls == 0
    assert len(emu.pending_ids()) == 5 and emu.request_log() == []


async def test_aclose_cancels_async_calls(emu: Emulator) -> None:
    emu.add_fault("hang", endpoint="fetch")
    client = se.AsyncAssessmentClient(**emu.client_kwargs(timeout=120))
    task = asyncio.create_task(client.get_webhook_events())
    await asyncio.sleep(0.3)
    await client.aclose()
    with pytest.raises(se.CancelledError):
        await asyncio.wait_for(task, 10)


def _hold_loop_until(done: Callable[[], bool], then: float) -> None:
    """Blocks the event loop (nothing native reaches it meanwhile) until ``done()``, then
    ``then`` seconds more."""
    while not done():
        pass
    time.sleep(then)


async def test_async_calls_pending_when_the_client_closes_raise_even_with_their_result_on_its_way(
    emu: Emulator,
) -> None:
    # The core finished the call, and its result waits for the loop, when the client is
    # closed on the loop: the call was in flight, so it ends with CancelledError all the same.
    def fetches() -> int:
        return sum(1 for r in emu.request_log() if r["endpoint"] == "fetch")

    for round in range(5):
        emu.reset()
        emu.enqueue([seed_event(eventId=f"cls{round}_{i}") for i in range(2)])
        client = se.AsyncAssessmentClient(**emu.client_kwargs(min_poll_interval=0))
        before = fetches()
        fetching = asyncio.ensure_future(client.get_webhook_events(limit=1))
        await asyncio.sleep(0)
        _hold_loop_until(lambda: fetches() > before, 0.03)
        await client.aclose()
        with pytest.raises(se.CancelledError, match="the client was closed"):
            await fetching

        client = se.AsyncAssessmentClient(**emu.client_kwargs(min_poll_interval=0))
        batches = client.batches(limit=1)
        await batches.__anext__()
        before = fetches()
        stepping = asyncio.ensure_future(batches.__anext__())
        await asyncio.sleep(0)
        _hold_loop_until(lambda: fetches() > before, 0.03)
        await client.aclose()
        with pytest.raises(se.CancelledError, match="the client was closed"):
            await stepping
        # The first batch was finished (asking for more acknowledged it); the second reached
        # no one and is not acknowledged.
        assert emu.pending_ids() == [f"cls{round}_1"]


def test_close_stops_run_gracefully(emu: Emulator) -> None:
    import threading

    emu.generate(5)
    client = se.AssessmentClient(**emu.client_kwargs())
    threading.Timer(0.5, client.close).start()
    summary = client.run(lambda events: None, interval=0.1)
    assert summary.events == 5 and emu.pending_ids() == []


def test_a_blocking_handler_may_call_its_own_client_and_others(emu: Emulator, client: se.AssessmentClient) -> None:
    # The handler runs on the calling thread between turns of the client's runtime, so a
    # blocking call inside it (on the same client or another one) neither deadlocks nor
    # panics for a runtime inside a runtime.
    emu.generate(30)
    other = se.AssessmentClient(**emu.client_kwargs())
    seen: list[str] = []
    peeked: list[int] = []

    def handler(events: list[se.WebhookEvent]) -> None:
        peeked.append(len(client.get_webhook_events(limit=5).events))
        assert other.acknowledge_webhook_events([events[0].event_id]).acknowledged in (0, 1)
        seen.extend(e.event_id for e in events)

    summary = client.drain(handler, limit=10)
    other.close()
    assert summary.events == 30 and len(set(seen)) == 30
    assert peeked and all(n <= 5 for n in peeked)
    assert emu.pending_ids() == []


def test_a_blocking_client_survives_the_server_closing_its_idle_connection() -> None:
    # Between two blocking calls nothing drives the client's runtime, so the pooled
    # connection does not see the server close it. The next call must notice before it
    # sends (no retries are allowed here, so a request on the dead connection would fail).
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 0.2  # the server closes a connection idle this long

        def do_GET(self) -> None:
            body = b'{"events":[],"pendingCount":0}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    client = se.AssessmentClient(
        api_key="wc_ak_test_x", secret_key="wc_sk_test_x", base_url=url, max_retries=0, min_poll_interval=0.0
    )
    try:
        for _ in range(3):
            assert client.get_webhook_events().events == []
            time.sleep(0.6)
    finally:
        client.close()
        server.shutdown()


async def test_an_async_handler_whose_result_is_an_unawaited_coroutine_fails_its_batch(
    emu: Emulator, aclient: se.AsyncAssessmentClient
) -> None:
    # `return save(events)` in an async def (a forgotten `await`): save's body never ran.
    emu.generate(5)
    saved: list[str] = []

    async def save(events: list[se.WebhookEvent]) -> None:
        saved.extend(e.event_id for e in events)

    async def handler(events: list[se.WebhookEvent]) -> object:
        return save(events)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(se.HandlerError) as info:
            await aclient.drain(handler)
        gc.collect()
    assert isinstance(info.value.__cause__, TypeError)
    assert "coroutine" in str(info.value)
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
    assert saved == []
    assert len(emu.pending_ids()) == 5


async def test_an_async_handler_whose_result_is_a_generator_fails_its_batch(
    emu: Emulator, aclient: se.AsyncAssessmentClient
) -> None:
    emu.generate(5)
    saved: list[str] = []

    def save(events: list[se.WebhookEvent]) -> Iterator[None]:
        saved.extend(e.event_id for e in events)
        yield None

    async def handler(events: list[se.WebhookEvent]) -> object:
        return save(events)

    with pytest.raises(se.HandlerError) as info:
        await aclient.drain(handler)
    assert isinstance(info.value.__cause__, TypeError)
    assert saved == []
    assert len(emu.pending_ids()) == 5


async def test_a_handler_leaving_a_thread_future_fails_its_batch(
    emu: Emulator, client: se.AssessmentClient, aclient: se.AsyncAssessmentClient
) -> None:
    # `return executor.submit(save, events)`: a forgotten `.result()`; the save may not have
    # run (here it waits on a gate), so its batch must not be acknowledged.
    emu.generate(5)
    gate = threading.Event()
    saved: list[str] = []

    def save(events: list[se.WebhookEvent]) -> None:
        gate.wait(10)
        saved.extend(e.event_id for e in events)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:

        def plain(events: list[se.WebhookEvent]) -> object:
            return pool.submit(save, events)

        async def resolving(events: list[se.WebhookEvent]) -> object:
            return pool.submit(save, events)

        with pytest.raises(se.HandlerError) as blocking:
            await asyncio.to_thread(client.drain, plain)
        for handler in (plain, resolving):
            with pytest.raises(se.HandlerError) as info:
                await aclient.drain(handler)
            assert isinstance(info.value.__cause__, TypeError)
            assert "concurrent.futures.Future" in str(info.value) and ".result()" in str(info.value)
        assert "returned a concurrent.futures.Future" in str(blocking.value)
        assert len(emu.pending_ids()) == 5, "nothing acknowledged"
        gate.set()


def test_an_event_with_a_repeated_event_id_is_malformed_read_with_the_last_id_and_acknowledged(
    emu: Emulator,
) -> None:
    import datetime
    import urllib.request

    # Enqueued as text through the admin API: a dict cannot repeat a key.
    stored_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
    text = f'[{{"eventId":"first","event":"assessment.reviewed","storedAt":"{stored_at}","eventId":"second"}}]'
    request = urllib.request.Request(f"{emu.url}/_emulator/events", data=text.encode(), method="POST")
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 200
    assert emu.pending_ids() == ["second"]
    seen: list[tuple[str, str, object]] = []
    with se.AssessmentClient(**emu.client_kwargs()) as client:
        summary = client.drain(lambda batch: seen.extend((e.event_id, e.event_type, e.decode_error) for e in batch))
    assert seen == [("second", "assessment.reviewed", "duplicate field `eventId`")]
    assert summary.acknowledged == 1
    assert emu.pending_ids() == []
