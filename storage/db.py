"""Engine and session factory, the same code on SQLite (aiosqlite) and PostgreSQL (asyncpg).

engine = make_engine(settings.database_url)
sessions = make_sessionmaker(engine)
async with sessions() as session, session.begin():
    ...
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_DML = re.compile(r"\s*(insert|update|delete|replace|upsert|merge)\b", re.IGNORECASE)
_generation = 0


def write_generation() -> int:
    """A number that grows after every committed transaction of this process that wrote something.

    Read-caches in this process (the per-chat memo, bot/memo.py) keep the value they saw before
    reading and trust what they read only while it is unchanged. Writes by other processes are not seen
    here: such caches also need a time limit.
    """
    return _generation


def _track_writes(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _wrote(conn: Connection, _cur: Any, statement: str, _p: Any, context: Any, _many: bool) -> None:
        if (context is not None and (context.isinsert or context.isupdate or context.isdelete)) or _DML.match(
            statement
        ):
            conn.info["dxbot.wrote"] = True

    @event.listens_for(sync_engine, "commit")
    def _commit(conn: Connection) -> None:
        if conn.info.pop("dxbot.wrote", False):
            conn.info["dxbot.committed_write"] = True

    @event.listens_for(sync_engine, "rollback")
    def _rollback(conn: Connection) -> None:
        conn.info.pop("dxbot.wrote", None)

    # The commit event fires before the database has committed; the connection goes back to the pool
    # after. Counting there means a reader that saw the old number also saw the old data, never newer.
    @event.listens_for(sync_engine.pool, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        global _generation
        if record is not None and record.info.pop("dxbot.committed_write", False):
            _generation += 1


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        if ":memory:" not in url:
            # WAL lets many readers work at once; each aiosqlite connection is a thread of its own.
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 10)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers work while the delivery worker writes; FKs are off by default in SQLite.
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        _track_writes(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    _track_writes(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
