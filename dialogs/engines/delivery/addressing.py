"""Where a queued row goes: a roster person or a Teams user becomes their personal chat."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address
from storage import references
from storage.models import ConversationRef, Person, TeamsAccount
from storage.models.delivery import Delivery

NO_CONVERSATION = "no_conversation"  # the person never opened a chat with the bot (not installed)
NO_ACCOUNT = "no_account"  # the roster person has no Teams account the bot knows


async def aad_of_person(session: AsyncSession, person_id: int) -> str | None:
    aad = await session.scalar(
        select(TeamsAccount.aad_object_id)
        .where(TeamsAccount.person_id == person_id)
        .order_by(TeamsAccount.last_seen_at.desc())
        .limit(1)
    )
    if aad:
        return aad
    # The roster link may not be made yet (no message since the roster import): an unlinked account
    # whose UPN is the person's address is the one the link will be made to (dialogs/kit/identity.py).
    return await session.scalar(
        select(TeamsAccount.aad_object_id)
        .join(Person, Person.email == TeamsAccount.upn)
        .where(Person.id == person_id, TeamsAccount.person_id.is_(None))
        .order_by(TeamsAccount.last_seen_at.desc())
        .limit(1)
    )


async def resolve(session: AsyncSession, row: Delivery) -> tuple[Address | None, str | None]:
    """The address of a send row, or (None, reason) when the recipient cannot be reached."""
    if row.address:
        return Address(**row.address), None
    if row.conversation_id:
        ref = await session.scalar(
            select(ConversationRef).where(ConversationRef.conversation_id == row.conversation_id)
        )
        if ref is None:
            return None, NO_CONVERSATION
        if not ref.reachable:
            return None, ref.unreachable_reason or NO_CONVERSATION
        return references.address_of(ref), None
    aad = row.aad_object_id
    if aad is None and row.person_id is not None:
        aad = await aad_of_person(session, row.person_id)
        if aad is None:
            return None, NO_ACCOUNT
    if aad is None:
        return None, NO_CONVERSATION
    address = await references.personal_address(session, aad)
    if address is not None:
        return address, None
    # Known but unreachable: say why (blocked / uninstalled) rather than "never installed".
    reason = await session.scalar(
        select(ConversationRef.unreachable_reason)
        .where(ConversationRef.aad_object_id == aad, ConversationRef.conversation_type == "personal")
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    )
    return None, reason or NO_CONVERSATION


async def remember_recreated(
    session: AsyncSession, old: Address, new: Address, aad_object_id: str | None, now: datetime
) -> None:
    """Store a re-created personal chat, so later sends use it."""
    await references.upsert_reference(
        session,
        conversation_id=new.conversation_id,
        conversation_type="personal",
        service_url=new.service_url,
        tenant_id=new.tenant_id,
        bot_id=new.bot_id,
        user_id=new.user_id,
        aad_object_id=aad_object_id,
        team_id=None,
        channel_id=None,
        reference={
            "bot": {"id": new.bot_id},
            "user": {"id": new.user_id, "aadObjectId": aad_object_id},
            "conversation": {
                "id": new.conversation_id,
                "conversationType": "personal",
                "tenantId": new.tenant_id,
            },
            "serviceUrl": new.service_url,
            "channelId": new.channel_id,
        },
        now=now,
    )


async def prefill(session: AsyncSession, rows: list[Delivery]) -> None:
    """Look up the personal chats of many claimed rows in one query (the common case of a broadcast);
    rows it cannot settle are left for ``resolve`` one by one."""
    wanted = {
        r.person_id for r in rows if r.address is None and r.person_id is not None and not r.conversation_id
    }
    if not wanted:
        return
    found: dict[int, ConversationRef] = {}
    result = await session.execute(
        select(TeamsAccount.person_id, ConversationRef)
        .join(ConversationRef, ConversationRef.aad_object_id == TeamsAccount.aad_object_id)
        .where(
            TeamsAccount.person_id.in_(wanted),
            ConversationRef.conversation_type == "personal",
            ConversationRef.reachable.is_(True),
        )
        .order_by(ConversationRef.updated_at)
    )
    for person_id, ref in result.tuples().all():
        if person_id is not None:
            found[person_id] = ref  # the most recently updated chat wins
    for row in rows:
        hit = found.get(row.person_id) if row.person_id is not None and row.address is None else None
        if hit is not None and not row.conversation_id:
            row.address = asdict(references.address_of(hit))
