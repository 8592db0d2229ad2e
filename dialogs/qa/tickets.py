"""Questions the knowledge base could not answer, passed to the DX division's inquiry channel.

States: 未対応 (open) → 対応中 (claimed) → 回答済み (answered) → クローズ (closed). The card in the
channel is rebuilt from the row and replaced in place at every step; the answer goes to the asker's
1:1 chat; 「ナレッジに追加」 drafts a knowledge base entry from it. Every proactive message goes
through the delivery engine (kind "qa", ref_id = ticket id): the channel card is purpose "card"
(updated with ``update_delivered``), the answer "answer". The engine reports progress back
(``on_delivery_progress``) and the card then says whether the answer reached the asker.
A background job posts what waited for the inquiry channel and reminds the channel of tickets
open past two business days.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Message, Role, SendError, Services, Turn
from dialogs.engines.delivery import (
    DeliveryItem,
    DeliveryState,
    Recipient,
    deliveries,
    enqueue,
    retry_failed,
    update_delivered,
)
from dialogs.kit.business_days import JST, add_business_days, is_business_day
from dialogs.kit.router import Router
from dialogs.qa import outbox, store
from dialogs.qa.cards import (
    T,
    answer_to_asker_card,
    entry_form,
    reminder_text,
    suggestion_channel_card,
    ticket_card,
    translator,
)
from dialogs.qa.outbox import BOX_KIND, KIND
from storage.models import (
    ConversationRef,
    DivisionRole,
    DivisionRoleKind,
    EntryStatus,
    Person,
    Suggestion,
    TeamsAccount,
    Ticket,
    TicketStatus,
)

router = Router("qa")

log = logging.getLogger(__name__)
OVERDUE_BUSINESS_DAYS = 2
REMIND_FROM_HOUR = 9  # JST; reminders wait for the working day to start
JOB_SECONDS = 300.0
DUPLICATE_WINDOW = timedelta(minutes=10)
CARD, ANSWER, CLOSED = "card", "answer", "closed"  # delivery purposes of one ticket
NOTICE_REF = 0  # delivery ref_id of channel notices not about one ticket


def desk_t(services: Services) -> T:
    """The inquiry channel's language: the service default (the DX division works in one)."""
    return translator(services.settings.locale)


# --- opening ----------------------------------------------------------------------------------------
async def open_ticket(turn: Turn, question: str, qid: int | None) -> tuple[Ticket, bool, bool]:
    """Create a ticket for the sender and post it to the inquiry channel.

    Returns (ticket, posted to the channel, duplicate of one sent minutes ago)."""
    session, services = turn.session, turn.services
    now = services.clock()
    recent = await session.scalar(
        select(Ticket)
        .where(
            Ticket.asker_user_id == turn.user.id,
            Ticket.question == question,
            Ticket.created_at >= now - DUPLICATE_WINDOW,
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    if recent is not None:
        return recent, recent.channel_conversation_id is not None, True
    ref = await session.scalar(
        select(ConversationRef).where(ConversationRef.conversation_id == turn.conversation.id)
    )
    ticket = Ticket(
        question=question,
        status=TicketStatus.OPEN,
        asker_aad_object_id=turn.user.aad_object_id,
        asker_user_id=turn.user.id,
        asker_name=turn.user.name,
        asker_person_id=turn.identity.person_id,
        service_url=ref.service_url if ref else "",
        tenant_id=turn.conversation.tenant_id or (ref.tenant_id if ref else None),
        bot_id=ref.bot_id if ref else None,
        locale=turn.locale,
        query_id=qid,
        created_at=now,
    )
    session.add(ticket)
    await session.flush()
    desk = await outbox.desk_address(session)
    posted = False
    if desk is not None:
        posted = await post_ticket(services, session, ticket)
    else:
        await notify_admins_desk_missing(services, session)
    log.info("ticket %d opened (posted: %s)", ticket.id, posted)
    return ticket, posted, False


async def post_ticket(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Queue the ticket's card for the inquiry channel; False if none is set yet."""
    t = desk_t(services)
    message = Message(text=t("qa.ticket.preview", id=ticket.id), card=ticket_card(t, ticket))
    if not await outbox.to_desk(session, KIND, ticket.id, message, purpose=CARD, now=services.clock()):
        return False
    ticket.channel_conversation_id = await outbox.desk_conversation_id(session)
    return True


async def refresh_card(services: Services, session: AsyncSession, ticket: Ticket) -> None:
    """Replace the ticket's card in the channel with its current state (post it if it never was)."""
    if not ticket.channel_conversation_id:
        await post_ticket(services, session, ticket)
        return
    card = ticket_card(desk_t(services), ticket)
    now = services.clock()
    # A new revision per change; the same content at the same moment is one update, not two.
    digest = hashlib.sha1(json.dumps(card, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:10]
    await update_delivered(
        session,
        KIND,
        ticket.id,
        lambda _row: Message(card=card),
        revision=f"{now:%Y%m%dT%H%M%S%f}-{digest}",
        purposes=(CARD,),
        now=now,
    )


async def notify_admins_desk_missing(services: Services, session: AsyncSession) -> int:
    """Tell the DX division's admins, at most once a day each, how to set the inquiry channel."""
    today = services.clock().astimezone(JST).date().isoformat()
    emails = set(services.settings.admins)
    emails |= set(
        await session.scalars(
            select(Person.email)
            .join(DivisionRole, DivisionRole.person_id == Person.id)
            .where(DivisionRole.role == DivisionRoleKind.ADMIN, DivisionRole.revoked_at.is_(None))
        )
    )
    if not emails:
        return 0
    accounts = await session.scalars(select(TeamsAccount).where(TeamsAccount.email.in_(sorted(emails))))
    items = [
        DeliveryItem(
            Recipient(aad_object_id=account.aad_object_id),
            Message(text=translator(account.locale or services.settings.locale)("qa.desk.missing_admin")),
            purpose=f"desk-missing-{today}",  # the key makes it once a day
        )
        for account in accounts
    ]
    return await enqueue(session, KIND, NOTICE_REF, items, now=services.clock())


# --- the channel card's buttons -----------------------------------------------------------------
async def ticket_for(turn: Turn, data: dict[str, Any]) -> Ticket | None:
    """The ticket a button names (``{"ticket": 12}``), or None after saying it is gone."""
    raw = data.get("ticket")
    ticket = await turn.session.get(Ticket, raw) if isinstance(raw, int) else None
    if ticket is None:
        await turn.reply(turn.t("qa.ticket.missing"))
    return ticket


async def refresh_copy(turn: Turn, ticket: Ticket, data: dict[str, Any]) -> None:
    """Pressed on a copy opened from 「問い合わせ一覧」 (not in the channel): replace that copy too;
    ``refresh_card`` already takes care of the channel's card."""
    if data.get("copy") is True and turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, ticket_card(turn.t, ticket, copy=True))


@router.action("qa.ticket.claim", role=Role.AUTHOR)
async def on_claim(turn: Turn, data: dict[str, Any]) -> None:
    ticket = await ticket_for(turn, data)
    if ticket is None:
        return
    status = TicketStatus(ticket.status)
    if status == TicketStatus.OPEN:
        ticket.status = TicketStatus.CLAIMED
        ticket.assignee_name = turn.user.name
        ticket.assignee_aad_object_id = turn.user.aad_object_id
        ticket.claimed_at = turn.services.clock()
    elif ticket.assignee_aad_object_id != turn.user.aad_object_id:
        await turn.reply(
            turn.t(
                "qa.ticket.not_open",
                id=ticket.id,
                status=turn.t(f"qa.ticket.status.{status.value}"),
                name=ticket.assignee_name or "",
            )
        )
    await refresh_card(turn.services, turn.session, ticket)
    await refresh_copy(turn, ticket, data)


@router.action("qa.ticket.answer", role=Role.AUTHOR)
async def on_answer(turn: Turn, data: dict[str, Any]) -> None:
    ticket = await ticket_for(turn, data)
    if ticket is None:
        return
    answer = str(data.get("answer") or "").strip()
    status = TicketStatus(ticket.status)
    if status not in (TicketStatus.OPEN, TicketStatus.CLAIMED):
        await turn.reply(turn.t("qa.ticket.already_answered", id=ticket.id))
        await refresh_card(turn.services, turn.session, ticket)
        await refresh_copy(turn, ticket, data)
        return
    if not answer:
        await turn.reply(turn.t("qa.ticket.answer_empty", id=ticket.id))
        return
    now = turn.services.clock()
    ticket.answer = answer
    ticket.answered_by = turn.user.name
    ticket.answered_at = now
    ticket.status = TicketStatus.ANSWERED
    if not ticket.assignee_name:
        ticket.assignee_name = turn.user.name
        ticket.assignee_aad_object_id = turn.user.aad_object_id
        ticket.claimed_at = now
    queued = await deliver_answer(turn.services, turn.session, ticket)
    await refresh_card(turn.services, turn.session, ticket)
    await refresh_copy(turn, ticket, data)
    if not queued:
        await turn.reply(turn.t("qa.ticket.not_delivered_reply", id=ticket.id))


async def deliver_answer(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Queue the answer for the asker's 1:1 chat; False if their chat could not even be opened."""
    t = translator(ticket.locale)
    message = Message(text=t("qa.reply.preview", id=ticket.id), card=answer_to_asker_card(t, ticket))
    ticket.answer_delivered_at = None
    ticket.answer_delivery_error = None
    try:
        await outbox.to_asker(services, session, ticket, message, purpose=ANSWER)
    except SendError as exc:
        ticket.answer_delivery_error = (exc.reason or str(exc.status))[:200]
        log.warning("answer to ticket %d not queued: %s", ticket.id, ticket.answer_delivery_error)
        return False
    return True


@router.action("qa.ticket.resend", role=Role.AUTHOR)
async def on_resend(turn: Turn, data: dict[str, Any]) -> None:
    """再送する: the answer did not reach the asker (blocked, uninstalled, Teams down); try again."""
    ticket = await ticket_for(turn, data)
    if ticket is None or not ticket.answer or ticket.answer_delivered_at is not None:
        return
    again = await retry_failed(turn.session, KIND, ticket.id, purposes=(ANSWER,), now=turn.services.clock())
    if again == 0:
        await deliver_answer(turn.services, turn.session, ticket)
    ticket.answer_delivery_error = None
    await refresh_card(turn.services, turn.session, ticket)
    await refresh_copy(turn, ticket, data)


async def on_delivery_progress(services: Services, ref_ids: set[int]) -> None:
    """The delivery engine reports: note where the answer got to, and say so on the channel card."""
    async with services.sessionmaker() as session, session.begin():
        for ref_id in sorted(ref_ids):
            ticket = await session.get(Ticket, ref_id) if ref_id != NOTICE_REF else None
            if ticket is None:
                continue
            changed = False
            for row in await deliveries(session, KIND, ref_id, purposes=(CARD, ANSWER)):
                state = DeliveryState(row.state)
                if row.purpose == CARD and state == DeliveryState.DELIVERED:
                    ticket.channel_activity_id = row.activity_id
                elif row.purpose == ANSWER and state == DeliveryState.DELIVERED:
                    if ticket.answer_delivered_at is None:
                        ticket.answer_delivered_at = row.delivered_at or services.clock()
                        ticket.answer_delivery_error = None
                        changed = True
                elif row.purpose == ANSWER and state in (DeliveryState.FAILED, DeliveryState.UNREACHABLE):
                    error = (row.error or state.value)[:200]
                    if ticket.answer_delivery_error != error:
                        ticket.answer_delivery_error = error
                        changed = True
            if changed:
                await refresh_card(services, session, ticket)


@router.action("qa.ticket.close", role=Role.AUTHOR)
async def on_close(turn: Turn, data: dict[str, Any]) -> None:
    ticket = await ticket_for(turn, data)
    if ticket is None:
        return
    if TicketStatus(ticket.status) != TicketStatus.CLOSED:
        unanswered = ticket.answer is None
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = turn.services.clock()
        if unanswered:
            t = translator(ticket.locale)
            try:
                await outbox.to_asker(
                    turn.services,
                    turn.session,
                    ticket,
                    Message(text=t("qa.reply.closed", id=ticket.id)),
                    purpose=CLOSED,
                )
            except SendError as exc:
                log.info("close notice for ticket %d not queued: %s", ticket.id, exc.reason or exc.status)
    await refresh_card(turn.services, turn.session, ticket)
    await refresh_copy(turn, ticket, data)


@router.action("qa.ticket.to_kb", role=Role.ADMIN)
async def on_to_knowledge(turn: Turn, data: dict[str, Any]) -> None:
    """「ナレッジに追加」: a draft entry from the question and its answer, opened for editing."""
    ticket = await ticket_for(turn, data)
    if ticket is None:
        return
    if not ticket.answer:
        await turn.reply(turn.t("qa.ticket.no_answer_yet", id=ticket.id))
        return
    entry = await store.get_entry(turn.session, ticket.entry_key) if ticket.entry_key else None
    if entry is None:
        key = await store.next_free_key(turn.session, f"ticket-{ticket.id}")
        entry, _ = await store.upsert_entry(
            turn.session,
            store.EntryInput(
                key=key,
                question=ticket.question[:500],
                answer=ticket.answer,
                owner=ticket.answered_by,
                status=EntryStatus.DRAFT,
            ),
            actor=turn.user.name,
            now=turn.services.clock(),
            source_ticket_id=ticket.id,
        )
        ticket.entry_key = entry.key
        await refresh_card(turn.services, turn.session, ticket)
        await refresh_copy(turn, ticket, data)
    await turn.reply_card(
        entry_form(turn.t, entry, ticket_id=ticket.id), text=turn.t("qa.form.edit_title", id=entry.key)
    )


# --- the inquiry channel ----------------------------------------------------------------------------
@router.command(
    "ここを問い合わせ窓口にする",
    "set inquiry channel",
    role=Role.ADMIN,
    help_key="qa.cmd.desk",
    scopes=("channel", "groupChat"),
    scope_hint="qa.desk.not_personal",
)
async def on_set_desk(turn: Turn, args: str) -> None:
    await outbox.set_desk(turn.session, turn.conversation.id, turn.services.clock(), turn.user.name)
    await turn.session.flush()
    posted = await post_pending(turn.services, turn.session)
    await turn.reply(turn.t("qa.desk.set", pending=posted))


async def post_pending(services: Services, session: AsyncSession, *, suggestions: bool = True) -> int:
    """Queue for the inquiry channel the tickets (and suggestions) that waited for one."""
    if await outbox.desk_address(session) is None:
        return 0
    posted = 0
    waiting = await session.scalars(
        select(Ticket)
        .where(Ticket.channel_conversation_id.is_(None), Ticket.status != TicketStatus.CLOSED)
        .order_by(Ticket.id)
    )
    for ticket in list(waiting):
        if await post_ticket(services, session, ticket):
            posted += 1
    if suggestions:
        posted += await post_suggestions(services, session)
    return posted


async def post_suggestions(services: Services, session: AsyncSession) -> int:
    """Queue the suggestions that arrived since the last round, in a shuffled batch.

    Posting them here, not while the sender is in the turn, keeps the time a post appears (and the
    time in the delivery rows) from pointing at the moment someone was active."""
    pending = list(await session.scalars(select(Suggestion).where(Suggestion.posted.is_(False))))
    if not pending:
        return 0
    random.shuffle(pending)
    t = desk_t(services)
    posted = 0
    for suggestion in pending:
        message = Message(
            text=t("qa.box.channel_title"),
            card=suggestion_channel_card(t, suggestion.kind, suggestion.body, suggestion.received_on),
        )
        if not await outbox.to_desk(
            session, BOX_KIND, suggestion.id, message, purpose="channel", now=services.clock()
        ):
            break
        suggestion.posted = True
        posted += 1
    return posted


# --- background: reminders and batches ------------------------------------------------------------
def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Open or in progress past two business days after the day it arrived (JST)."""
    if TicketStatus(ticket.status) not in (TicketStatus.OPEN, TicketStatus.CLAIMED):
        return False
    received = ticket.created_at.astimezone(JST).date()
    return now.astimezone(JST).date() > add_business_days(received, OVERDUE_BUSINESS_DAYS)


async def remind_overdue(services: Services, session: AsyncSession) -> int:
    """Post one reminder listing the overdue tickets, at most once a business day each."""
    now = services.clock()
    local = now.astimezone(JST)
    if not is_business_day(local.date()) or local.hour < REMIND_FROM_HOUR:
        return 0
    desk = await outbox.desk_address(session)
    if desk is None:
        return 0
    candidates = await session.scalars(
        select(Ticket).where(Ticket.status.in_([TicketStatus.OPEN, TicketStatus.CLAIMED])).order_by(Ticket.id)
    )
    due = [
        tk
        for tk in candidates
        if is_overdue(tk, now) and (tk.last_reminded_on is None or tk.last_reminded_on < local.date())
    ]
    if not due:
        return 0
    t = desk_t(services)
    await enqueue(
        session,
        KIND,
        NOTICE_REF,
        [
            DeliveryItem(
                Recipient(address=desk), Message(text=reminder_text(t, due)), f"remind-{local:%Y%m%d}"
            )
        ],
        now=now,
    )
    for tk in due:
        tk.last_reminded_on = local.date()
    return len(due)


async def housekeeping(services: Services) -> None:
    async with services.sessionmaker() as session, session.begin():
        await post_pending(services, session)
        await remind_overdue(services, session)


async def run_housekeeping(services: Services, stop: asyncio.Event) -> None:
    """Background job: every few minutes, post what waited (and the suggestion batch) and remind."""
    while not stop.is_set():
        try:
            await housekeeping(services)
        except Exception as exc:  # keep the loop alive; the next round retries
            log.warning("qa housekeeping failed: %s", type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), timeout=JOB_SECONDS)
        except TimeoutError:
            continue
