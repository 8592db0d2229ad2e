"""An improvement case from the promoter's form through review (差し戻し, 修正, 公開) to search,
through the real HTTP path against the fake Bot Connector."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.engines.delivery import deliveries
from storage.models import AppSetting, ImprovementCase
from tests.announce.conftest import actions, build_city, card, card_ids, card_text, inputs
from tests.support import ADMIN, LEADER, STAFF, Person, running_bot, settings_for

pytestmark = pytest.mark.asyncio
OTHER = Person("29:u102", "aad-102", "職員102", "p102@city.example.jp")  # 人事課's leader


def _form(**kw):
    values = {
        "title": "課税資料の入力をRPAで自動化",
        "description": "毎月の入力をRPAに任せました。",
        "work": "課税資料の入力",
        "tools": "RPA,AI-OCR",
        "hours_before": "10000",
        "hours_after": "30",
        "staff": "2",
        "started_on": "2026-06-01",
    }
    values.update(kw)
    return values


async def _cases(bot):
    async with bot.services.sessionmaker() as s:
        return (await s.scalars(select(ImprovementCase).order_by(ImprovementCase.id))).all()


async def test_submit_review_return_correct_publish_search(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        async with bot.services.sessionmaker() as s, s.begin():  # the DX division's channel is set
            s.add(
                AppSetting(key="announce.division_channel", value={"conversation_id": "19:dx@thread.tacv2"})
            )

        # Staff without a promoter role cannot submit.
        await bot.say("事例登録", user=STAFF)
        assert "DX推進リーダー・サブリーダーの方だけ" in connector.texts_to(STAFF.conversation_id)[-1]

        await bot.say("事例登録", user=LEADER)
        form_id = card_ids(connector, LEADER.conversation_id)[-1]
        form = card_text(connector, form_id)
        assert "改善事例の登録" in form and "生成AI" in form  # the survey's tool list

        # 10,000 hours a month from 2 staff: refused with the reason, nothing stored, values kept.
        await bot.press({"action": "cases.submit", **_form()}, user=LEADER, reply_to_id=form_id)
        refused = card_text(connector, form_id)
        assert "10,000時間/月)は、2人で働ける時間" in refused and "320時間" in refused
        assert inputs(card(connector, form_id))["title"] == "課税資料の入力をRPAで自動化"
        assert await _cases(bot) == []

        # Minutes × times instead of hours: 30 min × 240 times = 120 h.
        good = _form(hours_before="", minutes_before="30", times_before="240", staff="6")
        await bot.press({"action": "cases.submit", **good}, user=LEADER, reply_to_id=form_id)
        assert "受け付けました" in card_text(connector, form_id)
        (case,) = await _cases(bot)
        async with bot.services.sessionmaker() as s:
            (told,) = await deliveries(s, "case", case.id, purposes=None)
        assert told.conversation_id == "19:dx@thread.tacv2" and "確認待ちです" in told.payload["text"]
        assert (case.state, case.hours_before, case.hours_after, case.fiscal_year) == (
            "submitted",
            120,
            30,
            2026,
        )
        assert case.tools == ["RPA", "AI-OCR"]

        # A promoter cannot review; the DX division can.
        await bot.press({"action": "cases.publish", "id": case.id}, user=LEADER)
        assert (await _cases(bot))[0].state == "submitted"
        await bot.say("事例審査", user=ADMIN)
        review_id = card_ids(connector, ADMIN.conversation_id)[-1]
        assert "課税資料の入力をRPAで自動化" in card_text(connector, review_id)
        assert "月90時間の削減" in card_text(connector, review_id)

        # 差し戻し needs a comment; with one, the promoter is told through the delivery engine.
        await bot.press({"action": "cases.return", "id": case.id}, user=ADMIN, reply_to_id=review_id)
        assert "コメントに書いてください" in connector.texts_to(ADMIN.conversation_id)[-1]
        comment = {
            "action": "cases.return",
            "id": case.id,
            f"comment_{case.id}": "改善後の時間の根拠を書いてください",
        }
        await bot.press(comment, user=ADMIN, reply_to_id=review_id)
        assert (await _cases(bot))[0].state == "returned"
        assert "確認待ちの事例はありません" in card_text(connector, review_id)
        async with bot.services.sessionmaker() as s:
            rows = await deliveries(s, "case", case.id, purposes=None)
        assert (
            len(rows) == 2
            and "差し戻されました" in rows[1].payload["text"]
            and rows[1].person_id == case.submitted_by
        )

        # Someone from another section can neither see nor correct it.
        await bot.press({"action": "cases.edit", "id": case.id}, user=OTHER)
        assert "見つかりません" in connector.texts_to(OTHER.conversation_id)[-1]

        await bot.say("自分の事例", user=LEADER)
        mine = card_text(connector, card_ids(connector, LEADER.conversation_id)[-1])
        assert "差し戻し" in mine and "改善後の時間の根拠を書いてください" in mine
        await bot.press({"action": "cases.edit", "id": case.id}, user=LEADER)
        edit_id = card_ids(connector, LEADER.conversation_id)[-1]
        values = inputs(card(connector, edit_id))
        assert values["hours_before"] == "120" and values["staff"] == "6"
        values.update(description="RPAで入力。1件3分→0分、確認のみ30時間。")
        await bot.press({"action": "cases.submit", "id": case.id, **values}, user=LEADER, reply_to_id=edit_id)
        assert "再提出しました" in card_text(connector, edit_id)
        assert (await _cases(bot))[0].state == "submitted"

        # Not visible in search until published.
        await bot.say("事例 RPA", user=STAFF)
        assert "まだありません" in str(connector.cards_to(STAFF.conversation_id)[-1])
        await bot.press({"action": "cases.publish", "id": case.id}, user=ADMIN, reply_to_id=review_id)
        assert (await _cases(bot))[0].state == "published"
        await bot.press({"action": "cases.publish", "id": case.id}, user=ADMIN, reply_to_id=review_id)
        assert "すでに「公開中」" in connector.texts_to(ADMIN.conversation_id)[-1]
        # A published case cannot be edited by its section any more.
        await bot.press({"action": "cases.edit", "id": case.id}, user=LEADER)
        assert "修正できません" in connector.texts_to(LEADER.conversation_id)[-1]

        await bot.say("事例 RPA", user=STAFF)
        found = connector.cards_to(STAFF.conversation_id)[-1]
        assert "課税資料の入力をRPAで自動化" in str(found) and "総務部 総務課" in str(found)
        await bot.say("事例 生成AI", user=STAFF)
        assert "「生成AI」に当てはまる公開事例はまだありません" in str(
            connector.cards_to(STAFF.conversation_id)[-1]
        )
        await bot.say("事例", user=STAFF)
        overview = str(connector.cards_to(STAFF.conversation_id)[-1])
        assert "RPA(1件)" in overview and "総務部(1件)" in overview and "月90時間の削減" in overview

        # Free text goes through the QA search; published cases come as a card of cases beside it.
        before = len(connector.cards_to(STAFF.conversation_id))
        await bot.say("課税資料の入力を自動化した事例はありますか", user=STAFF)
        new = connector.cards_to(STAFF.conversation_id)[before:]
        related = [c for c in new if "参考になる改善事例(1件)" in str(c)]
        assert len(related) == 1 and "課税資料の入力をRPAで自動化" in str(related[0])
        assert "見つかりませんでした" not in str(related[0])  # a card of cases, not an FAQ answer
        before = len(connector.cards_to(STAFF.conversation_id))
        await bot.say("会議室の予約はどうすればいいですか", user=STAFF)
        assert not any("改善事例" in str(c) for c in connector.cards_to(STAFF.conversation_id)[before:])

        # The DX division: sums in chat, and a digest drafted in the announcement form.
        await bot.say("事例集計 20x6", user=ADMIN)
        assert "4桁" in connector.texts_to(ADMIN.conversation_id)[-1]
        await bot.say("事例集計 2026", user=ADMIN)
        sums = str(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "合計: 月90時間(年換算 1,080時間)・1件" in sums and "総務部: 月90時間・1件" in sums
        await bot.say("事例集計 2025", user=ADMIN)
        assert "2025年度の公開事例はまだありません" in str(connector.cards_to(ADMIN.conversation_id)[-1])
        await bot.say("事例ダイジェスト 30", user=LEADER)
        assert "DX推進課" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.say("事例ダイジェスト 30", user=ADMIN)
        draft = card(connector, card_ids(connector, ADMIN.conversation_id)[-1])
        values = inputs(draft)
        assert values["title"] == "改善事例のご紹介(1件)"
        assert "**課税資料の入力をRPAで自動化**(総務部 総務課・RPA、AI-OCR)" in values["body"]
        assert "月90時間の削減" in values["body"]
        assert any(a.get("action") == "announce.preview" for a in actions(draft))
