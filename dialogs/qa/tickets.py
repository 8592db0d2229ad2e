"""Questions the knowledge base could not answer, passed to the DX division.

States: 未対応 (open) → 対応中 (claimed) → 回答済み (answered) → クローズ (closed); the asker's
返信する on an answer brings the ticket back to 対応中 (or 未対応 if nobody took it). The ticket
card goes to the inquiry channel, or, while none is set, to every DX admin's own chat (with how to
set one); it is rebuilt from the row and its message log and replaced in place at every step. The
answer goes to the asker's 1:1 chat with 返信する; 「ナレッジに追加」 drafts a knowledge base entry.
Every proactive message goes through the delivery engine (kind "qa", ref_id = ticket id): the ticket
card is purpose "card" (updated with ``update_delivered``), the n-th answer "answer" / "answer-n",
担当する's notice to the asker "claimed", a reply's notice to the division "reply-<message id>".
The engine reports progress back (``on_delivery_progress``) and the card then says whether the latest
answer reached the asker. A background job posts what waited for the inquiry channel (or for an
admin to become reachable) and reminds the channel of tickets open past two business days.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Message, Role, SendError, Services, Turn
from dialogs.engines.delivery import (
    Delivery,
    DeliveryItem,
    DeliveryOp,
    DeliveryState,
    Recipient,
    deliveries,
    enqueue,
    retry_failed,
    update_delivered,
)
from dialogs.kit.business_days import JST, add_business_days, is_business_day
from dialogs.kit.identity import tenant_trusted
from dialogs.kit.router import Router
from dialogs.qa import outbox, store
from dialogs.qa.cards import (
    REPLY_MAX,
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
    Suggestion,
    TeamsAccount,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
)

router = Router("qa")

log = logging.getLogger(__name__)
OVERDUE_BUSINESS_DAYS = 2
REMIND_FROM_HOUR = 9  # JST; reminders wait for the working day to start
JOB_SECONDS = 300.0
DUPLICATE_WINDOW = timedelta(minutes=10)
CARD, ANSWER, CLOSED, CLAIMED = "card", "answer", "closed", "claimed"  # delivery purposes of one ticket
NOTICE_REF = 0  # delivery ref_id of channel notices not about one ticket


def desk_t(services: Services) -> T:
    """The inquiry channel's language: the service default (the DX division works in one)."""
    return translator(services.settings.locale)


# --- opening ----------------------------------------------------------------------------------------
async def open_ticket(turn: Turn, question: str, qid: int | None) -> tuple[Ticket, bool, bool]:
    """Create a ticket for the sender and post it to the inquiry channel.

    Returns (ticket, sent to the DX division, duplicate of one sent minutes ago)."""
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
        return recent, await has_card(session, recent), True
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
    sent = await route_ticket(services, session, ticket)
    log.info("ticket %d opened (sent to the DX division: %s)", ticket.id, sent)
    return ticket, sent, False


async def ticket_messages(session: AsyncSession, ticket_id: int) -> list[TicketMessage]:
    """The exchange after the question (answers and replies), oldest first."""
    return list(
        await session.scalars(
            select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
        )
    )


def _card_sends() -> ColumnElement[bool]:
    return and_(Delivery.kind == KIND, Delivery.purpose == CARD, Delivery.op == DeliveryOp.SEND.value)


async def has_card(session: AsyncSession, ticket: Ticket) -> bool:
    """Whether the ticket's card was queued for anyone in the DX division (channel or admins)."""
    return bool(await session.scalar(select(exists().where(_card_sends(), Delivery.ref_id == ticket.id))))


async def route_ticket(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Send the ticket's card to the inquiry channel or, while none is set, to the admins' own chats.

    False when neither is possible (no channel, no admin the bot can reach): the ticket is kept and
    the housekeeping job tries again; 「問い合わせ一覧」 shows the admins how many wait."""
    if await post_ticket(services, session, ticket):
        return True
    sent = await send_to_admins(services, session, ticket)
    if not sent:
        log.warning("ticket %d kept: no inquiry channel and no admin reachable in Teams", ticket.id)
    return sent


async def post_ticket(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Queue the ticket's card for the inquiry channel; False if none is set yet."""
    t = desk_t(services)
    card = ticket_card(t, ticket, await ticket_messages(session, ticket.id))
    message = Message(text=t("qa.ticket.preview", id=ticket.id), card=card)
    if not await outbox.to_desk(session, KIND, ticket.id, message, purpose=CARD, now=services.clock()):
        return False
    ticket.channel_conversation_id = await outbox.desk_conversation_id(session)
    return True


async def admin_accounts(services: Services, session: AsyncSession) -> list[TeamsAccount]:
    """The DX admins the bot can write to (their 1:1 chat is known): Teams accounts linked to a roster
    admin, or signed in with a DXBOT_ADMINS UPN, in a tenant the bot serves. Never matched by email."""
    wanted: ColumnElement[bool] = TeamsAccount.person_id.in_(
        select(DivisionRole.person_id).where(
            DivisionRole.role == DivisionRoleKind.ADMIN, DivisionRole.revoked_at.is_(None)
        )
    )
    if services.settings.admins:
        wanted = wanted | TeamsAccount.upn.in_(sorted(services.settings.admins))
    accounts = await session.scalars(
        select(TeamsAccount)
        .where(
            wanted,
            exists().where(
                ConversationRef.aad_object_id == TeamsAccount.aad_object_id,
                ConversationRef.conversation_type == "personal",
            ),
        )
        .order_by(TeamsAccount.aad_object_id)
    )
    return [a for a in accounts if tenant_trusted(services.settings, a.tenant_id)]


async def send_to_admins(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Queue the ticket's card for every reachable admin's 1:1 chat; False if there is none."""
    accounts = await admin_accounts(services, session)
    if not accounts:
        return False
    messages = await ticket_messages(session, ticket.id)
    items = []
    for account in accounts:
        t = translator(account.locale or services.settings.locale)
        card = ticket_card(t, ticket, messages, desk_missing=True)
        items.append(
            DeliveryItem(
                Recipient(aad_object_id=account.aad_object_id),
                Message(text=t("qa.ticket.preview", id=ticket.id), card=card),
                CARD,
            )
        )
    await enqueue(session, KIND, ticket.id, items, now=services.clock())
    return True


async def to_division(
    services: Services, session: AsyncSession, ref_id: int, key: str, purpose: str, **kw: Any
) -> None:
    """A short notice (``key`` in the catalog) where the DX division works: the inquiry channel, or
    the admins' own chats while none is set."""
    now = services.clock()
    t = desk_t(services)
    if await outbox.to_desk(session, KIND, ref_id, Message(text=t(key, **kw)), purpose=purpose, now=now):
        return
    items = [
        DeliveryItem(
            Recipient(aad_object_id=account.aad_object_id),
            Message(text=translator(account.locale or services.settings.locale)(key, **kw)),
            purpose,
        )
        for account in await admin_accounts(services, session)
    ]
    await enqueue(session, KIND, ref_id, items, now=now)


async def refresh_card(services: Services, session: AsyncSession, ticket: Ticket) -> None:
    """Replace every copy of the ticket's card (the channel's, the admins') with its current state;
    send it if it never went anywhere."""
    if not await has_card(session, ticket):
        await route_ticket(services, session, ticket)
        return
    await sync_delivery(services, session, ticket)
    messages = await ticket_messages(session, ticket.id)
    desk_missing = await outbox.desk_address(session) is None
    t = desk_t(services)
    card = ticket_card(t, ticket, messages)
    admin_card = ticket_card(t, ticket, messages, desk_missing=desk_missing)
    now = services.clock()
    # A new revision per change; the same content at the same moment is one update, not two.
    digest = hashlib.sha1(
        json.dumps([card, admin_card], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:10]

    def message_for(row: Delivery) -> Message:
        # Copies in an admin's own chat (aad:…) say how to set the channel while there is none.
        return Message(card=admin_card if row.recipient_key.startswith("aad:") else card)

    await update_delivered(
        session,
        KIND,
        ticket.id,
        message_for,
        revision=f"{now:%Y%m%dT%H%M%S%f}-{digest}",
        purposes=(CARD,),
        now=now,
    )


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
        messages = await ticket_messages(turn.session, ticket.id)
        await turn.update_card(turn.reply_to_id, ticket_card(turn.t, ticket, messages, copy=True))


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
        await tell_asker(
            turn.services, turn.session, ticket, "qa.reply.claimed", CLAIMED, name=ticket.assignee_name
        )
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
    await record_answer(turn, ticket, answer, data)


async def record_answer(turn: Turn, ticket: Ticket, answer: str, data: dict[str, Any]) -> None:
    """The DX division's answer joins the ticket (回答済み), goes to the asker and onto every card.
    Also used by 「既存のFAQで回答」, whose answer is an entry's."""
    now = turn.services.clock()
    turn.session.add(
        TicketMessage(
            ticket_id=ticket.id, author=TicketAuthor.DIVISION, author_name=turn.user.name, body=answer, at=now
        )
    )
    await turn.session.flush()
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


def answer_purpose(messages: list[TicketMessage]) -> str:
    """The delivery purpose of the latest answer: "answer" for the first, "answer-2" for the second …"""
    n = sum(1 for m in messages if TicketAuthor(m.author) == TicketAuthor.DIVISION)
    return ANSWER if n <= 1 else f"{ANSWER}-{n}"


async def tell_asker(
    services: Services, session: AsyncSession, ticket: Ticket, key: str, purpose: str, **kw: Any
) -> None:
    """A short notice in the asker's 1:1 chat (担当が決まった, クローズした); not sent if Teams refuses
    to open their chat (the card's delivery line covers answers, which matter more)."""
    t = translator(ticket.locale)
    try:
        await outbox.to_asker(
            services, session, ticket, Message(text=t(key, id=ticket.id, **kw)), purpose=purpose
        )
    except SendError as exc:
        log.info("%s notice for ticket %d not queued: %s", purpose, ticket.id, exc.reason or exc.status)


async def deliver_answer(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Queue the latest answer for the asker's 1:1 chat; False if their chat could not be opened."""
    t = translator(ticket.locale)
    messages = await ticket_messages(session, ticket.id)
    card = answer_to_asker_card(t, ticket, messages)
    message = Message(text=t("qa.reply.preview", id=ticket.id), card=card)
    ticket.answer_delivered_at = None
    ticket.answer_delivery_error = None
    try:
        await outbox.to_asker(services, session, ticket, message, purpose=answer_purpose(messages))
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
    purpose = answer_purpose(await ticket_messages(turn.session, ticket.id))
    again = await retry_failed(turn.session, KIND, ticket.id, purposes=(purpose,), now=turn.services.clock())
    if again == 0:
        await deliver_answer(turn.services, turn.session, ticket)
    ticket.answer_delivery_error = None
    await refresh_card(turn.services, turn.session, ticket)
    await refresh_copy(turn, ticket, data)


async def sync_delivery(services: Services, session: AsyncSession, ticket: Ticket) -> bool:
    """Bring the ticket's answer state in line with the delivery rows (the latest answer delivered,
    or why not) and note the channel card's activity id. True if the answer state changed.

    Every card refresh calls this first, so a card rebuilt in a turn that raced the engine's progress
    report (the asker replies a second after the answer arrived) still says what happened."""
    current = answer_purpose(await ticket_messages(session, ticket.id))
    changed = False
    for row in await deliveries(session, KIND, ticket.id, purposes=(CARD, current)):
        state = DeliveryState(row.state)
        if row.purpose == CARD:
            if state == DeliveryState.DELIVERED and row.recipient_key.startswith("conv:"):
                ticket.channel_activity_id = row.activity_id
        elif state == DeliveryState.DELIVERED:
            if ticket.answer_delivered_at is None:
                ticket.answer_delivered_at = row.delivered_at or services.clock()
                ticket.answer_delivery_error = None
                changed = True
        elif state in (DeliveryState.FAILED, DeliveryState.UNREACHABLE):
            error = (row.error or state.value)[:200]
            if ticket.answer_delivery_error != error:
                ticket.answer_delivery_error = error
                changed = True
    return changed


async def on_delivery_progress(services: Services, ref_ids: set[int]) -> None:
    """The delivery engine reports: note where the latest answer got to, and say so on the card."""
    async with services.sessionmaker() as session, session.begin():
        for ref_id in sorted(ref_ids):
            ticket = await session.get(Ticket, ref_id) if ref_id != NOTICE_REF else None
            if ticket is not None and await sync_delivery(services, session, ticket):
                await refresh_card(services, session, ticket)


# --- the asker's 返信する on an answer ---------------------------------------------------------------
def is_asker(ticket: Ticket, turn: Turn) -> bool:
    """The sender is the person who asked (their Entra id if both are known, else the Teams id)."""
    if ticket.asker_aad_object_id and turn.user.aad_object_id:
        return ticket.asker_aad_object_id == turn.user.aad_object_id
    return bool(ticket.asker_user_id) and ticket.asker_user_id == turn.user.id


@router.action("qa.ticket.reply")
async def on_reply(turn: Turn, data: dict[str, Any]) -> None:
    """返信する: the asker's follow-up joins the same ticket, which goes back to the DX division.

    Never searched in the knowledge base, so it is not counted as a question nobody answered."""
    raw = data.get("ticket")
    ticket = await turn.session.get(Ticket, raw) if isinstance(raw, int) else None
    if ticket is None or not is_asker(ticket, turn):
        if ticket is not None:
            log.warning("reply to ticket %d refused: the sender did not ask it", ticket.id)
        await turn.reply(turn.t("qa.followup.not_yours"))
        return
    body = str(data.get("reply") or "").strip()
    messages = await ticket_messages(turn.session, ticket.id)
    error = None
    if not body:
        error = turn.t("qa.followup.empty")
    elif len(body) > REPLY_MAX:
        error = turn.t("qa.followup.too_long", limit=REPLY_MAX)
    if error is not None:
        # The card again with the reply kept in its box, so nothing typed is lost.
        card = answer_to_asker_card(turn.t, ticket, messages, error=error, reply_value=body)
        if turn.reply_to_id:
            await turn.update_card(turn.reply_to_id, card)
        else:
            await turn.reply(error)
        return
    now = turn.services.clock()
    message = TicketMessage(
        ticket_id=ticket.id, author=TicketAuthor.ASKER, author_name=turn.user.name, body=body, at=now
    )
    turn.session.add(message)
    await turn.session.flush()
    messages.append(message)
    # Back to the DX division: 対応中 with whoever answered, 未対応 if nobody holds it.
    ticket.status = TicketStatus.CLAIMED if ticket.assignee_name else TicketStatus.OPEN
    ticket.closed_at = None
    await refresh_card(turn.services, turn.session, ticket)
    await to_division(
        turn.services,
        turn.session,
        ticket.id,
        "qa.ticket.reply_notice",
        f"reply-{message.id}",
        id=ticket.id,
        name=ticket.asker_name or turn.user.name,
        excerpt=" ".join(body.split())[:60],
    )
    log.info("ticket %d: the asker replied (message %d)", ticket.id, message.id)
    sent = turn.t("qa.followup.sent", id=ticket.id)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, answer_to_asker_card(turn.t, ticket, messages, notice=sent))
    else:
        await turn.reply(sent)


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
            await tell_asker(turn.services, turn.session, ticket, "qa.reply.closed", CLOSED)
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
    """Queue for the inquiry channel the tickets (and suggestions) that waited for one. With no
    channel, send the tickets no admin could be reached for to the admins who can be now."""
    waiting = list(
        await session.scalars(
            select(Ticket)
            .where(Ticket.channel_conversation_id.is_(None), Ticket.status != TicketStatus.CLOSED)
            .order_by(Ticket.id)
        )
    )
    posted = 0
    if await outbox.desk_address(session) is None:
        for ticket in waiting:
            if not await has_card(session, ticket) and await send_to_admins(services, session, ticket):
                posted += 1
    else:
        for ticket in waiting:
            if await post_ticket(services, session, ticket):
                posted += 1
    if suggestions:
        posted += await post_suggestions(services, session)
    return posted


async def unrouted_tickets(session: AsyncSession) -> int:
    """Tickets not closed whose card went nowhere (no channel and no admin reachable when asked)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.status != TicketStatus.CLOSED,
                ~exists().where(_card_sends(), Delivery.ref_id == Ticket.id),
            )
        )
        or 0
    )


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
    admins: list[TeamsAccount] | None = None
    for suggestion in pending:
        message = Message(
            text=t("qa.box.channel_title"),
            card=suggestion_channel_card(t, suggestion.kind, suggestion.body, suggestion.received_on),
        )
        now = services.clock()
        if not await outbox.to_desk(session, BOX_KIND, suggestion.id, message, purpose="channel", now=now):
            # No inquiry channel yet: the admins' own chats, as for tickets; kept if none is reachable.
            admins = await admin_accounts(services, session) if admins is None else admins
            if not admins:
                break
            items = [DeliveryItem(Recipient(aad_object_id=a.aad_object_id), message, "admin") for a in admins]
            await enqueue(session, BOX_KIND, suggestion.id, items, now=now)
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
    """Post one reminder listing the overdue tickets, at most once a business day each: in the
    inquiry channel, or in the admins' own chats while none is set."""
    now = services.clock()
    local = now.astimezone(JST)
    if not is_business_day(local.date()) or local.hour < REMIND_FROM_HOUR:
        return 0
    desk = await outbox.desk_address(session)
    admins = await admin_accounts(services, session) if desk is None else []
    if desk is None and not admins:
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
    purpose = f"remind-{local:%Y%m%d}"
    if desk is not None:
        items = [
            DeliveryItem(Recipient(address=desk), Message(text=reminder_text(desk_t(services), due)), purpose)
        ]
    else:
        items = [
            DeliveryItem(
                Recipient(aad_object_id=a.aad_object_id),
                Message(text=reminder_text(translator(a.locale or services.settings.locale), due)),
                purpose,
            )
            for a in admins
        ]
    await enqueue(session, KIND, NOTICE_REF, items, now=now)
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
