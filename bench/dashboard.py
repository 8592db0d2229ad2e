"""How long each dashboard page takes, with the demo city, twelve survey rounds and a year of
announcements and questions (tests/dashboard/demo.py). Target: under 1 s per page.

    .venv/bin/python bench/dashboard.py                 # a fresh SQLite file
    .venv/bin/python bench/dashboard.py --pg            # a fresh PostgreSQL database on 127.0.0.1
    .venv/bin/python bench/dashboard.py --runs 20

Each page is fetched through the real app over HTTP (signed in locally), first once cold, then
``--runs`` times; the figures are wall-clock times of the whole request (queries, aggregation,
charts, template), as the DX division waits for them. CSV downloads are timed too.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402

PAGES = ("overview", "announcements", "surveys", "questions")
ADMIN = "dx-admin@demo-city.example.jp"
TARGET = 1.0
PG_ADMIN = os.environ.get("DXBOT_TEST_PG", "postgresql://root@127.0.0.1:5432/test")


async def _pg(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def measure(url: str, runs: int) -> list[tuple[str, float, list[float]]]:
    settings = Settings(_env_file=None, database_url=url, app_id="", background_jobs=False)  # type: ignore[call-arg]
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    results: list[tuple[str, float, list[float]]] = []
    try:
        resp = await client.post("/dashboard/login", data={"email": ADMIN}, allow_redirects=False)
        assert resp.status == 303, await resp.text()
        targets = [(p, f"/dashboard/{p}") for p in PAGES]
        targets += [("csv surveys/adoption", "/dashboard/csv/surveys/adoption.csv"),
                    ("csv overview/sections", "/dashboard/csv/overview/sections.csv")]  # fmt: skip
        for name, path in targets:
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                r = await client.get(path)
                body = await r.read()
                times.append(time.perf_counter() - started)
                assert r.status == 200 and body, (path, r.status)
            results.append((name, times[0], times[1:]))
    finally:
        await client.close()
    return results


def seed(url: str) -> float:
    from tests.dashboard.demo import main

    started = time.perf_counter()
    main(url)
    return time.perf_counter() - started


def report(label: str, results: list[tuple[str, float, list[float]]]) -> bool:
    print(f"\n{label}")
    print(f"{'page':<24}{'cold':>9}{'median':>9}{'p90':>9}{'max':>9}  target < {TARGET:.0f} s")
    ok = True
    for name, cold, warm in results:
        warm_sorted = sorted(warm)
        p90 = warm_sorted[min(len(warm_sorted) - 1, int(len(warm_sorted) * 0.9))]
        worst = max(cold, *warm)
        flag = "ok" if worst < TARGET else "SLOW"
        ok = ok and worst < TARGET
        print(
            f"{name:<24}{cold * 1000:>7.0f}ms{statistics.median(warm) * 1000:>7.0f}ms"
            f"{p90 * 1000:>7.0f}ms{max(warm) * 1000:>7.0f}ms  {flag}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL (DXBOT_TEST_PG)")
    args = parser.parse_args()
    print(f"dashboard page times, {args.runs} warm runs each ({os.cpu_count()} CPU)")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        took = seed(url)
        print(f"demo seeded on SQLite in {took:.1f} s")
        ok = report("SQLite", asyncio.run(measure(url, args.runs))) and ok
    if args.pg:
        name = f"dxbot_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
        try:
            base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            url = f"{base}/{name}"
            took = seed(url)
            print(f"demo seeded on PostgreSQL in {took:.1f} s")
            ok = report("PostgreSQL", asyncio.run(measure(url, args.runs))) and ok
        finally:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print("\nall pages under 1 s" if ok else "\nSOME PAGES TOOK 1 s OR MORE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
