"""The asker answers back: 返信する on the DX division's answer joins the same ticket, which goes back to
the DX division (their card changes in place and they are told); 担当する tells the asker who is on it.
A reply is never searched in the knowledge base, so it is not an "unanswered question"."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from dialogs.engines.delivery import Delivery, payload_to_message
from storage.models import QueryLog, Ticket, TicketMessage, TicketStatus
from tests.qa.feature_support import (
    DESK,
    all_text,
    cards_with_ids,
    find_action,
    has_action,
    in_desk,
    last_card,
    settle,
)
from tests.support import ADMIN, LEADER, STAFF, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio
QUESTION = "職員駐車場の抽選はいつ行われますか"
FOLLOW_UP = "本庁舎と分庁舎で抽選は別ですか?私は分庁舎勤務です。"


def _settings(url: str):
    return settings_for(url, admins=[ADMIN.email])


def _current(bot, card_id: str) -> dict:
    return bot.connector.activities[card_id]["attachments"][0]["content"]


def _desk_ticket_card(connector) -> tuple[str, dict]:
    cards = [(aid, c) for aid, c in cards_with_ids(connector, DESK) if "問い合わせ#" in all_text(c)]
    assert cards, "no ticket card in the inquiry channel"
    return cards[-1]


def _answer_cards(connector, person) -> list[tuple[str, dict]]:
    return [
        (aid, c)
        for aid, c in cards_with_ids(connector, person.conversation_id)
        if "DX推進課から回答が届きました" in all_text(c)
    ]


async def _asked_and_answered(bot, answer: str) -> tuple[str, str]:
    """STAFF misses, asks the DX division; ADMIN takes it and answers. Returns (desk card id, answer
    card id in the staff member's chat)."""
    await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
    await bot.say(QUESTION, user=STAFF)
    miss_id, miss = last_card(bot.connector, STAFF.conversation_id)
    await bot.press(find_action(miss, "qa.ask") | {"question": QUESTION}, user=STAFF, reply_to_id=miss_id)
    await settle(bot)
    card_id, card = _desk_ticket_card(bot.connector)
    await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.claim"), reply_to_id=card_id)
    await settle(bot)
    card = _current(bot, card_id)
    await in_desk(
        bot, ADMIN, value={**find_action(card, "qa.ticket.answer"), "answer": answer}, reply_to_id=card_id
    )
    await settle(bot)
    answers = _answer_cards(bot.connector, STAFF)
    assert len(answers) == 1
    return card_id, answers[0][0]


async def test_claiming_tells_the_asker_who_is_on_it(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.press({"action": "qa.ask", "question": QUESTION}, user=STAFF)
        await settle(bot)
        card_id, card = _desk_ticket_card(connector)
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.claim"), reply_to_id=card_id)
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.claim"), reply_to_id=card_id)  # twice
        await settle(bot)
        told = [t for t in connector.texts_to(STAFF.conversation_id) if "対応しています" in t]
        assert told == [
            f"お問い合わせ#1は、DX推進課の{ADMIN.name}さんが対応しています。回答はこのチャットでお知らせします。"
        ]


async def test_the_asker_replies_and_the_reply_joins_the_same_ticket(db_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(db_url), connector) as bot:
        card_id, answer_id = await _asked_and_answered(
            bot, "毎年3月に総務課が行います。勤務先の庁舎を教えていただけますか。"
        )
        answer_card = _current(bot, answer_id)
        assert has_action(answer_card, "qa.ticket.reply")
        assert "返信する" in all_text(answer_card)
        async with bot.services.sessionmaker() as s:
            queries_before = await s.scalar(select(func.count()).select_from(QueryLog))
        texts_before = len(connector.texts_to(STAFF.conversation_id))
        cards_before = len(connector.cards_to(STAFF.conversation_id))

        # 返信する with the box on the answer card.
        reply = find_action(answer_card, "qa.ticket.reply") | {"reply": FOLLOW_UP}
        await bot.press(reply, user=STAFF, reply_to_id=answer_id)
        await settle(bot)

        # Not a question to the knowledge base: no 「見つかりませんでした」, no query log row (the
        # dashboard's unanswered questions count those), no new ticket.
        staff_cards = [all_text(c) for c in connector.cards_to(STAFF.conversation_id)[cards_before:]]
        assert not any("見つかりませんでした" in c for c in staff_cards)
        async with bot.services.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(QueryLog)) == queries_before
            tickets = (await s.scalars(select(Ticket))).all()
            log = (await s.scalars(select(TicketMessage).order_by(TicketMessage.id))).all()
        assert len(tickets) == 1
        ticket = tickets[0]
        assert ticket.status == TicketStatus.CLAIMED  # back to the DX division, still with its assignee
        assert [(m.author, m.body) for m in log] == [
            ("division", "毎年3月に総務課が行います。勤務先の庁舎を教えていただけますか。"),
            ("asker", FOLLOW_UP),
        ]

        # The asker: a short confirmation on the same card, which shows the reply.
        updated = all_text(_current(bot, answer_id))
        assert "返信をDX推進課に送りました(受付番号#1)" in updated and FOLLOW_UP in updated
        assert len(connector.texts_to(STAFF.conversation_id)) == texts_before  # no extra chatter

        # The DX division: the same channel card, updated in place, with the reply and the answer box
        # again; and a notice in the channel, so someone sees it.
        card = _current(bot, card_id)
        shown = all_text(card)
        assert "対応中" in shown and FOLLOW_UP in shown and "質問者から返信がありました" in shown
        assert has_action(card, "qa.ticket.answer")
        assert len(_desk_ticket_card(connector)) == 2 and _desk_ticket_card(connector)[0] == card_id
        assert any(
            f"問い合わせ#1に{STAFF.name}さんから返信がありました" in t for t in connector.texts_to(DESK)
        )

        # The DX division answers again: the asker gets a second answer card, with the exchange.
        await in_desk(
            bot,
            ADMIN,
            value={**find_action(card, "qa.ticket.answer"), "answer": "分庁舎は4月に別に行います。"},
            reply_to_id=card_id,
        )
        await settle(bot)
        answers = _answer_cards(connector, STAFF)
        assert len(answers) == 2
        second = all_text(answers[-1][1])
        assert (
            "分庁舎は4月に別に行います。" in second and FOLLOW_UP in second and "これまでのやりとり" in second
        )
        card = _current(bot, card_id)
        assert "回答済み" in all_text(card) and "質問者へ届けました" in all_text(card)
        assert "質問者から返信がありました" not in all_text(card)


async def test_a_reply_to_a_closed_ticket_opens_it_again(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        card_id, answer_id = await _asked_and_answered(bot, "毎年3月です。")
        await in_desk(bot, ADMIN, value={"action": "qa.ticket.close", "ticket": 1}, reply_to_id=card_id)
        await settle(bot)
        assert "クローズ" in all_text(_current(bot, card_id))
        reply = find_action(_current(bot, answer_id), "qa.ticket.reply") | {"reply": FOLLOW_UP}
        await bot.press(reply, user=STAFF, reply_to_id=answer_id)
        await settle(bot)
        card = _current(bot, card_id)
        assert "対応中" in all_text(card) and FOLLOW_UP in all_text(card)
        assert has_action(card, "qa.ticket.answer")
        async with bot.services.sessionmaker() as s:
            ticket = await s.scalar(select(Ticket))
        assert ticket.status == TicketStatus.CLAIMED and ticket.closed_at is None


async def test_only_the_asker_may_reply(sqlite_url, connector, caplog):
    connector.members = members_for(ADMIN, STAFF, LEADER)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        card_id, answer_id = await _asked_and_answered(bot, "毎年3月です。")
        before = _current(bot, card_id)
        # Someone else sends the same button data with the ticket id (a forged or copied card).
        reply = find_action(_current(bot, answer_id), "qa.ticket.reply") | {"reply": "横から失礼します"}
        with caplog.at_level(logging.WARNING):
            await bot.press(reply, user=LEADER)
            await bot.press({"action": "qa.ticket.reply", "ticket": 999, "reply": "存在しない"}, user=LEADER)
        refusals = connector.texts_to(LEADER.conversation_id)
        assert len(refusals) == 2 and all("質問したご本人だけ" in t for t in refusals)
        assert "reply to ticket 1 refused" in caplog.text
        await settle(bot)
        async with bot.services.sessionmaker() as s:
            log = (await s.scalars(select(TicketMessage))).all()
            ticket = await s.scalar(select(Ticket))
        assert [m.author for m in log] == ["division"] and ticket.status == TicketStatus.ANSWERED
        assert _current(bot, card_id) == before
        assert not any("横から失礼します" in t for t in connector.texts_to(DESK))


async def test_an_empty_or_too_long_reply_is_refused_and_kept_in_the_box(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        card_id, answer_id = await _asked_and_answered(bot, "毎年3月です。")
        reply = find_action(_current(bot, answer_id), "qa.ticket.reply")
        await bot.press(reply | {"reply": "   "}, user=STAFF, reply_to_id=answer_id)
        assert "返信の内容が空です" in all_text(_current(bot, answer_id))
        long_reply = "分庁舎勤務です。" * 300  # 2,400 characters
        await bot.press(reply | {"reply": long_reply}, user=STAFF, reply_to_id=answer_id)
        card = _current(bot, answer_id)
        assert "返信が長すぎます(2000文字以内にしてください)" in all_text(card)
        box = [el for el in card["body"] if el.get("type") == "Input.Text" and el["id"] == "reply"][0]
        assert box["value"] == long_reply[:2000]
        async with bot.services.sessionmaker() as s:
            assert [m.author for m in (await s.scalars(select(TicketMessage))).all()] == ["division"]


async def test_a_reply_racing_the_delivery_report_still_shows_the_answer_arrived(sqlite_url, connector):
    """The asker replies a second after the answer arrived, before the delivery engine's progress
    report reached the ticket: the card rebuilt for the reply still says the answer was delivered
    (seen in the Agents Playground, where it said 「送信しています」 for good)."""
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        card_id, answer_id = await _asked_and_answered(bot, "毎年3月です。")
        async with bot.services.sessionmaker() as s, s.begin():
            ticket = await s.scalar(select(Ticket))
            ticket.answer_delivered_at = None  # as the racing turn read it
        reply = find_action(_current(bot, answer_id), "qa.ticket.reply") | {"reply": FOLLOW_UP}
        await bot.press(reply, user=STAFF, reply_to_id=answer_id)
        # The card update the reply queued (later progress reports would repair it, but the engine
        # drops an older update once a newer one is queued, so this one must be right by itself).
        async with bot.services.sessionmaker() as s:
            update = await s.scalar(
                select(Delivery)
                .where(Delivery.kind == "qa", Delivery.op == "update", Delivery.purpose.like("card~%"))
                .order_by(Delivery.id.desc())
                .limit(1)
            )
        shown = all_text(payload_to_message(update.payload).card)
        assert FOLLOW_UP in shown and "質問者へ届けました" in shown and "送信しています" not in shown
