"""Lists of tickets: 「問い合わせ一覧」 for the DX division, 「自分の問い合わせ」 for the asker.

The DX division sees every ticket not yet closed, oldest first: state, who asked and from which
section, how many business days it has waited, the question and who is on it. 「開く」 shows that
ticket's channel card, with the same buttons, in the conversation the list is in (a press there
changes the channel's card as well). The asker sees only the tickets they asked themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Role, Turn
from dialogs.engines.delivery.receipts import latest_read_states
from dialogs.kit.business_days import JST, business_days_between
from dialogs.kit.router import Router
from dialogs.qa import outbox
from dialogs.qa.cards import (
    TicketLine,
    answer_to_asker_card,
    my_tickets_card,
    open_tickets_card,
    ticket_card,
)
from dialogs.qa.tickets import admin_accounts, is_overdue, ticket_for, ticket_messages, unrouted_tickets
from storage.models import Assignment, Section, Ticket, TicketStatus

router = Router("qa")

OPEN_LIMIT = 20  # an Adaptive Card in Teams holds about 28 KB; the rest is counted, not shown
MINE_LIMIT = 10
NOT_CLOSED = (TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.ANSWERED)


async def asker_sections(session: AsyncSession, tickets: Sequence[Ticket]) -> dict[int, str]:
    """Ticket id → the section(s) its asker held as a promoter on the day they asked (JST).

    Only promoters are in the roster with a section; other staff have none to show."""
    people = {tk.asker_person_id for tk in tickets if tk.asker_person_id is not None}
    if not people:
        return {}
    rows = (
        await session.execute(
            select(Assignment.person_id, Section.name, Assignment.valid_from, Assignment.valid_to)
            .join(Section, Section.id == Assignment.section_id)
            .where(Assignment.person_id.in_(sorted(people)))
            .order_by(Section.sort_order, Section.id)
        )
    ).all()
    result: dict[int, str] = {}
    for tk in tickets:
        day = tk.created_at.astimezone(JST).date()
        names = [
            name
            for person, name, since, until in rows
            if person == tk.asker_person_id and since <= day and (until is None or until > day)
        ]
        if names:
            result[tk.id] = "・".join(dict.fromkeys(names))
    return result


async def open_tickets(turn: Turn) -> dict[str, Any]:
    """The 「問い合わせ一覧」 card as it is now."""
    session, now = turn.session, turn.services.clock()
    # The whole backlog (tens of rows, as on the dashboard), so the counts are right beyond the card.
    tickets = list(
        await session.scalars(
            select(Ticket).where(Ticket.status.in_(NOT_CLOSED)).order_by(Ticket.created_at, Ticket.id)
        )
    )
    counts = Counter(TicketStatus(tk.status) for tk in tickets)
    overdue = {tk.id for tk in tickets if is_overdue(tk, now)}
    shown = tickets[:OPEN_LIMIT]
    sections = await asker_sections(session, shown)
    today = now.astimezone(JST).date()
    answered = [tk.id for tk in shown if tk.status == TicketStatus.ANSWERED]
    read = await latest_read_states(session, outbox.KIND, answered, "answer")
    lines = [
        TicketLine(
            tk,
            sections.get(tk.id),
            business_days_between(tk.created_at.astimezone(JST).date(), today),
            tk.id in overdue,
            read.get(tk.id),
        )
        for tk in shown
    ]
    return open_tickets_card(turn.t, lines, counts, overdue=len(overdue), gaps=await setup_gaps(turn))


async def setup_gaps(turn: Turn) -> list[str]:
    """What the DX division should fix in the set-up, derived from where tickets can go now: no
    inquiry channel (tickets go to the admins' own chats), or no admin the bot can reach either."""
    if await outbox.desk_address(turn.session) is not None:
        return []
    gaps = [turn.t("qa.gap.no_desk")]
    kept = await unrouted_tickets(turn.session)
    if kept or not await admin_accounts(turn.services, turn.session):
        gaps.append(turn.t("qa.gap.no_admin", n=kept))
    return gaps


@router.command(
    "問い合わせ一覧",
    "問合せ一覧",
    "お問い合わせ一覧",
    "tickets",
    role=Role.AUTHOR,
    help_key="qa.cmd.tickets",
    usage="問い合わせ一覧",
)
async def on_list(turn: Turn, args: str) -> None:
    await turn.reply_card(await open_tickets(turn), text=turn.t("qa.tickets.title"))


@router.action("qa.tickets.refresh", role=Role.AUTHOR)
async def on_refresh(turn: Turn, data: dict[str, Any]) -> None:
    card = await open_tickets(turn)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=turn.t("qa.tickets.title"))


@router.action("qa.ticket.show", role=Role.AUTHOR)
async def on_show(turn: Turn, data: dict[str, Any]) -> None:
    """「開く」 on the list: the ticket's card, with the channel card's buttons, here."""
    ticket = await ticket_for(turn, data)
    if ticket is not None:
        messages = await ticket_messages(turn.session, ticket.id)
        await turn.reply_card(
            ticket_card(turn.t, ticket, messages, copy=True), text=turn.t("qa.ticket.title", id=ticket.id)
        )


# --- the asker's own ---------------------------------------------------------------------------
def asked_by(turn: Turn) -> ColumnElement[bool]:
    """Tickets the sender asked: by their Teams account id, or their Entra ID object id if known."""
    mine = [Ticket.asker_user_id == turn.user.id]
    if turn.user.aad_object_id:  # never compare with NULL: that would match every unknown asker
        mine.append(Ticket.asker_aad_object_id == turn.user.aad_object_id)
    return or_(*mine)


@router.command(
    "自分の問い合わせ",
    "私の問い合わせ",
    "わたしの問い合わせ",
    "my questions",
    "my tickets",
    help_key="qa.cmd.mine",
    usage="自分の問い合わせ",
    # A list of someone's questions is theirs: not for the other members of a channel or chat.
    scopes=("personal",),
    scope_hint="qa.mine.personal_only",
)
async def on_mine(turn: Turn, args: str) -> None:
    total = int(
        await turn.session.scalar(select(func.count()).select_from(Ticket).where(asked_by(turn))) or 0
    )
    tickets = list(
        await turn.session.scalars(
            select(Ticket)
            .where(asked_by(turn))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(MINE_LIMIT)
        )
    )
    await turn.reply_card(my_tickets_card(turn.t, tickets, total), text=turn.t("qa.mine.title"))


@router.action("qa.mine.answer")
async def on_my_answer(turn: Turn, data: dict[str, Any]) -> None:
    """「回答を見る」: the answer again, as it was delivered; only to the one who asked."""
    raw = data.get("ticket")
    ticket = (
        await turn.session.scalar(select(Ticket).where(Ticket.id == raw, asked_by(turn)))
        if isinstance(raw, int)
        else None
    )
    if ticket is None or not ticket.answer:
        await turn.reply(turn.t("qa.ticket.missing"))
        return
    messages = await ticket_messages(turn.session, ticket.id)
    await turn.reply_card(
        answer_to_asker_card(turn.t, ticket, messages), text=turn.t("qa.reply.preview", id=ticket.id)
    )
