"""Rounds from opening to results: audience, invitations, answers, reminders, closing.

Everything here runs inside the caller's transaction (a turn's ``turn.session`` or a job's own);
state changes that two processes could race on are claimed with a conditional UPDATE, so a round
opens, reminds and closes once however many bot processes run.

    rnd = await create_round(session, survey, open_at=now, now=now, audience=..., window=5)
    await open_round(session, rnd, now, settings)
    outcome = await submit_answer(session, data, person_id=..., reply_to_id=..., now=now, secret_key=...)
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Message
from bot.settings import Settings
from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue, find_by_activity, update_delivered
from dialogs.kit.business_days import JST, add_business_days, next_business_day
from dialogs.roster.coverage import reachable_clause, reachable_people
from dialogs.survey import anonymity, cards, envelope
from dialogs.survey.questions import (
    AnswerRejected,
    Question,
    Value,
    parse_questions,
    validate_answers,
)
from dialogs.survey.schedule import DEFAULT_REMINDERS, closes_at, reminder_plan, round_label
from storage.models import (
    AppSetting,
    Assignment,
    AuditEntry,
    DivisionRole,
    Person,
    Section,
    Survey,
    SurveyAnswerValue,
    SurveyRecipient,
    SurveyResponse,
    SurveyRound,
    SurveySchedule,
)

log = logging.getLogger(__name__)

KIND = "survey"  # delivery kind for invitations, reminders and card updates (ref_id: round id)
RESULTS_KIND = "survey-results"  # delivery kind for the results post (ref_id: round id)
RESULTS_SETTING = "survey.results_conversation"
START_PREFIX = "survey.start:"  # app_settings key of a start preview: the claim its 開始 button takes
START_TTL = timedelta(hours=12)  # an older preview is stale: the roster and the calendar moved on
ROLES = ("leader", "subleader")


class RoundClosed(Exception):
    """The round is not open for answers (closed, cancelled or not yet open)."""


class AlreadyAnswered(Exception):
    """An anonymous answer exists and the submission carried no edit key (a second card was used)."""


@dataclass(frozen=True)
class AudienceMember:
    person_id: int
    section_id: int
    department_id: int
    role: str


@dataclass(frozen=True)
class ReminderOutcome:
    """What a reminder did: of ``pending`` people who had not answered, ``queued`` have a chat with
    the bot and were sent the reminder; ``unreachable`` have none and were not."""

    pending: int = 0
    queued: int = 0

    @property
    def unreachable(self) -> int:
        return self.pending - self.queued


@dataclass(frozen=True)
class SubmitOutcome:
    round: SurveyRound
    recipient: SurveyRecipient
    replaced: bool
    edit_key: str | None  # anonymous rounds: the key the answered card keeps for 回答を修正
    values: dict[str, Value]


def normalise_audience(raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = raw or {}
    roles = [r for r in raw.get("roles") or ROLES if r in ROLES] or list(ROLES)
    return {
        "roles": roles,
        "department_ids": sorted({int(d) for d in raw.get("department_ids") or []}),
        "section_ids": sorted({int(s) for s in raw.get("section_ids") or []}),
    }


async def resolve_audience(
    session: AsyncSession, audience: dict[str, Any], day: date
) -> list[AudienceMember]:
    """Promoters holding a role on ``day`` (from the roster's assignment history), one row per person:
    their leader assignment first, else their first sub-leader one."""
    aud = normalise_audience(audience)
    stmt = (
        select(Assignment.person_id, Assignment.section_id, Section.department_id, Assignment.role)
        .join(Section, Section.id == Assignment.section_id)
        .where(
            Assignment.valid_from <= day,
            or_(Assignment.valid_to.is_(None), Assignment.valid_to > day),
            Section.active.is_(True),
            Assignment.role.in_(aud["roles"]),
        )
        .order_by(Assignment.person_id, Assignment.role, Assignment.section_id)
    )
    filters = []
    if aud["department_ids"]:
        filters.append(Section.department_id.in_(aud["department_ids"]))
    if aud["section_ids"]:
        filters.append(Assignment.section_id.in_(aud["section_ids"]))
    if filters:
        stmt = stmt.where(or_(*filters))
    seen: dict[int, AudienceMember] = {}
    for person_id, section_id, department_id, role in (await session.execute(stmt)).all():
        role = str(getattr(role, "value", role))
        if person_id not in seen:  # ordered so "leader" comes before "subleader"
            seen[person_id] = AudienceMember(person_id, section_id, department_id, role)
    return list(seen.values())


@dataclass(frozen=True)
class AudienceCount:
    """Who a round would reach today: counted as announcements count (a personal chat the bot can use)."""

    people: int
    sections: int
    not_reachable: int


async def count_audience(session: AsyncSession, audience: dict[str, Any], day: date) -> AudienceCount:
    members = await resolve_audience(session, audience, day)
    reachable = await reachable_people(session, [m.person_id for m in members])
    return AudienceCount(
        people=len(members),
        sections=len({m.section_id for m in members}),
        not_reachable=sum(1 for m in members if m.person_id not in reachable),
    )


# --- start previews -------------------------------------------------------------------------------


async def save_start_preview(session: AsyncSession, value: dict[str, Any], now: datetime) -> str:
    """Keep what a start preview showed (survey, audience, window, the latest round then) under a
    fresh token; its 開始 / 取消 buttons claim it once. Expired previews are swept here."""
    await session.execute(
        delete(AppSetting).where(
            AppSetting.key.like(START_PREFIX + "%"), AppSetting.updated_at < now - START_TTL
        )
    )
    token = secrets.token_urlsafe(16)
    session.add(AppSetting(key=START_PREFIX + token, value=value, updated_at=now))
    await session.flush()
    return token


async def claim_start_preview(session: AsyncSession, token: str, now: datetime) -> dict[str, Any] | None:
    """The preview behind a 開始 / 取消 press, removed so that no second press finds it; None when it
    was used, cancelled or is older than START_TTL."""
    if not token or len(token) > 60:
        return None
    setting = await session.get(AppSetting, START_PREFIX + token)
    if setting is None:
        return None
    value, made = dict(setting.value), setting.updated_at
    result = await session.execute(
        delete(AppSetting)
        .where(AppSetting.key == START_PREFIX + token)
        .execution_options(synchronize_session=False)
    )
    session.expunge(setting)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None  # another press took it
    if made < now - START_TTL:
        return None
    return value


async def latest_round(
    session: AsyncSession, survey_id: int, statuses: tuple[str, ...] | None = None
) -> SurveyRound | None:
    stmt = select(SurveyRound).where(SurveyRound.survey_id == survey_id)
    if statuses:
        stmt = stmt.where(SurveyRound.status.in_(statuses))
    return await session.scalar(stmt.order_by(SurveyRound.id.desc()).limit(1))


# --- surveys and rounds --------------------------------------------------------------------------


async def create_survey(
    session: AsyncSession,
    *,
    title: str,
    questions: list[dict[str, Any]],
    anonymous: bool,
    threshold: int = 5,
    template: str | None = None,
    description: str = "",
    created_by: int | None = None,
    now: datetime,
) -> Survey:
    parsed = parse_questions(questions)  # raises DefinitionError
    survey = Survey(
        title=title.strip()[:200] or "サーベイ",
        template=template,
        description=description,
        questions=[q.to_dict() for q in parsed],
        anonymous=anonymous,
        threshold=clamp_threshold(threshold),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    await session.flush()
    return survey


def clamp_threshold(value: int) -> int:
    return max(3, min(25, int(value)))


async def create_round(
    session: AsyncSession,
    survey: Survey,
    *,
    open_at: datetime,
    now: datetime,
    schedule: SurveySchedule | None = None,
    audience: dict[str, Any] | None = None,
    window_business_days: int = 5,
    close_time: str = "17:00",
    reminders: list[dict[str, Any]] | None = None,
    late: bool = False,
) -> SurveyRound:
    """A round in state 'scheduled' with the survey's questions and privacy rules frozen."""
    if schedule is not None:
        audience = schedule.audience
        window_business_days = schedule.window_business_days
        close_time = schedule.close_time
        reminders = schedule.reminders
    number = (
        await session.scalar(select(func.max(SurveyRound.number)).where(SurveyRound.survey_id == survey.id))
    ) or 0
    rnd = SurveyRound(
        survey_id=survey.id,
        schedule_id=schedule.id if schedule else None,
        number=number + 1,
        label=round_label(open_at),
        status="scheduled",
        open_at=open_at,
        closes_at=closes_at(open_at, window_business_days, close_time),
        late=late,
        questions=list(survey.questions),
        anonymous=survey.anonymous,
        threshold=survey.threshold,
        audience=normalise_audience(audience),
        window_business_days=window_business_days,
        close_time=close_time,
        reminder_rules=list(reminders if reminders is not None else DEFAULT_REMINDERS),
        reminder_plan=[],
        reminders_done=0,
        granularity={},
        invited=0,
        sealed=False,
        created_at=now,
    )
    session.add(rnd)
    await session.flush()
    return rnd


async def _claim(session: AsyncSession, rnd: SurveyRound, frm: str, **values: Any) -> bool:
    result = await session.execute(
        update(SurveyRound)
        .where(SurveyRound.id == rnd.id, SurveyRound.status == frm)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.refresh(rnd)
    return True


async def open_round(session: AsyncSession, rnd: SurveyRound, now: datetime, settings: Settings) -> int:
    """scheduled → open: freeze the audience, queue one invitation per person. Returns how many were
    invited (0 if another process opened it first)."""
    opened = max(now, rnd.open_at)
    closing = closes_at(opened, rnd.window_business_days, rnd.close_time)
    if rnd.closes_at and rnd.schedule_id is None and rnd.closes_at > closing:
        closing = rnd.closes_at  # an admin chose a longer window when opening by hand
    if not await _claim(session, rnd, "scheduled", status="open", opened_at=opened, closes_at=closing):
        return 0
    members = await resolve_audience(session, rnd.audience, opened.astimezone(JST).date())
    triples = [(m.department_id, m.section_id, m.role) for m in members]
    granularity: dict[str, Any] = {}
    if rnd.anonymous:
        granularity = {"map": anonymity.to_json(anonymity.generalise(triples, rnd.threshold))}
    plan = reminder_plan(opened, closing, rnd.reminder_rules)
    rnd.granularity = granularity
    rnd.reminder_plan = [p.isoformat() for p in plan]
    rnd.invited = len(members)
    recipients = [
        SurveyRecipient(
            round_id=rnd.id,
            person_id=m.person_id,
            department_id=m.department_id,
            section_id=m.section_id,
            role=m.role,
            responded=False,
            reminders_sent=0,
        )
        for m in members
    ]
    session.add_all(recipients)
    await session.flush()
    survey = await session.get(Survey, rnd.survey_id)
    assert survey is not None
    locale = settings.locale
    questions = parse_questions(rnd.questions)
    items = [
        DeliveryItem(
            Recipient(person_id=r.person_id),
            Message(
                text=cards.invitation_preview(survey, rnd, locale),
                card=cards.answer_card(survey, rnd, questions, r.id, locale),
            ),
            purpose="invite",
        )
        for r in recipients
    ]
    await enqueue(session, KIND, rnd.id, items, now=now)
    log.info("survey round %s opened: %d invited%s", rnd.id, len(members), " (late)" if rnd.late else "")
    return len(members)


async def due_reminder(rnd: SurveyRound, now: datetime) -> int | None:
    """The index of the reminder that is due now (None if none)."""
    plan = [datetime.fromisoformat(p) for p in rnd.reminder_plan or []]
    due = [i for i, p in enumerate(plan) if p <= now]
    if not due or due[-1] < rnd.reminders_done:
        return None
    return due[-1]


async def send_reminders(
    session: AsyncSession, rnd: SurveyRound, now: datetime, settings: Settings
) -> ReminderOutcome:
    """Queue the due reminder to everyone who has not answered and can be reached. Missed earlier
    reminders collapse into this one (a stopped bot does not send three at once)."""
    if rnd.status != "open" or now >= rnd.closes_at:
        return ReminderOutcome()
    index = await due_reminder(rnd, now)
    if index is None:
        return ReminderOutcome()
    result = await session.execute(
        update(SurveyRound)
        .where(SurveyRound.id == rnd.id, SurveyRound.reminders_done == rnd.reminders_done)
        .values(reminders_done=index + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return ReminderOutcome()
    await session.refresh(rnd)
    return await _remind(session, rnd, now, settings, purpose=f"reminder-{index + 1}")


async def _remind(
    session: AsyncSession, rnd: SurveyRound, now: datetime, settings: Settings, purpose: str
) -> ReminderOutcome:
    waiting = (
        await session.scalars(
            select(SurveyRecipient).where(
                SurveyRecipient.round_id == rnd.id, SurveyRecipient.responded.is_(False)
            )
        )
    ).all()
    # Only people with a chat the bot can write into: a reminder to nobody is not a reminder.
    reach = cast(ColumnElement[bool], reachable_clause())
    ids = [r.person_id for r in waiting]
    reachable = set((await session.scalars(select(Person.id).where(Person.id.in_(ids), reach))).all())
    pending = [r for r in waiting if r.person_id in reachable]
    survey = await session.get(Survey, rnd.survey_id)
    assert survey is not None
    locale = settings.locale
    questions = parse_questions(rnd.questions)
    items = [
        DeliveryItem(
            Recipient(person_id=r.person_id),
            Message(
                text=cards.reminder_preview(survey, rnd, locale),
                card=cards.answer_card(survey, rnd, questions, r.id, locale, reminder=True),
            ),
            purpose=purpose,
        )
        for r in pending
    ]
    for r in pending:
        r.reminders_sent += 1
    await enqueue(session, KIND, rnd.id, items, now=now)
    log.info(
        "survey round %s: %s to %d (%d not reachable)", rnd.id, purpose, len(items), len(waiting) - len(items)
    )
    return ReminderOutcome(pending=len(waiting), queued=len(items))


async def remind_now(
    session: AsyncSession, rnd: SurveyRound, now: datetime, settings: Settings
) -> ReminderOutcome:
    """A manual reminder (督促) from an admin."""
    if rnd.status != "open":
        return ReminderOutcome()
    stamp = now.astimezone(JST).strftime("%Y%m%d%H%M")
    return await _remind(session, rnd, now, settings, purpose=f"reminder-manual-{stamp}")


@dataclass(frozen=True)
class ReminderSent:
    at: datetime
    sent: int  # reminders queued (people with a chat with the bot)
    delivered: int
    not_delivered: int  # failed or unreachable
    sending: int


@dataclass(frozen=True)
class RoundReach:
    """回答状況 in words: who answered, who has the card and has not answered, who never got it."""

    invited: int
    answered: int
    received: int  # not answered; an invitation or reminder was delivered
    sending: int  # not answered; nothing delivered yet, a card is still on its way
    not_received: int  # not answered; no card could be delivered (no chat with the bot, blocked, …)
    reminders: list[ReminderSent]
    skipped: int  # planned reminders that found no one to send to
    next_reminder: datetime | None
    # Of ``received``, by Teams read receipts (既読): read a card, or has receipts on and has not read one.
    # The rest are unknown (read receipts off): never counted as unread.
    received_read: int = 0
    received_unread: int = 0

    @property
    def received_unknown(self) -> int:
        return self.received - self.received_read - self.received_unread


async def round_reach(session: AsyncSession, rnd: SurveyRound) -> RoundReach:
    """Derived from the tracking flags and the delivery rows: what actually happened."""
    from dialogs.engines.delivery.receipts import READ, UNREAD, state_of
    from storage.models import ChatReadMark, Delivery

    flags = dict(
        (
            await session.execute(
                select(SurveyRecipient.person_id, SurveyRecipient.responded).where(
                    SurveyRecipient.round_id == rnd.id
                )
            )
        )
        .tuples()
        .all()
    )
    rows = (
        await session.execute(
            select(
                Delivery.person_id,
                Delivery.purpose,
                Delivery.state,
                Delivery.created_at,
                Delivery.read_at,
                Delivery.activity_id,
                ChatReadMark.last_read_seq,
            )
            .outerjoin(ChatReadMark, ChatReadMark.conversation_id == Delivery.conversation_id)
            .where(Delivery.kind == KIND, Delivery.ref_id == rnd.id, Delivery.op == "send")
        )
    ).all()
    delivered: set[int] = set()
    on_way: set[int] = set()
    read: set[int] = set()
    receipts_on: set[int] = set()
    by_purpose: dict[str, list[tuple[str, datetime]]] = {}
    for person_id, purpose, state, created, read_at, activity_id, mark_seq in rows:
        state = str(getattr(state, "value", state))
        if state == "delivered":
            delivered.add(person_id)
            read_state = state_of(read_at, activity_id, mark_seq)
            if read_state == READ:
                read.add(person_id)
            elif read_state == UNREAD:
                receipts_on.add(person_id)
        elif state in ("queued", "sending"):
            on_way.add(person_id)
        if purpose.startswith("reminder"):
            by_purpose.setdefault(purpose, []).append((state, created))
    waiting = [p for p, answered in flags.items() if not answered]
    received = sum(1 for p in waiting if p in delivered)
    sending = sum(1 for p in waiting if p not in delivered and p in on_way)
    reminders = sorted(
        (
            ReminderSent(
                at=min(c for _, c in states),
                sent=len(states),
                delivered=sum(1 for st, _ in states if st == "delivered"),
                not_delivered=sum(1 for st, _ in states if st in ("failed", "unreachable")),
                sending=sum(1 for st, _ in states if st in ("queued", "sending")),
            )
            for states in by_purpose.values()
        ),
        key=lambda r: r.at,
    )
    scheduled_sent = sum(1 for p in by_purpose if not p.startswith("reminder-manual"))
    plan = [datetime.fromisoformat(p) for p in rnd.reminder_plan or []]
    upcoming = [p for p in plan[rnd.reminders_done :] if p < rnd.closes_at]
    return RoundReach(
        invited=len(flags),
        answered=len(flags) - len(waiting),
        received=received,
        sending=sending,
        not_received=len(waiting) - received - sending,
        reminders=reminders,
        skipped=max(0, rnd.reminders_done - scheduled_sent),
        next_reminder=upcoming[0] if upcoming and rnd.status == "open" else None,
        received_read=sum(1 for p in waiting if p in delivered and p in read),
        received_unread=sum(1 for p in waiting if p in delivered and p not in read and p in receipts_on),
    )


async def extend_round(
    session: AsyncSession, rnd: SurveyRound, business_days: int, now: datetime
) -> datetime:
    """Move the closing day ``business_days`` business days later; reminders are planned afresh."""
    if rnd.status not in ("open", "scheduled"):
        raise RoundClosed()
    local = rnd.closes_at.astimezone(JST)
    day = add_business_days(local.date(), business_days)
    new_close = datetime.combine(day, local.timetz().replace(tzinfo=None), JST)
    rnd.closes_at = new_close.astimezone(now.tzinfo)
    if rnd.status == "open":
        opened = rnd.opened_at or now
        plan = reminder_plan(opened, rnd.closes_at, rnd.reminder_rules)
        already = [datetime.fromisoformat(p) for p in rnd.reminder_plan[: rnd.reminders_done]]
        future = [p for p in plan if p > now]
        rnd.reminder_plan = [p.isoformat() for p in already + future]
    return rnd.closes_at


# --- answers --------------------------------------------------------------------------------------


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _value_rows(
    response_id: str, questions: list[Question], values: dict[str, Value]
) -> list[SurveyAnswerValue]:
    rows: list[SurveyAnswerValue] = []
    for q in questions:
        value = values.get(q.key)
        if value is None:
            continue
        if isinstance(value, float | int):
            rows.append(
                SurveyAnswerValue(response_id=response_id, question_key=q.key, seq=0, num=float(value))
            )
        elif q.type == "single":
            rows.append(
                SurveyAnswerValue(response_id=response_id, question_key=q.key, seq=0, choice=str(value))
            )
        elif isinstance(value, list):
            for i, choice in enumerate(value):
                rows.append(
                    SurveyAnswerValue(response_id=response_id, question_key=q.key, seq=i, choice=choice)
                )
        else:
            rows.append(
                SurveyAnswerValue(response_id=response_id, question_key=q.key, seq=0, text=str(value))
            )
    return rows


async def load_values(session: AsyncSession, response_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows = (
        await session.scalars(
            select(SurveyAnswerValue)
            .where(SurveyAnswerValue.response_id == response_id)
            .order_by(SurveyAnswerValue.question_key, SurveyAnswerValue.seq)
        )
    ).all()
    for row in rows:
        if row.num is not None:
            out[row.question_key] = row.num
        elif row.choice is not None:
            out.setdefault(row.question_key, []).append(row.choice)
        else:
            out[row.question_key] = row.text
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def check_card(
    session: AsyncSession, data: dict[str, Any], person_id: int | None, reply_to_id: str | None
) -> tuple[SurveyRound, SurveyRecipient]:
    """The round and tracking row a card submission is about, after checking that the card was
    delivered to the person pressing it. Raises AnswerRejected (logged by the caller)."""
    round_id, recipient_id = _int(data.get("round")), _int(data.get("rcp"))
    if round_id is None or recipient_id is None or person_id is None:
        raise AnswerRejected("malformed" if person_id is not None else "unknown_person")
    rnd = await session.get(SurveyRound, round_id)
    recipient = await session.get(SurveyRecipient, recipient_id)
    if rnd is None or recipient is None:
        raise AnswerRejected("unknown_round")
    if recipient.round_id != rnd.id:
        raise AnswerRejected("other_round")
    if recipient.person_id != person_id:
        raise AnswerRejected("other_person")
    if reply_to_id:
        delivered = await find_by_activity(session, KIND, reply_to_id)
        if delivered is None or delivered.ref_id != rnd.id or delivered.person_id != person_id:
            raise AnswerRejected("card_not_delivered_to_presser")
    return rnd, recipient


def is_open(rnd: SurveyRound, now: datetime) -> bool:
    return rnd.status == "open" and now < rnd.closes_at


async def submit_answer(
    session: AsyncSession,
    data: dict[str, Any],
    *,
    person_id: int | None,
    reply_to_id: str | None,
    now: datetime,
    secret_key: str,
) -> SubmitOutcome:
    """Store (or replace) one person's answer to a round, in the caller's transaction.
    ``secret_key`` seals the group of an anonymous answer until enough people answered."""
    rnd, recipient = await check_card(session, data, person_id, reply_to_id)
    if not is_open(rnd, now):
        raise RoundClosed()
    questions = parse_questions(rnd.questions)
    values = validate_answers(questions, data)  # AnswerRejected / MissingAnswers
    if not rnd.anonymous:
        return await _store_named(session, rnd, recipient, questions, values, now)
    return await _store_anonymous(session, rnd, recipient, questions, values, data.get("key"), secret_key)


async def _store_named(
    session: AsyncSession,
    rnd: SurveyRound,
    recipient: SurveyRecipient,
    questions: list[Question],
    values: dict[str, Value],
    now: datetime,
) -> SubmitOutcome:
    existing = await session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.round_id == rnd.id, SurveyResponse.person_id == recipient.person_id
        )
    )
    replaced = existing is not None
    if existing is None:
        existing = SurveyResponse(
            id=secrets.token_hex(16),
            round_id=rnd.id,
            department_id=recipient.department_id,
            section_id=recipient.section_id,
            role=recipient.role,
            person_id=recipient.person_id,
        )
        session.add(existing)
    else:
        await session.execute(delete(SurveyAnswerValue).where(SurveyAnswerValue.response_id == existing.id))
    existing.submitted_at = now
    recipient.responded = True
    await session.flush()
    session.add_all(_value_rows(existing.id, questions, values))
    await session.flush()
    return SubmitOutcome(rnd, recipient, replaced, None, values)


async def _store_anonymous(
    session: AsyncSession,
    rnd: SurveyRound,
    recipient: SurveyRecipient,
    questions: list[Question],
    values: dict[str, Value],
    key: Any,
    secret_key: str,
) -> SubmitOutcome:
    # One anonymous answer of a round at a time (PostgreSQL row lock; SQLite has one writer anyway):
    # regrouping reads and rewrites the round's answers, and two at once would release twice.
    await session.execute(select(SurveyRound.id).where(SurveyRound.id == rnd.id).with_for_update())
    if isinstance(key, str) and key:
        if not recipient.responded:
            raise AnswerRejected("edit_key_without_answer")
        existing = await session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.round_id == rnd.id, SurveyResponse.edit_key_hash == _hash(key)
            )
        )
        if existing is None:
            raise AnswerRejected("unknown_edit_key")
        held = _open_or_none(secret_key, existing.held)
        if held is None and existing.held:  # sealed under an earlier secret key: group is lost
            released = await session.scalar(
                select(func.count())
                .select_from(SurveyAnswerValue)
                .where(SurveyAnswerValue.response_id == existing.id)
            )
            held = {"g": [None, None, None]} if released else {"g": [None, None, None], "v": {}}
        if held is not None and "v" in held:  # the round has too few answers yet: values stay sealed
            existing.held = envelope.seal(secret_key, {"g": held["g"], "v": _plain(values)})
        else:
            await session.execute(
                delete(SurveyAnswerValue).where(SurveyAnswerValue.response_id == existing.id)
            )
            session.add_all(_value_rows(existing.id, questions, values))
        await session.flush()
        return SubmitOutcome(rnd, recipient, True, key, values)
    # First answer: flip the tracking flag (the once-per-person guard), then store the answer with
    # no link back: a random id, a hash of a key only the card keeps, and the group and values in a
    # sealed envelope; regroup() then shows what k or more respondents share.
    result = await session.execute(
        update(SurveyRecipient)
        .where(SurveyRecipient.id == recipient.id, SurveyRecipient.responded.is_(False))
        .values(responded=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAnswered()
    recipient.responded = True
    mapping = anonymity.from_json((rnd.granularity or {}).get("map") or [])
    group = mapping.get((recipient.department_id, recipient.section_id, recipient.role), (None, None, None))
    new_key = secrets.token_urlsafe(24)
    response = SurveyResponse(
        id=secrets.token_hex(16),
        round_id=rnd.id,
        department_id=None,
        section_id=None,
        role=None,
        person_id=None,
        submitted_at=None,
        edit_key_hash=_hash(new_key),
        held=envelope.seal(secret_key, {"g": list(group), "v": _plain(values)}),
    )
    session.add(response)
    await session.flush()
    await regroup(session, rnd, secret_key)
    return SubmitOutcome(rnd, recipient, False, new_key, values)


def _open_or_none(secret_key: str, token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        return envelope.seal_open(secret_key, token)
    except ValueError:
        return None


def _plain(values: dict[str, Value]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


async def regroup(session: AsyncSession, rnd: SurveyRound, secret_key: str | None) -> int:
    """Store on each anonymous answer of the round only the group that at least ``threshold``
    respondents share, over the answers given so far (anonymity.generalise, remainder rule
    included). While the round has fewer than ``threshold`` answers nothing is shown: no group and
    no values. Returns how many answers changed. Runs after every first answer and at closing."""
    rows = (
        await session.execute(
            select(
                SurveyResponse.id,
                SurveyResponse.held,
                SurveyResponse.department_id,
                SurveyResponse.section_id,
                SurveyResponse.role,
            ).where(SurveyResponse.round_id == rnd.id)
        )
    ).all()
    if len(rows) < rnd.threshold:
        return 0
    questions = parse_questions(rnd.questions)
    opened: dict[str, dict[str, Any]] = {}
    triples: dict[str, anonymity.Triple] = {}
    lost: set[str] = set()
    for rid, held, dept, section, role in rows:
        if held:
            try:
                payload = envelope.seal_open(secret_key or "", held)
            except ValueError:
                # DXBOT_SECRET_KEY changed while the round was open: this answer's group and (if
                # still sealed) values cannot be read any more. It counts, city-wide, without them,
                # rather than stopping every later answer and the closing.
                lost.add(rid)
                opened[rid] = {"g": [None, None, None]}
                triples[rid] = (None, None, None)
                continue
            opened[rid] = payload
            g = payload["g"]
            triples[rid] = (g[0], g[1], g[2])
        else:  # answers stored before envelopes existed: their stored group is all there is
            triples[rid] = (dept, section, role)
    if lost:
        log.error(
            "survey round %s: %d sealed answers do not open with the current secret key", rnd.id, len(lost)
        )
    mapping = anonymity.generalise(triples.values(), rnd.threshold)
    changed = 0
    for rid, _held, dept, section, role in rows:
        target = mapping[triples[rid]]
        sealed = opened.get(rid)
        values = sealed.get("v") if sealed else None
        if target == (dept, section, role) and values is None and rid not in lost:
            continue
        stmt = update(SurveyResponse).where(SurveyResponse.id == rid)
        fields: dict[str, Any] = {"department_id": target[0], "section_id": target[1], "role": target[2]}
        if rid in lost:  # re-sealed under the current key, so this is said once
            fields["held"] = envelope.seal(secret_key or "", {"g": [None, None, None]})
        if sealed is not None and values is not None:
            # Enough answers now: the values come out of the envelope; the group stays sealed too.
            session.add_all(_value_rows(rid, questions, values))
            fields["held"] = envelope.seal(secret_key or "", {"g": sealed["g"]})
        await session.execute(stmt.values(**fields).execution_options(synchronize_session=False))
        changed += 1
    await session.flush()
    return changed


async def previous_values(
    session: AsyncSession,
    rnd: SurveyRound,
    recipient: SurveyRecipient,
    key: str | None,
    secret_key: str | None = None,
) -> dict[str, Any]:
    """What this person answered, for the 回答を修正 form (anonymous rounds need the card's key)."""
    if rnd.anonymous:
        if not key:
            return {}
        response = await session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.round_id == rnd.id, SurveyResponse.edit_key_hash == _hash(key)
            )
        )
    else:
        response = await session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.round_id == rnd.id, SurveyResponse.person_id == recipient.person_id
            )
        )
    if response is None:
        return {}
    held = _open_or_none(secret_key or "", response.held)
    if held is not None:
        if "v" in held:
            return {k: v for k, v in held["v"].items()}
    return await load_values(session, response.id)


async def mark_other_copies_answered(
    session: AsyncSession,
    rnd: SurveyRound,
    recipient: SurveyRecipient,
    answered_activity: str | None,
    survey: Survey,
    locale: str,
    now: datetime,
) -> None:
    """Turn this person's other cards of the round (invitation or reminders) into 回答済み. The card
    answered on is updated directly by the turn and keeps the edit key; the others never get it."""

    def message_for(row: Any) -> Message | None:
        if answered_activity and row.activity_id == answered_activity:
            return None
        return Message(card=cards.answered_elsewhere_card(survey, rnd, locale))

    await update_delivered(
        session,
        KIND,
        rnd.id,
        message_for,
        revision="answered",
        recipient_key=f"person:{recipient.person_id}",
        now=now,
    )


# --- closing --------------------------------------------------------------------------------------


async def seal(session: AsyncSession, rnd: SurveyRound, secret_key: str | None = None) -> int:
    """At closing: group an anonymous round's answers over everyone who answered (regroup), then
    erase the envelopes. A round that closes with fewer than ``threshold`` answers keeps only their
    count: their values were never stored in the open and the envelopes are erased unopened.
    Returns how many answers changed group."""
    if not rnd.anonymous or rnd.sealed:
        return 0
    changed = await regroup(session, rnd, secret_key)
    await session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.round_id == rnd.id, SurveyResponse.held.is_not(None))
        .values(held=None)
        .execution_options(synchronize_session=False)
    )
    rnd.sealed = True
    return changed


async def close_round(
    session: AsyncSession, rnd: SurveyRound, now: datetime, settings: Settings, *, early: bool = False
) -> bool:
    """open → closed: seal anonymous answers, turn open cards into 締め切り, post results to the DX
    division. False if the round was not open (or another process closed it)."""
    if not await _claim(session, rnd, "open", status="closed", closed_at=now):
        return False
    if early:
        rnd.closes_at = min(rnd.closes_at, now)
    await seal(session, rnd, settings.secret_key)
    survey = await session.get(Survey, rnd.survey_id)
    assert survey is not None
    responded = {
        pid
        for pid in (
            await session.scalars(
                select(SurveyRecipient.person_id).where(
                    SurveyRecipient.round_id == rnd.id, SurveyRecipient.responded.is_(True)
                )
            )
        ).all()
    }
    locale = settings.locale

    def closed_card(row: Any) -> Message | None:
        return Message(card=cards.closed_card(survey, rnd, locale, answered=row.person_id in responded))

    await update_delivered(session, KIND, rnd.id, closed_card, revision="closed", now=now)
    await post_results(session, rnd, survey, now, settings)
    log.info("survey round %s closed%s", rnd.id, " early" if early else "")
    return True


async def results_recipients(session: AsyncSession, settings: Settings) -> list[Recipient]:
    """Where results go: the conversation set with 「サーベイ 結果送信先」, else every DX admin."""
    setting = await session.get(AppSetting, RESULTS_SETTING)
    if setting and setting.value.get("conversation_id"):
        return [Recipient(conversation_id=setting.value["conversation_id"])]
    people = set(
        (
            await session.scalars(
                select(DivisionRole.person_id).where(
                    DivisionRole.revoked_at.is_(None), DivisionRole.role.in_(["admin", "author"])
                )
            )
        ).all()
    )
    if settings.admins:
        people |= set(
            (
                await session.scalars(select(Person.id).where(func.lower(Person.email).in_(settings.admins)))
            ).all()
        )
    return [Recipient(person_id=p) for p in sorted(people)]


async def post_results(
    session: AsyncSession, rnd: SurveyRound, survey: Survey, now: datetime, settings: Settings
) -> int:
    from dialogs.survey.results import compute_results

    results = await compute_results(session, rnd.id)
    card = cards.results_card(survey, rnd, results, settings, settings.locale)
    text = cards.results_preview(survey, rnd, results, settings.locale)
    recipients = await results_recipients(session, settings)
    if not recipients:
        log.warning("survey round %s: no DX division recipient for the results", rnd.id)
        return 0
    created = await enqueue(
        session,
        RESULTS_KIND,
        rnd.id,
        [DeliveryItem(r, Message(text=text, card=card), purpose="results") for r in recipients],
        now=now,
    )
    rnd.results_posted_at = now
    return created


async def audit(
    session: AsyncSession,
    person_id: int | None,
    label: str,
    action: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    session.add(
        AuditEntry(at=now, actor_person_id=person_id, actor_label=label, action=action, detail=detail)
    )


def first_business_open(now: datetime) -> datetime:
    """Now if today is a business day, else 9:00 on the next one (used when opening by hand on a holiday)."""
    local = now.astimezone(JST)
    day = next_business_day(local.date())
    if day == local.date():
        return now
    return datetime.combine(day, datetime.min.time().replace(hour=9), JST).astimezone(now.tzinfo)
