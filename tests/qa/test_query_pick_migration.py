"""Migration 0033_qa_query_pick: questions logged before it keep no pick (nothing told which was picked),
and the revision goes down and up again. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_sync


async def _execute(url: str, statement: str, **params: object) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            rows = await conn.execute(text(statement), params)
            return [tuple(r) for r in rows] if rows.returns_rows else []
    finally:
        await engine.dispose()


def test_questions_logged_before_keep_no_pick_and_the_revision_goes_down_and_up(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "0032_qa_phrasings")
    asyncio.run(
        _execute(
            db_url,
            "INSERT INTO qa_queries (at, query, top_key, score, answered) VALUES (:at, :q, 'a', 0.25, :no)",
            at=datetime(2026, 12, 1, 1, tzinfo=UTC),
            q="チームズで同僚に個別にメッセージ送りたい",
            no=False,
        )
    )
    upgrade_sync(db_url)
    assert asyncio.run(_execute(db_url, "SELECT query, answered, picked_key FROM qa_queries")) == [
        ("チームズで同僚に個別にメッセージ送りたい", False, None)
    ]
    command.downgrade(alembic_config(db_url), "0032_qa_phrasings")
    upgrade_sync(db_url)
    assert asyncio.run(_execute(db_url, "SELECT picked_key FROM qa_queries")) == [(None,)]
