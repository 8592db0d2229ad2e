"""The dashboard's 成果 page: published improvement cases, hours saved per department and tool over
fiscal years, and recognition results. The sums are this feature's own (service.savings), so the page,
「事例集計」 and the quarterly report agree."""

from __future__ import annotations

from sqlalchemy import select

from dialogs.cases import service
from dialogs.cases.service import PUBLISHED
from dialogs.dashboard import charts
from dialogs.dashboard.pages.common import Block, Context, Option, PageView, Select, Tile
from dialogs.dashboard.tables import Column, Table
from storage.models import ImprovementCase, RecognitionRound

CHART_ROWS = 15
LIST_LIMIT = 50


def _h(hours: float) -> float | int:
    """Hours as a table shows them: 60, 12.5 (one decimal at most)."""
    value = round(hours, 1)
    return int(value) if value.is_integer() else value


def _by_year_block(ctx: Context, key: str, title: str, rows: list[service.Saving], years: list[int]) -> Block:
    table = Table(
        key,
        title,
        [Column(ctx.t(f"results.col.{key}")), *[Column(ctx.t("results.col.fy", fy=y), "num") for y in years],
         Column(ctx.t("results.col.total"), "num"), Column(ctx.t("results.col.cases"), "num")],
    )  # fmt: skip
    for s in rows:
        table.add([s.label, *[_h(s.by_year.get(y, 0.0)) for y in years], _h(s.hours_per_month), s.cases])
    chart = charts.stacked_bars(
        [(s.label, [round(s.by_year.get(y, 0.0), 1) for y in years]) for s in rows[:CHART_ROWS]],
        [
            charts.Series(ctx.t("results.col.fy", fy=y), charts.PALETTE[i % len(charts.PALETTE)])
            for i, y in enumerate(years)
        ],
        title=title,
        unit=ctx.t("results.unit"),
        label_width=170,
    )
    return Block(title, table, chart, intro=ctx.t("results.by_year_intro"))


async def build(ctx: Context) -> PageView:
    view = PageView("results", ctx.t("dashboard.nav.results"), ctx.t("results.intro"))
    years_all = [s.key for s in await service.savings(ctx.session, "fiscal_year")]
    if not years_all:
        view.notice = ctx.t("results.none")
        return view
    chosen = ctx.int_param("fy")
    if chosen not in years_all:
        chosen = None
    view.filters.append(
        Select(
            "fy",
            ctx.t("results.filter.fy"),
            [Option("", ctx.t("results.filter.all"))]
            + [Option(str(y), ctx.t("results.col.fy", fy=y)) for y in years_all],
            str(chosen or ""),
        )
    )
    years = [chosen] if chosen else years_all
    hours, count = await service.total_saved(ctx.session, chosen)
    this_fy = service.fiscal_year(ctx.today)
    fy_hours, fy_count = await service.total_saved(ctx.session, this_fy)
    pending = await service.count_pending(ctx.session)
    view.tiles = [
        Tile(ctx.t("results.tile.cases"), f"{count}", ctx.t("results.tile.cases_detail")),
        Tile(ctx.t("results.tile.hours"), f"{service.fmt_hours(hours)}", ctx.t("results.tile.hours_detail", year=service.fmt_hours(hours * 12))),
        Tile(ctx.t("results.tile.this_fy", fy=this_fy), f"{service.fmt_hours(fy_hours)}", ctx.t("results.tile.this_fy_detail", n=fy_count)),
        Tile(ctx.t("results.tile.pending"), f"{pending}", ctx.t("results.tile.pending_detail"), alert=pending > 0),
    ]  # fmt: skip
    view.blocks.append(
        _by_year_block(ctx, "department", ctx.t("results.by_department"), await service.savings(ctx.session, "department", chosen), years)
    )  # fmt: skip
    view.blocks.append(
        _by_year_block(ctx, "tool", ctx.t("results.by_tool"), await service.savings(ctx.session, "tool", chosen), years)
    )  # fmt: skip

    where = ImprovementCase.state == PUBLISHED
    if chosen:
        where = where & (ImprovementCase.fiscal_year == chosen)
    cases = Table(
        "cases",
        ctx.t("results.cases"),
        [Column(ctx.t("results.col.title")), Column(ctx.t("results.col.section")), Column(ctx.t("results.col.tools")),
         Column(ctx.t("results.col.saved"), "num"), Column(ctx.t("results.col.published"))],
    )  # fmt: skip
    for v in await service.views(ctx.session, where, LIST_LIMIT, [ImprovementCase.published_at.desc()]):
        c = v.case
        cases.add(
            [
                c.title,
                f"{v.department} {v.section}",
                "、".join(c.tools),
                _h(c.hours_saved),
                ctx.date(c.published_at),
            ]
        )
    view.blocks.append(Block(ctx.t("results.cases"), cases, intro=ctx.t("results.cases_intro", n=LIST_LIMIT)))

    awards = Table(
        "recognition",
        ctx.t("results.recognition"),
        [Column(ctx.t("results.col.round")), Column(ctx.t("results.col.place"), "num"), Column(ctx.t("results.col.title")),
         Column(ctx.t("results.col.section")), Column(ctx.t("results.col.votes"), "num")],
        empty=ctx.t("results.recognition_none"),
    )  # fmt: skip
    rounds = await ctx.session.scalars(
        select(RecognitionRound)
        .where(RecognitionRound.state == "closed")
        .order_by(RecognitionRound.closed_at.desc())
    )
    for rnd in rounds.all():
        for r in rnd.results or []:
            awards.add([rnd.title, r["place"], r["title"], r["section"], r["votes"]])
    view.blocks.append(Block(ctx.t("results.recognition"), awards, intro=ctx.t("results.recognition_intro")))
    return view
