"""Surveys: response rates, the trend of each question overall and per department, the tool-adoption
heatmap by section, and the notable drops.

Every figure about answers comes from the survey feature's own aggregation (dialogs/survey/results.py:
``compute_trend``, ``compute_results``), so groups under the round's anonymity threshold are suppressed
here exactly as in the results the survey feature posts; this page only lays them out. Response
rates come from the tracking table (who was asked and whether they answered, never what), and in an
anonymous survey pass through ``participation`` as on the survey feature's cards, page and exports: a
department asked fewer than k people is merged into 「その他(少人数)」, never shown on its own.
"""

from __future__ import annotations

from sqlalchemy import case, func, select

from dialogs.dashboard import charts
from dialogs.dashboard.pages.common import Block, Context, Option, PageView, Select, Tile
from dialogs.dashboard.tables import SUPPRESSED, Column, Table
from dialogs.roster.order import roster_order
from dialogs.survey.questions import Question
from dialogs.survey.results import (
    RoundResults,
    Trend,
    TrendPoint,
    compute_results,
    compute_trend,
    participation,
    response_rates,
)
from storage.models import Survey, SurveyRecipient, SurveyRound

ROUNDS = 12


def _question_label(ctx: Context, q: Question) -> str:
    return q.tool or q.label(ctx.locale)


def _measure_key(q: Question) -> str:
    if q.tool:
        return "dashboard.surveys.measure.adopted"
    if q.type == "scale5":
        return "dashboard.surveys.measure.favourable"
    return "dashboard.surveys.measure.mean"


def _is_share(q: Question) -> bool:
    return bool(q.tool) or q.type == "scale5"


def _point_value(q: Question, p: TrendPoint | None) -> object:
    """A trend cell: the share or mean, or SUPPRESSED where the survey feature withheld it."""
    if p is None:
        return None
    return SUPPRESSED if p.value is None else p.value


async def _surveys_with_rounds(ctx: Context) -> list[tuple[Survey, int]]:
    rows = (
        await ctx.session.execute(
            select(Survey, func.count(SurveyRound.id))
            .join(SurveyRound, SurveyRound.survey_id == Survey.id)
            .where(SurveyRound.status == "closed", Survey.archived.is_(False))
            .group_by(Survey.id)
            .order_by(Survey.id)
        )
    ).all()
    return [(survey, int(n)) for survey, n in rows]


async def _rates_by_round(ctx: Context, round_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Invited and responded per round, from the tracking table (one GROUP BY for all rounds)."""
    if not round_ids:
        return {}
    rows = (
        await ctx.session.execute(
            select(
                SurveyRecipient.round_id,
                func.count(),
                func.sum(case((SurveyRecipient.responded.is_(True), 1), else_=0)),
            )
            .where(SurveyRecipient.round_id.in_(round_ids))
            .group_by(SurveyRecipient.round_id)
        )
    ).all()
    return {rid: (int(invited), int(responded or 0)) for rid, invited, responded in rows}


async def _latest_tool_round(ctx: Context) -> SurveyRound | None:
    """The latest closed round with tool-adoption questions, whichever survey it belongs to."""
    rounds = (
        await ctx.session.scalars(
            select(SurveyRound)
            .where(SurveyRound.status == "closed")
            .order_by(SurveyRound.open_at.desc())
            .limit(50)
        )
    ).all()
    return next((r for r in rounds if any(isinstance(q, dict) and q.get("tool") for q in r.questions)), None)


def _heatmap_block(ctx: Context, res: RoundResults) -> Block:
    tools = res.tool_questions()
    sections = res.of_kind("section")  # roster order (compute_results)
    dept_names = {g.key: g.name for g in res.of_kind("department")}
    values: list[list[float | None]] = []
    table = Table(
        "adoption",
        ctx.t("dashboard.surveys.heatmap", title=res.title, label=res.label),
        [Column(ctx.t("dashboard.col.section")), Column(ctx.t("dashboard.col.department"))]
        + [Column(q.tool or q.key, "pct") for q in tools],
        note=ctx.t("dashboard.surveys.suppressed_note", k=res.threshold)
        if res.anonymous
        else ctx.t("dashboard.surveys.named_note"),
    )
    for g in sections:
        row: list[float | None] = []
        for q in tools:
            st = g.stats.get(q.key)
            row.append(None if st is None or st.suppressed or not st.n else st.adopted)
        values.append(row)
        table.add(
            [g.name, dept_names.get(g.parent or "", "—")]
            + [SUPPRESSED if g.suppressed else (v if v is not None else None) for v in row]
        )
    chart = charts.heatmap(
        [g.name for g in sections],
        [q.tool or q.key for q in tools],
        values,
        title=ctx.t("dashboard.surveys.heatmap", title=res.title, label=res.label),
        empty=ctx.t("dashboard.suppressed_legend", k=res.threshold),
        desc=ctx.t("dashboard.surveys.heatmap_desc"),
    )
    return Block(
        ctx.t("dashboard.surveys.heatmap", title=res.title, label=res.label),
        table,
        chart,
        intro=ctx.t("dashboard.surveys.heatmap_intro"),
    )


async def build(ctx: Context) -> PageView:
    view = PageView("surveys", ctx.t("dashboard.nav.surveys"), ctx.t("dashboard.surveys.intro"))
    surveys = await _surveys_with_rounds(ctx)
    if not surveys:
        view.notice = ctx.t("dashboard.surveys.none")
        return view
    wanted = ctx.int_param("survey")
    survey = next((s for s, _ in surveys if s.id == wanted), surveys[0][0])
    trend: Trend = await compute_trend(ctx.session, survey.id, last=ROUNDS)
    round_ids = [rid for rid, _ in trend.rounds]
    labels = [label for _, label in trend.rounds]
    tracked = trend.questions
    view.filters.append(
        Select("survey", ctx.t("dashboard.filters.survey"),
               [Option(str(s.id), ctx.t("dashboard.surveys.option", title=s.title, n=n)) for s, n in surveys],
               str(survey.id))
    )  # fmt: skip
    question = next(
        (q for q in tracked if q.key == ctx.params.get("question")), tracked[0] if tracked else None
    )
    if tracked and question is not None:
        view.filters.append(
            Select("question", ctx.t("dashboard.filters.question"),
                   [Option(q.key, _question_label(ctx, q)) for q in tracked], question.key)
        )  # fmt: skip

    # Response rate per round, and per department in the latest round.
    rates = await _rates_by_round(ctx, round_ids)
    rate_series = [rates[r][1] / rates[r][0] if rates.get(r, (0, 0))[0] else None for r in round_ids]
    rate_table = Table(
        "response_rates",
        ctx.t("dashboard.surveys.rates"),
        [
            Column(ctx.t("dashboard.col.round")),
            Column(ctx.t("dashboard.col.invited"), "num"),
            Column(ctx.t("dashboard.col.responded"), "num"),
            Column(ctx.t("dashboard.col.rate"), "pct"),
        ],
    )
    for rid, label in trend.rounds:
        invited, responded = rates.get(rid, (0, 0))
        rate_table.add([label, invited, responded, responded / invited if invited else None])
    rate_chart = charts.line_chart(
        labels,
        [(charts.Series(ctx.t("dashboard.col.rate"), charts.PALETTE[0]), rate_series)],
        title=ctx.t("dashboard.surveys.chart.rates", title=survey.title),
    )
    latest_id = round_ids[-1] if round_ids else None
    dept_table = Table(
        "department_rates",
        ctx.t("dashboard.surveys.department_rates", label=labels[-1] if labels else ""),
        [
            Column(ctx.t("dashboard.col.department")),
            Column(ctx.t("dashboard.col.invited"), "num"),
            Column(ctx.t("dashboard.col.responded"), "num"),
            Column(ctx.t("dashboard.col.rate"), "pct"),
        ],
    )
    dept_rates = []
    if latest_id is not None:
        latest = await ctx.session.get(SurveyRound, latest_id)
        all_rates = await response_rates(ctx.session, latest_id)
        if latest is not None and latest.anonymous:  # no department asked fewer than k on its own
            all_rates = participation(all_rates, latest.threshold, ctx.locale)
        dept_rates = [r for r in all_rates if r.key.startswith("d:")]
        for r in dept_rates:  # roster order (response_rates)
            dept_table.add([r.name, r.invited, r.responded, r.rate], "alert" if r.rate < 0.5 else "")
    dept_chart = (
        charts.stacked_bars(
            [(r.name, [r.rate]) for r in dept_rates],
            [charts.Series(ctx.t("dashboard.col.rate"), charts.PALETTE[0])],
            title=ctx.t("dashboard.surveys.department_rates", label=labels[-1] if labels else ""),
            total=1,
        )
        if dept_rates
        else None
    )

    # Every tracked question over the rounds (overall), as the survey feature measures it.
    q_table = Table(
        "question_trends",
        ctx.t("dashboard.surveys.question_trends"),
        [Column(ctx.t("dashboard.col.question")), Column(ctx.t("dashboard.col.measure"))]
        + [Column(label, "pct") for label in labels],
        note=ctx.t("dashboard.surveys.suppressed_note", k=survey.threshold),
    )
    share_series = []
    for i, q in enumerate(tracked):
        points = {p.round_id: p for p in trend.overall.get(q.key, [])}
        cells = [_point_value(q, points.get(rid)) for rid in round_ids]
        if _is_share(q):
            share_series.append(
                (charts.Series(_question_label(ctx, q), charts.PALETTE[i % len(charts.PALETTE)]),
                 [c if isinstance(c, float) else None for c in cells])
            )  # fmt: skip
            q_table.add([_question_label(ctx, q), ctx.t(_measure_key(q))] + cells)
        else:  # a mean (0–10 scale, hours, %) in a column of shares: written out as a number
            shown = [f"{c:.2f}" if isinstance(c, float) else c for c in cells]
            q_table.add([_question_label(ctx, q), ctx.t(_measure_key(q))] + shown)
    q_chart = (
        charts.line_chart(
            labels, share_series[:8], title=ctx.t("dashboard.surveys.chart.questions", title=survey.title)
        )
        if share_series
        else None
    )

    # The chosen question per department: a department × round grid, in roster order.
    order = await roster_order(ctx.session)
    dept_block = None
    if question is not None:
        grid = Table(
            "department_trend",
            ctx.t("dashboard.surveys.department_trend", question=_question_label(ctx, question)),
            [Column(ctx.t("dashboard.col.department"))]
            + [Column(label, "pct" if _is_share(question) else "mean") for label in labels],
            note=ctx.t("dashboard.surveys.suppressed_note", k=survey.threshold),
        )
        dept_keys = sorted(
            (k for k in trend.by_group if k.startswith("d:")),
            key=lambda k: (order.group(k), trend.group_names.get(k, k)),
        )
        matrix: list[list[float | None]] = []
        for key in dept_keys:
            points = {p.round_id: p for p in trend.by_group[key].get(question.key, [])}
            cells = [_point_value(question, points.get(rid)) for rid in round_ids]
            grid.add([trend.group_names.get(key, key)] + cells)
            matrix.append([c if isinstance(c, float) else None for c in cells])
        chart = None
        if _is_share(question) and dept_keys:
            chart = charts.heatmap(
                [trend.group_names.get(k, k) for k in dept_keys],
                labels,
                matrix,
                title=ctx.t("dashboard.surveys.department_trend", question=_question_label(ctx, question)),
                empty=ctx.t("dashboard.suppressed_legend", k=survey.threshold),
                cell_w=54,
            )
        dept_block = Block(grid.title, grid, chart, intro=ctx.t(_measure_key(question) + ".explain"))

    # Notable drops in the latest round (the survey feature's own rule).
    drops = Table(
        "drops",
        ctx.t("dashboard.surveys.drops"),
        [
            Column(ctx.t("dashboard.col.group")),
            Column(ctx.t("dashboard.col.question")),
            Column(ctx.t("dashboard.col.before"), "pct"),
            Column(ctx.t("dashboard.col.after"), "pct"),
        ],
        empty=ctx.t("dashboard.surveys.no_drops"),
    )
    by_key = {q.key: q for q in tracked}
    for d in trend.drops:
        dq = by_key.get(d.question)
        kind = "pct" if d.measure in ("favourable", "adopted") else "mean"
        before: object = d.before if kind == "pct" else f"{d.before:.2f}"
        after: object = d.after if kind == "pct" else f"{d.after:.2f}"
        drops.add([d.name, _question_label(ctx, dq) if dq else d.question, before, after], "alert")

    heat_round = await _latest_tool_round(ctx)
    heat_block = None
    if heat_round is not None:
        heat_block = _heatmap_block(ctx, await compute_results(ctx.session, heat_round.id))

    last_rate = rate_series[-1] if rate_series else None
    prev_rate = rate_series[-2] if len(rate_series) > 1 else None
    change = (
        ctx.t("dashboard.surveys.tile.change", points=f"{(last_rate - prev_rate) * 100:+.1f}")
        if last_rate is not None and prev_rate is not None
        else ""
    )
    view.tiles = [
        Tile(ctx.t("dashboard.surveys.tile.latest"), labels[-1] if labels else "—", survey.title),
        Tile(ctx.t("dashboard.surveys.tile.rate"), charts.pct(last_rate), change),
        Tile(
            ctx.t("dashboard.surveys.tile.rounds"),
            f"{len(round_ids)}",
            ctx.t("dashboard.surveys.tile.rounds_detail"),
        ),
        Tile(
            ctx.t("dashboard.surveys.tile.threshold"),
            ctx.t("dashboard.surveys.tile.threshold_value", k=survey.threshold),
            ctx.t("dashboard.surveys.tile.threshold_detail")
            if survey.anonymous
            else ctx.t("dashboard.surveys.tile.named"),
        ),
        Tile(ctx.t("dashboard.surveys.tile.drops"), f"{len(trend.drops)}", alert=bool(trend.drops)),
    ]
    view.blocks = [
        Block(ctx.t("dashboard.surveys.rates"), rate_table, rate_chart, wide=False),
        Block(dept_table.title, dept_table, dept_chart, wide=False),
        Block(ctx.t("dashboard.surveys.question_trends"), q_table, q_chart),
    ]
    if dept_block is not None:
        view.blocks.append(dept_block)
    view.blocks.append(Block(ctx.t("dashboard.surveys.drops"), drops))
    if heat_block is not None:
        view.blocks.append(heat_block)
    return view
