"""An announcement from compose to recall, through the real HTTP path and the delivery worker,
against the fake Bot Connector."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from dialogs.announce.service import KIND, tick
from dialogs.engines.delivery import DeliveryState, deliveries
from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import JST, add_business_days, format_date_ja, format_datetime_ja
from storage.models.announce import Announcement, AnnouncementRecipient
from tests.announce.conftest import actions, build_city, card, card_ids, card_text, edit_sent, inputs, now_utc
from tests.announce.relay_flow import promoter
from tests.delivery.helpers import FAST, conv_of
from tests.support import ADMIN, LEADER, STAFF, TENANT, fixed_clock, running_bot, settings_for

pytestmark = pytest.mark.asyncio


def _deadline() -> str:
    return add_business_days(now_utc().astimezone(JST).date(), 5).isoformat()


async def _compose(bot, connector) -> str:
    await bot.say("お知らせ", user=ADMIN)
    return card_ids(connector, ADMIN.conversation_id)[-1]


def _form(**kw):
    values = {
        "title": "電子申請研修のご案内",
        "body": "4月15日に**電子申請**の研修を行います。\n- 対象: 各課のDX推進リーダー",
        "link1_title": "申込フォーム",
        "link1_url": "https://forms.example.jp/apply",
        "importance": "high",
        "audience": "all",
        "ack_required": "true",
        "deadline": _deadline(),
        "send_mode": "now",
    }
    values.update(kw)
    return values


@dataclass
class Sent:
    """An announcement to the demo city's five promoters, sent and drained; 職員104 blocked the bot."""

    bot: Any
    city: Any
    ann_id: int
    compose_id: str  # the author's card: preview, then progress


@asynccontextmanager
async def sent_announcement(sqlite_url: str, connector: Any) -> AsyncIterator[Sent]:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        city = await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)  # the leader has a chat with the bot
        compose_id = await _compose(bot, connector)
        await bot.press({"action": "announce.preview", **_form()}, user=ADMIN, reply_to_id=compose_id)
        ann_id = next(
            a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send"
        )
        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        await drain(bot.services, config=FAST)
        yield Sent(bot, city, ann_id, compose_id)


def _leader_card(connector: Any) -> str:
    found = [
        i
        for i in card_ids(connector, LEADER.conversation_id)
        if "電子申請研修のご案内" in card_text(connector, i)
    ]
    assert len(found) == 1
    return found[0]


async def _leader_confirms(sent: Sent, connector: Any) -> None:
    await sent.bot.press(
        {"action": "announce.ack", "id": sent.ann_id}, user=LEADER, reply_to_id=_leader_card(connector)
    )
    await drain(sent.bot.services, config=FAST)


async def test_the_preview_is_what_recipients_get_and_a_send_happens_once(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        compose_id = await _compose(bot, connector)
        assert "お知らせを作成" in card_text(connector, compose_id)

        # Preview: the author's card turns into exactly what recipients will get.
        await bot.press({"action": "announce.preview", **_form()}, user=ADMIN, reply_to_id=compose_id)
        preview = card_text(connector, compose_id)
        assert "送信前の確認" in preview and "電子申請研修のご案内" in preview
        assert "5人(3課・リーダー3人・サブリーダー2人)" in preview
        assert "確認しました" in preview and "申込フォーム" in preview
        ann_id = next(
            a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send"
        )

        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        assert "送信中 0/5" in card_text(connector, compose_id)
        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        assert "二重には送信しません" in connector.texts_to(ADMIN.conversation_id)[-1]


async def test_the_author_sees_who_was_not_reached_and_why(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        author = card_text(connector, sent.compose_id)
        # One of five has blocked the bot: finished, but not "complete", and who it is.
        assert "送信が完了しました" not in author
        assert "4人に届きましたが、1人には届いていません" in author
        assert "届いていない方: 職員104(税務課)" in author
        assert "ボットをブロックしている: 1人" in author
        assert "0/5人" in author  # confirmed

        # Each reachable promoter got one card; the blocked one is reported, not retried forever.
        leader_card = _leader_card(connector)
        for pid in (101, 102, 103):
            assert len(card_ids(connector, conv_of(pid))) == 1
        assert connector.sent_to(conv_of(104)) == []
        assert connector.activities[leader_card]["channelData"]["notification"]["alert"] is True


async def test_only_the_recipient_confirms_and_only_once(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        bot, ann_id, leader_card = sent.bot, sent.ann_id, _leader_card(connector)
        # Someone else pressing the leader's card is refused and nothing is recorded.
        await bot.press({"action": "announce.ack", "id": ann_id}, user=STAFF, reply_to_id=leader_card)
        assert "あなた宛てのものではない" in connector.texts_to(STAFF.conversation_id)[-1]
        # The leader confirms: once, and the card turns to 確認済み.
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        assert "確認済み" in card_text(connector, leader_card)
        assert not [a for a in actions(card(connector, leader_card)) if a.get("action") == "announce.ack"]
        async with bot.services.sessionmaker() as s:
            first = await s.scalar(
                select(AnnouncementRecipient.confirmed_at).where(
                    AnnouncementRecipient.person_id == sent.city.leader_id
                )
            )
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        async with bot.services.sessionmaker() as s:
            confirmed = (
                await s.scalars(
                    select(AnnouncementRecipient).where(AnnouncementRecipient.confirmed_at.is_not(None))
                )
            ).all()
        assert [r.person_id for r in confirmed] == [sent.city.leader_id] and confirmed[
            0
        ].confirmed_at == first

        await drain(bot.services, config=FAST)
        assert "1/5人" in card_text(connector, sent.compose_id)  # the author sees the confirmation


async def test_unconfirmed_sections_and_reminders_reach_only_those_missing(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        bot = sent.bot
        await _leader_confirms(sent, connector)
        # 未確認の課: 総務課 confirmed (its leader did), the other two not.
        await bot.say("未確認の課", user=ADMIN)
        unconfirmed = card_text(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        assert "未確認の課(2課/3課)" in unconfirmed
        assert "人事課" in unconfirmed and "税務課" in unconfirmed and "総務部 総務課" not in unconfirmed

        # 督促 reaches only those whose copy arrived and who have not confirmed.
        await bot.press({"action": "announce.remind", "id": sent.ann_id}, user=ADMIN)
        assert "未確認の3人に督促します" in connector.texts_to(ADMIN.conversation_id)[-1]
        await drain(bot.services, config=FAST)
        for pid in (101, 102, 103):
            texts = [card_text(connector, i) for i in card_ids(connector, conv_of(pid))]
            assert len(texts) == 2 and "【督促】" in texts[1]
        reminded_leader = [
            i for i in card_ids(connector, LEADER.conversation_id) if "【督促】" in card_text(connector, i)
        ]
        assert reminded_leader == []


async def test_an_edit_changes_every_delivered_copy_reminders_included(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        bot, ann_id, compose_id = sent.bot, sent.ann_id, sent.compose_id
        await _leader_confirms(sent, connector)
        await bot.press({"action": "announce.remind", "id": ann_id}, user=ADMIN)
        await drain(bot.services, config=FAST)

        # Edit after a confirmation step: every delivered copy (first copies and reminders) changes.
        await bot.press({"action": "announce.revise", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        revise_id = card_ids(connector, ADMIN.conversation_id)[-1]
        assert revise_id != compose_id  # the progress card is not overwritten by the form
        values = inputs(card(connector, revise_id))
        assert values["title"] == "電子申請研修のご案内"
        values["title"] = "【会場変更】電子申請研修のご案内"
        await bot.press(
            {"action": "announce.revise_preview", "id": ann_id, **values}, user=ADMIN, reply_to_id=revise_id
        )
        assert "7 件のメッセージを、下の内容に置き換えます" in card_text(
            connector, revise_id
        )  # 4 + 3 reminders
        async with bot.services.sessionmaker() as s:
            assert (await s.get(Announcement, ann_id)).title == "電子申請研修のご案内"  # not before the step
        await bot.press(
            {"action": "announce.apply_edit", "id": ann_id, "version": 1}, user=ADMIN, reply_to_id=revise_id
        )
        await drain(bot.services, config=FAST)
        rows = await _delivered(bot, ann_id)
        assert len(rows) == 7
        for row in rows:
            assert "【会場変更】電子申請研修のご案内" in card_text(connector, row.activity_id)
        assert "確認済み" in card_text(connector, _leader_card(connector))  # the confirmation stays visible


async def test_the_export_says_who_got_it_who_confirmed_and_why_not(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        bot = sent.bot
        await _leader_confirms(sent, connector)
        # Export from the link on the author's card: who got it, who confirmed, why not.
        xlsx_url, csv_url = [a["url"] for a in actions(card(connector, sent.compose_id)) if "url" in a]
        resp = await bot.client.get(urlparse(csv_url).path + "?" + urlparse(csv_url).query)
        assert resp.status == 200
        table = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert table[0][:8] == ["部", "課", "役割", "氏名", "状況", "配信日時", "確認日時", "エラー"]
        assert table[0][8:] == ["名簿ID", "メールアドレス", "状況コード", "理由コード", "既読", "既読日時"]
        by_name = {r[3]: r for r in table[1:]}
        assert by_name["職員104"][8:12] == ["104", "p104@city.example.jp", "not_reachable", "blocked"]
        assert by_name[LEADER.name][4] == "確認済み" and by_name[LEADER.name][6]
        assert by_name["職員104"][4] == "未接続" and by_name["職員104"][7] == "ボットをブロックしている"
        assert by_name["職員102"][:3] == ["総務部", "人事課", "リーダー"]
        # No read receipts came from anyone here: 既読不明 for the delivered, nothing for the undelivered.
        assert by_name["職員102"][12] == "既読不明" and by_name["職員104"][12:] == ["", ""]
        resp = await bot.client.get(urlparse(xlsx_url).path + "?" + urlparse(xlsx_url).query)
        assert resp.status == 200 and (await resp.read())[:2] == b"PK"
        resp = await bot.client.get(
            urlparse(csv_url).path + "?exp=9999999999&sig=" + "f" * 40
        )  # well formed, not ours
        assert resp.status == 403


async def test_a_recall_deletes_every_delivered_copy_after_its_own_confirmation(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        bot, ann_id = sent.bot, sent.ann_id
        rows = await _delivered(bot, ann_id)
        assert len(rows) == 4
        # Recall, after its own confirmation card: every delivered copy is deleted.
        await bot.press({"action": "announce.recall", "id": ann_id}, user=ADMIN)
        confirm_id = card_ids(connector, ADMIN.conversation_id)[-1]
        assert "回収する" in card_text(connector, confirm_id)
        async with bot.services.sessionmaker() as s:
            assert (await s.get(Announcement, ann_id)).state == "sent"
        await bot.press(
            {"action": "announce.recall_confirm", "id": ann_id}, user=ADMIN, reply_to_id=confirm_id
        )
        await drain(bot.services, config=FAST)
        for row in rows:
            assert row.activity_id not in connector.activities
        assert "取り消しました" in card_text(connector, sent.compose_id)


async def _delivered(bot: Any, ann_id: int) -> list[Any]:
    async with bot.services.sessionmaker() as s:
        return [
            r for r in await deliveries(s, KIND, ann_id, purposes=None) if r.state == DeliveryState.DELIVERED
        ]


async def test_validation_errors_come_back_politely_with_the_values_kept(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        compose_id = await _compose(bot, connector)
        bad = _form(title="", link2_title="資料", link2_url="ftp://x", audience="sections", deadline="")
        await bot.press({"action": "announce.preview", **bad}, user=ADMIN, reply_to_id=compose_id)
        text = card_text(connector, compose_id)
        assert "入力内容をご確認ください。" in text
        assert "件名を入力してください。" in text
        assert "リンク2のURLは https:// から始まる形で入力してください。" in text
        assert "宛先の課を1つ以上選んでください。" in text
        assert "確認期限を入力してください。" in text
        kept = inputs(card(connector, compose_id))
        assert (
            kept["body"] == bad["body"] and kept["link2_title"] == "資料" and kept["audience"] == "sections"
        )
        # The draft was kept too: it is in the list and opens with the same values.
        await bot.say("お知らせ一覧", user=ADMIN)
        listing = card(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        open_draft = next(a for a in actions(listing) if a.get("action") == "announce.open_draft")
        await bot.press(open_draft, user=ADMIN)
        reopened = inputs(card(connector, card_ids(connector, ADMIN.conversation_id)[-1]))
        assert reopened["body"] == bad["body"] and reopened["link2_url"] == "ftp://x"


async def test_only_authors_may_compose(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("お知らせ", user=LEADER)
        assert (
            "DX推進課(お知らせ・サーベイの送信担当)の方だけ" in connector.texts_to(LEADER.conversation_id)[-1]
        )
        await bot.press({"action": "announce.send", "id": 1}, user=STAFF)
        assert "の方だけ" in connector.texts_to(STAFF.conversation_id)[-1]


async def test_scheduled_on_a_holiday_is_pointed_out_and_waits(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    year = now_utc().astimezone(JST).year + 1
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        compose_id = await _compose(bot, connector)
        values = _form(
            send_mode="later", send_date=f"{year}-05-03", send_time="09:00", deadline=f"{year}-05-09"
        )
        await bot.press({"action": "announce.preview", **values}, user=ADMIN, reply_to_id=compose_id)
        text = card_text(connector, compose_id)
        assert (
            f"送信日時 {format_date_ja(__import__('datetime').date(year, 5, 3))} 9:00 は憲法記念日です"
            in text
        )
        assert "この日時で予約" in text
        # The deadline falls on a Saturday or Sunday in some years: it then moves to the next business day.
        ann_id = next(
            a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send"
        )
        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        assert "に送信する予定です" in card_text(connector, compose_id)
        await drain(bot.services, config=FAST)
        assert connector.sent_to(conv_of(101)) == []
        async with bot.services.sessionmaker() as s:
            ann = await s.get(Announcement, ann_id)
            assert ann.state == "scheduled" and ann.send_at.astimezone(JST).hour == 9


async def test_division_channel_gets_a_post_without_an_ack_button(sqlite_url, connector):
    channel_conv = "19:dxdiv@thread.tacv2;messageid=1700000000000"
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        data = {
            "team": {"id": "19:team"},
            "channel": {"id": "19:dxdiv@thread.tacv2"},
            "tenant": {"id": TENANT},
        }
        await bot.say(
            "ここをDX推進課チャンネルにする",
            user=ADMIN,
            conversation_id=channel_conv,
            conversation_type="channel",
            channel_data=data,
        )
        assert "DX推進課チャンネルに設定しました" in connector.texts_to(channel_conv)[-1]
        compose_id = await _compose(bot, connector)
        assert "にも投稿する" in card_text(connector, compose_id)
        await bot.press(
            {"action": "announce.preview", **_form(to_channel="true")}, user=ADMIN, reply_to_id=compose_id
        )
        ann_id = next(
            a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send"
        )
        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        await drain(bot.services, config=FAST)
        posts = connector.cards_to("19:dxdiv@thread.tacv2")
        assert len(posts) == 1 and posts[0]["body"]
        assert not [a for a in actions(posts[0]) if a.get("action") == "announce.ack"]
        assert "投稿済み" in card_text(connector, compose_id)


async def test_acknowledging_from_a_chat_with_no_card_id_still_checks_the_recipient(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        compose_id = await _compose(bot, connector)
        await bot.press({"action": "announce.preview", **_form()}, user=ADMIN, reply_to_id=compose_id)
        ann_id = next(
            a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send"
        )
        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        await drain(bot.services, config=FAST)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=STAFF)
        assert "あなた宛てのものではない" in connector.texts_to(STAFF.conversation_id)[-1]
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER)
        assert "確認を受け付けました" in connector.texts_to(LEADER.conversation_id)[-1]
        async with bot.services.sessionmaker() as s:
            n = len(
                (
                    await s.scalars(
                        select(AnnouncementRecipient).where(AnnouncementRecipient.confirmed_at.is_not(None))
                    )
                ).all()
            )
        assert n == 1
        assert timedelta(0) == timedelta(0)


async def test_a_preview_left_open_past_its_time_is_not_sent_and_stays_a_draft(sqlite_url, connector):
    from tests.support import fixed_clock

    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        compose_id = await _compose(bot, connector)
        soon = (now_utc() + timedelta(minutes=30)).astimezone(JST)
        values = _form(send_mode="later", send_date=soon.date().isoformat(), send_time=soon.strftime("%H:%M"))
        await bot.press({"action": "announce.preview", **values}, user=ADMIN, reply_to_id=compose_id)
        ann_id = next(
            a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send"
        )
        # The author comes back two hours later and presses 送信 on the old preview.
        bot.services.clock = fixed_clock(now_utc() + timedelta(hours=2))
        await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
        assert "送信日時が過去になっています" in card_text(connector, compose_id)
        async with bot.services.sessionmaker() as s:
            assert (await s.get(Announcement, ann_id)).state == "draft"
            assert await s.scalar(select(func.count()).select_from(AnnouncementRecipient)) == 0


def _reminders_to(connector: Any, conversation_id: str) -> list[str]:
    """The 【督促】 cards posted into a conversation, oldest first, as they read when posted."""
    return [
        str(c.body)
        for c in connector.posts()
        if c.conversation_id == conversation_id
        and c.created
        and str((c.body or {}).get("summary", "")).startswith("【督促】")
    ]


async def _edit(sent: Sent, connector: Any, **changes: str) -> None:
    """The author edits the sent announcement (内容を編集 → 確認 → 更新) with ``changes`` to the form."""
    await edit_sent(sent.bot, connector, sent.ann_id, reply_to_id=sent.compose_id, **changes)


async def test_a_later_deadline_after_an_edit_gets_its_own_automatic_reminder(sqlite_url, connector):
    async with sent_announcement(sqlite_url, connector) as sent:
        bot, services = sent.bot, sent.bot.services
        await _leader_confirms(sent, connector)
        async with services.sessionmaker() as s:
            ann = await s.get(Announcement, sent.ann_id)
            first_at, old_deadline = ann.auto_reminder_at, ann.deadline
        assert first_at is not None and old_deadline is not None

        # The automatic reminder goes for the first deadline, once, to those who have not confirmed.
        services.clock = fixed_clock(first_at + timedelta(minutes=1))
        await tick(services)
        await tick(services)
        await drain(services, config=FAST)
        assert [len(_reminders_to(connector, conv_of(p))) for p in (101, 102, 103)] == [1, 1, 1]
        assert _reminders_to(connector, LEADER.conversation_id) == []
        author = card_text(connector, sent.compose_id)
        assert "1回(配信 3件)" in author and "自動督促" not in author

        # 職員101 confirms; the author gives everyone a week more.
        card_101 = card_ids(connector, conv_of(101))[0]
        await bot.press(
            {"action": "announce.ack", "id": sent.ann_id}, user=promoter(101), reply_to_id=card_101
        )
        later = add_business_days(old_deadline, 5)
        await _edit(sent, connector, deadline=later.isoformat())
        async with services.sessionmaker() as s:
            ann = await s.get(Announcement, sent.ann_id)
            second_at = ann.auto_reminder_at
        assert ann.deadline == later and second_at is not None and second_at > first_at
        author = card_text(connector, sent.compose_id)
        # The card says when the next one goes, and still counts the one that went.
        assert f"自動督促\n{format_datetime_ja(second_at)}" in author
        assert "1回(配信 3件)" in author

        # A correction of the text half an hour before keeps the deadline, and so the reminder.
        services.clock = fixed_clock(second_at - timedelta(minutes=30))
        await _edit(sent, connector, title="【訂正】電子申請研修のご案内")
        async with services.sessionmaker() as s:
            assert (await s.get(Announcement, sent.ann_id)).auto_reminder_at == second_at
        assert f"自動督促\n{format_datetime_ja(second_at)}" in card_text(connector, sent.compose_id)
        services.clock = fixed_clock(second_at - timedelta(minutes=1))
        await tick(services)
        await drain(services, config=FAST)
        assert [len(_reminders_to(connector, conv_of(p))) for p in (101, 102, 103)] == [1, 1, 1]

        # Due: once (two ticks), to the two who still have not confirmed, naming the new deadline.
        services.clock = fixed_clock(second_at + timedelta(minutes=1))
        await tick(services)
        await tick(services)
        await drain(services, config=FAST)
        assert [len(_reminders_to(connector, conv_of(p))) for p in (101, 102, 103)] == [1, 2, 2]
        assert _reminders_to(connector, LEADER.conversation_id) == []
        for pid in (102, 103):
            assert f"確認期限は {format_date_ja(later)}" in _reminders_to(connector, conv_of(pid))[-1]
        author = card_text(connector, sent.compose_id)
        assert "2回(配信 5件)" in author and "自動督促" not in author

        services.clock = fixed_clock(second_at + timedelta(days=2))
        await tick(services)
        await drain(services, config=FAST)
        assert [len(_reminders_to(connector, conv_of(p))) for p in (101, 102, 103)] == [1, 2, 2]
