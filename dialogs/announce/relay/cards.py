"""Cards for relay requests: the recipient's report form, the author's figures, the 伝達状況 card."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dialogs.engines.delivery.receipts import ReadCounts
from dialogs.kit.business_days import format_date_ja, format_datetime_ja
from dialogs.kit.cards import Element, adaptive_card, container, facts, heading, submit, text
from storage.models.announce import Announcement, AnnouncementRelay

from .store import METHODS, RelayReport, RelaySummary, SectionRelay

T = Callable[..., str]
SECTIONS_SHOWN = 60  # on the status card; every section is in the export
NAMES_SHOWN = 10


def report_line(t: T, rep: AnnouncementRelay | RelayReport) -> str:
    """「4月3日(金) 10:00・課内会議・12人(鈴木 一郎)」"""
    how = t(f"announce.relay.method.{rep.method}")
    if rep.method == "other" and rep.note:
        how = f"{how}({rep.note})"
    reached = t("announce.relay.reached_n", n=rep.reached) if rep.reached is not None else ""
    return t(
        "announce.relay.report_line",
        at=format_datetime_ja(rep.updated_at),
        how=how,
        reached=reached,
        name=rep.reporter_name,
    )


def add_relay_form(
    card: dict[str, Any],
    t: T,
    ann: Announcement,
    *,
    section_id: int,
    report: AnnouncementRelay | None,
    reminder: bool = False,
    channel_title: str | None = None,
) -> dict[str, Any]:
    """The relay part of a confirmed recipient's card: the request, and the report form (empty, or
    holding the section's report so that either promoter can correct it)."""
    deadline = format_date_ja(ann.relay_deadline) if ann.relay_deadline else ""
    items: list[Element] = []
    if reminder and report is None:
        items.append(
            container(
                [text(t("announce.relay.reminder_banner", deadline=deadline), weight="Bolder")],
                style="warning",
            )
        )
    if report is None:
        items.append(
            container(
                [text(t("announce.relay.request", deadline=deadline), weight="Bolder")],
                style="accent",
                spacing="Medium",
            )
        )
    else:
        items.append(
            container(
                [text(t("announce.relay.done", line=report_line(t, report)), weight="Bolder", color="Good")],
                style="good",
                spacing="Medium",
            )
        )
    items += [
        {
            "type": "Input.ChoiceSet",
            "id": "relay_method",
            "label": t("announce.relay.method"),
            "style": "expanded",
            "value": report.method if report else "",
            "choices": [{"title": t(f"announce.relay.method.{m}"), "value": m} for m in METHODS],
        },
        {
            "type": "Input.Text",
            "id": "relay_note",
            "label": t("announce.relay.note"),
            "value": report.note if report else "",
            "maxLength": 200,
        },
        {
            "type": "Input.Number",
            "id": "relay_reached",
            "label": t("announce.relay.reached"),
            "min": 0,
            "max": 9999,
            "value": report.reached if report and report.reached is not None else None,
        },
    ]
    if items[-1]["value"] is None:
        del items[-1]["value"]
    card["body"] = list(card.get("body") or []) + items
    button = submit(
        t("announce.relay.btn.correct" if report else "announce.relay.btn.report"),
        "announce.relay",
        style="positive",
        id=ann.id,
        section=section_id,
    )
    card["actions"] = [a for a in card.get("actions") or [] if a.get("type") == "Action.OpenUrl"] + [button]
    if channel_title is not None and (report is None or report.method != "channel"):
        # The section has its own channel with the bot: one press posts it there for every member.
        card["body"].append(
            text(t("announce.relay.post.where", channel=channel_title), size="Small", isSubtle=True)
        )
        card["actions"].append(
            submit(
                t("announce.relay.btn.post"),
                "announce.relay_post",
                id=ann.id,
                section=section_id,
            )
        )
    return card


def read_value(t: T, read: ReadCounts) -> str:
    return t("announce.read.value", read=read.read, unread=read.unread, unknown=read.unknown)


def progress_rows(
    t: T, ann: Announcement, summary: RelaySummary | None, read: ReadCounts | None
) -> list[tuple[str, str]]:
    """Rows for the author's progress card: 既読, and for a relay request 伝達済みの課 and the deadline."""
    rows: list[tuple[str, str]] = []
    if read is not None and read.delivered:
        rows.append((t("announce.read.label"), read_value(t, read)))
    if summary is not None:
        rows.append(
            (
                t("announce.relay.fig.relayed"),
                t("announce.relay.fig.ratio", n=summary.relayed, total=summary.sections),
            )
        )
        if summary.members_confirmed or summary.members_reached:
            value = (
                t("announce.relay.fig.members_of", n=summary.members_confirmed, m=summary.members_reached)
                if summary.members_reached
                else t("announce.fig.people", n=summary.members_confirmed)
            )
            rows.append((t("announce.relay.fig.members"), value))
        if ann.relay_deadline:
            rows.append((t("announce.relay.fig.deadline"), format_date_ja(ann.relay_deadline)))
        if ann.relay_reminder_at and not ann.relay_reminded_at:
            rows.append((t("announce.relay.fig.auto_reminder"), format_datetime_ja(ann.relay_reminder_at)))
        if ann.relay_reminders or ann.relay_auto_reminders:
            rows.append(
                (
                    t("announce.relay.fig.reminders"),
                    t(
                        "announce.relay.fig.reminders_n",
                        n=ann.relay_reminders + ann.relay_auto_reminders,
                    ),
                )
            )
    return rows


def progress_items(t: T, ann: Announcement, summary: RelaySummary | None, *, live: bool) -> list[Element]:
    """Below the figures: sections nobody can relay in (named), and the relay buttons."""
    if summary is None:
        return []
    items: list[Element] = []
    if summary.unreachable:
        shown = "、".join(summary.unreachable[:NAMES_SHOWN])
        more = len(summary.unreachable) - NAMES_SHOWN
        items.append(
            text(
                t(
                    "announce.relay.unreachable",
                    sections=shown,
                    more=t("announce.relay.more", n=more) if more > 0 else "",
                ),
                color="Attention",
                size="Small",
            )
        )
    buttons = [submit(t("announce.relay.btn.status"), "announce.relay_status", id=ann.id)]
    if live and summary.not_relayed:
        buttons.append(submit(t("announce.relay.btn.remind"), "announce.relay_remind", id=ann.id))
    if live:
        buttons.append(submit(t("announce.relay.btn.deadline"), "announce.relay_deadline", id=ann.id))
    items.append({"type": "ActionSet", "actions": buttons})
    return items


def deadline_card(
    t: T, ann: Announcement, *, value: str | None = None, errors: Sequence[str] = ()
) -> dict[str, Any]:
    """「伝達期限を変更」: the current deadline and a date picker (holding what was typed after an error)."""
    current = format_date_ja(ann.relay_deadline) if ann.relay_deadline else ""
    body: list[Element] = [heading(t("announce.relay.deadline.title", title=ann.title), size="Medium")]
    if errors:
        body.append(
            container([text(e, color="Attention", spacing="None") for e in errors], style="attention")
        )
    body += [
        facts([(t("announce.relay.deadline.current"), current)]),
        {
            "type": "Input.Date",
            "id": "relay_deadline",
            "label": t("announce.relay.deadline.field"),
            "value": value
            if value is not None
            else (ann.relay_deadline.isoformat() if ann.relay_deadline else ""),
        },
        text(t("announce.relay.deadline.hint"), isSubtle=True, size="Small"),
    ]
    return adaptive_card(
        body,
        [
            submit(
                t("announce.relay.btn.deadline_apply"),
                "announce.relay_deadline_set",
                style="positive",
                id=ann.id,
            ),
            submit(t("announce.btn.keep"), "announce.dismiss", id=ann.id),
        ],
    )


def deadline_changed_card(t: T, ann: Announcement, lines: Sequence[str]) -> dict[str, Any]:
    return adaptive_card(
        [heading(t("announce.relay.deadline.done_title"), size="Medium")]
        + [text(line, spacing="Small") for line in lines]
    )


def _section_line(t: T, s: SectionRelay) -> tuple[str, str, str]:
    """(label, value, colour) for one section on the status card."""
    label = f"{s.department} {s.section}"
    if s.report is not None:
        line = report_line(t, s.report)
        if s.report.method == "channel":
            line += (
                t("announce.relay.members_of", n=s.members_confirmed, m=s.report.reached)
                if s.report.reached is not None
                else t("announce.relay.members_confirmed", n=s.members_confirmed)
            )
        return label, t("announce.relay.row.relayed", line=line), "Good"
    if not s.reachable:
        return label, t("announce.relay.row.unreachable", n=s.promoters), "Attention"
    return (
        label,
        t(
            "announce.relay.row.pending",
            delivered=s.delivered,
            read=s.read,
            confirmed=s.confirmed,
            total=s.promoters,
        ),
        "Warning",
    )


def status_card(
    t: T, ann: Announcement, sections: Sequence[SectionRelay], summary: RelaySummary
) -> dict[str, Any]:
    """伝達状況: per section and in total, delivered → read → confirmed → relayed; sections not relayed first."""
    body: list[Element] = [
        heading(t("announce.relay.status.title", title=ann.title), size="Medium"),
        text(
            t(
                "announce.relay.status.total",
                delivered=summary.delivered,
                read=summary.read,
                confirmed=summary.confirmed,
                relayed=summary.relayed,
                sections=summary.sections,
            ),
            weight="Bolder",
        ),
        text(t("announce.read.note"), isSubtle=True, size="Small", spacing="None"),
    ]
    if ann.relay_deadline:
        body.append(facts([(t("announce.relay.fig.deadline"), format_date_ja(ann.relay_deadline))]))
    ordered = [s for s in sections if s.report is None] + [s for s in sections if s.report is not None]
    for s in ordered[:SECTIONS_SHOWN]:
        label, value, color = _section_line(t, s)
        body.append(
            container(
                [
                    text(label, weight="Bolder", size="Small"),
                    text(value, size="Small", spacing="None", color=color),
                ],
                spacing="Small",
            )
        )
    if len(ordered) > SECTIONS_SHOWN:
        body.append(
            text(
                t("announce.relay.more_sections", n=len(ordered) - SECTIONS_SHOWN),
                isSubtle=True,
                size="Small",
            )
        )
    actions = [submit(t("announce.btn.status"), "announce.status", id=ann.id)]
    if summary.not_relayed:
        actions.insert(0, submit(t("announce.relay.btn.remind"), "announce.relay_remind", id=ann.id))
    return adaptive_card(body, actions)
