"""What the announce feature offers the 「未対応」 list: a person's announcements not yet confirmed,
and the button that posts such a card again (the same card, its 確認しました still working).
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Role, Turn
from dialogs.announce import service
from dialogs.announce.service import KIND
from dialogs.engines import delivery
from dialogs.kit.business_days import JST
from dialogs.kit.router import Router
from dialogs.kit.waiting import Waiting
from storage.models import Delivery
from storage.models.announce import Announcement, AnnouncementRecipient, AnnouncementState

router = Router("announce")

log = logging.getLogger(__name__)

REOPEN = "announce.reopen"
REOPEN_PURPOSE = "reopen"  # a card posted again from 「未対応」: "reopen-1", "reopen-2", …
_LIVE = (AnnouncementState.SENDING.value, AnnouncementState.SENT.value)


async def waiting(session: AsyncSession, person_id: int, now: datetime) -> list[Waiting]:
    """Announcements sent to ``person_id`` that ask for a confirmation they have not given."""
    rows = (
        await session.execute(
            select(Announcement)
            .join(AnnouncementRecipient, AnnouncementRecipient.announcement_id == Announcement.id)
            .where(
                AnnouncementRecipient.person_id == person_id,
                AnnouncementRecipient.confirmed_at.is_(None),
                Announcement.ack_required.is_(True),
                Announcement.state.in_(_LIVE),
            )
        )
    ).scalars()
    return [
        Waiting(
            kind="announce",
            title=ann.title,
            reopen={"action": REOPEN, "id": ann.id},
            due=datetime.combine(ann.deadline, time(23, 59, 59), tzinfo=JST) if ann.deadline else None,
            due_date=ann.deadline,
            since=ann.sent_at,
        )
        for ann in rows
    ]


@router.action(REOPEN, role=Role.ANYONE)
async def reopen(turn: Turn, data: dict[str, Any]) -> None:
    """Post the recipient's card again in this chat and record it as one of their copies, so that
    確認しました on it is accepted and a later edit or recall reaches it too."""
    try:
        ann_id = int(data.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        await turn.reply(turn.t("core.unknown_action"))
        return
    person_id = turn.identity.person_id
    ann = await turn.session.get(Announcement, ann_id)
    mine = (
        await turn.session.scalar(
            select(AnnouncementRecipient).where(
                AnnouncementRecipient.announcement_id == ann_id,
                AnnouncementRecipient.person_id == person_id,
            )
        )
        if ann is not None and person_id is not None
        else None
    )
    if ann is None or mine is None or ann.state not in (*_LIVE, AnnouncementState.RECALLED.value):
        log.info("reopen refused: not a recipient", extra={"correlation_id": turn.correlation_id})
        await turn.reply(turn.t("announce.ack.not_yours"))
        return
    if ann.state == AnnouncementState.RECALLED:
        await turn.reply(turn.t("announce.ack.recalled"))
        return
    locale = turn.services.settings.locale  # the language the first copy went out in
    message = service.recipient_message(ann, locale, confirmed_at=mine.confirmed_at)
    assert message.card is not None
    activity_id = await turn.reply_card(message.card, text=message.text)
    if activity_id and mine.confirmed_at is None and turn.conversation.type == "personal":
        earlier = await turn.session.scalar(
            select(func.count()).where(
                Delivery.kind == KIND,
                Delivery.ref_id == ann_id,
                Delivery.recipient_key == f"person:{person_id}",
                Delivery.purpose.like(f"{REOPEN_PURPOSE}-%"),
            )
        )
        await delivery.record_sent(
            turn.session,
            KIND,
            ann_id,
            delivery.Recipient(person_id=person_id),
            activity_id,
            message,
            purpose=f"{REOPEN_PURPOSE}-{(earlier or 0) + 1}",
            now=turn.services.clock(),
            conversation_id=turn.conversation.id,
        )
