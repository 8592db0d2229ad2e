"""「サーベイ」 and 「回答状況」 for the DX division, and the answer card's buttons for everyone.

サーベイ                         list surveys with their schedule and latest round
サーベイ 作成 [DXマインド|ツール活用|業務量]   create from a template (no name: a menu, incl. the builder)
サーベイ 予定 <サーベイ名|番号>          schedule form (monthly / quarterly / cron, audience, window, reminders)
サーベイ 開始 <サーベイ名|番号> [営業日数]  preview (audience, reach, the card), then 開始 / 取消
サーベイ 延長 [サーベイ名|番号] [第n回] <営業日数>   extend the survey's open round
サーベイ 締切 [サーベイ名|番号] [第n回]   close early (after a confirmation with 取消)
サーベイ 督促 [サーベイ名|番号] [第n回]   remind non-respondents now
サーベイ 結果 [サーベイ名|番号] [第n回]   that round, else the survey's latest closed round
サーベイ しきい値 <サーベイ名|番号> <3〜25>   anonymity threshold
サーベイ ツール <サーベイ名|番号> A、B、C    edit the tool list of a ツール活用 survey
サーベイ 結果送信先                   post results into this conversation (run it in the DX channel)
回答状況 [サーベイ名|番号] [第n回]      live response rate (alone: every open round)

A round is named as every card names it, 「DXマインド 第3回」: the survey, then the round's number within
that survey (「DXマインド 3」 or 「DXマインド 第3回」); without a number, the survey's open round. No
survey at all means the only open round. Several candidates get a button each, carrying what was typed
after the name. Database ids stay inside the cards' button data, never typed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.api import FileAttachment, Role, Turn
from dialogs.kit.business_days import JST, format_date_ja, non_business_reason
from dialogs.kit.router import Router, fold
from dialogs.kit.uploads import receive_file
from dialogs.roster.order import SECTION_ORDER
from dialogs.survey import cards, service
from dialogs.survey.jobs import recurrence_of
from dialogs.survey.loader import Definition, from_builder, from_file
from dialogs.survey.questions import AnswerRejected, DefinitionError, MissingAnswers, parse_questions
from dialogs.survey.results import compute_results, compute_trend, participation, response_rates
from dialogs.survey.schedule import (
    KINDS,
    Recurrence,
    ScheduleError,
    closes_at,
    describe,
    next_fire,
    parse_hhmm,
    round_label,
)
from dialogs.survey.templates import TEMPLATES, find_template, tool_questions
from storage.models import AppSetting, Department, Section, Survey, SurveyRound, SurveySchedule

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 2 * 1024 * 1024  # a survey definition is a few KB; an Excel one a few dozen
router = Router("survey")

BUILDER_TYPES = ("scale5", "scale11", "single", "multi", "number", "text")


def _log_extra(turn: Turn) -> dict[str, Any]:
    return {"extra": {"correlation_id": turn.correlation_id}}


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- answering (anyone who received the card) -----------------------------------------------------


@router.action("survey.answer", role=Role.ANYONE)
async def on_answer(turn: Turn, data: dict[str, Any]) -> None:
    now = turn.services.clock()
    try:
        outcome = await service.submit_answer(
            turn.session,
            data,
            person_id=turn.identity.person_id,
            reply_to_id=turn.reply_to_id,
            now=now,
            secret_key=turn.services.settings.secret_key,
        )
    except AnswerRejected as exc:
        log.warning(
            "survey answer rejected: %s (round %s)", exc.reason, _int(data.get("round")), **_log_extra(turn)
        )
        if exc.question:
            label = await _question_label(turn, data, exc.question)
            await turn.reply(turn.t("survey.answer.invalid", question=label))
        else:
            await turn.reply(turn.t("survey.answer.rejected"))
        return
    except MissingAnswers as exc:
        labels = "、".join(q.label(turn.locale) for q in exc.questions[:5])
        await turn.reply(turn.t("survey.answer.missing", questions=labels))
        return
    except service.RoundClosed:
        await turn.reply(turn.t("survey.answer.closed"))
        return
    except service.AlreadyAnswered:
        await turn.reply(turn.t("survey.answer.already"))
        return
    rnd, recipient = outcome.round, outcome.recipient
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    card = cards.answered_card(
        survey, rnd, recipient.id, turn.locale, replaced=outcome.replaced, key=outcome.edit_key
    )
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card)
    # The answered card itself says thank you (or that the earlier answer was replaced): no second message.
    await service.mark_other_copies_answered(
        turn.session, rnd, recipient, turn.reply_to_id, survey, turn.locale, now
    )


async def _question_label(turn: Turn, data: dict[str, Any], key: str) -> str:
    rnd = await turn.session.get(SurveyRound, _int(data.get("round")) or 0)
    if rnd is not None:
        for q in parse_questions(rnd.questions):
            if q.key == key:
                return q.label(turn.locale)
    return key


@router.action("survey.edit", role=Role.ANYONE)
async def on_edit(turn: Turn, data: dict[str, Any]) -> None:
    now = turn.services.clock()
    try:
        rnd, recipient = await service.check_card(
            turn.session, data, turn.identity.person_id, turn.reply_to_id
        )
    except AnswerRejected as exc:
        log.warning("survey edit rejected: %s", exc.reason, **_log_extra(turn))
        await turn.reply(turn.t("survey.answer.rejected"))
        return
    if not service.is_open(rnd, now):
        await turn.reply(turn.t("survey.answer.closed"))
        return
    key = data.get("key") if isinstance(data.get("key"), str) else None
    prefill = await service.previous_values(
        turn.session, rnd, recipient, key, turn.services.settings.secret_key
    )
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    card = cards.answer_card(
        survey,
        rnd,
        parse_questions(rnd.questions),
        recipient.id,
        turn.locale,
        prefill=prefill or None,
        key=key,
        notice=turn.t("survey.card.editing"),
    )
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card)


# --- the DX division ------------------------------------------------------------------------------

SUB = {
    "一覧": "list",
    "list": "list",
    "作成": "create",
    "新規": "create",
    "create": "create",
    "予定": "schedule",
    "スケジュール": "schedule",
    "schedule": "schedule",
    "開始": "open",
    "open": "open",
    "延長": "extend",
    "extend": "extend",
    "締切": "close",
    "締め切り": "close",
    "close": "close",
    "督促": "remind",
    "リマインド": "remind",
    "remind": "remind",
    "結果": "results",
    "results": "results",
    "しきい値": "threshold",
    "threshold": "threshold",
    "ツール": "tools",
    "tools": "tools",
    "結果送信先": "destination",
    "destination": "destination",
}


@router.command(
    "サーベイ", "パルスサーベイ", "survey", role=Role.AUTHOR, help_key="survey.cmd.survey", usage="サーベイ"
)
async def survey_command(turn: Turn, args: str) -> None:
    words = args.split(maxsplit=1)
    sub = SUB.get(fold(words[0])) if words else "list"
    rest = words[1] if len(words) > 1 else ""
    if sub is None:
        await turn.reply(turn.t("survey.cmd.unknown"))
        return
    await {
        "list": cmd_list,
        "create": cmd_create,
        "schedule": cmd_schedule,
        "open": cmd_open,
        "extend": cmd_extend,
        "close": cmd_close,
        "remind": cmd_remind,
        "results": cmd_results,
        "threshold": cmd_threshold,
        "tools": cmd_tools,
        "destination": cmd_destination,
    }[sub](turn, rest)


async def _schedule_of(turn: Turn, survey_id: int) -> SurveySchedule | None:
    return await turn.session.scalar(
        select(SurveySchedule)
        .where(SurveySchedule.survey_id == survey_id)
        .order_by(SurveySchedule.id.desc())
        .limit(1)
    )


async def cmd_list(turn: Turn, _: str) -> None:
    surveys = (
        await turn.session.scalars(select(Survey).where(Survey.archived.is_(False)).order_by(Survey.id))
    ).all()
    rows = []
    for s in surveys:
        latest = await turn.session.scalar(
            select(SurveyRound).where(SurveyRound.survey_id == s.id).order_by(SurveyRound.id.desc()).limit(1)
        )
        rows.append((s, await _schedule_of(turn, s.id), latest))

    def desc(schedule: SurveySchedule) -> str:
        text = describe(recurrence_of(schedule), turn.locale)
        if not schedule.active:
            return text + turn.t("survey.list.stopped")
        if schedule.next_run_at:
            text += turn.t("survey.list.next", when=cards.format_datetime_ja(schedule.next_run_at))
        return text

    await turn.reply_card(cards.survey_list_card(rows, turn.locale, desc), text=turn.t("survey.list.title"))


async def cmd_create(turn: Turn, rest: str) -> None:
    if not rest.strip():
        await turn.reply_card(
            cards.template_menu_card(list(TEMPLATES.values()), turn.locale),
            text=turn.t("survey.create.title"),
        )
        return
    tpl = find_template(rest.strip())
    if tpl is None:
        await turn.reply(turn.t("survey.create.unknown", names="、".join(t.name for t in TEMPLATES.values())))
        return
    await _create_from_template(turn, tpl.key)


async def _create_from_template(turn: Turn, key: str) -> None:
    tpl = TEMPLATES[key]
    await _create_and_confirm(
        turn,
        Definition(tpl.name, tpl.anonymous, None, tpl.questions(), tpl.description),
        {"template": key},
        template=tpl.key,
    )


async def _create_and_confirm(
    turn: Turn, definition: Definition, audit_detail: dict[str, Any], template: str | None = None
) -> None:
    """Create a survey from a template, the builder card or a file; audit it; show the created card."""
    survey = await service.create_survey(
        turn.session,
        title=definition.title,
        questions=definition.questions,
        anonymous=definition.anonymous,
        threshold=definition.threshold or turn.services.settings.survey_threshold,
        template=template,
        description=definition.description,
        created_by=turn.identity.person_id,
        now=turn.services.clock(),
    )
    await _audit(turn, "survey.create", {"survey": survey.id, **audit_detail})
    await turn.reply_card(
        cards.created_card(survey, turn.locale),
        text=turn.t("survey.created.title", title=survey.title, id=survey.id),
    )


@router.action("survey.create.menu", role=Role.AUTHOR)
async def on_create_menu(turn: Turn, data: dict[str, Any]) -> None:
    await cmd_create(turn, "")


@router.action("survey.create", role=Role.AUTHOR)
async def on_create(turn: Turn, data: dict[str, Any]) -> None:
    key = str(data.get("template") or "")
    if key not in TEMPLATES:
        await turn.reply(turn.t("core.unknown_action"))
        return
    await _create_from_template(turn, key)


@router.action("survey.builder.form", role=Role.AUTHOR)
async def on_builder_form(turn: Turn, data: dict[str, Any]) -> None:
    types = [(k, turn.t(f"survey.type.{k}")) for k in BUILDER_TYPES]
    await turn.reply_card(cards.builder_card(turn.locale, types), text=turn.t("survey.builder.title"))


@router.action("survey.builder.save", role=Role.AUTHOR)
async def on_builder_save(turn: Turn, data: dict[str, Any]) -> None:
    try:
        definition = from_builder(data, cards.BUILDER_ROWS)
    except DefinitionError as exc:
        await turn.reply(turn.t("survey.builder.errors", problems="\n".join(f"- {p}" for p in exc.problems)))
        return
    await _create_and_confirm(turn, definition, {"source": "builder"})


_SURVEY_WORDS = re.compile(r"サーベイ|アンケート|survey", re.IGNORECASE)


def _survey_file(file: FileAttachment, text: str) -> bool:
    """YAML is always a survey definition; Excel only when the message says so (else it is a roster)."""
    name = file.name.lower()
    return name.endswith((".yaml", ".yml")) or (name.endswith(".xlsx") and bool(_SURVEY_WORDS.search(text)))


@router.on_file(role=Role.AUTHOR, accepts=_survey_file)
async def on_survey_file(turn: Turn) -> None:
    """A DX division member sends a survey definition (YAML, or Excel with 「サーベイ」) in Teams."""
    attachment = turn.attachments[0]
    data = await receive_file(turn, attachment, max_bytes=MAX_FILE_BYTES, too_large="survey.file.too_large")
    if data is None:  # too large, cut short or refused: the author was told; nothing is read
        return
    try:
        definition = await asyncio.to_thread(from_file, attachment.name, data)  # off the event loop
    except DefinitionError as exc:
        await turn.reply(turn.t("survey.builder.errors", problems="\n".join(f"- {p}" for p in exc.problems)))
        return
    await _create_and_confirm(turn, definition, {"source": attachment.name.rsplit(".", 1)[-1].lower()})


def _name_arg(rest: str) -> str:
    return rest.strip().strip("「」『』\"'").strip()


async def find_surveys(turn: Turn, name: str) -> list[Survey]:
    """Surveys called ``name``: exact title first (width and case folded), else those containing it."""
    surveys = (
        await turn.session.scalars(select(Survey).where(Survey.archived.is_(False)).order_by(Survey.id))
    ).all()
    key = fold(name)
    exact = [s for s in surveys if fold(s.title) == key]
    return exact or [s for s in surveys if key and key in fold(s.title)]


async def _survey_arg(
    turn: Turn, rest: str, action: str | None = None, extra: dict[str, Any] | None = None
) -> Survey | None:
    """The survey the first word names, by number or by name. When the name matches none or several,
    say so, with a button per candidate (pressing it runs ``action``) when there is one."""
    first = _name_arg(rest.split()[0]) if rest.split() else ""
    if not first and action is not None:
        await _choose_survey(turn, "", [], action, extra)
        return None
    survey_id = _int(fold(first)) if first else None
    if survey_id is not None or not first:
        survey = await turn.session.get(Survey, survey_id) if survey_id else None
        if survey is None:
            await turn.reply(turn.t("survey.err.no_survey"))
        return survey
    matches = await find_surveys(turn, first)
    if len(matches) == 1:
        return matches[0]
    if action is None:
        await turn.reply(turn.t("survey.err.no_survey"))
        return None
    await _choose_survey(turn, first, matches, action, extra)
    return None


async def _choose_survey(
    turn: Turn, name: str, matches: list[Survey], action: str, extra: dict[str, Any] | None = None
) -> None:
    """Several surveys match ``name`` (or none does: then every survey is offered). The buttons carry
    ``extra`` (what was typed after the name) so pressing one does what the message asked."""
    if matches:
        lead = turn.t("survey.choose.several", name=name) if name else turn.t("survey.choose.which")
    else:
        matches = list(
            (
                await turn.session.scalars(
                    select(Survey).where(Survey.archived.is_(False)).order_by(Survey.id)
                )
            ).all()
        )
        lead = turn.t("survey.choose.unknown", name=name) if name else turn.t("survey.choose.which")
    if not matches:
        await turn.reply(turn.t("survey.list.empty"))
        return
    await turn.reply_card(cards.choose_survey_card(lead, matches, action, turn.locale, extra), text=lead)


# --- naming a round as the cards do: 「DXマインド 第3回」 ------------------------------------------------

_ROUND_WORD = re.compile(r"^第?(\d+)回(?:目)?$")


@dataclass(frozen=True)
class RoundWords:
    """What a user typed to name a round: the survey (name or number, "" for none), the round's number
    within that survey (None: its running round), and the numbers after them (e.g. business days)."""

    survey: str
    number: int | None
    tail: tuple[int, ...]


def parse_round_words(rest: str, tail: int = 0) -> RoundWords | None:
    """「DXマインド 3」「DXマインド 第3回」「2 3」(survey number 2, round 3)「」; ``tail`` numbers are taken
    from the end first (「延長 DXマインド 3」: 3 business days). None when a wanted tail number is missing."""
    words = [w for w in (_name_arg(w) for w in rest.split()) if w]
    number: int | None = None
    for i, word in enumerate(words):
        if m := _ROUND_WORD.match(fold(word)):
            number = int(m.group(1))
            del words[i]
            break
    numbers: list[int] = []
    for _ in range(tail):
        value = _int(fold(words[-1])) if words else None
        if value is None:
            return None
        numbers.insert(0, value)
        words.pop()
    if number is None and len(words) >= 2 and _int(fold(words[-1])) is not None:
        number = _int(fold(words.pop()))
    return RoundWords(" ".join(words), number, tuple(numbers))


async def _named_survey(turn: Turn, text: str, action: str, extra: dict[str, Any]) -> Survey | None:
    """The survey ``text`` names (number, exact title, or part of a title); else buttons to choose."""
    number = _int(fold(text))
    if number is not None:
        survey = await turn.session.get(Survey, number)
        if survey is None or survey.archived:
            await turn.reply(turn.t("survey.err.no_survey"))
            return None
        return survey
    matches = await find_surveys(turn, text)
    if len(matches) == 1:
        return matches[0]
    await _choose_survey(turn, text, matches, action, extra)
    return None


async def _round_in(
    turn: Turn, survey: Survey, number: int | None, statuses: tuple[str, ...]
) -> SurveyRound | None:
    """第``number``回 of ``survey``; with no number, its running round. Says so when there is none."""
    if number is not None:
        rnd = await turn.session.scalar(
            select(SurveyRound).where(SurveyRound.survey_id == survey.id, SurveyRound.number == number)
        )
        if rnd is None:
            await turn.reply(turn.t("survey.round.no_number", title=survey.title, number=number))
        return rnd
    rnd = await service.latest_round(turn.session, survey.id, statuses)
    if rnd is None:
        await turn.reply(turn.t("survey.round.not_running", title=survey.title))
    return rnd


async def _running_rounds(turn: Turn, statuses: tuple[str, ...]) -> list[tuple[Survey, SurveyRound]]:
    rows = (
        await turn.session.execute(
            select(Survey, SurveyRound)
            .join(SurveyRound, SurveyRound.survey_id == Survey.id)
            .where(SurveyRound.status.in_(statuses))
            .order_by(SurveyRound.id)
        )
    ).all()
    return [(survey, rnd) for survey, rnd in rows]


async def _round_arg(
    turn: Turn,
    words: RoundWords,
    action: str,
    statuses: tuple[str, ...] = ("open",),
    extra: dict[str, Any] | None = None,
) -> SurveyRound | None:
    """The round the user named as the cards name it. No survey named: the only running round, or a
    button per running round. A name matching several surveys (or none): a button per survey. The
    buttons carry the round number and ``extra`` so pressing one finishes what was asked."""
    extra = dict(extra or {})
    if not words.survey:
        running = await _running_rounds(turn, statuses)
        if len(running) == 1:
            return running[0][1]
        if not running:
            await turn.reply(turn.t("survey.status.none"))
            return None
        lead = turn.t("survey.round.choose")
        await turn.reply_card(cards.choose_round_card(lead, running, action, turn.locale, extra), text=lead)
        return None
    survey = await _named_survey(turn, words.survey, action, {"number": words.number, **extra})
    if survey is None:
        return None
    return await _round_in(turn, survey, words.number, statuses)


async def _round_of_data(
    turn: Turn, data: dict[str, Any], statuses: tuple[str, ...] = ("open",)
) -> SurveyRound | None:
    """The round a button names: by id (cards), or a survey and its round number (the choose buttons)."""
    if data.get("round") is not None or data.get("survey") is None:
        return await _round_of_card(turn, data)
    survey = await turn.session.get(Survey, _int(data.get("survey")) or 0)
    if survey is None:
        await turn.reply(turn.t("survey.err.no_survey"))
        return None
    return await _round_in(turn, survey, _int(data.get("number")), statuses)


async def _departments_and_sections(turn: Turn) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    depts = [
        (i, n)
        for i, n in (
            await turn.session.execute(
                select(Department.id, Department.name).order_by(Department.sort_order, Department.id)
            )
        ).all()
    ]
    sections = [
        (i, n)
        for i, n in (
            await turn.session.execute(
                select(Section.id, Section.name)
                .join(Department, Department.id == Section.department_id)
                .where(Section.active.is_(True))
                .order_by(*SECTION_ORDER)
            )
        ).all()
    ]
    return depts, sections


async def cmd_schedule(turn: Turn, rest: str) -> None:
    survey = await _survey_arg(turn, rest)
    if survey is None:
        return
    depts, sections = await _departments_and_sections(turn)
    card = cards.schedule_card(survey, await _schedule_of(turn, survey.id), depts, sections, turn.locale)
    await turn.reply_card(card, text=turn.t("survey.schedule.title", title=survey.title))


@router.action("survey.schedule.form", role=Role.AUTHOR)
async def on_schedule_form(turn: Turn, data: dict[str, Any]) -> None:
    await cmd_schedule(turn, str(data.get("survey", "")))


def _parse_reminders(value: str) -> list[dict[str, Any]]:
    out = []
    for part in re.split(r"[,、\s]+", value.strip()):
        if not part:
            continue
        days, _, at = part.partition("@")
        n = _int(days)
        if n is None or not 0 <= n <= 20:
            raise ScheduleError(f"督促 {part!r} は「2@10:00」の形で指定してください")
        parse_hhmm(at or "09:00")
        out.append({"days_before": n, "at": at or "09:00"})
    return out


@router.action("survey.schedule.save", role=Role.AUTHOR)
async def on_schedule_save(turn: Turn, data: dict[str, Any]) -> None:
    survey = await turn.session.get(Survey, _int(data.get("survey")) or 0)
    if survey is None:
        await turn.reply(turn.t("survey.err.no_survey"))
        return
    kind = str(data.get("kind") or "monthly")
    try:
        if kind not in KINDS:
            raise ScheduleError(kind)
        rec = Recurrence(
            kind,
            _int(data.get("nth")) or 2,
            str(data.get("at") or "10:00")[:5],
            str(data.get("cron") or "").strip() or None,
        )
        rec.validate()
        window = _int(data.get("window")) or 5
        if not 1 <= window <= 30:
            raise ScheduleError("回答期間は1〜30営業日にしてください")
        reminders = _parse_reminders(str(data.get("reminders") or ""))
    except ScheduleError as exc:
        await turn.reply(turn.t("survey.schedule.error", problem=str(exc)))
        return
    roles = [r for r in str(data.get("roles") or "leader,subleader").split(",") if r in service.ROLES]
    audience = service.normalise_audience(
        {
            "roles": roles,
            "department_ids": [
                d for d in str(data.get("departments") or "").split(",") if d.strip().isdigit()
            ],
            "section_ids": [s for s in str(data.get("sections") or "").split(",") if s.strip().isdigit()],
        }
    )
    now = turn.services.clock()
    schedule = await _schedule_of(turn, survey.id)
    if schedule is None:
        schedule = SurveySchedule(survey_id=survey.id, created_by=turn.identity.person_id, created_at=now)
        turn.session.add(schedule)
    schedule.kind = rec.kind
    schedule.nth_business_day = rec.nth
    schedule.at_time = rec.at
    schedule.cron = rec.cron
    schedule.audience = audience
    schedule.window_business_days = window
    schedule.close_time = schedule.close_time or "17:00"
    schedule.reminders = reminders
    schedule.active = True
    schedule.next_run_at = next_fire(rec, now)
    await turn.session.flush()
    await _audit(turn, "survey.schedule", {"survey": survey.id, "kind": rec.kind}, now)
    await turn.reply(
        turn.t(
            "survey.schedule.saved",
            title=survey.title,
            schedule=describe(rec, turn.locale),
            next=cards.format_datetime_ja(schedule.next_run_at),
            window=window,
        )
    )


@router.action("survey.schedule.stop", role=Role.AUTHOR)
async def on_schedule_stop(turn: Turn, data: dict[str, Any]) -> None:
    schedule = await _schedule_of(turn, _int(data.get("survey")) or 0)
    if schedule is None:
        await turn.reply(turn.t("survey.err.no_survey"))
        return
    schedule.active = False
    await _audit(turn, "survey.schedule.stop", {"survey": schedule.survey_id})
    await turn.reply(turn.t("survey.schedule.stopped"))


async def cmd_open(turn: Turn, rest: str) -> None:
    """「サーベイ 開始 <番号|名前> [営業日数]」: the preview first; 開始 on it opens the round."""
    parts = rest.split()
    window = _int(parts[1]) if len(parts) > 1 else None
    if len(parts) > 1 and (window is None or not 1 <= window <= 30):
        await turn.reply(turn.t("survey.open.usage"))
        return
    survey = await _survey_arg(turn, rest, action="survey.open", extra={"window": window})
    if survey is None:
        return
    await _start_preview(turn, survey, window)


@router.action("survey.open", role=Role.AUTHOR)
async def on_open(turn: Turn, data: dict[str, Any]) -> None:
    survey = await turn.session.get(Survey, _int(data.get("survey")) or 0)
    if survey is None:
        await turn.reply(turn.t("survey.err.no_survey"))
        return
    window = _int(data.get("window"))
    await _start_preview(turn, survey, window if window and 1 <= window <= 30 else None)


async def _running_round(turn: Turn, survey: Survey) -> SurveyRound | None:
    """The round of this survey that is open, or opened by hand and waiting for its business day."""
    return await service.latest_round(turn.session, survey.id, ("open", "scheduled"))


async def _start_preview(turn: Turn, survey: Survey, window: int | None) -> None:
    """Who would get it, how many cannot be reached, the card as they will see it, the business-day
    warning; then 開始 / 取消 bound to this preview."""
    running = await _running_round(turn, survey)
    if running is not None:
        await turn.reply(turn.t("survey.open.already", round=cards.round_name(survey, running, turn.locale)))
        return
    now = turn.services.clock()
    schedule = await _schedule_of(turn, survey.id)
    audience = service.normalise_audience(schedule.audience if schedule else None)
    window = window or (schedule.window_business_days if schedule else 5)
    close_time = schedule.close_time if schedule else "17:00"
    today = now.astimezone(JST).date()
    count = await service.count_audience(turn.session, audience, today)
    if count.people == 0:
        await turn.reply(turn.t("survey.preview.nobody"))
        return
    latest = await service.latest_round(turn.session, survey.id)
    token = await service.save_start_preview(
        turn.session,
        {
            "survey": survey.id,
            "audience": audience,
            "window": window,
            "close_time": close_time,
            "after": latest.id if latest else 0,
        },
        now,
    )
    reason = non_business_reason(today)
    later = service.first_business_open(now) if reason else None
    sample = SurveyRound(
        id=0,
        survey_id=survey.id,
        label=round_label(now),
        closes_at=closes_at(now, window, close_time),
        anonymous=survey.anonymous,
        threshold=survey.threshold,
        questions=list(survey.questions),
    )
    card = cards.start_preview_card(
        survey,
        sample,
        parse_questions(survey.questions),
        audience_label=await _audience_words(turn, audience),
        count=count,
        token=token,
        after=latest.id if latest else 0,
        locale=turn.locale,
        recipient_locale=turn.services.settings.locale,
        holiday=(format_date_ja(today), reason) if reason else None,
        later=later,
    )
    await turn.reply_card(card, text=turn.t("survey.preview.title", title=survey.title))


async def _audience_words(turn: Turn, audience: dict[str, Any]) -> str:
    roles = audience.get("roles") or list(service.ROLES)
    who = turn.t(
        "survey.schedule.all_promoters"
        if len(roles) > 1
        else "survey.schedule.leaders"
        if roles == ["leader"]
        else "survey.schedule.subleaders"
    )
    names: list[str] = []
    if audience.get("department_ids"):
        names += (
            await turn.session.scalars(
                select(Department.name)
                .where(Department.id.in_(audience["department_ids"]))
                .order_by(Department.sort_order, Department.id)
            )
        ).all()
    if audience.get("section_ids"):
        names += (
            await turn.session.scalars(
                select(Section.name)
                .where(Section.id.in_(audience["section_ids"]))
                .order_by(Section.sort_order, Section.id)
            )
        ).all()
    where = "、".join(names) if names else turn.t("survey.preview.whole_city")
    return turn.t("survey.preview.audience_value", who=who, where=where)


async def _show(turn: Turn, card: dict[str, Any], text: str | None = None) -> None:
    """Replace the card the button was on (so it cannot be pressed again), or post a new one."""
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=text)


@router.action("survey.start", role=Role.AUTHOR)
async def on_start(turn: Turn, data: dict[str, Any]) -> None:
    """開始 on a start preview: opens the round the preview showed, once."""
    now = turn.services.clock()
    survey = await turn.session.get(Survey, _int(data.get("survey")) or 0)
    if survey is None:
        await turn.reply(turn.t("survey.err.no_survey"))
        return
    preview = await service.claim_start_preview(turn.session, str(data.get("token") or ""), now)
    if preview is None or preview.get("survey") != survey.id:
        await _preview_gone(turn, survey, _int(data.get("after")) or 0)
        return
    latest = await service.latest_round(turn.session, survey.id)
    if (latest.id if latest else 0) != preview.get("after"):
        assert latest is not None
        await turn.reply(turn.t("survey.start.stale", round=cards.round_name(survey, latest, turn.locale)))
        return
    later = data.get("when") == "next_business_day"
    open_at = service.first_business_open(now) if later else now
    rnd = await service.create_round(
        turn.session,
        survey,
        open_at=open_at,
        now=now,
        audience=preview.get("audience"),
        window_business_days=int(preview.get("window") or 5),
        close_time=str(preview.get("close_time") or "17:00"),
        reminders=(schedule.reminders if (schedule := await _schedule_of(turn, survey.id)) else None),
    )
    name = cards.round_name(survey, rnd, turn.locale)
    if later and open_at > now:
        await _audit(
            turn, "survey.open", {"survey": survey.id, "round": rnd.id, "at": open_at.isoformat()}, now
        )
        message = turn.t(
            "survey.start.scheduled",
            name=name,
            at=cards.format_datetime_ja(open_at),
            deadline=cards.deadline(rnd, turn.locale),
        )
    else:
        invited = await service.open_round(turn.session, rnd, now, turn.services.settings)
        await _audit(turn, "survey.open", {"survey": survey.id, "round": rnd.id}, now)
        message = turn.t(
            "survey.open.done", name=name, invited=invited, deadline=cards.deadline(rnd, turn.locale)
        )
    await _show(turn, cards.note_card(turn.t("survey.start.done_title"), message), message)


@router.action("survey.start.cancel", role=Role.AUTHOR)
async def on_start_cancel(turn: Turn, data: dict[str, Any]) -> None:
    survey = await turn.session.get(Survey, _int(data.get("survey")) or 0)
    preview = await service.claim_start_preview(
        turn.session, str(data.get("token") or ""), turn.services.clock()
    )
    if preview is None and survey is not None:
        await _preview_gone(turn, survey, _int(data.get("after")) or 0)
        return
    message = turn.t("survey.start.cancelled", title=survey.title if survey else "")
    await _show(turn, cards.note_card(turn.t("survey.start.cancelled_title"), message), message)


async def _preview_gone(turn: Turn, survey: Survey, after: int) -> None:
    """A 開始 / 取消 whose preview was already used, cancelled or is too old: say which, start nothing."""
    latest = await service.latest_round(turn.session, survey.id)
    if latest is not None and latest.id > after:
        await turn.reply(turn.t("survey.start.already", name=cards.round_name(survey, latest, turn.locale)))
    else:
        await turn.reply(turn.t("survey.start.expired", title=survey.title))


async def cmd_extend(turn: Turn, rest: str) -> None:
    """「サーベイ 延長 [サーベイ名|番号] [第n回] <営業日数>」: no name, the only running round."""
    words = parse_round_words(rest, tail=1)
    days = words.tail[0] if words else None
    if words is None or days is None or not 1 <= days <= 20:
        await turn.reply(turn.t("survey.extend.usage"))
        return
    rnd = await _round_arg(turn, words, "survey.extend", extra={"days": days})
    if rnd is None:
        return
    await _extend(turn, rnd, days)


@router.action("survey.extend", role=Role.AUTHOR)
async def on_extend(turn: Turn, data: dict[str, Any]) -> None:
    days = _int(data.get("days"))
    if days is None or not 1 <= days <= 20:
        await turn.reply(turn.t("survey.extend.usage"))
        return
    rnd = await _round_of_data(turn, data)
    if rnd is None:
        return
    await _extend(turn, rnd, days)


async def _extend(turn: Turn, rnd: SurveyRound, days: int) -> None:
    now = turn.services.clock()
    try:
        new_close = await service.extend_round(turn.session, rnd, days, now)
    except service.RoundClosed:
        await turn.reply(turn.t("survey.err.not_open"))
        return
    await _audit(turn, "survey.extend", {"round": rnd.id, "days": days}, now)
    await turn.reply(
        turn.t(
            "survey.extend.done",
            title=await _title_of(turn, rnd),
            round=rnd.number,
            deadline=cards.format_datetime_ja(new_close),
        )
    )


async def cmd_close(turn: Turn, rest: str) -> None:
    """「サーベイ 締切 [サーベイ名|番号] [第n回]」: the confirmation (締め切る / 取消) first."""
    rnd = await _round_arg(turn, parse_round_words(rest) or RoundWords("", None, ()), "survey.close.ask")
    if rnd is None:
        return
    await _ask_close(turn, rnd)


async def _ask_close(turn: Turn, rnd: SurveyRound) -> None:
    if rnd.status != "open":
        await turn.reply(turn.t("survey.err.not_open"))
        return
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    await turn.reply_card(
        cards.confirm_close_card(survey, rnd, turn.locale), text=turn.t("survey.close.confirm_title")
    )


@router.action("survey.close.ask", role=Role.AUTHOR)
async def on_close_ask(turn: Turn, data: dict[str, Any]) -> None:
    rnd = await _round_of_data(turn, data)
    if rnd is None:
        return
    await _ask_close(turn, rnd)


@router.action("survey.close", role=Role.AUTHOR)
async def on_close(turn: Turn, data: dict[str, Any]) -> None:
    rnd = await _round_of_card(turn, data)
    if rnd is None:
        return
    now = turn.services.clock()
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    name = cards.round_name(survey, rnd, turn.locale)
    if not await service.close_round(turn.session, rnd, now, turn.services.settings, early=True):
        await turn.reply(turn.t("survey.err.not_open"))
        return
    await _audit(turn, "survey.close", {"round": rnd.id}, now)
    # close_round posts the results card to the DX division (the destination conversation, else each
    # admin's chat). Here it is shown only when this conversation is not one of those: one card each.
    recipients = await service.results_recipients(turn.session, turn.services.settings)
    here = any(
        r.conversation_id == turn.conversation.id
        or (turn.conversation.type == "personal" and r.person_id and r.person_id == turn.identity.person_id)
        for r in recipients
    )
    message = turn.t("survey.close.done", name=name) + turn.t(
        "survey.close.results_here" if here else "survey.close.results_elsewhere"
    )
    await _show(turn, cards.note_card(turn.t("survey.close.done_title"), message), message)
    if not here:
        await _send_results(turn, rnd)


@router.action("survey.close.cancel", role=Role.AUTHOR)
async def on_close_cancel(turn: Turn, data: dict[str, Any]) -> None:
    rnd = await _round_of_card(turn, data)
    if rnd is None:
        return
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    name = cards.round_name(survey, rnd, turn.locale)
    if rnd.status == "open":
        message = turn.t("survey.close.cancelled", name=name, deadline=cards.deadline(rnd, turn.locale))
    else:
        message = turn.t("survey.close.cancel_too_late", name=name)
    await _show(turn, cards.note_card(turn.t("survey.close.cancelled_title"), message), message)


async def cmd_remind(turn: Turn, rest: str) -> None:
    """「サーベイ 督促 [サーベイ名|番号] [第n回]」: remind who has not answered, now."""
    rnd = await _round_arg(turn, parse_round_words(rest) or RoundWords("", None, ()), "survey.remind")
    if rnd is None:
        return
    await _remind(turn, rnd)


@router.action("survey.remind", role=Role.AUTHOR)
async def on_remind(turn: Turn, data: dict[str, Any]) -> None:
    rnd = await _round_of_data(turn, data)
    if rnd is None:
        return
    await _remind(turn, rnd)


async def _remind(turn: Turn, rnd: SurveyRound) -> None:
    now = turn.services.clock()
    if rnd.status != "open":
        await turn.reply(turn.t("survey.err.not_open"))
        return
    outcome = await service.remind_now(turn.session, rnd, now, turn.services.settings)
    await _audit(
        turn,
        "survey.remind",
        {"round": rnd.id, "pending": outcome.pending, "sent": outcome.queued},
        now,
    )
    if not outcome.pending:
        await turn.reply(turn.t("survey.remind.nobody"))
    elif not outcome.queued:
        await turn.reply(turn.t("survey.remind.none_reachable", pending=outcome.pending))
    else:
        message = turn.t("survey.remind.done", pending=outcome.pending, queued=outcome.queued)
        if outcome.unreachable:
            message += turn.t("survey.remind.unreachable", n=outcome.unreachable)
        await turn.reply(message)


async def cmd_results(turn: Turn, rest: str) -> None:
    """「サーベイ 結果 [サーベイ名|番号] [第n回]」: that round, else the latest closed round of the survey
    named (asked when unclear)."""
    words = parse_round_words(rest) or RoundWords("", None, ())
    name = words.survey
    if name and (_int(fold(name)) is not None or words.number is not None):
        survey = await _named_survey(turn, name, "survey.results", {"number": words.number})
        if survey is not None:
            await _survey_results(turn, survey, words.number)
        return
    if name:
        matches = await find_surveys(turn, name)
    else:  # no name: the surveys that have been run; one is shown, several are asked about
        matches = list(
            (
                await turn.session.scalars(
                    select(Survey)
                    .where(
                        Survey.archived.is_(False),
                        Survey.id.in_(select(SurveyRound.survey_id).where(SurveyRound.status != "cancelled")),
                    )
                    .order_by(Survey.id)
                )
            ).all()
        )
        if not matches:
            await turn.reply(turn.t("survey.results.none"))
            return
    if len(matches) == 1:
        await _survey_results(turn, matches[0])
        return
    await _choose_survey(turn, name, matches, "survey.results")


@router.action("survey.results", role=Role.AUTHOR)
async def on_results(turn: Turn, data: dict[str, Any]) -> None:
    if data.get("survey") is not None:
        survey = await turn.session.get(Survey, _int(data.get("survey")) or 0)
        if survey is None:
            await turn.reply(turn.t("survey.err.no_survey"))
            return
        await _survey_results(turn, survey, _int(data.get("number")))
        return
    rnd = await _round_of_card(turn, data)
    if rnd is not None:
        await _closed_results(turn, rnd)


async def _closed_results(turn: Turn, rnd: SurveyRound) -> None:
    if rnd.status != "closed":
        survey = await turn.session.get(Survey, rnd.survey_id)
        assert survey is not None
        await turn.reply(turn.t("survey.results.not_closed", name=cards.round_name(survey, rnd, turn.locale)))
        return
    await _send_results(turn, rnd)


async def _survey_results(turn: Turn, survey: Survey, number: int | None = None) -> None:
    """第``number``回 of ``survey``, else its latest closed round, with a button to the running round's
    回答状況."""
    if number is not None:
        rnd = await _round_in(turn, survey, number, ("closed",))
        if rnd is not None:
            await _closed_results(turn, rnd)
        return
    closed = await service.latest_round(turn.session, survey.id, ("closed",))
    running = await service.latest_round(turn.session, survey.id, ("open",))
    if closed is None:
        if running is None:
            await turn.reply(turn.t("survey.results.never", title=survey.title))
            return
        await turn.reply(
            turn.t("survey.results.only_running", name=cards.round_name(survey, running, turn.locale))
        )
        await _status(turn, running)
        return
    await _send_results(turn, closed, running=running)


async def _send_results(turn: Turn, rnd: SurveyRound, running: SurveyRound | None = None) -> None:
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    res = await compute_results(turn.session, rnd.id)
    trend = await compute_trend(turn.session, survey.id, upto_round=rnd.id)
    card = cards.results_card(
        survey,
        rnd,
        res,
        turn.services.settings,
        turn.locale,
        trend=trend,
        now=turn.services.clock(),
        running=running,
    )
    await turn.reply_card(card, text=cards.results_preview(survey, rnd, res, turn.locale))


async def cmd_threshold(turn: Turn, rest: str) -> None:
    survey = await _survey_arg(turn, rest)
    if survey is None:
        return
    parts = rest.split()
    value = _int(parts[1]) if len(parts) > 1 else None
    if value is None or not 3 <= value <= 25:
        await turn.reply(turn.t("survey.threshold.usage"))
        return
    survey.threshold = value
    await _audit(turn, "survey.threshold", {"survey": survey.id, "threshold": value})
    await turn.reply(turn.t("survey.threshold.done", title=survey.title, k=value))


async def cmd_tools(turn: Turn, rest: str) -> None:
    survey = await _survey_arg(turn, rest)
    if survey is None:
        return
    parts = rest.split(maxsplit=1)
    names = [n.strip() for n in re.split(r"[、,，]", parts[1] if len(parts) > 1 else "") if n.strip()]
    if not names or len(names) > 30:
        current = "、".join(q.get("tool") for q in survey.questions if q.get("tool")) or "—"
        await turn.reply(turn.t("survey.tools.usage", current=current))
        return
    others = [q for q in survey.questions if not q.get("tool")]
    survey.questions = tool_questions(names) + others
    await _audit(turn, "survey.tools", {"survey": survey.id, "tools": names})
    await turn.reply(turn.t("survey.tools.done", title=survey.title, tools="、".join(names)))


async def cmd_destination(turn: Turn, _: str) -> None:
    setting = await turn.session.get(AppSetting, service.RESULTS_SETTING)
    value = {"conversation_id": turn.conversation.id, "type": turn.conversation.type}
    if setting is None:
        turn.session.add(AppSetting(key=service.RESULTS_SETTING, value=value))
    else:
        setting.value = value
    await _audit(turn, "survey.destination", {"type": turn.conversation.type})
    await turn.reply(turn.t("survey.destination.done"))


# --- 回答状況 -----------------------------------------------------------------------------------------


@router.command("回答状況", "response rate", role=Role.AUTHOR, help_key="survey.cmd.status", usage="回答状況")
async def status_command(turn: Turn, args: str) -> None:
    """「回答状況 [サーベイ名|番号] [第n回]」: that survey's running round (or 第n回); alone, every running
    round."""
    if args.strip():
        rnd = await _round_arg(turn, parse_round_words(args) or RoundWords("", None, ()), "survey.status")
        rounds = [rnd] if rnd else []
        if not rounds:
            return
    else:
        rounds = list(
            (
                await turn.session.scalars(
                    select(SurveyRound).where(SurveyRound.status == "open").order_by(SurveyRound.id)
                )
            ).all()
        )
        if not rounds:
            await turn.reply(turn.t("survey.status.none"))
            return
    for rnd in rounds:
        await _status(turn, rnd)


@router.action("survey.status", role=Role.AUTHOR)
async def on_status(turn: Turn, data: dict[str, Any]) -> None:
    rnd = await _round_of_data(turn, data)
    if rnd is None:
        return
    card = await _status_card(turn, rnd)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card)


async def _audit(turn: Turn, action: str, detail: dict[str, Any], now: datetime | None = None) -> None:
    """Who changed which survey setting, in the audit log the admins read."""
    await service.audit(
        turn.session,
        turn.identity.person_id,
        turn.identity.email or "teams",
        action,
        detail,
        now or turn.services.clock(),
    )


async def _title_of(turn: Turn, rnd: SurveyRound) -> str:
    survey = await turn.session.get(Survey, rnd.survey_id)
    return survey.title if survey else ""


async def _round_of_card(turn: Turn, data: dict[str, Any]) -> SurveyRound | None:
    """The round a card button names, or None after telling the presser it is gone."""
    rnd = await turn.session.get(SurveyRound, _int(data.get("round")) or 0)
    if rnd is None:
        await turn.reply(turn.t("survey.err.no_round"))
    return rnd


async def _status_card(turn: Turn, rnd: SurveyRound) -> dict[str, Any]:
    survey = await turn.session.get(Survey, rnd.survey_id)
    assert survey is not None
    rates = await response_rates(turn.session, rnd.id)
    if rnd.anonymous:
        rates = participation(rates, rnd.threshold, turn.locale)
    reach = await service.round_reach(turn.session, rnd)
    return cards.status_card(survey.title, rnd.label, rnd, rates, reach, turn.locale)


async def _status(turn: Turn, rnd: SurveyRound) -> None:
    card = await _status_card(turn, rnd)
    rates = await response_rates(turn.session, rnd.id)
    await turn.reply_card(
        card,
        text=turn.t(
            "survey.status.preview",
            rate=cards.pct(rates[0].rate),
            n=rates[0].responded,
            total=rates[0].invited,
        ),
    )
