"""Where the bot learns other ways of asking (別の聞き方), in Teams.

- 「既存のFAQで回答」 on a ticket card: the DX division picks an entry (the search's best five for the
  ticket's question, or an ID); the asker gets that entry's answer as the ticket's answer, and the
  question becomes a candidate phrasing of the entry.
- 「どれが近いですか?」: a question the search is not sure about shows its three best entries; the one
  picked is shown, and the question becomes a candidate phrasing of it.
- 役に立たなかった on one entry, then 役に立った on another for the same question (a related question, a
  choice): the question becomes a candidate phrasing of the second.
- 「言い換え候補」 (admins): the candidates with a tick each, approved or rejected together; phrasings
  typed by the DX division are approved at once. Approval bumps the knowledge base version, so every
  process searches with them at its next question.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Role, Turn
from dialogs.kit.cards import Element, adaptive_card, container, heading, submit, text
from dialogs.kit.router import Router
from dialogs.qa import phrasings, store
from dialogs.qa.cards import T, action_set, ask_box, text_input, translator
from dialogs.qa.service import knowledge_base
from dialogs.qa.tickets import record_answer, ticket_for
from storage.models import (
    EntryStatus,
    Feedback,
    KbEntry,
    Phrasing,
    PhrasingSource,
    QueryLog,
    Ticket,
    TicketStatus,
)

router = Router("qa")

log = logging.getLogger(__name__)
CHOICES = 3  # entries offered in 「どれが近いですか?」
PICKS = 5  # entries offered for 「既存のFAQで回答」
SHOWN = 30  # candidates on one 「言い換え候補」 card


# --- cards --------------------------------------------------------------------------------------------
def _short(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def choice_card(t: T, query: str, choices: Sequence[KbEntry], qid: int | None) -> dict[str, Any]:
    """「どれが近いですか?」: the best entries as tappable rows, then the way to the DX division."""
    body: list[Element] = [
        heading(t("qa.choice.title"), size="Medium"),
        text(t("qa.choice.body")),
    ]
    for entry in choices:
        body.append(
            container(
                [text(f"▶ {entry.question}", color="Accent")],
                selectAction=submit(_short(entry.question, 40), "qa.pick", entry=entry.key, qid=qid),
                style="emphasis",
                spacing="Small",
            )
        )
    body.append(text(t("qa.choice.none"), isSubtle=True, spacing="Large"))
    body.extend(ask_box(t, query, qid))
    return adaptive_card(body)


def faq_pick_card(
    t: T, ticket: Ticket, entries: Sequence[KbEntry], *, done: str | None = None
) -> dict[str, Any]:
    """「既存のFAQで回答」: the entries that fit the ticket's question best, each with its button."""
    body: list[Element] = [
        heading(t("qa.faqpick.title", id=ticket.id), size="Medium"),
        container([text(ticket.question)], style="emphasis"),
    ]
    if done is not None:
        body.append(text(done, color="Good", weight="Bolder"))
        return adaptive_card(body)
    body.append(text(t("qa.faqpick.explain"), isSubtle=True, size="Small"))
    if not entries:
        body.append(text(t("qa.faqpick.none")))
    for entry in entries:
        body.append(
            container(
                [
                    text(entry.question, weight="Bolder"),
                    text(_short(entry.answer, 90), isSubtle=True, size="Small", spacing="None"),
                    text(f"ID: {entry.key}", isSubtle=True, size="Small", spacing="None"),
                    action_set(
                        [
                            submit(
                                t("qa.faqpick.use"), "qa.ticket.use_entry", ticket=ticket.id, entry=entry.key
                            )
                        ]
                    ),
                ],
                style="emphasis",
                spacing="Medium",
            )
        )
    body.append(text_input("entry", t("qa.faqpick.by_id"), placeholder="A-101", maxLength=100))
    body.append(action_set([submit(t("qa.faqpick.use_id"), "qa.ticket.use_entry", ticket=ticket.id)]))
    return adaptive_card(body)


def _source_text(t: T, row: Phrasing) -> str:
    return t(f"qa.phr.source.{PhrasingSource(row.source).value}", ticket=row.ticket_id or "")


def phrasings_card(
    t: T,
    rows: Sequence[Phrasing],
    entries: dict[str, KbEntry],
    total: int,
    *,
    message: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """「言い換え候補」: every candidate ticked, so one press approves them all; untick to leave out."""
    body: list[Element] = [heading(t("qa.phr.title", count=total), size="Medium")]
    if message:
        body.append(text(message, color="Good", weight="Bolder"))
    if error:
        body.append(text(error, color="Attention", weight="Bolder"))
    if rows:
        body.append(text(t("qa.phr.explain"), isSubtle=True, size="Small"))
        for row in rows:
            entry = entries.get(row.entry_key)
            body.append(
                {
                    "type": "Input.Toggle",
                    "id": f"p{row.id}",
                    "title": t(
                        "qa.phr.line",
                        text=_short(row.text, 80),
                        question=_short(entry.question if entry else "", 40),
                        id=row.entry_key,
                    ),
                    "value": "true",
                    "valueOn": "true",
                    "valueOff": "false",
                    "wrap": True,
                    "spacing": "Medium",
                }
            )
            body.append(text(_source_text(t, row), isSubtle=True, size="Small", spacing="None"))
        ids = [row.id for row in rows]
        body.append(
            action_set(
                [
                    submit(t("qa.phr.approve"), "qa.phr.approve", style="positive", ids=ids),
                    submit(t("qa.phr.reject"), "qa.phr.reject", style="destructive", ids=ids),
                ]
            )
        )
        if total > len(rows):
            body.append(text(t("qa.phr.more", count=total - len(rows)), isSubtle=True, size="Small"))
    else:
        body.append(text(t("qa.phr.empty")))
    body += [
        text(t("qa.phr.add_heading"), weight="Bolder", spacing="Large"),
        text_input("entry", t("qa.phr.add_entry"), placeholder="A-101", maxLength=100),
        text_input("texts", t("qa.phr.add_texts"), multiline=True, maxLength=5000),
        action_set([submit(t("qa.phr.add"), "qa.phr.add")]),
    ]
    return adaptive_card(body)


# --- signals ------------------------------------------------------------------------------------------
async def learn_from_feedback(
    session: AsyncSession, asked: QueryLog, key: str, helpful: bool, *, now: datetime
) -> None:
    """役に立った on ``key`` after 役に立たなかった on another entry for the same question: the question is
    a candidate phrasing of ``key``. 役に立たなかった on an entry the asker picked takes the pick back."""
    if not helpful:
        await phrasings.withdraw(session, key, asked.query)
        return
    earlier = await session.scalar(
        select(Feedback.id)
        .where(Feedback.query_id == asked.id, Feedback.helpful.is_(False), Feedback.entry_key != key)
        .limit(1)
    )
    if earlier is not None:
        await phrasings.propose(session, key, asked.query, PhrasingSource.FEEDBACK, now=now)


async def _published(session: AsyncSession, key: str) -> KbEntry | None:
    entry = await store.get_entry(session, key) if key else None
    return entry if entry is not None and EntryStatus(entry.status) == EntryStatus.PUBLISHED else None


@router.action("qa.pick")
async def on_pick(turn: Turn, data: dict[str, Any]) -> None:
    """A choice in 「どれが近いですか?」: that entry's answer card; the question counts as answered by
    choice (not among the questions the bot could not answer) and becomes a candidate phrasing."""
    from dialogs.qa.answers import on_show

    qid = data.get("qid") if isinstance(data.get("qid"), int) else None
    asked = await turn.session.get(QueryLog, qid) if qid is not None else None
    entry = await _published(turn.session, str(data.get("entry") or ""))
    if entry is not None and asked is not None:
        asked.picked_key = entry.key
        await phrasings.propose(
            turn.session, entry.key, asked.query, PhrasingSource.CHOICE, now=turn.services.clock()
        )
    await on_show(turn, data)


# --- 「既存のFAQで回答」 on a ticket ----------------------------------------------------------------------
@router.action("qa.ticket.faq", role=Role.AUTHOR)
async def on_pick_faq(turn: Turn, data: dict[str, Any]) -> None:
    ticket = await ticket_for(turn, data)
    if ticket is None:
        return
    index = await knowledge_base(turn.services).index(turn.session)
    hits = await asyncio.to_thread(index.search, ticket.question, PICKS)  # embeds the question
    rows = await store.entries_by_key(turn.session, [h.id for h in hits])
    entries = [r for h in hits if (r := rows.get(h.id)) is not None]
    await turn.reply_card(
        faq_pick_card(turn.t, ticket, entries), text=turn.t("qa.faqpick.title", id=ticket.id)
    )


@router.action("qa.ticket.use_entry", role=Role.AUTHOR)
async def on_use_entry(turn: Turn, data: dict[str, Any]) -> None:
    ticket = await ticket_for(turn, data)
    if ticket is None:
        return
    if TicketStatus(ticket.status) not in (TicketStatus.OPEN, TicketStatus.CLAIMED):
        await turn.reply(turn.t("qa.ticket.already_answered", id=ticket.id))
        return
    key = str(data.get("entry") or "").strip()
    entry = await _published(turn.session, key)
    if entry is None:
        await turn.reply(turn.t("qa.faqpick.no_entry", id=key))
        return
    answer = translator(ticket.locale)("qa.faqpick.answer", question=entry.question, answer=entry.answer)
    if entry.url:
        answer += f"\n\n{entry.url}"
    ticket.entry_key = entry.key
    await record_answer(turn, ticket, answer, {})
    row = await phrasings.propose(
        turn.session,
        entry.key,
        ticket.question,
        PhrasingSource.TICKET,
        now=turn.services.clock(),
        ticket_id=ticket.id,
    )
    done = turn.t("qa.faqpick.done", id=ticket.id, question=entry.question)
    if row is not None:
        done += turn.t("qa.faqpick.candidate")
    log.info(
        "ticket %d answered with entry %s (candidate phrasing: %s)", ticket.id, entry.key, row is not None
    )
    card = faq_pick_card(turn.t, ticket, [], done=done)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=done)


# --- 「言い換え候補」 ---------------------------------------------------------------------------------------
async def _show_candidates(
    turn: Turn, *, message: str | None = None, error: str | None = None, replace: bool = False
) -> None:
    rows = await phrasings.candidates(turn.session, SHOWN)
    total = await phrasings.count_candidates(turn.session)
    entries = await store.entries_by_key(turn.session, [r.entry_key for r in rows])
    card = phrasings_card(turn.t, rows, entries, total, message=message, error=error)
    if replace and turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=turn.t("qa.phr.title", count=total))


@router.command(
    "言い換え候補",
    "別の聞き方",
    "phrasings",
    role=Role.ADMIN,
    help_key="qa.cmd.phrasings",
    usage="言い換え候補",
)
async def on_candidates(turn: Turn, args: str) -> None:
    await _show_candidates(turn)


@router.action("qa.phr.open", role=Role.ADMIN)
async def on_open_candidates(turn: Turn, data: dict[str, Any]) -> None:
    """「言い換え候補を確認」 on 「FAQ一覧」."""
    await _show_candidates(turn)


def _ticked(data: dict[str, Any]) -> list[int]:
    ids = data.get("ids")
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and str(data.get(f"p{i}", "")).lower() == "true"]


async def _decide(turn: Turn, data: dict[str, Any], *, approve: bool) -> None:
    ids = _ticked(data)
    if not ids:
        await _show_candidates(turn, error=turn.t("qa.phr.none_selected"), replace=True)
        return
    now, actor = turn.services.clock(), turn.user.name
    if approve:
        rows = await phrasings.approve(turn.session, ids, actor=actor, now=now)
        message = turn.t("qa.phr.approved", count=len(rows))
    else:
        rows = await phrasings.reject(turn.session, ids, actor=actor, now=now)
        message = turn.t("qa.phr.rejected", count=len(rows))
    await _show_candidates(turn, message=message, replace=True)


@router.action("qa.phr.approve", role=Role.ADMIN)
async def on_approve(turn: Turn, data: dict[str, Any]) -> None:
    await _decide(turn, data, approve=True)


@router.action("qa.phr.reject", role=Role.ADMIN)
async def on_reject(turn: Turn, data: dict[str, Any]) -> None:
    await _decide(turn, data, approve=False)


@router.action("qa.phr.add", role=Role.ADMIN)
async def on_add(turn: Turn, data: dict[str, Any]) -> None:
    """Phrasings the DX division typed for one entry: approved at once."""
    key = str(data.get("entry") or "").strip()
    texts = [line for line in str(data.get("texts") or "").splitlines() if line.strip()]
    if not key or not texts:
        await _show_candidates(turn, error=turn.t("qa.phr.add_missing"), replace=True)
        return
    if any(len(phrasings.clean(line)) > phrasings.PHRASING_MAX for line in texts):
        await _show_candidates(
            turn, error=turn.t("qa.phr.too_long", limit=phrasings.PHRASING_MAX), replace=True
        )
        return
    entry = await _published(turn.session, key)
    if entry is None:
        await _show_candidates(turn, error=turn.t("qa.faqpick.no_entry", id=key), replace=True)
        return
    rows = await phrasings.add_typed(
        turn.session, entry.key, texts, actor=turn.user.name, now=turn.services.clock()
    )
    message = (
        turn.t("qa.phr.added", question=entry.question, count=len(rows))
        if rows
        else turn.t("qa.phr.added_none")
    )
    await _show_candidates(turn, message=message, replace=True)
