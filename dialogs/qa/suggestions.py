"""デジタル目安箱: ideas and complaints for the DX division, with no identity stored anywhere.

The row keeps the kind, the text and the day (not the time: an exact time could be matched against
when each person was last seen). The post reaches the channel later, in a shuffled batch with others
(``tickets.post_suggestions``), so neither the channel nor the delivery rows carry the moment it was
written. Nothing here logs, and the channel card names no one; the sender is told plainly that this
is why no reply is possible.
"""

from __future__ import annotations

from typing import Any

from bot.api import Turn
from dialogs.kit.business_days import JST
from dialogs.kit.router import Router
from dialogs.qa.cards import SUGGESTION_KINDS, SUGGESTION_MAX, suggestion_form, suggestion_sent_card
from storage.models import Suggestion

router = Router("qa")


@router.command("目安箱", "デジタル目安箱", "suggestion box", help_key="qa.cmd.box", usage="目安箱")
async def on_box(turn: Turn, args: str) -> None:
    await turn.reply_card(
        suggestion_form(turn.t, body_value=args.strip()[:SUGGESTION_MAX]), text=turn.t("qa.box.title")
    )


@router.action("qa.box.send")
async def on_send(turn: Turn, data: dict[str, Any]) -> None:
    body = str(data.get("body") or "").strip()
    kind = str(data.get("kind") or "idea")
    kind = kind if kind in SUGGESTION_KINDS else "other"
    error = None
    if not body:
        error = turn.t("qa.box.empty")
    elif len(body) > SUGGESTION_MAX:
        error = turn.t("qa.box.too_long", limit=SUGGESTION_MAX)
    if error:
        card = suggestion_form(turn.t, error=error, body_value=body[:SUGGESTION_MAX], kind=kind)
        await _show(turn, card)
        return
    received_on = turn.services.clock().astimezone(JST).date()
    turn.session.add(Suggestion(kind=kind, body=body, received_on=received_on, posted=False))
    # Not posted now: the housekeeping job posts suggestions in shuffled batches (see post_suggestions).
    # The same words whether an inquiry channel is set or not: how it reaches the DX division (their
    # channel, or their admins' own chats) is not the sender's concern.
    await _show(turn, suggestion_sent_card(turn.t))


async def _show(turn: Turn, card: dict[str, Any]) -> None:
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card)
