"""Reminders to the sections not relayed yet: only those sections' promoters whose copy arrived.

By hand (「未伝達の課に督促」 on the author's card) and automatically at 9:00 JST
``DXBOT_ANNOUNCE_REMINDER_DAYS`` business days before the relay deadline (``tick``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Message, Services
from dialogs.engines import delivery
from dialogs.engines.delivery import DeliveryItem, DeliveryState, Recipient
from dialogs.kit.business_days import JST, add_business_days
from dialogs.kit.i18n import t as translate
from storage.models import Delivery
from storage.models.announce import (
    Announcement,
    AnnouncementRecipient,
    AnnouncementRelay,
    AnnouncementState,
    SectionChannel,
)

from . import cards as relay_cards
from .store import KIND, report_of

log = logging.getLogger(__name__)
REMINDER_HOUR = 9


def _t(locale: str) -> Any:
    return lambda key, **kw: translate(key, locale, **kw)


def relay_reminder_moment(ann: Announcement, sending_at: datetime, lead_days: int) -> datetime | None:
    """9:00 JST, ``lead_days`` business days before the relay deadline; None if not after the send."""
    if not ann.relay_required or ann.relay_deadline is None or lead_days <= 0:
        return None
    day = add_business_days(ann.relay_deadline, -lead_days)
    moment = datetime.combine(day, datetime.min.time().replace(hour=REMINDER_HOUR), tzinfo=JST)
    return moment if moment > sending_at + timedelta(hours=1) else None


def card_message(
    ann: Announcement,
    locale: str,
    recipient: AnnouncementRecipient,
    *,
    report: AnnouncementRelay | None,
    link: SectionChannel | None,
    reminder: bool = False,
    relay_reminder: bool = False,
) -> Message:
    """A recipient's card as it stands for them, from what the caller loaded: confirmed or not, with the
    relay form once confirmed (``report``: their section's report; ``link``: its channel)."""
    from dialogs.announce.service import recipient_message

    t = _t(locale)
    # Not confirmed yet: the usual reminder to confirm (the relay form follows the confirmation).
    message = recipient_message(
        ann, locale, confirmed_at=recipient.confirmed_at, reminder=reminder or relay_reminder
    )
    if ann.relay_required and recipient.confirmed_at is not None and message.card is not None:
        relay_cards.add_relay_form(
            message.card,
            t,
            ann,
            section_id=recipient.section_id,
            report=report,
            reminder=relay_reminder,
            channel_title=(link.title or t("announce.relay.channel.unnamed")) if link else None,
        )
    if relay_reminder:
        message.text = t("announce.relay.reminder_summary", title=ann.title)
    return message


async def recipient_card_message(
    services: Services,
    session: AsyncSession,
    ann: Announcement,
    recipient: AnnouncementRecipient,
    *,
    reminder: bool = False,
    relay_reminder: bool = False,
) -> Message:
    """A recipient's card as it stands for them (``card_message`` with their section's report and channel)."""
    report = link = None
    if ann.relay_required and recipient.confirmed_at is not None:
        report = await report_of(session, ann.id, recipient.section_id)
        link = await session.get(SectionChannel, recipient.section_id)
    return card_message(
        ann,
        services.settings.locale,
        recipient,
        report=report,
        link=link,
        reminder=reminder,
        relay_reminder=relay_reminder,
    )


async def confirmed_card_messages(
    session: AsyncSession, ann: Announcement, locale: str
) -> dict[int, Message]:
    """person id -> the card of each promoter who confirmed, relay form included, as it now stands (the
    reports and the section channels loaded once, whatever the number of promoters)."""
    confirmed = (
        await session.scalars(
            select(AnnouncementRecipient).where(
                AnnouncementRecipient.announcement_id == ann.id,
                AnnouncementRecipient.confirmed_at.is_not(None),
            )
        )
    ).all()
    if not confirmed:
        return {}
    reports = {
        r.section_id: r
        for r in (
            await session.scalars(
                select(AnnouncementRelay).where(AnnouncementRelay.announcement_id == ann.id)
            )
        ).all()
    }
    sections = {r.section_id for r in confirmed}
    links = {
        c.section_id: c
        for c in (
            await session.scalars(select(SectionChannel).where(SectionChannel.section_id.in_(sections)))
        ).all()
    }
    return {
        r.person_id: card_message(
            ann, locale, r, report=reports.get(r.section_id), link=links.get(r.section_id)
        )
        for r in confirmed
    }


async def refresh_confirmed_cards(
    services: Services, session: AsyncSession, ann: Announcement, *, revision: str, now: datetime
) -> int:
    """Every confirmed promoter's delivered copies (reminders included) show the relay form as it now
    stands, e.g. after the relay deadline changed; through the delivery engine. Returns the copies
    being updated."""
    messages = await confirmed_card_messages(session, ann, services.settings.locale)
    if not messages:
        return 0

    def message_for(row: Delivery) -> Message | None:
        # The channel posts are not a promoter's card (the section's copy shows no relay deadline).
        return messages.get(row.person_id) if row.person_id is not None else None

    return await delivery.update_delivered(session, KIND, ann.id, message_for, revision=revision, now=now)


async def remind_unrelayed(
    services: Services, session: AsyncSession, ann: Announcement, now: datetime, *, purpose: str | None = None
) -> tuple[int, int]:
    """督促 to the promoters of sections with no relay report whose copy arrived. Returns (people, sections)."""
    if not ann.relay_required or ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        return 0, 0
    relayed = set(
        (
            await session.scalars(
                select(AnnouncementRelay.section_id).where(AnnouncementRelay.announcement_id == ann.id)
            )
        ).all()
    )
    arrived = {
        r.person_id
        for r in await delivery.deliveries(session, KIND, ann.id)
        if r.person_id is not None and r.state == DeliveryState.DELIVERED
    }
    targets = [
        r
        for r in (
            await session.scalars(
                select(AnnouncementRecipient)
                .where(AnnouncementRecipient.announcement_id == ann.id)
                .order_by(AnnouncementRecipient.sort_key)
            )
        ).all()
        if r.section_id not in relayed and r.person_id in arrived
    ]
    if not targets:
        return 0, 0
    if purpose is None:
        ann.relay_reminders += 1
        purpose = f"relay-reminder-{ann.relay_reminders}"
    items = [
        DeliveryItem(
            Recipient(person_id=r.person_id),
            await recipient_card_message(services, session, ann, r, relay_reminder=True),
            purpose=purpose,
        )
        for r in targets
    ]
    await delivery.enqueue(session, KIND, ann.id, items, priority=100, now=now)
    ann.updated_at = now
    sections = len({r.section_id for r in targets})
    log.info("announcement %d: %s to %d promoters in %d sections", ann.id, purpose, len(targets), sections)
    return len(targets), sections


async def tick(services: Services) -> None:
    """Automatic relay reminders that are due, each once whatever the number of processes."""
    now = services.clock()
    async with services.sessionmaker() as session:
        due = (
            await session.scalars(
                select(Announcement.id).where(
                    Announcement.relay_required.is_(True),
                    Announcement.state.in_([AnnouncementState.SENDING.value, AnnouncementState.SENT.value]),
                    Announcement.relay_reminder_at <= now,
                    Announcement.relay_reminded_at.is_(None),
                )
            )
        ).all()
    from dialogs.announce.service import claim_once, refresh_author_card

    for ann_id in due:
        async with services.sessionmaker() as session, session.begin():
            ann = await claim_once(session, ann_id, Announcement.relay_reminded_at, now)
            if ann is not None:
                # One automatic reminder per deadline: a changed deadline re-arms it (relay/deadline.py).
                deadline = ann.relay_deadline.isoformat() if ann.relay_deadline else ""
                ann.relay_auto_reminders += 1  # the author's card counts it (relay_reminded_at is re-armed)
                await remind_unrelayed(services, session, ann, now, purpose=f"relay-reminder-auto-{deadline}")
                await refresh_author_card(services, session, ann)
