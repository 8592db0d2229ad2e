"""How long the relay status of one announcement takes for a large network: 2,000 sections, two
promoters each, every copy delivered, some read, some confirmed, half the sections relayed.
Target: under 200 ms (the median of the warm runs); exits 1 above it.

    .venv/bin/python bench/relay.py                 # a fresh SQLite file
    .venv/bin/python bench/relay.py --pg            # a fresh PostgreSQL database on 127.0.0.1
    .venv/bin/python bench/relay.py --sections 2000 --runs 20

What is timed is ``dialogs.announce.relay.store.section_status`` + ``summarize``: the per-section
delivered → read → confirmed → relayed figures behind the author's card and the 伝達状況 card.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from dialogs.announce.relay.store import section_status, summarize  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Announcement,
    AnnouncementRecipient,
    AnnouncementRelay,
    ChatReadMark,
    Delivery,
    Department,
    Person,
    Section,
)

TARGET = 0.200
PG_ADMIN = os.environ.get("DXBOT_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
T0 = datetime(2026, 4, 1, tzinfo=UTC)


async def _pg(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def build(url: str, n_sections: int) -> int:
    """The network and one announcement sent to it; returns its id."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await s.execute(insert(Department), [{"id": 1, "name": "総務部", "sort_order": 0}])
            await s.execute(
                insert(Section),
                [
                    {"id": i, "department_id": 1, "name": f"第{i}課", "sort_order": i, "active": True}
                    for i in range(1, n_sections + 1)
                ],
            )
            people = [(sec, k) for sec in range(1, n_sections + 1) for k in range(2)]
            await s.execute(
                insert(Person),
                [
                    {"id": 2 * sec + k, "name": f"職員{sec}-{k}", "email": f"p{sec}-{k}@city.example.jp"}
                    for sec, k in people
                ],
            )
            await s.execute(
                insert(Announcement),
                [
                    {
                        "id": 1,
                        "title": "生成AI利用ガイドライン",
                        "state": "sent",
                        "ack_required": True,
                        "relay_required": True,
                        "audience": {"kind": "all"},
                        "links": [],
                        "form": {},
                    }
                ],
            )
            await s.execute(
                insert(AnnouncementRecipient),
                [
                    {
                        "announcement_id": 1,
                        "person_id": 2 * sec + k,
                        "name": f"職員{sec}-{k}",
                        "email": f"p{sec}-{k}@city.example.jp",
                        "department": "総務部",
                        "section": f"第{sec}課",
                        "section_id": sec,
                        "role": "leader" if k == 0 else "subleader",
                        "sort_key": 2 * sec + k,
                        "confirmed_at": T0 + timedelta(hours=1) if (sec + k) % 3 else None,
                    }
                    for sec, k in people
                ],
            )
            base = {"kind": "announcement", "ref_id": 1, "op": "send", "purpose": "initial", "payload": {}}
            await s.execute(
                insert(Delivery),
                [
                    {
                        **base,
                        "recipient_key": f"person:{2 * sec + k}",
                        "person_id": 2 * sec + k,
                        "conversation_id": f"a:personal-{sec}-{k}",
                        "state": "delivered" if sec % 50 else "unreachable",
                        "activity_id": str(1_733_390_000_000 + 2 * sec + k),
                        "delivered_at": T0,
                        "read_at": T0 + timedelta(minutes=5) if (sec + k) % 2 else None,
                    }
                    for sec, k in people
                ],
            )
            await s.execute(
                insert(ChatReadMark),
                [
                    {
                        "conversation_id": f"a:personal-{sec}-{k}",
                        "last_read_message_id": "1733390000000",
                        "last_read_seq": 1_733_390_000_000,
                        "first_receipt_at": T0,
                        "updated_at": T0,
                    }
                    for sec, k in people
                    if sec % 4
                ],
            )
            await s.execute(
                insert(AnnouncementRelay),
                [
                    {
                        "announcement_id": 1,
                        "section_id": sec,
                        "method": "meeting",
                        "reached": 12,
                        "note": "",
                        "reported_by": 2 * sec,
                        "reporter_name": f"職員{sec}-0",
                        "reported_at": T0,
                        "updated_at": T0,
                        "corrections": 0,
                    }
                    for sec in range(1, n_sections + 1)
                    if sec % 2
                ],
            )
    finally:
        await engine.dispose()
    return 1


async def measure(url: str, n_sections: int, runs: int) -> tuple[float, list[float], int]:
    await upgrade(url)
    ann_id = await build(url, n_sections)
    engine = make_engine(url)
    times: list[float] = []
    cold = 0.0
    relayed = 0
    try:
        sessions = make_sessionmaker(engine)
        for i in range(runs + 1):
            start = time.perf_counter()
            async with sessions() as s:
                sections = await section_status(s, ann_id)
                summary = summarize(sections)
            elapsed = time.perf_counter() - start
            assert len(sections) == n_sections and summary.sections == n_sections
            relayed = summary.relayed
            if i == 0:
                cold = elapsed
            else:
                times.append(elapsed)
    finally:
        await engine.dispose()
    return cold, times, relayed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sections", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", action="store_true", help="a fresh PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            name = f"dxbot_bench_relay_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
            base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            url = f"{base}/{name}"
        else:
            url = f"sqlite+aiosqlite:///{tmp}/relay.sqlite3"
        try:
            cold, times, relayed = asyncio.run(measure(url, args.sections, args.runs))
        finally:
            if args.pg:
                asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    median = statistics.median(times)
    db = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"relay status, {args.sections} sections ({2 * args.sections} promoters, {relayed} relayed) on {db}: "
        f"cold {cold * 1000:.0f} ms, warm median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"over {len(times)} runs (target < {TARGET * 1000:.0f} ms)"
    )
    if median > TARGET:
        print("FAIL: the relay status is slower than the target")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
