"""Who is writing: the roster person behind a Teams account, and their roles.

The first admins come from ``DXBOT_ADMINS``; features add roles through the ``role_sources`` of their
``Feature`` (the roster: promoters and DX division roles), which the composition root hands to the turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Identity, Role, User
from bot.settings import Settings
from storage.models import TeamsAccount

# (session, account, email) -> (person_id, extra roles)
RoleSource = Callable[
    [AsyncSession, TeamsAccount | None, str | None], Awaitable[tuple[int | None, set[Role]]]
]


async def resolve_identity(
    session: AsyncSession,
    user: User,
    settings: Settings,
    account: TeamsAccount | None = None,
    sources: Sequence[RoleSource] = (),
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
    for source in sources:
        pid, extra = await source(session, account, email)
        person_id = person_id or pid
        roles |= extra
    return Identity(person_id=person_id, email=email, roles=frozenset(roles))
