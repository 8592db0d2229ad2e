"""Who a Teams sender is: the account (tenant, object id), linked once by the member record's UPN.

The member record's ``email`` is whatever the user or an admin typed; it never gives anyone roles,
and a second tenant's account with the same object id or UPN is someone else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import TeamsAccount
from storage.models.roster import Person
from tests.roster.helpers import demo_bot
from tests.support import ADMIN, LEADER, TENANT
from tests.support import Person as TeamsUser

pytestmark = pytest.mark.asyncio
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
STRANGER = TeamsUser("29:stranger", "aad-stranger", "見知らぬ人", "stranger@elsewhere.example")


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _record(user: TeamsUser, *, email: str, upn: str) -> dict[str, Any]:
    return {"id": user.user_id, "name": user.name, "aadObjectId": user.aad_object_id, "email": email,
            "userPrincipalName": upn}  # fmt: skip


def _you(connector: Any, user: TeamsUser, conversation_id: str | None = None) -> str:
    """The help card's line that says which features the sender's roles show."""
    return connector.cards_to(conversation_id or user.conversation_id)[-1]["body"][1]["text"]


def _tenant(tid: str) -> dict[str, Any]:
    return {"channel_data": {"tenant": {"id": tid}}}


async def _other_tenant_says(bot: Any, user: TeamsUser, text: str, conversation_id: str) -> int:
    from tests.support import activity

    act = activity(
        bot.connector.url, user=user, text=text, conversation_id=conversation_id, **_tenant(OTHER_TENANT)
    )
    act["conversation"]["tenantId"] = OTHER_TENANT
    return await bot.post(act)


async def test_an_email_field_naming_the_admin_gives_no_admin_roles(db_url, connector):
    """A user whose member record shows the admin's address as ``email`` is still only themselves."""
    async with demo_bot(db_url, connector) as bot:
        connector.members[STRANGER.user_id] = _record(
            STRANGER, email=ADMIN.email, upn="stranger@demo-city.example.jp"
        )
        assert await bot.say("ヘルプ", user=STRANGER) < 300
        async with bot.services.sessionmaker() as s:
            account = await s.scalar(
                select(TeamsAccount).where(TeamsAccount.aad_object_id == STRANGER.aad_object_id)
            )
    assert "管理者" not in _you(connector, STRANGER)
    assert account is not None and account.person_id is None


async def test_the_upn_makes_the_first_link_and_a_changed_email_never_moves_it(db_url, connector):
    clock = _Clock()
    async with demo_bot(db_url, connector, clock=clock) as bot:
        # The leader's mailbox address differs from her sign-in name (UPN), which the roster lists.
        connector.members[LEADER.user_id] = _record(
            LEADER, email="ichiro.suzuki@mail.example", upn=LEADER.email.upper()
        )
        await bot.say("ヘルプ", user=LEADER)
        assert "リーダー" in _you(connector, LEADER)
        # Two days later her member record's email names the admin, and the account is asked again.
        connector.members[LEADER.user_id] = _record(LEADER, email=ADMIN.email, upn=ADMIN.email)
        async with bot.services.sessionmaker() as s, s.begin():
            account = await s.scalar(
                select(TeamsAccount).where(TeamsAccount.aad_object_id == LEADER.aad_object_id)
            )
            assert account is not None
            account.email, account.email_checked_at = None, None
        clock.now += timedelta(days=2)
        await bot.say("help", user=LEADER)
        await bot.say("ヘルプ", user=LEADER)
        async with bot.services.sessionmaker() as s:
            account = await s.scalar(
                select(TeamsAccount).where(TeamsAccount.aad_object_id == LEADER.aad_object_id)
            )
            leader_id = await s.scalar(select(Person.id).where(Person.email == LEADER.email))
    line = _you(connector, LEADER)
    assert "リーダー" in line and "管理者" not in line
    assert account is not None and account.person_id == leader_id and account.upn == LEADER.email


async def test_dxbot_admins_are_matched_by_upn_not_email(db_url, connector):
    boss = TeamsUser("29:boss", "aad-boss", "上司", "boss@demo-city.example.jp")
    poser = TeamsUser("29:poser", "aad-poser", "なりすまし", "poser@demo-city.example.jp")
    async with demo_bot(db_url, connector, admins=[boss.email]) as bot:
        connector.members[boss.user_id] = _record(boss, email="boss.mail@mail.example", upn=boss.email)
        connector.members[poser.user_id] = _record(poser, email=boss.email, upn=poser.email)
        await bot.say("ヘルプ", user=boss)
        await bot.say("ヘルプ", user=poser)
    assert "管理者" in _you(connector, boss)
    assert "管理者" not in _you(connector, poser)


async def test_the_same_object_id_in_another_tenant_is_someone_else(db_url, connector):
    """The admin's object id and UPN, sent from a second tenant, get none of the admin's roles."""
    async with demo_bot(db_url, connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)
        assert "管理者" in _you(connector, ADMIN)
        assert await _other_tenant_says(bot, ADMIN, "ヘルプ", "a:other-tenant-chat") < 300
        async with bot.services.sessionmaker() as s:
            accounts = (
                await s.scalars(select(TeamsAccount).where(TeamsAccount.aad_object_id == ADMIN.aad_object_id))
            ).all()
    assert "管理者" not in _you(connector, ADMIN, "a:other-tenant-chat")
    assert sorted((a.tenant_id, a.person_id is not None) for a in accounts) == [
        (TENANT.lower(), True),
        (OTHER_TENANT, False),
    ]


async def test_accounts_of_a_tenant_other_than_the_citys_get_no_roles(db_url):
    """With the city's tenant configured, an account of another tenant has no person and no roles,
    even when its UPN is a configured admin's."""
    from bot.api import User
    from bot.services import open_services
    from dialogs.kit.identity import resolve_identity
    from dialogs.roster.demo import seed_demo
    from dialogs.roster.roles import roster_roles
    from storage.db import make_engine, make_sessionmaker
    from storage.references import upsert_account
    from tests.support import settings_for

    settings = settings_for(db_url, allowed_tenants=[TENANT], admins=[ADMIN.email])
    async with open_services(settings) as services:
        await seed_demo(services, True)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
        async with sessions() as s, s.begin():
            for tid in (TENANT, OTHER_TENANT):
                account = await upsert_account(
                    s, aad_object_id="aad-x", user_id="29:x", name="x", tenant_id=tid, locale="ja", now=now
                )
                account.upn = ADMIN.email
        async with sessions() as s:
            home = await resolve_identity(
                s, User("29:x", "aad-x", "x", TENANT), settings, sources=[roster_roles]
            )
            other = await resolve_identity(
                s, User("29:x", "aad-x", "x", OTHER_TENANT), settings, sources=[roster_roles]
            )
    finally:
        await engine.dispose()
    assert (
        home.person_id is not None
        and home.roles == frozenset(home.roles)
        and "ADMIN" in {r.name for r in home.roles}
    )
    assert other.person_id is None and {r.name for r in other.roles} == {"ANYONE"}
