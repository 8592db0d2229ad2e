"""Adaptive Cards for announcements: the compose form, the copy recipients get, the author's preview
and progress card, and the lists. ``t`` is a catalog lookup bound to a locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dialogs.announce.compose import MAX_BODY, MAX_LINKS, MAX_TITLE, Form
from dialogs.announce.relay import cards as relay_cards
from dialogs.kit.business_days import format_date_ja, format_datetime_ja
from dialogs.kit.cards import adaptive_card, container, facts, heading, open_url, submit, text
from storage.models.announce import Announcement, AnnouncementState

if TYPE_CHECKING:
    from dialogs.announce.service import AudienceSummary, Figures, SectionStatus

T = Callable[..., str]
Element = dict[str, Any]


def _choice(title: str, value: Any) -> Element:
    return {"title": title, "value": str(value)}


def _input_text(id: str, label: str, value: str, **extra: Any) -> Element:
    return {"type": "Input.Text", "id": id, "label": label, "value": value, **extra}


def literal(value: str, **extra: Any) -> Element:
    """Text shown exactly as written: a RichTextBlock's TextRun is not read as Markdown, so
    「**太字**」 and 「[文字](https://…)」 appear as the characters to type."""
    run = {"type": "TextRun", "text": value}
    for key in ("isSubtle", "size", "weight", "color"):
        if key in extra:
            run[key] = extra.pop(key)
    return {"type": "RichTextBlock", "inlines": [run], **extra}


def _action_set(actions: list[Element], **extra: Any) -> Element:
    return {"type": "ActionSet", "actions": actions, **extra}


def _errors(t: T, errors: Sequence[str]) -> Element:
    return container(
        [text(t("announce.compose.errors"), weight="Bolder", color="Attention")]
        + [text(f"・{e}", color="Attention", spacing="None") for e in errors],
        style="attention",
    )


def compose_card(
    t: T,
    form: Form,
    *,
    departments: Sequence[tuple[int, str]],
    sections: Sequence[tuple[int, str]],
    channel_title: str | None,
    errors: Sequence[str] = (),
    info: str | None = None,
    ann_id: int | None = None,
    revise: bool = False,
) -> dict[str, Any]:
    """The form; ``revise`` is the edit of an announcement already sent (audience and time fixed)."""
    v = form.values()
    body: list[Element] = [
        heading(t("announce.compose.revise_title" if revise else "announce.compose.title"))
    ]
    if revise:
        body.append(text(t("announce.compose.revise_note"), isSubtle=True))
    if errors:
        body.append(_errors(t, errors))
    if info:
        body.append(text(info, color="Good", weight="Bolder"))
    body += [
        _input_text(
            "title",
            t("announce.field.title"),
            v["title"],
            maxLength=MAX_TITLE,
            isRequired=True,
            errorMessage=t("announce.err.title"),
            placeholder=t("announce.field.title_hint"),
        ),
        _input_text(
            "body",
            t("announce.field.body"),
            v["body"],
            isMultiline=True,
            maxLength=MAX_BODY,
            isRequired=True,
            errorMessage=t("announce.err.body"),
            placeholder=t("announce.field.body_hint"),
        ),
        literal(t("announce.field.body_markdown"), isSubtle=True, size="Small", spacing="None"),
        text(t("announce.field.links", n=MAX_LINKS), weight="Bolder", spacing="Medium"),
    ]
    for i in range(1, MAX_LINKS + 1):
        body.append(
            {
                "type": "ColumnSet",
                "spacing": "Small",
                "columns": [
                    {
                        "type": "Column",
                        "width": 2,
                        "items": [
                            {
                                "type": "Input.Text",
                                "id": f"link{i}_title",
                                "value": v[f"link{i}_title"],
                                "placeholder": t("announce.field.link_title", n=i),
                                "maxLength": 40,
                            }
                        ],
                    },
                    {
                        "type": "Column",
                        "width": 3,
                        "items": [
                            {
                                "type": "Input.Text",
                                "id": f"link{i}_url",
                                "value": v[f"link{i}_url"],
                                "placeholder": "https://",
                                "style": "Url",
                            }
                        ],
                    },
                ],
            }
        )
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": "importance",
            "label": t("announce.field.importance"),
            "style": "expanded",
            "value": v["importance"],
            "choices": [
                _choice(t("announce.importance.normal"), "normal"),
                _choice(t("announce.importance.high"), "high"),
            ],
        }
    )
    if not revise:
        body += [
            {
                "type": "Input.ChoiceSet",
                "id": "audience",
                "label": t("announce.field.audience"),
                "style": "expanded",
                "value": v["audience"],
                "choices": [
                    _choice(t(f"announce.audience.{k}"), k)
                    for k in ("all", "leaders", "departments", "sections")
                ],
            },
            {
                "type": "Input.ChoiceSet",
                "id": "departments",
                "label": t("announce.field.departments"),
                "isMultiSelect": True,
                "style": "compact",
                "value": v["departments"],
                "placeholder": t("announce.field.pick"),
                "choices": [_choice(name, i) for i, name in departments],
            },
            {
                "type": "Input.ChoiceSet",
                "id": "sections",
                "label": t("announce.field.sections"),
                "isMultiSelect": True,
                "style": "compact",
                "value": v["sections"],
                "placeholder": t("announce.field.pick"),
                "choices": [_choice(label, i) for i, label in sections],
            },
        ]
        if channel_title is not None:
            body.append(
                {
                    "type": "Input.Toggle",
                    "id": "to_channel",
                    "title": t(
                        "announce.field.to_channel", channel=channel_title or t("announce.channel.unnamed")
                    ),
                    "value": v["to_channel"],
                    "valueOn": "true",
                    "valueOff": "false",
                }
            )
        else:
            body.append(text(t("announce.field.no_channel"), isSubtle=True, size="Small"))
        body.append(
            {
                "type": "Input.Toggle",
                "id": "ack_required",
                "title": t("announce.field.ack"),
                "value": v["ack_required"],
                "valueOn": "true",
                "valueOff": "false",
                "spacing": "Medium",
            }
        )
    body.append(
        {
            "type": "Input.Date",
            "id": "deadline",
            "label": t("announce.field.deadline"),
            "value": v["deadline"],
        }
    )
    if not revise:
        body += [
            {
                "type": "Input.Toggle",
                "id": "relay_required",
                "title": t("announce.field.relay"),
                "value": v.get("relay_required", "false"),
                "valueOn": "true",
                "valueOff": "false",
                "spacing": "Medium",
            },
            {
                "type": "Input.Date",
                "id": "relay_deadline",
                "label": t("announce.field.relay_deadline"),
                "value": v.get("relay_deadline", ""),
            },
        ]
    if not revise:
        body += [
            {
                "type": "Input.ChoiceSet",
                "id": "send_mode",
                "label": t("announce.field.send_mode"),
                "style": "expanded",
                "value": v["send_mode"],
                "choices": [
                    _choice(t("announce.send.now"), "now"),
                    _choice(t("announce.send.later"), "later"),
                ],
            },
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [
                            {
                                "type": "Input.Date",
                                "id": "send_date",
                                "label": t("announce.field.send_date"),
                                "value": v["send_date"],
                            }
                        ],
                    },
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [
                            {
                                "type": "Input.Time",
                                "id": "send_time",
                                "label": t("announce.field.send_time"),
                                "value": v["send_time"],
                            }
                        ],
                    },
                ],
            },
            text(t("announce.field.send_hint"), isSubtle=True, size="Small", spacing="None"),
        ]
    ids: dict[str, Any] = {"id": ann_id} if ann_id else {}
    if revise:
        actions = [
            submit(t("announce.btn.preview_edit"), "announce.revise_preview", style="positive", **ids),
            submit(t("announce.btn.cancel_edit"), "announce.dismiss", **ids),
        ]
    else:
        actions = [
            submit(t("announce.btn.preview"), "announce.preview", style="positive", **ids),
            submit(t("announce.btn.save"), "announce.save", **ids),
            submit(t("announce.btn.discard"), "announce.discard", **ids),
        ]
    return adaptive_card(body, actions)


def announcement_items(
    t: T,
    ann: Announcement,
    *,
    confirmed_at: datetime | None = None,
    reminder: bool = False,
    channel: bool = False,
    preview: bool = False,
    section: bool = False,
) -> list[Element]:
    """The body of the card a recipient sees (also shown inside the author's preview). ``channel``: a
    copy in a channel, without the promoters' confirmation deadline; ``section``: the copy a promoter
    shared in their section's channel, read by the section's staff, so nothing addressed to promoters."""
    items: list[Element] = []
    if reminder and confirmed_at is None:
        deadline = format_date_ja(ann.deadline) if ann.deadline else ""
        items.append(
            container(
                [text(t("announce.card.reminder", deadline=deadline), weight="Bolder")], style="warning"
            )
        )
    if ann.importance == "high":
        items.append(text(t("announce.card.high"), color="Attention", weight="Bolder", spacing="None"))
    items.append(heading(ann.title, size="Large"))
    when = ann.sent_at or ann.send_at
    sender = (
        t("announce.card.from", date=format_date_ja(when.astimezone(_jst()).date()))
        if when
        else t("announce.card.from_nodate")
    )
    items.append(text(sender, isSubtle=True, size="Small", spacing="None"))
    items += body_blocks(ann.body)
    if ann.version > 1 and ann.updated_at:
        items.append(
            text(
                t("announce.card.edited", at=format_datetime_ja(ann.updated_at)), isSubtle=True, size="Small"
            )
        )
    if ann.ack_required and ann.deadline and not channel:
        items.append(facts([(t("announce.card.deadline"), format_date_ja(ann.deadline))]))
    if channel and ann.ack_required and not section:
        items.append(text(t("announce.card.channel_note"), isSubtle=True, size="Small"))
    if confirmed_at is not None:
        items.append(
            container(
                [
                    text(
                        t("announce.card.confirmed", at=format_datetime_ja(confirmed_at)),
                        weight="Bolder",
                        color="Good",
                    )
                ],
                style="good",
            )
        )
    return items


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")


def body_blocks(body: str) -> list[Element]:
    """The body as the author typed it, line breaks kept.

    A TextBlock's Markdown joins single line breaks into one line (a soft break), so each line is a
    TextBlock of its own, a blank line is a gap, and consecutive list lines (「- 」, 「1. 」) stay
    together as one list, where Teams does honour single line breaks.
    """
    blocks: list[Element] = []
    spacing = "Medium"
    items: list[str] = []

    def add(value: str) -> None:
        nonlocal spacing
        blocks.append(text(value, spacing=spacing))
        spacing = "None"

    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _LIST_ITEM.match(line):
            items.append(line.rstrip())
            continue
        if items:
            add("\n".join(items))
            items = []
        if line.strip():
            add(line.rstrip())
        elif blocks:
            spacing = "Medium"
    if items:
        add("\n".join(items))
    return blocks


def _jst() -> Any:
    from dialogs.kit.business_days import JST

    return JST


def announcement_actions(
    t: T, ann: Announcement, *, confirmed_at: datetime | None, channel: bool, preview: bool
) -> list[Element]:
    actions = [open_url(link["title"], link["url"]) for link in ann.links or []]
    if ann.ack_required and confirmed_at is None and not channel:
        data: dict[str, Any] = {"id": ann.id}
        if preview:
            data["preview"] = True
        actions.append(submit(t("announce.btn.ack"), "announce.ack", style="positive", **data))
    return actions


def announcement_card(
    t: T,
    ann: Announcement,
    *,
    confirmed_at: datetime | None = None,
    reminder: bool = False,
    channel: bool = False,
) -> dict[str, Any]:
    body = announcement_items(t, ann, confirmed_at=confirmed_at, reminder=reminder, channel=channel)
    actions = announcement_actions(t, ann, confirmed_at=confirmed_at, channel=channel, preview=False)
    return adaptive_card(body, actions or None)


def preview_card(
    t: T,
    ann: Announcement,
    summary: AudienceSummary | None,
    *,
    audience_label: str = "",
    notices: Sequence[str] = (),
    warnings: Sequence[str] = (),
    channel_title: str | None = None,
    revise_copies: int | None = None,
    recipient_t: T | None = None,
) -> dict[str, Any]:
    """What the recipients will see (in their language, ``recipient_t``), framed by who gets it and
    when (in the author's); 送信 / 編集 / 取消."""
    rt = recipient_t or t
    body: list[Element] = [
        heading(t("announce.preview.title" if revise_copies is None else "announce.preview.revise_title"))
    ]
    for w in warnings:
        body.append(container([text(w, color="Attention", weight="Bolder")], style="attention"))
    for n in notices:
        body.append(text(n, color="Accent"))
    if revise_copies is None and summary is not None:
        rows = [
            (t("announce.preview.audience"), audience_label),
            (
                t("announce.preview.count"),
                t(
                    "announce.preview.count_value",
                    people=summary.people,
                    sections=summary.sections,
                    leaders=summary.leaders,
                    subleaders=summary.subleaders,
                ),
            ),
        ]
        if summary.not_reachable:
            rows.append(
                (
                    t("announce.preview.not_reachable"),
                    t("announce.preview.not_reachable_value", n=summary.not_reachable),
                )
            )
        if ann.to_channel:
            rows.append((t("announce.preview.channel"), channel_title or t("announce.channel.unnamed")))
        rows.append(
            (
                t("announce.preview.when"),
                format_datetime_ja(ann.send_at) if ann.send_at else t("announce.preview.now"),
            )
        )
        if ann.ack_required and ann.deadline:
            rows.append((t("announce.card.deadline"), format_date_ja(ann.deadline)))
        body.append(facts(rows))
    else:
        body.append(text(t("announce.preview.revise_note", n=revise_copies)))
    body.append(text(t("announce.preview.as_seen"), isSubtle=True, size="Small", spacing="Medium"))
    inner = announcement_items(rt, ann, preview=True)
    inner_actions = announcement_actions(rt, ann, confirmed_at=None, channel=False, preview=True)
    if inner_actions:
        inner.append(_action_set(inner_actions))
    body.append(container(inner, style="emphasis", bleed=False))
    if revise_copies is None:
        actions = [
            submit(
                t("announce.btn.send" if not ann.send_at else "announce.btn.schedule"),
                "announce.send",
                style="positive",
                id=ann.id,
            ),
            submit(t("announce.btn.edit"), "announce.edit", id=ann.id),
            submit(t("announce.btn.discard"), "announce.discard", id=ann.id),
        ]
    else:
        actions = [
            submit(
                t("announce.btn.apply_edit"),
                "announce.apply_edit",
                style="positive",
                id=ann.id,
                version=ann.version,
            ),
            submit(t("announce.btn.back_to_edit"), "announce.revise", id=ann.id),
            submit(t("announce.btn.cancel_edit"), "announce.dismiss", id=ann.id),
        ]
    return adaptive_card(body, actions)


def reason_text(t: T, reason: str) -> str:
    """Why a copy did not arrive, in the delivery engine's one vocabulary (the words
    ``dxbot delivery status``, ``dxbot announce status`` and the export use)."""
    key = f"delivery.reason.{reason}"
    label = t(key)
    return label if label != key else t("delivery.reason.other", code=reason)


def progress_card(t: T, ann: Announcement, f: Figures, *, xlsx_url: str, csv_url: str) -> dict[str, Any]:
    """The author's card from 送信 on: where the send stands, and what can be done next."""
    body: list[Element] = [heading(t("announce.progress.title", title=ann.title), size="Medium")]
    state = ann.state
    if state == AnnouncementState.SCHEDULED:
        body.append(
            text(
                t("announce.progress.scheduled", at=format_datetime_ja(ann.send_at)) if ann.send_at else "",
                weight="Bolder",
            )
        )
    elif state == AnnouncementState.SENDING:
        body.append(
            text(
                t("announce.progress.sending", done=f.settled, total=f.recipients),
                weight="Bolder",
                color="Accent",
            )
        )
    elif state == AnnouncementState.SENT:
        body += _completion(t, ann, f)
    elif state == AnnouncementState.RECALLED:
        body += _recall_status(t, ann, f)
    if f.edit is not None and state in (AnnouncementState.SENDING, AnnouncementState.SENT):
        body += _edit_status(t, f)
    if ann.late and ann.send_at:
        body.append(
            text(
                t("announce.progress.late", at=format_datetime_ja(ann.send_at)), color="Warning", size="Small"
            )
        )
    rows = [
        (t("announce.fig.recipients"), t("announce.fig.people", n=f.recipients)),
        (t("announce.fig.delivered"), t("announce.fig.people", n=f.delivered)),
    ]
    if f.pending:
        rows.append((t("announce.fig.pending"), t("announce.fig.people", n=f.pending)))
    if f.unreachable or f.failed:
        rows.append(
            (
                t("announce.fig.undelivered"),
                t(
                    "announce.fig.undelivered_value",
                    n=f.not_delivered_count,
                    parts=t("announce.fig.list_sep").join(
                        f"{t(key)} {t('announce.fig.people', n=n)}"
                        for key, n in (
                            ("delivery.status.not_reachable", f.unreachable),
                            ("delivery.status.send_failed", f.failed),
                        )
                        if n
                    ),
                ),
            )
        )
    if ann.ack_required:
        rows.append((t("announce.fig.confirmed"), t("announce.fig.ratio", n=f.confirmed, total=f.recipients)))
        if ann.deadline:
            rows.append((t("announce.card.deadline"), format_date_ja(ann.deadline)))
        if ann.auto_reminder_at and not ann.auto_reminded_at:
            rows.append((t("announce.fig.auto_reminder"), format_datetime_ja(ann.auto_reminder_at)))
        if ann.reminders or ann.auto_reminders:
            rows.append(
                (
                    t("announce.fig.reminders"),
                    t(
                        "announce.fig.reminders_value",
                        n=ann.reminders + ann.auto_reminders,
                        delivered=f.reminders_delivered,
                    ),
                )
            )
    if f.channel is not None:
        rows.append((t("announce.fig.channel"), t(f"announce.channel_state.{f.channel}")))
    if ann.version > 1:
        rows.append((t("announce.fig.version"), t("announce.fig.version_value", n=ann.version - 1)))
    rows += relay_cards.progress_rows(t, ann, f.relay, f.read)
    body.append(facts(rows))
    if f.reasons:
        lines = [
            f"・{reason_text(t, r)}: {t('announce.fig.people', n=n)}" for r, n in f.reasons.most_common()
        ]
        body.append(
            container(
                [text(t("announce.fig.reasons"), weight="Bolder", size="Small")]
                + [text(x, size="Small", spacing="None") for x in lines]
            )
        )
    live = state in (AnnouncementState.SENDING, AnnouncementState.SENT)
    body += relay_cards.progress_items(t, ann, f.relay, live=live)
    first: list[Element] = [submit(t("announce.btn.status"), "announce.status", id=ann.id)]
    if live and ann.ack_required:
        first += [
            submit(t("announce.btn.unconfirmed"), "announce.unconfirmed", id=ann.id),
            submit(t("announce.btn.remind"), "announce.remind", id=ann.id),
        ]
    if live and (f.failed or f.unreachable):
        first.append(submit(t("announce.btn.resend"), "announce.resend", id=ann.id))
    if live and f.edit is not None and f.edit.failed and not f.edit.pending:
        first.insert(0, submit(t("announce.btn.retry"), "announce.retry", style="positive", id=ann.id))
    body.append(_action_set(first, spacing="Medium"))
    if state != AnnouncementState.SCHEDULED:
        body.append(
            _action_set(
                [
                    open_url(t("announce.btn.export_xlsx"), xlsx_url),
                    open_url(t("announce.btn.export_csv"), csv_url),
                ]
            )
        )
    if live:
        body.append(
            _action_set(
                [
                    submit(t("announce.btn.revise"), "announce.revise", id=ann.id),
                    submit(t("announce.btn.recall"), "announce.recall", style="destructive", id=ann.id),
                ]
            )
        )
    elif state == AnnouncementState.SCHEDULED:
        body.append(_action_set([submit(t("announce.btn.unschedule"), "announce.unschedule", id=ann.id)]))
    return adaptive_card(body)


NAMES_SHOWN = 10  # people named on the author's card; everyone is in the export


def _names(t: T, key: str, names: Sequence[str], total: int) -> Element:
    shown = list(names[:NAMES_SHOWN])
    more = total - len(shown)
    line = t(key, names="、".join(shown))
    if more > 0:
        line += t("announce.progress.names_more", n=more)
    return text(line, size="Small", spacing="Small")


def _reason_lines(t: T, reasons: Any, unit: str) -> list[Element]:
    return [
        text(f"・{reason_text(t, r)}: {t(unit, n=n)}", size="Small", spacing="None")
        for r, n in reasons.most_common()
    ]


def _completion(t: T, ann: Announcement, f: Figures) -> list[Element]:
    """The sent card's verdict, from what happened to each first copy: green only when everyone got it."""
    at = format_datetime_ja(ann.finished_at) if ann.finished_at else ""
    missing = f.not_delivered_count
    if not missing and f.delivered:
        return [text(t("announce.progress.sent", at=at, n=f.delivered), weight="Bolder", color="Good")]
    key = "announce.progress.sent_partly" if f.delivered else "announce.progress.sent_none"
    lines = [
        text(
            t(key, at=at, delivered=f.delivered, missing=missing, total=f.recipients),
            weight="Bolder",
            color="Attention",
        )
    ]
    if f.not_delivered:
        lines.append(_names(t, "announce.progress.not_delivered_names", f.not_delivered, missing))
    if f.unreachable:
        lines.append(text(t("announce.progress.next_unreachable", n=f.unreachable), size="Small"))
    if f.failed:
        lines.append(text(t("announce.progress.next_failed", n=f.failed), size="Small"))
    return [container(lines, style="attention")]


def _retry(t: T, ann: Announcement) -> Element:
    return _action_set([submit(t("announce.btn.retry"), "announce.retry", style="positive", id=ann.id)])


def _recall_status(t: T, ann: Announcement, f: Figures) -> list[Element]:
    """What the recall did, copy by copy: removed, still on its way, or could not be removed and why."""
    r = f.recall
    at = format_datetime_ja(ann.recalled_at) if ann.recalled_at else ""
    if r is None or (not r.total):
        return [text(t("announce.progress.recalled_none", at=at), weight="Bolder", color="Good")]
    out: list[Element] = []
    if r.pending:
        out.append(
            text(
                t("announce.progress.recalling", done=r.done, total=r.total, n=r.pending),
                weight="Bolder",
                color="Accent",
            )
        )
    elif not r.failed:
        out.append(text(t("announce.progress.recalled", at=at, n=r.done), weight="Bolder", color="Good"))
    if r.failed:
        lines = [
            text(
                t("announce.progress.recall_failed", at=at, n=r.failed, done=r.done, total=r.total),
                weight="Bolder",
                color="Attention",
            ),
            *_reason_lines(t, r.reasons, "announce.fig.copies"),
        ]
        if f.change_failed:
            lines.append(_names(t, "announce.progress.still_there", f.change_failed, len(f.change_failed)))
        lines.append(text(t("announce.progress.recall_next"), size="Small"))
        if not r.pending:
            lines.append(_retry(t, ann))
        out.append(container(lines, style="attention"))
    return out


def _edit_status(t: T, f: Figures) -> list[Element]:
    """The latest edit, copy by copy: updated, still going out, or still showing the old text."""
    e = f.edit
    if e is None or not e.total:
        return []
    out: list[Element] = []
    if e.pending:
        out.append(
            text(t("announce.progress.updating", done=e.done, total=e.total, n=e.pending), color="Accent")
        )
    elif not e.failed:
        out.append(text(t("announce.progress.updated", n=e.done), color="Good", size="Small"))
    if e.gone:
        out.append(text(t("announce.progress.update_gone", n=e.gone), isSubtle=True, size="Small"))
    if e.failed:
        lines = [
            text(
                t("announce.progress.update_failed", n=e.failed, total=e.total),
                weight="Bolder",
                color="Attention",
            ),
            *_reason_lines(t, e.reasons, "announce.fig.copies"),
        ]
        if f.change_failed:
            lines.append(_names(t, "announce.progress.old_text", f.change_failed, len(f.change_failed)))
        lines.append(text(t("announce.progress.update_next"), size="Small"))
        out.append(container(lines, style="attention"))
    return out


def recall_confirm_card(t: T, ann: Announcement, delivered: int, pending: int) -> dict[str, Any]:
    body = [
        heading(t("announce.recall.title"), size="Medium"),
        text(t("announce.recall.body", title=ann.title, delivered=delivered, pending=pending)),
    ]
    return adaptive_card(
        body,
        [
            submit(
                t("announce.btn.recall_confirm"), "announce.recall_confirm", style="destructive", id=ann.id
            ),
            submit(t("announce.btn.keep"), "announce.dismiss", id=ann.id),
        ],
    )


def unconfirmed_card(
    t: T, ann: Announcement, sections: Sequence[SectionStatus], total_sections: int, limit: int = 60
) -> dict[str, Any]:
    body: list[Element] = [
        heading(t("announce.unconfirmed.title", n=len(sections), total=total_sections), size="Medium"),
        text(t("announce.unconfirmed.about", title=ann.title), isSubtle=True, size="Small"),
    ]
    if not sections:
        body.append(text(t("announce.unconfirmed.none"), color="Good", weight="Bolder"))
    for s in sections[:limit]:
        people = "、".join(
            t(
                "announce.unconfirmed.person",
                name=name,
                role=t(f"announce.role.{role}"),
                state=t(f"announce.state.{state}"),
            )
            for name, role, state in s.people
        )
        body.append(text(f"**{s.department} {s.section}**: {people}", spacing="Small"))
    if len(sections) > limit:
        body.append(text(t("announce.unconfirmed.more", n=len(sections) - limit), isSubtle=True))
    actions = [submit(t("announce.btn.remind"), "announce.remind", id=ann.id)] if sections else None
    return adaptive_card(body, actions)


def list_card(t: T, rows: Sequence[tuple[Announcement, Figures]]) -> dict[str, Any]:
    body: list[Element] = [heading(t("announce.list.title"), size="Medium")]
    if not rows:
        body.append(text(t("announce.list.empty")))
    for ann, f in rows:
        when = ann.sent_at or ann.send_at or ann.updated_at
        line = t(
            "announce.list.line",
            id=ann.id,
            title=ann.title or t("announce.list.untitled"),
            state=t(f"announce.ann_state.{ann.state}"),
            at=format_datetime_ja(when) if when else "",
        )
        figures = t("announce.list.figures", delivered=f.delivered, total=f.recipients)
        if ann.ack_required and ann.state not in (AnnouncementState.DRAFT, AnnouncementState.SCHEDULED):
            figures += t("announce.list.confirmed", n=f.confirmed, total=f.recipients)
        open_action = "announce.open_draft" if ann.state == AnnouncementState.DRAFT else "announce.status"
        body.append(
            {
                "type": "ColumnSet",
                "spacing": "Medium",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [text(line), text(figures, isSubtle=True, size="Small", spacing="None")],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "verticalContentAlignment": "Center",
                        "items": [_action_set([submit(t("announce.btn.open"), open_action, id=ann.id)])],
                    },
                ],
            }
        )
    return adaptive_card(body)


def note_card(t: T, title: str, message: str) -> dict[str, Any]:
    return adaptive_card([heading(title, size="Medium"), text(message)])
