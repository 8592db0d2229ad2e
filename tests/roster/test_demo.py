"""The demo city: big enough to be real, and the Agents Playground's mock users mapped to both sides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.api import Role, Services, User
from dialogs.kit.identity import resolve_identity
from dialogs.roster.demo import seed_demo
from dialogs.roster.roles import roster_roles
from storage.models.roster import Department, Person, Section
from storage.references import upsert_account
from tests.roster.conftest import snapshot
from tests.support import settings_for

PLAYGROUND = Path(__file__).parents[2] / ".m365agentsplayground.yml"


def _services(db_url, sessions) -> Services:
    return Services(settings_for(db_url), sessions, None, lambda: datetime(2026, 11, 24, 1, tzinfo=UTC))  # type: ignore[arg-type]


async def test_demo_city_size_and_names(db_url, sessions):
    await seed_demo(_services(db_url, sessions), True)
    async with sessions() as s:
        departments = await s.scalar(select(func.count()).select_from(Department))
        sections = (await s.scalars(select(Section.name))).all()
        people = (await s.execute(select(Person.name, Person.email))).all()
    snap = await snapshot(sessions)
    promoters = [a for a in snap["assignments"] if a[5] is None]
    assert departments >= 8 and len(sections) >= 45
    assert 90 <= len(promoters) <= 110
    assert {"総務課", "税務課", "市民課", "学校教育課"} <= set(sections)
    assert all(name.endswith(("課", "館")) for name in sections)
    assert all(email.endswith("@demo-city.example.jp") for _, email in people)
    assert all(" " in name for name, _ in people)  # 姓 名
    assert len({email for _, email in people}) == len(people)
    assert all(a[4].isoformat() == "2026-04-01" for a in promoters)  # the fiscal year's start


async def test_seeding_twice_changes_nothing_and_real_data_is_left_alone(db_url, sessions):
    services = _services(db_url, sessions)
    await seed_demo(services, True)
    before = await snapshot(sessions)
    await seed_demo(services, True)
    await seed_demo(services, False)
    assert await snapshot(sessions) == before
    async with sessions() as s, s.begin():
        s.add(Person(name="本物 太郎", email="taro@real-city.lg.jp"))
    await seed_demo(services, False)
    after = await snapshot(sessions)
    assert after["assignments"] == before["assignments"]


@pytest.mark.skipif(not PLAYGROUND.exists(), reason="no .m365agentsplayground.yml in this checkout")
async def test_playground_mock_users_are_mapped(db_url, sessions):
    """Whoever the playground's config names gets the role its comments promise, by UPN."""
    config = yaml.safe_load(PLAYGROUND.read_text(encoding="utf-8"))
    users = [config["currentUser"], *config["users"]]
    await seed_demo(_services(db_url, sessions), True)
    settings = settings_for(db_url)
    now = datetime(2026, 11, 24, 1, tzinfo=UTC)
    roles: dict[str, frozenset[Role]] = {}
    async with sessions() as s, s.begin():
        for u in users:
            account = await upsert_account(
                s,
                aad_object_id=u["aadObjectId"],
                user_id=u["id"],
                name=u["name"],
                tenant_id=None,
                locale="ja",
                now=now,
            )
            account.upn = u["userPrincipleName"].lower()
        await s.flush()
        for u in users:
            identity = await resolve_identity(
                s, User(u["id"], u["aadObjectId"], u["name"]), settings, sources=[roster_roles]
            )
            roles[u["email"]] = identity.roles
    assert Role.ADMIN in roles["dx-admin@demo-city.example.jp"]
    assert config["currentUser"]["email"] == "dx-admin@demo-city.example.jp"
    assert Role.PROMOTER in roles["leader@demo-city.example.jp"]
    assert roles["staff@demo-city.example.jp"] == frozenset({Role.ANYONE})
    names = {u["email"]: u["name"] for u in users}
    async with sessions() as s:
        stored = dict((await s.execute(select(Person.email, Person.name))).tuples().all())
    for email, name in names.items():
        if email != "staff@demo-city.example.jp":
            assert stored.get(email) == name, email  # same person, same name on both sides
            assert roles[email] != frozenset({Role.ANYONE}), email
