"""Read receipts (既読) through the real HTTP path: Teams' read-receipt event marks exactly the copies
delivered at or before the last-read message in that chat, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dialogs.announce import automation
from dialogs.announce.service import KIND
from dialogs.engines.delivery.receipts import ReadCounts, message_seq, read_counts, read_states, record_read
from dialogs.engines.delivery.worker import drain
from storage.models import ChatReadMark, Delivery
from tests.announce.conftest import build_city
from tests.delivery.helpers import FAST, conv_of
from tests.support import ADMIN, LEADER, STAFF, TENANT, Person, activity, settings_for

READ_RECEIPT = "application/vnd.microsoft.readReceipt"


def _promoter(pid: int) -> Person:
    return Person(f"29:u{pid}", f"aad-{pid}", f"職員{pid}", f"p{pid}@city.example.jp")


def _receipt(url: str, user: Person, last_read: Any, **kw: Any) -> dict[str, Any]:
    return activity(
        url, user=user, type="event", name=READ_RECEIPT, value={"lastReadMessageId": last_read}, **kw
    )


async def _announce(bot: Any, title: str) -> int:
    async with bot.services.sessionmaker() as s, s.begin():
        ann, _n, errors = await automation.create_and_send(
            bot.services,
            s,
            {"title": title, "body": "本文です。", "audience": "all"},
            source="api",
            author_label="test",
            now=bot.services.clock(),
        )
        assert not errors and ann is not None
        ann_id = ann.id
    await drain(bot.services, config=FAST)
    return ann_id


async def _copy(bot: Any, ann_id: int, pid: int) -> str:
    async with bot.services.sessionmaker() as s:
        aid = await s.scalar(
            select(Delivery.activity_id).where(
                Delivery.kind == KIND, Delivery.ref_id == ann_id, Delivery.person_id == pid
            )
        )
    assert aid is not None
    return aid


async def _read_at(bot: Any, ann_id: int) -> dict[int | None, bool]:
    async with bot.services.sessionmaker() as s:
        rows = (
            await s.execute(
                select(Delivery.person_id, Delivery.read_at).where(
                    Delivery.kind == KIND, Delivery.ref_id == ann_id, Delivery.state == "delivered"
                )
            )
        ).all()
    return {pid: read_at is not None for pid, read_at in rows}


def test_teams_message_ids_compare_as_numbers() -> None:
    # Teams ids in a personal chat are milliseconds since 1970; a string comparison would put "999" last.
    assert message_seq("1733390000123") == 1733390000123
    assert message_seq("999") is not None and message_seq("999") < message_seq("1733390000123")  # type: ignore[operator]
    for odd in ("", None, "act-3", "1:abc", "１２３", "-5", str(2**64)):
        assert message_seq(odd) is None


@pytest.mark.asyncio
async def test_read_receipts_mark_exactly_the_copies_read(sqlite_url, connector) -> None:
    from tests.support import running_bot

    connector.numeric_ids = True
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        city = await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)  # the leader has a chat with the bot (and never sends receipts)
        first = await _announce(bot, "一通目")
        second = await _announce(bot, "二通目")
        url = connector.url

        # 職員101 read up to the first announcement: the first copy is read, the second (newer) is not.
        first_101 = await _copy(bot, first, 101)
        assert await bot.post(_receipt(url, _promoter(101), first_101)) < 300
        # 職員102 read everything up to the second announcement: both copies.
        assert await bot.post(_receipt(url, _promoter(102), await _copy(bot, second, 102))) < 300
        # 職員103 has read receipts on but last read something older than both copies.
        assert await bot.post(_receipt(url, _promoter(103), str(int(first_101) - 100))) < 300

        assert await _read_at(bot, first) == {city.leader_id: False, 101: True, 102: True, 103: False}
        assert await _read_at(bot, second) == {city.leader_id: False, 101: False, 102: True, 103: False}

        async with bot.services.sessionmaker() as s:
            # The leader of 総務課 never sent a receipt: "unknown", never "unread".
            assert await read_counts(s, KIND, first) == ReadCounts(read=2, unread=1, unknown=1)
            assert await read_counts(s, KIND, second) == ReadCounts(read=1, unread=2, unknown=1)
            states = await read_states(s, KIND, second)
            assert states["person:101"][0] == "unread" and states["person:102"][0] == "read"

        # A later receipt in the same chat covers the newer copy; an older, late receipt undoes nothing.
        assert await bot.post(_receipt(url, _promoter(101), await _copy(bot, second, 101))) < 300
        assert await bot.post(_receipt(url, _promoter(101), str(int(first_101) - 5))) < 300
        assert (await _read_at(bot, second))[101] is True
        async with bot.services.sessionmaker() as s:
            mark = await s.get(ChatReadMark, conv_of(101))
            assert mark is not None and mark.last_read_message_id == await _copy(bot, second, 101)


@pytest.mark.asyncio
async def test_receipts_for_unknown_chats_messages_and_odd_values_are_ignored(sqlite_url, connector) -> None:
    from tests.support import running_bot

    connector.numeric_ids = True
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        ann = await _announce(bot, "お知らせ")
        url = connector.url
        before = len(connector.calls)
        # A chat the bot never delivered to, ids that are not Teams message ids, no value at all, and a
        # receipt-named event from a channel: all answered 200, nothing recorded, nothing sent.
        for act in (
            _receipt(url, STAFF, "1733399999999"),
            _receipt(url, _promoter(101), "act-1"),
            _receipt(url, _promoter(101), 12345678901234567890123),
            _receipt(url, _promoter(101), None),
            activity(url, user=_promoter(101), type="event", name=READ_RECEIPT),
            _receipt(
                url,
                _promoter(101),
                "1733399999999",
                conversation_id="19:section@thread.tacv2",
                conversation_type="channel",
                channel_data={"tenant": {"id": TENANT}, "channel": {"id": "19:section@thread.tacv2"}},
            ),
        ):
            assert await bot.post(act) < 300
        assert not [c for c in connector.calls[before:] if c.method == "POST"]
        assert set((await _read_at(bot, ann)).values()) == {False}
        async with bot.services.sessionmaker() as s:
            assert (await s.scalars(select(ChatReadMark))).all() == []


@pytest.mark.asyncio
async def test_record_read_on_both_databases(db_url) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert, update

    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    now = datetime(2026, 4, 1, tzinfo=UTC)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            base = {"kind": "announcement", "ref_id": 1, "payload": {}, "op": "send", "state": "delivered"}
            await s.execute(
                insert(Delivery),
                [
                    {
                        **base,
                        "recipient_key": "person:1",
                        "conversation_id": "c1",
                        "activity_id": "1733390000100",
                    },
                    {
                        **base,
                        "recipient_key": "person:1",
                        "purpose": "reminder-1",
                        "conversation_id": "c1",
                        "activity_id": "1733390000900",
                    },
                    {
                        **base,
                        "recipient_key": "person:2",
                        "conversation_id": "c2",
                        "activity_id": "1733390000100",
                    },
                    {
                        **base,
                        "recipient_key": "person:3",
                        "conversation_id": "c1",
                        "activity_id": "1733390000050",
                        "state": "failed",
                    },
                ],
            )
        async with make_sessionmaker(engine)() as s, s.begin():
            assert await record_read(s, "c1", "1733390000500", now) == 1
            assert await record_read(s, "c9", "1733390000500", now) == 0
        async with make_sessionmaker(engine)() as s:
            assert await read_counts(s, "announcement", 1) == ReadCounts(read=1, unread=0, unknown=1)
            assert await read_counts(s, "announcement", 1, purposes=None) == ReadCounts(1, 1, 1)
            assert await s.get(ChatReadMark, "c9") is None
        # The person had the chat open: the receipt came before the worker recorded the copy as delivered.
        async with make_sessionmaker(engine)() as s, s.begin():
            await s.execute(
                insert(Delivery),
                [
                    {
                        **base,
                        "ref_id": 2,
                        "recipient_key": "person:1",
                        "conversation_id": "c1",
                        "state": "sending",
                    }
                ],
            )
            await record_read(s, "c1", "1733390000600", now)
            await s.execute(
                update(Delivery)
                .where(Delivery.ref_id == 2)
                .values(state="delivered", activity_id="1733390000550")
            )
        async with make_sessionmaker(engine)() as s:
            assert await read_counts(s, "announcement", 2) == ReadCounts(read=1, unread=0, unknown=0)
    finally:
        await engine.dispose()
