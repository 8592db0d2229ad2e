"""Who is writing: the roster person behind a Teams account, and their roles.

A Teams account is (tenant id, Entra object id) (``storage.references.upsert_account``). Its roster
link is made once, from the UPN the Teams member record gave (the roster's メールアドレス), and kept by
object id afterwards: a changed ``email`` never moves an identity. Accounts of a tenant other than the
bot's (``MicrosoftAppTenantId`` / ``DXBOT_ALLOWED_TENANTS`` when set) get no person and no roles.
The first admins come from ``DXBOT_ADMINS`` (UPNs); features link people and add roles through the
``role_sources`` of their ``Feature`` (the roster: promoter and DX division roles), which the composition
root gathers and the transport keeps on the services (``use_role_sources``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Identity, Role, Services, User
from bot.settings import Settings
from storage import references
from storage.models import TeamsAccount

# (session, account) -> (person_id, extra roles); the account is of a trusted tenant
RoleSource = Callable[[AsyncSession, TeamsAccount], Awaitable[tuple[int | None, set[Role]]]]
# Where the app's role sources live while it runs: ``services.extras[ROLE_SOURCES]``.
ROLE_SOURCES = "identity.role_sources"


def use_role_sources(services: Services, sources: Iterable[RoleSource]) -> None:
    """Every identity read with ``services`` asks ``sources`` too (set once by the transport)."""
    services.extras[ROLE_SOURCES] = tuple(sources)


def role_sources_of(services: Services) -> tuple[RoleSource, ...]:
    return tuple(services.extras.get(ROLE_SOURCES, ()))


def home_tenants(settings: Settings) -> set[str]:
    """The city's tenant ids (lower case); empty when none is configured (local development)."""
    tenants = {t.strip().lower() for t in settings.allowed_tenants if t.strip()}
    if settings.app_tenant_id:
        tenants.add(settings.app_tenant_id.strip().lower())
    return tenants


def tenant_trusted(settings: Settings, tenant_id: str | None) -> bool:
    home = home_tenants(settings)
    return not home or (tenant_id or "").lower() in home


async def resolve_identity(
    session: AsyncSession,
    user: User,
    settings: Settings,
    account: TeamsAccount | None = None,
    sources: Sequence[RoleSource] = (),
) -> Identity:
    if account is None and user.aad_object_id:
        account = await references.find_account(session, user.tenant_id, user.aad_object_id)
    return await identity_of_account(session, account, settings, sources)


async def identity_of_account(
    session: AsyncSession,
    account: TeamsAccount | None,
    settings: Settings,
    sources: Sequence[RoleSource] = (),
) -> Identity:
    """The person and roles of a stored account (the bot's turns and the dashboard's SSO alike)."""
    if account is None or not tenant_trusted(settings, account.tenant_id):
        return Identity()
    roles: set[Role] = {Role.ANYONE}
    if account.upn and account.upn in settings.admins:
        roles.add(Role.ADMIN)
    person_id = account.person_id
    for source in sources:
        pid, extra = await source(session, account)
        person_id = person_id or pid
        roles |= extra
    return Identity(person_id=person_id, email=account.upn, roles=frozenset(roles))
