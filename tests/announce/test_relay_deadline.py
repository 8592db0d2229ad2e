"""「伝達期限を変更」 after sending, through HTTP and the delivery worker: only the DX division may; a past
day is refused politely; a holiday moves to the next business day; the promoters' cards and the author's
card show the new deadline; the audit log says who changed it; and a later deadline re-arms the
automatic relay reminder that already went for the old one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dialogs.announce.relay import reminders as relay_reminders
from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import (
    JST,
    add_business_days,
    format_date_ja,
    format_datetime_ja,
    next_business_day,
)
from storage.models.announce import Announcement
from storage.models.shared import AuditEntry
from tests.announce.conftest import actions, build_city, card, card_ids, card_text, inputs, now_utc
from tests.announce.relay_flow import button, copy_in, promoter, relay_press, send
from tests.delivery.helpers import FAST, conv_of
from tests.support import ADMIN, LEADER, fixed_clock, running_bot, settings_for

pytestmark = pytest.mark.asyncio


async def _stored(bot, ann_id: int) -> Announcement:
    async with bot.services.sessionmaker() as s:
        ann = await s.get(Announcement, ann_id)
        assert ann is not None
        return ann


async def _open_form(bot, connector, ann_id: int, author_card: str) -> str:
    """The author presses 「伝達期限を変更」 on their card: a card of its own comes back."""
    await bot.press(
        button(card(connector, author_card), "announce.relay_deadline"), user=ADMIN, reply_to_id=author_card
    )
    form_id = card_ids(connector, ADMIN.conversation_id)[-1]
    assert form_id != author_card
    return form_id


async def _change(bot, connector, ann_id: int, form_id: str, day: str) -> None:
    data = {
        **button(card(connector, form_id), "announce.relay_deadline_set"),
        **inputs(card(connector, form_id)),
    }
    data["relay_deadline"] = day
    await bot.press(data, user=ADMIN, reply_to_id=form_id)


def _saturday_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7 or 7)


async def test_the_author_changes_the_relay_deadline_and_every_card_follows(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, author_card = await send(bot, connector)
        old = (await _stored(bot, ann_id)).relay_deadline
        assert old is not None
        leader_card = copy_in(connector, LEADER.conversation_id)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        assert f"伝達期限: {format_date_ja(old)}" in card_text(connector, leader_card)
        assert "伝達期限を変更" in [a["title"] for a in actions(card(connector, author_card))]

        # A promoter cannot, by the same rule as every author action; nothing changes.
        await bot.press(
            {"action": "announce.relay_deadline_set", "id": ann_id, "relay_deadline": "2099-01-05"},
            user=LEADER,
            reply_to_id=leader_card,
        )
        assert "この操作は" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.press({"action": "announce.relay_deadline", "id": ann_id}, user=promoter(102))
        assert "この操作は" in connector.texts_to(conv_of(102))[-1]
        assert (await _stored(bot, ann_id)).relay_deadline == old

        form_id = await _open_form(bot, connector, ann_id, author_card)
        assert inputs(card(connector, form_id))["relay_deadline"] == old.isoformat()
        assert format_date_ja(old) in card_text(connector, form_id)

        # A past day: a polite refusal on the same card, the typed day kept, nothing stored.
        yesterday = (now_utc().astimezone(JST).date() - timedelta(days=1)).isoformat()
        await _change(bot, connector, ann_id, form_id, yesterday)
        shown = card_text(connector, form_id)
        assert "伝達期限が過去の日付になっています。今日以降の日付を入力してください。" in shown
        assert inputs(card(connector, form_id))["relay_deadline"] == yesterday
        assert (await _stored(bot, ann_id)).relay_deadline == old

        # A Saturday: the next business day becomes the deadline, and the author is told.
        saturday = _saturday_after(old + timedelta(days=3))
        moved = next_business_day(saturday)
        await _change(bot, connector, ann_id, form_id, saturday.isoformat())
        shown = card_text(connector, form_id)
        assert "伝達期限を変更しました" in shown
        assert f"翌営業日の{format_date_ja(moved)}を伝達期限とします" in shown
        assert f"伝達期限を{format_date_ja(old)}から{format_date_ja(moved)}に変更しました" in shown
        assert (await _stored(bot, ann_id)).relay_deadline == moved

        # The author's card (in place) and the confirmed leader's card (through the engine) follow.
        await drain(bot.services, config=FAST)
        author = card_text(connector, author_card)
        assert format_date_ja(moved) in author and format_date_ja(old) not in author
        leader_view = card_text(connector, leader_card)
        assert f"伝達期限: {format_date_ja(moved)}" in leader_view and format_date_ja(old) not in leader_view
        # ... and the relay form on it still works.
        await bot.press(
            relay_press(card(connector, leader_card), relay_method="mail"),
            user=LEADER,
            reply_to_id=leader_card,
        )
        assert "伝達の報告を受け付けました" in connector.texts_to(LEADER.conversation_id)[-1]

        # Who changed what is in the audit log the admins read.
        async with bot.services.sessionmaker() as s:
            entries = (
                await s.scalars(select(AuditEntry).where(AuditEntry.action == "announce.relay_deadline"))
            ).all()
        assert [(e.actor_label, e.detail["before"], e.detail["after"]) for e in entries] == [
            (ADMIN.email, old.isoformat(), moved.isoformat())
        ]
        await bot.say("監査ログ", user=ADMIN)
        log_card = card_text(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        assert (
            f"お知らせ「生成AI利用ガイドラインのお知らせ」(番号 {ann_id})の伝達期限を"
            f"{format_date_ja(old)}から{format_date_ja(moved)}に変更しました"
        ) in log_card


async def test_a_later_relay_deadline_rearms_the_automatic_reminder(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, author_card = await send(bot, connector)
        leader_card = copy_in(connector, LEADER.conversation_id)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        await bot.press(
            relay_press(card(connector, leader_card), relay_method="meeting"),
            user=LEADER,
            reply_to_id=leader_card,
        )
        ann = await _stored(bot, ann_id)
        assert ann.relay_reminder_at is not None and ann.relay_deadline is not None
        services = bot.services

        def reminders_to(cid: str) -> int:
            return sum(
                1
                for c in connector.posts()
                if c.conversation_id == cid
                and c.created
                and str(connector.activities[c.created].get("summary", "")).startswith("【伝達の督促】")
            )

        # The automatic reminder goes for the first deadline, to the sections not relayed.
        services.clock = fixed_clock(ann.relay_reminder_at + timedelta(minutes=1))
        await relay_reminders.tick(services)
        await drain(services, config=FAST)
        assert (
            reminders_to(conv_of(102)),
            reminders_to(conv_of(103)),
            reminders_to(LEADER.conversation_id),
        ) == (
            1,
            1,
            0,
        )
        assert (await _stored(bot, ann_id)).relay_reminded_at is not None
        author = card_text(connector, author_card)
        assert "伝達の督促\n1回" in author and "伝達の自動督促" not in author

        # The author gives the sections a week more: the reminder is due again, before the new deadline.
        later = add_business_days(ann.relay_deadline, 5)
        await drain(services, config=FAST)
        form_id = await _open_form(bot, connector, ann_id, author_card)
        await _change(bot, connector, ann_id, form_id, later.isoformat())
        changed = await _stored(bot, ann_id)
        assert changed.relay_deadline == later and changed.relay_reminded_at is None
        expected = relay_reminders.relay_reminder_moment(changed, services.clock(), 2)
        assert expected is not None and changed.relay_reminder_at == expected
        assert "未伝達の課への自動督促は" in card_text(connector, form_id)
        await drain(services, config=FAST)
        author = card_text(connector, author_card)
        # The card says when the next one goes, and still counts the one that went.
        assert f"伝達の自動督促\n{format_datetime_ja(expected)}" in author
        assert "伝達の督促\n1回" in author

        services.clock = fixed_clock(expected - timedelta(minutes=1))
        await relay_reminders.tick(services)
        await drain(services, config=FAST)
        assert (reminders_to(conv_of(102)), reminders_to(conv_of(103))) == (1, 1)  # not yet
        services.clock = fixed_clock(expected + timedelta(minutes=1))
        await relay_reminders.tick(services)
        await relay_reminders.tick(services)  # twice: still once
        await drain(services, config=FAST)
        assert (
            reminders_to(conv_of(102)),
            reminders_to(conv_of(103)),
            reminders_to(LEADER.conversation_id),
        ) == (
            2,
            2,
            0,
        )
        author = card_text(connector, author_card)
        assert "伝達の督促\n2回" in author and "伝達の自動督促" not in author
