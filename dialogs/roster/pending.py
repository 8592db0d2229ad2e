"""Roster files sent in Teams wait in the database for 「適用する」, keyed to the admin who sent them.

token = await save_pending(session, sender, file_name, data, effective, digest, now)
pending = await open_pending(session, token)    # None if unknown
code = confirmation_code(token, digest)         # what the mass-end confirmation toggle sends
"""

from __future__ import annotations

import hashlib
import hmac
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


def confirmation_code(token: str, digest: str) -> str:
    """The value the card's "I confirm the roles end" toggle sends: bound to this import and this plan.

    A confirmation given on one file (or on a plan that has changed since) does not fit another.
    """
    return hashlib.sha256(f"{token}:{digest}".encode()).hexdigest()[:32]


def confirmed(data: dict, token: str, digest: str) -> bool:
    sent = str(data.get(CONFIRM_INPUT) or "").encode("utf-8")  # bytes: any text a client sends compares
    return hmac.compare_digest(sent, confirmation_code(token, digest).encode("ascii"))


CONFIRM_INPUT = "confirm_mass_end"  # the id of the card's toggle
