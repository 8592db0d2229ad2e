"""The QA feature's Adaptive Cards. Every builder takes ``t`` (``turn.t``, or ``translator(locale)``
outside a turn) so the words come from catalog.toml.

    card = answer_card(turn.t, entry, related, qid=12)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dialogs.kit import i18n
from dialogs.kit.business_days import JST, format_date_ja, format_datetime_ja
from dialogs.kit.cards import Element, adaptive_card, container, facts, heading, open_url, submit, text
from storage.models import (
    EntryStatus,
    KbEntry,
    SynonymGroup,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
)

T = Callable[..., str]
QUESTION_MAX = 1000
REPLY_MAX = 2000
ANSWER_MAX = 4000
SUGGESTION_MAX = 2000

_STATUS_COLOR = {
    TicketStatus.OPEN: "Attention",
    TicketStatus.CLAIMED: "Warning",
    TicketStatus.ANSWERED: "Good",
    TicketStatus.CLOSED: "Default",
}


def translator(locale: str) -> T:
    return lambda key, **kw: i18n.t(key, locale, **kw)


def action_set(actions: list[Element], **extra: Any) -> Element:
    return {"type": "ActionSet", "actions": actions, **extra}


def text_input(
    input_id: str,
    label: str,
    value: str = "",
    *,
    multiline: bool = False,
    required: bool = False,
    **extra: Any,
) -> Element:
    element: Element = {"type": "Input.Text", "id": input_id, "label": label, "value": value}
    if multiline:
        element["isMultiline"] = True
    if required:
        element["isRequired"] = True
    element.update(extra)
    return element


def _shorten(value: str, limit: int = 60) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- answers ------------------------------------------------------------------------------------
def related_list(related: Sequence[KbEntry], qid: int | None) -> list[Element]:
    """Related questions as a vertical list of tappable rows, one per question.

    Buttons in an ActionSet sit side by side and Teams cuts them off on a phone (or hides them behind
    「…」); a row's text wraps instead, so the whole question stays readable on any width."""
    return [
        container(
            [text(f"▶ {r.question}", color="Accent", size="Small")],
            selectAction=submit(_shorten(r.question, 40), "qa.show", entry=r.key, qid=qid),
            style="emphasis",
            spacing="Small",
        )
        for r in related
    ]


def answer_card(
    t: T,
    entry: KbEntry,
    related: Sequence[KbEntry],
    *,
    qid: int | None,
    feedback: bool | None = None,
    query: str = "",
    show_key: bool = False,
) -> dict[str, Any]:
    """The best entry, 「役に立った」/「役に立たなかった」, and up to two related questions.

    ``feedback`` None shows the two buttons; True/False shows what replaces them. ``show_key``: the
    entry's ID (for 「FAQ編集 ID」), shown to admins only; staff see the date alone."""
    body: list[Element] = [
        text(t("qa.answer.label"), isSubtle=True, size="Small"),
        {**heading(entry.question, size="Medium"), "id": "qa.answer.question"},
        text(entry.answer, spacing="Medium"),
    ]
    if entry.url:
        body.append(action_set([open_url(t("qa.answer.open_url"), entry.url)]))
    if related:
        body.append(text(t("qa.answer.related"), weight="Bolder", spacing="Large"))
        body.extend(related_list(related, qid))
    if feedback is None:
        # The related keys ride along, so the card can be rebuilt as it was after the press.
        rel = [r.key for r in related]
        body.append(text(t("qa.answer.feedback_prompt"), spacing="Large", isSubtle=True))
        body.append(
            action_set(
                [
                    submit(
                        t("qa.answer.helpful"),
                        "qa.feedback",
                        entry=entry.key,
                        qid=qid,
                        helpful=True,
                        related=rel,
                    ),
                    submit(
                        t("qa.answer.not_helpful"),
                        "qa.feedback",
                        entry=entry.key,
                        qid=qid,
                        helpful=False,
                        related=rel,
                    ),
                ]
            )
        )
    elif feedback:
        body.append(text(t("qa.answer.thanks_helpful"), spacing="Large", color="Good"))
    else:
        body.append(text(t("qa.answer.not_helpful_next"), spacing="Large"))
        body.extend(ask_box(t, query or entry.question, qid))
    updated = t("qa.answer.updated", date=format_date_ja(entry.updated_at.astimezone(JST).date()))
    if show_key:
        updated += t("qa.answer.key", id=entry.key)
    body.append(text(updated, isSubtle=True, size="Small", spacing="Medium"))
    return adaptive_card(body)


def ask_box(t: T, question: str, qid: int | None) -> list[Element]:
    """The question (editable) and 「DX推進課に質問する」."""
    return [
        text_input(
            "question",
            t("qa.ask.input_label"),
            question[:QUESTION_MAX],
            multiline=True,
            maxLength=QUESTION_MAX,
        ),
        action_set([submit(t("qa.ask.button"), "qa.ask", style="positive", qid=qid)]),
    ]


def not_helpful_card(t: T, question: str, qid: int | None) -> dict[str, Any]:
    """「役に立たなかった」 when the answer card cannot be changed in place: the next steps."""
    return adaptive_card([text(t("qa.answer.not_helpful_next")), *ask_box(t, question, qid)])


def not_found_card(t: T, query: str, near: Sequence[KbEntry], qid: int | None) -> dict[str, Any]:
    body: list[Element] = [
        heading(t("qa.notfound.title"), size="Medium"),
        text(t("qa.notfound.body")),
        *ask_box(t, query, qid),
    ]
    if near:
        body.append(text(t("qa.notfound.near"), isSubtle=True, spacing="Large"))
        body.extend(related_list(near, qid))
    return adaptive_card(body)


def asked_card(t: T, ticket: Ticket) -> dict[str, Any]:
    """What the asker's card becomes after 「DX推進課に質問する」. The same words whether the DX
    division reads it in their channel or in their own chats: how it reaches them is not the asker's
    concern."""
    return adaptive_card(
        [
            heading(t("qa.ask.sent_title", id=ticket.id), size="Medium"),
            container([text(ticket.question)], style="emphasis"),
            text(t("qa.ask.sent")),
        ]
    )


def _message_label(t: T, message: TicketMessage) -> str:
    key = "qa.thread.asker" if TicketAuthor(message.author) == TicketAuthor.ASKER else "qa.thread.division"
    return t(key, name=message.author_name or t("qa.ticket.unknown"), at=format_datetime_ja(message.at))


def thread(t: T, messages: Sequence[TicketMessage]) -> list[Element]:
    """The exchange after the question, oldest first: answers plain, the asker's replies shaded."""
    items: list[Element] = []
    for message in messages:
        asker = TicketAuthor(message.author) == TicketAuthor.ASKER
        block: list[Element] = [
            text(_message_label(t, message), isSubtle=True, size="Small", weight="Bolder"),
            text(message.body, spacing="None"),
        ]
        shade: dict[str, Any] = {"style": "emphasis"} if asker else {}
        items.append(container(block, spacing="Medium", **shade))
    return items


# --- tickets ------------------------------------------------------------------------------------
def ticket_card(
    t: T,
    ticket: Ticket,
    messages: Sequence[TicketMessage] = (),
    *,
    copy: bool = False,
    desk_missing: bool = False,
) -> dict[str, Any]:
    """The DX division's card for one ticket; rebuilt from the row and replaced at every step.

    ``messages``: the exchange after the question (answers and the asker's replies).
    ``copy``: the same card opened from 「問い合わせ一覧」 elsewhere; its buttons say so, so that a
    press replaces that copy as well as the channel's card.
    ``desk_missing``: the copy sent to an admin's own chat while no inquiry channel is set; it says
    how to set one."""
    status = TicketStatus(ticket.status)
    ref: dict[str, Any] = {"ticket": ticket.id, **({"copy": True} if copy else {})}
    pairs = [
        (t("qa.ticket.asker"), ticket.asker_name or t("qa.ticket.unknown")),
        (t("qa.ticket.received"), format_datetime_ja(ticket.created_at)),
    ]
    if ticket.assignee_name:
        pairs.append((t("qa.ticket.assignee"), ticket.assignee_name))
    body: list[Element] = [
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [heading(t("qa.ticket.title", id=ticket.id), size="Medium")],
                },
                {
                    "type": "Column",
                    "width": "auto",
                    "verticalContentAlignment": "Center",
                    "items": [
                        text(
                            t(f"qa.ticket.status.{status.value}"),
                            weight="Bolder",
                            color=_STATUS_COLOR[status],
                        )
                    ],
                },
            ],
        },
        container([text(ticket.question)], style="emphasis"),
        facts(pairs),
    ]
    if not messages and ticket.answer:  # a ticket the card is shown for before its log was read
        body.append(text(t("qa.ticket.answer_heading", name=ticket.answered_by or ""), weight="Bolder"))
        body.append(text(ticket.answer))
    # The exchange, with where the latest answer got to right under that answer.
    last_answer = max(
        (i for i, m in enumerate(messages) if TicketAuthor(m.author) == TicketAuthor.DIVISION), default=-1
    )
    body.extend(thread(t, messages[: last_answer + 1]))
    if ticket.answer:
        if ticket.answer_delivered_at:
            body.append(
                text(
                    t("qa.ticket.delivered", at=format_datetime_ja(ticket.answer_delivered_at)),
                    isSubtle=True,
                    size="Small",
                )
            )
        elif ticket.answer_delivery_error:
            body.append(
                text(
                    t("qa.ticket.not_delivered", reason=_delivery_reason(t, ticket.answer_delivery_error)),
                    color="Attention",
                    size="Small",
                )
            )
        else:
            body.append(text(t("qa.ticket.sending"), isSubtle=True, size="Small"))
    body.extend(thread(t, messages[last_answer + 1 :]))
    waiting_reply = bool(messages) and TicketAuthor(messages[-1].author) == TicketAuthor.ASKER
    if waiting_reply and status in (TicketStatus.OPEN, TicketStatus.CLAIMED):
        body.append(text(t("qa.ticket.replied"), color="Attention", weight="Bolder", spacing="Medium"))
    if ticket.entry_key:
        body.append(text(t("qa.ticket.in_kb", id=ticket.entry_key), isSubtle=True, size="Small"))

    actions: list[Element] = []
    if status in (TicketStatus.OPEN, TicketStatus.CLAIMED):
        if status == TicketStatus.OPEN:
            actions.append(submit(t("qa.ticket.claim"), "qa.ticket.claim", **ref))
        body.append(
            text_input(
                "answer",
                t("qa.ticket.answer_label"),
                multiline=True,
                maxLength=ANSWER_MAX,
                placeholder=t("qa.ticket.answer_placeholder"),
            )
        )
        body.append(
            action_set(
                [
                    submit(t("qa.ticket.answer"), "qa.ticket.answer", style="positive", **ref),
                    # Answer with an entry that already exists; the question becomes a 言い換え候補.
                    submit(t("qa.ticket.use_faq"), "qa.ticket.faq", **ref),
                ]
            )
        )
    if ticket.answer and ticket.answer_delivery_error and not ticket.answer_delivered_at:
        actions.append(submit(t("qa.ticket.resend"), "qa.ticket.resend", **ref))
    if ticket.answer and not ticket.entry_key:
        actions.append(submit(t("qa.ticket.to_kb"), "qa.ticket.to_kb", **ref))
    if status != TicketStatus.CLOSED:
        actions.append(submit(t("qa.ticket.close"), "qa.ticket.close", **ref))
    if desk_missing:
        body.append(text(t("qa.ticket.desk_missing"), isSubtle=True, size="Small", spacing="Large"))
    return adaptive_card(body, actions=actions or None)


# --- ticket lists ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketLine:
    """One ticket in 「問い合わせ一覧」, with what the list adds to the row."""

    ticket: Ticket
    section: str | None  # the asker's section(s) on the day they asked, if they are in the roster
    age: int  # business days since it arrived (0: today)
    overdue: bool
    answer_read: str | None = (
        None  # 回答済み: the latest answer read | unread | unknown (Teams read receipts)
    )


def _status_text(t: T, status: TicketStatus) -> Element:
    return text(t(f"qa.ticket.status.{status.value}"), weight="Bolder", color=_STATUS_COLOR[status])


def _line_head(t: T, ticket: Ticket, limit: int) -> Element:
    """「#12 question…」 on the left, the state on the right."""
    return {
        "type": "ColumnSet",
        "columns": [
            {
                "type": "Column",
                "width": "stretch",
                "items": [text(f"**#{ticket.id}** {_shorten(ticket.question, limit)}")],
            },
            {"type": "Column", "width": "auto", "items": [_status_text(t, TicketStatus(ticket.status))]},
        ],
    }


def open_tickets_card(
    t: T,
    lines: Sequence[TicketLine],
    counts: Mapping[TicketStatus, int],
    *,
    overdue: int,
    gaps: Sequence[str] = (),
) -> dict[str, Any]:
    """「問い合わせ一覧」 for the DX division: tickets not closed, oldest first, each with 「開く」.

    ``counts`` and ``overdue`` are for every ticket not closed, ``lines`` only those shown; ``gaps``
    are set-up problems to fix (no inquiry channel …), shown first."""
    refresh = [submit(t("qa.tickets.refresh"), "qa.tickets.refresh")]
    body: list[Element] = [heading(t("qa.tickets.title"), size="Medium")]
    body.extend(text(gap, color="Warning", size="Small") for gap in gaps)
    total = sum(counts.values())
    if not lines:
        body.append(text(t("qa.tickets.none")))
        return adaptive_card(body, actions=refresh)
    body.append(
        text(
            t(
                "qa.tickets.summary",
                open=counts.get(TicketStatus.OPEN, 0),
                claimed=counts.get(TicketStatus.CLAIMED, 0),
                answered=counts.get(TicketStatus.ANSWERED, 0),
                overdue=overdue,
            ),
            isSubtle=True,
        )
    )
    for line in lines:
        ticket = line.ticket
        asker = ticket.asker_name or t("qa.ticket.unknown")
        if line.section:
            asker = t("qa.tickets.asker_in", name=asker, section=line.section)
        age = t("qa.tickets.age_today") if line.age == 0 else t("qa.tickets.age", n=line.age)
        meta = t(
            "qa.tickets.meta",
            asker=asker,
            date=format_date_ja(ticket.created_at.astimezone(JST).date()),
            age=age,
            assignee=ticket.assignee_name or t("qa.remind.nobody"),
        )
        late: dict[str, Any] = {"color": "Attention"} if line.overdue else {"isSubtle": True}
        body.append(
            container(
                [
                    _line_head(t, ticket, 80),
                    text(
                        meta
                        + (t("qa.tickets.overdue") if line.overdue else "")
                        + (t(f"qa.tickets.answer_{line.answer_read}") if line.answer_read else ""),
                        size="Small",
                        **late,
                    ),
                    action_set([submit(t("qa.tickets.open"), "qa.ticket.show", ticket=ticket.id)]),
                ],
                separator=True,
                spacing="Medium",
            )
        )
    if total > len(lines):
        body.append(text(t("qa.tickets.more", shown=len(lines), total=total), isSubtle=True, size="Small"))
    body.append(text(t("qa.tickets.hint"), isSubtle=True, size="Small", spacing="Medium"))
    return adaptive_card(body, actions=refresh)


def my_tickets_card(t: T, tickets: Sequence[Ticket], total: int) -> dict[str, Any]:
    """「自分の問い合わせ」: the asker's own tickets, newest first, with their state."""
    body: list[Element] = [heading(t("qa.mine.title"), size="Medium")]
    if not tickets:
        body.append(text(t("qa.mine.none")))
        return adaptive_card(body)
    for ticket in tickets:
        status = TicketStatus(ticket.status)
        if status == TicketStatus.CLAIMED:
            state = t("qa.mine.state.claimed", name=ticket.assignee_name or t("qa.remind.nobody"))
        elif ticket.answer:
            answered = (ticket.answered_at or ticket.created_at).astimezone(JST).date()
            state = t("qa.mine.state.answered", date=format_date_ja(answered))
        elif status == TicketStatus.CLOSED:
            state = t("qa.mine.state.closed")
        else:
            state = t("qa.mine.state.open")
        items: list[Element] = [
            _line_head(t, ticket, 80),
            text(
                t(
                    "qa.mine.meta",
                    date=format_date_ja(ticket.created_at.astimezone(JST).date()),
                    state=state,
                ),
                isSubtle=True,
                size="Small",
            ),
        ]
        if ticket.answer:
            items.append(action_set([submit(t("qa.mine.show_answer"), "qa.mine.answer", ticket=ticket.id)]))
        body.append(container(items, separator=True, spacing="Medium"))
    if total > len(tickets):
        body.append(text(t("qa.mine.more", shown=len(tickets), total=total), isSubtle=True, size="Small"))
    return adaptive_card(body)


_REASONS = ("blocked", "uninstalled", "no_conversation", "untrusted_service_url")


def _delivery_reason(t: T, error: str) -> str:
    return t(f"qa.ticket.reason.{error}") if error in _REASONS else t("qa.ticket.reason.other")


def answer_to_asker_card(
    t: T,
    ticket: Ticket,
    messages: Sequence[TicketMessage] = (),
    *,
    notice: str | None = None,
    error: str | None = None,
    reply_value: str = "",
) -> dict[str, Any]:
    """The DX division's answer in the asker's chat, with 返信する: a follow-up joins the same ticket.

    ``messages``: the whole exchange; the latest answer is shown as the answer, what came before it
    as the earlier exchange. ``notice``/``error``: a line after a reply was sent / refused, with the
    reply box keeping ``reply_value``."""
    earlier = list(messages)
    latest = ticket.answer or ""
    answered_by = ticket.answered_by or ""
    for i in range(len(earlier) - 1, -1, -1):
        if TicketAuthor(earlier[i].author) == TicketAuthor.DIVISION:
            latest, answered_by = earlier[i].body, earlier[i].author_name
            later = earlier[i + 1 :]
            earlier = earlier[:i]
            break
    else:
        later = []
    body: list[Element] = [
        heading(t("qa.reply.title"), size="Medium"),
        text(t("qa.reply.ticket", id=ticket.id), isSubtle=True),
        text(t("qa.reply.question"), weight="Bolder"),
        container([text(ticket.question)], style="emphasis"),
    ]
    if earlier:
        body.append(text(t("qa.reply.earlier"), weight="Bolder", spacing="Medium"))
        body.extend(thread(t, earlier))
    body += [
        text(t("qa.reply.answer"), weight="Bolder", spacing="Medium"),
        text(latest),
        text(t("qa.reply.footer", name=answered_by), isSubtle=True, size="Small"),
    ]
    if later:  # the asker's replies since this answer
        body.extend(thread(t, later))
    if notice:
        body.append(text(notice, color="Good", weight="Bolder", spacing="Medium"))
    if error:
        body.append(text(error, color="Attention", weight="Bolder", spacing="Medium"))
    body += [
        text_input(
            "reply",
            t("qa.reply.reply_label"),
            reply_value[:REPLY_MAX],
            multiline=True,
            maxLength=REPLY_MAX,
            placeholder=t("qa.reply.reply_placeholder"),
            spacing="Large",
        ),
        action_set(
            [submit(t("qa.reply.reply_button"), "qa.ticket.reply", style="positive", ticket=ticket.id)]
        ),
        text(t("qa.reply.other_questions"), isSubtle=True, size="Small"),
    ]
    return adaptive_card(body)


def reminder_text(t: T, tickets: Sequence[Ticket]) -> str:
    lines = [t("qa.remind.title", count=len(tickets)), ""]
    for ticket in tickets:
        lines.append(
            t(
                "qa.remind.line",
                id=ticket.id,
                status=t(f"qa.ticket.status.{TicketStatus(ticket.status).value}"),
                date=format_date_ja(ticket.created_at.astimezone(JST).date()),
                question=_shorten(ticket.question, 40),
                assignee=ticket.assignee_name or t("qa.remind.nobody"),
            )
        )
    return "\n\n".join(lines)


# --- knowledge base administration ----------------------------------------------------------------
def entry_form(
    t: T,
    entry: KbEntry | None = None,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    ticket_id: int | None = None,
) -> dict[str, Any]:
    """Add (no ``entry``) or edit an entry. ``values`` re-fills the form after a validation error."""
    v = dict(values or {})
    if entry is not None and values is None:
        v = {
            "question": entry.question,
            "alternates": "\n".join(entry.alternates or []),
            "answer": entry.answer,
            "tags": ", ".join(entry.tags or []),
            "url": entry.url or "",
            "status": EntryStatus(entry.status).value,
        }
    body: list[Element] = []
    if entry is None:
        body.append(heading(t("qa.form.add_title"), size="Medium"))
    else:
        body.append(heading(t("qa.form.edit_title", id=entry.key), size="Medium"))
        if EntryStatus(entry.status) == EntryStatus.DRAFT:
            body.append(text(t("qa.form.is_draft"), color="Warning"))
    if error:
        body.append(text(error, color="Attention", weight="Bolder"))
    if entry is None:
        body.append(
            text_input(
                "new_key",
                t("qa.form.key"),
                v.get("new_key", ""),
                placeholder="teams-recording",
                maxLength=100,
            )
        )
    body += [
        text_input("question", t("qa.form.question"), v.get("question", ""), required=True, maxLength=500),
        text_input("alternates", t("qa.form.alternates"), v.get("alternates", ""), multiline=True),
        text_input(
            "answer", t("qa.form.answer"), v.get("answer", ""), multiline=True, required=True, maxLength=10000
        ),
        text_input("tags", t("qa.form.tags"), v.get("tags", ""), placeholder="Teams, 会議"),
        text_input("url", t("qa.form.url"), v.get("url", ""), style="Url", placeholder="https://"),
        {
            "type": "Input.ChoiceSet",
            "id": "status",
            "label": t("qa.form.status"),
            "style": "expanded",
            "value": v.get("status") or EntryStatus.PUBLISHED.value,
            "choices": [
                {"title": t("qa.form.status.published"), "value": EntryStatus.PUBLISHED.value},
                {"title": t("qa.form.status.draft"), "value": EntryStatus.DRAFT.value},
            ],
        },
    ]
    data: dict[str, Any] = {"mode": "add" if entry is None else "edit"}
    if entry is not None:
        data["key"] = entry.key
    if ticket_id is not None:
        data["ticket"] = ticket_id
    return adaptive_card(body, actions=[submit(t("qa.form.save"), "qa.entry.save", style="positive", **data)])


def entry_saved_card(t: T, entry: KbEntry, created: bool) -> dict[str, Any]:
    status = EntryStatus(entry.status)
    key = "qa.form.saved_published" if status == EntryStatus.PUBLISHED else "qa.form.saved_draft"
    return adaptive_card(
        [
            heading(t("qa.form.saved_title", id=entry.key), size="Medium"),
            text(t(key)),
            facts(
                [
                    (t("qa.form.question"), entry.question),
                    (t("qa.form.status"), t(f"qa.form.status.{status.value}")),
                ]
            ),
        ],
        actions=[submit(t("qa.form.edit_again"), "qa.entry.edit", key=entry.key)],
    )


def delete_confirm_card(t: T, entry: KbEntry) -> dict[str, Any]:
    return adaptive_card(
        [
            heading(t("qa.delete.title"), size="Medium"),
            facts([("ID", entry.key), (t("qa.form.question"), entry.question)]),
            text(t("qa.delete.warning"), color="Attention"),
        ],
        actions=[
            submit(t("qa.delete.confirm"), "qa.entry.delete", style="destructive", key=entry.key),
            submit(t("qa.delete.cancel"), "qa.entry.delete_cancel", key=entry.key),
        ],
    )


def kb_overview_card(
    t: T, counts: dict[EntryStatus, int], drafts: Sequence[KbEntry], candidates: int = 0
) -> dict[str, Any]:
    body: list[Element] = [
        heading(t("qa.list.title"), size="Medium"),
        facts(
            [
                (t("qa.form.status.published"), t("qa.list.count", n=counts.get(EntryStatus.PUBLISHED, 0))),
                (t("qa.form.status.draft"), t("qa.list.count", n=counts.get(EntryStatus.DRAFT, 0))),
                (t("qa.list.candidates"), t("qa.list.count", n=candidates)),
            ]
        ),
    ]
    if drafts:
        body.append(text(t("qa.list.drafts"), weight="Bolder", spacing="Medium"))
        for d in drafts:
            body.append(
                {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "width": "stretch",
                            "items": [text(f"**{d.key}** {_shorten(d.question, 50)}")],
                        },
                        {
                            "type": "Column",
                            "width": "auto",
                            "items": [action_set([submit(t("qa.list.edit"), "qa.entry.edit", key=d.key)])],
                        },
                    ],
                }
            )
    body.append(text(t("qa.list.hint"), isSubtle=True, size="Small", spacing="Medium"))
    actions = [submit(t("qa.list.add"), "qa.entry.add")]
    if candidates:  # phrasings the bot learned wait for a decision
        actions.append(submit(t("qa.list.open_candidates"), "qa.phr.open"))
    return adaptive_card(body, actions=actions)


def synonyms_card(t: T, groups: Sequence[SynonymGroup], message: str | None = None) -> dict[str, Any]:
    lines = "\n".join(f"- **{g.id}** " + " = ".join(g.terms) for g in groups)
    body: list[Element] = [
        heading(t("qa.syn.title"), size="Medium"),
        text(t("qa.syn.explain"), isSubtle=True),
    ]
    if message:
        body.append(text(message, weight="Bolder", color="Good"))
    body.append(text(lines or t("qa.syn.none"), spacing="Medium"))
    body += [
        text_input("terms", t("qa.syn.add_label"), placeholder="テレワーク, 在宅勤務, リモートワーク"),
        action_set([submit(t("qa.syn.add"), "qa.syn.add", style="positive")]),
        text_input("group", t("qa.syn.remove_label"), placeholder="12"),
        action_set([submit(t("qa.syn.remove"), "qa.syn.remove", style="destructive")]),
    ]
    return adaptive_card(body)


# --- suggestion box -------------------------------------------------------------------------------
SUGGESTION_KINDS = ("idea", "complaint", "other")


def suggestion_form(
    t: T, error: str | None = None, body_value: str = "", kind: str = "idea"
) -> dict[str, Any]:
    body: list[Element] = [heading(t("qa.box.title"), size="Medium"), text(t("qa.box.explain"))]
    if error:
        body.append(text(error, color="Attention", weight="Bolder"))
    body += [
        {
            "type": "Input.ChoiceSet",
            "id": "kind",
            "label": t("qa.box.kind"),
            "style": "expanded",
            "value": kind if kind in SUGGESTION_KINDS else "idea",
            "choices": [{"title": t(f"qa.box.kind.{k}"), "value": k} for k in SUGGESTION_KINDS],
        },
        text_input("body", t("qa.box.body"), body_value, multiline=True, maxLength=SUGGESTION_MAX),
    ]
    return adaptive_card(body, actions=[submit(t("qa.box.send"), "qa.box.send", style="positive")])


def suggestion_sent_card(t: T) -> dict[str, Any]:
    return adaptive_card([heading(t("qa.box.sent_title"), size="Medium"), text(t("qa.box.sent_body"))])


def suggestion_channel_card(t: T, kind: str, body_text: str, received_on: date) -> dict[str, Any]:
    return adaptive_card(
        [
            heading(t("qa.box.channel_title"), size="Medium"),
            facts(
                [
                    (t("qa.box.kind"), t(f"qa.box.kind.{kind}")),
                    (t("qa.box.received_on"), format_date_ja(received_on)),
                ]
            ),
            container([text(body_text)], style="emphasis"),
            text(t("qa.box.channel_note"), isSubtle=True, size="Small"),
        ]
    )
