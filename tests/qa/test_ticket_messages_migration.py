"""Migration 0031_qa_ticket_messages: answers given before it become their ticket's first message, so
a reply to an old answer shows the exchange from the start. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_sync

INSERT = text(
    "INSERT INTO qa_tickets (id, question, status, asker_user_id, asker_name, service_url, locale, "
    "answer, answered_by, answered_at, created_at) VALUES "
    "(:id, :q, :status, '29:staff', '田中 次郎', 'https://smba.example', 'ja', :answer, :by, :at, :created)"
)


async def _run(url: str, *statements: tuple[text, dict]) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for stmt, params in statements:
                await conn.execute(stmt, params)
            rows = await conn.execute(
                text("SELECT ticket_id, author, author_name, body FROM qa_ticket_messages ORDER BY id")
            )
            return [tuple(r) for r in rows] if rows.returns_rows else []
    finally:
        await engine.dispose()


def test_existing_answers_become_the_first_message(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "0030_qa")  # back to 0030_qa, the table gone

    async def seed() -> None:
        engine = make_engine(db_url)
        try:
            async with engine.begin() as conn:
                for params in (
                    {"id": 1, "q": "答えのある質問", "status": "answered", "answer": "3月です。",
                     "by": "佐藤 花子", "at": datetime(2026, 4, 1, 1, tzinfo=UTC), "created": datetime(2026, 3, 31, 1, tzinfo=UTC)},
                    {"id": 2, "q": "まだの質問", "status": "open", "answer": None,
                     "by": None, "at": None, "created": datetime(2026, 4, 2, 1, tzinfo=UTC)},
                ):  # fmt: skip
                    await conn.execute(INSERT, params)
        finally:
            await engine.dispose()

    asyncio.run(seed())
    upgrade_sync(db_url)
    rows = asyncio.run(_run(db_url))
    assert rows == [(1, "division", "佐藤 花子", "3月です。")]


def test_the_revision_goes_down_and_up_again(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "qa@-1")
    upgrade_sync(db_url)
    assert asyncio.run(_run(db_url)) == []
