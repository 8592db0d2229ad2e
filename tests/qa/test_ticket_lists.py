"""「問い合わせ一覧」: the DX division sees the tickets not closed, oldest first, and can open each;
「自分の問い合わせ」: an asker sees their own tickets and states, and nobody else's."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from dialogs.engines.delivery.worker import drain
from storage.models import (
    Assignment,
    Delivery,
    Department,
    Person,
    PromoterRole,
    Section,
    Ticket,
    TicketStatus,
)
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
from tests.support import ADMIN, LEADER, STAFF, activity, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio


def _settings(url: str):
    return settings_for(url, admins=[ADMIN.email])


def _order(card: dict) -> list[int]:
    """Ticket numbers as the list shows them, top to bottom."""
    return [int(n) for n in re.findall(r"\*\*#(\d+)\*\*", all_text(card))]


async def _leader_of_tax_section(bot) -> None:
    """LEADER is 税務課's DX推進リーダー in the roster."""
    async with bot.services.sessionmaker() as s, s.begin():
        dept = Department(name="財務部")
        s.add(dept)
        await s.flush()
        section = Section(department_id=dept.id, name="税務課")
        person = Person(name=LEADER.name, email=LEADER.email)
        s.add_all([section, person])
        await s.flush()
        s.add(
            Assignment(
                section_id=section.id,
                person_id=person.id,
                role=PromoterRole.LEADER,
                valid_from=date(2025, 4, 1),
            )
        )


async def _ask(bot, clock: Clock, when, user, question: str) -> int:
    clock.now = when
    await bot.press({"action": "qa.ask", "question": question}, user=user)
    async with bot.services.sessionmaker() as s:
        return (await s.scalars(select(Ticket.id).where(Ticket.question == question))).one()


async def _desk_card(bot, ticket_id: int) -> tuple[str, dict]:
    await settle(bot)
    cards = [
        (aid, c) for aid, c in cards_with_ids(bot.connector, DESK) if f"問い合わせ#{ticket_id}" in all_text(c)
    ]
    assert cards, f"no card for #{ticket_id} in the inquiry channel"
    return cards[-1]


async def test_the_dx_division_sees_open_tickets_oldest_first_and_can_work_them_from_the_list(
    sqlite_url, connector
):
    connector.members = members_for(ADMIN, LEADER, STAFF)
    connector.numeric_ids = True  # Teams-like message ids, for read receipts
    clock = Clock(jst(2026, 4, 28, 9))  # Tuesday; 4/29 is a holiday, 5/2–5/6 weekend and holidays
    async with running_bot(_settings(sqlite_url), connector, clock=clock) as bot:
        await _leader_of_tax_section(bot)
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        oldest = await _ask(bot, clock, jst(2026, 4, 28, 10), STAFF, "RPAのライセンスは何本ありますか")
        claimed = await _ask(bot, clock, jst(2026, 4, 30, 10), LEADER, "電子申請の様式を直したい")
        closed = await _ask(bot, clock, jst(2026, 5, 1, 10), STAFF, "AI-OCRの読み取り精度は?")
        answered = await _ask(bot, clock, jst(2026, 5, 7, 9), LEADER, "生成AIの研修はいつですか")

        _, card = await _desk_card(bot, claimed)
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.claim"))
        _, card = await _desk_card(bot, closed)
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.close"))
        _, card = await _desk_card(bot, answered)
        await in_desk(bot, ADMIN, value={**find_action(card, "qa.ticket.answer"), "answer": "6月です。"})

        clock.now = jst(2026, 5, 7, 10)
        await bot.say("問い合わせ一覧", user=ADMIN)
        list_id, listing = last_card(connector, ADMIN.conversation_id)
        shown = all_text(listing)
        assert _order(listing) == [oldest, claimed, answered]  # oldest first, the closed one absent
        assert "AI-OCR" not in shown
        assert "未対応1件・対応中1件・回答済み(クローズ前)1件" in shown
        lines = {n: all_text(c) for n, c in zip(_order(listing), _line_containers(listing), strict=True)}
        assert "未対応" in lines[oldest] and "3営業日経過" in lines[oldest] and "2営業日超過" in lines[oldest]
        assert f"{STAFF.name}・" in lines[oldest]  # not in the roster: no section
        assert "対応中" in lines[claimed] and f"{LEADER.name}(税務課)" in lines[claimed]
        assert f"担当：{ADMIN.name}" in lines[claimed] and "2営業日超過" not in lines[claimed]
        assert "回答済み" in lines[answered] and "本日受付" in lines[answered]
        # The asker has not sent a read receipt: unknown, not unread. Once Teams says they read it: 既読.
        await drain(bot.services)
        lines = await _lines_now(bot, connector)
        assert "回答の既読は不明" in lines[answered] and "既読" not in lines[claimed]
        async with bot.services.sessionmaker() as s:
            answer_id = await s.scalar(
                select(Delivery.activity_id).where(
                    Delivery.kind == "qa", Delivery.ref_id == answered, Delivery.purpose == "answer"
                )
            )
        assert answer_id is not None
        receipt = activity(
            connector.url,
            user=LEADER,
            type="event",
            name="application/vnd.microsoft.readReceipt",
            value={"lastReadMessageId": answer_id},
        )
        assert await bot.post(receipt) < 300
        lines = await _lines_now(bot, connector)
        assert "回答は既読" in lines[answered]
        assert "RPAのライセンスは何本ありますか" in lines[oldest]

        # 開く: the channel's card, with its buttons, in the admin's chat; 担当する there changes both.
        await bot.press(find_action(listing, "qa.ticket.show") | {"ticket": oldest}, user=ADMIN)
        copy_id, copy = last_card(connector, ADMIN.conversation_id)
        assert f"問い合わせ#{oldest}" in all_text(copy) and has_action(copy, "qa.ticket.answer")
        await bot.press(find_action(copy, "qa.ticket.claim"), user=ADMIN, reply_to_id=copy_id)
        copy = connector.activities[copy_id]["attachments"][0]["content"]
        assert "対応中" in all_text(copy) and not has_action(copy, "qa.ticket.claim")
        _, desk_card = await _desk_card(bot, oldest)
        assert "対応中" in all_text(desk_card) and ADMIN.name in all_text(desk_card)

        # 最新の状態にする: the list is rebuilt in place.
        await bot.press(find_action(listing, "qa.tickets.refresh"), user=ADMIN, reply_to_id=list_id)
        listing = connector.activities[list_id]["attachments"][0]["content"]
        assert "未対応0件・対応中2件" in all_text(listing)


async def _lines_now(bot, connector) -> dict[int, str]:
    await bot.say("問い合わせ一覧", user=ADMIN)
    _, listing = last_card(connector, ADMIN.conversation_id)
    return {n: all_text(c) for n, c in zip(_order(listing), _line_containers(listing), strict=True)}


def _line_containers(card: dict) -> list[dict]:
    return [el for el in card["body"] if el.get("type") == "Container"]


async def test_staff_and_leaders_are_refused_the_list(sqlite_url, connector):
    connector.members = members_for(ADMIN, LEADER, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await _leader_of_tax_section(bot)
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.press({"action": "qa.ask", "question": "RPAのライセンスは何本ありますか"}, user=STAFF)
        async with bot.services.sessionmaker() as s:
            ticket_id = (await s.scalars(select(Ticket.id))).one()
        for user in (STAFF, LEADER):
            await bot.say("問い合わせ一覧", user=user)
            await bot.say("tickets", user=user)
            await bot.press({"action": "qa.ticket.show", "ticket": ticket_id}, user=user)
            refusals = [t for t in connector.texts_to(user.conversation_id) if "申し訳ありません" in t]
            assert len(refusals) == 3
            shown = [all_text(c) for c in connector.cards_to(user.conversation_id)]
            assert not any("問い合わせ一覧" in c or "問い合わせ#" in c for c in shown)
        # The help card offers the list to the DX division only.
        await bot.say("ヘルプ", user=STAFF)
        await bot.say("ヘルプ", user=ADMIN)
        assert "問い合わせ一覧" not in all_text(connector.cards_to(STAFF.conversation_id)[-1])
        assert "問い合わせ一覧" in all_text(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "自分の問い合わせ" in all_text(connector.cards_to(STAFF.conversation_id)[-1])


async def test_an_asker_sees_their_own_questions_and_states_only(sqlite_url, connector):
    connector.members = members_for(ADMIN, LEADER, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await bot.say("自分の問い合わせ", user=STAFF)
        _, empty = last_card(connector, STAFF.conversation_id)
        assert "まだありません" in all_text(empty)

        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        for question in ("RPAのライセンスは何本ありますか", "AI-OCRの読み取り精度は?"):
            await bot.press({"action": "qa.ask", "question": question}, user=STAFF)
        await bot.press({"action": "qa.ask", "question": "電子申請の様式を直したい"}, user=LEADER)
        async with bot.services.sessionmaker() as s:
            rpa = (await s.scalars(select(Ticket).where(Ticket.question.like("RPA%")))).one()
        _, card = await _desk_card(bot, rpa.id)
        await in_desk(bot, ADMIN, value={**find_action(card, "qa.ticket.answer"), "answer": "5本です。"})
        await settle(bot)

        await bot.say("my questions", user=STAFF)
        _, mine = last_card(connector, STAFF.conversation_id)
        shown = all_text(mine)
        assert "RPAのライセンス" in shown and "AI-OCR" in shown
        assert "電子申請" not in shown  # the leader's question
        assert _order(mine) == [rpa.id + 1, rpa.id]  # newest first
        assert "回答済み" in shown and "回答がありました" in shown
        assert "未対応" in shown and "DX推進課の確認を待っています" in shown
        # 回答を見る: the answer again, to the asker only.
        show = find_action(mine, "qa.mine.answer")
        assert show["ticket"] == rpa.id
        await bot.press(show, user=STAFF)
        assert "5本です。" in all_text(connector.cards_to(STAFF.conversation_id)[-1])
        await bot.press(show, user=LEADER)
        assert not any("5本です。" in all_text(c) for c in connector.cards_to(LEADER.conversation_id))
        assert "見つかりませんでした" in connector.texts_to(LEADER.conversation_id)[-1]

        await bot.say("自分の問い合わせ", user=LEADER)
        _, theirs = last_card(connector, LEADER.conversation_id)
        assert "電子申請" in all_text(theirs) and "RPA" not in all_text(theirs)

        # Not in a channel, where the others would read it.
        await in_desk(bot, STAFF, text="自分の問い合わせ")
        assert "個人チャット" in connector.texts_to(DESK)[-1]
        async with bot.services.sessionmaker() as s:
            assert {t.status for t in (await s.scalars(select(Ticket))).all()} == {
                TicketStatus.OPEN,
                TicketStatus.ANSWERED,
            }
