"""Where QA messages go outside a turn: the DX division's inquiry channel, and an asker's 1:1 chat.

    desk = await desk_address(session)                  # None until an admin sets the channel
    activity_id = await services.messenger.send(desk, Message(card=...))
    await send_to_person(services, session, ticket, Message(card=...))

``send_to_person`` is the one place that reaches an asker. It uses ``services.messenger`` directly
today; when the delivery engine lands (dialogs/delivery), only this function changes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address, Message, SendError, Services
from storage import references
from storage.models import AppSetting, ConversationRef, Ticket

log = logging.getLogger(__name__)
DESK_SETTING = "qa.inquiry_channel"


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
    """The address of a channel (top level, not a thread) from the references the bot stored."""
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


async def send_to_person(services: Services, session: AsyncSession, ticket: Ticket, message: Message) -> str:
    """Send ``message`` to the asker of ``ticket`` in their 1:1 chat; return the activity id.

    Uses the stored personal chat, or re-creates it from the Teams user id. Raises SendError."""
    address = None
    if ticket.asker_aad_object_id:
        address = await references.personal_address(session, ticket.asker_aad_object_id)
    if address is None:
        address = await services.messenger.create_personal_conversation(
            Address(
                conversation_id="",
                service_url=ticket.service_url,
                tenant_id=ticket.tenant_id,
                bot_id=ticket.bot_id,
                user_id=ticket.asker_user_id,
            )
        )
    try:
        return await services.messenger.send(address, message)
    except SendError as exc:
        if exc.unreachable:
            await references.mark_unreachable(
                session, address.conversation_id, exc.reason or "unreachable", services.clock()
            )
        raise
