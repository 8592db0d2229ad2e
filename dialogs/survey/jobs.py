"""The round scheduler: a database-polled loop, safe with several bot processes.

Each pass (``tick``) does four things, each claimed with a conditional UPDATE in its own
transaction, so it happens once however many processes run and is picked up again after a restart:

1. schedules whose ``next_run_at`` has come create their round (a stopped bot catches up with the
   latest missed opening whose answer window is still running, marked late; older ones are skipped);
2. scheduled rounds whose time has come open and queue invitations (delivery engine);
3. due reminders are queued to those who have not answered;
4. rounds past their closing time close and their results are posted to the DX division.

    await tick(services)               # tests call it on a frozen clock
    Job("survey-scheduler", run)       # the app runs it every DXBOT_SURVEY_POLL_SECONDS
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.api import Services
from dialogs.survey import service
from dialogs.survey.schedule import Recurrence, closes_at, fires_between, next_fire
from storage.models import Survey, SurveyRound, SurveySchedule

log = logging.getLogger(__name__)
LATE_AFTER = timedelta(minutes=15)


@dataclass
class TickReport:
    created: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    reminded: dict[int, int] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)
    skipped: int = 0


def recurrence_of(s: SurveySchedule) -> Recurrence:
    return Recurrence(s.kind, s.nth_business_day, s.at_time, s.cron)


async def _fire_schedules(services: Services, now: datetime, report: TickReport) -> None:
    async with services.sessionmaker() as session:
        due = (
            (
                await session.execute(
                    select(SurveySchedule.id).where(
                        SurveySchedule.active.is_(True), SurveySchedule.next_run_at <= now
                    )
                )
            )
            .scalars()
            .all()
        )
    for schedule_id in due:
        async with services.sessionmaker() as session, session.begin():
            sched = await session.get(SurveySchedule, schedule_id)
            if sched is None or sched.next_run_at is None or sched.next_run_at > now or not sched.active:
                continue
            rec = recurrence_of(sched)
            planned = sched.next_run_at
            missed = [planned, *fires_between(rec, planned, now)]
            upcoming = next_fire(rec, now)
            claim = await session.execute(
                update(SurveySchedule)
                .where(SurveySchedule.id == sched.id, SurveySchedule.next_run_at == planned)
                .values(next_run_at=upcoming, last_run_at=now)
                .execution_options(synchronize_session=False)
            )
            if claim.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another process took it
            # The latest missed opening whose window still runs; older ones would only confuse.
            fire = None
            for candidate in reversed(missed):
                if closes_at(candidate, sched.window_business_days, sched.close_time) > now:
                    fire = candidate
                    break
            report.skipped += len(missed) - (1 if fire else 0)
            if fire is None:
                log.warning("survey schedule %s: missed openings skipped (windows already over)", sched.id)
                continue
            exists = await session.scalar(
                select(SurveyRound.id).where(SurveyRound.schedule_id == sched.id, SurveyRound.open_at == fire)
            )
            if exists:
                continue
            survey = await session.get(Survey, sched.survey_id)
            if survey is None or survey.archived:
                continue
            rnd = await service.create_round(
                session, survey, open_at=fire, now=now, schedule=sched, late=now - fire > LATE_AFTER
            )
            report.created.append(rnd.id)


async def _ids(services: Services, *cond: Any) -> list[int]:
    async with services.sessionmaker() as session:
        return list(
            (await session.execute(select(SurveyRound.id).where(*cond).order_by(SurveyRound.id)))
            .scalars()
            .all()
        )


async def tick(services: Services, now: datetime | None = None) -> TickReport:
    now = now or services.clock()
    settings = services.settings
    report = TickReport()
    await _fire_schedules(services, now, report)
    for round_id in await _ids(services, SurveyRound.status == "scheduled", SurveyRound.open_at <= now):
        async with services.sessionmaker() as session, session.begin():
            rnd = await session.get(SurveyRound, round_id)
            if rnd is not None and rnd.status == "scheduled":
                if await service.open_round(session, rnd, now, settings) or rnd.status == "open":
                    report.opened.append(round_id)
    for round_id in await _ids(services, SurveyRound.status == "open", SurveyRound.closes_at <= now):
        async with services.sessionmaker() as session, session.begin():
            rnd = await session.get(SurveyRound, round_id)
            if rnd is not None and await service.close_round(session, rnd, now, settings):
                report.closed.append(round_id)
    for round_id in await _ids(services, SurveyRound.status == "open", SurveyRound.closes_at > now):
        async with services.sessionmaker() as session, session.begin():
            rnd = await session.get(SurveyRound, round_id)
            if rnd is None:
                continue
            outcome = await service.send_reminders(session, rnd, now, settings)
            if outcome.queued:
                report.reminded[round_id] = outcome.queued
    return report


async def run(services: Services, stop: asyncio.Event) -> None:
    """The background job: a pass every ``survey_poll_seconds`` until the app stops."""
    interval = max(1.0, float(services.settings.survey_poll_seconds))
    while not stop.is_set():
        try:
            await tick(services)
        except Exception:  # one bad pass must not end the scheduler; the next pass retries
            log.exception("survey scheduler pass failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
