"""Routing as a table: each feature declares its text commands and card actions.

    router = Router("help")

    @router.command("ヘルプ", "help", "使い方", help_key="help.cmd.help")
    async def show_help(turn: Turn, args: str) -> None: ...

    @router.action("help.show", role=Role.ANYONE)
    async def on_button(turn: Turn, data: dict) -> None: ...

Commands match the first words of a message (longest alias first, case- and width-insensitive).
Card actions match ``value["action"]`` of an Adaptive Card submit; files go to the first file route
that accepts them. Whatever a route declares is enforced by ``dialogs.kit.dispatch``, once, for every
route: its kind (a command only from typed text, an action only from a card submit, a file route only
for an attached file), its ``role``, and its ``scopes`` (the kinds of conversation it runs in:
"personal", "groupChat", "channel"). ``scope_hint`` names a catalog key that explains where to use
the route instead (default: a message built from the scopes).
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
# A notification the transport normalised (bot.api.EVENT_*): (turn, its data) -> None
EventHandler = Callable[[Turn, dict[str, Any]], Awaitable[None]]
# (the first file, the text sent with it) -> does this handler take it?
FileFilter = Callable[[FileAttachment, str], bool]
SCOPES = frozenset({"personal", "groupChat", "channel"})


def _scopes(scopes: Iterable[str] | None) -> frozenset[str]:
    if not scopes:
        return SCOPES
    chosen = frozenset(scopes)
    if not chosen <= SCOPES:
        raise ValueError(f"unknown scopes {sorted(chosen - SCOPES)}; use {sorted(SCOPES)}")
    return chosen


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
    scopes: frozenset[str] = SCOPES
    scope_hint: str | None = None  # catalog key: where to use it instead (else built from the scopes)


@dataclass(frozen=True)
class CardAction:
    name: str
    handler: ActionHandler
    role: Role
    scopes: frozenset[str] = SCOPES
    scope_hint: str | None = None


@dataclass(frozen=True)
class FileRoute:
    handler: FileHandler
    role: Role
    accepts: FileFilter
    scopes: frozenset[str] = SCOPES
    scope_hint: str | None = None


@dataclass
class Router:
    name: str
    commands: list[Command] = field(default_factory=list)
    actions: list[CardAction] = field(default_factory=list)
    file_handlers: list[FileRoute] = field(default_factory=list)
    fallback_handler: CommandHandler | None = None
    install_handler: FileHandler | None = None
    event_handlers: dict[str, EventHandler] = field(default_factory=dict)

    def command(
        self,
        *aliases: str,
        role: Role = Role.ANYONE,
        help_key: str | None = None,
        usage: str | None = None,
        scopes: Iterable[str] | None = None,
        scope_hint: str | None = None,
    ) -> Callable[[CommandHandler], CommandHandler]:
        def register(fn: CommandHandler) -> CommandHandler:
            self.commands.append(
                Command(tuple(aliases), fn, role, help_key, usage, _scopes(scopes), scope_hint)
            )
            return fn

        return register

    def action(
        self,
        name: str,
        role: Role = Role.ANYONE,
        scopes: Iterable[str] | None = None,
        scope_hint: str | None = None,
    ) -> Callable[[ActionHandler], ActionHandler]:
        def register(fn: ActionHandler) -> ActionHandler:
            self.actions.append(CardAction(name, fn, role, _scopes(scopes), scope_hint))
            return fn

        return register

    def on_file(
        self,
        role: Role = Role.ANYONE,
        accepts: FileFilter | None = None,
        scopes: Iterable[str] | None = None,
        scope_hint: str | None = None,
    ) -> Callable[[FileHandler], FileHandler]:
        """Files sent to the bot; ``accepts`` picks which (default: any). The first feature that accepts wins."""

        def register(fn: FileHandler) -> FileHandler:
            route = FileRoute(fn, role, accepts or (lambda _f, _t: True), _scopes(scopes), scope_hint)
            self.file_handlers.append(route)
            return fn

        return register

    def on_install(self, fn: FileHandler) -> FileHandler:
        """The bot was added to a conversation (a personal chat, a team, a group chat)."""
        self.install_handler = fn
        return fn

    def on_event(self, name: str) -> Callable[[EventHandler], EventHandler]:
        """A notification from Teams that is not a message, by the name ``bot.api`` gives it
        (``EVENT_READ_RECEIPT``). It runs with no reply expected and no role check: it says what
        happened in the sender's own chat."""

        def register(fn: EventHandler) -> EventHandler:
            self.event_handlers[name] = fn
            return fn

        return register

    def fallback(self, fn: CommandHandler) -> CommandHandler:
        """Free text that matches no command (the question-answering feature)."""
        self.fallback_handler = fn
        return fn

    def include(self, *routers: Router) -> Router:
        """This router with the routes of ``routers`` added, in order: a feature whose handlers live in
        several modules, each with its own ``Router``, returns one router from ``feature()``.

            Router("qa").include(answers.router, tickets.router, admin.router)
        """
        for other in routers:
            self.commands.extend(other.commands)
            self.actions.extend(other.actions)
            self.file_handlers.extend(other.file_handlers)
            for name, handler in other.event_handlers.items():
                if name in self.event_handlers:
                    raise ValueError(f"router {self.name!r}: event {name!r} declared twice")
                self.event_handlers[name] = handler
            for attr in ("fallback_handler", "install_handler"):
                handler = getattr(other, attr)
                if handler is None:
                    continue
                if getattr(self, attr) is not None:
                    raise ValueError(f"router {self.name!r}: {attr} declared twice")
                setattr(self, attr, handler)
        return self


Route = Command | CardAction | FileRoute


@dataclass(frozen=True)
class Match:
    kind: str  # "command" | "action" | "file" | "fallback" | "unknown_action" | "unknown_file" | "empty"
    role: Role = Role.ANYONE
    handler: Any = None
    args: str = ""
    data: dict[str, Any] | None = None
    route: Route | None = None  # what was declared, for the dispatcher to enforce (None: fallback)

    @property
    def scopes(self) -> frozenset[str]:
        return self.route.scopes if self.route is not None else SCOPES


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

    def event_handlers(self, name: str) -> list[EventHandler]:
        return [r.event_handlers[name] for r in self.routers if name in r.event_handlers]

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
            return Match("action", act.role, act.handler, data=value, route=act)
        if value and not text.strip():
            # A card submit is only ever a card action: data without one (a card from an older
            # version, another app's card) is a stale button, not an empty message.
            return Match("unknown_action", data=value)
        if files:
            for router in self.routers:
                for route in router.file_handlers:
                    if route.accepts(files[0], text):
                        return Match("file", route.role, route.handler, route=route)
            return Match("unknown_file")
        norm = unicodedata.normalize("NFKC", text).strip()
        folded = norm.lower()
        if not folded:
            return Match("empty")
        exact = self._exact.get(folded)
        if exact is not None:
            return Match("command", exact.role, exact.handler, args="", route=exact)
        if folded.startswith(self._prefixes):
            for alias, cmd in self._commands:
                if folded.startswith(alias + " "):
                    return Match("command", cmd.role, cmd.handler, args=norm[len(alias) :].strip(), route=cmd)
        for router in self.routers:
            if router.fallback_handler:
                return Match("fallback", Role.ANYONE, router.fallback_handler, args=text.strip())
        return Match("fallback", Role.ANYONE, None, args=text.strip())
