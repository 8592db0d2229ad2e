"""Rate limits for proactive sends. Teams counts calls per app per tenant (50 requests a second for
everything the bot does: sends, updates, roster fetches) and per conversation (7 a second, 8 in two
seconds, 60 in thirty); beyond that it answers 429 with Retry-After.

    limiter = RateLimiter(rate=45, conversation_rate=7, budget=book)
    await limiter.acquire(conversation_id)   # waits for a slot in both buckets (and the shared budget)
    limiter.throttled(conversation_id, retry_after=2.0)

``budget(n, rate)`` books ``n`` slots of the app-wide budget that all worker processes share (see
``dialogs.engines.delivery.worker``: one row in the database) and returns in how many seconds the first one
starts; the slots follow each other ``1/rate`` apart.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Budget = Callable[[int, float], Awaitable[float]]
# Calls are spaced a hair (0.8 %) more than 1/rate apart, in the shared budget and in each process's
# bucket: exactly 1/rate lets rate+1 calls land inside one of Teams' one-second windows as soon as
# two of them reach it a few milliseconds closer together than they started. 0.8 % leaves 8 ms of
# such jitter per second; it was 2 % (20 ms) before, which held a single worker at 49/s of 50.
SPACING = 1.008
SHARED_SPACING = SPACING


class Bucket:
    """A token bucket in its GCRA form: ``reserve`` returns when the caller may go and books it.

    Reservations never overlap, so concurrent callers are spaced ``1/rate`` apart, with at most
    ``burst`` of them at once after an idle period.
    """

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tat = 0.0  # theoretical arrival time of the next call
        self.paused_until = 0.0

    @property
    def interval(self) -> float:
        # A hair over 1/rate: exactly 1/rate lets rate+1 calls land inside one second's window.
        return SPACING / self.rate

    def reserve(self, now: float, earliest: float = 0.0) -> float:
        tolerance = (self.burst - 1.0) * self.interval
        start = max(now, earliest, self.paused_until)
        at = max(start, self.tat - tolerance)
        self.tat = max(self.tat, at) + self.interval
        return at

    def pause(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)
        self.tat = max(self.tat, until)


class RateLimiter:
    """App-wide and per-conversation buckets, slowed down when 429s stop being isolated."""

    def __init__(
        self,
        rate: float,
        conversation_rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        budget: Budget | None = None,
    ) -> None:
        self.base_rate = rate
        self.budget = budget
        self.budget_ok = budget is not None  # False after booking failed: fall back to an even split
        self._slots: deque[float] = deque()  # booked shared slots (this clock), not yet used
        self._booking: asyncio.Task[None] | None = None
        self.share = 1.0  # this process's share of the app-wide rate (1/live workers, without a budget)
        self.factor = 1.0  # < 1 after systemic throttling, creeping back up
        self.app = Bucket(rate, burst)
        self.conversation_rate = conversation_rate
        self.conversations: dict[str, Bucket] = {}
        self.clock = clock
        self._started: deque[float] = deque()  # when the calls of the last second started
        self._conversation_started: dict[str, float] = {}  # when the last call into each started
        self._answers: deque[tuple[float, bool]] = deque()  # (when, was 429) over the last 2 s
        self._last_recover = clock()
        self.pauses = 0
        self.slots_missed = 0  # shared slots whose time passed with no call ready to use them

    @property
    def rate(self) -> float:
        return self.app.rate

    def set_share(self, share: float) -> None:
        self.share = max(0.01, min(1.0, share))
        self._apply()

    def _apply(self) -> None:
        self.app.rate = max(0.5, self.base_rate * self.share * self.factor)

    def reserve(self, conversation_id: str | None) -> float:
        """Book a slot; return the monotonic time at which the call may go."""
        now = self.clock()
        self._recover(now)
        earliest = now
        bucket: Bucket | None = None
        if conversation_id:
            bucket = self.conversations.get(conversation_id)
            if bucket is None:
                if len(self.conversations) > 5000:
                    self._prune(now)
                # Per-thread limits are counted by Teams on arrival: keep 5 % clear of them.
                bucket = self.conversations[conversation_id] = Bucket(self.conversation_rate * 0.95)
            earliest = bucket.reserve(now)
        at = self.app.reserve(now, earliest)
        if bucket is not None and at > earliest:
            # keep the conversation's booking in step with when the call really goes
            bucket.tat = max(bucket.tat, at + bucket.interval)
        return at

    @property
    def block(self) -> int:
        """Shared slots booked at a time: a tenth of a second's worth."""
        return max(1, math.ceil(self.base_rate * 0.1))

    async def _book(self) -> None:
        assert self.budget is not None
        n = self.block
        try:
            delay = await self.budget(n, self.base_rate)
        except Exception:
            if self.budget_ok:
                log.exception("shared send budget unavailable; sharing the rate evenly for now")
            self.budget_ok = False
            return
        self.budget_ok = True
        start = self.clock() + max(0.0, delay)
        interval = SHARED_SPACING / self.base_rate
        self._slots.extend(start + i * interval for i in range(n))

    async def _shared_slot(self) -> None:
        """Wait for a slot of the budget shared by all workers (none configured or reachable: no-op)."""
        if self.budget is None:
            return
        while True:
            now = self.clock()
            # A slot whose time passed unused is gone: using it late would bunch calls together.
            while self._slots and self._slots[0] < now - 0.02:
                self._slots.popleft()
                self.slots_missed += 1
            if self._slots:
                at = self._slots.popleft()
                # Book the next block a whole block ahead: a booking that waits behind SQLite's
                # writer for more than the slots left would leave the budget's next slots unused.
                if len(self._slots) < self.block and (self._booking is None or self._booking.done()):
                    self._booking = asyncio.create_task(self._book())
                if at > now:
                    await asyncio.sleep(at - now)
                return
            if self._booking is None or self._booking.done():
                self._booking = asyncio.create_task(self._book())
            await asyncio.shield(self._booking)
            if not self.budget_ok:
                return

    async def acquire(self, conversation_id: str | None = None) -> None:
        at = self.reserve(conversation_id)
        delay = at - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._shared_slot()
        # The buckets space the bookings; a task that wakes up late must not bunch up with the next
        # ones, so also check what actually started: at most the rate in any one second app-wide
        # (what Teams counts; the spacing above keeps the steady rate 0.8 % under it), and the
        # per-conversation spacing since the last call into that conversation.
        cap = max(1, int(self.app.rate))
        spacing = 1.005 / (self.conversation_rate * 0.95)
        while True:
            now = self.clock()
            while self._started and now - self._started[0] >= 1.0:
                self._started.popleft()
            wait = self._started[0] + 1.0 - now + 0.001 if len(self._started) >= cap else 0.0
            last = self._conversation_started.get(conversation_id) if conversation_id else None
            if last is not None:
                wait = max(wait, last + spacing - now)
            if wait <= 0:
                self._started.append(now)
                if conversation_id:
                    if len(self._conversation_started) > 5000:
                        self._conversation_started = {
                            c: t for c, t in self._conversation_started.items() if now - t < 1.0
                        }
                    self._conversation_started[conversation_id] = now
                return
            await asyncio.sleep(wait)

    def answered(self, throttled: bool) -> None:
        now = self.clock()
        self._answers.append((now, throttled))
        while self._answers and now - self._answers[0][0] > 2.0:
            self._answers.popleft()

    def throttled(self, conversation_id: str | None, retry_after: float | None) -> bool:
        """Record a 429. The conversation pauses for Retry-After; when 429s are systemic (≥3 in two
        seconds and ≥20 % of answers) the whole app pauses too and slows down. Returns True then."""
        now = self.clock()
        wait = retry_after if retry_after is not None else 1.0
        self.answered(True)
        if conversation_id and conversation_id in self.conversations:
            self.conversations[conversation_id].pause(now + wait)
        hits = sum(1 for _, t in self._answers if t)
        if hits >= 3 and hits / len(self._answers) >= 0.2:
            if self.app.paused_until < now:
                self.pauses += 1
                self.factor = max(0.2, self.factor * 0.7)
                self._apply()
            self.app.pause(now + wait)
            self._answers.clear()
            return True
        return False

    def _recover(self, now: float) -> None:
        if self.factor < 1.0 and now - self._last_recover >= 1.0 and now >= self.app.paused_until:
            self.factor = min(1.0, self.factor + 0.1)
            self._last_recover = now
            self._apply()

    def _prune(self, now: float) -> None:
        for cid in [c for c, b in self.conversations.items() if b.tat < now and b.paused_until < now]:
            del self.conversations[cid]
