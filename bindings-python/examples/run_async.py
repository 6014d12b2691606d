"""A long-running asyncio poller that stops cleanly on SIGINT/SIGTERM (or after
``--seconds N``): the handler in progress finishes and its batch is acknowledged.

    python examples/run_async.py --emulator --seconds 2
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from smartai_events import AsyncAssessmentClient, WebhookEvent

log = logging.getLogger("poller")


async def handle(events: list[WebhookEvent]) -> None:
    log.info("saving %d events", len(events))


async def dead_letter(events: list[WebhookEvent], reason: str) -> None:
    log.error("parking %d events that kept failing: %s", len(events), reason)


async def main(client: AsyncAssessmentClient, seconds: float | None, interval: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if seconds is not None:
        loop.call_later(seconds, stop.set)
    summary = await client.run(handle, interval=interval, stop=stop, max_attempts=5, dead_letter=dead_letter)
    health = client.health()
    print(f"stopped after {summary.cycles} cycles: {summary.events} events, last poll {health.last_success_at}")


async def with_emulator(seconds: float | None) -> None:
    from smartai_events.testing import Emulator

    async with Emulator(initial_events=40, rate_limit=False) as emu:
        async with AsyncAssessmentClient(**emu.client_kwargs(min_poll_interval=1.0)) as client:
            await main(client, seconds, interval=1.0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--interval", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.emulator:
        asyncio.run(with_emulator(args.seconds))
    else:
        asyncio.run(main(AsyncAssessmentClient(), args.seconds, args.interval))
