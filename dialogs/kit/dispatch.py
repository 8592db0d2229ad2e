"""One turn: match the route, enforce what it declares, run the handler, answer politely when nothing fits.

Every declared property is checked here, once, so handlers need not check it again:

- kind: ``RouteTable.match`` reaches a command only from typed text, a card action only from a card
  submit, a file route only for an attached file;
- ``role``: who may use it (``core.forbidden`` otherwise);
- ``scopes``: the kinds of conversation it runs in; elsewhere it does not run, and the reply says where
  to use it (the route's ``scope_hint``, or ``core.scope.*``).

Features may wrap every turn in steps of their own (``Feature.before_turn``): each gets the turn and a
``nxt`` to call for the rest, after the sender's identity is known and before routing.

    async def audit_step(turn: Turn, nxt: Callable[[], Awaitable[None]]) -> None:
        log.info("turn from %s", turn.identity.person_id)
        await nxt()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.api import Turn
from dialogs.kit.router import Command, Match, RouteTable

log = logging.getLogger(__name__)
TurnStep = Callable[[Turn, Callable[[], Awaitable[None]]], Awaitable[None]]


def _where(turn: Turn, match: Match) -> str:
    """The refusal for a route used in the wrong kind of conversation: where to use it instead."""
    route = match.route
    if route is not None and route.scope_hint:
        return turn.t(route.scope_hint)
    kinds = [s for s in ("personal", "channel", "groupChat") if s in match.scopes]
    places = turn.t("core.scope.or").join(turn.t(f"core.scope.{s}") for s in kinds)
    if isinstance(route, Command):
        return turn.t("core.scope.command", command=route.aliases[0], places=places)
    return turn.t("core.scope.other", places=places)


async def dispatch(turn: Turn, table: RouteTable, steps: Sequence[TurnStep] = ()) -> None:
    """Run ``steps`` in order, then the route; a step that does not call ``nxt`` ends the turn."""

    async def call(i: int) -> None:
        if i < len(steps):
            await steps[i](turn, lambda: call(i + 1))
        else:
            await route(turn, table)

    await call(0)


async def route(turn: Turn, table: RouteTable) -> None:
    match = table.match(turn.text, turn.value, turn.attachments)
    if match.kind == "empty":
        await turn.reply(turn.t("core.empty"))
        return
    if match.kind == "unknown_file":
        await turn.reply(turn.t("core.unknown_file", name=turn.attachments[0].name))
        return
    if match.kind == "unknown_action":
        log.warning("unknown card action", extra={"correlation_id": turn.correlation_id})
        await turn.reply(turn.t("core.unknown_action"))
        return
    if not turn.identity.has(match.role):
        log.info("refused: role %s needed", match.role.name, extra={"correlation_id": turn.correlation_id})
        await turn.reply(turn.t("core.forbidden", role=turn.t(f"core.role.{match.role.name.lower()}")))
        return
    if turn.conversation.type not in match.scopes:
        log.info(
            "refused: %s not for a %s conversation",
            match.kind,
            turn.conversation.type,
            extra={"correlation_id": turn.correlation_id},
        )
        await turn.reply(_where(turn, match))
        return
    if match.kind == "command":
        await match.handler(turn, match.args)
    elif match.kind == "action":
        await match.handler(turn, match.data or {})
    elif match.kind == "file":
        await match.handler(turn)
    elif match.handler is not None:
        await match.handler(turn, match.args)
    else:
        await turn.reply(turn.t("core.unknown_command"))
