"""Read receipts (既読): which delivered copies a person has read in their chat with the bot.

Teams tells the bot the id of the last message a person read in a personal chat (the transport turns
that into ``bot.api.EVENT_READ_RECEIPT``). Message ids in a personal chat are numbers that grow with
time (milliseconds since 1970: "1733390000123"), so every copy the engine delivered into that chat
with an id at or below it has been read. botbuilder's ``ReadReceiptInfo.is_message_read`` compares
them the same way. An id that is not a number compares with nothing and marks nothing.

The state of one copy, as a status may claim it:

- ``read``: a receipt covered it (``Delivery.read_at``);
- ``unread``: the chat has sent receipts (so they are on) and none covered it yet;
- ``unknown``: no receipt ever came from that chat: read receipts are off for that person, or the
  tenant did not grant the permission. Never shown as "unread".

    counts = await read_counts(session, "announcement", ann.id)
    counts.read, counts.unread, counts.unknown
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import EVENT_READ_RECEIPT, Turn
from dialogs.engines.delivery.queue import INITIAL
from dialogs.kit.router import Router
from storage.models.delivery import Delivery, DeliveryOp, DeliveryState
from storage.models.receipts import ChatReadMark

log = logging.getLogger(__name__)
READ, UNREAD, UNKNOWN = "read", "unread", "unknown"
_MAX_SEQ = 2**63 - 1

router = Router("delivery")


def message_seq(message_id: str | None) -> int | None:
    """A Teams message id as the number it orders by, or None if it is not one."""
    if not message_id or not message_id.isascii() or not message_id.isdigit():
        return None
    seq = int(message_id)
    return seq if seq <= _MAX_SEQ else None


async def record_read(
    session: AsyncSession, conversation_id: str, last_read_message_id: str, now: datetime
) -> int:
    """Note that the chat was read up to ``last_read_message_id``; mark the copies delivered there at or
    before it as read. Returns how many copies became read. Unknown chats and ids change nothing."""
    seq = message_seq(last_read_message_id)
    if seq is None or not conversation_id:
        return 0
    sent_here = await session.scalar(
        select(Delivery.id)
        .where(Delivery.conversation_id == conversation_id, Delivery.op == DeliveryOp.SEND.value)
        .limit(1)
    )
    if sent_here is None:
        return 0  # the bot never delivered anything into this chat: nothing to remember
    mark = await session.get(ChatReadMark, conversation_id)
    if mark is None:
        session.add(
            ChatReadMark(
                conversation_id=conversation_id,
                last_read_message_id=last_read_message_id,
                last_read_seq=seq,
                first_receipt_at=now,
                updated_at=now,
            )
        )
    elif seq > mark.last_read_seq:  # receipts may arrive out of order: keep the furthest
        mark.last_read_message_id, mark.last_read_seq, mark.updated_at = last_read_message_id, seq, now
    rows = (
        await session.execute(
            select(Delivery.id, Delivery.activity_id).where(
                Delivery.conversation_id == conversation_id,
                Delivery.op == DeliveryOp.SEND.value,
                Delivery.state == DeliveryState.DELIVERED.value,
                Delivery.read_at.is_(None),
                Delivery.activity_id.is_not(None),
            )
        )
    ).all()
    covered = [row.id for row in rows if (s := message_seq(row.activity_id)) is not None and s <= seq]
    if covered:
        await session.execute(update(Delivery).where(Delivery.id.in_(covered)).values(read_at=now))
    return len(covered)


@router.on_event(EVENT_READ_RECEIPT)
async def on_read_receipt(turn: Turn, data: dict[str, Any]) -> None:
    marked = await record_read(
        turn.session, turn.conversation.id, str(data.get("last_read_message_id") or ""), turn.services.clock()
    )
    if marked:
        log.info("read receipt marked %d copies read", marked, extra={"correlation_id": turn.correlation_id})


@dataclass(frozen=True)
class ReadCounts:
    """Of the copies delivered: read, unread (receipts on, not read yet), unknown (no receipts from there)."""

    read: int = 0
    unread: int = 0
    unknown: int = 0

    @property
    def delivered(self) -> int:
        return self.read + self.unread + self.unknown


def state_of(read_at: datetime | None, activity_id: str | None, mark_seq: int | None) -> str:
    """The read state of one delivered copy. A receipt can arrive before the worker has recorded the
    copy as delivered (the person had the chat open): the chat's mark still covers it, by its id."""
    if read_at is not None:
        return READ
    if mark_seq is None:
        return UNKNOWN
    seq = message_seq(activity_id)
    return READ if seq is not None and seq <= mark_seq else UNREAD


def _copies(kind: str, *columns: Any) -> Any:
    """Delivered first-op copies of ``kind`` with what their read state needs, and ``columns``."""
    return (
        select(*columns, Delivery.read_at, Delivery.activity_id, ChatReadMark.last_read_seq)
        .select_from(Delivery)
        .outerjoin(ChatReadMark, ChatReadMark.conversation_id == Delivery.conversation_id)
        .where(
            Delivery.kind == kind,
            Delivery.op == DeliveryOp.SEND.value,
            Delivery.state == DeliveryState.DELIVERED.value,
        )
    )


async def read_counts(
    session: AsyncSession, kind: str, ref_id: int, *, purposes: Sequence[str] | None = (INITIAL,)
) -> ReadCounts:
    query = _copies(kind, Delivery.id).where(Delivery.ref_id == ref_id)
    if purposes is not None:
        query = query.where(Delivery.purpose.in_(list(purposes)))
    found = {READ: 0, UNREAD: 0, UNKNOWN: 0}
    for _id, read_at, activity_id, mark_seq in (await session.execute(query)).tuples().all():
        found[state_of(read_at, activity_id, mark_seq)] += 1
    return ReadCounts(found[READ], found[UNREAD], found[UNKNOWN])


async def read_states(
    session: AsyncSession, kind: str, ref_id: int, *, purposes: Sequence[str] | None = (INITIAL,)
) -> dict[str, tuple[str, datetime | None]]:
    """recipient_key -> (read state, when read) for the delivered copies of one message: for exports
    and per-person lists. (When read is empty for a copy covered only by the chat's mark.)"""
    query = _copies(kind, Delivery.recipient_key).where(Delivery.ref_id == ref_id)
    if purposes is not None:
        query = query.where(Delivery.purpose.in_(list(purposes)))
    out: dict[str, tuple[str, datetime | None]] = {}
    for key, read_at, activity_id, mark_seq in (await session.execute(query)).tuples().all():
        state = state_of(read_at, activity_id, mark_seq)
        # Reminders are copies too: read on any copy counts (a later copy read implies the person saw one).
        if key not in out or state == READ:
            out[key] = (state, read_at)
    return out


async def latest_read_states(
    session: AsyncSession, kind: str, ref_ids: Sequence[int], purpose_prefix: str
) -> dict[int, str]:
    """ref_id -> the read state of the newest delivered copy whose purpose starts with ``purpose_prefix``
    (the latest answer to a ticket: "answer", "answer-2", …)."""
    if not ref_ids:
        return {}
    query = (
        _copies(kind, Delivery.ref_id, Delivery.id)
        .where(Delivery.ref_id.in_(list(ref_ids)), Delivery.purpose.like(f"{purpose_prefix}%"))
        .order_by(Delivery.ref_id, Delivery.id)
    )
    out: dict[int, str] = {}
    for ref_id, _id, read_at, activity_id, mark_seq in (await session.execute(query)).tuples().all():
        out[ref_id] = state_of(read_at, activity_id, mark_seq)  # the last one per ticket wins
    return out
