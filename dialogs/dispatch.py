"""One turn: match the route, check the role, run the handler, answer politely when nothing fits."""

from __future__ import annotations

import logging

from bot.api import Turn
from dialogs.router import RouteTable

log = logging.getLogger(__name__)


async def dispatch(turn: Turn, table: RouteTable) -> None:
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
