"""Announcements: per announcement the share delivered and the share confirmed, and for the one
chosen, the sections where nobody has confirmed yet and, with a relay request, every section from
delivered to relayed.

The figures are the announcement feature's own (dialogs/announce/service.py ``figures`` and
``unconfirmed_sections``, dialogs/announce/relay/store.py ``section_status``), so the dashboard, the
author's progress card, 「未確認の課」 and 「伝達状況」 agree.
"""

from __future__ import annotations

from sqlalchemy import select

from dialogs.announce import service as announce
from dialogs.announce.relay import store as relay_store
from dialogs.dashboard import charts
from dialogs.dashboard.pages.common import Block, Context, Option, PageView, Select, Tile
from dialogs.dashboard.tables import Column, Table
from storage.models.announce import Announcement, AnnouncementState

LIST_LIMIT = 20
CHART_LIMIT = 10
SHOWN_STATES = (
    AnnouncementState.SENDING.value,
    AnnouncementState.SENT.value,
    AnnouncementState.RECALLED.value,
)


def _title(ctx: Context, ann: Announcement) -> str:
    return ann.title or ctx.t("dashboard.announcements.untitled", id=ann.id)


async def build(ctx: Context) -> PageView:
    view = PageView(
        "announcements", ctx.t("dashboard.nav.announcements"), ctx.t("dashboard.announcements.intro")
    )
    rows = list(
        (
            await ctx.session.scalars(
                select(Announcement)
                .where(Announcement.state.in_(SHOWN_STATES))
                .order_by(Announcement.sent_at.desc(), Announcement.id.desc())
                .limit(LIST_LIMIT)
            )
        ).all()
    )
    if not rows:
        view.notice = ctx.t("dashboard.announcements.none")
        return view
    figures = {ann.id: await announce.figures(ctx.session, ann) for ann in rows}
    gaps = {
        ann.id: await announce.unconfirmed_sections(ctx.session, ann)
        for ann in rows
        if ann.ack_required and ann.state != AnnouncementState.RECALLED.value
    }

    wanted = ctx.int_param("announcement")
    chosen = next((a for a in rows if a.id == wanted), None)
    if chosen is None:
        chosen = next((a for a in rows if a.id in gaps), rows[0])
    view.filters.append(
        Select(
            "announcement",
            ctx.t("dashboard.filters.announcement"),
            [Option(str(a.id), f"{ctx.date(a.sent_at)} {_title(ctx, a)}") for a in rows],
            str(chosen.id),
        )
    )

    table = Table(
        "list",
        ctx.t("dashboard.announcements.list"),
        [
            Column(ctx.t("dashboard.col.announcement")),
            Column(ctx.t("dashboard.col.sent")),
            Column(ctx.t("dashboard.col.recipients"), "num"),
            Column(ctx.t("dashboard.col.delivered_share"), "pct"),
            Column(ctx.t("dashboard.col.confirmed_share"), "pct"),
            Column(ctx.t("dashboard.col.read_share"), "pct"),
            Column(ctx.t("dashboard.col.relayed_sections")),
            Column(ctx.t("dashboard.col.unconfirmed_sections"), "num"),
            Column(ctx.t("dashboard.col.not_delivered"), "num"),
            Column(ctx.t("dashboard.col.status")),
        ],
    )
    bars: list[tuple[str, list[float]]] = []
    for ann in rows:
        f = figures[ann.id]
        total = f.recipients
        delivered = f.delivered / total if total else None
        confirmed = f.confirmed / total if total and ann.ack_required else None
        unconfirmed = len(gaps[ann.id]) if ann.id in gaps else None
        state = ctx.t(f"dashboard.announcements.state.{ann.state}")
        table.add(
            [
                _title(ctx, ann),
                ctx.date(ann.sent_at),
                total,
                delivered,
                confirmed if ann.ack_required else ctx.t("dashboard.announcements.no_ack"),
                # 既読 as Teams read receipts tell it; people with receipts off are not counted as read.
                f.read.read / total if f.read is not None and total else None,
                ctx.t("dashboard.announcements.relayed", n=f.relay.relayed, total=f.relay.sections)
                if f.relay is not None
                else ctx.t("dashboard.announcements.no_relay"),
                unconfirmed,
                f.failed + f.unreachable,
                state
                + (ctx.t("dashboard.announcements.importance_high") if ann.importance == "high" else ""),
            ],
            "alert" if unconfirmed else "",
        )
        if len(bars) < CHART_LIMIT and total:
            confirmed_n = f.confirmed if ann.ack_required else 0
            bars.append(
                (
                    _title(ctx, ann),
                    [
                        confirmed_n / total,
                        max(f.delivered - confirmed_n, 0) / total,
                        max(total - f.delivered, 0) / total,
                    ],
                )
            )
    chart = charts.stacked_bars(
        bars,
        [
            charts.Series(ctx.t("dashboard.announcements.series.confirmed"), charts.PALETTE[2]),
            charts.Series(ctx.t("dashboard.announcements.series.delivered"), charts.PALETTE[0]),
            charts.Series(ctx.t("dashboard.announcements.series.not_delivered"), charts.PALETTE[7]),
        ],
        title=ctx.t("dashboard.announcements.chart"),
        total=1,
        label_width=220,
    )

    f = figures[chosen.id]
    sections = Table(
        "unconfirmed",
        ctx.t("dashboard.announcements.unconfirmed", title=_title(ctx, chosen)),
        [
            Column(ctx.t("dashboard.col.department")),
            Column(ctx.t("dashboard.col.section")),
            Column(ctx.t("dashboard.col.not_confirmed_people")),
            Column(ctx.t("dashboard.col.recipients"), "num"),
        ],
        empty=ctx.t(
            "dashboard.announcements.all_confirmed"
            if chosen.id in gaps
            else "dashboard.announcements.no_ack_needed"
        ),
    )
    for gap in gaps.get(chosen.id, []):
        people = "、".join(
            ctx.t(
                "dashboard.announcements.person",
                name=name,
                role=ctx.t(f"dashboard.role.{role}"),
                state=ctx.t(f"dashboard.delivery.{state}"),
            )
            for name, role, state in gap.people
        )
        sections.add([gap.department, gap.section, people, gap.total], "alert")

    deadline = ctx.date(chosen.deadline) if chosen.deadline else ctx.t("dashboard.announcements.no_deadline")
    view.tiles = [
        Tile(ctx.t("dashboard.announcements.tile.chosen"), _title(ctx, chosen), ctx.t("dashboard.announcements.tile.sent", at=ctx.date(chosen.sent_at))),
        Tile(
            ctx.t("dashboard.announcements.tile.delivered"),
            charts.pct(f.delivered / f.recipients if f.recipients else None),
            ctx.t("dashboard.announcements.tile.of", n=f.delivered, total=f.recipients),
        ),
        Tile(
            ctx.t("dashboard.announcements.tile.confirmed"),
            charts.pct(f.confirmed / f.recipients if f.recipients else None) if chosen.ack_required else "—",
            ctx.t("dashboard.announcements.tile.deadline", day=deadline) if chosen.ack_required else ctx.t("dashboard.announcements.no_ack"),
        ),
        Tile(
            ctx.t("dashboard.announcements.tile.unconfirmed_sections"),
            f"{len(gaps[chosen.id])}" if chosen.id in gaps else "—",
            ctx.t("dashboard.announcements.tile.unconfirmed_detail"),
            alert=bool(gaps.get(chosen.id)),
        ),
    ]  # fmt: skip
    view.blocks = [
        Block(sections.title, sections, intro=ctx.t("dashboard.announcements.unconfirmed_intro")),
        Block(ctx.t("dashboard.announcements.list"), table, chart, intro=ctx.t("dashboard.announcements.chart_intro")),
    ]  # fmt: skip
    if f.relay is not None:
        relay = await relay_table(ctx, chosen)
        deadline = (
            ctx.date(chosen.relay_deadline)
            if chosen.relay_deadline
            else ctx.t("dashboard.announcements.no_deadline")
        )
        intro = ctx.t("dashboard.relay.intro", deadline=deadline)
        view.blocks.insert(1, Block(relay.title, relay, intro=intro))
    return view


async def relay_table(ctx: Context, ann: Announcement) -> Table:
    """Every section the announcement went to, in roster order: delivered → read → confirmed → relayed
    (how, when, by whom, staff reached, channel members who confirmed). A section none of whose
    promoters can be reached is listed and marked, never left out."""
    table = Table(
        "relay",
        ctx.t("dashboard.relay.title", title=_title(ctx, ann)),
        [
            Column(ctx.t("dashboard.col.department")),
            Column(ctx.t("dashboard.col.section")),
            Column(ctx.t("dashboard.col.promoters"), "num"),
            Column(ctx.t("dashboard.relay.col.delivered"), "num"),
            Column(ctx.t("dashboard.relay.col.read"), "num"),
            Column(ctx.t("dashboard.relay.col.confirmed"), "num"),
            Column(ctx.t("dashboard.relay.col.state")),
            Column(ctx.t("dashboard.relay.col.method")),
            Column(ctx.t("dashboard.relay.col.at")),
            Column(ctx.t("dashboard.relay.col.reporter")),
            Column(ctx.t("dashboard.relay.col.reached"), "num"),
            Column(ctx.t("dashboard.relay.col.members")),
        ],
    )
    for s in await relay_store.section_status(ctx.session, ann.id):
        rep = s.report
        if rep is not None:
            state, css = ctx.t("dashboard.relay.state.relayed"), ""
        elif not s.reachable:
            state, css = ctx.t("dashboard.relay.state.unreachable"), "alert"
        else:
            state, css = ctx.t("dashboard.relay.state.not_relayed"), ""
        members = None
        if rep is not None and rep.method == "channel":
            members = (
                ctx.t("dashboard.relay.members_of", n=s.members_confirmed, m=rep.reached)
                if rep.reached is not None
                else ctx.t("dashboard.relay.members", n=s.members_confirmed)
            )
        table.add(
            [
                s.department,
                s.section,
                s.promoters,
                s.delivered,
                s.read,
                s.confirmed,
                state,
                (ctx.t(f"announce.relay.method.{rep.method}") + (f"({rep.note})" if rep.note else ""))
                if rep is not None
                else None,
                ctx.datetime(rep.updated_at) if rep is not None else None,
                rep.reporter_name if rep is not None else None,
                rep.reached if rep is not None else None,  # posted to the channel: its members
                members,
            ],
            css,
        )
    return table
