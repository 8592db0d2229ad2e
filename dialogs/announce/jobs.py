"""The announcement schedule as a background job."""

from __future__ import annotations

import asyncio
import logging

from bot.api import Job, Services
from dialogs.announce.relay.reminders import tick as relay_tick
from dialogs.announce.service import tick

log = logging.getLogger(__name__)
TICK_SECONDS = 15.0


def scheduler_job(interval: float = TICK_SECONDS) -> Job:
    """Every ``interval`` seconds: due scheduled announcements go out (once, whatever the number of
    processes), and automatic reminders fire. A send missed while the bot was down goes out at once."""

    async def run(services: Services, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await tick(services)
                await relay_tick(services)
            except Exception:
                log.exception("announcement schedule tick failed")
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass

    return Job("announce-schedule", run)
