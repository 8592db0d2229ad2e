"""What the survey feature offers the 「未対応」 list: a person's open rounds not yet answered, and the
button that posts the answer card again. Only the per-person ``responded`` flag is read, so an
anonymous round's answers stay unlinked from people.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Message, Role, Turn
from dialogs.engines.delivery import Recipient, record_sent
from dialogs.kit.router import Router
from dialogs.kit.waiting import Waiting
from dialogs.survey import cards, service
from dialogs.survey.questions import parse_questions
from storage.models import Delivery, Survey, SurveyRecipient, SurveyRound

router = Router("survey")

log = logging.getLogger(__name__)

REOPEN = "survey.reopen"
REOPEN_PURPOSE = "reopen"  # an answer card posted again from 「未対応」: "reopen-1", "reopen-2", …


async def waiting(session: AsyncSession, person_id: int, now: datetime) -> list[Waiting]:
    """Open rounds ``person_id`` was invited to and has not answered."""
    rows = (
        await session.execute(
            select(SurveyRound, Survey)
            .join(SurveyRecipient, SurveyRecipient.round_id == SurveyRound.id)
            .join(Survey, Survey.id == SurveyRound.survey_id)
            .where(
                SurveyRecipient.person_id == person_id,
                SurveyRecipient.responded.is_(False),
                SurveyRound.status == "open",
                SurveyRound.closes_at > now,
            )
        )
    ).all()
    return [
        Waiting(
            kind="survey",
            title=survey.title,
            detail=rnd.label,
            reopen={"action": REOPEN, "round": rnd.id},
            due=rnd.closes_at,
            since=rnd.opened_at,
        )
        for rnd, survey in rows
    ]


@router.action(REOPEN, role=Role.ANYONE)
async def reopen(turn: Turn, data: dict[str, Any]) -> None:
    """Post this person's answer card again and record it as one of their copies, so that answering
    on it is accepted (the card check looks for a copy delivered to the presser)."""
    try:
        round_id = int(data.get("round"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        await turn.reply(turn.t("core.unknown_action"))
        return
    person_id = turn.identity.person_id
    rnd = await turn.session.get(SurveyRound, round_id)
    recipient = (
        await turn.session.scalar(
            select(SurveyRecipient).where(
                SurveyRecipient.round_id == round_id, SurveyRecipient.person_id == person_id
            )
        )
        if rnd is not None and person_id is not None
        else None
    )
    if rnd is None or recipient is None:
        log.info("survey reopen refused: not invited", extra={"correlation_id": turn.correlation_id})
        await turn.reply(turn.t("survey.answer.rejected"))
        return
    now = turn.services.clock()
    if not service.is_open(rnd, now):
        await turn.reply(turn.t("survey.answer.closed"))
        return
    if recipient.responded:
        await turn.reply(turn.t("survey.answer.already"))
        return
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    locale = turn.services.settings.locale  # the language the invitation went out in
    card = cards.answer_card(survey, rnd, parse_questions(rnd.questions), recipient.id, locale)
    preview = cards.invitation_preview(survey, rnd, locale)
    activity_id = await turn.reply_card(card, text=preview)
    if activity_id and turn.conversation.type == "personal":
        earlier = await turn.session.scalar(
            select(func.count()).where(
                Delivery.kind == service.KIND,
                Delivery.ref_id == rnd.id,
                Delivery.recipient_key == f"person:{person_id}",
                Delivery.purpose.like(f"{REOPEN_PURPOSE}-%"),
            )
        )
        await record_sent(
            turn.session,
            service.KIND,
            rnd.id,
            Recipient(person_id=person_id),
            activity_id,
            Message(text=preview, card=card),
            purpose=f"{REOPEN_PURPOSE}-{(earlier or 0) + 1}",
            now=now,
            conversation_id=turn.conversation.id,
        )
