"""Roster files sent in Teams wait in the database for 「適用する」, keyed to the admin who sent them.

token = await save_pending(session, sender, file_name, data, effective, digest, now)
pending = await open_pending(session, token)    # None if unknown
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.roster import PendingImport

LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Sender:
    aad_object_id: str
    person_id: int | None
    label: str  # email


async def save_pending(
    session: AsyncSession,
    sender: Sender,
    file_name: str,
    content: bytes,
    effective: date,
    digest: str,
    now: datetime,
) -> str:
    """Store the file; an earlier file from the same admin that is still waiting is superseded."""
    await session.execute(
        update(PendingImport)
        .where(PendingImport.requested_by_aad == sender.aad_object_id, PendingImport.status == "pending")
        .values(status="superseded", decided_at=now, content=b"")
    )
    token = secrets.token_urlsafe(18)
    session.add(
        PendingImport(
            token=token,
            requested_by_aad=sender.aad_object_id,
            requested_by_person_id=sender.person_id,
            requested_by_label=sender.label,
            file_name=file_name[:255],
            content=content,
            effective=effective,
            plan_digest=digest,
            status="pending",
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    await session.flush()
    return token


async def open_pending(session: AsyncSession, token: str) -> PendingImport | None:
    if not token:
        return None
    return await session.scalar(select(PendingImport).where(PendingImport.token == token).with_for_update())


def close(pending: PendingImport, status: str, now: datetime) -> None:
    """Record the decision and drop the file: its personal data is not kept longer than needed."""
    pending.status = status
    pending.decided_at = now
    pending.content = b""
