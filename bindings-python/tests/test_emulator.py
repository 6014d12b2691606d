"""smartai_events.testing.Emulator itself."""

from __future__ import annotations

import pytest

import smartai_events as se
from smartai_events.testing import Emulator


def test_emulator_helpers() -> None:
    with Emulator(initial_events=5, rate_limit=False) as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.api_key.startswith("wc_ak_test_")
        assert emu.secret_key not in repr(emu)
        assert emu.stats()["pending"] == 5
        assert emu.enqueue([{"event": "assessment.reviewed"}]) == 1
        assert emu.generate(2) == 2
        assert len(emu.pending_ids()) == 8
        client = se.AssessmentClient(**emu.client_kwargs())
        client.drain(lambda e: None)
        assert len(emu.acknowledged_ids()) == 8
        log = emu.request_log()
        assert log and {"method", "path", "status", "request_id"} <= set(log[0])
        assert "python" in (log[0]["user_agent"] or "")
        emu.add_fault("latency", ms=1, endpoint="fetch", times=2)
        emu.add_fault({"kind": "reset", "endpoint": "acknowledge", "remaining": 1})
        assert len(emu.faults()) == 2
        emu.set_faults([{"kind": {"type": "status", "status": 500}}])
        assert emu.faults()[0]["kind"]["status"] == 500
        emu.clear_faults()
        assert emu.faults() == []
        emu.set_rate_limit(True)
        emu.set_rate_limit(False)
        emu.set_rate_limit(idle_poll_interval_ms=None, bucket={"per_second": 100.0, "burst": 100})
        emu.set_clock_offset_ms(0)
        emu.clear_request_log()
        assert emu.request_log() == []
        emu.reset()
        assert emu.stats()["pending"] == 0
        with pytest.raises(ValueError):
            emu.add_fault("status", status=500, probability=2.0)
    assert emu.closed
    with pytest.raises(RuntimeError):
        emu.generate(1)
    emu.close()  # idempotent


def test_acknowledged_history_bounds_the_listed_ids() -> None:
    with Emulator(initial_events=5, rate_limit=False, config={"acknowledged_history": 2}) as emu:
        expected = emu.pending_ids()[-2:]
        se.AssessmentClient(**emu.client_kwargs()).drain(lambda e: None)
        assert emu.acknowledged_ids() == expected
        assert emu.stats()["acknowledged_total"] == 5


async def test_emulator_async_context() -> None:
    async with Emulator(initial_events=3, rate_limit=False) as emu:
        async with se.AsyncAssessmentClient(**emu.client_kwargs()) as client:
            assert len(await client.get_webhook_events()) == 3


def test_rate_limits_on_by_default() -> None:
    with Emulator() as emu:
        client = se.AssessmentClient(**emu.client_kwargs(max_retries=0))
        client.get_webhook_events()  # empty queue: the next poll within 5 s is refused
        with pytest.raises(se.RateLimitedError) as info:
            client.get_webhook_events()
        assert info.value.retry_after is not None and info.value.retry_after > 0


def test_clock_skew_is_corrected() -> None:
    with Emulator(rate_limit=False, initial_events=2) as emu:
        emu.set_clock_offset_ms(40 * 60 * 1000)  # the server's clock runs 40 minutes ahead
        client = se.AssessmentClient(**emu.client_kwargs())
        assert len(client.get_webhook_events()) == 2


def test_a_generate_count_beyond_the_limit_is_refused(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="generate must be at most 10000000 events, got 100000000"):
        emu.generate(100_000_000)
    assert emu.stats()["pending"] == 0


def test_helpers_refuse_what_they_would_otherwise_drop_or_misread(emu: Emulator) -> None:
    with pytest.raises(ValueError, match=r"events\[1\] must be a JSON object, got 1"):
        emu.enqueue([{"eventId": "fine"}, 1])  # type: ignore[list-item]
    assert emu.pending_ids() == [], "nothing of a refused call is enqueued"
    with pytest.raises(ValueError, match="unknown field `retry_afterr`"):
        emu.add_fault("status", status=503, retry_afterr="2")
    with pytest.raises(TypeError, match="got True"):
        emu.generate(True)
    with pytest.raises(TypeError, match="rate_limit must be True, False or a mapping, got 'no'"):
        Emulator(rate_limit="no")  # type: ignore[arg-type]
    assert emu.stats()["pending"] == 0


def test_emulator_options_it_refuses_are_a_value_error_not_a_failure_to_start() -> None:
    with pytest.raises(ValueError, match="initial_events must be at most 10000000 events, got 1000000000"):
        Emulator(initial_events=10**9)
    with pytest.raises(ValueError, match="rate_limit.bucket.per_second must be"):
        Emulator(config={"rate_limit": {"bucket": {"per_second": 0, "burst": 5}}})


def test_a_misspelt_emulator_option_is_refused_by_name() -> None:
    # Left at its default, a misspelt rate-limit option would turn into 429s in the tests.
    with pytest.raises(ValueError, match="unknown field `rateLimit`"):
        Emulator(config={"rateLimit": None})
    with pytest.raises(ValueError, match="unknown field `apiKey`"):
        Emulator(config={"keys": [{"apiKey": "wc_ak_test_0123456789", "secret_key": "s"}]})


def _second_empty_poll_is_refused(emu: Emulator) -> bool:
    client = se.AssessmentClient(**emu.client_kwargs(max_retries=0))
    client.get_webhook_events()
    try:
        client.get_webhook_events()
    except se.RateLimitedError:
        return True
    return False


def test_set_rate_limit_refuses_an_explicit_none() -> None:
    # None restored the defaults while Node's setRateLimit(null) turned the limits off, so a
    # test ported from one to the other flipped. Both are refused now, saying what to pass.
    with Emulator(rate_limit=False) as emu:
        with pytest.raises(TypeError, match="set_rate_limit") as info:
            emu.set_rate_limit(None)  # type: ignore[arg-type]
        assert "pass False to turn the limits off, True (or no argument)" in str(info.value)
        assert "keyword arguments" in str(info.value)
        assert not _second_empty_poll_is_refused(emu), "a refused call changes nothing"
        emu.set_rate_limit()  # no argument: the defaults
        assert _second_empty_poll_is_refused(emu)
        emu.set_rate_limit(False)
        assert not _second_empty_poll_is_refused(emu)
        emu.set_rate_limit(idle_poll_interval_ms=5000)  # keyword arguments alone
        assert _second_empty_poll_is_refused(emu)


def test_emulator_rate_limit_option_refuses_none_saying_what_to_pass() -> None:
    with pytest.raises(TypeError, match="rate_limit") as info:
        Emulator(rate_limit=None)  # type: ignore[arg-type]
    assert "False to turn" in str(info.value)
    with Emulator() as emu:  # no argument: the platform's limits
        assert _second_empty_poll_is_refused(emu)


def test_enqueue_takes_a_single_event(emu: Emulator) -> None:
    # As Node's enqueue does; it iterated the dict's keys before.
    assert emu.enqueue({"eventId": "evt_single", "event": "assessment.reviewed"}) == 1
    assert emu.pending_ids() == ["evt_single"]


def test_generate_refuses_a_negative_count_as_a_value_error(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="generate needs a non-negative integer, got -1"):
        emu.generate(-1)
    with pytest.raises(ValueError, match=f"generate must be at most 10000000 events, got {2**70}"):
        emu.generate(2**70)
    assert emu.stats()["pending"] == 0


def test_set_clock_offset_ms_beyond_64_bits_is_a_value_error(emu: Emulator) -> None:
    for ms in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(ValueError, match=f"set_clock_offset_ms .*got {ms}"):
            emu.set_clock_offset_ms(ms)
    with pytest.raises(TypeError):
        emu.set_clock_offset_ms(1.5)  # type: ignore[arg-type]
    emu.set_clock_offset_ms(2**63 - 1)
    emu.set_clock_offset_ms(0)
