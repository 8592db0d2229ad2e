"""Who is who: the roster person behind a Teams account, and the roles the roster gives them.

A role source (``Feature.role_sources`` of the roster), asked on every turn that reads roles. The transport stores the email or UPN from
the Teams member record on ``teams_accounts.email`` (lower case); the match is case-insensitive.
A person holding an assignment today is a PROMOTER; DX division roles come from ``division_roles``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Role
from dialogs.roster.network import held_on, today_jst
from storage.models import TeamsAccount
from storage.models.roster import Assignment, DivisionRole, DivisionRoleKind, Person


async def person_id_for_email(session: AsyncSession, email: str) -> int | None:
    return await session.scalar(select(Person.id).where(Person.email == email.strip().lower()))


async def _lookup(
    session: AsyncSession, day: date, which: ColumnElement[bool]
) -> tuple[int, set[Role]] | None:
    """The person and their roles on ``day`` in one indexed query (this runs on every turn)."""
    active = (DivisionRole.person_id == Person.id) & DivisionRole.revoked_at.is_(None)
    stmt = select(
        Person.id,
        exists().where(Assignment.person_id == Person.id, held_on(day)),
        exists().where(active, DivisionRole.role == DivisionRoleKind.ADMIN),
        exists().where(active, DivisionRole.role == DivisionRoleKind.AUTHOR),
    ).where(which)
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    person_id, promoter, admin, author = row
    roles = {r for r, held in ((Role.PROMOTER, promoter), (Role.ADMIN, admin), (Role.AUTHOR, author)) if held}
    return person_id, roles


async def roster_roles(
    session: AsyncSession, account: TeamsAccount | None, email: str | None
) -> tuple[int | None, set[Role]]:
    day = today_jst(datetime.now(UTC))
    found = await _lookup(session, day, Person.email == email.strip().lower()) if email else None
    if found is None and account is not None and account.person_id is not None:
        found = await _lookup(session, day, Person.id == account.person_id)
    if found is None:
        return None, set()
    person_id, roles = found
    if account is not None and account.person_id != person_id:
        account.person_id = person_id  # the link coverage and delivery follow; saved with the turn
    return person_id, roles


async def roles_of(session: AsyncSession, person_id: int, day: date) -> set[Role]:
    found = await _lookup(session, day, Person.id == person_id)
    return found[1] if found else set()
