"""Adaptive Cards and texts of the roster feature. Every function takes ``t`` (a turn's or a locale's).

card = dry_run_card(turn.t, plan, "名簿.xlsx", token)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from dialogs.kit.business_days import format_date_ja, format_datetime_ja
from dialogs.kit.cards import adaptive_card, container, facts, heading, submit, text
from dialogs.roster.admins import DivisionMember
from dialogs.roster.coverage import COMPLETE, NONE_REACHABLE, PARTIAL, CoverageReport, SectionCoverage
from dialogs.roster.directory import PersonRoles, RosterSummary, SectionRef
from dialogs.roster.importer import Change, ImportPlan, MassEnd, Post
from dialogs.roster.network import Promoter, today_jst
from dialogs.roster.pending import CONFIRM_INPUT
from dialogs.roster.reader import Problem
from storage.models.roster import DivisionRoleKind, PromoterRole
from storage.models.shared import AuditEntry

T = Callable[..., str]
LIST_LIMIT = 15
COVERAGE_LIMIT = 30
PROBLEM_LIMIT = 30
GUARD_SECTION_LIMIT = 10
NAMES_LIMIT = 8  # sections named on one line before 「ほか n課」


def day_text(t: T, day: date) -> str:
    if t("roster.date_style") == "ja":
        return format_date_ja(day)
    return day.isoformat()


def moment_text(t: T, moment: datetime) -> str:
    if t("roster.date_style") == "ja":
        return format_datetime_ja(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def role_text(t: T, role: PromoterRole | str) -> str:
    return t(f"roster.role.{PromoterRole(role).value}")


def division_text(t: T, kind: DivisionRoleKind | str) -> str:
    return t(f"roster.division.{DivisionRoleKind(kind).value}")


# --- problems -----------------------------------------------------------------------------------
def where(t: T, p: Problem) -> str:
    column = t(f"roster.col.{p.column}") if p.column else None
    if p.row is None:
        return t("roster.where.file")
    if column and p.letter:
        return t("roster.where.row_col_letter", row=p.row, letter=p.letter, column=column)
    if column:
        return t("roster.where.row_col", row=p.row, column=column)
    if p.letter:
        return t("roster.where.row_letter", row=p.row, letter=p.letter)
    return t("roster.where.row", row=p.row)


def describe(t: T, p: Problem) -> str:
    """「5行目・E列「メールアドレス」: メールアドレス「yamada@」の形式が…」"""
    params: dict[str, Any] = dict(p.params)
    if p.column:
        params.setdefault("column", t(f"roster.col.{p.column}"))
    for key in ("since", "effective", "latest"):
        if isinstance(params.get(key), str):
            params[key] = day_text(t, date.fromisoformat(params[key]))
    prefix = "roster.warn." if p.code in ("no_leader", "many_ended") else "roster.err."
    message = t(prefix + p.code, **params)
    if p.code in ("no_leader", "many_ended", "effective_before_latest"):  # not a place in the file
        return message
    return f"{where(t, p)}: {message}"


def problem_lines(t: T, problems: Sequence[Problem], limit: int = PROBLEM_LIMIT) -> list[str]:
    lines = [describe(t, p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(t("roster.more", n=len(problems) - limit))
    return lines


def errors_card(t: T, file_name: str, problems: Sequence[Problem]) -> dict[str, Any]:
    body = [
        heading(t("roster.errors.title")),
        text(t("roster.errors.intro", file=file_name, n=len(problems))),
        container(
            [text(f"・{line}", spacing="Small") for line in problem_lines(t, problems)], spacing="Medium"
        ),
    ]
    return adaptive_card(body)


# --- dry run --------------------------------------------------------------------------------------
def post_text(t: T, post: Post | None) -> str:
    if post is None:
        return ""
    return f"{post.department} {post.section} {role_text(t, post.role)}"


def change_line(t: T, c: Change) -> str:
    if c.kind == "added":
        assert c.after is not None
        return t(
            "roster.dry.line.added",
            row=c.row,
            section=f"{c.after.department} {c.after.section}",
            role=role_text(t, c.after.role),
            name=c.name,
        )
    if c.kind == "moved":
        return t(
            "roster.dry.line.moved", name=c.name, before=post_text(t, c.before), after=post_text(t, c.after)
        )
    return t("roster.dry.line.ended", name=c.name, before=post_text(t, c.before))


def _limited(t: T, lines: list[str], limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    shown = [text(f"・{line}", spacing="None", size="Small") for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(
            text(t("roster.more", n=len(lines) - limit), isSubtle=True, size="Small", spacing="None")
        )
    return shown


def plan_sections(t: T, plan: ImportPlan) -> list[dict[str, Any]]:
    """The lists under the counts: who is added, moved, ended; which sections appear or go."""
    blocks: list[dict[str, Any]] = []
    groups: list[tuple[str, list[str]]] = [
        ("roster.dry.added", [change_line(t, c) for c in plan.added]),
        ("roster.dry.moved", [change_line(t, c) for c in plan.moved]),
        ("roster.dry.ended", [change_line(t, c) for c in plan.ended]),
        ("roster.dry.renamed", [f"{old} → {new}({email})" for email, old, new in plan.renamed]),
        ("roster.dry.new_sections", [f"{d} {s}" for d, s in plan.new_sections]),
        ("roster.dry.closed_sections", [f"{d} {s}" for d, s in plan.closed_sections]),
        ("roster.dry.reopened_sections", [f"{d} {s}" for d, s in plan.reopened_sections]),
    ]
    for key, lines in groups:
        if lines:
            blocks.append(text(f"**{t(key)}**", spacing="Medium"))
            blocks.extend(_limited(t, lines))
    return blocks


def plan_facts(t: T, plan: ImportPlan) -> dict[str, Any]:
    people = lambda n: t("roster.people", n=n)  # noqa: E731
    pairs = [
        (t("roster.dry.effective"), day_text(t, plan.effective)),
        (t("roster.dry.rows"), str(plan.rows)),
        (t("roster.dry.added"), people(len(plan.added))),
        (t("roster.dry.moved"), people(len(plan.moved))),
        (t("roster.dry.ended"), people(len(plan.ended))),
        (t("roster.dry.unchanged"), people(plan.unchanged)),
    ]
    if plan.new_sections:
        pairs.append((t("roster.dry.new_sections"), t("roster.sections_n", n=len(plan.new_sections))))
    if plan.closed_sections:
        pairs.append((t("roster.dry.closed_sections"), t("roster.sections_n", n=len(plan.closed_sections))))
    return facts(pairs)


def mass_end_lines(t: T, guard: MassEnd) -> list[str]:
    """How many roles end and what share, the sections (roster order, at most 10), why it may be wrong."""
    names = [f"{d} {s}" for d, s in guard.sections[:GUARD_SECTION_LIMIT]]
    if len(guard.sections) > GUARD_SECTION_LIMIT:
        names.append(t("roster.guard.sections_more", n=len(guard.sections) - GUARD_SECTION_LIMIT))
    return [
        t(
            "roster.guard.body",
            current=guard.current,
            ended=guard.ended,
            percent=guard.percent,
            people=guard.people,
        ),
        t("roster.guard.sections", n=len(guard.sections), names=t("roster.guard.join").join(names)),
        t("roster.guard.why"),
        t(
            "roster.guard.limit",
            max_count=guard.max_count,
            max_percent=round(guard.max_share * 100),
        ),
    ]


def mass_end_block(t: T, guard: MassEnd) -> dict[str, Any]:
    """The red warning of the dry-run card."""
    body, sections, why, limit = mass_end_lines(t, guard)
    return container(
        [
            text(t("roster.guard.title"), color="Attention", weight="Bolder", size="Medium"),
            text(body, color="Attention", weight="Bolder"),
            text(sections),
            text(why),
            text(t("roster.guard.next")),
            text(limit, isSubtle=True, size="Small"),
        ],
        style="attention",
        spacing="Medium",
    )


def dry_run_card(
    t: T,
    plan: ImportPlan,
    file_name: str,
    token: str | None,
    note: str | None = None,
    guard: MassEnd | None = None,
    confirm_code: str | None = None,
) -> dict[str, Any]:
    """The dry run; with ``guard`` a red warning, and applying needs the toggle sending ``confirm_code``."""
    body: list[dict[str, Any]] = [heading(t("roster.dry.title"))]
    if note:
        body.append(text(note, color="Attention", weight="Bolder"))
    if not plan.has_changes:
        body.append(text(t("roster.dry.no_change", file=file_name)))
        body.append(plan_facts(t, plan))
        return adaptive_card(body)
    body.append(text(t("roster.dry.intro", file=file_name)))
    if guard:
        body.append(mass_end_block(t, guard))
    body.append(plan_facts(t, plan))
    # The red warning says more than the yellow "many ended" one would.
    warnings = [w for w in plan.warnings if not (guard and w.code == "many_ended")]
    if warnings:
        body.append(text(f"**{t('roster.dry.warnings')}**", spacing="Medium", color="Warning"))
        body.extend(_limited(t, [describe(t, w) for w in warnings], limit=10))
    body.extend(plan_sections(t, plan))
    actions = None
    if token and guard and confirm_code:
        body.append(
            {
                "type": "Input.Toggle",
                "id": CONFIRM_INPUT,
                "title": t("roster.guard.confirm", people=guard.people),
                "valueOn": confirm_code,
                "valueOff": "",
                "wrap": True,
                "isRequired": True,
                "errorMessage": t("roster.guard.confirm_missing"),
                "spacing": "Large",
                "separator": True,
            }
        )
        actions = [
            submit(t("roster.dry.apply"), "roster.apply", style="destructive", token=token),
            {**submit(t("roster.dry.cancel"), "roster.cancel", token=token), "associatedInputs": "none"},
        ]
    elif token:
        actions = [
            submit(t("roster.dry.apply"), "roster.apply", style="positive", token=token),
            submit(t("roster.dry.cancel"), "roster.cancel", token=token),
        ]
    return adaptive_card(body, actions)


def applied_card(t: T, plan: ImportPlan, file_name: str, by: str, at: datetime) -> dict[str, Any]:
    body = [
        heading(t("roster.applied.title")),
        text(
            t(
                "roster.applied.body",
                effective=day_text(t, plan.effective),
                added=len(plan.added),
                moved=len(plan.moved),
                ended=len(plan.ended),
                by=by,
                at=moment_text(t, at),
            )
        ),
        plan_facts(t, plan),
        *plan_sections(t, plan),
    ]
    return adaptive_card(body)


def cancelled_card(t: T, file_name: str) -> dict[str, Any]:
    return adaptive_card(
        [heading(t("roster.cancelled.title")), text(t("roster.cancelled.body", file=file_name))]
    )


# --- 名簿 / 担当 / 私の役割 -------------------------------------------------------------------------
def summary_card(t: T, s: RosterSummary) -> dict[str, Any]:
    if s.sections == 0:
        return adaptive_card([heading(t("roster.summary.title")), text(t("roster.summary.empty"))])
    pairs = [
        (t("roster.summary.departments"), str(s.departments)),
        (t("roster.summary.sections"), str(s.sections)),
        (
            t("roster.summary.promoters"),
            t("roster.summary.promoters_value", n=s.promoters, leaders=s.leaders, subleaders=s.subleaders),
        ),
        (t("roster.summary.no_leader"), t("roster.sections_n", n=s.sections_without_leader)),
        (t("roster.summary.vacant"), t("roster.sections_n", n=s.sections_without_promoter)),
    ]
    if s.last_import:
        pairs.append((t("roster.summary.updated"), moment_text(t, s.last_import)))
    body = [heading(t("roster.summary.title")), facts(pairs)]
    if s.leaderless:
        body.append(text(t("roster.leaderless", names=names_capped(t, s.leaderless)), color="Warning"))
    body.append(text(t("roster.summary.hint"), isSubtle=True))
    return adaptive_card(body)


def names_capped(t: T, names: Sequence[str], limit: int = NAMES_LIMIT) -> str:
    """「総務部 人事課、財務部 税務課、ほか3課」: the first names in the order given, then a count."""
    shown = t("roster.names_sep").join(names[:limit])
    if len(names) > limit:
        return t("roster.names_more", names=shown, n=len(names) - limit)
    return shown


def section_card(t: T, sections: list[SectionRef], holders: dict[int, list[Promoter]]) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    for ref in sections:
        people = holders.get(ref.id, [])
        leaders = [p for p in people if p.role is PromoterRole.LEADER]
        subs = [p for p in people if p.role is PromoterRole.SUBLEADER]
        vacant = t("roster.who.vacant")
        pairs = [
            (role_text(t, PromoterRole.LEADER), "、".join(f"{p.name}({p.email})" for p in leaders) or vacant),
            (role_text(t, PromoterRole.SUBLEADER), "、".join(f"{p.name}({p.email})" for p in subs) or vacant),
        ]
        body.append(heading(t("roster.who.title", section=ref.label), size="Medium"))
        body.append(facts(pairs))
    return adaptive_card(body)


def me_card(t: T, info: PersonRoles | None, email: str | None, configured_admin: bool) -> dict[str, Any]:
    body: list[dict[str, Any]] = [heading(t("roster.me.title"))]
    lines: list[str] = []
    if configured_admin:
        lines.append(t("roster.me.configured"))
    if info is not None:
        body.append(text(f"{info.name}({info.email})", isSubtle=True))
        lines += [t("roster.me.division", role=division_text(t, k)) for k in info.division]
        for post in info.posts:
            section = f"{post.department} {post.section}"
            if post.until:
                lines.append(
                    t(
                        "roster.me.post_until",
                        section=section,
                        role=role_text(t, post.role),
                        since=day_text(t, post.since),
                        until=day_text(t, post.until),
                    )
                )
            else:
                lines.append(
                    t(
                        "roster.me.post",
                        section=section,
                        role=role_text(t, post.role),
                        since=day_text(t, post.since),
                    )
                )
        for post in info.upcoming:
            lines.append(
                t(
                    "roster.me.upcoming",
                    section=f"{post.department} {post.section}",
                    role=role_text(t, post.role),
                    since=day_text(t, post.since),
                )
            )
    elif email is None:
        body.append(text(t("roster.me.no_email")))
    elif not configured_admin:
        body.append(text(t("roster.me.not_found", email=email)))
    if lines:
        body.extend(text(f"・{line}", spacing="Small") for line in lines)
    elif info is not None:
        body.append(text(t("roster.me.staff")))
    return adaptive_card(body)


# --- カバー状況 -------------------------------------------------------------------------------------
def coverage_line(t: T, s: SectionCoverage, states: bool = True) -> str:
    """「**総務部 総務課** — リーダー 鈴木 一郎(届く) / サブリーダー 佐藤 翔太(届かない)」.

    Without ``states`` (a section nobody can be reached in) the names stand alone.
    """
    parts = []
    if s.leader is None:
        parts.append(t("roster.cov.vacant_leader") if s.subleaders else t("roster.cov.vacant"))
    for h in s.holders:
        if states:
            state = t("roster.cov.ok") if h.reachable else t("roster.cov.ng")
            parts.append(t("roster.cov.holder", role=role_text(t, h.role), name=h.name, state=state))
        else:
            parts.append(f"{role_text(t, h.role)} {h.name}")
    return t("roster.cov.line", section=f"{s.department} {s.section}", holders=" / ".join(parts))


def coverage_card(
    t: T, report: CoverageReport, install_offer: int | None, graph_hint: bool = False
) -> dict[str, Any]:
    """Counts, then the sections nobody can be reached in, then those with a gap (at most 30 lines).

    ``install_offer``: how many people the install button would cover (None: no button).
    """
    body: list[dict[str, Any]] = [heading(t("roster.cov.title", day=day_text(t, report.day)))]
    if not report.sections:
        body.append(text(t("roster.cov.empty")))
        return adaptive_card(body)
    none, partial = report.count(NONE_REACHABLE), report.count(PARTIAL)
    body.append(
        facts(
            [
                (t("roster.cov.sections"), str(len(report.sections))),
                (t("roster.cov.none"), t("roster.sections_n", n=none)),
                (t("roster.cov.partial"), t("roster.sections_n", n=partial)),
                (t("roster.cov.complete"), t("roster.sections_n", n=report.count(COMPLETE))),
                (t("roster.cov.no_leader"), t("roster.sections_n", n=report.without_leader)),
                (
                    t("roster.cov.promoters"),
                    t(
                        "roster.cov.promoters_value",
                        total=report.promoters,
                        reachable=report.reachable_promoters,
                    ),
                ),
            ]
        )
    )
    leaderless = [
        f"{s.department} {s.section}"
        for s in sorted(report.sections, key=lambda s: s.order)
        if s.leader is None
    ]
    if leaderless:
        body.append(text(t("roster.leaderless", names=names_capped(t, leaderless)), color="Warning"))
    if none + partial == 0:
        body.append(text(t("roster.cov.all_good"), color="Good"))
    else:
        body.append(text(t("roster.cov.explain"), isSubtle=True, size="Small"))
        # Nobody-reachable sections first, keeping a few lines so the sections with a gap show too.
        rooms = {NONE_REACHABLE: COVERAGE_LIMIT - min(partial, COVERAGE_LIMIT // 3)}
        groups = ((NONE_REACHABLE, "roster.cov.none", False), (PARTIAL, "roster.cov.partial", True))
        for status, key, states in groups:
            group = [s for s in report.sections if s.status == status]
            room = rooms.get(status, COVERAGE_LIMIT - min(none, rooms[NONE_REACHABLE]))
            if not group:
                continue
            shown = group[:room]
            color = "Attention" if status == NONE_REACHABLE else "Warning"
            lines = [text(f"**{t(key)}({len(group)})**", spacing="Medium", color=color)]
            lines += [text(coverage_line(t, s, states), spacing="None", size="Small") for s in shown]
            if len(group) > len(shown):
                more = t("roster.cov.more_problems", n=len(group) - len(shown))
                lines.append(text(more, isSubtle=True, size="Small", spacing="None"))
            body.append(container(lines))
        complete = report.count(COMPLETE)
        if complete:
            body.append(text(t("roster.cov.more", n=complete), isSubtle=True, size="Small"))
    if graph_hint:
        body.append(text(t("roster.cov.no_graph"), isSubtle=True, size="Small"))
    actions = None
    if install_offer:
        actions = [submit(t("roster.cov.install", n=install_offer), "roster.install", style="positive")]
    return adaptive_card(body, actions)


# --- DX division and audit ------------------------------------------------------------------------
def division_card(t: T, members: list[DivisionMember], configured: list[str]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [heading(t("roster.admins.title"))]
    for kind in (DivisionRoleKind.ADMIN, DivisionRoleKind.AUTHOR):
        rows = [m for m in members if m.role is kind]
        body.append(text(f"**{division_text(t, kind)}**", spacing="Medium"))
        if not rows:
            body.append(text(t("roster.none"), isSubtle=True, spacing="None"))
        for m in rows:
            line = t("roster.admins.since", name=m.name, email=m.email, since=day_text(t, today_jst(m.since)))
            body.append(text(f"・{line}", spacing="None"))
    if configured:
        body.append(text(f"**{t('roster.admins.configured')}**", spacing="Medium"))
        body.extend(text(f"・{email}", spacing="None") for email in configured)
    return adaptive_card(body)


def audit_what(t: T, entry: AuditEntry) -> str:
    detail: dict[str, Any] = dict(entry.detail or {})
    if "role" in detail and entry.action.startswith("division."):
        detail["role"] = division_text(t, detail["role"])
    for key in ("effective", "before", "after"):  # days kept as ISO text, shown as the reader writes them
        if isinstance(detail.get(key), str) and detail[key]:
            try:
                detail[key] = day_text(t, date.fromisoformat(detail[key]))
            except ValueError:
                pass
    key = f"roster.audit.{entry.action}"
    try:
        message = t(key, **detail)
    except (KeyError, IndexError):
        message = key
    if message == key:  # another feature's action, or a detail that does not fit
        return t("roster.audit.other", action=entry.action)
    if detail.get("mass_end_confirmed"):
        message += t("roster.audit.mass_end_confirmed")
    return message


def audit_card(t: T, entries: list[AuditEntry]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [heading(t("roster.audit.title"))]
    if not entries:
        body.append(text(t("roster.audit.empty")))
    for e in entries:
        actor = t("roster.audit.cli") if e.actor_label == "cli" else e.actor_label
        body.append(
            text(
                t("roster.audit.line", at=moment_text(t, e.at), actor=actor, what=audit_what(t, e)),
                size="Small",
                spacing="Small",
            )
        )
    return adaptive_card(body)
