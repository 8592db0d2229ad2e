"""「ヘルプ」: a card listing what this person may do here."""

from __future__ import annotations

from bot.api import Role, Turn
from dialogs.cards import adaptive_card, container, heading, text
from dialogs.router import Router

router = Router("help")


@router.command("ヘルプ", "help", "使い方", "？", "?", help_key="help.cmd.help")
async def show_help(turn: Turn, args: str) -> None:
    from dialogs.registry import route_table  # the table is composed after every router is declared

    await turn.reply_card(help_card(turn, route_table()), text=turn.t("help.title"))


@router.on_install
async def welcome(turn: Turn) -> None:
    """A short greeting when someone installs the bot, so the first thing they see says what to do."""
    key = "help.welcome.personal" if turn.conversation.type == "personal" else "help.welcome.team"
    await turn.reply(turn.t(key))


def help_card(turn: Turn, table: object) -> dict:
    rows = []
    for cmd in getattr(table, "commands", []):
        if cmd.help_key is None or not turn.identity.has(cmd.role):
            continue
        if turn.conversation.type not in cmd.scopes:
            continue
        label = cmd.usage or cmd.aliases[0]
        rows.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "auto", "items": [text(f"**{label}**")]},
                    {"type": "Column", "width": "stretch", "items": [text(turn.t(cmd.help_key))]},
                ],
            }
        )
    role_key = "help.you.staff"
    if turn.identity.has(Role.ADMIN):
        role_key = "help.you.admin"
    elif turn.identity.has(Role.AUTHOR):
        role_key = "help.you.author"
    elif turn.identity.has(Role.PROMOTER):
        role_key = "help.you.promoter"
    body = [
        heading(turn.t("help.title")),
        text(turn.t(role_key), isSubtle=True),
        container(rows, spacing="Medium"),
        text(turn.t("help.footer"), isSubtle=True, size="Small", spacing="Medium"),
    ]
    return adaptive_card(body)
