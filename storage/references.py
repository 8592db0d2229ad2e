"""Keeping conversation references and Teams accounts current.

Called by the transport on every activity, install and uninstall; features read the rows to address
proactive messages (see ``bot.api.Address``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address
from storage.models import ConversationRef, TeamsAccount, TrustedServiceUrl

LAST_SEEN_RESOLUTION = timedelta(minutes=15)  # finer is not needed and costs a write a message


async def _insert_if_absent(session: AsyncSession, model: type[Any], keys: list[str], **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING: Teams sends installationUpdate and conversationUpdate for one
    install at the same moment, and people send two messages at once; whichever comes second finds
    the row the first made instead of failing on the unique key."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))


async def upsert_reference(
    session: AsyncSession,
    *,
    conversation_id: str,
    conversation_type: str,
    service_url: str,
    tenant_id: str | None,
    bot_id: str | None,
    user_id: str | None,
    aad_object_id: str | None,
    team_id: str | None,
    channel_id: str | None,
    reference: dict[str, Any],
    now: datetime,
    title: str | None = None,
) -> ConversationRef:
    row = await session.scalar(
        select(ConversationRef).where(ConversationRef.conversation_id == conversation_id)
    )
    wanted: dict[str, Any] = {
        "conversation_type": conversation_type,
        "service_url": service_url,
        "tenant_id": tenant_id,
        "bot_id": bot_id,
        "reference": {k: v for k, v in reference.items() if k not in ("activityId", "activity_id")},
        "reachable": True,
        "unreachable_reason": None,
    }
    if conversation_type == "personal":
        wanted.update(user_id=user_id, aad_object_id=aad_object_id)
    for key, value in (("team_id", team_id), ("channel_id", channel_id), ("title", title)):
        if value:
            wanted[key] = value
    if row is None:
        await _insert_if_absent(
            session,
            ConversationRef,
            ["conversation_id"],
            conversation_id=conversation_id,
            created_at=now,
            updated_at=now,
            **wanted,
        )
        row = await session.scalar(
            select(ConversationRef)
            .where(ConversationRef.conversation_id == conversation_id)
            .execution_options(populate_existing=True)
        )
        assert row is not None  # inserted now, or by the concurrent turn that won
    # Most activities change nothing: write only what changed, so a busy chat costs no writes.
    changed = {k: v for k, v in wanted.items() if getattr(row, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(row, key, value)
        row.updated_at = now
    return row


async def mark_unreachable(session: AsyncSession, conversation_id: str, reason: str, now: datetime) -> None:
    await session.execute(
        update(ConversationRef)
        .where(ConversationRef.conversation_id == conversation_id)
        .values(reachable=False, unreachable_reason=reason, updated_at=now)
    )


async def upsert_account(
    session: AsyncSession,
    *,
    aad_object_id: str,
    user_id: str,
    name: str,
    tenant_id: str | None,
    locale: str | None,
    now: datetime,
) -> TeamsAccount:
    """The account of (tenant, object id), created on first sight. Never looked up by email."""
    tenant = (tenant_id or "").lower()
    which = (TeamsAccount.tenant_id == tenant) & (TeamsAccount.aad_object_id == aad_object_id)
    row = await session.scalar(select(TeamsAccount).where(which))
    if row is None:
        await _insert_if_absent(
            session,
            TeamsAccount,
            ["tenant_id", "aad_object_id"],
            tenant_id=tenant,
            aad_object_id=aad_object_id,
            user_id=user_id,
            name=name or "",
            locale=locale,
            created_at=now,
            last_seen_at=now,
        )
        row = await session.scalar(
            select(TeamsAccount).where(which).execution_options(populate_existing=True)
        )
        assert row is not None  # inserted now, or by the concurrent turn that won
    if row.user_id != user_id:
        row.user_id = user_id
    if name and row.name != name:
        row.name = name
    if locale and row.locale != locale:
        row.locale = locale
    if row.last_seen_at is None or now - row.last_seen_at > LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
    return row


async def find_account(
    session: AsyncSession, tenant_id: str | None, aad_object_id: str
) -> TeamsAccount | None:
    return await session.scalar(
        select(TeamsAccount).where(
            TeamsAccount.tenant_id == (tenant_id or "").lower(),
            TeamsAccount.aad_object_id == aad_object_id,
        )
    )


async def remember_service_url(session: AsyncSession, url: str, now: datetime) -> None:
    """Note a service URL seen on an authenticated request (bot/service_urls.py decides which count)."""
    await _insert_if_absent(session, TrustedServiceUrl, ["url"], url=url, first_seen_at=now)


async def service_url_known(session: AsyncSession, url: str) -> bool:
    return (
        await session.scalar(select(TrustedServiceUrl.id).where(TrustedServiceUrl.url == url))
    ) is not None


def address_of(row: ConversationRef) -> Address:
    return Address(
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        tenant_id=row.tenant_id,
        conversation_type=row.conversation_type,
        bot_id=row.bot_id,
        user_id=row.user_id,
    )


async def personal_address(session: AsyncSession, aad_object_id: str) -> Address | None:
    """The reachable 1:1 chat with a user, if the bot has one."""
    row = await session.scalar(
        select(ConversationRef)
        .where(
            ConversationRef.aad_object_id == aad_object_id,
            ConversationRef.conversation_type == "personal",
            ConversationRef.reachable.is_(True),
        )
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    )
    return address_of(row) if row else None


async def account_if_reachable(
    session: AsyncSession, conversation_id: str, tenant_id: str | None, aad_object_id: str | None
) -> tuple[bool, TeamsAccount | None]:
    """(is the conversation stored and reachable?, the sender's account) in one query."""
    stmt = (
        select(ConversationRef.reachable, TeamsAccount)
        .select_from(ConversationRef)
        .outerjoin(
            TeamsAccount,
            (TeamsAccount.aad_object_id == (aad_object_id or ""))
            & (TeamsAccount.tenant_id == (tenant_id or "").lower()),
        )
        .where(ConversationRef.conversation_id == conversation_id)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return False, None
    return bool(row[0]), row[1]
