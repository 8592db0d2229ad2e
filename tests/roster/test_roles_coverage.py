"""Who is who (the role source) and reach (coverage), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from bot.api import Role, User
from dialogs.kit.identity import resolve_identity
from dialogs.roster.admins import grant, revoke
from dialogs.roster.coverage import COMPLETE, NONE_REACHABLE, PARTIAL, coverage
from dialogs.roster.importer import Actor
from dialogs.roster.roles import roster_roles
from storage.models import TeamsAccount
from storage.models.roster import DivisionRoleKind
from storage.references import mark_unreachable, upsert_account, upsert_reference
from tests.roster.conftest import APRIL_2026, APRIL_2027, import_data, import_file, recorded_statements
from tests.support import settings_for

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
CLI = Actor("cli")


async def _account(
    s, aad: str, email: str | None, reachable: bool = True, kind: str = "personal"
) -> TeamsAccount:
    account = await upsert_account(
        s, aad_object_id=aad, user_id=f"29:{aad}", name="", tenant_id="t", locale="ja-JP", now=NOW
    )
    account.upn = email
    await upsert_reference(
        s,
        conversation_id=f"a:{aad}:{kind}",
        conversation_type=kind,
        service_url="https://smba.example/",
        tenant_id="t",
        bot_id="28:bot",
        user_id=f"29:{aad}",
        aad_object_id=aad,
        team_id=None,
        channel_id=None,
        reference={},
        now=NOW,
    )
    if not reachable:
        await mark_unreachable(s, f"a:{aad}:{kind}", "uninstalled", NOW)
    await s.flush()
    return account


@time_machine.travel(NOW, tick=False)
async def test_role_source_links_by_upn(sessions, db_url):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    async with sessions() as s, s.begin():
        await grant(s, "dx-admin@demo-city.example.jp", DivisionRoleKind.ADMIN, CLI, NOW, name="佐藤 花子")
        await grant(s, "author@demo-city.example.jp", DivisionRoleKind.AUTHOR, CLI, NOW)
        leader = await _account(s, "aad-leader", "LEADER@demo-city.EXAMPLE.jp".lower())
        admin = await _account(s, "aad-admin", "dx-admin@demo-city.example.jp")
        author = await _account(s, "aad-author", "author@demo-city.example.jp")
        staff = await _account(s, "aad-staff", "staff@demo-city.example.jp")
    async with sessions() as s, s.begin():
        leader = await s.get(TeamsAccount, leader.id)
        pid, roles = await roster_roles(s, leader)
        assert pid is not None and roles == {Role.PROMOTER}
        assert leader.person_id == pid  # linked, saved with the turn
        _, roles = await roster_roles(s, await s.get(TeamsAccount, admin.id))
        assert roles == {Role.ADMIN}
        _, roles = await roster_roles(s, await s.get(TeamsAccount, author.id))
        assert roles == {Role.AUTHOR}
        assert await roster_roles(s, await s.get(TeamsAccount, staff.id)) == (None, set())
    async with sessions() as s:
        assert (await s.get(TeamsAccount, leader.id)).person_id == pid


@time_machine.travel(NOW, tick=False)
async def test_identity_combines_settings_admins_and_roster_roles(sessions, db_url):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    async with sessions() as s, s.begin():
        await _account(s, "aad-leader", "leader@demo-city.example.jp")
        await _account(s, "aad-boss", "boss@demo-city.example.jp")
    settings = settings_for(db_url, admins=["boss@demo-city.example.jp"])
    async with sessions() as s:
        leader = await resolve_identity(
            s, User("29:l", "aad-leader", "鈴木 一郎", "t"), settings, sources=[roster_roles]
        )
        boss = await resolve_identity(
            s, User("29:b", "aad-boss", "Boss", "t"), settings, sources=[roster_roles]
        )
        nobody = await resolve_identity(
            s, User("29:n", "aad-unknown", "?", "t"), settings, sources=[roster_roles]
        )
    assert leader.has(Role.PROMOTER) and not leader.has(Role.AUTHOR) and leader.person_id
    assert boss.has(Role.ADMIN) and boss.has(Role.AUTHOR) and boss.person_id is None
    assert nobody.roles == frozenset({Role.ANYONE})


async def test_ended_and_future_assignments_do_not_make_a_promoter(sessions, db_url):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    await import_file(sessions, "roster_transfer_2027.csv", APRIL_2027)
    async with sessions() as s, s.begin():
        ended = await _account(s, "aad-n", "naoki.nakamura@demo-city.example.jp")
        joining = await _account(s, "aad-s", "shota.saito@demo-city.example.jp")
    for day, expect_ended, expect_joining in (
        (date(2027, 3, 31), True, False),
        (date(2027, 4, 1), False, True),
    ):
        with time_machine.travel(datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC), tick=False):
            async with sessions() as s:
                _, roles = await roster_roles(s, await s.get(TeamsAccount, ended.id))
                assert (Role.PROMOTER in roles) is expect_ended, day
                _, roles = await roster_roles(s, await s.get(TeamsAccount, joining.id))
                assert (Role.PROMOTER in roles) is expect_joining, day


async def test_division_roles_are_revoked_not_deleted_and_the_last_admin_stays(sessions, db_url):
    async with sessions() as s, s.begin():
        assert (await grant(s, "a@city.example.jp", DivisionRoleKind.ADMIN, CLI, NOW)).value == "granted"
        assert (await grant(s, "A@city.example.jp", DivisionRoleKind.ADMIN, CLI, NOW)).value == "already"
        assert (await revoke(s, "a@city.example.jp", DivisionRoleKind.ADMIN, CLI, NOW)).value == "last_admin"
        assert (
            await revoke(s, "a@city.example.jp", DivisionRoleKind.ADMIN, CLI, NOW, ["root@city.example.jp"])
        ).value == "revoked"
        assert (
            await revoke(
                s, "root@city.example.jp", DivisionRoleKind.ADMIN, CLI, NOW, ["root@city.example.jp"]
            )
        ).value == "configured"
        assert (await grant(s, "not-an-email", DivisionRoleKind.AUTHOR, CLI, NOW)).value == "bad_email"
    from storage.models.roster import DivisionRole
    from storage.models.shared import AuditEntry

    async with sessions() as s:
        rows = (await s.scalars(select(DivisionRole))).all()
        audit = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert len(rows) == 1 and rows[0].revoked_at is not None
    assert [(a.action, a.detail["email"]) for a in audit] == [
        ("division.grant", "a@city.example.jp"),
        ("division.revoke", "a@city.example.jp"),
    ]


async def test_coverage_puts_sections_nobody_can_be_reached_in_first(sessions, db_url):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    async with sessions() as s, s.begin():
        # 総務課: both reachable. 税務課: leader reachable, subs not. 市民課: leader uninstalled the bot.
        await _account(s, "a1", "leader@demo-city.example.jp")
        await _account(s, "a2", "hanako.yamada@demo-city.example.jp")
        await _account(s, "a3", "naoki.nakamura@demo-city.example.jp")
        await _account(s, "a4", "megumi.yoshida@demo-city.example.jp", reachable=False)
        # A group chat with 人事課's leader is no way to write to him personally.
        await _account(s, "a5", "kenta.ito@demo-city.example.jp", kind="groupChat")
    async with sessions() as s:
        report = await coverage(s, date(2026, 6, 1))
    order = [(r.section, r.status) for r in report.sections]
    statuses = [status for _, status in order]
    assert statuses == sorted(statuses)
    status = dict(order)
    assert status["総務課"] == COMPLETE
    assert status["税務課"] == PARTIAL
    assert status["市民課"] == NONE_REACHABLE
    assert status["人事課"] == NONE_REACHABLE
    assert status["公園緑地課"] == NONE_REACHABLE  # nobody named: nobody reachable
    assert report.promoters == 12 and report.reachable_promoters == 3
    assert report.without_leader == 1
    tax = next(r for r in report.sections if r.section == "税務課")
    assert tax.leader and tax.leader.reachable and [h.reachable for h in tax.subleaders] == [False, False]
    # The first sections are the ones with nobody reachable, in roster order.
    assert [r.section for r in report.sections[:2]] == ["人事課", "市民課"]


async def test_coverage_is_one_query_for_60_or_2000_sections(sessions, db_url):
    counts = []
    for sections in (60, 2000):
        rows = ["部,課,役割,氏名,メールアドレス"]
        for i in range(sections):
            rows.append(f"部{i % 20},課{i},リーダー,職員 {i},l{i}@city.example.jp")
            rows.append(f"部{i % 20},課{i},サブリーダー,職員 {i}s,s{i}@city.example.jp")
        await import_data(sessions, "\n".join(rows).encode(), "big.csv", APRIL_2026)
        async with sessions() as s:
            with recorded_statements(s) as statements:
                report = await coverage(s, date(2026, 6, 1))
        assert len(report.sections) == sections and report.promoters == 2 * sections
        counts.append(len([q for q in statements if q.lstrip().upper().startswith("SELECT")]))
    assert counts == [1, 1]
