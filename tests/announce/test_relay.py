"""Relay requests (伝達依頼) through the real HTTP path and the delivery worker: a promoter confirms, reports
「課内に伝達しました」 on their own card, the author's card shows the section as relayed, forged reports are
refused, and reminders go only to the sections not relayed."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from dialogs.announce.export import export_rows
from dialogs.announce.relay import reminders as relay_reminders
from dialogs.announce.relay.store import section_status
from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import JST, add_business_days, format_date_ja
from storage.models import TeamsAccount
from storage.models.announce import Announcement, AnnouncementMemberAck, AnnouncementRelay
from tests.announce.conftest import actions, build_city, card, card_ids, card_text, edit_sent, inputs, now_utc
from tests.announce.relay_flow import (
    SECTION_CHANNEL,
    button,
    copy_in,
    form,
    in_section_channel,
    link_section_channel,
    post_to_section_channel,
    promoter,
    relay_press,
    send,
)
from tests.delivery.helpers import FAST, conv_of
from tests.support import (
    ADMIN,
    LEADER,
    STAFF,
    TENANT,
    Person,
    fixed_clock,
    members_for,
    running_bot,
    settings_for,
)

pytestmark = pytest.mark.asyncio


async def test_compose_checks_the_relay_deadline(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("お知らせ", user=ADMIN)
        compose_id = card_ids(connector, ADMIN.conversation_id)[-1]
        await bot.press(
            {"action": "announce.preview", **form(relay_deadline="", ack_required="false")},
            user=ADMIN,
            reply_to_id=compose_id,
        )
        shown = card_text(connector, compose_id)
        assert "伝達期限を入力してください" in shown
        assert "「確認しました」を求める設定もオンにしてください" in shown
        today = now_utc().astimezone(JST).date()
        await bot.press(
            {"action": "announce.preview", **form(relay_deadline=(today - timedelta(days=1)).isoformat())},
            user=ADMIN,
            reply_to_id=compose_id,
        )
        assert "伝達期限が過去の日付" in card_text(connector, compose_id)
        # The form keeps what was typed.
        assert inputs(card(connector, compose_id))["relay_required"] == "true"


async def test_relay_report_correction_forgery_and_reminders(sqlite_url, connector, caplog) -> None:
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        city = await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, author_card = await send(bot, connector)
        author = card_text(connector, author_card)
        assert "伝達済みの課" in author and "0/3課" in author
        relay_deadline = add_business_days(now_utc().astimezone(JST).date(), 5)
        assert format_date_ja(relay_deadline) in author

        leader_card = copy_in(connector, LEADER.conversation_id)
        # Before confirming there is no relay form; a hand-made press is asked to confirm first.
        assert not [a for a in actions(card(connector, leader_card)) if a.get("action") == "announce.relay"]
        await bot.press(
            {"action": "announce.relay", "id": ann_id, "relay_method": "meeting"},
            user=LEADER,
            reply_to_id=leader_card,
        )
        assert "先に「確認しました」を押して" in connector.texts_to(LEADER.conversation_id)[-1]

        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        leader_view = card_text(connector, leader_card)
        assert "【伝達依頼】" in leader_view and format_date_ja(relay_deadline) in leader_view
        press = relay_press(card(connector, leader_card))
        assert press["section"] == city.sections["総務課"]

        # No method chosen: a polite error, nothing stored.
        await bot.press(press, user=LEADER, reply_to_id=leader_card)
        assert "伝達の方法を選んで" in connector.texts_to(LEADER.conversation_id)[-1]
        # A forged report for another section is refused and logged.
        caplog.set_level(logging.WARNING)
        await bot.press(
            {**press, "relay_method": "mail", "section": city.sections["人事課"]},
            user=LEADER,
            reply_to_id=leader_card,
        )
        assert "ご自分の課の伝達だけ" in connector.texts_to(LEADER.conversation_id)[-1]
        assert any("refused a relay report" in r.getMessage() for r in caplog.records)
        # Someone pressing the leader's card (another section's promoter) is refused too.
        await bot.press({**press, "relay_method": "mail"}, user=promoter(102), reply_to_id=leader_card)
        assert "この報告は受け付けられません" in connector.texts_to(conv_of(102))[-1]
        async with bot.services.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(AnnouncementRelay)) == 0

        # The leader reports: the card turns into 伝達済み in place, the author's card counts the section.
        await bot.press(
            {**press, "relay_method": "meeting", "relay_reached": "12"}, user=LEADER, reply_to_id=leader_card
        )
        assert "伝達の報告を受け付けました" in connector.texts_to(LEADER.conversation_id)[-1]
        leader_view = card_text(connector, leader_card)
        assert "課内に伝達済みです" in leader_view and "課内会議・12人" in leader_view
        assert "報告を訂正する" in leader_view
        await drain(bot.services, config=FAST)
        author = card_text(connector, author_card)
        assert "1/3課" in author

        # The sub-leader of the same section confirms: their card shows the leader's report, and they may
        # correct it. Still one report for the section.
        sub_card = copy_in(connector, conv_of(101))
        await bot.press({"action": "announce.ack", "id": ann_id}, user=promoter(101), reply_to_id=sub_card)
        assert "報告: 鈴木 一郎" in card_text(connector, sub_card)
        sub_press = relay_press(card(connector, sub_card))
        assert sub_press["relay_method"] == "meeting" and sub_press["relay_reached"] == 12
        await bot.press(
            {**sub_press, "relay_method": "channel", "relay_reached": ""},
            user=promoter(101),
            reply_to_id=sub_card,
        )
        assert "伝達の報告を訂正しました" in connector.texts_to(conv_of(101))[-1]
        async with bot.services.sessionmaker() as s:
            reports = (await s.scalars(select(AnnouncementRelay))).all()
            assert [(r.section_id, r.method, r.reached, r.corrections, r.reporter_name) for r in reports] == [
                (city.sections["総務課"], "channel", None, 1, "職員101")
            ]
        await drain(bot.services, config=FAST)
        # The leader's card follows the correction (updated through the delivery engine).
        assert "課の Teams チャネル" in card_text(connector, leader_card)

        # 伝達状況: per section, and the section whose only reachable promoter has not confirmed.
        await bot.press({"action": "announce.relay_status", "id": ann_id}, user=ADMIN)
        status = card_text(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        assert "伝達済み 1/3課" in status
        assert "人事課" in status and "未伝達(配信 1人・既読 0人・確認 0/1人)" in status

        # The export carries the section's report on each of its promoters' rows.
        async with bot.services.sessionmaker() as s:
            ann = await s.get(Announcement, ann_id)
            assert ann is not None
            table = await export_rows(s, ann)
        assert table[0][-5:] == ("伝達", "伝達方法", "伝達人数", "伝達報告日時", "伝達報告者")
        by_name = {r[3]: r for r in table[1:]}
        assert by_name["職員101"][-5] == "伝達済み" and by_name["職員101"][-4] == "課の Teams チャネル"
        assert by_name[LEADER.name][-1] == "職員101"
        assert by_name["職員102"][-5:] == ("未伝達", "", "", "", "")

        # 未伝達の課に督促: only the promoters of 人事課 and 税務課 whose copy arrived (職員104 blocked the bot).
        before = {
            c: len(card_ids(connector, c))
            for c in (LEADER.conversation_id, conv_of(101), conv_of(102), conv_of(103))
        }
        await bot.press({"action": "announce.relay_remind", "id": ann_id}, user=ADMIN)
        assert "未伝達の2課の推進員2人に督促を送ります" in connector.texts_to(ADMIN.conversation_id)[-1]
        await drain(bot.services, config=FAST)
        after = {c: len(card_ids(connector, c)) for c in before}
        assert after == {
            **before,
            conv_of(102): before[conv_of(102)] + 1,
            conv_of(103): before[conv_of(103)] + 1,
        }
        reminder = connector.activities[card_ids(connector, conv_of(102))[-1]]
        assert reminder["summary"].startswith("【伝達の督促】")
        async with bot.services.sessionmaker() as s:
            ann = await s.get(Announcement, ann_id)
            assert ann is not None and ann.relay_reminders == 1


async def test_automatic_relay_reminder_goes_once_to_sections_not_relayed(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        city = await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, _author = await send(bot, connector)
        leader_card = copy_in(connector, LEADER.conversation_id)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        await bot.press(
            {**relay_press(card(connector, leader_card)), "relay_method": "mail"},
            user=LEADER,
            reply_to_id=leader_card,
        )
        async with bot.services.sessionmaker() as s:
            ann = await s.get(Announcement, ann_id)
            assert ann is not None and ann.relay_reminder_at is not None
            due = ann.relay_reminder_at
            sections = await section_status(s, ann_id)
            assert [(x.section, x.relayed) for x in sections] == [
                ("総務課", True),
                ("人事課", False),
                ("税務課", False),
            ]
        posted = len(connector.posts())
        services = bot.services
        services.clock = fixed_clock(due - timedelta(minutes=1))
        await relay_reminders.tick(services)
        await drain(services, config=FAST)
        assert len(connector.posts()) == posted  # not yet
        services.clock = fixed_clock(due + timedelta(minutes=1))
        await relay_reminders.tick(services)
        await relay_reminders.tick(services)  # twice: still once
        await drain(services, config=FAST)
        new = connector.posts()[posted:]
        assert sorted(c.conversation_id for c in new if c.conversation_id != ADMIN.conversation_id) == [
            conv_of(102),
            conv_of(103),
        ]
        assert city.sections  # the city was built


async def test_section_channel_post_reaches_every_member_once_counts_confirmations_and_is_recalled(
    sqlite_url, connector
) -> None:
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        # The city's accounts in the tenant the activities come from, so promoters are recognised anywhere.
        async with bot.services.sessionmaker() as s, s.begin():
            await s.execute(update(TeamsAccount).where(TeamsAccount.tenant_id == "").values(tenant_id=TENANT))
        for person in (LEADER, promoter(101), promoter(102)):
            await bot.say("ヘルプ", user=person)
        # The team behind the section's channel: three people and the bot.
        connector.members = {
            **members_for(ADMIN, LEADER, STAFF, promoter(101)),
            "28:dxbot": {"id": "28:dxbot"},
        }
        connector.conversation_members["19:team-soumu@thread.tacv2"] = [
            LEADER.user_id,
            STAFF.user_id,
            "29:u101",
            "28:dxbot",
        ]
        # Another section's promoter cannot make this 総務課's channel; the leader of 総務課 can, in it.
        await in_section_channel(
            bot, promoter(102), text="<at>DX推進ボット</at> ここを課のチャネルにする 総務課"
        )
        assert "総務課のDX推進リーダー・サブリーダーか" in connector.texts_to(SECTION_CHANNEL)[-1]
        await bot.say("ここを課のチャネルにする", user=LEADER)  # not in a channel: says where
        assert "課のチャネル(またはグループチャット)で" in connector.texts_to(LEADER.conversation_id)[-1]
        await in_section_channel(bot, LEADER, text="<at>DX推進ボット</at> ここを課のチャネルにする")
        assert "ここを総務課のチャネルにしました" in connector.texts_to(SECTION_CHANNEL)[-1]

        ann_id, author_card = await send(bot, connector)
        leader_card = copy_in(connector, LEADER.conversation_id)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        post = next(
            a for a in actions(card(connector, leader_card)) if a.get("action") == "announce.relay_post"
        )
        assert "課のチャネルに投稿" in post["title"]
        press = {k: v for k, v in post.items() if k != "title"}
        posts_before = len([c for c in connector.posts() if c.conversation_id == SECTION_CHANNEL])
        await bot.press(press, user=LEADER, reply_to_id=leader_card)
        assert "課のチャネルに投稿します" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.press(press, user=LEADER, reply_to_id=leader_card)  # twice: still one post
        assert "すでに課のチャネルに投稿しています" in connector.texts_to(LEADER.conversation_id)[-1]
        await drain(bot.services, config=FAST)
        channel_posts = [c for c in connector.posts() if c.conversation_id == SECTION_CHANNEL][posts_before:]
        assert len(channel_posts) == 1
        shared = channel_posts[0].created
        assert shared is not None
        shared_text = card_text(connector, shared)
        assert "生成AI利用ガイドライン" in shared_text
        # The section's staff read who shared it, in the role that person holds in the section.
        assert "総務課 DX推進リーダー 鈴木 一郎さんが共有しました。" in shared_text
        assert "確認した人: 0人" in shared_text
        # The leader's card now says 伝達済み by the section's Teams channel, without a second post button.
        assert "課の Teams チャネル" in card_text(connector, leader_card)
        assert not [
            a for a in actions(card(connector, leader_card)) if a.get("action") == "announce.relay_post"
        ]

        # Members confirm in the channel: each once, the shared card counts them.
        ack = next(a for a in actions(card(connector, shared)) if a.get("action") == "announce.member_ack")
        ack = {k: v for k, v in ack.items() if k != "title"}
        await in_section_channel(bot, STAFF, value=ack, reply_to_id=shared)
        await in_section_channel(bot, STAFF, value=ack, reply_to_id=shared)
        await in_section_channel(bot, promoter(101), value=ack, reply_to_id=shared)
        assert "確認した人: 2人" in card_text(connector, shared)
        # The same button pressed on a card that is not a section-channel copy records nothing.
        await in_section_channel(bot, STAFF, value=ack, reply_to_id=leader_card)
        assert "記録できませんでした" in connector.texts_to(SECTION_CHANNEL)[-1]

        await drain(bot.services, config=FAST)
        author = card_text(connector, author_card)
        assert "1/3課" in author and "課のチャネルで確認したメンバー" in author and "3人中2人" in author
        await bot.press({"action": "announce.relay_status", "id": ann_id}, user=ADMIN)
        status = card_text(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        assert "課の Teams チャネル・3人" in status and "メンバー3人中2人が確認" in status

        # An edit reaches the channel copy, which keeps who shared it and the members' confirmations.
        await edit_sent(bot, connector, ann_id, author_card, title="【改訂】生成AI利用ガイドラインのお知らせ")
        shared_text = card_text(connector, shared)
        assert "【改訂】生成AI利用ガイドライン" in shared_text
        assert "鈴木 一郎さん" in shared_text and "確認した人: 2人" in shared_text

        # Recall removes the channel copy too.
        await bot.press({"action": "announce.recall", "id": ann_id}, user=ADMIN)
        confirm_id = card_ids(connector, ADMIN.conversation_id)[-1]
        await bot.press(
            {"action": "announce.recall_confirm", "id": ann_id}, user=ADMIN, reply_to_id=confirm_id
        )
        await drain(bot.services, config=FAST)
        assert shared not in connector.activities
        assert leader_card not in connector.activities


async def test_the_section_channel_copy_speaks_to_the_sections_staff(sqlite_url, connector) -> None:
    """The copy a sub-leader posts says 総務課 DX推進サブリーダー, asks every member to confirm, and carries
    nothing addressed to promoters: not the DX channel's line about leaders and sub-leaders being asked
    individually, not their confirmation deadline."""
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await link_section_channel(bot, connector)
        ann_id, _ = await send(bot, connector)
        sub = promoter(101)
        shared = await post_to_section_channel(bot, connector, ann_id, sub, copy_in(connector, conv_of(101)))
        shown = card_text(connector, shared)
        assert shown.splitlines()[0] == "総務課 DX推進サブリーダー 職員101さんが共有しました。"
        assert "お一人ずつ「確認しました」を押してください" in shown
        assert "リーダー・サブリーダー" not in shown and "個別に確認" not in shown
        assert "確認期限" not in shown and "伝達期限" not in shown
        assert [a["title"] for a in actions(card(connector, shared))] == ["確認しました"]
        # An edit re-draws the copy: the same words.
        await edit_sent(bot, connector, ann_id, body="生成AIの利用ガイドラインを改訂しました。")
        shown = card_text(connector, shared)
        assert "改訂しました" in shown
        assert shown.splitlines()[0] == "総務課 DX推進サブリーダー 職員101さんが共有しました。"
        assert "個別に確認" not in shown


async def test_a_copy_shared_by_someone_not_a_promoter_of_the_section_reads_as_the_dx_division() -> None:
    from datetime import UTC, datetime

    from dialogs.announce.relay.channels import Sharer, channel_card

    ann = Announcement(
        id=7, title="お知らせ", body="本文", links=[], importance="normal", ack_required=True,
        relay_required=True, version=1, sent_at=datetime(2026, 4, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    for locale, sharer, line in [
        ("ja", Sharer("佐藤 花子"), "DX推進課 佐藤 花子さんが共有しました。"),
        (
            "ja",
            Sharer("鈴木 一郎", "総務課", "leader"),
            "総務課 DX推進リーダー 鈴木 一郎さんが共有しました。",
        ),
        ("en", Sharer("佐藤 花子"), "Shared by 佐藤 花子 of the DX division."),
        ("en", Sharer("職員101", "総務課", "subleader"), "Shared by 職員101, DX sub-leader of 総務課."),
    ]:
        shown = channel_card(locale, ann, section_id=1, sharer=sharer, confirmed=0)
        assert shown["body"][0]["items"][0]["text"] == line


KANA_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def _titles(card_json) -> list[str]:
    return [a["title"] for a in actions(card_json)]


async def test_an_english_city_sees_english_buttons_on_every_relay_card(sqlite_url, connector) -> None:
    """DXBOT_LOCALE=en: the promoters' cards, the copy in the section's channel and the author's card
    (written in an en-US client) carry English button titles only."""
    settings = settings_for(sqlite_url, admins=[ADMIN.email], locale="en")
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await link_section_channel(bot, connector)
        ann_id, author_card = await send(bot, connector, locale="en-US")
        leader_card = copy_in(connector, LEADER.conversation_id)
        assert _titles(card(connector, leader_card)) == ["Confirm"]
        await bot.press(
            {"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card, locale="en-US"
        )
        titles = _titles(card(connector, leader_card))
        assert titles == ["Passed on in my section", "Post to the section's channel"]
        shown = card_text(connector, leader_card)
        assert (
            'press "Passed on in my section"' in shown
            and '"Post to the section\'s channel" posts it' in shown
        )
        await bot.press(
            {**relay_press(card(connector, leader_card)), "relay_method": "meeting"},
            user=LEADER,
            reply_to_id=leader_card,
            locale="en-US",
        )
        assert _titles(card(connector, leader_card)) == [
            "Correct the report",
            "Post to the section's channel",
        ]
        shared = await post_to_section_channel(bot, connector, ann_id, LEADER, leader_card)
        assert card_text(connector, shared).splitlines()[0] == "Shared by 鈴木 一郎, DX leader of 総務課."
        assert 'each of you press "Confirm"' in card_text(connector, shared)
        assert _titles(card(connector, shared)) == ["Confirm"]
        await drain(bot.services, config=FAST)
        author_titles = _titles(card(connector, author_card))
        assert "Relay status" in author_titles and "Remind sections not relayed" in author_titles
        for where, titles in [
            ("leader", _titles(card(connector, leader_card))),
            ("channel", _titles(card(connector, shared))),
            ("author", author_titles),
        ]:
            assert not [t for t in titles if KANA_KANJI.search(t)], (where, titles)


async def test_a_channel_member_counts_once_however_often_they_press(sqlite_url, connector) -> None:
    """Anyone in the linked channel may confirm (they are the section's staff, whom the roster does not
    list), and each person counts once, by their Entra object id: a double press arriving at the same
    moment, a press under another Teams id or name, all one; the author's figure is 'n of m members'."""
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await link_section_channel(bot, connector)
        ann_id, author_card = await send(bot, connector)
        shared = await post_to_section_channel(
            bot, connector, ann_id, LEADER, copy_in(connector, LEADER.conversation_id)
        )
        ack = button(card(connector, shared), "announce.member_ack")

        statuses = await asyncio.gather(
            in_section_channel(bot, STAFF, value=ack, reply_to_id=shared),
            in_section_channel(bot, STAFF, value=ack, reply_to_id=shared),
        )
        assert all(s < 300 for s in statuses), statuses
        same_person = Person("29:staff-web", STAFF.aad_object_id, "田中 次郎(Web)", STAFF.email)
        await in_section_channel(bot, same_person, value=ack, reply_to_id=shared)
        no_entra_id = Person("29:visitor", "", "来庁者", "")
        await in_section_channel(bot, no_entra_id, value=ack, reply_to_id=shared)
        assert "記録できませんでした" in connector.texts_to(SECTION_CHANNEL)[-1]
        assert "確認した人: 1人" in card_text(connector, shared)
        async with bot.services.sessionmaker() as s:
            acks = (await s.scalars(select(AnnouncementMemberAck))).all()
        assert [a.aad_object_id for a in acks] == [STAFF.aad_object_id]

        await in_section_channel(bot, promoter(101), value=ack, reply_to_id=shared)
        assert "確認した人: 2人" in card_text(connector, shared)
        await drain(bot.services, config=FAST)
        # m: the people in the team behind the channel when it was posted (the bot not counted).
        author = card_text(connector, author_card)
        assert "課のチャネルで確認したメンバー\n3人中2人" in author
        await bot.press({"action": "announce.relay_status", "id": ann_id}, user=ADMIN)
        status = card_text(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        assert "メンバー3人中2人が確認" in status


async def test_an_edit_keeps_the_relay_request_on_confirmed_promoters_cards(sqlite_url, connector) -> None:
    """After 内容を編集, a promoter who had confirmed still sees the relay request and the report form (the
    edit used to redraw their card as a plain confirmed announcement), with the section's report."""
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, author_card = await send(bot, connector)
        leader_card = copy_in(connector, LEADER.conversation_id)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        sub_card = copy_in(connector, conv_of(101))
        await bot.press({"action": "announce.ack", "id": ann_id}, user=promoter(101), reply_to_id=sub_card)
        await bot.press(
            relay_press(card(connector, sub_card), relay_method="circular"),
            user=promoter(101),
            reply_to_id=sub_card,
        )
        await edit_sent(bot, connector, ann_id, author_card, body="生成AIの利用ガイドラインを改訂しました。")
        for copy in (leader_card, sub_card):
            shown = card_text(connector, copy)
            assert "改訂しました" in shown
            assert "課内に伝達済みです" in shown and "回覧" in shown
            assert [a["action"] for a in actions(card(connector, copy))] == ["announce.relay"]
        # A promoter who has not confirmed still gets the plain card with 「確認しました」.
        other = card(connector, copy_in(connector, conv_of(102)))
        assert [a["action"] for a in actions(other)] == ["announce.ack"]


async def test_the_authors_reminder_figure_counts_confirmation_reminders_only(sqlite_url, connector) -> None:
    """督促 n回(配信 k件) is about 「確認しました」; the relay reminders have their figure of their own."""
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, author_card = await send(bot, connector)
        await bot.press({"action": "announce.remind", "id": ann_id}, user=ADMIN)  # 4 copies arrived
        await drain(bot.services, config=FAST)
        leader_card = copy_in(connector, LEADER.conversation_id)
        await bot.press({"action": "announce.ack", "id": ann_id}, user=LEADER, reply_to_id=leader_card)
        await bot.press(
            relay_press(card(connector, leader_card), relay_method="meeting"),
            user=LEADER,
            reply_to_id=leader_card,
        )
        await bot.press({"action": "announce.relay_remind", "id": ann_id}, user=ADMIN)  # 人事課, 税務課
        await drain(bot.services, config=FAST)
        author = card_text(connector, author_card)
        assert "督促\n1回(配信 4件)" in author
        assert "伝達の督促\n1回" in author


async def test_the_channel_copy_keeps_naming_who_shared_it_when_the_report_is_corrected(
    sqlite_url, connector
) -> None:
    """The leader posts to 総務課's channel; the sub-leader later corrects the section's report (it is theirs
    now); the copy in the channel, redrawn by an edit and by a member's 「確認しました」, still names the leader:
    who shared it is what happened in the channel, not who last reported."""
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await link_section_channel(bot, connector)
        ann_id, author_card = await send(bot, connector)
        shared = await post_to_section_channel(
            bot, connector, ann_id, LEADER, copy_in(connector, LEADER.conversation_id)
        )
        leader_line = "総務課 DX推進リーダー 鈴木 一郎さんが共有しました。"
        assert leader_line in card_text(connector, shared)

        sub_card = copy_in(connector, conv_of(101))
        await bot.press({"action": "announce.ack", "id": ann_id}, user=promoter(101), reply_to_id=sub_card)
        await bot.press(
            relay_press(card(connector, sub_card), relay_method="meeting", relay_reached="15"),
            user=promoter(101),
            reply_to_id=sub_card,
        )
        assert "伝達の報告を訂正しました" in connector.texts_to(conv_of(101))[-1]
        async with bot.services.sessionmaker() as s:
            report = await s.scalar(select(AnnouncementRelay))
            assert report is not None and (report.reporter_name, report.method) == ("職員101", "meeting")

        # The author edits the announcement: the channel copy is redrawn with the new title, by the leader.
        await edit_sent(bot, connector, ann_id, author_card, title="【改訂】生成AI利用ガイドラインのお知らせ")
        shown = card_text(connector, shared)
        assert "【改訂】生成AI利用ガイドライン" in shown
        assert leader_line in shown and "職員101" not in shown

        # A member confirms there: the copy is redrawn in place, still by the leader.
        ack = button(card(connector, shared), "announce.member_ack")
        await in_section_channel(bot, STAFF, value=ack, reply_to_id=shared)
        shown = card_text(connector, shared)
        assert "確認した人: 1人" in shown
        assert leader_line in shown and "職員101" not in shown
