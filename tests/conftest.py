"""Shared fixtures: a migrated database on SQLite and PostgreSQL, a fake Bot Connector, the app.

Storage tests take ``db_url`` (parametrized over both databases). PostgreSQL gets a fresh database
per test module, dropped afterwards; when no server answers it is skipped with a visible notice,
except under CI=true, where the PostgreSQL run is required.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.connector import FakeConnector

PG_ADMIN_DSN = os.environ.get("DXBOT_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
_notices: set[str] = set()


def _pg_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    import asyncpg  # type: ignore[import-untyped]

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure to connect means "not here"
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_status() -> str | None:
    return _pg_available()


def _require_pg(pg_status: str | None) -> None:
    if pg_status is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true but did not answer at {PG_ADMIN_DSN}: {pg_status}")
    _notices.add(
        f"PostgreSQL at {PG_ADMIN_DSN} did not answer ({pg_status}); PostgreSQL storage tests skipped."
    )
    pytest.skip("PostgreSQL not available (tests run on SQLite only)")


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_status: str | None) -> Iterator[str]:
    """A freshly migrated, empty database URL, once on SQLite and once on PostgreSQL."""
    from storage.migrate import upgrade_sync

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"
        upgrade_sync(url)
        yield url
        return
    _require_pg(pg_status)
    name = f"dxbot_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        upgrade_sync(url)
        yield url
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database, for tests that are not about storage."""
    from storage.migrate import upgrade_sync

    url = f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"
    upgrade_sync(url)
    return url


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    extra = os.environ.get("DXBOT_TEST_NOTICES_FILE")
    notices = set(_notices)
    if extra and Path(extra).exists():
        notices |= set(Path(extra).read_text(encoding="utf-8").splitlines())
    for notice in sorted(notices):
        terminalreporter.write_line(f"NOTICE: {notice}", yellow=True, bold=True)


def add_notice(text: str) -> None:
    _notices.add(text)
