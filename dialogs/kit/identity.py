"""Who is writing: the roster person behind a Teams account, and their roles.

The first admins come from ``DXBOT_ADMINS``; the roster feature adds promoters and DX division roles
through ``register_role_source``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Identity, Role, User
from bot.settings import Settings
from storage.models import TeamsAccount

# (session, account, email) -> (person_id, extra roles)
RoleSource = Callable[
    [AsyncSession, TeamsAccount | None, str | None], Awaitable[tuple[int | None, set[Role]]]
]
_sources: list[RoleSource] = []


def register_role_source(source: RoleSource) -> None:
    if source not in _sources:
        _sources.append(source)


async def resolve_identity(
    session: AsyncSession, user: User, settings: Settings, account: TeamsAccount | None = None
) -> Identity:
    if account is None and user.aad_object_id:
        account = await session.scalar(
            select(TeamsAccount).where(TeamsAccount.aad_object_id == user.aad_object_id)
        )
    email = account.email if account else None
    roles: set[Role] = {Role.ANYONE}
    if email and email.lower() in settings.admins:
        roles.add(Role.ADMIN)
    person_id = account.person_id if account else None
    for source in _sources:
        pid, extra = await source(session, account, email)
        person_id = person_id or pid
        roles |= extra
    return Identity(person_id=person_id, email=email, roles=frozenset(roles))
