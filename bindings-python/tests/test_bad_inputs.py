"""Bad input, one table: every row must end in a clear typed error (its class and code, a
message naming the bad value) or, where the input is merely unusual, in success; never a
crash or a hang. Each row runs with the blocking and with the asyncio client. Rows that
need a server use the real emulator over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

import pytest

import smartai_events as se
from smartai_events.testing import Emulator

KEY = "wc_ak_test_0123456789"


class Client:
    """One shape for both clients: ``make(**kwargs)`` builds the client, ``call(name, ...)``
    runs one method to completion. For the asyncio client each call gets its own loop."""

    def __init__(self, flavour: str, emu: Emulator) -> None:
        self.flavour = flavour
        self.emu = emu

    def kwargs(self, **overrides: Any) -> dict[str, Any]:
        return self.emu.client_kwargs(**{"max_retries": 1, "timeout": 10.0, **overrides})

    def call(self, method: str, *args: Any, client: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        options = self.kwargs() if client is None else client
        if self.flavour == "blocking":
            with se.AssessmentClient(**options) as c:
                return getattr(c, method)(*args, **kwargs)

        async def go() -> Any:
            async with se.AsyncAssessmentClient(**options) as c:
                return await getattr(c, method)(*args, **kwargs)

        return asyncio.run(go())

    def make(self, *args: Any, **kwargs: Any) -> Any:
        cls = se.AssessmentClient if self.flavour == "blocking" else se.AsyncAssessmentClient
        return cls(*args, **kwargs)


@dataclass
class Case:
    name: str
    run: Callable[[Client], Any]
    error: Optional[type[se.SmartAIError]] = None  # None: the call must succeed
    fragments: tuple[str, ...] = ()


def fetch(**kwargs: Any) -> Callable[[Client], Any]:
    return lambda c: c.call("get_webhook_events", **kwargs)


def ack(ids: Any) -> Callable[[Client], Any]:
    return lambda c: c.call("acknowledge_webhook_events", ids)


def session(users: Any, **kwargs: Any) -> Callable[[Client], Any]:
    return lambda c: c.call("create_session", users, **kwargs)


def with_fault(kind: dict[str, Any], **kwargs: Any) -> Callable[[Client], Any]:
    def run(c: Client) -> Any:
        c.emu.add_fault({"kind": kind, "endpoint": "fetch"})
        return c.call("get_webhook_events", client=c.kwargs(**kwargs))

    return run


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ten_thousand_ids(c: Client) -> None:
    c.emu.generate(150)
    ids = c.emu.pending_ids() + [f"evt_unknown_{i}" for i in range(9_850)]
    assert c.call("acknowledge_webhook_events", ids).acknowledged == 150
    assert sum(1 for r in c.emu.request_log() if r["endpoint"] == "acknowledge") == 100
    assert c.emu.pending_ids() == []


def big_event(c: Client) -> None:
    c.emu.enqueue([{"eventId": "evt_big", "event": "assessment.completed", "score": 1, "padding": "é" * (5 << 20)}])
    batch = c.call("get_webhook_events")
    assert [e.event_id for e in batch.events] == ["evt_big"]
    assert len(batch.events[0]["padding"].encode()) == 10 << 20


def odd_ids(c: Client) -> None:
    odd = 'évt_ü"\\\n/\u2028\x01'
    c.emu.enqueue([{"eventId": odd, "event": "assessment.completed"}])
    assert c.call("acknowledge_webhook_events", [odd]).acknowledged == 1


def long_error_body(c: Client) -> None:
    c.emu.add_fault({"kind": {"type": "status", "status": 500, "body": "<html>" + "x" * (1 << 20)}})
    with pytest.raises(se.ServerError) as info:
        c.call("get_webhook_events")
    assert str(info.value).startswith("server error (HTTP 500): <html>xxx")
    assert len(str(info.value)) < 1_000


def clamped_limit(c: Client) -> None:
    c.emu.generate(150)
    assert len(c.call("get_webhook_events", limit=10_000).events) == 100
    # However large: 2**63 is an integer >= 1, so it is clamped too, not refused as below 1.
    assert len(c.call("get_webhook_events", limit=2**63).events) == 100


def run_with(**kwargs: Any) -> Callable[[Client], Any]:
    def run(c: Client) -> Any:
        client = c.kwargs(min_poll_interval=5.0)
        return c.call("run", lambda events: None, client=client, **kwargs)

    return run


def build(*args: Any, **kwargs: Any) -> Callable[[Client], Any]:
    return lambda c: c.make(*args, **kwargs)


def emulator_client(**overrides: Any) -> Callable[[Client], Any]:
    return lambda c: c.call("get_webhook_events", client=c.kwargs(**overrides))


IA, CF = se.InvalidArgumentError, se.ConfigurationError

CASES = [
    # limit: ranges and types
    Case("limit 0", fetch(limit=0), IA, ("limit must be an integer >= 1", "got 0")),
    Case("limit negative", fetch(limit=-7), IA, ("got -7",)),
    Case("limit beyond i64", fetch(limit=10**20), IA, ("limit", "100000000000000000000")),
    Case("limit a string", fetch(limit="5"), IA, ('"5" (a string)',)),
    Case("limit a fraction", fetch(limit=1.5), IA, ("got 1.5",)),
    Case("limit NaN", fetch(limit=float("nan")), IA, ("limit must be a finite number", "got NaN")),
    Case("limit a boolean", fetch(limit=True), IA, ("true (a boolean)",)),
    Case("limit a dict", fetch(limit={"n": 5}), IA, ("limit must be", "an object")),
    Case("limit above the cap is clamped", clamped_limit),
    # since
    Case("since in seconds", fetch(since=1_717_200_000), IA, ("1717200000", "looks like seconds")),
    Case("since negative", fetch(since=-5), IA, ("non-negative", "got -5")),
    Case("since a string", fetch(since="yesterday"), IA, ('"yesterday" (a string)',)),
    Case("since infinite", fetch(since=float("inf")), IA, ("since must be a finite number", "got inf")),
    Case("since beyond i64", fetch(since=10**20), IA, ("since", "100000000000000000000")),
    Case("since a naive datetime", fetch(since=datetime(2026, 1, 1)), IA, ("timezone-aware", "naive")),
    # acknowledge IDs
    Case("no IDs", ack([]), IA, ("eventIds must be a non-empty array",)),
    Case("None as IDs", ack(None), IA, ("eventIds must be a non-empty array",)),
    Case("IDs as one string", ack("evt_1"), IA, ('eventIds must be a non-empty array, got "evt_1" (a string)',)),
    Case("an event as a dict instead of its IDs", ack({"eventId": "evt_1", "event": "x"}), IA, ("eventIds must be a non-empty array",)),
    Case("an empty-string ID", ack(["evt_1", ""]), IA, ("eventIds[1]", '""')),
    Case("a number among the IDs", ack(["evt_1", 7]), IA, ("eventIds[1]", "got 7")),
    Case("a None ID", ack([None]), IA, ("eventIds[0]", "got null")),
    Case("bytes as an ID", ack([b"evt_1"]), IA, ("eventIds[0] has an unsupported type bytes",)),
    Case("a lone surrogate as an ID", ack(["evt_1", "\ud800"]), IA, ("eventIds[1] is not valid text",)),
    Case("an ID of 11 MB", ack(["x" * (11 << 20)]), se.InvalidRequestError, ("HTTP 413", "larger than 10485760 bytes")),
    Case("odd IDs are sent and signed as they are", odd_ids),
    Case("10,000 IDs go in chunks of 100", ten_thousand_ids),
    # base URL and keys
    Case("base URL not a URL", build(KEY, "s", "not a url"), CF, ("invalid base URL", '"not a url"')),
    Case("base URL ftp", build(KEY, "s", "ftp://example.com"), CF, ('"ftp://example.com"', "ftp")),
    Case("base URL plain http, remote", build(KEY, "s", "http://example.com"), CF, ("insecure", "http://example.com")),
    Case("base URL empty", build(KEY, "s", ""), CF, ("invalid base URL", '""', "empty")),
    Case("base URL not a string", build(KEY, "s", 8080), CF, ("base_url must be a string", "a number")),
    Case("API key empty", build("", "s"), CF, ("API key given is empty", "ASSESSMENT_API_KEY")),
    Case("secret key blank", build(KEY, "  "), CF, ("secret key given is empty", "ASSESSMENT_SECRET_KEY")),
    Case("missing API key", build(secret_key="s"), CF, ("Missing API key",)),
    Case("missing secret key", build(api_key=KEY), CF, ("Missing secret key",)),
    Case("wrong API key", emulator_client(api_key="wc_ak_test_not_a_real_key_0000"), se.AuthenticationError,
         ("HTTP 401", "Invalid API key")),
    Case("wrong secret key", emulator_client(secret_key="wc_sk_test_wrong"), se.AuthenticationError,
         ("HTTP 401", "Invalid signature")),
    # what the server sends back
    Case("a body that is not JSON", with_fault({"type": "malformed_json"}), se.DecodeError, ("the body starts with",)),
    Case("a 10 MB body that is not JSON", with_fault({"type": "oversized_body", "bytes": 10 << 20}), se.DecodeError,
         ('{\\"events\\":[xxx',)),
    Case("a body above 64 MiB", with_fault({"type": "oversized_body", "bytes": 70 << 20}), se.DecodeError,
         ("larger than 67108864 bytes",)),
    Case("one event of 10 MB decodes", big_event),
    Case("a truncated body", with_fault({"type": "truncate"}), se.NetworkError, ("network error", "body")),
    Case("a 500 with a 1 MB body is quoted short", long_error_body),
    Case("a server that hangs", with_fault({"type": "hang"}, timeout=0.3), se.SmartAITimeoutError,
         ("no complete response within 0.3 s",)),
    Case("connection refused", lambda c: c.call("get_webhook_events", client=c.kwargs(
        base_url=f"http://127.0.0.1:{closed_port()}", max_retries=2)), se.NetworkError, ("network error", "127.0.0.1")),
    # sessions
    Case("session without users", session([], recruiter_id="r"), IA, ("users must be a non-empty array",)),
    Case("session without recruiter", session([{"name": "A", "email": "a@b.com"}]), IA,
         ("recruiterId or recruiterEmail",)),
    Case("session user without email", session([{"name": "A", "email": "a@b.com"}, {"name": "B"}], recruiter_id="r"),
         IA, ("email is required", "users[1]")),
    Case("session users a string", session("alice", recruiter_id="r"), IA, ("users must be a non-empty array",)),
    Case("session user name a number", session([{"name": 5, "email": "a@b.com"}], recruiter_id="r"), IA,
         ("users[0].name must be a string, got 5",)),
    Case("session user name a lone surrogate", session([{"name": "\ud800", "email": "a@b.com"}], recruiter_id="r"),
         IA, ("users[0].name is not valid text",)),
    Case("session user email bytes", session([{"name": "A", "email": b"a@b.com"}], recruiter_id="r"), IA,
         ("users[0].email has an unsupported type bytes",)),
    Case("session recruiter_id a lone surrogate", session([{"name": "A", "email": "a@b.com"}], recruiter_id="\ud800"),
         IA, ("recruiterId is not valid text",)),
    Case("session recruiter_id a number", session([{"name": "A", "email": "a@b.com"}], recruiter_id=42), IA,
         ("recruiterId must be a string", "got 42")),
    # run and drain
    Case("run interval below 5 s", run_with(interval=1.0), IA, ("interval must be at least 5 s", "got 1 s")),
    Case("run interval of a microsecond", run_with(interval=1e-6), IA, ("at least 5 s", "got 0.000001 s")),
    Case("run ordered with a dead_letter hook", run_with(ordered=True, dead_letter=lambda events, reason: None), IA,
         ("dead_letter is never called when ordered is true",)),
    Case("run interval negative", run_with(interval=-1.0), IA, ("interval", "-1")),
    Case("run interval beyond a duration", run_with(interval=1e300), IA, ("interval is too large", "1e+300")),
    Case("run interval infinite", run_with(interval=float("inf")), IA, ("interval must be a finite number", "got inf")),
    Case("run stop of the wrong kind", lambda c: c.call(
        "run", lambda e: None, interval=5.0, stop=threading.Event() if c.flavour == "async" else True),
        IA, ("stop must be", "got ")),
    Case("run stop a string", run_with(interval=5.0, stop="now"), IA, ("stop must be", "got str")),
    Case("run max_attempts 0", run_with(interval=5.0, max_attempts=0), IA, ("max_attempts must be an integer >= 1, got 0",)),
    Case("drain handler not callable", lambda c: c.call("drain", 42), IA, ("handler must be callable", "int")),
    Case("drain max_events 0", lambda c: c.call("drain", lambda e: None, max_events=0), IA, (">= 1, got 0",)),
    # client options
    Case("timeout negative", build(KEY, "s", timeout=-1), IA, ("timeout", "got -1")),
    Case("timeout zero", build(KEY, "s", timeout=0), IA, ("timeout must be greater than 0",)),
    Case("timeout beyond a duration", build(KEY, "s", timeout=1e300), IA, ("timeout is too large", "1e+300")),
    Case("connect_timeout infinite", build(KEY, "s", connect_timeout=float("inf")), IA, ("connect_timeout", "got inf")),
    Case("min_poll_interval negative", build(KEY, "s", min_poll_interval=-1), IA, ("min_poll_interval", "got -1")),
    Case("timeout NaN", build(KEY, "s", timeout=float("nan")), IA, ("timeout must be a finite number", "got NaN")),
    Case("timeout a string", build(KEY, "s", timeout="5"), IA, ("timeout", '"5" (a string)')),
    Case("max_retries negative", build(KEY, "s", max_retries=-1), IA, ("max_retries", "got -1")),
    Case("max_retries huge", build(KEY, "s", max_retries=10**6), IA, ("max_retries", "got 1000000")),
    Case("max_retries a fraction", build(KEY, "s", max_retries=1.5), IA, ("max_retries", "got 1.5")),
    Case("allow_insecure_http a string", build(KEY, "s", allow_insecure_http="yes"), IA,
         ("allow_insecure_http must be a boolean", '"yes"')),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 20
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ASSESSMENT_API_KEY", "ASSESSMENT_SECRET_KEY", "ASSESSMENT_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("flavour", ["blocking", "async"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(emu: Emulator, no_env: None, case: Case, flavour: str) -> None:
    client = Client(flavour, emu)
    if case.error is None:
        case.run(client)
        return
    with pytest.raises(se.SmartAIError) as info:
        case.run(client)
    err = info.value
    assert type(err) is case.error, f"{type(err).__name__}: {err}"
    assert err.code == case.error.code
    for fragment in case.fragments:
        assert fragment in str(err), f"{str(err)!r} does not name {fragment!r}"


def test_a_hopeless_input_never_takes_the_interpreter_down() -> None:
    """The worst rows again in a separate interpreter: it must exit normally, by itself."""
    script = textwrap.dedent(
        """
        import smartai_events as se
        from smartai_events.testing import Emulator
        with Emulator(rate_limit=False) as emu:
            emu.add_fault({"kind": {"type": "oversized_body", "bytes": 70 << 20}, "endpoint": "fetch", "remaining": 1})
            emu.add_fault({"kind": {"type": "hang"}, "endpoint": "acknowledge"})
            c = se.AssessmentClient(**emu.client_kwargs(timeout=30, max_retries=0))
            quick = se.AssessmentClient(**emu.client_kwargs(timeout=0.3, max_retries=0))
            for call in (lambda: c.get_webhook_events(), lambda: quick.acknowledge_webhook_events(["x"]),
                         lambda: c.get_webhook_events(limit=float("nan"))):
                try:
                    call()
                except se.SmartAIError as e:
                    print(e.code)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["DECODE", "TIMEOUT", "INVALID_ARGUMENT"]
