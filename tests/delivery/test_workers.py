"""Several workers on one database: a dead peer's rows are taken over within seconds (not after the
lease), and the app-wide rate is one budget shared by all workers, not an even split."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.api import Message
from dialogs.engines.delivery import DeliveryItem, Recipient, counts, enqueue
from dialogs.engines.delivery.worker import HOST, Worker, drain
from storage.models import Delivery, DeliveryWorker
from tests.delivery.helpers import FAST, add_people

pytestmark = pytest.mark.asyncio


def _items(people: list[int]) -> list[DeliveryItem]:
    return [DeliveryItem(Recipient(person_id=p), Message(text="一斉")) for p in people]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def _ghost_claims(services, ghost: str, **worker: object) -> None:
    """Rows claimed by a worker that died mid-send: state sending, lease still a minute ahead."""
    now = services.clock()
    async with services.sessionmaker() as s, s.begin():
        s.add(DeliveryWorker(worker_id=ghost, host=HOST, started_at=now, heartbeat_at=now, **worker))
        await s.flush()
        await s.execute(
            update(Delivery)
            .where(Delivery.id <= 20)
            .values(state="sending", claimed_by=ghost, claimed_until=now + timedelta(seconds=60), attempts=1)
        )


async def test_a_restarted_worker_takes_over_from_a_killed_one_at_once(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 41))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    # The killed process's heartbeat is fresh, but its pid on this host no longer runs.
    await _ghost_claims(services, "ghost-1", pid=_dead_pid())
    worker = Worker(services, dataclasses.replace(FAST, rate=40, lease=60, worker_ttl=20))
    started = time.monotonic()
    await drain(services, within=8, worker=worker)
    async with services.sessionmaker() as s:
        c = await counts(s, "announcement", 1)
        left = (await s.scalars(select(DeliveryWorker.worker_id))).all()
    assert c.delivered == 40, c  # the ghost's 20 rows did not wait out their 60 s lease
    assert time.monotonic() - started < 8
    assert "ghost-1" not in left
    assert worker.live_workers == 1  # and the rate is not split with the ghost


async def test_a_peer_with_a_stale_heartbeat_is_taken_over(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 31))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    await _ghost_claims(services, "other-host-7", pid=None)
    async with services.sessionmaker() as s, s.begin():
        await s.execute(
            update(DeliveryWorker)
            .where(DeliveryWorker.worker_id == "other-host-7")
            .values(host="elsewhere", heartbeat_at=services.clock() - timedelta(seconds=30))
        )
    worker = Worker(services, dataclasses.replace(FAST, rate=40, lease=60, worker_ttl=20))
    await drain(services, within=8, worker=worker)
    async with services.sessionmaker() as s:
        assert (await counts(s, "announcement", 1)).delivered == 30


async def test_a_live_peer_on_another_host_keeps_its_rows(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 31))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    await _ghost_claims(services, "busy-peer", pid=_dead_pid())
    async with services.sessionmaker() as s, s.begin():
        await s.execute(
            update(DeliveryWorker).where(DeliveryWorker.worker_id == "busy-peer").values(host="elsewhere")
        )
    await drain(services, within=3, worker=Worker(services, dataclasses.replace(FAST, rate=40, lease=60)))
    async with services.sessionmaker() as s:
        c = await counts(s, "announcement", 1)
    assert (c.delivered, c.sending) == (10, 20)  # a pid means nothing on another host


async def test_an_idle_peer_leaves_the_whole_rate_to_the_busy_worker(services, connector):
    """Two workers live, one (on another host) with nothing to do: the busy one sends at the full
    app-wide rate; an even split would hold it to half."""
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 121))
        s.add(
            DeliveryWorker(
                worker_id="idle-peer",
                host="elsewhere",
                started_at=services.clock(),
                heartbeat_at=services.clock(),
                pid=1,
            )
        )
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    busy = Worker(services, dataclasses.replace(FAST, rate=40, concurrency=8))
    await drain(services, within=20, worker=busy)
    times = sorted(c.at for c in connector.posts())
    assert len(times) == 120
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 30 < rate <= 41, f"{rate:.1f}/s: the busy worker was held to a share of the rate"
    assert busy.live_workers == 2


async def test_two_busy_workers_share_one_budget(services, connector):
    """Both workers send; together they stay within the app-wide rate (Teams would answer 429)."""
    connector.app_rate = 40
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 161))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    config = dataclasses.replace(FAST, rate=40, concurrency=8)
    first, second = Worker(services, config), Worker(services, config)
    await asyncio.gather(drain(services, within=30, worker=first), drain(services, within=30, worker=second))
    posts = connector.posts()
    assert len({c.conversation_id for c in posts}) == 160
    assert first.stats["sent"] > 20 and second.stats["sent"] > 20
    throttled = [c for c in connector.calls if c.status == 429]
    # A task that wakes late on a busy machine can meet the next one (an even split had the same
    # jitter); two workers each at the full rate would be refused about half the time.
    assert len(throttled) <= 0.03 * len(posts), (
        f"the two workers overran the app rate: {len(throttled)} × 429"
    )
    times = sorted(c.at for c in posts)
    assert (len(times) - 1) / (times[-1] - times[0]) > 30


async def test_a_slow_progress_refresh_is_made_rarer_so_sends_keep_their_pace(services):
    """The author's card of a 10,000-copy send takes ~250 ms to refresh on the worker's event loop; at
    every 2 s that stole slots from the sends. The next refresh waits 40 times what the last one took."""
    worker = Worker(services, dataclasses.replace(FAST, progress_interval=0.01))
    calls: list[float] = []

    async def slow_refresh() -> None:
        calls.append(time.monotonic())
        await asyncio.sleep(0.03)  # 30 ms of refresh: the next one no sooner than 1.2 s later

    worker.flush_progress = slow_refresh  # type: ignore[method-assign]
    stop = asyncio.Event()
    loop = asyncio.create_task(worker._progress_loop(stop))
    await asyncio.sleep(1.0)
    stop.set()
    await loop
    assert len(calls) == 1  # every 10 ms it would have been ~25


async def test_a_quick_progress_refresh_keeps_the_configured_interval(services):
    worker = Worker(services, dataclasses.replace(FAST, progress_interval=0.05))
    calls: list[float] = []

    async def quick_refresh() -> None:
        calls.append(time.monotonic())

    worker.flush_progress = quick_refresh  # type: ignore[method-assign]
    stop = asyncio.Event()
    loop = asyncio.create_task(worker._progress_loop(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await loop
    assert len(calls) >= 5
