"""「未対応」: a leader's own list of announcements to confirm and surveys to answer, through the real
HTTP path, the delivery worker and the fake Bot Connector."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dialogs.announce.service import KIND, figures
from dialogs.engines.delivery import DeliveryState, deliveries
from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import JST, add_business_days, format_date_ja
from storage.models import Survey, SurveyRound
from storage.models.announce import Announcement
from tests.announce.conftest import actions, build_city, card, card_ids, card_text, edit_sent, now_utc
from tests.delivery.helpers import FAST
from tests.support import ADMIN, LEADER, STAFF, running_bot, settings_for
from tests.survey.helpers import answers_for

pytestmark = pytest.mark.asyncio


def _in_business_days(n: int) -> str:
    return add_business_days(now_utc().astimezone(JST).date(), n).isoformat()


async def _announce(bot: Any, connector: Any, title: str, **form: Any) -> int:
    """Compose and send an announcement as the DX division; return its id."""
    await bot.say("お知らせ", user=ADMIN)
    compose_id = card_ids(connector, ADMIN.conversation_id)[-1]
    values = {
        "title": title,
        "body": "研修のご案内です。",
        "importance": "normal",
        "audience": "all",
        "ack_required": "true",
        "deadline": _in_business_days(5),
        "send_mode": "now",
        **form,
    }
    await bot.press({"action": "announce.preview", **values}, user=ADMIN, reply_to_id=compose_id)
    ann_id = next(a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send")
    await bot.press({"action": "announce.send", "id": ann_id}, user=ADMIN, reply_to_id=compose_id)
    await drain(bot.services, config=FAST)
    return int(ann_id)


async def _todo(bot: Any, connector: Any, user: Any = LEADER) -> tuple[str | None, str]:
    """Send 「未対応」; return (the card's activity id or None, what the person reads)."""
    before = len(connector.posts())
    await bot.say("未対応", user=user)
    new = [p for p in connector.posts()[before:] if p.conversation_id == user.conversation_id]
    assert new, "no answer to 未対応"
    body = connector.activities[new[-1].created] if new[-1].created else None
    if body and body.get("attachments"):
        return new[-1].created, card_text(connector, new[-1].created)
    return None, connector.texts_to(user.conversation_id)[-1]


def _buttons(connector: Any, activity_id: str) -> list[dict[str, Any]]:
    return [a for a in actions(card(connector, activity_id)) if a.get("action", "").endswith(".reopen")]


async def test_leaders_todo_lists_reopens_and_clears(db_url, connector):
    settings = settings_for(db_url, admins=[ADMIN.email], public_url="https://bot.example.jp")
    async with running_bot(settings, connector) as bot:
        city = await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)  # the leader has a chat with the bot

        # Nothing sent yet: a friendly line, no card.
        card_id, said = await _todo(bot, connector)
        assert card_id is None and "未対応の項目はありません" in said

        ann_id = await _announce(bot, connector, "電子申請研修のご案内", deadline=_in_business_days(5))
        # Sent to 税務課 only, and one that asks for no confirmation: neither waits for the leader.
        await _announce(
            bot, connector, "税務課だけのお知らせ", audience="sections", sections=str(city.sections["税務課"])
        )
        await _announce(bot, connector, "確認不要のお知らせ", ack_required="false", deadline="")
        # A survey open for two business days: its closing comes before the announcement's deadline.
        await bot.say("サーベイ 作成 DXマインド", user=ADMIN)
        async with bot.services.sessionmaker() as s:
            survey = await s.scalar(select(Survey))
            assert survey is not None
        await bot.say(f"サーベイ 開始 {survey.id} 2", user=ADMIN)
        preview = connector.cards_to(ADMIN.conversation_id)[-1]
        await bot.press(preview["actions"][0]["data"], user=ADMIN)  # 開始 on the start preview
        await drain(bot.services, config=FAST)
        async with bot.services.sessionmaker() as s:
            rnd = await s.scalar(select(SurveyRound))
            assert rnd is not None and rnd.status == "open"

        card_id, said = await _todo(bot, connector)
        assert card_id is not None
        assert "未対応の項目(2件)" in said
        assert "電子申請研修のご案内" in said and "DXマインド" in said
        assert "税務課だけのお知らせ" not in said and "確認不要のお知らせ" not in said
        deadline = add_business_days(now_utc().astimezone(JST).date(), 5)
        assert f"確認期限: {format_date_ja(deadline)}" in said
        assert "回答締切: " in said and "期限切れ" not in said
        # Oldest deadline first: the survey closes before the announcement's deadline.
        assert said.index("DXマインド") < said.index("電子申請研修のご案内")
        buttons = _buttons(connector, card_id)
        assert [b["action"] for b in buttons] == ["survey.reopen", "announce.reopen"]
        assert buttons[1]["title"] == "お知らせを開く" and buttons[1]["id"] == ann_id

        # The aliases reach the same list, ahead of the FAQ search.
        for alias in ("未回答のサーベイ", "やること", "todo"):
            before = len(connector.posts())
            await bot.say(alias, user=LEADER)
            assert "未対応の項目(2件)" in card_text(connector, connector.posts()[before].created)

        # Someone else pressing the leader's buttons gets nothing of theirs.
        before = len(connector.posts())
        await bot.press({k: v for k, v in buttons[1].items() if k != "title"}, user=STAFF)
        await bot.press({k: v for k, v in buttons[0].items() if k != "title"}, user=STAFF)
        assert all(p.conversation_id == STAFF.conversation_id for p in connector.posts()[before:])
        assert not any(
            "電子申請研修" in t or "DXマインド" in t for t in connector.texts_to(STAFF.conversation_id)
        )
        assert [c for c in connector.cards_to(STAFF.conversation_id) if "DXマインド" in str(c)] == []
        # Staff outside the roster: a polite line.
        card_id_staff, said = await _todo(bot, connector, user=STAFF)
        assert card_id_staff is None and "自分の問い合わせ" in said

        # The announcement's button posts the same card again; 確認しました on it is recorded.
        before = set(card_ids(connector, LEADER.conversation_id))
        await bot.press(
            {k: v for k, v in buttons[1].items() if k != "title"}, user=LEADER, reply_to_id=card_id
        )
        reopened = [i for i in card_ids(connector, LEADER.conversation_id) if i not in before]
        assert len(reopened) == 1
        text = card_text(connector, reopened[0])
        assert "電子申請研修のご案内" in text and "確認しました" in text
        ack = next(a for a in actions(card(connector, reopened[0])) if a.get("action") == "announce.ack")
        await bot.press({k: v for k, v in ack.items() if k != "title"}, user=LEADER, reply_to_id=reopened[0])
        assert "確認済み" in card_text(connector, reopened[0])
        await drain(bot.services, config=FAST)
        # The first copy turned to 確認済み too.
        first = next(
            i
            for i in card_ids(connector, LEADER.conversation_id)
            if connector.activities[i].get("attachments")
            and "電子申請研修のご案内" in card_text(connector, i)
            and i not in reopened
        )
        assert "確認済み" in card_text(connector, first)

        card_id, said = await _todo(bot, connector)
        assert "未対応の項目(1件)" in said and "電子申請研修のご案内" not in said
        (survey_button,) = _buttons(connector, card_id)

        # The survey's button posts a working answer card: answering on it is accepted.
        before = set(card_ids(connector, LEADER.conversation_id))
        await bot.press(
            {k: v for k, v in survey_button.items() if k != "title"}, user=LEADER, reply_to_id=card_id
        )
        (form_id,) = [i for i in card_ids(connector, LEADER.conversation_id) if i not in before]
        form = card(connector, form_id)
        submit = dict(form["actions"][0]["data"])
        assert submit["action"] == "survey.answer"
        data = {**submit, **answers_for(rnd.questions, 4)}
        assert await bot.press(data, user=LEADER, reply_to_id=form_id) == 201
        assert "回答済み" in card_text(connector, form_id)

        card_id, said = await _todo(bot, connector)
        assert card_id is None and "未対応の項目はありません" in said


async def test_overdue_announcement_is_marked(sqlite_url, connector):
    """An announcement whose deadline has passed stays on the list, marked 期限切れ."""
    import time_machine

    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        deadline = add_business_days(now_utc().astimezone(JST).date(), 1)
        await _announce(bot, connector, "期限のあるお知らせ", deadline=deadline.isoformat())
        with time_machine.travel(now_utc().replace(year=now_utc().year + 1), tick=False):
            card_id, said = await _todo(bot, connector)
        assert card_id is not None
        assert "期限切れ" in said and f"確認期限: {format_date_ja(deadline)}" in said


async def test_a_reopened_card_follows_an_edit_and_is_no_reminder(sqlite_url, connector):
    """The DX division edits the announcement after the leader reopened it: the reopened card shows the
    new text like the first copy, without the 督促 banner, and the author's figures count no reminder."""

    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        ann_id = await _announce(bot, connector, "電子申請研修のご案内")
        card_id, _ = await _todo(bot, connector)
        assert card_id is not None
        (button,) = _buttons(connector, card_id)
        before = set(card_ids(connector, LEADER.conversation_id))
        await bot.press({k: v for k, v in button.items() if k != "title"}, user=LEADER, reply_to_id=card_id)
        (reopened,) = [i for i in card_ids(connector, LEADER.conversation_id) if i not in before]

        progress = next(
            i
            for i in reversed(card_ids(connector, ADMIN.conversation_id))
            if connector.activities[i].get("attachments")
            and any(a.get("action") == "announce.revise" for a in actions(card(connector, i)))
        )
        await edit_sent(bot, connector, ann_id, progress, title="【会場変更】電子申請研修のご案内")
        text = card_text(connector, reopened)
        assert "【会場変更】電子申請研修のご案内" in text
        assert "【督促】" not in text and "確認しました" in text
        async with bot.services.sessionmaker() as s:
            rows = await deliveries(s, KIND, ann_id, purposes=None)
            reopen_rows = [r for r in rows if r.purpose.startswith("reopen-")]
            assert len(reopen_rows) == 1 and reopen_rows[0].state == DeliveryState.DELIVERED
            ann = await s.get(Announcement, ann_id)
            assert ann is not None
            assert (await figures(s, ann)).reminders_delivered == 0
