"""「ヘルプ」: a card listing what this person may do here."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from bot.api import Identity, Role, Turn
from dialogs.kit.cards import adaptive_card, container, heading, text
from dialogs.kit.feature import Feature
from dialogs.kit.i18n import t
from dialogs.kit.router import Router, RouteTable


def feature(route_table: Callable[[], RouteTable]) -> Feature:
    """The help feature, listing the commands of ``route_table()``: the composition root passes the
    table it composes (help is part of it, so it is read when someone asks, not when this is built)."""
    router = Router("help")

    @router.command("ヘルプ", "help", "使い方", "？", "?", help_key="help.cmd.help")
    async def show_help(turn: Turn, args: str) -> None:
        await turn.reply_card(help_card(turn, route_table()), text=turn.t("help.title"))

    router.on_install(welcome)
    return Feature("help", router)


def help_card(turn: Turn, table: object) -> dict[str, Any]:
    """The card for this person here. It depends only on their roles, the kind of conversation and the
    language, so it is built once per combination (the route table does not change while running)."""
    return _help_card(turn.identity.roles, turn.conversation.type, turn.locale, table)


async def welcome(turn: Turn) -> None:
    """A short greeting when someone installs the bot, so the first thing they see says what to do."""
    key = "help.welcome.personal" if turn.conversation.type == "personal" else "help.welcome.team"
    await turn.reply(turn.t(key))


@lru_cache(maxsize=256)
def _help_card(roles: frozenset[Role], conversation_type: str, locale: str, table: object) -> dict[str, Any]:
    identity = Identity(roles=roles)
    rows: list[dict[str, Any]] = []
    # One group per feature, under its name (お知らせ, サーベイ, 名簿・権限 …): an admin has some thirty
    # commands, and a flat list of them is hard to scan.
    for router in getattr(table, "routers", []):
        group: list[dict[str, Any]] = []
        for cmd in router.commands:
            if cmd.help_key is None or not identity.has(cmd.role):
                continue
            if conversation_type not in cmd.scopes:
                continue
            label = cmd.usage or cmd.aliases[0]
            group.append(
                {
                    "type": "ColumnSet",
                    "columns": [
                        {"type": "Column", "width": "auto", "items": [text(f"**{label}**")]},
                        {"type": "Column", "width": "stretch", "items": [text(t(cmd.help_key, locale))]},
                    ],
                }
            )
        if group:
            title = t(f"help.group.{router.name}", locale)
            rows.append(text(title, weight="Bolder", color="Accent", spacing="Medium", separator=bool(rows)))
            rows.extend(group)
    role_key = "help.you.staff"
    if identity.has(Role.ADMIN):
        role_key = "help.you.admin"
    elif identity.has(Role.AUTHOR):
        role_key = "help.you.author"
    elif identity.has(Role.PROMOTER):
        role_key = "help.you.promoter"
    body = [
        heading(t("help.title", locale)),
        text(t(role_key, locale), isSubtle=True, id="help.you"),
        container(rows, spacing="Medium", id="help.commands"),
        text(t("help.footer", locale), isSubtle=True, size="Small", spacing="Medium"),
    ]
    return adaptive_card(body)
