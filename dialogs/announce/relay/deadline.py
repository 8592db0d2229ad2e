"""「伝達期限を変更」 after sending: the new deadline, the automatic relay reminder re-armed for it, the
confirmed promoters' cards and the author's card in step, and a line in the audit log.

    day, errors, notices = changed_relay_deadline(raw, now, t, confirm_by=ann.deadline)   # compose.py
    change = await change_deadline(services, session, ann, day, actor=(person_id, label), now=now)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Services
from storage.models.announce import Announcement
from storage.models.shared import AuditEntry

from .reminders import refresh_confirmed_cards, relay_reminder_moment

log = logging.getLogger(__name__)
AUDIT_ACTION = "announce.relay_deadline"


@dataclass(frozen=True)
class DeadlineChange:
    before: date | None
    after: date
    reminder_at: datetime | None  # the automatic relay reminder now due, if any
    copies: int  # promoters' copies being updated


async def change_deadline(
    services: Services,
    session: AsyncSession,
    ann: Announcement,
    day: date,
    *,
    actor: tuple[int | None, str],
    now: datetime,
) -> DeadlineChange:
    """Set the relay deadline of a sent announcement to ``day`` (a business day, checked by the caller)."""
    from dialogs.announce.service import refresh_author_card

    before = ann.relay_deadline
    ann.relay_deadline = day
    ann.relay_reminder_at = relay_reminder_moment(ann, now, services.settings.announce_reminder_days)
    if ann.relay_reminder_at is not None and ann.relay_reminded_at is not None:
        # The automatic reminder went for the old deadline; the new one is still ahead: it goes again
        # (its own purpose per deadline, so the engine does not take it for the one already sent).
        ann.relay_reminded_at = None
    ann.updated_at = now
    ann.progress_seq += 1  # names this change for the engine: a second change is a change again
    copies = await refresh_confirmed_cards(
        services, session, ann, revision=f"relay-deadline-{ann.progress_seq}", now=now
    )
    person_id, label = actor
    session.add(
        AuditEntry(
            at=now,
            actor_person_id=person_id,
            actor_label=label[:320],
            action=AUDIT_ACTION,
            detail={
                "announcement": ann.id,
                "title": ann.title,
                "before": before.isoformat() if before else "",
                "after": day.isoformat(),
            },
        )
    )
    await refresh_author_card(services, session, ann)
    log.info("announcement %d: relay deadline changed, %d promoters' copies updated", ann.id, copies)
    return DeadlineChange(before, day, ann.relay_reminder_at, copies)
