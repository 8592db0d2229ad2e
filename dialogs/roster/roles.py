"""Who is who: the roster person behind a Teams account, and the roles the roster gives them.

A role source (``Feature.role_sources`` of the roster). The transport stores the UPN of the Teams
member record on ``teams_accounts.upn`` (lower case). An account without a person is linked once to the
roster person whose メールアドレス is that UPN, and keeps that link (``teams_accounts.person_id``)
afterwards, whatever email the account shows later. A person already linked to an account of another
tenant is never linked again by UPN. A person holding an assignment today is a PROMOTER; DX division
roles come from ``division_roles``.
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


async def link_person(session: AsyncSession, account: TeamsAccount) -> int | None:
    """The account's roster person: the stored link, else (once) the person whose email is its UPN."""
    if account.person_id is not None or not account.upn:
        return account.person_id
    person_id = await person_id_for_email(session, account.upn)
    if person_id is None:
        return None
    elsewhere = await session.scalar(
        select(TeamsAccount.id)
        .where(TeamsAccount.person_id == person_id, TeamsAccount.tenant_id != account.tenant_id)
        .limit(1)
    )
    if elsewhere is not None:
        return None  # that person signs in from another tenant: a look-alike UPN is not them
    account.person_id = person_id  # the link coverage and delivery follow; saved with the turn
    return person_id


async def roster_roles(session: AsyncSession, account: TeamsAccount) -> tuple[int | None, set[Role]]:
    person_id = await link_person(session, account)
    if person_id is None:
        return None, set()
    found = await _lookup(session, today_jst(datetime.now(UTC)), Person.id == person_id)
    return (found[0], found[1]) if found else (None, set())


async def roles_of(session: AsyncSession, person_id: int, day: date) -> set[Role]:
    found = await _lookup(session, day, Person.id == person_id)
    return found[1] if found else set()
