"""DX division roles (admin, author) and the audit log of every change an admin makes.

    outcome = await grant(session, "kato@city.example.jp", DivisionRoleKind.ADMIN, actor, now)
    outcome = await revoke(session, email, DivisionRoleKind.ADMIN, actor, now, configured_admins)
    entries = await recent_audit(session, 20)

Revoked roles are kept (``revoked_at``). The last admin cannot be removed: with no admin at all, nobody
could manage the roster from Teams any more.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.roster.importer import Actor
from dialogs.roster.normalize import email as clean_email
from dialogs.roster.normalize import is_email, person_name
from storage.models.roster import DivisionRole, DivisionRoleKind, Person
from storage.models.shared import AuditEntry


class Outcome(enum.StrEnum):
    GRANTED = "granted"
    ALREADY = "already"
    REVOKED = "revoked"
    NOT_HELD = "not_held"
    LAST_ADMIN = "last_admin"
    CONFIGURED = "configured"  # an admin from DXBOT_ADMINS: change the setting instead
    BAD_EMAIL = "bad_email"


def audit(session: AsyncSession, actor: Actor, action: str, now: datetime, **detail: Any) -> None:
    session.add(
        AuditEntry(
            at=now, actor_person_id=actor.person_id, actor_label=actor.label, action=action, detail=detail
        )
    )


async def _active(session: AsyncSession, person_id: int, kind: DivisionRoleKind) -> DivisionRole | None:
    return await session.scalar(
        select(DivisionRole).where(
            DivisionRole.person_id == person_id,
            DivisionRole.role == kind,
            DivisionRole.revoked_at.is_(None),
        )
    )


async def grant(
    session: AsyncSession,
    address: str,
    kind: DivisionRoleKind,
    actor: Actor,
    now: datetime,
    name: str = "",
) -> Outcome:
    address = clean_email(address)
    if not is_email(address):
        return Outcome.BAD_EMAIL
    person = await session.scalar(select(Person).where(Person.email == address))
    if person is None:
        # DX division staff are often not promoters, so not in the roster file yet.
        person = Person(name=person_name(name) or address.split("@")[0], email=address, created_at=now)
        session.add(person)
        await session.flush()
    if await _active(session, person.id, kind):
        return Outcome.ALREADY
    session.add(DivisionRole(person_id=person.id, role=kind, granted_by=actor.person_id, granted_at=now))
    audit(session, actor, "division.grant", now, email=address, role=kind.value)
    await session.flush()
    return Outcome.GRANTED


async def revoke(
    session: AsyncSession,
    address: str,
    kind: DivisionRoleKind,
    actor: Actor,
    now: datetime,
    configured_admins: Iterable[str] = (),
) -> Outcome:
    address = clean_email(address)
    if not is_email(address):
        return Outcome.BAD_EMAIL
    configured = {a.lower() for a in configured_admins}
    person = await session.scalar(select(Person).where(Person.email == address))
    held = await _active(session, person.id, kind) if person else None
    if held is None:
        if kind is DivisionRoleKind.ADMIN and address in configured:
            return Outcome.CONFIGURED
        return Outcome.NOT_HELD
    if kind is DivisionRoleKind.ADMIN:
        admins = await session.scalar(
            select(func.count(func.distinct(DivisionRole.person_id))).where(
                DivisionRole.role == DivisionRoleKind.ADMIN, DivisionRole.revoked_at.is_(None)
            )
        )
        others_configured = configured - {address}
        if (admins or 0) <= 1 and not others_configured:
            return Outcome.LAST_ADMIN
    held.revoked_at = now
    audit(session, actor, "division.revoke", now, email=address, role=kind.value)
    await session.flush()
    return Outcome.REVOKED


@dataclass(frozen=True)
class DivisionMember:
    name: str
    email: str
    role: DivisionRoleKind
    since: datetime


async def division_members(session: AsyncSession) -> list[DivisionMember]:
    rows = (
        await session.execute(
            select(Person.name, Person.email, DivisionRole.role, DivisionRole.granted_at)
            .join(Person, Person.id == DivisionRole.person_id)
            .where(DivisionRole.revoked_at.is_(None))
            .order_by(DivisionRole.role, Person.email)
        )
    ).all()
    return [DivisionMember(n, e, DivisionRoleKind(r), at) for n, e, r, at in rows]


async def recent_audit(session: AsyncSession, limit: int = 20) -> list[AuditEntry]:
    return list(
        (
            await session.scalars(
                select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
            )
        ).all()
    )
