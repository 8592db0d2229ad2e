"""「ヘルプ」: a card listing what this person may do here."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from bot.api import Identity, Message, Role, Turn
from dialogs.kit.business_days import JST
from dialogs.kit.cards import adaptive_card, container, heading, submit, text
from dialogs.kit.feature import Feature
from dialogs.kit.i18n import t
from dialogs.kit.router import Command, Router, RouteTable, fold

GREETING = "greeting"  # the delivery kind of the install greetings


def feature(route_table: Callable[[], RouteTable]) -> Feature:
    """The help feature, listing the commands of ``route_table()``: the composition root passes the
    table it composes (help is part of it, so it is read when someone asks, not when this is built)."""
    router = Router("help")

    @router.command("ヘルプ", "help", "使い方", "？", "?", help_key="help.cmd.help")
    async def show_help(turn: Turn, args: str) -> None:
        await turn.reply_card(help_card(turn, route_table()), text=turn.t("help.title"))

    @router.action(RUN, role=Role.ANYONE)
    async def on_run(turn: Turn, data: dict[str, Any]) -> None:
        await run_command(turn, data, route_table())

    router.on_install(welcome)
    return Feature("help", router)


def help_card(turn: Turn, table: object) -> dict[str, Any]:
    """The card for this person here. It depends only on their roles, the kind of conversation and the
    language, so it is built once per combination (the route table does not change while running)."""
    return _help_card(turn.identity.roles, turn.conversation.type, turn.locale, table)


async def welcome(turn: Turn) -> None:
    """A short greeting when someone installs the bot, so the first thing they see says what to do.

    It goes through the delivery queue, under the app-wide rate limit and with its retries: when the
    app is installed for thousands at once, direct replies met 429 and were lost. The key is the
    conversation and the day (JST), so Teams repeating the install event, even minutes later while a 429
    is still being waited out, does not greet twice."""
    from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue

    key = "help.welcome.personal" if turn.conversation.type == "personal" else "help.welcome.team"
    now = turn.services.clock()
    item = DeliveryItem(
        Recipient(conversation_id=turn.conversation.id),
        Message(text=turn.t(key)),
        purpose=f"welcome-{now.astimezone(JST):%Y%m%d}",
    )
    await enqueue(turn.session, GREETING, 0, [item], priority=10, now=now)


# Each feature's main actions, offered as buttons above its typed commands (the first alias a
# person would type; tests check every one names a command). Role and conversation kind still decide.
MAIN_ACTIONS: dict[str, tuple[str, ...]] = {
    "todo": ("未対応",),
    "announce": ("お知らせ作成", "お知らせ一覧", "未確認の課"),
    "survey": ("サーベイ", "回答状況"),
    "roster": ("私の役割", "名簿", "カバー状況"),
    "qa": ("自分の問い合わせ", "目安箱", "FAQ一覧"),
    "dashboard": ("ダッシュボード",),
}
RUN = "help.run"


def _button_title(alias: str, cmd: Command, locale: str) -> str:
    if locale == "en":
        return next((a for a in cmd.aliases if a.isascii() and len(a) > 1), alias)
    return alias


def _visible(cmd: Command, identity: Identity, conversation_type: str) -> bool:
    return identity.has(cmd.role) and conversation_type in cmd.scopes


@lru_cache(maxsize=256)
def _help_card(roles: frozenset[Role], conversation_type: str, locale: str, table: object) -> dict[str, Any]:
    identity = Identity(roles=roles)
    rows: list[dict[str, Any]] = []
    # One group per feature, under its name (お知らせ, サーベイ, 名簿・権限 …): its main actions as
    # buttons, then every typed command in one short line each (an admin has some thirty).
    for router in getattr(table, "routers", []):
        by_alias = {fold(a): c for c in router.commands for a in c.aliases}
        buttons = []
        for alias in MAIN_ACTIONS.get(router.name, ()):
            cmd = by_alias.get(fold(alias))
            if cmd is not None and _visible(cmd, identity, conversation_type):
                buttons.append(submit(_button_title(alias, cmd, locale), RUN, command=alias))
        lines = []
        for cmd in router.commands:
            if cmd.help_key is None or not _visible(cmd, identity, conversation_type):
                continue
            label = cmd.usage or cmd.aliases[0]
            lines.append(text(f"**{label}**: {t(cmd.help_key, locale)}", size="Small", spacing="None"))
        if not lines and not buttons:
            continue
        title = t(f"help.group.{router.name}", locale)
        rows.append(text(title, weight="Bolder", color="Accent", spacing="Medium", separator=bool(rows)))
        if buttons:
            rows.append({"type": "ActionSet", "actions": buttons, "spacing": "Small"})
        if lines:
            rows.append(container(lines, spacing="Small"))
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


class _AsTyped:
    """The turn as if the person had typed the command: the command as text, no card to replace
    (a command must not overwrite the help card it was started from)."""

    def __init__(self, turn: Turn, command: str) -> None:
        self._turn = turn
        self.text = command
        self.value = None
        self.reply_to_id = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._turn, name)


async def run_command(turn: Turn, data: dict[str, Any], table: RouteTable) -> None:
    """A help-card button: run its command exactly as if typed, with the same role and place checks."""
    command = data.get("command")
    if not isinstance(command, str):
        await turn.reply(turn.t("core.unknown_action"))
        return
    match = table.match(command, None)
    cmd = next((c for c in table.commands if c.handler is match.handler), None)
    if match.kind != "command" or cmd is None:
        await turn.reply(turn.t("core.unknown_action"))
        return
    if not turn.identity.has(cmd.role):
        await turn.reply(turn.t("core.forbidden", role=turn.t(f"core.role.{cmd.role.name.lower()}")))
        return
    if turn.conversation.type not in cmd.scopes:
        await turn.reply(turn.t("help.run.elsewhere", command=command))
        return
    await match.handler(cast(Turn, _AsTyped(turn, command)), match.args)
