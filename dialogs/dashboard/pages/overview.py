"""Overview: promoters per section, who the bot can reach, and the sections it cannot reach at all.

Built on the roster's coverage report (dialogs/roster/coverage.py), so the dashboard and the
「カバー状況」 command agree on what "reachable" means.
"""

from __future__ import annotations

from dialogs.dashboard import charts
from dialogs.dashboard.pages.common import Block, Context, PageView, Tile
from dialogs.dashboard.tables import Column, Table
from dialogs.roster.coverage import COMPLETE, NONE_REACHABLE, PARTIAL, Holder, SectionCoverage, coverage

STATUS_KEYS = {
    COMPLETE: "dashboard.overview.status.complete",
    PARTIAL: "dashboard.overview.status.partial",
    NONE_REACHABLE: "dashboard.overview.status.none",
}


def _holder(ctx: Context, h: Holder | None) -> str:
    if h is None:
        return ctx.t("dashboard.overview.no_leader")
    mark = ctx.t("dashboard.overview.reachable" if h.reachable else "dashboard.overview.unreachable")
    return f"{h.name}({mark})" if ctx.locale == "ja" else f"{h.name} ({mark})"


def _why_unreachable(ctx: Context, s: SectionCoverage) -> str:
    if not s.holders:
        return ctx.t("dashboard.overview.why.nobody")
    if len(s.holders) == 1:
        return ctx.t("dashboard.overview.why.not_connected_one")
    return ctx.t("dashboard.overview.why.not_connected", count=len(s.holders))


async def build(ctx: Context) -> PageView:
    report = await coverage(ctx.session, ctx.today)
    sections = report.sections
    none = [s for s in sections if s.status == NONE_REACHABLE]
    share = report.reachable_promoters / report.promoters if report.promoters else None
    view = PageView("overview", ctx.t("dashboard.nav.overview"), ctx.t("dashboard.overview.intro"))
    if not sections:
        view.notice = ctx.t("dashboard.overview.no_roster")
        return view
    view.tiles = [
        Tile(ctx.t("dashboard.overview.tile.sections"), f"{len(sections)}"),
        Tile(
            ctx.t("dashboard.overview.tile.promoters"),
            f"{report.promoters}",
            ctx.t("dashboard.overview.tile.without_leader", count=report.without_leader),
            alert=report.without_leader > 0,
        ),
        Tile(
            ctx.t("dashboard.overview.tile.reachable"),
            charts.pct(share),
            ctx.t(
                "dashboard.overview.tile.reachable_detail",
                n=report.reachable_promoters,
                total=report.promoters,
            ),
        ),
        Tile(
            ctx.t("dashboard.overview.tile.none_reachable"),
            f"{len(none)}",
            ctx.t("dashboard.overview.tile.none_reachable_detail"),
            alert=bool(none),
        ),
    ]

    # Sections by status, per department, in roster order.
    series = [
        charts.Series(ctx.t(STATUS_KEYS[COMPLETE]), charts.PALETTE[2]),
        charts.Series(ctx.t(STATUS_KEYS[PARTIAL]), charts.PALETTE[1]),
        charts.Series(ctx.t(STATUS_KEYS[NONE_REACHABLE]), charts.PALETTE[4]),
    ]
    departments: dict[str, dict[str, int]] = {}  # name -> sections, promoters, reachable, per status
    order: dict[str, tuple[int, int]] = {}
    for s in sections:
        d = departments.setdefault(s.department, {"sections": 0, "promoters": 0, "reachable": 0,
                                                  "status0": 0, "status1": 0, "status2": 0})  # fmt: skip
        order[s.department] = min(order.get(s.department, s.order[:2]), s.order[:2])
        d["sections"] += 1
        d["promoters"] += len(s.holders)
        d["reachable"] += s.reachable
        d[f"status{s.status}"] += 1
    dept_names = sorted(departments, key=lambda n: order[n])
    chart = charts.stacked_bars(
        [
            (
                n,
                [
                    departments[n][f"status{COMPLETE}"],
                    departments[n][f"status{PARTIAL}"],
                    departments[n][f"status{NONE_REACHABLE}"],
                ],
            )
            for n in dept_names
        ],
        series,
        title=ctx.t("dashboard.overview.chart.departments"),
        unit=ctx.t("dashboard.unit.sections"),
    )
    dept_table = Table(
        "departments",
        ctx.t("dashboard.overview.departments"),
        [
            Column(ctx.t("dashboard.col.department")),
            Column(ctx.t("dashboard.col.sections"), "num"),
            Column(ctx.t("dashboard.col.promoters"), "num"),
            Column(ctx.t("dashboard.col.reachable"), "num"),
            Column(ctx.t("dashboard.col.reachable_share"), "pct"),
            Column(ctx.t(STATUS_KEYS[NONE_REACHABLE]), "num"),
        ],
    )
    for n in dept_names:
        d = departments[n]
        dept_table.add(
            [n, d["sections"], d["promoters"], d["reachable"],
             d["reachable"] / d["promoters"] if d["promoters"] else None, d[f"status{NONE_REACHABLE}"]],
            "alert" if d[f"status{NONE_REACHABLE}"] else "",
        )  # fmt: skip

    gaps = Table(
        "unreachable",
        ctx.t("dashboard.overview.unreachable_sections"),
        [
            Column(ctx.t("dashboard.col.department")),
            Column(ctx.t("dashboard.col.section")),
            Column(ctx.t("dashboard.col.named")),
            Column(ctx.t("dashboard.col.why")),
        ],
        empty=ctx.t("dashboard.overview.unreachable_none"),
    )
    for s in none:
        gaps.add(
            [s.department, s.section, "、".join(h.name for h in s.holders) or "—", _why_unreachable(ctx, s)],
            "alert",
        )

    all_sections = Table(
        "sections",
        ctx.t("dashboard.overview.sections"),
        [
            Column(ctx.t("dashboard.col.department")),
            Column(ctx.t("dashboard.col.section")),
            Column(ctx.t("dashboard.col.leader")),
            Column(ctx.t("dashboard.col.subleaders")),
            Column(ctx.t("dashboard.col.promoters"), "num"),
            Column(ctx.t("dashboard.col.reachable"), "num"),
            Column(ctx.t("dashboard.col.status")),
        ],
    )
    for s in sorted(sections, key=lambda s: s.order):
        all_sections.add(
            [
                s.department,
                s.section,
                _holder(ctx, s.leader),
                "、".join(_holder(ctx, h) for h in s.subleaders) or "—",
                len(s.holders),
                s.reachable,
                ctx.t(STATUS_KEYS[s.status]),
            ],
            "alert" if s.status == NONE_REACHABLE else "",
        )
    view.blocks = [
        Block(ctx.t("dashboard.overview.unreachable_sections"), gaps,
              intro=ctx.t("dashboard.overview.unreachable_intro")),
        Block(ctx.t("dashboard.overview.departments"), dept_table, chart),
        Block(ctx.t("dashboard.overview.sections"), all_sections),
    ]  # fmt: skip
    return view
