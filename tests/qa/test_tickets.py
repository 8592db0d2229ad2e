"""A question the knowledge base cannot answer goes to the DX division's channel and comes back:
miss → ticket → 担当する → 回答する → the asker's chat → ナレッジに追加 → published → found."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.qa.seed import seed_demo
from dialogs.qa.tickets import housekeeping
from storage.models import AppSetting, KbEntry, Ticket, TicketStatus
from tests.cards import by_id, title
from tests.qa.feature_support import (
    DESK,
    Clock,
    all_text,
    cards_with_ids,
    find_action,
    has_action,
    in_desk,
    jst,
    last_card,
    settle,
)
from tests.support import ADMIN, LEADER, STAFF, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio
QUESTION = "職員駐車場の抽選はいつ行われますか"


def _settings(url: str):
    return settings_for(url, admins=[ADMIN.email])


async def _card(bot) -> tuple[str, dict]:
    """The newest ticket card in the inquiry channel, once the queued sends went out."""
    await settle(bot)
    return _ticket_card(bot.connector)


def _current(bot, card_id: str) -> dict:
    return bot.connector.activities[card_id]["attachments"][0]["content"]


def _ticket_card(connector) -> tuple[str, dict]:
    cards = [(aid, c) for aid, c in cards_with_ids(connector, DESK) if "問い合わせ#" in all_text(c)]
    assert cards, "no ticket card in the inquiry channel"
    return cards[-1]


async def test_miss_ticket_claim_answer_reaches_asker_then_becomes_an_entry(db_url, connector):
    connector.members = members_for(ADMIN, LEADER)
    async with running_bot(_settings(db_url), connector) as bot:
        await seed_demo(bot.services, True)
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        assert "問い合わせ窓口に設定しました" in connector.texts_to(DESK)[-1]

        # The miss, and 「DX推進課に質問する」 from the card.
        await bot.say(QUESTION, user=LEADER)
        miss_id, miss = last_card(connector, LEADER.conversation_id)
        assert title(miss) == "見つかりませんでした"
        await bot.press(
            {**find_action(miss, "qa.ask"), "question": QUESTION + "(本庁舎です)"},
            user=LEADER,
            reply_to_id=miss_id,
        )
        asked = connector.activities[miss_id]["attachments"][0]["content"]
        assert "DX推進課に質問を送りました" in all_text(asked)

        # The channel card: 未対応, the question, who asked, and the buttons.
        card_id, card = await _card(bot)
        assert "未対応" in all_text(card)
        assert QUESTION + "(本庁舎です)" in all_text(card)
        assert LEADER.name in all_text(card)
        assert has_action(card, "qa.ticket.claim") and has_action(card, "qa.ticket.answer")
        assert has_action(card, "qa.ticket.close")

        # 担当する: the same card now says 対応中 and names the assignee.
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.claim"), reply_to_id=card_id)
        await settle(bot)
        card = _current(bot, card_id)
        assert "対応中" in all_text(card) and ADMIN.name in all_text(card)
        assert not has_action(card, "qa.ticket.claim")

        # 回答する with the inline box: 回答済み in place, and the answer in the leader's chat.
        answer = "職員駐車場の抽選は毎年3月に総務課が行います。申込みは2月の庁内掲示板をご覧ください。"
        await in_desk(
            bot, ADMIN, value={**find_action(card, "qa.ticket.answer"), "answer": answer}, reply_to_id=card_id
        )
        await settle(bot)
        card = _current(bot, card_id)
        assert "回答済み" in all_text(card) and answer in all_text(card)
        assert "質問者へ届けました" in all_text(card)
        reply = [
            c
            for c in connector.cards_to(LEADER.conversation_id)
            if "DX推進課から回答が届きました" in all_text(c)
        ]
        assert len(reply) == 1 and answer in all_text(reply[0])

        # ナレッジに追加: a draft entry, and its edit form in the channel.
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.to_kb"), reply_to_id=card_id)
        await settle(bot)
        card = _current(bot, card_id)
        assert "ナレッジに追加済み" in all_text(card)
        async with bot.services.sessionmaker() as s:
            ticket = await s.scalar(select(Ticket))
            draft = await s.scalar(select(KbEntry).where(KbEntry.key == ticket.entry_key))
        assert ticket.status == TicketStatus.ANSWERED and ticket.answer_delivered_at is not None
        assert draft.status == "draft" and draft.answer == answer and draft.source_ticket_id == ticket.id

        # Still a draft: the same question finds nothing yet.
        await bot.say(QUESTION, user=LEADER)
        _, again = last_card(connector, LEADER.conversation_id)
        assert title(again) == "見つかりませんでした"

        # The admin tidies the question and publishes from the form.
        form_id, form = [
            (aid, c) for aid, c in cards_with_ids(connector, DESK) if has_action(c, "qa.entry.save")
        ][-1]
        assert "下書き" in all_text(form)
        await in_desk(
            bot,
            ADMIN,
            value={
                **find_action(form, "qa.entry.save"),
                "question": "職員駐車場の抽選はいつですか?",
                "alternates": "駐車場の申込み時期",
                "answer": answer,
                "tags": "駐車場",
                "url": "",
                "status": "published",
            },
            reply_to_id=form_id,
        )
        await bot.say(QUESTION, user=LEADER)
        _, found = last_card(connector, LEADER.conversation_id)
        assert by_id(found, "qa.answer.question")["text"] == "職員駐車場の抽選はいつですか?"
        assert answer in all_text(found)

        # クローズ: the card says so and has no buttons left but none to act on.
        await in_desk(
            bot, ADMIN, value={"action": "qa.ticket.close", "ticket": ticket.id}, reply_to_id=card_id
        )
        await settle(bot)
        card = _current(bot, card_id)
        assert "クローズ" in all_text(card) and not has_action(card, "qa.ticket.close")


async def test_answering_without_claiming_first_and_empty_answers(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.press(
            {"action": "qa.ask", "qid": None, "question": "RPAのライセンスは何本ありますか"}, user=STAFF
        )
        card_id, card = await _card(bot)
        await in_desk(
            bot, ADMIN, value={**find_action(card, "qa.ticket.answer"), "answer": "  "}, reply_to_id=card_id
        )
        assert "回答欄が空です" in connector.texts_to(DESK)[-1]
        await in_desk(
            bot,
            ADMIN,
            value={**find_action(card, "qa.ticket.answer"), "answer": "5本です。"},
            reply_to_id=card_id,
        )
        await settle(bot)
        card = _current(bot, card_id)
        assert "回答済み" in all_text(card) and ADMIN.name in all_text(card)  # answering took it on
        assert any("5本です。" in all_text(c) for c in connector.cards_to(STAFF.conversation_id))


async def test_staff_cannot_work_tickets(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.press({"action": "qa.ask", "question": "RPAのライセンスは何本ありますか"}, user=STAFF)
        card_id, card = await _card(bot)
        await bot.press({**find_action(card, "qa.ticket.answer"), "answer": "勝手な回答"}, user=STAFF)
        await bot.press(find_action(card, "qa.ticket.close"), user=STAFF)
        await bot.say("ここを問い合わせ窓口にする", user=STAFF)
        refusals = [t for t in connector.texts_to(STAFF.conversation_id) if "申し訳ありません" in t]
        assert len(refusals) == 3
        async with bot.services.sessionmaker() as s:
            ticket = await s.scalar(select(Ticket))
            desk = await s.get(AppSetting, "qa.inquiry_channel")
        assert ticket.status == TicketStatus.OPEN and ticket.answer is None
        assert desk.value["conversation_id"] == DESK


async def test_without_an_inquiry_channel_tickets_go_to_the_admins_own_chats(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)  # the bot knows the admin's 1:1 chat
        await bot.say("RPAのライセンスは何本ありますか", user=STAFF)
        miss_id, miss = last_card(connector, STAFF.conversation_id)
        await bot.press(
            find_action(miss, "qa.ask") | {"question": "RPAのライセンスは何本?"},
            user=STAFF,
            reply_to_id=miss_id,
        )
        # The asker reads the usual words: nothing about a channel or a set-up.
        told = all_text(connector.activities[miss_id]["attachments"][0]["content"])
        assert "DX推進課が確認して回答します" in told
        assert not any(w in told for w in ("窓口", "設定", "遅れ", "保留"))
        await settle(bot)
        # The ticket card is in the admin's own chat, with its buttons and how to set a channel.
        card_id, card = last_card(connector, ADMIN.conversation_id)
        assert "問い合わせ#1" in all_text(card) and "RPAのライセンスは何本?" in all_text(card)
        assert has_action(card, "qa.ticket.claim") and has_action(card, "qa.ticket.answer")
        assert "「ここを問い合わせ窓口にする」" in all_text(card)
        async with bot.services.sessionmaker() as s:
            assert (await s.scalar(select(Ticket))).status == TicketStatus.OPEN

        # The admin answers from there: the card changes in place and the asker gets the answer.
        await bot.press(
            {**find_action(card, "qa.ticket.answer"), "answer": "5本です。"}, user=ADMIN, reply_to_id=card_id
        )
        await settle(bot)
        card = _current(bot, card_id)
        assert "回答済み" in all_text(card) and "質問者へ届けました" in all_text(card)
        assert any("5本です。" in all_text(c) for c in connector.cards_to(STAFF.conversation_id))

        # A second question; then the channel is set: what is not closed is posted there too, and the
        # admin's copy keeps in step (without the set-up note, now that a channel exists).
        await bot.press({"action": "qa.ask", "question": "別の質問です"}, user=STAFF)
        await settle(bot)
        second_id, second = last_card(connector, ADMIN.conversation_id)
        assert "別の質問です" in all_text(second)
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        assert "2件を、ここにもお届けしました" in connector.texts_to(DESK)[-1]
        await settle(bot)
        questions = [all_text(c) for _, c in cards_with_ids(connector, DESK)]
        assert any("RPAのライセンスは何本?" in q for q in questions)
        assert any("別の質問です" in q for q in questions)
        desk_id, desk_card = [
            (aid, c) for aid, c in cards_with_ids(connector, DESK) if "別の質問です" in all_text(c)
        ][-1]
        await in_desk(bot, ADMIN, value=find_action(desk_card, "qa.ticket.claim"), reply_to_id=desk_id)
        await settle(bot)
        assert "対応中" in all_text(_current(bot, second_id))
        assert "ここを問い合わせ窓口にする" not in all_text(_current(bot, second_id))


async def test_with_no_channel_and_no_admin_reachable_the_ticket_is_kept_and_the_gap_shown(
    sqlite_url, connector, caplog
):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await bot.press({"action": "qa.ask", "question": "RPAのライセンスは何本?"}, user=STAFF)
        told = all_text(last_card(connector, STAFF.conversation_id)[1])
        assert "DX推進課が確認して回答します" in told and "窓口" not in told
        await settle(bot)
        assert connector.cards_to(ADMIN.conversation_id) == []
        assert "no admin reachable" in caplog.text
        async with bot.services.sessionmaker() as s:
            assert (await s.scalar(select(Ticket))).question == "RPAのライセンスは何本?"

        # The admin's 「問い合わせ一覧」 says what is missing and how to fix it.
        await bot.say("問い合わせ一覧", user=ADMIN)
        listing = all_text(last_card(connector, ADMIN.conversation_id)[1])
        assert "問い合わせ窓口のチャネルが未設定です" in listing
        assert "どの管理者にも届けられていない問い合わせが1件" in listing
        # Now the bot knows the admin's chat: the next housekeeping round brings the ticket there.
        await housekeeping(bot.services)
        await settle(bot)
        assert any("RPAのライセンスは何本?" in all_text(c) for c in connector.cards_to(ADMIN.conversation_id))
        await bot.say("問い合わせ一覧", user=ADMIN)
        listing = all_text(last_card(connector, ADMIN.conversation_id)[1])
        assert "問い合わせ窓口のチャネルが未設定です" in listing and "どの管理者にも" not in listing


async def test_the_desk_is_set_in_a_channel_not_in_a_personal_chat(sqlite_url, connector):
    connector.members = members_for(ADMIN)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await bot.say("ここを問い合わせ窓口にする", user=ADMIN)
        assert "チャネルで" in connector.texts_to(ADMIN.conversation_id)[-1]
        async with bot.services.sessionmaker() as s:
            assert await s.get(AppSetting, "qa.inquiry_channel") is None


async def test_double_press_does_not_open_two_tickets(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        for _ in range(2):
            await bot.press({"action": "qa.ask", "question": "同じ質問"}, user=STAFF)
        async with bot.services.sessionmaker() as s:
            assert len((await s.scalars(select(Ticket))).all()) == 1
        assert "二重に送られない" in connector.texts_to(STAFF.conversation_id)[-1]


async def test_an_undelivered_answer_is_shown_on_the_card_and_can_be_sent_again(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    clock = Clock(jst(2026, 4, 28, 10))
    async with running_bot(_settings(sqlite_url), connector, clock=clock) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.press({"action": "qa.ask", "question": "RPAのライセンスは何本?"}, user=STAFF)
        card_id, card = await _card(bot)
        connector.blocked.add(STAFF.conversation_id)  # the asker blocked the bot
        await in_desk(
            bot,
            ADMIN,
            value={**find_action(card, "qa.ticket.answer"), "answer": "5本です。"},
            reply_to_id=card_id,
        )
        await settle(bot)
        card = _current(bot, card_id)
        assert "届けられませんでした" in all_text(card) and "ブロック" in all_text(card)
        assert not any("5本です。" in all_text(c) for c in connector.cards_to(STAFF.conversation_id))

        # They unblock; 再送する sends it, and the card says it arrived.
        connector.blocked.discard(STAFF.conversation_id)
        # Their next message marks the chat reachable again. (The transport skips the reference check
        # for a repeat within a minute of the last one, so this one comes later.)
        clock.now = jst(2026, 4, 28, 10, 5)
        await bot.say("ヘルプ", user=STAFF)
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.resend"), reply_to_id=card_id)
        await settle(bot)
        assert any("5本です。" in all_text(c) for c in connector.cards_to(STAFF.conversation_id))
        card = _current(bot, card_id)
        assert "質問者へ届けました" in all_text(card) and not has_action(card, "qa.ticket.resend")


async def test_tickets_open_past_two_business_days_are_reminded_once_a_day(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    clock = Clock(jst(2026, 4, 28, 10))  # Tuesday; 4/29 昭和の日 is a holiday
    async with running_bot(_settings(sqlite_url), connector, clock=clock) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.press({"action": "qa.ask", "question": "RPAのライセンスは何本?"}, user=STAFF)
        await bot.press({"action": "qa.ask", "question": "AI-OCRの読み取り精度は?"}, user=STAFF)
        card_id, card = await _card(bot)
        await in_desk(
            bot,
            ADMIN,
            value={**find_action(card, "qa.ticket.answer"), "answer": "9割です。"},
            reply_to_id=card_id,
        )

        def reminders() -> list[str]:
            return [t for t in connector.texts_to(DESK) if "2営業日を過ぎても" in t]

        async def housekeeping_round() -> None:
            await housekeeping(bot.services)
            await settle(bot)

        # Two business days after Tuesday are Thursday 4/30 and Friday 5/1: not yet overdue on Friday.
        for day in (jst(2026, 4, 30, 10), jst(2026, 5, 1, 17)):
            clock.now = day
            await housekeeping_round()
        assert reminders() == []
        # Saturday to Wednesday 5/6 are weekend and holidays: nothing is sent.
        clock.now = jst(2026, 5, 4, 10)
        await housekeeping_round()
        assert reminders() == []
        # Thursday 5/7 before nine: still quiet; at ten: one reminder listing the open ticket only.
        clock.now = jst(2026, 5, 7, 8, 30)
        await housekeeping_round()
        assert reminders() == []
        clock.now = jst(2026, 5, 7, 10)
        await housekeeping_round()
        assert len(reminders()) == 1
        assert "RPAのライセンスは何本?" in reminders()[0] and "AI-OCR" not in reminders()[0]
        assert "2026年4月28日(火)" in reminders()[0]
        # Once a business day.
        clock.now = jst(2026, 5, 7, 15)
        await housekeeping_round()
        assert len(reminders()) == 1
        clock.now = jst(2026, 5, 8, 10)
        await housekeeping_round()
        assert len(reminders()) == 2


async def test_without_a_channel_overdue_tickets_are_reminded_in_the_admins_chats(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    clock = Clock(jst(2026, 4, 28, 10))
    async with running_bot(_settings(sqlite_url), connector, clock=clock) as bot:
        await bot.say("ヘルプ", user=ADMIN)
        await bot.press({"action": "qa.ask", "question": "RPAのライセンスは何本?"}, user=STAFF)
        await settle(bot)

        def reminders() -> list[str]:
            return [t for t in connector.texts_to(ADMIN.conversation_id) if "2営業日を過ぎても" in t]

        clock.now = jst(2026, 5, 7, 10)
        await housekeeping(bot.services)
        await settle(bot)
        assert len(reminders()) == 1 and "RPAのライセンスは何本?" in reminders()[0]
        clock.now = jst(2026, 5, 7, 15)
        await housekeeping(bot.services)
        await settle(bot)
        assert len(reminders()) == 1  # once a business day
