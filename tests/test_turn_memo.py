"""The per-chat memo (bot/memo.py) through the bot: a sender's repeated messages are handled without
reading the database, and a role change is never missed (at once for writes of this process, within
IDENTITY_TTL for writes of another)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.memo import IDENTITY_TTL
from storage.models.qa import QueryLog
from tests.cards import by_id
from tests.roster.helpers import demo_bot
from tests.support import ADMIN, STAFF

pytestmark = pytest.mark.asyncio


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _statements(bot: Any) -> list[str]:
    """Every SQL statement the bot's engine runs from now on."""
    seen: list[str] = []
    engine = bot.services.sessionmaker.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def _role_line(connector: Any, person: Any) -> str:
    return by_id(connector.cards_to(person.conversation_id)[-1], "help.you")["text"]


async def test_a_repeated_message_reads_nothing_and_is_answered(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector, clock=_Clock()) as bot:
        await bot.say("ヘルプ", user=ADMIN)  # stores the reference (a write)
        await bot.say("ヘルプ", user=ADMIN)  # one read: still reachable? who is it?
        statements = _statements(bot)
        await bot.say("ヘルプ", user=ADMIN)
        await bot.say("help", user=ADMIN)
    assert statements == []
    cards = connector.cards_to(ADMIN.conversation_id)
    assert len(cards) == 4 and all("管理者" in by_id(c, "help.you")["text"] for c in cards)


async def test_a_handler_on_the_quick_path_still_commits_its_writes(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector, clock=_Clock()) as bot:
        await bot.say("ヘルプ", user=STAFF)
        await bot.say("ヘルプ", user=STAFF)
        await bot.say("Teams会議を録画するには?", user=STAFF)  # the search logs the question
        async with bot.services.sessionmaker() as s:
            logged = (await s.scalars(select(QueryLog.query))).all()
    assert any("録画" in q for q in logged)


async def test_a_role_given_in_this_process_applies_to_the_very_next_message(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector, clock=_Clock()) as bot:
        for _ in range(3):
            await bot.say("ヘルプ", user=STAFF)
        before = _role_line(connector, STAFF)
        await bot.say("管理者追加 staff@demo-city.example.jp 田中 次郎", user=ADMIN)
        await bot.say("ヘルプ", user=STAFF)
        after = _role_line(connector, STAFF)
    assert "管理者" not in before
    assert "管理者" in after


async def test_a_role_removed_by_another_process_applies_within_the_time_limit(sqlite_url, connector):
    clock = _Clock()
    async with demo_bot(sqlite_url, connector, clock=clock) as bot:
        for _ in range(3):
            await bot.say("ヘルプ", user=ADMIN)
        # Another process (a second bot instance, the CLI) revokes 佐藤さん's admin role; this process
        # learns nothing of it but the database.
        path = sqlite_url.split(":///", 1)[1]
        with sqlite3.connect(path) as other:
            other.execute(
                "UPDATE division_roles SET revoked_at = '2026-11-24 01:00:00' WHERE person_id IN "
                "(SELECT id FROM people WHERE email = ?)",
                (ADMIN.email,),
            )
        clock.now += IDENTITY_TTL + timedelta(seconds=1)
        await bot.say("ヘルプ", user=ADMIN)
    assert "管理者" not in _role_line(connector, ADMIN)
