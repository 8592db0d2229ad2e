"""The 「未対応」 command and its card."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.api import Turn
from dialogs.kit.business_days import format_date_ja, format_datetime_ja
from dialogs.kit.cards import Element, adaptive_card, container, heading, text
from dialogs.kit.router import Router
from dialogs.kit.waiting import Waiting, WaitingSource

SHOWN = 20  # a longer list is cut, with 「ほか n件」
_FAR = datetime.max.replace(tzinfo=UTC)


def build_router(sources: tuple[WaitingSource, ...]) -> Router:
    router = Router("todo")

    @router.command(
        "未対応",
        "未回答のサーベイ",
        "未確認",
        "やること",
        "todo",
        "to do",
        help_key="todo.cmd.todo",
        scopes=("personal",),
    )
    async def show_todo(turn: Turn, args: str) -> None:
        if turn.conversation.type != "personal":
            # The list names someone's own pending items: not for a channel or a group chat.
            await turn.reply(turn.t("todo.personal_only"))
            return
        person_id = turn.identity.person_id
        if person_id is None:
            await turn.reply(turn.t("todo.not_promoter"))
            return
        now = turn.services.clock()
        items: list[Waiting] = []
        for source in sources:
            items.extend(await source(turn.session, person_id, now))
        if not items:
            await turn.reply(turn.t("todo.empty"))
            return
        items.sort(key=order)
        await turn.reply_card(todo_card(turn, items, now), text=turn.t("todo.title", n=len(items)))

    return router


def order(item: Waiting) -> tuple[datetime, datetime]:
    """Oldest deadline first; items without a deadline last, the earliest sent first."""
    return (item.due or _FAR, item.since or _FAR)


def _due_line(turn: Turn, item: Waiting, now: datetime) -> str:
    if item.due is None:
        return turn.t("todo.no_deadline")
    when = format_date_ja(item.due_date) if item.due_date else format_datetime_ja(item.due)
    if turn.locale == "en":
        when = item.due_date.isoformat() if item.due_date else item.due.strftime("%Y-%m-%d %H:%M JST")
    return turn.t(f"todo.due.{item.kind}", when=when)


def todo_card(turn: Turn, items: list[Waiting], now: datetime) -> dict[str, Any]:
    body: list[Element] = [
        heading(turn.t("todo.title", n=len(items))),
        text(turn.t("todo.lead"), isSubtle=True, spacing="None"),
    ]
    for item in items[:SHOWN]:
        overdue = item.due is not None and item.due < now
        kind = turn.t(f"todo.kind.{item.kind}")
        label = f"{kind}・{turn.t('todo.overdue')}" if overdue else kind
        title = turn.t("todo.item_title", title=item.title, detail=item.detail) if item.detail else item.title
        body.append(
            container(
                [
                    text(label, size="Small", weight="Bolder", color="Attention" if overdue else "Accent"),
                    text(f"**{title}**", spacing="None"),
                    text(_due_line(turn, item, now), isSubtle=not overdue, spacing="None"),
                    {
                        "type": "ActionSet",
                        "actions": [
                            {
                                "type": "Action.Submit",
                                "title": turn.t(f"todo.open.{item.kind}"),
                                "data": dict(item.reopen),
                            }
                        ],
                    },
                ],
                separator=True,
                spacing="Medium",
            )
        )
    if len(items) > SHOWN:
        body.append(text(turn.t("todo.more", n=len(items) - SHOWN), isSubtle=True))
    return adaptive_card(body)
