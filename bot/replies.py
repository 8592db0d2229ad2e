"""Replies within a turn survive a throttled or briefly failing Bot Connector.

    activity_id = await deliver_reply(lambda: messenger.send(address, message))

On 429 the call is repeated after the connector's Retry-After; on 5xx, 412, a timeout or a dropped
connection after a short backoff (0.25 s, 0.5 s, 1 s, …). All of it within ``REPLY_BUDGET`` seconds:
the person is waiting for the answer, and Teams itself gives up on a turn after about 15 s. When the
budget runs out (or the connector refuses for good: 403, 404), ``ReplyUndelivered`` is raised; the turn
is rolled back and logged, and no apology is sent into the connector that just failed.
Proactive sends are the delivery engine's (durable rows, their own retries), not this.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.api import SendError

log = logging.getLogger(__name__)
T = TypeVar("T")
REPLY_BUDGET = 8.0  # seconds for one reply, all attempts and waits included
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 2.0


class ReplyUndelivered(SendError):
    """A reply the connector did not take within the budget; ``attempts`` calls were made."""

    def __init__(self, last: SendError, attempts: int, elapsed: float) -> None:
        super().__init__(last.status, last.reason, last.retry_after)
        self.attempts = attempts
        self.elapsed = elapsed


async def deliver_reply(call: Callable[[], Awaitable[T]], budget: float | None = None) -> T:
    """``call()``, repeated while the connector says "later" and the budget allows."""
    budget = REPLY_BUDGET if budget is None else budget
    started = time.monotonic()
    deadline = started + budget
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        try:
            async with asyncio.timeout(max(remaining, 0.01)):  # one hanging call must not outlast it
                return await call()
        except TimeoutError:
            failure = SendError(None, "timeout")
        except SendError as exc:
            failure = exc
        elapsed = time.monotonic() - started
        if not failure.retryable:
            raise ReplyUndelivered(failure, attempts, elapsed) from failure
        if failure.status == 429 and failure.retry_after is not None:
            wait = failure.retry_after
        else:
            wait = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
        if time.monotonic() + wait >= deadline:
            raise ReplyUndelivered(failure, attempts, elapsed) from failure
        log.info("reply refused (%s), trying again in %.2fs", failure.status or failure.reason, wait)
        await asyncio.sleep(wait)
