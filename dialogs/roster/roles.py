"""Who is who: the roster person behind a Teams account, and the roles the roster gives them.

Registered with ``dialogs.identity.register_role_source``. The transport stores the email or UPN from
the Teams member record on ``teams_accounts.email`` (lower case); the match is case-insensitive.
A person holding an assignment today is a PROMOTER; DX division roles come from ``division_roles``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Role
from dialogs.roster.network import held_on, today_jst
from storage.models import TeamsAccount
from storage.models.roster import Assignment, DivisionRole, DivisionRoleKind, Person

_DIVISION = {DivisionRoleKind.ADMIN: Role.ADMIN, DivisionRoleKind.AUTHOR: Role.AUTHOR}


async def person_id_for_email(session: AsyncSession, email: str) -> int | None:
    return await session.scalar(select(Person.id).where(Person.email == email.strip().lower()))


async def roster_roles(
    session: AsyncSession, account: TeamsAccount | None, email: str | None
) -> tuple[int | None, set[Role]]:
    person_id = await person_id_for_email(session, email) if email else None
    if person_id is None and account is not None:
        person_id = account.person_id
    if account is not None and person_id is not None and account.person_id != person_id:
        account.person_id = person_id  # the link coverage and delivery follow; saved with the turn
    if person_id is None:
        return None, set()
    return person_id, await roles_of(session, person_id, today_jst(datetime.now(UTC)))


async def roles_of(session: AsyncSession, person_id: int, day: date) -> set[Role]:
    roles: set[Role] = set()
    if await session.scalar(select(exists().where(Assignment.person_id == person_id, held_on(day)))):
        roles.add(Role.PROMOTER)
    kinds = await session.scalars(
        select(DivisionRole.role).where(
            DivisionRole.person_id == person_id, DivisionRole.revoked_at.is_(None)
        )
    )
    roles |= {_DIVISION[DivisionRoleKind(k)] for k in kinds}
    return roles
