"""Where QA messages go outside a turn, all through the delivery engine (dialogs/engines/delivery):
the DX division's inquiry channel, and an asker's 1:1 chat.

    desk = await desk_address(session)                   # None until an admin sets the channel
    await to_desk(session, "qa", ticket.id, Message(card=...), purpose="card", now=now)
    await to_asker(services, session, ticket, Message(card=...), purpose="answer")

Nothing here sends by itself: rows are queued in the caller's transaction and the delivery worker
sends them after it commits, under Teams' limits, with retries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address, Message, Services
from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue
from storage import references
from storage.models import AppSetting, ConversationRef, Ticket

DESK_SETTING = "qa.inquiry_channel"
KIND = "qa"  # ref_id: the ticket id (0: channel notices not about one ticket)
BOX_KIND = "qa-box"  # ref_id: the suggestion id


def base_conversation_id(conversation_id: str) -> str:
    """A channel's own id: Teams adds ``;messageid=…`` when the message was a reply in a thread."""
    return conversation_id.split(";messageid=", 1)[0]


async def set_desk(session: AsyncSession, conversation_id: str, now: datetime, by: str) -> None:
    row = await session.get(AppSetting, DESK_SETTING)
    value = {"conversation_id": base_conversation_id(conversation_id), "set_by": by}
    if row is None:
        session.add(AppSetting(key=DESK_SETTING, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


async def desk_conversation_id(session: AsyncSession) -> str | None:
    row = await session.get(AppSetting, DESK_SETTING)
    if row is None or not isinstance(row.value, dict):
        return None
    cid = row.value.get("conversation_id")
    return cid if isinstance(cid, str) and cid else None


async def channel_address(session: AsyncSession, conversation_id: str) -> Address | None:
    """The address of a channel's top level (new posts, not a reply in a thread)."""
    base = base_conversation_id(conversation_id)
    row = await session.scalar(
        select(ConversationRef)
        .where(
            or_(
                ConversationRef.conversation_id == base,
                ConversationRef.conversation_id.startswith(base + ";", autoescape=True),
            )
        )
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    )
    if row is None:
        return None
    addr = references.address_of(row)
    return Address(
        conversation_id=base,
        service_url=addr.service_url,
        tenant_id=addr.tenant_id,
        conversation_type=addr.conversation_type,
        bot_id=addr.bot_id,
    )


async def desk_address(session: AsyncSession) -> Address | None:
    cid = await desk_conversation_id(session)
    return await channel_address(session, cid) if cid else None


async def to_desk(
    session: AsyncSession, kind: str, ref_id: int, message: Message, *, purpose: str, now: datetime
) -> bool:
    """Queue ``message`` for the inquiry channel; False when none is set."""
    desk = await desk_address(session)
    if desk is None:
        return False
    await enqueue(session, kind, ref_id, [DeliveryItem(Recipient(address=desk), message, purpose)], now=now)
    return True


async def to_asker(
    services: Services, session: AsyncSession, ticket: Ticket, message: Message, *, purpose: str
) -> None:
    """Queue ``message`` for the asker of ``ticket`` in their 1:1 chat.

    The delivery engine finds the chat from the Teams user when it sends. Someone who asked only in a
    channel has no 1:1 chat with the bot yet: it is opened here (raises SendError if Teams refuses)."""
    recipient: Recipient
    aad = ticket.asker_aad_object_id
    known = aad is not None and await session.scalar(
        select(ConversationRef.id).where(
            ConversationRef.aad_object_id == aad, ConversationRef.conversation_type == "personal"
        )
    )
    if aad is not None and known:
        recipient = Recipient(aad_object_id=aad)
    else:
        chat = await services.messenger.create_personal_conversation(
            Address(
                conversation_id="",
                service_url=ticket.service_url,
                tenant_id=ticket.tenant_id,
                bot_id=ticket.bot_id,
                user_id=ticket.asker_user_id,
            )
        )
        recipient = Recipient(address=chat)
    await enqueue(session, KIND, ticket.id, [DeliveryItem(recipient, message, purpose)], now=services.clock())
