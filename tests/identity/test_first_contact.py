"""First contact never fails: Teams sends installationUpdate and conversationUpdate for one install at
the same moment (and people double-send messages). Both are stored, nothing is apologised for, and
the greeting arrives exactly once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from dialogs.engines.delivery.worker import drain
from storage.models import ConversationRef, TeamsAccount
from tests.support import BOT_ID, Person, activity, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio
ROUNDS = 12


def _newcomer(i: int) -> Person:
    return Person(f"29:new-{i}", f"aad-new-{i}", f"新人 {i}", f"new{i}@demo-city.example.jp")


async def test_install_and_conversation_update_together_greet_once(db_url, connector):
    people = [_newcomer(i) for i in range(ROUNDS)]
    connector.members = members_for(*people)
    async with running_bot(settings_for(db_url), connector) as bot:
        for person in people:
            install = activity(connector.url, user=person, type="installationUpdate", action="add")
            joined = activity(
                connector.url,
                user=person,
                type="conversationUpdate",
                membersAdded=[{"id": BOT_ID}, {"id": person.user_id}],
            )
            statuses = await asyncio.gather(bot.post(install), bot.post(joined))
            assert all(s < 300 for s in statuses), statuses
        await drain(bot.services)  # greetings go out through the delivery queue
        async with bot.services.sessionmaker() as s:
            refs = await s.scalar(select(func.count()).select_from(ConversationRef))
            accounts = await s.scalar(select(func.count()).select_from(TeamsAccount))
    assert refs == ROUNDS and accounts == ROUNDS
    for person in people:
        texts = connector.texts_to(person.conversation_id)
        assert not any("申し訳ありません" in t for t in texts), texts
        greetings = [t for t in texts if "はじめまして" in t]
        assert len(greetings) == 1, texts


async def test_two_first_messages_at_once_are_both_answered(db_url, connector):
    people = [_newcomer(100 + i) for i in range(ROUNDS)]
    connector.members = members_for(*people)
    async with running_bot(settings_for(db_url), connector) as bot:
        for person in people:
            statuses = await asyncio.gather(bot.say("ヘルプ", user=person), bot.say("help", user=person))
            assert all(s < 300 for s in statuses), statuses
    for person in people:
        bodies = connector.sent_to(person.conversation_id)
        assert not any("申し訳ありません" in (b.get("text") or "") for b in bodies), bodies
        assert len(connector.cards_to(person.conversation_id)) == 2
