#!/usr/bin/env python3
"""Conformance runner for Python: runs every scenario in scenarios/*.json through the public
API of `smartai_events` against the in-process emulator (`smartai_events.testing.Emulator`),
twice: with the asyncio client (`AsyncAssessmentClient`) and with the blocking client
(`AssessmentClient`, called from a worker thread). A scenario passes when both pass.
`"skip": {"python": ...}` skips both, `"skip": {"python-blocking": ...}` only the blocking run.
CONFORMANCE_PY_CLIENT=async (or blocking) runs one client only.

    .venv/bin/python tests/conformance/run_python.py [name-substring ...]

Prints one line per difference and ends with `conformance python: N passed, M failed[, K skipped]`.
All expectations live in the JSON files; this file only executes steps and reports outcomes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import email.utils
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional

from smartai_events import AssessmentClient, AsyncAssessmentClient, SmartAIError, UnknownEvent
from smartai_events.testing import Emulator

LANG = "python"
HERE = Path(__file__).resolve().parent
STEP_GUARD_S = 60.0  # catches hangs only; never a timing assertion

# The SDK logs retries and handler failures; scenarios provoke them on purpose.
logging.getLogger("smartai_events").addHandler(logging.NullHandler())
logging.getLogger("smartai_events").propagate = False


# ------------------------------------------------------------------------------- helpers
def substitute(value: Any) -> Any:
    """Replaces runner placeholders in fault rules (computed when the rule is installed)."""
    if isinstance(value, str):
        if value == "$HTTP_DATE_PLUS_2S":
            return email.utils.formatdate(time.time() + 2, usegmt=True)
        return value
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    return value


def error_outcome(err: BaseException) -> dict[str, Any]:
    if not isinstance(err, SmartAIError):
        return {"code": f"NOT_A_SMARTAI_ERROR({type(err).__name__})", "message": str(err)}
    retry_after = getattr(err, "retry_after", None)
    return {
        "code": err.code,
        "message": str(err),
        "status": err.status,
        "retry_after_ms": None if retry_after is None else round(retry_after * 1000),
    }


class Tally:
    """What the handlers saw."""

    def __init__(self) -> None:
        self.handler_calls = 0
        self.handled_ok = 0
        self.events: list[Any] = []
        self.dead_lettered_ids: list[str] = []

    def see(self, events: list[Any]) -> None:
        self.events.extend(events)


def classify(events: list[Any]) -> dict[str, Any]:
    return {
        "unknown": sum(1 for e in events if isinstance(e, UnknownEvent)),
        "decode_errors": sum(1 for e in events if getattr(e, "decode_error", None) is not None),
        "event_ids": [e.event_id for e in events],
    }


def make_handler(step: dict[str, Any], tally: Tally, stop: Optional[asyncio.Event]) -> Any:
    fail_ids = set(step.get("fail_event_ids", []))

    def handler(events: list[Any]) -> None:
        tally.handler_calls += 1
        tally.see(events)
        n = tally.handler_calls
        if step.get("fail_on_batch") == n or any(e.event_id in fail_ids for e in events):
            raise RuntimeError(f"boom on batch {n}")
        tally.handled_ok += len(events)
        limit = step.get("stop_after_events")
        if stop is not None and limit is not None and tally.handled_ok >= limit:
            stop.set()

    return handler


# ------------------------------------------------------------------------------- steps
Client = Any  # AsyncAssessmentClient or AssessmentClient
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="blocking-client")


def blocking(client: Client) -> bool:
    return isinstance(client, AssessmentClient)


async def call(client: Client, method: Any, *args: Any, **kwargs: Any) -> Any:
    """Awaits an async client's method, or runs a blocking client's method on a worker thread."""
    if blocking(client):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_EXECUTOR, lambda: method(*args, **kwargs))
    return await method(*args, **kwargs)


async def op_fetch(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: step[k] for k in ("limit", "since") if k in step}
    batch = await call(client, client.get_webhook_events, **kwargs)
    return {"events": len(batch.events), "pending_count": batch.pending_count, **classify(list(batch.events))}


def ack_ids(emu: Emulator, step: dict[str, Any]) -> Any:
    ids = step.get("ids", "all_pending")
    if ids == "all_pending":
        ids = emu.pending_ids()
    elif ids == "acknowledged":
        ids = emu.acknowledged_ids()
    if "count" in step:
        ids = emu.pending_ids()[: step["count"]]
    if not isinstance(ids, list):
        return ids  # a wrong type on purpose (validation scenarios)
    repeat = step.get("repeat", 1)
    return [i for i in ids for _ in range(repeat)]


async def op_ack(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any]) -> dict[str, Any]:
    result = await call(client, client.acknowledge_webhook_events, ack_ids(emu, step))
    return {"acknowledged": result.acknowledged}


def drain_kwargs(step: dict[str, Any]) -> dict[str, Any]:
    names = {"limit": "limit", "since": "since", "max_events": "max_events", "max_batches": "max_batches"}
    return {py: step[k] for k, py in names.items() if k in step}


async def op_session(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any]) -> dict[str, Any]:
    token = await call(
        client,
        client.create_session,
        step.get("users", []),
        recruiter_id=step.get("recruiter_id"),
        recruiter_email=step.get("recruiter_email"),
    )
    return {"token": bool(token.token), "expires_at": token.expires_at is not None}


async def op_drain(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any], tally: Tally) -> dict[str, Any]:
    s = await call(client, client.drain, make_handler(step, tally, None), **drain_kwargs(step))
    return {"events": s.events, "batches": s.batches, "acknowledged": s.acknowledged, "pending_count": s.pending_count}


async def op_batches(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any], tally: Tally) -> dict[str, Any]:
    it = client.batches(**drain_kwargs(step))
    after = step.get("faults_after_batch")

    def body(batch: Any) -> bool:
        """Handles one batch; True to break out of the loop."""
        tally.handler_calls += 1
        tally.see(list(batch.events))
        if after and after["batch"] == tally.handler_calls:
            for rule in substitute(after["faults"]):
                emu.add_fault(rule)
        return bool(step.get("break_after") == tally.handler_calls)

    if blocking(client):

        def loop_in_thread() -> None:
            for batch in it:  # no `with` block: a break acknowledges nothing, as in Rust and Node
                if body(batch):
                    if step.get("commit_before_break"):
                        it.commit()
                    break

        await call(client, loop_in_thread)
        return {}
    async for batch in it:
        if body(batch):
            if step.get("commit_before_break"):
                await it.commit()
            break
    return {}


async def op_run(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any], tally: Tally) -> dict[str, Any]:
    stop: Any = threading.Event() if blocking(client) else asyncio.Event()
    loop = asyncio.get_running_loop()
    timer = None
    if "stop_after_ms" in step:
        timer = loop.call_later(step["stop_after_ms"] / 1000, stop.set)

    def dead_letter(events: list[Any], reason: str) -> None:
        tally.dead_lettered_ids.extend(e.event_id for e in events)
        limit = step.get("stop_after_dead_letters")
        if limit is not None and len(tally.dead_lettered_ids) >= limit:
            stop.set()

    try:
        s = await call(
            client,
            client.run,
            make_handler(step, tally, stop),
            interval=step.get("interval_ms", 100) / 1000,
            stop=stop,
            max_attempts=step.get("max_attempts", 5),
            ordered=step.get("ordered", False),
            dead_letter=dead_letter if step.get("dead_letter") else None,
            **drain_kwargs(step),
        )
    finally:
        if timer is not None:
            timer.cancel()
    return {"events": s.events, "acknowledged": s.acknowledged}


async def run_step(client: AsyncAssessmentClient, emu: Emulator, step: dict[str, Any]) -> dict[str, Any]:
    op = step["op"]
    tally = Tally()
    out: dict[str, Any] = {}
    try:
        if op == "fetch" and "cancel_after_ms" in step:
            try:
                out = await asyncio.wait_for(op_fetch(client, emu, step), step["cancel_after_ms"] / 1000)
                out["cancelled"] = False
            except asyncio.TimeoutError:
                out = {"cancelled": True}
        elif op == "fetch":
            out = await op_fetch(client, emu, step)
        elif op == "sleep":
            await asyncio.sleep(step["ms"] / 1000)
        elif op == "ack":
            out = await op_ack(client, emu, step)
        elif op == "session":
            out = await op_session(client, emu, step)
        elif op == "drain":
            out = await op_drain(client, emu, step, tally)
        elif op == "batches":
            out = await op_batches(client, emu, step, tally)
        elif op == "run":
            out = await op_run(client, emu, step, tally)
        else:
            raise ValueError(f"unknown op {op!r}")
        out["error"] = None
    except SmartAIError as err:
        out["error"] = error_outcome(err)
    if op in ("drain", "batches", "run"):
        out["handler_calls"] = tally.handler_calls
        out.setdefault("events", len(tally.events))
        if op == "batches":
            out["batches"] = tally.handler_calls
        c = classify(tally.events)
        out["unknown"], out["decode_errors"] = c["unknown"], c["decode_errors"]
        out["dead_lettered"] = len(tally.dead_lettered_ids)
        out["dead_lettered_ids"] = tally.dead_lettered_ids
    return out


# ------------------------------------------------------------------------------- checks
def compare(where: str, expect: dict[str, Any], out: dict[str, Any]) -> list[str]:
    diffs = []
    err = out.get("error")
    want_err = expect.get("error")
    if want_err is None and err is not None:
        return [f"{where}: unexpected error {err['code']}: {err['message']}"]
    if want_err is not None:
        if err is None:
            diffs.append(f"{where}: expected error {want_err['code']}, got success {json.dumps(out)}")
        else:
            if err["code"] != want_err["code"]:
                diffs.append(f"{where}: error code {err['code']} ({err['message']}), expected {want_err['code']}")
            if "message" in want_err and want_err["message"] not in err["message"]:
                diffs.append(f"{where}: error message {err['message']!r} lacks {want_err['message']!r}")
            for k in ("status", "retry_after_ms"):
                if k in want_err and err.get(k) != want_err[k]:
                    diffs.append(f"{where}: error {k} {err.get(k)}, expected {want_err[k]}")
    for key, want in expect.items():
        if key == "error":
            continue
        if out.get(key) != want:
            diffs.append(f"{where}: {key} = {json.dumps(out.get(key))}, expected {json.dumps(want)}")
    return diffs


def final_checks(emu: Emulator, expect: dict[str, Any]) -> list[str]:
    diffs = []
    log = emu.request_log()
    by = lambda ep: [r for r in log if r["endpoint"] == ep]  # noqa: E731
    if "pending" in expect and len(emu.pending_ids()) != expect["pending"]:
        diffs.append(f"final: pending = {len(emu.pending_ids())}, expected {expect['pending']}")
    for ep, n in expect.get("requests", {}).items():
        if len(by(ep)) != n:
            diffs.append(f"final: {ep} requests = {len(by(ep))}, expected {n}")
    for ep, want in expect.get("statuses", {}).items():
        got = [r["status"] for r in by(ep)]
        if got != want:
            diffs.append(f"final: {ep} statuses = {got}, expected {want}")
    for field, name in (("query", "queries"), ("path", "paths")):
        for ep, want in expect.get(name, {}).items():
            got = [r[field] for r in by(ep)]
            if got != want:
                diffs.append(f"final: {ep} {name} = {got}, expected {want}")
    if "ack_ids_sent" in expect:
        sent = sum(len(json.loads(r["body"])["eventIds"]) for r in by("acknowledge") if r.get("body"))
        if sent != expect["ack_ids_sent"]:
            diffs.append(f"final: IDs sent in acknowledge bodies = {sent}, expected {expect['ack_ids_sent']}")
    for gap in expect.get("min_gap_ms", []):
        entries = by(gap["endpoint"])
        if len(entries) <= max(gap["from"], gap["to"]):
            diffs.append(f"final: min_gap_ms needs {gap['endpoint']} request #{gap['to']}, only {len(entries)} logged")
            continue
        got = entries[gap["to"]]["at_ms"] - entries[gap["from"]]["at_ms"]
        if got < gap["ms"]:
            diffs.append(
                f"final: gap between {gap['endpoint']} requests #{gap['from']} and #{gap['to']} = {got} ms, "
                f"expected >= {gap['ms']} ms"
            )
    return diffs


def dump(sc: dict[str, Any], i: int, out: dict[str, Any]) -> None:
    """With CONFORMANCE_DUMP=<file>, appends every step outcome as a JSON line (to diff languages)."""
    path = os.environ.get("CONFORMANCE_DUMP")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"scenario": sc["_name"], "step": i + 1, "out": out}, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------- scenario
async def run_scenario(sc: dict[str, Any], variant: str) -> list[str]:
    setup = sc.get("emulator", {})
    config: dict[str, Any] = {}
    for k in ("retention_ms", "timestamp_window_ms", "seed"):
        if k in setup:
            config[k] = setup[k]
    rate = setup.get("rate_limit", False)
    emu = Emulator(rate_limit=rate, config=config)
    try:
        if setup.get("generate"):
            emu.generate(setup["generate"])
        if setup.get("events"):
            emu.enqueue(setup["events"])
        if setup.get("clock_offset_ms"):
            emu.set_clock_offset_ms(setup["clock_offset_ms"])
        if setup.get("faults"):
            emu.set_faults(substitute(setup["faults"]))
        c = sc.get("client", {})
        cls = AssessmentClient if variant == "blocking" else AsyncAssessmentClient
        client = cls(
            api_key=emu.api_key,
            secret_key=emu.secret_key,
            base_url=emu.url,
            timeout=c.get("timeoutMs", 30000) / 1000,
            max_retries=c.get("maxRetries", 3),
            min_poll_interval=c.get("minPollIntervalMs", 0) / 1000,
        )
        diffs: list[str] = []
        for i, step in enumerate(sc["steps"]):
            where = f"step {i + 1} ({step['op']})"
            try:
                out = await asyncio.wait_for(run_step(client, emu, step), STEP_GUARD_S)
            except asyncio.TimeoutError:
                diffs.append(f"{where}: did not finish within {STEP_GUARD_S:.0f} s (hang)")
                break
            except Exception as exc:  # a bug in a binding or in this runner
                diffs.append(f"{where}: raised {type(exc).__name__}: {exc}")
                break
            diffs += compare(where, step.get("expect", {}), out)
            if variant == "async":
                dump(sc, i, out)
        await asyncio.sleep(0.05)  # let the emulator log a dropped connection
        diffs += final_checks(emu, sc.get("expect", {}))
        client.close()
        return diffs
    finally:
        emu.close()


def main(argv: list[str]) -> int:
    files = sorted((HERE / "scenarios").glob("*.json"))
    if argv:
        files = [f for f in files if any(a in f.stem for a in argv)]
    passed = failed = skipped = 0
    for path in files:
        sc = json.loads(path.read_text(encoding="utf-8"))
        name = sc["_name"] = path.stem
        reason = (sc.get("skip") or {}).get(LANG)
        if reason:
            skipped += 1
            print(f"SKIP {name}: {reason}")
            continue
        diffs = []
        for variant in VARIANTS:
            tag = "" if variant == "async" else f"[{variant} client] "
            reason = (sc.get("skip") or {}).get(f"{LANG}-{variant}")
            if reason:
                print(f"SKIP {name} ({variant} client): {reason}")
                continue
            try:
                diffs += [tag + d for d in asyncio.run(run_scenario(sc, variant))]
            except Exception as exc:
                diffs.append(f"{tag}setup: {type(exc).__name__}: {exc}")
        if diffs:
            failed += 1
            for d in diffs:
                print(f"FAIL {name}: {d}")
        else:
            passed += 1
    summary = f"conformance {LANG}: {passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(summary)
    return 1 if failed else 0


VARIANTS = [v for v in ("async", "blocking") if os.environ.get("CONFORMANCE_PY_CLIENT", v) == v]

if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    # A blocking call that hung keeps its worker thread; do not wait for it at exit.
    os._exit(code)
