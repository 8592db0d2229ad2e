"""``dxbot roster …`` and ``dxbot admin …``: the roster and the DX division from the command line.

dxbot roster import 名簿.xlsx [--dry-run] [--effective 2027-04-01] [--allow-mass-end]
    exit 0; 1 with the row problems; 3 when many roles would end and --allow-mass-end is missing
dxbot roster export 名簿.csv|名簿.xlsx
dxbot roster coverage
dxbot roster install-app [--dry-run]       (Microsoft Graph, DXBOT_GRAPH_*)
dxbot admin add EMAIL [--author] [--name 氏名] / dxbot admin remove EMAIL [--author] / dxbot admin list
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from dialogs.kit.i18n import t as translate
from dialogs.roster import cards
from dialogs.roster.admins import Outcome, audit, division_members, grant, revoke
from dialogs.roster.coverage import COMPLETE, NONE_REACHABLE, coverage
from dialogs.roster.exporter import export_roster
from dialogs.roster.graph import GraphConfig, install_for
from dialogs.roster.importer import Actor, ImportPlan, MassEnd, apply_plan, mass_end, plan_import
from dialogs.roster.network import today_jst
from dialogs.roster.reader import read_roster
from storage.db import make_engine, make_sessionmaker
from storage.models.roster import DivisionRoleKind

CLI_ACTOR = Actor("cli")


def register_cli(sub: Any) -> None:
    roster = sub.add_parser("roster", help="推進員の名簿 / the promoter roster")
    rs = roster.add_subparsers(dest="roster_command", required=True)
    imp = rs.add_parser("import", help="名簿ファイルを取り込みます / import a CSV or XLSX roster")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="変更内容を表示するだけ / show the changes only")
    imp.add_argument("--effective", type=date.fromisoformat, help="適用日 YYYY-MM-DD (既定: 今日)")
    imp.add_argument(
        "--allow-mass-end",
        action="store_true",
        help="多くの役割が終了する取り込みも適用します (DXBOT_ROSTER_MAX_END_*) / allow ending many roles",
    )
    imp.set_defaults(func=_import)
    exp = rs.add_parser("export", help="名簿を書き出します / export (.csv or .xlsx)")
    exp.add_argument("file", type=Path)
    exp.set_defaults(func=_export)
    cov = rs.add_parser("coverage", help="連絡が届くかを課ごとに表示します / reach per section")
    cov.add_argument("--all", action="store_true", help="全員に届く課も一覧に含めます / list every section")
    cov.set_defaults(func=_coverage)
    inst = rs.add_parser("install-app", help="未追加の推進員にアプリを追加します (Microsoft Graph)")
    inst.add_argument("--dry-run", action="store_true")
    inst.set_defaults(func=_install)

    admin = sub.add_parser("admin", help="DX推進課の管理者・送信担当 / DX division roles")
    ad = admin.add_subparsers(dest="admin_command", required=True)
    add = ad.add_parser("add", help="管理者(--author: 送信担当)を追加します")
    add.add_argument("email")
    add.add_argument("--author", action="store_true")
    add.add_argument("--name", default="")
    add.set_defaults(func=_admin_add)
    rm = ad.add_parser("remove", help="管理者(--author: 送信担当)を外します")
    rm.add_argument("email")
    rm.add_argument("--author", action="store_true")
    rm.set_defaults(func=_admin_remove)
    ls = ad.add_parser("list", help="管理者と送信担当の一覧")
    ls.set_defaults(func=_admin_list)


@asynccontextmanager
async def _sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def _t(settings: Settings) -> Any:
    return partial(translate, locale=settings.locale)


def _now() -> datetime:
    return datetime.now(UTC)


def print_plan(
    t: Any, plan: ImportPlan, file_name: str, out: Any = None, guard: MassEnd | None = None
) -> None:
    out = out or sys.stdout
    print(f"{t('roster.cli.file')}: {file_name}({t('roster.dry.rows')} {plan.rows})", file=out)
    print(f"{t('roster.dry.effective')}: {cards.day_text(t, plan.effective)}", file=out)
    counts = [
        (t("roster.dry.added"), len(plan.added)),
        (t("roster.dry.moved"), len(plan.moved)),
        (t("roster.dry.ended"), len(plan.ended)),
        (t("roster.dry.unchanged"), plan.unchanged),
    ]
    print(" / ".join(f"{label} {t('roster.people', n=n)}" for label, n in counts), file=out)
    marks = {"added": "+", "moved": "→", "ended": "-"}
    for change in plan.changes:
        print(f"  {marks[change.kind]} {cards.change_line(t, change)}", file=out)
    for email, old, new in plan.renamed:
        print(f"  ~ {old} → {new}({email})", file=out)
    for d, s in plan.new_sections:
        print(f"  {t('roster.dry.new_sections')}: {d} {s}", file=out)
    for d, s in plan.closed_sections:
        print(f"  {t('roster.dry.closed_sections')}: {d} {s}", file=out)
    for d, s in plan.reopened_sections:
        print(f"  {t('roster.dry.reopened_sections')}: {d} {s}", file=out)
    for w in plan.warnings:
        if not (guard and w.code == "many_ended"):  # the guard below says more
            print(f"{t('roster.dry.warnings')}: {cards.describe(t, w)}", file=out)


def print_guard(t: Any, guard: MassEnd, out: Any = None) -> None:
    out = out or sys.stdout
    print(f"{t('roster.guard.title')}", file=out)
    for line in cards.mass_end_lines(t, guard):
        print(f"  {line}", file=out)


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    path: Path = args.file
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        print(t("roster.cli.no_file", path=str(path)), file=sys.stderr)
        return 2
    effective = args.effective or today_jst(_now())
    parsed = read_roster(data, path.name)
    async with _sessions(settings) as sessions, sessions() as session, session.begin():
        plan = await plan_import(session, parsed, effective)
        if not plan.ok:
            print(t("roster.errors.intro", file=path.name, n=len(plan.problems)), file=sys.stderr)
            for p in plan.problems:
                print(f"  {cards.describe(t, p)}", file=sys.stderr)
            return 1
        guard = mass_end(plan, settings.roster_max_end_share, settings.roster_max_end_count)
        print_plan(t, plan, path.name, guard=guard)
        if not plan.has_changes:
            print(t("roster.cli.no_change"))
            return 0
        if args.dry_run:
            if guard:
                print_guard(t, guard)
            print(t("roster.cli.dry_run"))  # plan_import only read: leaving the block writes nothing
            return 0
        if guard and not args.allow_mass_end:
            print_guard(t, guard, sys.stderr)
            print(t("roster.cli.mass_end_refused"), file=sys.stderr)
            return 3
        await apply_plan(session, plan, CLI_ACTOR, path.name, _now(), mass_end_confirmed=bool(guard))
    print(t("roster.cli.applied"))
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    path: Path = args.file
    if path.suffix.lower() not in (".csv", ".xlsx"):
        print(t("roster.cli.export_suffix"), file=sys.stderr)
        return 2
    async with _sessions(settings) as sessions, sessions() as session:
        data = await export_roster(session, path.name)
    await asyncio.to_thread(path.write_bytes, data)
    print(t("roster.cli.exported", path=str(path)))
    return 0


async def _coverage(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    async with _sessions(settings) as sessions, sessions() as session:
        report = await coverage(session, today_jst(_now()))
    print(t("roster.cov.title", day=cards.day_text(t, report.day)))
    if not report.sections:
        print(t("roster.cov.empty"))
        return 0
    print(
        f"{t('roster.cov.none')} {report.count(NONE_REACHABLE)} / {t('roster.cov.partial')} "
        f"{report.count(1)} / {t('roster.cov.complete')} {report.count(COMPLETE)} / "
        f"{t('roster.cov.promoters')} "
        + t("roster.cov.promoters_value", total=report.promoters, reachable=report.reachable_promoters)
    )
    # The summary above says it all when every section is reached; the list is for what needs doing.
    marks = {NONE_REACHABLE: "×", 1: "△", COMPLETE: "○"}
    shown = [s for s in report.sections if args.all or s.status != COMPLETE]
    for s in shown:
        print(f"{marks[s.status]} {cards.coverage_line(t, s).replace('**', '')}")
    hidden = len(report.sections) - len(shown)
    if not shown:
        print(t("roster.cov.all_good"))
    elif hidden:
        print(t("roster.cov.more", n=hidden))
    if hidden:
        print(t("roster.cov.cli_all"))
    return 0


async def _install(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    graph = GraphConfig.from_settings(settings)
    async with _sessions(settings) as sessions, sessions() as session, session.begin():
        report = await coverage(session, today_jst(_now()))
        users = sorted({h.email for h in report.unreachable()})
        if not users:
            print(t("roster.install.nobody"))
            return 0
        if args.dry_run or not graph.configured:
            for email in users:
                print(email)
            if not graph.configured:
                print(t("roster.install.not_configured"), file=sys.stderr)
                return 0 if args.dry_run else 2
            return 0
        result = await install_for(graph, users)
        if result.error:
            print(t("roster.install.token_failed"), file=sys.stderr)
            return 1
        counts = {k: result.count(k) for k in ("installed", "already", "not_found", "forbidden", "failed")}
        audit(session, CLI_ACTOR, "roster.app_install", _now(), requested=len(users), **counts)
    print(t("roster.install.done", n=len(users), **counts))
    return 0 if counts["failed"] == 0 else 1


def _kind(args: argparse.Namespace) -> DivisionRoleKind:
    return DivisionRoleKind.AUTHOR if args.author else DivisionRoleKind.ADMIN


async def _admin_add(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    kind = _kind(args)
    async with _sessions(settings) as sessions, sessions() as session, session.begin():
        outcome = await grant(session, args.email, kind, CLI_ACTOR, _now(), name=args.name)
    print(t(f"roster.admin.{outcome.value}", email=args.email.lower(), role=cards.division_text(t, kind)))
    return 0 if outcome in (Outcome.GRANTED, Outcome.ALREADY) else 1


async def _admin_remove(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    kind = _kind(args)
    async with _sessions(settings) as sessions, sessions() as session, session.begin():
        outcome = await revoke(session, args.email, kind, CLI_ACTOR, _now(), settings.admins)
    print(t(f"roster.admin.{outcome.value}", email=args.email.lower(), role=cards.division_text(t, kind)))
    return 0 if outcome is Outcome.REVOKED else 1


async def _admin_list(settings: Settings, args: argparse.Namespace) -> int:
    t = _t(settings)
    async with _sessions(settings) as sessions, sessions() as session:
        members = await division_members(session)
    for m in members:
        print(f"{cards.division_text(t, m.role)}\t{m.email}\t{m.name}\t{today_jst(m.since).isoformat()}")
    for email in settings.admins:
        print(f"{t('roster.admins.configured')}\t{email}")
    if not members and not settings.admins:
        print(t("roster.none"))
    return 0
