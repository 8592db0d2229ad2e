"""What the author's card says is what happened: recall and edit copy by copy (the connector may
refuse a delete with 501, as the Agents Playground does), completion from each recipient's outcome,
and the body as typed. Through the real HTTP path and the delivery worker, against the fake connector.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from dialogs.announce.service import KIND
from dialogs.engines.delivery import DeliveryState, deliveries
from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import JST, add_business_days, format_date_ja
from storage.models import Assignment, Department, Person, PromoterRole, Section
from tests.announce.conftest import actions, build_city, card, card_ids, card_text, now_utc
from tests.delivery.helpers import FAST, add_account, add_chat, conv_of
from tests.fakes.connector import Fault
from tests.support import ADMIN, LEADER, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio

NOT_IMPLEMENTED = '{"error":{"code":"DeleteActivityAPINotImplemented"}}'


def _form(**kw: Any) -> dict[str, Any]:
    values = {
        "title": "庁内LAN停止のお知らせ",
        "body": "4月5日(土)9時から17時まで庁内LANを停止します。",
        "importance": "normal",
        "audience": "all",
        "ack_required": "true",
        "deadline": add_business_days(now_utc().astimezone(JST).date(), 5).isoformat(),
        "send_mode": "now",
    }
    values.update(kw)
    return values


async def _send(bot: Any, connector: Any, **form: Any) -> tuple[int, str]:
    """Compose, preview and send as the DX admin; returns (announcement id, the author's card id)."""
    await bot.say("お知らせ", user=ADMIN)
    card_id = card_ids(connector, ADMIN.conversation_id)[-1]
    await bot.press({"action": "announce.preview", **_form(**form)}, user=ADMIN, reply_to_id=card_id)
    ann_id = next(a["id"] for a in actions(card(connector, card_id)) if a.get("action") == "announce.send")
    await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=card_id)
    return ann_id, card_id


def _blocks(node: Any) -> list[dict[str, Any]]:
    """Every TextBlock of a card, in order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            found.append(node)
        for v in node.values():
            found += _blocks(v)
    elif isinstance(node, list):
        for x in node:
            found += _blocks(x)
    return found


def _block_with(card_json: dict[str, Any], words: str) -> dict[str, Any]:
    return next(b for b in _blocks(card_json) if words in b["text"])


async def test_recall_says_which_copies_could_not_be_deleted_and_retry_deletes_only_those(
    db_url: str, connector: Any
) -> None:
    settings = settings_for(db_url, admins=[ADMIN.email], api_keys=["key-1"])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id, author_id = await _send(bot, connector)
        await drain(bot.services, config=FAST)
        async with bot.services.sessionmaker() as s:
            copies = {
                r.conversation_id: r.activity_id
                for r in await deliveries(s, KIND, ann_id)
                if r.state == DeliveryState.DELIVERED
            }
        assert set(copies) == {LEADER.conversation_id, conv_of(101), conv_of(102), conv_of(103)}

        # The connector refuses to delete two of the four copies (the playground refuses them all).
        for cid in (LEADER.conversation_id, conv_of(101)):
            connector.faults.append(
                Fault(status=501, method="DELETE", conversation_id=cid, body=NOT_IMPLEMENTED)
            )
        await bot.press({"action": "announce.recall", "id": ann_id}, user=ADMIN)
        confirm_id = card_ids(connector, ADMIN.conversation_id)[-1]
        await bot.press(
            {"action": "announce.recall_confirm", "id": ann_id}, user=ADMIN, reply_to_id=confirm_id
        )
        await drain(bot.services, config=FAST)

        # While the deletes were going out, the card said so (progress, not a verdict).
        shown = [
            json.dumps(c.body, ensure_ascii=False)
            for c in connector.calls
            if c.method == "PUT" and c.activity_id == author_id
        ]
        assert any("取り消し中です。4件のうち0件のメッセージを削除しました(残り4件)" in x for x in shown)
        assert copies[conv_of(102)] not in connector.activities
        assert copies[conv_of(103)] not in connector.activities
        assert copies[LEADER.conversation_id] in connector.activities  # still on the leader's screen
        author = card_text(connector, author_id)
        assert "すべて削除しました" not in author
        assert "削除できたかどうかは、お知らせのカードに表示されます" in card_text(connector, confirm_id)
        assert (
            "2件は削除できませんでした" in author and "受信者の画面に残っています(削除済み 2/4件)" in author
        )
        assert "Teamsがこの操作に対応していない(501): 2件" in author
        assert "残っている方: 鈴木 一郎(総務課)、職員101(総務課)" in author
        verdict = _block_with(card(connector, author_id), "削除できませんでした")
        assert verdict["color"] == "Attention"
        retry = [a for a in actions(card(connector, author_id)) if a.get("action") == "announce.retry"]
        assert [a["title"] for a in retry] == ["再試行"]
        # The automation API tells the same story.
        resp = await bot.client.get(
            f"/api/v1/announcements/{ann_id}", headers={"Authorization": "Bearer key-1"}
        )
        assert (await resp.json())["recall"] == {
            "copies": 4,
            "done": 2,
            "pending": 0,
            "failed": 2,
            "gone": 0,
            "reasons": {"http_501": 2},
        }

        # 再試行 once the connector deletes again: only the two failed copies are tried, and removed.
        deletes_before = [c for c in connector.calls if c.method == "DELETE"]
        await bot.press(retry[0], user=ADMIN, reply_to_id=author_id)
        assert "削除できなかった2件を、もう一度削除します" in connector.texts_to(ADMIN.conversation_id)[-1]
        await drain(bot.services, config=FAST)
        retried = [c for c in connector.calls if c.method == "DELETE"][len(deletes_before) :]
        assert sorted(c.conversation_id for c in retried) == sorted([LEADER.conversation_id, conv_of(101)])
        assert not set(copies.values()) & set(connector.activities)
        author = card_text(connector, author_id)
        assert "取り消しました" in author and "配信済みの4件のメッセージをすべて削除しました" in author
        assert "削除できませんでした" not in author
        assert _block_with(card(connector, author_id), "すべて削除しました")["color"] == "Good"
        assert not [a for a in actions(card(connector, author_id)) if a.get("action") == "announce.retry"]


async def test_an_edit_that_cannot_reach_a_copy_says_so_and_retry_updates_it(
    db_url: str, connector: Any
) -> None:
    settings = settings_for(db_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        ann_id, author_id = await _send(bot, connector)
        await drain(bot.services, config=FAST)
        first = card_ids(connector, conv_of(102))[0]

        await bot.press({"action": "announce.revise", "id": ann_id}, user=ADMIN, reply_to_id=author_id)
        form_id = card_ids(connector, ADMIN.conversation_id)[-1]
        edited = _form(title="【日程変更】庁内LAN停止のお知らせ")
        await bot.press(
            {"action": "announce.revise_preview", "id": ann_id, **edited}, user=ADMIN, reply_to_id=form_id
        )
        connector.faults.append(Fault(status=400, method="PUT", conversation_id=conv_of(102)))
        await bot.press(
            {"action": "announce.apply_edit", "id": ann_id, "version": 1}, user=ADMIN, reply_to_id=form_id
        )
        await drain(bot.services, config=FAST)
        assert "【日程変更】" not in card_text(connector, first)
        author = card_text(connector, author_id)
        assert "1件は更新できませんでした。受信者には編集前の内容が表示されています(全3件)" in author
        assert "Teamsが要求を受け付けなかった(400): 1件" in author
        assert "編集前のままの方: 職員102(人事課)" in author
        retry = [a for a in actions(card(connector, author_id)) if a.get("action") == "announce.retry"]
        assert retry

        await bot.press(retry[0], user=ADMIN, reply_to_id=author_id)
        await drain(bot.services, config=FAST)
        assert "【日程変更】" in card_text(connector, first)
        author = card_text(connector, author_id)
        assert "編集を反映しました。3件のメッセージを新しい内容に更新しました" in author
        assert "更新できませんでした" not in author


async def _hundred_promoters(services: Any, service_url: str, connector: Any) -> None:
    """50 sections with a leader and a sub-leader each; only the first person has added the bot."""
    async with services.sessionmaker() as s, s.begin():
        dept = Department(name="総務部", sort_order=0)
        s.add(dept)
        await s.flush()
        pid = 1000
        for i in range(50):
            sec = Section(department_id=dept.id, name=f"第{i + 1}課", sort_order=i, active=True)
            s.add(sec)
            await s.flush()
            for role in (PromoterRole.LEADER, PromoterRole.SUBLEADER):
                pid += 1
                s.add(Person(id=pid, name=f"職員{pid}", email=f"p{pid}@city.example.jp"))
                await s.flush()
                s.add(Assignment(section_id=sec.id, person_id=pid, role=role, valid_from=date(2025, 4, 1)))
        await add_account(s, 1001, "aad-1001", "29:u1001", "p1001@city.example.jp")
        await add_chat(s, service_url, conv_of(1001), user_id="29:u1001", aad_object_id="aad-1001")
    connector.members = members_for(ADMIN)


async def test_a_send_that_reached_one_of_a_hundred_is_not_called_complete(
    sqlite_url: str, connector: Any
) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await _hundred_promoters(bot.services, connector.url, connector)
        _, author_id = await _send(bot, connector)
        await drain(bot.services, config=FAST)
        author = card_text(connector, author_id)
        assert "送信が完了しました" not in author
        assert "1人に届きましたが、99人には届いていません(宛先 100人)" in author
        assert _block_with(card(connector, author_id), "届いていません")["color"] == "Attention"
        assert "99人(未接続 99人)" in author and "送信失敗" not in author
        assert "届いていない方: 職員1002(第1課)、職員1003(第2課)" in author and " ほか89人" in author
        assert (
            "未接続の99人には、ボットを追加していただいた後に「届いていない方に再送」を押すと届きます"
            in author
        )
        assert "届いていない方に再送" in [a["title"] for a in actions(card(connector, author_id))]


async def test_a_send_that_reached_nobody_says_so(sqlite_url: str, connector: Any) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        # The leader has never opened the bot; Teams refuses the other two leaders' copies.
        for pid in (102, 103):
            connector.faults.append(Fault(status=400, method="POST", conversation_id=conv_of(pid)))
        _, author_id = await _send(bot, connector, audience="leaders")
        await drain(bot.services, config=FAST)
        author = card_text(connector, author_id)
        assert "送信が完了しました" not in author
        assert "宛先の3人の誰にも届いていません" in author
        assert _block_with(card(connector, author_id), "誰にも届いていません")["color"] == "Attention"
        assert "3人(未接続 1人・送信失敗 2人)" in author
        assert (
            "未接続の1人には" in author
            and "送信失敗の2人には「届いていない方に再送」で送り直せます" in author
        )


async def test_everyone_reached_is_complete_and_green(sqlite_url: str, connector: Any) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        connector.blocked.clear()
        await bot.say("ヘルプ", user=LEADER)
        _, author_id = await _send(bot, connector)
        await drain(bot.services, config=FAST)
        verdict = _block_with(card(connector, author_id), "送信が完了しました")
        assert "5人全員に届きました" in verdict["text"] and verdict["color"] == "Good"
        assert "届いていない" not in card_text(connector, author_id)


async def test_line_breaks_in_the_body_are_kept_and_the_hint_shows_the_syntax(
    sqlite_url: str, connector: Any
) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    body = "各課のDX推進リーダー各位\n庁内LANを停止します。\n\n日時: 4月5日(土)\n- 9時から\n- 17時まで\nよろしくお願いします。"
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("お知らせ", user=ADMIN)
        compose = card(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        # The hint is not read as Markdown: the author sees the characters to type.
        hints = [
            run["text"]
            for block in compose["body"]
            if block.get("type") == "RichTextBlock"
            for run in block["inlines"]
        ]
        assert len(hints) == 1, hints
        hint = hints[0]
        assert "**文字**" in hint and "[表示する文字](https://…)" in hint
        assert not [b for b in _blocks(compose) if "**文字**" in b["text"]]

        await _send(bot, connector, body=body)
        await drain(bot.services, config=FAST)
        received = card(connector, card_ids(connector, conv_of(102))[0])
        texts = [b["text"] for b in _blocks(received)]
        today = format_date_ja(now_utc().astimezone(JST).date())
        assert f"DX推進課より・{today}" in texts  # the day it went out, not a bare 「DX推進課より」
        start = texts.index("各課のDX推進リーダー各位")
        assert texts[start : start + 5] == [
            "各課のDX推進リーダー各位",
            "庁内LANを停止します。",
            "日時: 4月5日(土)",
            "- 9時から\n- 17時まで",
            "よろしくお願いします。",
        ]
        spacing = [b.get("spacing") for b in _blocks(received)][start : start + 5]
        assert spacing == ["Medium", "None", "Medium", "None", "None"]  # the blank line stays a gap
        async with bot.services.sessionmaker() as s:
            from storage.models.announce import Announcement

            assert (await s.scalars(select(Announcement.body))).one() == body
