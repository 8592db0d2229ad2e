"""The digest of recent cases goes out through the announcement feature: the DX division gets the
announcement form filled in (title and body, no confirmation asked) and previews and sends it there,
to every promoter, with the usual delivery, reminders and proof."""

from __future__ import annotations

from collections.abc import Sequence

from bot.api import Turn
from dialogs.cases import cards
from dialogs.cases.service import CaseView


def digest_text(turn: Turn, views: Sequence[CaseView]) -> tuple[str, str]:
    """(title, body in the announcement's Markdown) for these cases."""
    items = [
        turn.t(
            "cases.digest.item",
            title=v.case.title,
            section=f"{v.department} {v.section}",
            tools="、".join(v.case.tools),
            line=cards.line(turn.t, v),
        )
        for v in views
    ]
    body = "\n\n".join([turn.t("cases.digest.intro"), *items, turn.t("cases.digest.footer")])
    return turn.t("cases.digest.subject", count=len(views)), body


async def compose_digest(turn: Turn, views: Sequence[CaseView]) -> None:
    title, body = digest_text(turn, views)
    await compose_announcement(turn, title, body)


async def compose_announcement(turn: Turn, title: str, body: str) -> None:
    """The announcement form, filled in, for the DX division to preview and send to every promoter."""
    from dialogs.announce import cards as announce_cards
    from dialogs.announce import service as announce_service
    from dialogs.announce.compose import Form

    form = Form(title=title[:100], body=body, ack_required=False)
    departments, sections = await announce_service.roster_choices(turn.session)
    channel = await announce_service.division_channel(turn.session)
    card = announce_cards.compose_card(
        turn.t,
        form,
        departments=departments,
        sections=sections,
        channel_title=(channel.get("title") or "") if channel else None,
    )
    await turn.reply_card(card, text=turn.t("announce.compose.title"))
