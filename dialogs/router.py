"""Routing as a table: each feature declares its text commands and card actions.

    router = Router("help")

    @router.command("ヘルプ", "help", "使い方", help_key="help.cmd.help")
    async def show_help(turn: Turn, args: str) -> None: ...

    @router.action("help.show", role=Role.ANYONE)
    async def on_button(turn: Turn, data: dict) -> None: ...

Commands match the first words of a message (longest alias first, case- and width-insensitive).
Card actions match ``value["action"]`` of an Adaptive Card submit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.api import FileAttachment, Role, Turn

CommandHandler = Callable[[Turn, str], Awaitable[None]]
ActionHandler = Callable[[Turn, dict[str, Any]], Awaitable[None]]
FileHandler = Callable[[Turn], Awaitable[None]]
# (the first file, the text sent with it) -> does this handler take it?
FileFilter = Callable[[FileAttachment, str], bool]


def by_extension(*extensions: str) -> FileFilter:
    """A file filter on the file name's extension: ``by_extension("csv", "xlsx")``."""
    wanted = tuple("." + e.lower().lstrip(".") for e in extensions)
    return lambda file, _text: file.name.lower().endswith(wanted)


def fold(text: str) -> str:
    """Fold width and case so 「ﾍﾙﾌﾟ」, 「ヘルプ」 and 'HELP' compare equal."""
    return unicodedata.normalize("NFKC", text).strip().lower()


@dataclass(frozen=True)
class Command:
    aliases: tuple[str, ...]
    handler: CommandHandler
    role: Role
    help_key: str | None  # catalog key of a one-line description for the help card
    usage: str | None = None  # shown on the help card, e.g. 「担当 税務課」
    scopes: frozenset[str] = frozenset({"personal", "groupChat", "channel"})


@dataclass(frozen=True)
class CardAction:
    name: str
    handler: ActionHandler
    role: Role


@dataclass
class Router:
    name: str
    commands: list[Command] = field(default_factory=list)
    actions: list[CardAction] = field(default_factory=list)
    file_handlers: list[tuple[FileHandler, Role, FileFilter]] = field(default_factory=list)
    fallback_handler: CommandHandler | None = None
    install_handler: FileHandler | None = None

    def command(
        self,
        *aliases: str,
        role: Role = Role.ANYONE,
        help_key: str | None = None,
        usage: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> Callable[[CommandHandler], CommandHandler]:
        def register(fn: CommandHandler) -> CommandHandler:
            self.commands.append(
                Command(
                    tuple(aliases),
                    fn,
                    role,
                    help_key,
                    usage,
                    frozenset(scopes) if scopes else frozenset({"personal", "groupChat", "channel"}),
                )
            )
            return fn

        return register

    def action(self, name: str, role: Role = Role.ANYONE) -> Callable[[ActionHandler], ActionHandler]:
        def register(fn: ActionHandler) -> ActionHandler:
            self.actions.append(CardAction(name, fn, role))
            return fn

        return register

    def on_file(
        self, role: Role = Role.ANYONE, accepts: FileFilter | None = None
    ) -> Callable[[FileHandler], FileHandler]:
        """Files sent to the bot; ``accepts`` picks which (default: any). The first feature that accepts wins."""

        def register(fn: FileHandler) -> FileHandler:
            self.file_handlers.append((fn, role, accepts or (lambda _f, _t: True)))
            return fn

        return register

    def on_install(self, fn: FileHandler) -> FileHandler:
        """The bot was added to a conversation (a personal chat, a team, a group chat)."""
        self.install_handler = fn
        return fn

    def fallback(self, fn: CommandHandler) -> CommandHandler:
        """Free text that matches no command (the question-answering feature)."""
        self.fallback_handler = fn
        return fn


@dataclass(frozen=True)
class Match:
    kind: str  # "command" | "action" | "file" | "fallback" | "unknown_action" | "unknown_file" | "empty"
    role: Role = Role.ANYONE
    handler: Any = None
    args: str = ""
    data: dict[str, Any] | None = None


class RouteTable:
    """All routers composed in one place, read top to bottom."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.routers = list(routers)
        self._commands: list[tuple[str, Command]] = []
        self._actions: dict[str, CardAction] = {}
        for router in self.routers:
            for cmd in router.commands:
                for alias in cmd.aliases:
                    self._commands.append((fold(alias), cmd))
            for act in router.actions:
                if act.name in self._actions:
                    raise ValueError(f"card action {act.name!r} declared twice")
                self._actions[act.name] = act
        # Longest alias first, so 「お知らせ一覧」 wins over 「お知らせ」.
        self._commands.sort(key=lambda pair: -len(pair[0]))
        # The same, for a quick answer to the usual cases: the whole text is an alias, or no alias begins it.
        self._exact: dict[str, Command] = {}
        for alias, cmd in self._commands:
            self._exact.setdefault(alias, cmd)
        self._prefixes = tuple(alias + " " for alias, _ in self._commands)

    @property
    def install_handlers(self) -> list[FileHandler]:
        return [r.install_handler for r in self.routers if r.install_handler]

    @property
    def commands(self) -> list[Command]:
        return [cmd for router in self.routers for cmd in router.commands]

    def match(
        self, text: str, value: dict[str, Any] | None, files: list[FileAttachment] | None = None
    ) -> Match:
        if value and isinstance(value.get("action"), str):
            act = self._actions.get(value["action"])
            if act is None:
                return Match("unknown_action", data=value)
            return Match("action", act.role, act.handler, data=value)
        if files:
            for router in self.routers:
                for handler, role, accepts in router.file_handlers:
                    if accepts(files[0], text):
                        return Match("file", role, handler)
            return Match("unknown_file")
        norm = unicodedata.normalize("NFKC", text).strip()
        folded = norm.lower()
        if not folded:
            return Match("empty")
        exact = self._exact.get(folded)
        if exact is not None:
            return Match("command", exact.role, exact.handler, args="")
        if folded.startswith(self._prefixes):
            for alias, cmd in self._commands:
                if folded.startswith(alias + " "):
                    return Match("command", cmd.role, cmd.handler, args=norm[len(alias) :].strip())
        for router in self.routers:
            if router.fallback_handler:
                return Match("fallback", Role.ANYONE, router.fallback_handler, args=text.strip())
        return Match("fallback", Role.ANYONE, None, args=text.strip())
