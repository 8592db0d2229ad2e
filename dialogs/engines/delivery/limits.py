"""Rate limits for proactive sends: Teams allows about 30 messages a second per bot and 7 a second
into one conversation; beyond that it answers 429 with Retry-After.

    limiter = RateLimiter(rate=30, conversation_rate=7)
    await limiter.acquire(conversation_id)   # waits for a slot in both buckets
    limiter.throttled(conversation_id, retry_after=2.0)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


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
        return 1.005 / self.rate

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
    ) -> None:
        self.base_rate = rate
        self.share = 1.0  # this process's share of the app-wide rate (1/live workers)
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

    async def acquire(self, conversation_id: str | None = None) -> None:
        at = self.reserve(conversation_id)
        delay = at - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
        # The buckets space the bookings; a task that wakes up late must not bunch up with the next
        # ones, so also check what actually started: at most the rate in any one second app-wide
        # (2 % under it: calls reach Teams a few milliseconds apart from when they start here), and
        # the per-conversation spacing since the last call into that conversation.
        cap = max(1, int(self.app.rate * 0.98))
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
