"""Free text that is no command: search the knowledge base and answer, or offer the DX division.
Thanks, greetings and acknowledgements get a short friendly line instead (small_talk.py).

Every question is logged (text and result, never the asker) for "most asked" and "unanswered"
reports; 「役に立った」/「役に立たなかった」 is stored with the question that led to the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Role, Services, Turn
from dialogs.kit.router import Router
from dialogs.qa import store
from dialogs.qa.cards import QUESTION_MAX, answer_card, asked_card, not_found_card, not_helpful_card
from dialogs.qa.learning import CHOICES, choice_card, learn_from_feedback
from dialogs.qa.search.index import ANSWER, CHOICE
from dialogs.qa.service import knowledge_base
from dialogs.qa.small_talk import reply_text, small_talk
from dialogs.qa.tickets import open_ticket
from storage.models import EntryStatus, Feedback, KbEntry, QueryLog

router = Router("qa")

log = logging.getLogger(__name__)
RELATED = 2
# A related question must score at least this share of the answer threshold to be offered.
RELATED_SHARE = 0.6
# Other features' results for the same question, each shown as its own card after the answer (the
# improvement cases feature: cases, never dressed as FAQ answers). (turn, question, answered) -> card.
# The composition root (dialogs/composition.py) passes them to ``feature()``; its start-up hook keeps
# them on the services.
AnswerSource = Callable[[Turn, str, bool], Awaitable[dict[str, Any] | None]]
ANSWER_SOURCES = "qa.answer_sources"  # services.extras key


def use_answer_sources(services: Services, sources: Sequence[AnswerSource]) -> None:
    services.extras[ANSWER_SOURCES] = tuple(sources)


def _published(rows: dict[str, KbEntry], key: str) -> KbEntry | None:
    row = rows.get(key)
    return row if row is not None and EntryStatus(row.status) == EntryStatus.PUBLISHED else None


async def _related(session: AsyncSession, keys: list[str]) -> list[KbEntry]:
    rows = await store.entries_by_key(session, keys)
    return [r for k in keys if (r := _published(rows, k)) is not None]


def _is_admin(turn: Turn) -> bool:
    """Admins see an entry's ID under the answer (for 「FAQ編集 ID」); everyone else only the text."""
    return turn.identity.has(Role.ADMIN)


@router.fallback
async def on_question(turn: Turn, args: str) -> None:
    # 「ありがとう」「おはようございます」 are no questions: a friendly line, not 「見つかりませんでした」,
    # and nothing in the query log (it would show up as an unanswered question in the reports).
    kind = small_talk(args)
    if kind is not None:
        await turn.reply(reply_text(turn.t, kind))
        return
    query = " ".join(args.split())[:QUESTION_MAX]
    index = await knowledge_base(turn.services).index(turn.session)
    # Off the event loop: with the meaning channel a search embeds the question (about 10 ms).
    hits = await asyncio.to_thread(index.search, query, 1 + RELATED + 2)
    band = index.band(hits)
    confident = band == ANSWER
    entry_log = QueryLog(
        at=turn.services.clock(),
        query=query,
        top_key=hits[0].id if hits else None,
        score=round(hits[0].score, 4) if hits else None,
        answered=confident,
    )
    turn.session.add(entry_log)
    await turn.session.flush()
    rows = await store.entries_by_key(turn.session, [h.id for h in hits])
    best = _published(rows, hits[0].id) if confident else None
    if best is not None:
        floor = index.config.threshold * RELATED_SHARE
        related = [
            r for h in hits[1:] if h.confidence >= floor and (r := _published(rows, h.id)) is not None
        ][:RELATED]
        card = answer_card(turn.t, best, related, qid=entry_log.id, show_key=_is_admin(turn))
        await turn.reply_card(card, text=best.question)
        await _other_results(turn, query, answered=True)
        return
    if band == CHOICE:
        # Not sure: the best three as choices (どれが近いですか?); a pick is a learning signal.
        choices = [r for h in hits[:CHOICES] if (r := _published(rows, h.id)) is not None]
        if choices:
            await turn.reply_card(
                choice_card(turn.t, query, choices, entry_log.id), text=turn.t("qa.choice.title")
            )
            return
    near = [r for h in hits[:RELATED] if (r := _published(rows, h.id)) is not None]
    await turn.reply_card(not_found_card(turn.t, query, near, entry_log.id), text=turn.t("qa.notfound.title"))
    await _other_results(turn, query, answered=False)


async def _other_results(turn: Turn, query: str, answered: bool) -> None:
    for source in turn.services.extras.get(ANSWER_SOURCES, ()):
        card = await source(turn, query, answered)
        if card is not None:
            await turn.reply_card(card)


@router.action("qa.show")
async def on_show(turn: Turn, data: dict[str, Any]) -> None:
    """A related question's button: show that entry."""
    key = str(data.get("entry") or "")
    rows = await store.entries_by_key(turn.session, [key])
    entry = _published(rows, key)
    if entry is None:
        await turn.reply(turn.t("qa.entry.gone"))
        return
    qid = data.get("qid") if isinstance(data.get("qid"), int) else None
    card = answer_card(turn.t, entry, [], qid=qid, show_key=_is_admin(turn))
    await turn.reply_card(card, text=entry.question)


@router.action("qa.feedback")
async def on_feedback(turn: Turn, data: dict[str, Any]) -> None:
    key = str(data.get("entry") or "")
    helpful = data.get("helpful")
    if not key or not isinstance(helpful, bool):
        await turn.reply(turn.t("core.unknown_action"))
        return
    qid = data.get("qid") if isinstance(data.get("qid"), int) else None
    asked = await turn.session.get(QueryLog, qid) if qid is not None else None
    query = asked.query if asked is not None else ""
    turn.session.add(
        Feedback(entry_key=key, helpful=helpful, query=query, query_id=qid, at=turn.services.clock())
    )
    if asked is not None:
        await learn_from_feedback(turn.session, asked, key, helpful, now=turn.services.clock())
    entry = await store.get_entry(turn.session, key)
    if entry is None or not turn.reply_to_id:
        if helpful:
            await turn.reply(turn.t("qa.answer.thanks_helpful"))
        else:  # the next step: ask again in other words, or ask the DX division
            card = not_helpful_card(turn.t, query or (entry.question if entry else ""), qid)
            await turn.reply_card(card, text=turn.t("qa.answer.not_helpful_next"))
        return
    related_keys = [str(k) for k in data.get("related", []) if isinstance(k, str)][:RELATED]
    related = await _related(turn.session, related_keys)
    card = answer_card(
        turn.t, entry, related, qid=qid, feedback=helpful, query=query, show_key=_is_admin(turn)
    )
    await turn.update_card(turn.reply_to_id, card)


@router.action("qa.ask")
async def on_ask(turn: Turn, data: dict[str, Any]) -> None:
    """「DX推進課に質問する」: a ticket to the DX division's inquiry channel."""
    question = str(data.get("question") or "").strip()[:QUESTION_MAX]
    if not question:
        await turn.reply(turn.t("qa.ask.empty"))
        return
    qid = data.get("qid") if isinstance(data.get("qid"), int) else None
    ticket, _sent, duplicate = await open_ticket(turn, question, qid)
    card = asked_card(turn.t, ticket)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=turn.t("qa.ask.sent_title", id=ticket.id))
    if duplicate:
        await turn.reply(turn.t("qa.ask.duplicate", id=ticket.id))
