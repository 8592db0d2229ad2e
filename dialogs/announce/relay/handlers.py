"""Buttons for relay requests: a promoter's 「課内に伝達しました」, the author's 伝達状況 and 督促."""

from __future__ import annotations

import logging
from typing import Any

from bot.api import Message, Role, Turn
from dialogs.announce import service
from dialogs.announce.compose import changed_relay_deadline
from dialogs.announce.service import KIND
from dialogs.engines import delivery
from dialogs.kit.business_days import format_date_ja, format_datetime_ja
from dialogs.kit.router import Router
from storage.models import Delivery
from storage.models.announce import Announcement, AnnouncementRecipient, AnnouncementState

from . import cards as relay_cards
from . import store
from .deadline import change_deadline
from .reminders import recipient_card_message, remind_unrelayed

log = logging.getLogger(__name__)
router = Router("announce-relay")


def _int(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None


@router.action("announce.relay", role=Role.ANYONE, scopes=("personal",))
async def report(turn: Turn, data: dict[str, Any]) -> None:
    """「課内に伝達しました」 (or 報告を訂正する) on a promoter's own copy of the announcement."""
    ann_id = _int(data.get("id"))
    ann = await turn.session.get(Announcement, ann_id) if ann_id else None
    method = str(data.get("relay_method") or "").strip()
    note = str(data.get("relay_note") or "").strip()[: store.MAX_NOTE]
    raw_reached = data.get("relay_reached")
    reached = _int(raw_reached)
    errors = []
    if method not in store.METHODS:
        errors.append(turn.t("announce.relay.err.method"))
    if raw_reached not in (None, "") and (reached is None or not 0 <= reached <= store.MAX_REACHED):
        errors.append(turn.t("announce.relay.err.reached", max=store.MAX_REACHED))
    # Whose copy was pressed, checked as for 「確認しました」: delivered into this chat, to this person.
    row = await delivery.find_by_activity(turn.session, KIND, turn.reply_to_id) if turn.reply_to_id else None
    if row is None and ann is not None:
        copies = await delivery.delivered_to_conversation(turn.session, KIND, ann.id, turn.conversation.id)
        row = copies[0] if copies else None
    owner = (
        row is not None
        and ann is not None
        and row.ref_id == ann.id
        and row.conversation_id == turn.conversation.id
        and await service.owner_of(turn.session, row, turn.identity.person_id, turn.user.aad_object_id)
    )
    if ann is not None and not owner:
        log.warning(
            "refused a relay report for announcement %d: not the presser's copy",
            ann.id,
            extra={"correlation_id": turn.correlation_id},
        )
        await turn.reply(turn.t("announce.relay.err.not_yours"))
        return
    if ann is not None and errors and ann.relay_required and ann.state != AnnouncementState.RECALLED:
        await turn.reply("\n".join(errors))
        return
    result = await store.report(
        turn.session,
        ann,
        copy_person_id=row.person_id if row is not None else None,
        claimed_section_id=_int(data.get("section")),
        method=method,
        reached=reached,
        note=note if method == "other" else "",
        now=turn.services.clock(),
    )
    if not result.ok:
        await turn.reply(turn.t(f"announce.relay.err.{result.reason}"))
        return
    assert ann is not None and result.recipient is not None and row is not None
    await turn.session.flush()
    message = await recipient_card_message(turn.services, turn.session, ann, result.recipient)
    if turn.reply_to_id and message.card:
        await turn.update_card(turn.reply_to_id, message.card)
        row.payload = delivery.message_to_payload(message)
    await _refresh_section_copies(turn, ann, result.recipient, pressed=turn.reply_to_id)
    await service.refresh_author_card(turn.services, turn.session, ann)
    await turn.reply(turn.t("announce.relay.corrected" if result.corrected else "announce.relay.reported"))


async def _refresh_section_copies(
    turn: Turn, ann: Announcement, reporter: AnnouncementRecipient, pressed: str | None
) -> None:
    """The section's other promoters who confirmed see the report on their card too (through the engine)."""
    from sqlalchemy import select

    others = (
        await turn.session.scalars(
            select(AnnouncementRecipient).where(
                AnnouncementRecipient.announcement_id == ann.id,
                AnnouncementRecipient.section_id == reporter.section_id,
                AnnouncementRecipient.person_id != reporter.person_id,
                AnnouncementRecipient.confirmed_at.is_not(None),
            )
        )
    ).all()
    report = await store.report_of(turn.session, ann.id, reporter.section_id)
    stamp = f"relay-{report.corrections if report else 0}"
    for other in others:
        message = await recipient_card_message(turn.services, turn.session, ann, other)

        def message_for(row: Delivery, message: Message = message) -> Message | None:
            return None if row.activity_id == pressed or row.purpose == service.CHANNEL_PURPOSE else message

        await delivery.update_delivered(
            turn.session,
            KIND,
            ann.id,
            message_for,
            revision=stamp,
            recipient_key=f"person:{other.person_id}",
            now=turn.services.clock(),
        )


async def _load(turn: Turn, data: dict[str, Any]) -> Announcement | None:
    ann_id = _int(data.get("id"))
    ann = await turn.session.get(Announcement, ann_id) if ann_id else None
    if ann is None:
        await turn.reply(turn.t("announce.err.not_found", id=ann_id or ""))
        return None
    if not ann.relay_required:
        await turn.reply(turn.t("announce.relay.err.not_required"))
        return None
    return ann


@router.action("announce.relay_status", role=Role.AUTHOR)
async def relay_status(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    sections = await store.section_status(turn.session, ann.id)
    card = relay_cards.status_card(turn.t, ann, sections, store.summarize(sections))
    await turn.reply_card(card, text=turn.t("announce.relay.status.title", title=ann.title))


@router.action("announce.relay_remind", role=Role.AUTHOR)
async def relay_remind(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    people, sections = await remind_unrelayed(turn.services, turn.session, ann, turn.services.clock())
    if people:
        await service.refresh_author_card(turn.services, turn.session, ann)
        await turn.reply(turn.t("announce.relay.remind.done", n=people, sections=sections, title=ann.title))
    else:
        await turn.reply(turn.t("announce.relay.remind.nobody"))


async def _live_announcement(turn: Turn, data: dict[str, Any]) -> Announcement | None:
    """The announcement the card names, if it is out (sending or sent); else the reply says why."""
    ann = await _load(turn, data)
    if ann is not None and ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        await turn.reply(turn.t("announce.err.not_sent"))
        return None
    return ann


@router.action("announce.relay_deadline", role=Role.AUTHOR)
async def deadline_form(turn: Turn, data: dict[str, Any]) -> None:
    """「伝達期限を変更」 on the author's card: a card of its own with the date (the progress card is
    redrawn whenever someone confirms, which would wipe a date being picked on it)."""
    ann = await _live_announcement(turn, data)
    if ann is None:
        return
    card = relay_cards.deadline_card(turn.t, ann)
    await turn.reply_card(card, text=turn.t("announce.relay.deadline.title", title=ann.title))


@router.action("announce.relay_deadline_set", role=Role.AUTHOR)
async def deadline_set(turn: Turn, data: dict[str, Any]) -> None:
    """「変更する」: checked as in the compose form (a holiday moves to the next business day, a past day
    is refused); the promoters' cards, the automatic reminder and the author's card follow."""
    ann = await _live_announcement(turn, data)
    if ann is None:
        return
    raw = str(data.get("relay_deadline") or "")
    now = turn.services.clock()
    day, errors, notices = changed_relay_deadline(raw, now, turn.t, confirm_by=ann.deadline)
    if day is None:
        card = relay_cards.deadline_card(turn.t, ann, value=raw.strip(), errors=errors)
        if turn.reply_to_id:
            await turn.update_card(turn.reply_to_id, card)
        else:
            await turn.reply("\n".join(errors))
        return
    if day == ann.relay_deadline:
        await turn.reply(turn.t("announce.relay.deadline.same", deadline=format_date_ja(day)))
        return
    change = await change_deadline(
        turn.services,
        turn.session,
        ann,
        day,
        actor=(turn.identity.person_id, turn.identity.email or turn.user.name or "teams"),
        now=now,
    )
    lines = [
        *notices,
        turn.t(
            "announce.relay.deadline.done",
            title=ann.title,
            before=format_date_ja(change.before) if change.before else "",
            after=format_date_ja(change.after),
        ),
    ]
    if change.reminder_at is not None:
        lines.append(turn.t("announce.relay.deadline.reminder", at=format_datetime_ja(change.reminder_at)))
    elif turn.services.settings.announce_reminder_days > 0:
        lines.append(turn.t("announce.relay.deadline.no_reminder"))
    card = relay_cards.deadline_changed_card(turn.t, ann, lines)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=turn.t("announce.relay.deadline.done_title"))
