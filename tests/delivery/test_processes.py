"""Real OS processes on one database: two workers never send the same row; a worker killed with
SIGKILL mid-send loses nothing and duplicates at most its concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select

from bot.api import Message
from dialogs.engines.delivery import DeliveryItem, Recipient, counts, enqueue
from storage.models import Delivery, DeliveryWorker
from tests.delivery.helpers import add_people, conv_of

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[2]


def _spawn(db_url: str, stop_file: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.delivery.worker_process", db_url, str(stop_file), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DXBOT_BACKGROUND_JOBS": "false"},
    )


async def _wait_for(predicate, seconds: float) -> bool:
    for _ in range(int(seconds / 0.1)):
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_two_worker_processes_never_send_a_row_twice(services, connector, db_url, tmp_path):
    connector.latency = 0.005
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 301))
    stop = tmp_path / "stop"
    procs = [_spawn(db_url, stop, "--rate", "120", "--concurrency", "6") for _ in range(2)]
    try:

        async def both_alive() -> bool:
            async with services.sessionmaker() as s:
                return (await s.scalar(select(func.count()).select_from(DeliveryWorker))) == 2

        assert await _wait_for(both_alive, 60), "the worker processes did not start"
        async with services.sessionmaker() as s, s.begin():
            await enqueue(
                s,
                "announcement",
                1,
                [DeliveryItem(Recipient(person_id=p), Message(text="一斉")) for p in people],
            )

        async def all_done() -> bool:
            async with services.sessionmaker() as s:
                return (await counts(s, "announcement", 1)).delivered == 300

        assert await _wait_for(all_done, 90)
    finally:
        stop.touch()
        outputs = [p.communicate(timeout=60) for p in procs]
    stats = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    posts = Counter(c.conversation_id for c in connector.posts())
    assert set(posts) == {conv_of(p) for p in people}
    assert max(posts.values()) == 1, "a recipient received the message twice"
    assert all(s["sent"] > 0 for s in stats), stats  # both processes did part of the work
    async with services.sessionmaker() as s:
        assert await s.scalar(select(func.count(distinct(Delivery.claimed_by)))) == 2


async def test_a_worker_killed_mid_send_loses_nothing(services, connector, db_url, tmp_path):
    connector.latency = 0.02
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 201))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(
            s, "announcement", 1, [DeliveryItem(Recipient(person_id=p), Message(text="一斉")) for p in people]
        )
    stop = tmp_path / "stop"
    first = _spawn(db_url, stop, "--rate", "60", "--concurrency", "8", "--lease", "2")
    second = None
    try:
        assert await _wait_for(lambda: _true(len(connector.posts()) >= 60), 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        sent_before = len(connector.posts())
        assert sent_before < 200
        second = _spawn(db_url, stop, "--rate", "60", "--concurrency", "8", "--lease", "2")

        async def all_done() -> bool:
            async with services.sessionmaker() as s:
                return (await counts(s, "announcement", 1)).delivered == 200

        assert await _wait_for(all_done, 90)
    finally:
        stop.touch()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.communicate(timeout=60)
    posts = Counter(c.conversation_id for c in connector.posts())
    assert set(posts) == {conv_of(p) for p in people}  # lost: 0
    duplicates = sum(n - 1 for n in posts.values())
    assert duplicates <= 8


async def _true(value: bool) -> bool:
    return value
