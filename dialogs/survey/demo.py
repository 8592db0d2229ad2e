"""Demo data for ``dxbot seed-demo``: twelve monthly rounds of DXマインド (anonymous) and ツール活用
(named) for the demo city's promoters, run after the roster's seed. Nothing is sent to anyone.

The answers are made up but plausible: mindset improves slowly, generative AI and e-applications
spread, and one department dips in the latest round so the results show a flagged drop.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bot.api import Services
from dialogs.kit.business_days import JST
from dialogs.survey import anonymity, service
from dialogs.survey.jobs import recurrence_of
from dialogs.survey.schedule import (
    DEFAULT_REMINDERS,
    Recurrence,
    closes_at,
    next_fire,
    reminder_plan,
    round_label,
)
from dialogs.survey.templates import TEMPLATES
from storage.models import (
    Department,
    Survey,
    SurveyAnswerValue,
    SurveyRecipient,
    SurveyResponse,
    SurveyRound,
    SurveySchedule,
)

ROUNDS = 12
TOOL_BASE = {  # share using weekly or more a year ago, and the gain over the year
    "t_chat": (0.55, 0.25),
    "t_webmeeting": (0.45, 0.2),
    "t_coedit": (0.2, 0.3),
    "t_eapply": (0.15, 0.25),
    "t_rpa": (0.08, 0.1),
    "t_aiocr": (0.05, 0.08),
    "t_lowcode": (0.03, 0.1),
    "t_genai": (0.05, 0.45),
    "t_paperless": (0.15, 0.2),
}
COMMENTS = [
    "生成AIの使い方の研修をもっと増やしてほしいです。",
    "共同編集で資料作成の時間が減りました。",
    "電子申請の問い合わせ対応が増えて、正直負担です。",
    "上司の理解が進んできたと感じます。",
    "RPAのシナリオを作る時間が取れません。",
    "ペーパーレス会議に慣れてきました。",
    "DX推進課の相談窓口が助かっています。",
]


def _frequency(rng: random.Random, p_adopt: float) -> str:
    if rng.random() < p_adopt:
        return "daily" if rng.random() < 0.45 else "weekly"
    return rng.choices(["monthly", "never", "unknown"], weights=[4, 4, 1])[0]


def _scale(rng: random.Random, mean: float) -> float:
    return float(min(5, max(1, round(rng.gauss(mean, 0.9)))))


async def _create(session: Any, key: str, now: datetime, threshold: int) -> Survey:
    tpl = TEMPLATES[key]
    return await service.create_survey(
        session,
        title=tpl.name,
        questions=tpl.questions(),
        anonymous=tpl.anonymous,
        threshold=threshold,
        template=key,
        description=tpl.description,
        now=now,
    )


async def seed_demo(services: Services, only_if_empty: bool) -> None:
    now = services.clock()
    rng = random.Random(2026)
    async with services.sessionmaker() as session, session.begin():
        if await session.scalar(select(func.count()).select_from(Survey)):
            if only_if_empty:
                print(
                    "サーベイが登録済みのため、デモの回答は登録しませんでした。 / Surveys exist; survey demo not seeded."
                )
                return
        if not await session.scalar(select(func.count()).select_from(Department)):
            print("名簿が空のため、サーベイのデモは登録しません。 / Roster is empty; survey demo not seeded.")
            return
        members = await service.resolve_audience(session, {}, now.astimezone(JST).date())
        if not members:
            print(
                "推進員がいないため、サーベイのデモは登録しません。 / No promoters; survey demo not seeded."
            )
            return
        threshold = services.settings.survey_threshold
        mindset = await _create(session, "mindset", now, threshold)
        tools = await _create(session, "tools", now, threshold)
        rec = Recurrence("monthly", 2, "10:00")
        dept_ids = sorted({m.department_id for m in members})
        dipping = dept_ids[len(dept_ids) // 3] if dept_ids else None
        for survey in (mindset, tools):
            schedule = SurveySchedule(
                survey_id=survey.id,
                kind="monthly",
                nth_business_day=2,
                at_time="10:00",
                audience=service.normalise_audience({}),
                window_business_days=5,
                close_time="17:00",
                reminders=list(DEFAULT_REMINDERS),
                active=True,
                next_run_at=next_fire(rec, now),
                created_at=now,
            )
            session.add(schedule)
            await session.flush()
            # Twelve past openings, the latest one already closed.
            fires: list[datetime] = []
            probe = now - timedelta(days=31 * (ROUNDS + 1))
            while len(fires) < ROUNDS + 2:
                probe = next_fire(recurrence_of(schedule), probe)
                fires.append(probe)
            fires = [f for f in fires if closes_at(f, 5) < now][-ROUNDS:]
            for number, opened in enumerate(fires, start=1):
                await _seed_round(session, survey, schedule, number, opened, members, rng, dipping)
    print(f"サーベイのデモを登録しました: DXマインド・ツール活用 各{ROUNDS}回分。 / Survey demo seeded.")


async def _seed_round(
    session: Any,
    survey: Survey,
    schedule: SurveySchedule,
    number: int,
    opened: datetime,
    members: list[service.AudienceMember],
    rng: random.Random,
    dipping: int | None,
) -> None:
    closing = closes_at(opened, schedule.window_business_days, schedule.close_time)
    triples = [(m.department_id, m.section_id, m.role) for m in members]
    mapping = anonymity.generalise(triples, survey.threshold) if survey.anonymous else {}
    rnd = SurveyRound(
        survey_id=survey.id,
        schedule_id=schedule.id,
        number=number,
        label=round_label(opened),
        status="closed",
        open_at=opened,
        opened_at=opened,
        closes_at=closing,
        closed_at=closing,
        questions=list(survey.questions),
        anonymous=survey.anonymous,
        threshold=survey.threshold,
        audience=dict(schedule.audience),
        window_business_days=schedule.window_business_days,
        close_time=schedule.close_time,
        reminder_rules=list(schedule.reminders),
        reminder_plan=[p.isoformat() for p in reminder_plan(opened, closing, schedule.reminders)],
        reminders_done=len(schedule.reminders),
        granularity={"map": anonymity.to_json(mapping)} if mapping else {},
        invited=len(members),
        sealed=False,
        results_posted_at=closing,
        created_at=opened,
    )
    session.add(rnd)
    await session.flush()
    progress = (number - 1) / max(ROUNDS - 1, 1)  # 0 … 1 over the year
    rate = 0.68 + 0.18 * progress + rng.uniform(-0.04, 0.04)
    recipients, responses, values = [], [], []
    for m in members:
        answered = rng.random() < rate
        recipients.append(
            {
                "round_id": rnd.id,
                "person_id": m.person_id,
                "department_id": m.department_id,
                "section_id": m.section_id,
                "role": m.role,
                "responded": answered,
                "reminders_sent": 0 if answered else 2,
            }
        )
        if not answered:
            continue
        rid = secrets.token_hex(16)
        if survey.anonymous:
            dept, section, role = mapping[(m.department_id, m.section_id, m.role)]
            responses.append(
                {"id": rid, "round_id": rnd.id, "department_id": dept, "section_id": section, "role": role,
                 "person_id": None, "submitted_at": None, "edit_key_hash": secrets.token_hex(32)}
            )  # fmt: skip
        else:
            responses.append(
                {"id": rid, "round_id": rnd.id, "department_id": m.department_id, "section_id": m.section_id,
                 "role": m.role, "person_id": m.person_id, "submitted_at": opened + timedelta(hours=rng.randint(1, 70)),
                 "edit_key_hash": None}
            )  # fmt: skip
        for q in survey.questions:
            base = {
                "response_id": rid,
                "question_key": q["key"],
                "seq": 0,
                "num": None,
                "choice": None,
                "text": None,
            }
            if q["type"] == "scale5":
                mean = 3.0 + 0.6 * progress + (0.25 if m.role == "leader" else 0.0)
                if dipping is not None and m.department_id == dipping and number == ROUNDS:
                    mean -= 1.1
                values.append({**base, "num": _scale(rng, mean)})
            elif q.get("tool"):
                start, gain = TOOL_BASE.get(q["key"], (0.2, 0.1))
                section_bias = ((m.section_id * 37) % 11 - 5) / 40
                values.append(
                    {
                        **base,
                        "choice": _frequency(
                            rng, min(0.95, max(0.0, start + gain * progress + section_bias))
                        ),
                    }
                )
            elif q["type"] == "text" and rng.random() < 0.2:
                values.append({**base, "text": rng.choice(COMMENTS)})
    await session.execute(insert(SurveyRecipient), recipients)
    if responses:
        await session.execute(insert(SurveyResponse), responses)
    if values:
        await session.execute(insert(SurveyAnswerValue), values)
    await service.seal(session, rnd)
