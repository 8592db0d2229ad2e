"""Questions: what promoters ask most, what the bot could not answer, the tickets waiting for the DX
division and how old they are, and how helpful each knowledge-base entry was found.

A question is answered by the bot when it was answered outright or when the asker picked an entry from
「どれが近いですか?」 (answered by choice); the others are the questions it could not answer.

Reads the question-answering feature's tables (storage/models/qa.py): the query log and feedback
hold no asker, so nothing here names who asked.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from dialogs.dashboard import charts
from dialogs.dashboard.pages.common import Block, Context, Option, PageView, Select, Tile
from dialogs.dashboard.tables import Column, Table
from dialogs.kit.business_days import business_days_between, to_jst
from dialogs.qa.tickets import is_overdue
from storage.models.qa import Feedback, KbEntry, QueryLog, Ticket, TicketStatus

PERIODS = ("30", "90", "365", "all")
DEFAULT_PERIOD = "90"
TOP = 15
UNANSWERED_ROWS = 30
# Ticket age in business days: (upper bound inclusive, label key).
AGE_BUCKETS = (
    (0, "dashboard.questions.age.today"),
    (2, "dashboard.questions.age.1_2"),
    (5, "dashboard.questions.age.3_5"),
    (10, "dashboard.questions.age.6_10"),
    (None, "dashboard.questions.age.11_plus"),
)
LOW_HELPFUL = 0.5  # an entry found helpful by fewer than half, with at least MIN_VOTES votes
MIN_VOTES = 3


def _since(ctx: Context, period: str) -> datetime | None:
    return None if period == "all" else ctx.now - timedelta(days=int(period))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def build(ctx: Context) -> PageView:
    period = ctx.params.get("days", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    since = _since(ctx, period)
    in_period = [QueryLog.at >= since] if since else []
    fb_period = [Feedback.at >= since] if since else []
    s = ctx.session

    view = PageView("questions", ctx.t("dashboard.nav.questions"), ctx.t("dashboard.questions.intro"))
    view.filters = [
        Select(
            "days",
            ctx.t("dashboard.filters.period"),
            [Option(p, ctx.t(f"dashboard.questions.period.{p}")) for p in PERIODS],
            period,
        )
    ]

    by_choice = and_(QueryLog.answered.is_(False), QueryLog.picked_key.is_not(None))
    asked, outright, picked = (
        await s.execute(
            select(
                func.count(),
                func.sum(case((QueryLog.answered.is_(True), 1), else_=0)),
                func.sum(case((by_choice, 1), else_=0)),
            ).where(*in_period)
        )
    ).one()
    asked, picked = int(asked or 0), int(picked or 0)
    answered = int(outright or 0) + picked

    # Most asked: the entries the bot answered with, outright or picked from its choices, by count.
    given = case((QueryLog.answered.is_(True), QueryLog.top_key), else_=QueryLog.picked_key)
    top_rows = (
        await s.execute(
            select(given, func.count().label("n"))
            .where(or_(QueryLog.answered.is_(True), by_choice), given.is_not(None), *in_period)
            .group_by(given)
            .order_by(func.count().desc(), given)
            .limit(TOP)
        )
    ).all()
    feedback_rows = (
        await s.execute(
            select(
                Feedback.entry_key,
                func.sum(case((Feedback.helpful.is_(True), 1), else_=0)),
                func.sum(case((Feedback.helpful.is_(True), 0), else_=1)),
            )
            .where(*fb_period)
            .group_by(Feedback.entry_key)
        )
    ).all()
    votes = {key: (int(up or 0), int(down or 0)) for key, up, down in feedback_rows}
    keys = {k for k, _ in top_rows} | set(votes)
    questions: dict[str, str] = {}
    if keys:
        rows = await s.execute(select(KbEntry.key, KbEntry.question).where(KbEntry.key.in_(keys)))
        questions = {key: text for key, text in rows.all()}

    def entry_label(key: str) -> str:
        return _short(questions.get(key) or ctx.t("dashboard.questions.deleted_entry", entry=key), 60)

    most = Table(
        "most_asked",
        ctx.t("dashboard.questions.most_asked"),
        [
            Column(ctx.t("dashboard.col.entry_question")),
            Column(ctx.t("dashboard.col.entry_key")),
            Column(ctx.t("dashboard.col.asked"), "num"),
            Column(ctx.t("dashboard.col.helpful_share"), "pct"),
        ],
        empty=ctx.t("dashboard.questions.none_in_period"),
    )
    for key, n in top_rows:
        up, down = votes.get(key, (0, 0))
        most.add([entry_label(key), key, int(n), up / (up + down) if up + down else None])
    most_chart = (
        charts.stacked_bars(
            [(entry_label(k), [int(n)]) for k, n in top_rows[:10]],
            [charts.Series(ctx.t("dashboard.col.asked"), charts.PALETTE[0])],
            title=ctx.t("dashboard.questions.chart.most_asked"),
            unit=ctx.t("dashboard.unit.times"),
            label_width=260,
        )
        if top_rows
        else None
    )

    # Unanswered: questions below the confidence threshold where no choice was picked, the same wording
    # (ignoring case and surrounding spaces) counted together; one of its spellings is shown.
    normal = func.lower(func.trim(QueryLog.query))
    miss_rows = (
        await s.execute(
            select(func.min(QueryLog.query), func.count(), func.max(QueryLog.at), func.max(QueryLog.top_key))
            .where(QueryLog.answered.is_(False), QueryLog.picked_key.is_(None), *in_period)
            .group_by(normal)
            .order_by(func.count().desc(), func.max(QueryLog.at).desc())
            .limit(UNANSWERED_ROWS)
        )
    ).all()
    unanswered = Table(
        "unanswered",
        ctx.t("dashboard.questions.unanswered"),
        [
            Column(ctx.t("dashboard.col.question")),
            Column(ctx.t("dashboard.col.asked"), "num"),
            Column(ctx.t("dashboard.col.last_asked")),
            Column(ctx.t("dashboard.col.nearest_entry")),
        ],
        empty=ctx.t("dashboard.questions.none_in_period"),
        note=ctx.t("dashboard.questions.unanswered_note", n=UNANSWERED_ROWS),
    )
    for text, n, last, near in miss_rows:
        unanswered.add([_short(text), int(n), ctx.date(last), near or "—"])

    # Ticket backlog: everything still open or in progress, oldest first.
    backlog = list(
        (
            await s.scalars(
                select(Ticket)
                .where(Ticket.status.in_((TicketStatus.OPEN, TicketStatus.CLAIMED)))
                .order_by(Ticket.created_at)
            )
        ).all()
    )
    today = ctx.today
    ages = [business_days_between(to_jst(tk.created_at).date(), today) for tk in backlog]
    overdue = [is_overdue(tk, ctx.now) for tk in backlog]
    bucket_counts = {label: [0, 0] for _, label in AGE_BUCKETS}
    for tk, age in zip(backlog, ages, strict=True):
        label = next(lbl for top, lbl in AGE_BUCKETS if top is None or age <= top)
        bucket_counts[label][0 if tk.status == TicketStatus.OPEN else 1] += 1
    backlog_chart = charts.stacked_bars(
        [(ctx.t(label), counts) for label, counts in bucket_counts.items()],
        [
            charts.Series(ctx.t("dashboard.questions.status.open"), charts.PALETTE[4]),
            charts.Series(ctx.t("dashboard.questions.status.claimed"), charts.PALETTE[0]),
        ],
        title=ctx.t("dashboard.questions.chart.backlog"),
        unit=ctx.t("dashboard.unit.tickets"),
    )
    tickets = Table(
        "backlog",
        ctx.t("dashboard.questions.backlog"),
        [
            Column(ctx.t("dashboard.col.ticket")),
            Column(ctx.t("dashboard.col.question")),
            Column(ctx.t("dashboard.col.status")),
            Column(ctx.t("dashboard.col.assignee")),
            Column(ctx.t("dashboard.col.received")),
            Column(ctx.t("dashboard.col.age_days"), "num"),
            Column(ctx.t("dashboard.col.overdue")),
        ],
        empty=ctx.t("dashboard.questions.backlog_empty"),
    )
    for tk, age, late in zip(backlog, ages, overdue, strict=True):
        tickets.add(
            [
                f"#{tk.id}",
                _short(tk.question),
                ctx.t(f"dashboard.questions.status.{TicketStatus(tk.status).value}"),
                tk.assignee_name or "—",
                ctx.date(tk.created_at),
                age,
                ctx.t("dashboard.yes") if late else "",
            ],
            "alert" if late else "",
        )

    # Time to an answer, for tickets answered in the period.
    answered_cond = [Ticket.answered_at.is_not(None)] + ([Ticket.answered_at >= since] if since else [])
    done = (await s.execute(select(Ticket.created_at, Ticket.answered_at).where(*answered_cond))).all()
    waits = [business_days_between(to_jst(c).date(), to_jst(a).date()) for c, a in done]

    # Feedback per entry, least helpful first.
    feedback = Table(
        "feedback",
        ctx.t("dashboard.questions.feedback"),
        [
            Column(ctx.t("dashboard.col.entry_question")),
            Column(ctx.t("dashboard.col.entry_key")),
            Column(ctx.t("dashboard.col.helpful"), "num"),
            Column(ctx.t("dashboard.col.not_helpful"), "num"),
            Column(ctx.t("dashboard.col.helpful_share"), "pct"),
        ],
        empty=ctx.t("dashboard.questions.no_feedback"),
        note=ctx.t("dashboard.questions.feedback_note", share=f"{LOW_HELPFUL:.0%}", n=MIN_VOTES),
    )
    ranked = sorted(votes.items(), key=lambda kv: (kv[1][0] / sum(kv[1]), -sum(kv[1]), kv[0]))
    for key, (up, down) in ranked:
        ratio = up / (up + down)
        low = up + down >= MIN_VOTES and ratio < LOW_HELPFUL
        feedback.add([entry_label(key), key, up, down, ratio], "alert" if low else "")
    total_up = sum(u for u, _ in votes.values())
    total_votes = sum(u + d for u, d in votes.values())

    view.tiles = [
        Tile(
            ctx.t("dashboard.questions.tile.asked"),
            f"{asked:,}",
            ctx.t(f"dashboard.questions.period.{period}"),
        ),
        Tile(
            ctx.t("dashboard.questions.tile.answered"),
            charts.pct(answered / asked if asked else None),
            ctx.t("dashboard.questions.tile.unanswered", n=asked - answered, picked=picked),
        ),
        Tile(
            ctx.t("dashboard.questions.tile.backlog"),
            f"{len(backlog)}",
            ctx.t("dashboard.questions.tile.overdue", n=sum(overdue)),
            alert=any(overdue),
        ),
        Tile(
            ctx.t("dashboard.questions.tile.wait"),
            ctx.t("dashboard.questions.days", n=f"{statistics.median(waits):g}") if waits else "—",
            ctx.t("dashboard.questions.tile.wait_detail", n=len(waits)),
        ),
        Tile(
            ctx.t("dashboard.questions.tile.helpful"),
            charts.pct(total_up / total_votes if total_votes else None),
            ctx.t("dashboard.questions.tile.votes", n=total_votes),
        ),
    ]
    view.blocks = [
        Block(ctx.t("dashboard.questions.most_asked"), most, most_chart),
        Block(ctx.t("dashboard.questions.unanswered"), unanswered, intro=ctx.t("dashboard.questions.unanswered_intro")),
        Block(ctx.t("dashboard.questions.backlog"), tickets, backlog_chart),
        Block(ctx.t("dashboard.questions.feedback"), feedback),
    ]  # fmt: skip
    return view
