"""A broadcast through the delivery engine against a fake Bot Connector with Teams-like limits.

The fake connector runs in its own process with Teams' limits: 50 calls/s for the app (the per app
per tenant limit) and 7/s per conversation, beyond them 429 with Retry-After, and answers each call
after --latency seconds (150 ms: what Teams takes). The worker runs in another process (the way
`dxbot delivery worker` runs) with DXBOT_DELIVERY_RATE=50; the database is a fresh SQLite file (or
PostgreSQL with --db postgres). Modes and targets (ratio = achieved msg/s / 50):
- clean:   no injected faults                                ratio >= 0.97, lost 0, duplicated 0
- faults:  5 % answered 429 (Retry-After 1), 1 % 500          ratio >= 0.92, lost 0, duplicated 0
           (failed attempts use send slots too: the limit is about 0.94)
- crash:   the worker is killed with SIGKILL at 40 % and started again at once (lease 60 s: the new
           worker must take over the dead one's rows, not wait for the lease)
                                                             ratio >= 0.85, lost 0, duplicated <= concurrency
- workers: two worker processes (on PostgreSQL) drawing from one shared budget
                                                             ratio >= 0.95, lost 0, duplicated 0
- relay:   as clean, but the copies are an announcement asking for confirmation and relay (伝達依頼)
           to n/2 sections, and the worker runs the features' progress listeners: the author's card
           (delivered → read → confirmed → relayed per section) is refreshed while it goes
                                                             ratio >= 0.97, lost 0, duplicated 0
Achieved msg/s counts distinct recipients reached, from the first delivery to the last. Each mode
also prints a timeline: successful sends per second in 5-second steps. Peak memory is the worker
processes' largest resident set.

    .venv/bin/python bench/broadcast.py              # 2,000 recipients per mode
    .venv/bin/python bench/broadcast.py --full       # 10,000 recipients per mode (>= 200 s per mode)
    .venv/bin/python bench/broadcast.py --recipients 500 --modes clean,crash --db postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
CEILING = 50.0
CONCURRENCY = 24
TARGETS = {"clean": 0.97, "faults": 0.92, "crash": 0.85, "workers": 0.95, "relay": 0.97}
PG_ADMIN = os.environ.get("DXBOT_TEST_PG", "postgresql://root@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Result:
    mode: str
    recipients: int
    delivered: int
    lost: int
    duplicated: int
    rate: float
    throttled: int
    errors: int
    peak_rss_mb: float
    seconds: float
    note: str = ""
    timeline: list[float] | None = None
    calls_per_second: float = 0.0  # every send the connector received (429s and 5xx too)
    app_pauses: int = 0  # times a worker paused the whole app after systemic 429s

    @property
    def ratio(self) -> float:
        return self.rate / CEILING


# --- database ------------------------------------------------------------------------------------


async def _pg(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def fresh_database(kind: str, folder: Path) -> tuple[str, object]:
    from storage.migrate import upgrade_sync

    if kind == "postgres":
        name = f"dxbot_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"

        def drop() -> None:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        upgrade_sync(url)
        return url, drop
    url = f"sqlite+aiosqlite:///{folder}/bench-{uuid.uuid4().hex[:6]}.sqlite3"
    upgrade_sync(url)
    return url, lambda: None


async def seed(url: str, service_url: str, n: int, relay: bool = False) -> None:
    """n roster people with a Teams account and a personal chat, and one queued copy each.

    ``relay``: the copies are a real announcement asking for confirmation and relay (伝達依頼) to
    n/2 sections of two promoters each, with the author's card delivered first, so the worker's
    progress listener refreshes that card (delivered → read → confirmed → relayed per section) while
    the broadcast runs, as it does in the bot."""
    from sqlalchemy import insert

    from bot.api import Message
    from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue
    from storage.db import make_engine, make_sessionmaker
    from storage.models import ConversationRef, Person, TeamsAccount

    now = datetime.now(UTC)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    people = n + 1 if relay else n  # the author is person n + 1
    async with sessions() as s, s.begin():
        for start in range(1, people + 1, 1000):
            ids = range(start, min(people, start + 999) + 1)
            await s.execute(
                insert(Person.__table__),
                [
                    {"id": i, "name": f"職員{i}", "email": f"p{i}@city.example.jp", "created_at": now}
                    for i in ids
                ],
            )
            await s.execute(
                insert(TeamsAccount.__table__),
                [
                    {
                        "aad_object_id": f"aad-{i}",
                        "user_id": f"29:u{i}",
                        "name": "",
                        "email": f"p{i}@city.example.jp",
                        "person_id": i,
                        "created_at": now,
                        "last_seen_at": now,
                    }
                    for i in ids
                ],
            )
            await s.execute(
                insert(ConversationRef.__table__),
                [
                    {
                        "conversation_id": f"a:personal-{i}",
                        "conversation_type": "personal",
                        "service_url": service_url,
                        "tenant_id": "t",
                        "bot_id": "28:dxbot",
                        "user_id": f"29:u{i}",
                        "aad_object_id": f"aad-{i}",
                        "reference": {},
                        "reachable": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
        card = {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": "研修のご案内"}],
        }
        message = Message(text="【お知らせ】研修のご案内", card=card)
        if relay:
            await _seed_relay(s, n, now)
            await enqueue(
                s,
                "announcement-author",
                1,
                [DeliveryItem(Recipient(person_id=n + 1), Message(text="送信中", card=card))],
                priority=40,
            )
        await enqueue(
            s, "announcement", 1, [DeliveryItem(Recipient(person_id=i), message) for i in range(1, n + 1)]
        )
    await engine.dispose()


async def _seed_relay(s: object, n: int, now: datetime) -> None:
    """Departments of 50 sections, two promoters a section, and announcement 1 asking for relay."""
    from datetime import timedelta

    from sqlalchemy import insert

    from storage.models.announce import Announcement, AnnouncementRecipient
    from storage.models.roster import Department, Section

    sections = (n + 1) // 2
    departments = (sections + 49) // 50
    await s.execute(  # type: ignore[attr-defined]
        insert(Department),
        [{"id": d, "name": f"第{d}部", "sort_order": d} for d in range(1, departments + 1)],
    )
    await s.execute(  # type: ignore[attr-defined]
        insert(Section),
        [
            {"id": c, "department_id": (c - 1) // 50 + 1, "name": f"第{c}課", "sort_order": c, "active": True}
            for c in range(1, sections + 1)
        ],
    )
    deadline = (now + timedelta(days=14)).date()
    await s.execute(  # type: ignore[attr-defined]
        insert(Announcement),
        [
            {
                "id": 1,
                "title": "研修のご案内",
                "body": "各課で伝達をお願いします。",
                "state": "sending",
                "ack_required": True,
                "deadline": deadline,
                "relay_required": True,
                "relay_deadline": deadline,
                "audience": {"kind": "all"},
                "links": [],
                "form": {},
                "source": "teams",
                "author_person_id": n + 1,
                "sent_at": now,
            }
        ],
    )
    for start in range(1, n + 1, 1000):
        await s.execute(  # type: ignore[attr-defined]
            insert(AnnouncementRecipient),
            [
                {
                    "announcement_id": 1,
                    "person_id": i,
                    "name": f"職員{i}",
                    "email": f"p{i}@city.example.jp",
                    "department": f"第{((i + 1) // 2 - 1) // 50 + 1}部",
                    "section": f"第{(i + 1) // 2}課",
                    "section_id": (i + 1) // 2,
                    "role": "leader" if i % 2 else "subleader",
                    "sort_key": i,
                }
                for i in range(start, min(n, start + 999) + 1)
            ],
        )


async def progress(engine: object) -> tuple[int, int, float | None, float | None]:
    """(settled rows, delivered rows, first delivered_at, last delivered_at) as epoch seconds."""
    from sqlalchemy import func, select

    from storage.db import make_sessionmaker
    from storage.models import Delivery

    async with make_sessionmaker(engine)() as s:  # type: ignore[arg-type]
        copies = (Delivery.kind == "announcement", Delivery.op == "send")  # not the author's card
        rows = dict(
            (await s.execute(select(Delivery.state, func.count()).where(*copies).group_by(Delivery.state)))
            .tuples()
            .all()
        )
        first, last = (
            await s.execute(
                select(func.min(Delivery.delivered_at), func.max(Delivery.delivered_at)).where(
                    Delivery.state == "delivered", *copies
                )
            )
        ).one()
    settled = sum(n for state, n in rows.items() if state not in ("queued", "sending"))
    return (
        settled,
        rows.get("delivered", 0),
        first.timestamp() if first else None,
        last.timestamp() if last else None,
    )


# --- processes -----------------------------------------------------------------------------------


def start_connector(port: int, faults: list[str], latency: float) -> subprocess.Popen[bytes]:
    args = [PY, "-m", "tests.fakes.connector", "--port", str(port), "--app-rate", str(CEILING)]
    args += ["--conversation-rate", "7", "--latency", str(latency)]
    for f in faults:
        args += ["--fault", f]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_calls", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the fake connector did not start")


def start_worker(url: str, stop_file: Path, lease: float, listeners: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            PY,
            "-m",
            "tests.delivery.worker_process",
            url,
            str(stop_file),
            "--rate",
            str(CEILING),
            "--concurrency",
            str(CONCURRENCY),
            "--lease",
            str(lease),
            *(["--listeners"] if listeners else []),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def connector_calls(port: int) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_calls", timeout=30) as resp:
        data: list[dict[str, object]] = json.loads(resp.read())
    return data


async def _engine(url: str) -> object:
    from storage.db import make_engine

    return make_engine(url)


def run_mode(mode: str, n: int, db: str, folder: Path, latency: float) -> Result:
    faults = ["429=0.05", "500=0.01"] if mode == "faults" else []
    relay = mode == "relay"
    port = free_port()
    connector = start_connector(port, faults, latency)
    url, drop = fresh_database("postgres" if mode == "workers" else db, folder)
    stop_file = folder / f"stop-{mode}"
    runner = asyncio.Runner()
    try:
        runner.run(seed(url, f"http://127.0.0.1:{port}/", n, relay=relay))
        engine = runner.run(_engine(url))
        lease = 60.0
        started = time.monotonic()
        workers = [
            start_worker(url, stop_file, lease, listeners=relay) for _ in range(2 if mode == "workers" else 1)
        ]
        peak = 0
        killed = False
        note = "2 workers, one budget" if mode == "workers" else ""
        if relay:
            note = "relay tracking: the author's card refreshed as it goes"
        while True:
            time.sleep(0.5)
            try:
                peak = max(peak, sum(psutil.Process(w.pid).memory_info().rss for w in workers))
            except psutil.NoSuchProcess:
                pass
            settled, delivered, _, _ = runner.run(progress(engine))
            if mode == "crash" and not killed and delivered >= 0.4 * n:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait(10)
                killed = True
                note = f"SIGKILL at {delivered}/{n} delivered; restarted"
                workers[0] = start_worker(url, stop_file, lease)
            if settled >= n:
                break
            if time.monotonic() - started > n / CEILING * 4 + 120:
                note += " (timed out)"
                break
        seconds = time.monotonic() - started
        stop_file.touch()
        pauses = 0
        for w in workers:
            out, _ = w.communicate(timeout=60)
            try:
                stats = json.loads(out.strip().splitlines()[-1])
                print(
                    f"         worker {stats.get('pid')}: sent {stats.get('sent')}, retried {stats.get('retried')}, "
                    f"shared slots missed {stats.get('slots_missed')}"
                )
                pauses += int(stats.get("pauses", 0))
            except (ValueError, IndexError):
                pass  # a killed worker prints nothing
        _, delivered, first, last = runner.run(progress(engine))
        runner.run(engine.dispose())  # type: ignore[attr-defined]
        calls = connector_calls(port)
    finally:
        runner.close()
        stop_file.touch()
        connector.terminate()
        connector.wait(10)
        drop()
    expected = {f"a:personal-{i}" for i in range(1, n + 1)}
    ok = Counter(
        str(c["cid"])
        for c in calls
        if c["method"] == "POST" and int(str(c["status"])) < 300 and c["cid"] in expected
    )
    if relay:
        updates = sum(1 for c in calls if c["method"] == "PUT" and int(str(c["status"])) < 300)
        note += f" ({updates} updates of it)"
    lost = len(expected - set(ok))
    duplicated = sum(v - 1 for v in ok.values())
    throttled = sum(1 for c in calls if c["status"] == 429)
    errors = sum(1 for c in calls if int(str(c["status"])) >= 500)
    span = (last - first) if first and last and last > first else seconds
    rate = (len(ok) - 1) / span if len(ok) > 1 else 0.0
    posts = sorted(float(str(c["at"])) for c in calls if c["method"] == "POST")
    calls_rate = (len(posts) - 1) / (posts[-1] - posts[0]) if len(posts) > 1 and posts[-1] > posts[0] else 0.0
    return Result(
        mode,
        n,
        delivered,
        lost,
        duplicated,
        rate,
        throttled,
        errors,
        peak / 1e6,
        seconds,
        note,
        timeline(calls),
        calls_rate,
        pauses,
    )


def timeline(calls: list[dict[str, object]], step: float = 5.0) -> list[float]:
    """Successful sends per second in each ``step``-second slice, from the first call on."""
    times = [float(str(c["at"])) for c in calls if c["method"] == "POST" and int(str(c["status"])) < 300]
    if not times:
        return []
    t0 = min(times)
    buckets = Counter(int((t - t0) // step) for t in times)
    return [buckets.get(i, 0) / step for i in range(max(buckets) + 1)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--full", action="store_true", help="10,000 recipients per mode")
    parser.add_argument("--modes", default="clean,faults,crash,workers,relay")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the connector takes per call")
    args = parser.parse_args()
    n = 10_000 if args.full else args.recipients
    print(
        f"broadcast: {n} recipients per mode, fake connector ceiling {CEILING:.0f} msg/s (7/s per chat), "
        f"latency {args.latency * 1000:.0f} ms, worker rate {CEILING:.0f}/s, concurrency {CONCURRENCY}, "
        f"database {args.db} (workers mode: postgres)"
    )
    header = f"{'mode':<8} {'delivered':>9} {'lost':>5} {'dup':>4} {'msg/s':>6} {'ratio':>6} {'429s':>5} {'5xx':>4} {'peak RSS':>9} {'time':>6}"
    print(header)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            load = os.getloadavg()
            r = run_mode(mode.strip(), n, args.db, Path(tmp), args.latency)
            print(
                f"{r.mode:<8} {r.delivered:>9} {r.lost:>5} {r.duplicated:>4} {r.rate:>6.1f} {r.ratio:>6.3f} "
                f"{r.throttled:>5} {r.errors:>4} {r.peak_rss_mb:>6.0f} MB {r.seconds:>5.0f}s {r.note}",
                flush=True,
            )
            print(
                f"         calls/s the connector received (failed ones too): {r.calls_per_second:.1f}; "
                f"app-wide pauses after systemic 429s: {r.app_pauses}"
            )
            load_after = os.getloadavg()
            print(
                f"         load average before {load[0]:.1f}/{load[1]:.1f}, after {load_after[0]:.1f}/"
                f"{load_after[1]:.1f} (1/5 min, 2 cores)"
            )
            print("         timeline (msg/s per 5 s): " + " ".join(f"{v:.0f}" for v in r.timeline or []))
            dup_limit = CONCURRENCY if r.mode == "crash" else 0
            ok = r.ratio >= TARGETS.get(r.mode, 0.0) and r.lost == 0 and r.duplicated <= dup_limit
            print(
                f"         target ratio >= {TARGETS.get(r.mode, 0.0)}, lost 0, duplicated <= {dup_limit}: "
                f"{'met' if ok else 'NOT MET'}",
                flush=True,
            )
            failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
