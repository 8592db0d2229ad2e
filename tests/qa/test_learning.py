"""Phrasings learned from use, over the real HTTP path: a ticket answered with an existing entry, a pick
in 「どれが近いですか?」, 役に立たなかった then 役に立った, typed phrasings; 「言い換え候補」 approves or
rejects them together, and approved ones are searched at once (no restart)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.dashboard.pages import questions as questions_page
from dialogs.dashboard.pages.common import Context, PageView
from dialogs.kit.business_days import to_jst
from dialogs.qa.kbfile import write_kb_csv
from dialogs.qa.seed import seed_demo
from dialogs.qa.store import to_kb_row
from dialogs.report.figures import Quarter
from dialogs.report.figures import questions as report_questions
from storage.models import KbEntry, Phrasing, PhrasingSource, PhrasingStatus, Ticket, TicketStatus
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
ENTRY = "contact-who"  # a starter entry the DX division answers with


def _settings(url: str):
    return settings_for(url, admins=[ADMIN.email])


async def _phrasings(bot) -> list[Phrasing]:
    async with bot.services.sessionmaker() as s:
        return list(await s.scalars(select(Phrasing).order_by(Phrasing.id)))


async def _entry(bot, key: str) -> KbEntry:
    async with bot.services.sessionmaker() as s:
        entry = await s.scalar(select(KbEntry).where(KbEntry.key == key))
    assert entry is not None
    return entry


async def _candidates_card(bot, user=ADMIN) -> tuple[str, dict]:
    await bot.say("言い換え候補", user=user)
    return last_card(bot.connector, user.conversation_id)


async def test_ticket_answered_with_an_existing_entry_teaches_the_search(db_url, connector):
    connector.members = members_for(ADMIN, LEADER)
    async with running_bot(_settings(db_url), connector) as bot:
        await seed_demo(bot.services, True)
        entry = await _entry(bot, ENTRY)
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.say(QUESTION, user=LEADER)
        miss_id, miss = last_card(connector, LEADER.conversation_id)
        assert miss["body"][0]["text"] == "見つかりませんでした"
        await bot.press(
            {**find_action(miss, "qa.ask"), "question": QUESTION}, user=LEADER, reply_to_id=miss_id
        )
        await settle(bot)
        card_id, card = [(a, c) for a, c in cards_with_ids(connector, DESK) if "問い合わせ#" in all_text(c)][
            -1
        ]

        # 「既存のFAQで回答」: the search's best entries for the question, and a box for an ID.
        assert has_action(card, "qa.ticket.faq")
        await in_desk(bot, ADMIN, value=find_action(card, "qa.ticket.faq"), reply_to_id=card_id)
        pick_id, pick = last_card(connector, DESK)
        assert "既存のFAQで回答" in all_text(pick) and QUESTION in all_text(pick)
        assert has_action(pick, "qa.ticket.use_entry")
        # An unknown ID is refused politely; nothing is answered.
        await in_desk(
            bot,
            ADMIN,
            value={"action": "qa.ticket.use_entry", "ticket": 1, "entry": "no-such"},
            reply_to_id=pick_id,
        )
        assert "公開中のFAQはありません" in connector.texts_to(DESK)[-1]
        # By ID: the asker gets the entry's answer; the ticket is answered; the question is a candidate.
        by_id = {**find_action(pick, "qa.ticket.use_entry"), "entry": ENTRY}
        await in_desk(bot, ADMIN, value=by_id, reply_to_id=pick_id)
        await settle(bot)
        done = connector.activities[pick_id]["attachments"][0]["content"]
        assert "回答しました" in all_text(done) and "言い換え候補" in all_text(done)
        reply = [
            c
            for c in connector.cards_to(LEADER.conversation_id)
            if "DX推進課から回答が届きました" in all_text(c)
        ]
        assert len(reply) == 1 and entry.answer.splitlines()[0] in all_text(reply[0])
        async with bot.services.sessionmaker() as s:
            ticket = await s.scalar(select(Ticket))
        assert ticket.status == TicketStatus.ANSWERED and ticket.entry_key == ENTRY
        (row,) = await _phrasings(bot)
        assert (row.entry_key, row.text, row.source, row.status, row.ticket_id) == (
            ENTRY, QUESTION, PhrasingSource.TICKET, PhrasingStatus.CANDIDATE, ticket.id
        )  # fmt: skip

        # Not searched until approved.
        await bot.say(QUESTION, user=LEADER)
        assert last_card(connector, LEADER.conversation_id)[1]["body"][0]["text"] == "見つかりませんでした"

        # 「言い換え候補」: staff are refused; the admin approves every ticked candidate with one press.
        await bot.say("言い換え候補", user=LEADER)
        assert not any(has_action(c, "qa.phr.approve") for c in connector.cards_to(LEADER.conversation_id))
        list_id, listing = await _candidates_card(bot)
        assert "言い換え候補(1件)" in all_text(listing) and QUESTION in all_text(listing)
        approve = find_action(listing, "qa.phr.approve")
        await bot.press({**approve, f"p{row.id}": "true"}, user=ADMIN, reply_to_id=list_id)
        after = connector.activities[list_id]["attachments"][0]["content"]
        assert "1件を承認しました" in all_text(after) and "言い換え候補(0件)" in all_text(after)
        assert QUESTION in (await _entry(bot, ENTRY)).alternates

        # Searched at once, no restart: the same question is now answered with the entry outright.
        await bot.say(QUESTION, user=LEADER)
        _, answer = last_card(connector, LEADER.conversation_id)
        assert find_action(answer, "qa.feedback")["entry"] == ENTRY
        assert answer["body"][1]["text"] == entry.question


async def test_a_pick_among_choices_is_shown_and_becomes_a_candidate(db_url, connector):
    connector.members = members_for(ADMIN, LEADER)
    async with running_bot(_settings(db_url), connector) as bot:
        await seed_demo(bot.services, True)
        # Two entries score close together: not sure, so the three best are offered.
        query = "チームズで同僚に個別にメッセージ送りたいんだけど"
        await bot.say(query, user=LEADER)
        card_id, card = last_card(connector, LEADER.conversation_id)
        assert card["body"][0]["text"] == "どれが近いですか?"
        rows = [el for el in card["body"] if el.get("type") == "Container" and "selectAction" in el]
        assert len(rows) == 3 and all(r["selectAction"]["data"]["action"] == "qa.pick" for r in rows)
        assert has_action(card, "qa.ask")  # none fits: the DX division
        assert not has_action(card, "qa.feedback")
        picked = rows[0]["selectAction"]["data"]
        await bot.press(picked, user=LEADER, reply_to_id=card_id)
        _, shown = last_card(connector, LEADER.conversation_id)
        assert find_action(shown, "qa.feedback")["entry"] == picked["entry"]
        (row,) = await _phrasings(bot)
        assert (row.entry_key, row.text, row.source) == (picked["entry"], query, PhrasingSource.CHOICE)
        # 役に立たなかった on the picked entry takes the pick back; picking again proposes it again.
        shown_id, shown = last_card(connector, LEADER.conversation_id)
        await bot.press(
            {**find_action(shown, "qa.feedback"), "helpful": False}, user=LEADER, reply_to_id=shown_id
        )
        assert await _phrasings(bot) == []
        await bot.press(picked, user=LEADER, reply_to_id=card_id)
        (row,) = await _phrasings(bot)
        assert (row.entry_key, row.text, row.source) == (picked["entry"], query, PhrasingSource.CHOICE)

        # 「FAQ一覧」 says a candidate waits, and opens the list.
        await bot.say("FAQ一覧", user=ADMIN)
        _, overview = last_card(connector, ADMIN.conversation_id)
        assert "言い換え候補(承認待ち)" in all_text(overview) and has_action(overview, "qa.phr.open")
        await bot.press(find_action(overview, "qa.phr.open"), user=ADMIN)
        list_id, listing = last_card(connector, ADMIN.conversation_id)
        assert "言い換え候補(1件)" in all_text(listing) and query in all_text(listing)
        # Rejected: stays out of the search and is not proposed again by the next pick.
        await bot.press(
            {**find_action(listing, "qa.phr.reject"), f"p{row.id}": "true"}, user=ADMIN, reply_to_id=list_id
        )
        assert "1件を却下しました" in all_text(connector.activities[list_id]["attachments"][0]["content"])
        await bot.say(query, user=LEADER)
        card_id, card = last_card(connector, LEADER.conversation_id)
        await bot.press(find_action(card, "qa.pick"), user=LEADER, reply_to_id=card_id)
        assert [(p.status, p.text) for p in await _phrasings(bot)] == [(PhrasingStatus.REJECTED, query)]
        assert query not in (await _entry(bot, picked["entry"])).alternates


async def _questions_page(bot) -> PageView:
    async with bot.services.sessionmaker() as s:
        ctx = Context(bot.services, s, "ja", {"days": "all"}, bot.services.clock())
        return await questions_page.build(ctx)


async def test_a_pick_among_choices_counts_as_answered_on_the_dashboard_and_in_the_report(db_url, connector):
    """A question shown 「どれが近いですか?」 whose asker picked an entry was answered by the bot (by choice):
    not listed among the questions the bot could not answer, counted with the entry picked."""
    connector.members = members_for(LEADER)
    async with running_bot(_settings(db_url), connector) as bot:
        await seed_demo(bot.services, True)
        query = "チームズで同僚に個別にメッセージ送りたいんだけど"
        await bot.say(query, user=LEADER)
        card_id, card = last_card(connector, LEADER.conversation_id)
        assert card["body"][0]["text"] == "どれが近いですか?"
        waiting = await _questions_page(bot)
        assert [row[0] for row in waiting.table("unanswered").rows] == [query]  # nothing picked yet
        assert waiting.tiles[1].value == "0%"

        pick = find_action(card, "qa.pick")
        await bot.press(pick, user=LEADER, reply_to_id=card_id)
        page = await _questions_page(bot)
        assert page.table("unanswered").rows == []
        assert page.tiles[1].value == "100%"
        assert page.tiles[1].detail == "うち選択肢から選ばれた質問: 1件・答えられなかった質問: 0件"
        assert [row[1:3] for row in page.table("most_asked").rows] == [[pick["entry"], 1]]
        async with bot.services.sessionmaker() as s:
            quarter = Quarter.containing(to_jst(bot.services.clock()).date())
            figures = await report_questions(s, quarter)
        assert (figures.asked, figures.answered_by_bot, figures.answered_by_choice) == (1, 1, 1)


async def test_not_helpful_then_helpful_on_another_entry_proposes_the_question(db_url, connector):
    connector.members = members_for(LEADER)
    async with running_bot(_settings(db_url), connector) as bot:
        await seed_demo(bot.services, True)
        query = "Teams会議を録画するにはどうすればいいですか"
        await bot.say(query, user=LEADER)
        card_id, card = last_card(connector, LEADER.conversation_id)
        first = find_action(card, "qa.feedback")["entry"]
        related = next(
            el["selectAction"]["data"]
            for el in card["body"]
            if el.get("type") == "Container" and "selectAction" in el
        )
        # 役に立った on the first answer alone teaches nothing (it is already found).
        helpful_first = find_action(card, "qa.feedback")
        await bot.press({**helpful_first, "helpful": False}, user=LEADER, reply_to_id=card_id)
        assert await _phrasings(bot) == []
        # The related question, then 役に立った there: the question is a candidate for that entry.
        await bot.press(related, user=LEADER)
        rel_id, rel_card = last_card(connector, LEADER.conversation_id)
        helpful = find_action(rel_card, "qa.feedback")
        assert helpful["entry"] == related["entry"] != first and helpful["qid"] == related["qid"]
        await bot.press(helpful, user=LEADER, reply_to_id=rel_id)
        (row,) = await _phrasings(bot)
        assert (row.entry_key, row.text, row.source, row.status) == (
            related["entry"], query, PhrasingSource.FEEDBACK, PhrasingStatus.CANDIDATE
        )  # fmt: skip


async def test_typed_phrasings_are_searched_at_once_and_bad_input_is_explained(db_url, connector):
    connector.members = members_for(ADMIN, LEADER, STAFF)
    async with running_bot(_settings(db_url), connector) as bot:
        await seed_demo(bot.services, True)
        list_id, listing = await _candidates_card(bot)
        assert "承認を待っている言い換え候補はありません" in all_text(listing)
        add = find_action(listing, "qa.phr.add")
        # Nothing ticked / no ID / an unknown ID: a clear message on the same card, nothing written.
        await bot.press({**add, "entry": "", "texts": QUESTION}, user=ADMIN, reply_to_id=list_id)
        assert "FAQのIDと別の聞き方を入力" in all_text(
            connector.activities[list_id]["attachments"][0]["content"]
        )
        await bot.press({**add, "entry": "no-such", "texts": QUESTION}, user=ADMIN, reply_to_id=list_id)
        assert "no-such" in all_text(connector.activities[list_id]["attachments"][0]["content"])
        assert await _phrasings(bot) == []

        await bot.press(
            {**add, "entry": ENTRY, "texts": f"{QUESTION}\n\n駐車場の抽選日\n{QUESTION}"},
            user=ADMIN,
            reply_to_id=list_id,
        )
        assert "2件追加しました" in all_text(connector.activities[list_id]["attachments"][0]["content"])
        rows = await _phrasings(bot)
        assert [(r.text, r.source, r.status) for r in rows] == [
            (QUESTION, PhrasingSource.TYPED, PhrasingStatus.APPROVED),
            ("駐車場の抽選日", PhrasingSource.TYPED, PhrasingStatus.APPROVED),
        ]
        await bot.say(QUESTION, user=LEADER)
        assert find_action(last_card(connector, LEADER.conversation_id)[1], "qa.feedback")["entry"] == ENTRY
        # The export carries them in the 別の聞き方 column, one per line.
        exported = write_kb_csv([to_kb_row(await _entry(bot, ENTRY))]).decode("utf-8-sig")
        assert f"{QUESTION}\n駐車場の抽選日" in exported

        # Staff may not approve or add: the usual refusal, nothing changed.
        before = (await _entry(bot, ENTRY)).alternates
        await bot.press({**add, "entry": ENTRY, "texts": "スタッフの言い方"}, user=STAFF)
        assert (await _entry(bot, ENTRY)).alternates == before
