"""Rounds, answers, results, trend, exports and the scheduler against the database, on SQLite and
PostgreSQL (``db_url``), through the service layer (no HTTP)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.api import Services
from bot.services import open_services
from dialogs.survey import export, service
from dialogs.survey.jobs import tick
from dialogs.survey.results import compute_results, compute_trend
from dialogs.survey.templates import TEMPLATES
from storage.models import Delivery, Survey, SurveyResponse, SurveyRound, SurveySchedule
from tests.support import settings_for
from tests.survey.helpers import City, answers_for, build_city

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)  # 10:00 JST on the 2nd business day of June
LAYOUT = [
    ("総務部", "総務課", 1, 6),
    ("総務部", "人事課", 1, 5),
    ("総務部", "広報課", 1, 1),
    ("財務部", "税務課", 1, 5),
    ("財務部", "収納課", 1, 1),
]


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async with open_services(settings_for(db_url, admins=["dx-admin@demo-city.example.jp"])) as svc:
        yield svc


async def make_city(services: Services) -> City:
    async with services.sessionmaker() as s, s.begin():
        return await build_city(s, "http://127.0.0.1:1/", date(2026, 4, 1), LAYOUT)


async def run_round(
    services: Services,
    city: City,
    survey_key: str,
    opened: datetime,
    scores: dict[str, int],
    skip: set[str] = frozenset(),  # type: ignore[assignment]
) -> int:
    """Open a round, let every promoter of the named sections answer with that score, close it."""
    async with services.sessionmaker() as s, s.begin():
        survey = await s.scalar(select(Survey).where(Survey.template == survey_key))
        if survey is None:
            tpl = TEMPLATES[survey_key]
            survey = await service.create_survey(
                s,
                title=tpl.name,
                questions=tpl.questions(),
                anonymous=tpl.anonymous,
                template=survey_key,
                now=opened,
            )
        rnd = await service.create_round(s, survey, open_at=opened, now=opened, window_business_days=3)
        await service.open_round(s, rnd, opened, services.settings)
        recipients = {r.person_id: r.id for r in await _recipients(s, rnd.id)}
    for m in city.members:
        if m.section not in scores or m.person_id in skip:
            continue
        async with services.sessionmaker() as s, s.begin():
            data = {
                "round": rnd.id,
                "rcp": recipients[m.person_id],
                **answers_for(rnd.questions, scores[m.section]),
            }
            if survey_key == "tools":
                data.update(
                    {
                        k: ("weekly" if scores[m.section] >= 4 else "never")
                        for k in data
                        if k.startswith("q.t_")
                    }
                )
            await service.submit_answer(
                s,
                data,
                person_id=m.person_id,
                reply_to_id=None,
                now=opened + timedelta(hours=1),
                secret_key=services.settings.secret_key,
            )
    async with services.sessionmaker() as s, s.begin():
        rnd = await s.get(SurveyRound, rnd.id)
        assert rnd is not None
        await service.close_round(s, rnd, rnd.closes_at, services.settings)
    return rnd.id


async def _recipients(session: Any, round_id: int) -> list[Any]:
    from storage.models import SurveyRecipient

    return list(
        (await session.scalars(select(SurveyRecipient).where(SurveyRecipient.round_id == round_id))).all()
    )


async def test_results_are_aggregated_and_small_groups_suppressed(services: Services) -> None:
    city = await make_city(services)
    scores = {"総務課": 5, "人事課": 2, "広報課": 4, "税務課": 3, "収納課": 1}
    rid = await run_round(services, city, "mindset", NOW, scores)
    async with services.sessionmaker() as s:
        res = await compute_results(s, rid)
    assert (res.invited, res.responded) == (23, 23)
    sec = {name: res.groups.get(f"s:{city.sections[name]}") for name in scores}
    assert sec["総務課"] is not None and not sec["総務課"].suppressed  # 7 answers
    m1 = sec["総務課"].stats["m1"]
    assert (m1.n, m1.mean, m1.favourable, m1.unfavourable) == (7, 5.0, 1.0, 0.0)
    # 広報課 and 収納課 (2 each) would be recognisable next to their departments' other sections, so
    # those are stored and shown at department level only.
    for pooled in ("人事課", "広報課", "税務課", "収納課"):
        assert sec[pooled] is None or sec[pooled].suppressed
    somu = res.groups[f"d:{city.departments['総務部']}"]
    zaimu = res.groups[f"d:{city.departments['財務部']}"]
    assert (somu.respondents, somu.stats["m1"].mean) == (15, pytest.approx(55 / 15))
    assert (zaimu.respondents, zaimu.stats["m1"].mean) == (8, 2.5)
    overall = res.overall.stats["m1"]
    assert overall.n == 23 and overall.dist == {"5": 7, "2": 6, "4": 2, "3": 6, "1": 2}
    assert overall.favourable == pytest.approx(9 / 23)
    # Participation of an anonymous round: 広報課 and 収納課 (asked 2 each) are not shown on their own
    # (「広報課 2/2」 says both answered); 人事課 joins 広報課 so that 総務部 minus 総務課 reveals
    # nothing small, and 税務課 is not shown since 財務部 minus it would be 収納課.
    rates = {r.name: (r.invited, r.responded) for r in res.rates}
    assert rates == {
        "全体": (23, 23),
        "総務部": (15, 15),
        "財務部": (8, 8),
        "総務課": (7, 7),
        "総務部のその他の課(少人数)": (8, 8),
    }


def test_a_parent_minus_its_shown_children_never_leaves_a_small_remainder() -> None:
    from dialogs.survey.results import Group, suppress

    groups = {
        "all": Group("all", "all", "全体", 20),
        "d:1": Group("d:1", "department", "総務部", 8),
        "d:2": Group("d:2", "department", "財務部", 12),
        "s:1": Group("s:1", "section", "総務課", 6, parent="d:1"),
        "s:2": Group("s:2", "section", "広報課", 2, parent="d:1"),
        "s:3": Group("s:3", "section", "税務課", 12, parent="d:2"),
    }
    suppress(groups, 5)
    assert groups["s:2"].suppressed and groups["s:1"].suppressed  # 8 − 6 = 2 would give 広報課 away
    assert not groups["d:1"].suppressed and not groups["s:3"].suppressed  # 12 − 12 = 0 is fine


async def test_trend_marks_changes_and_flags_notable_drops(services: Services) -> None:
    city = await make_city(services)
    first = await run_round(services, city, "mindset", NOW, {"総務課": 5, "人事課": 4, "税務課": 4})
    second = await run_round(
        services, city, "mindset", NOW + timedelta(days=30), {"総務課": 2, "人事課": 4, "税務課": 4}
    )
    async with services.sessionmaker() as s:
        trend = await compute_trend(s, (await s.get(SurveyRound, first)).survey_id)  # type: ignore[union-attr]
    assert [r for r, _ in trend.rounds] == [first, second]
    m1 = trend.overall["m1"]
    assert m1[0].value == 1.0 and m1[1].change == pytest.approx(
        12 / 19 - 1.0
    )  # 総務課 (7) turned unfavourable
    dropped = {(d.name, d.question) for d in trend.drops}
    assert ("総務課", "m1") in dropped and not any(name == "人事課" for name, _ in dropped)


async def test_tool_adoption_by_section_in_a_named_survey(services: Services) -> None:
    city = await make_city(services)
    rid = await run_round(services, city, "tools", NOW, {"総務課": 5, "広報課": 1, "税務課": 4})
    async with services.sessionmaker() as s:
        res = await compute_results(s, rid)
        named = await s.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.person_id.is_not(None))
        )
    assert named == 15  # named survey: answers carry the person
    koho = res.groups[f"s:{city.sections['広報課']}"]
    assert not koho.suppressed and koho.stats["t_genai"].adopted == 0.0  # named: small sections are shown
    assert res.groups[f"s:{city.sections['総務課']}"].stats["t_genai"].adopted == 1.0
    assert res.overall.stats["t_chat"].adopted == pytest.approx(13 / 15)


async def test_exports_escape_formulas_and_hold_no_person(services: Services) -> None:
    city = await make_city(services)
    rid = await run_round(services, city, "mindset", NOW, {"総務課": 4, "人事課": 3})
    async with services.sessionmaker() as s:
        rnd = await s.get(SurveyRound, rid)
        assert rnd is not None
        res = await compute_results(s, rid)
        rows = await export.answer_rows(s, rnd)
    table = list(csv.reader(io.StringIO(export.to_csv(export.aggregate_rows(res)).decode("utf-8-sig"))))
    assert table[0][:4] == ["回", "集計単位", "名称", "回答者数"]
    assert any(row[1] == "課" and row[2] == "総務課" for row in table)
    assert rows[0][:3] == ["部", "課", "役割"] and len(rows) == 1 + 13
    emails = {m.chat.email for m in city.members}
    assert not any(str(cell) in emails for row in rows for cell in row)
    wb = load_workbook(io.BytesIO(export.to_xlsx(rows, "回答")))
    assert wb.active is not None and wb.active.max_row == 14
    assert export.safe("=HYPERLINK(1)") == "'=HYPERLINK(1)" and export.safe("-1") == "'-1"


async def test_scheduler_fires_once_with_two_processes_and_catches_up(
    services: Services, db_url: str
) -> None:
    city = await make_city(services)
    async with services.sessionmaker() as s, s.begin():
        tpl = TEMPLATES["mindset"]
        survey = await service.create_survey(
            s, title=tpl.name, questions=tpl.questions(), anonymous=True, now=NOW
        )
        # The bot was down since before 5/7 10:00 (May's opening) and June's (6/2 10:00).
        s.add(
            SurveySchedule(
                survey_id=survey.id, kind="monthly", nth_business_day=2, at_time="10:00", audience={},
                window_business_days=5, close_time="17:00", reminders=[], active=True,
                next_run_at=datetime(2026, 5, 7, 1, 0, tzinfo=UTC), created_at=NOW,
            )
        )  # fmt: skip
    later = NOW + timedelta(hours=2)  # 12:00 JST on 6/2
    async with open_services(services.settings) as other:
        reports = await asyncio.gather(tick(services, later), tick(other, later))
    assert sum(len(r.created) for r in reports) == 1
    assert sum(len(r.opened) for r in reports) == 1
    async with services.sessionmaker() as s:
        rounds = (await s.scalars(select(SurveyRound))).all()
        assert len(rounds) == 1
        (rnd,) = rounds
        assert rnd.open_at == NOW and rnd.late and rnd.status == "open"  # June's, not May's
        invites = await s.scalar(select(func.count()).select_from(Delivery).where(Delivery.kind == "survey"))
        assert invites == len(city.members) == rnd.invited
        schedule = await s.scalar(select(SurveySchedule))
        assert schedule is not None and schedule.next_run_at == datetime(2026, 7, 2, 1, 0, tzinfo=UTC)
    # Nothing more to do until the next reminder or closing.
    again = await tick(services, later + timedelta(minutes=1))
    assert (again.created, again.opened, again.closed, again.reminded) == ([], [], [], {})


async def test_results_page_speaks_in_question_text_and_percentages(services: Services) -> None:
    from dialogs.survey.web import render_page

    city = await make_city(services)
    await run_round(services, city, "mindset", NOW, {"総務課": 5, "人事課": 4, "税務課": 4})
    second = await run_round(
        services, city, "mindset", NOW + timedelta(days=30), {"総務課": 2, "人事課": 4, "税務課": 4}
    )
    async with services.sessionmaker() as s:
        rnd = await s.get(SurveyRound, second)
        assert rnd is not None
        res = await compute_results(s, second)
        trend = await compute_trend(s, rnd.survey_id, upto_round=second)
    assert any(d.question == "m1" for d in trend.drops)
    page = render_page(rnd, res, trend, "token", services.settings)
    drops = page.split("前回から大きく下がった部・課", 1)[1].split("</ul>", 1)[0]
    # 「総務課: DXを自分ごととして捉えている 100% → 0%」, not 「総務課: m1 1.00 → 0.00」.
    assert "総務課: DXを自分ごととして捉えている 100% → 0%" in drops
    assert "m1" not in drops and "1.00" not in drops
    # The footnote names the scale's own words.
    assert "「ややそう思う」または「とてもそう思う」" in page and "「そう思う」以上" not in page
    # Response rates of an anonymous survey: 広報課 and 収納課 (asked 2 each) are not listed on their
    # own, on the page or in the export; they are inside 「その他(少人数)」.
    rates_table = page.split("<h2>回答率</h2>", 1)[1]
    exported = [row for row in export.aggregate_rows(res) if len(row) == 5 and row[0] == ""]
    for shown in (rates_table, " ".join(str(row[1]) for row in exported)):
        assert "広報課" not in shown and "収納課" not in shown
        assert "総務部のその他の課(少人数)" in shown


async def test_round_numbers_are_per_survey_and_existing_rounds_are_renumbered(db_url: str) -> None:
    """Old data numbered rounds across all surveys (DXマインド's 2nd round was 「第3回」); the
    migration renumbers them per survey in creation order, and new rounds continue from there."""
    from alembic import command
    from sqlalchemy import insert

    from storage.db import make_engine
    from storage.migrate import alembic_config, upgrade

    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0021_survey_groups_index")
    engine = make_engine(db_url)
    base = {
        "status": "closed", "label": "", "late": False, "questions": [], "anonymous": True,
        "threshold": 5, "audience": {}, "window_business_days": 5, "close_time": "17:00",
        "reminder_rules": [], "reminder_plan": [], "reminders_done": 0, "granularity": {},
        "invited": 0, "sealed": True,
    }  # fmt: skip
    try:
        async with engine.begin() as conn:
            for sid, title in ((1, "DXマインド"), (2, "ツール活用")):
                await conn.execute(
                    insert(Survey.__table__).values(
                        id=sid, title=title, description="", questions=[], anonymous=True,
                        threshold=5, archived=False, created_at=NOW, updated_at=NOW,
                    )
                )  # fmt: skip
            # Created alternately; numbered across all surveys as the old code announced them.
            for i, sid in enumerate((1, 2, 1, 2, 1), start=1):
                at = NOW + timedelta(days=30 * i)
                await conn.execute(
                    insert(SurveyRound.__table__).values(
                        id=10 + i, survey_id=sid, number=i, open_at=at, closes_at=at, created_at=at, **base
                    )
                )
    finally:
        await engine.dispose()
    await upgrade(db_url)
    async with open_services(settings_for(db_url)) as svc:
        async with svc.sessionmaker() as s:
            numbers = [
                (r.survey_id, r.id, r.number)
                for r in (await s.scalars(select(SurveyRound).order_by(SurveyRound.id))).all()
            ]
        assert numbers == [(1, 11, 1), (2, 12, 1), (1, 13, 2), (2, 14, 2), (1, 15, 3)]
        async with svc.sessionmaker() as s, s.begin():
            survey = await s.get(Survey, 1)
            assert survey is not None
            rnd = await service.create_round(s, survey, open_at=NOW, now=NOW)
            assert rnd.number == 4
        # The database itself refuses a second 第4回 of the same survey.
        from sqlalchemy.exc import IntegrityError

        with pytest.raises(IntegrityError):
            async with svc.sessionmaker() as s, s.begin():
                await s.execute(
                    insert(SurveyRound.__table__).values(
                        survey_id=1, number=4, open_at=NOW, closes_at=NOW, created_at=NOW, **base
                    )
                )


async def test_an_open_round_never_stores_a_group_narrower_than_k_respondents(services: Services) -> None:
    """Dump the tables after each answer of an open anonymous round: with the responded flags in
    hand, no stored answer (group and values) narrows to fewer than k people; after closing the
    results are those of everyone who answered."""
    from dialogs.survey.anonymity import is_k_anonymous
    from storage.models import SurveyAnswerValue, SurveyRecipient

    city = await make_city(services)
    k = 5
    async with services.sessionmaker() as s, s.begin():
        tpl = TEMPLATES["mindset"]
        survey = await service.create_survey(
            s, title=tpl.name, questions=tpl.questions(), anonymous=True, threshold=k, now=NOW
        )
        rnd = await service.create_round(s, survey, open_at=NOW, now=NOW, window_business_days=3)
        await service.open_round(s, rnd, NOW, services.settings)
        rcp = {r.person_id: r.id for r in await _recipients(s, rnd.id)}
        questions = rnd.questions
    somu, zeimu = city.by_section("総務課"), city.by_section("税務課")
    comment = "課長が会議で反対していました"

    async def submit(m: Any, score: int, note: str | None = None, key: str | None = None) -> str | None:
        async with services.sessionmaker() as s, s.begin():
            data = {"round": rnd.id, "rcp": rcp[m.person_id], **answers_for(questions, score, note)}
            if key:
                data["key"] = key
            out = await service.submit_answer(
                s, data, person_id=m.person_id, reply_to_id=None, now=NOW + timedelta(hours=1),
                secret_key=services.settings.secret_key,
            )  # fmt: skip
            return out.edit_key

    async def dump() -> tuple[list[tuple[Any, ...]], int, list[tuple[Any, ...]], str]:
        async with services.sessionmaker() as s:
            rows = [
                (r.department_id, r.section_id, r.role)
                for r in (await s.scalars(select(SurveyResponse).where(SurveyResponse.round_id == rnd.id)))
            ]
            values = await s.scalar(select(func.count()).select_from(SurveyAnswerValue))
            flags = [
                (r.department_id, r.section_id, r.role)
                for r in (await s.scalars(select(SurveyRecipient).where(SurveyRecipient.responded.is_(True))))
            ]
            cells = []
            for table in (SurveyResponse.__table__, SurveyAnswerValue.__table__):
                cells += [str(v) for row in (await s.execute(select(table))).all() for v in row]
            everything = " ".join(cells)
        return rows, int(values or 0), flags, everything

    def assert_no_narrowing(rows: list[Any], values: int, flags: list[Any], everything: str) -> None:
        assert len(rows) == len(flags)  # one answer per responded flag
        if len(flags) < k:
            # Fewer than k answers in the whole round: neither a group nor a value is readable.
            assert all(r == (None, None, None) for r in rows) and values == 0
            assert comment not in everything
        else:
            # Every stored group (the all-blank one included) is shared by at least k answers, so
            # with the flags in hand each answer still stands for at least k people.
            assert is_k_anonymous(rows, k), rows

    # The first answer carries a comment that would give its author away.
    key = await submit(zeimu[0], 2, comment)
    assert_no_narrowing(*await dump())
    # The same person changes the answer before anyone else answered: still sealed.
    await submit(zeimu[0], 1, comment, key=key)
    async with services.sessionmaker() as s:
        recipient = await s.get(SurveyRecipient, rcp[zeimu[0].person_id])
        assert recipient is not None
        prefill = await service.previous_values(s, rnd, recipient, key, services.settings.secret_key)
    assert prefill["m1"] == 1.0 and prefill["comment"] == comment
    for m in somu[:3]:
        await submit(m, 4)
        assert_no_narrowing(*await dump())
    for m in [*somu[3:], *zeimu[1:]]:  # 総務課 reaches 7 answers, 税務課 6
        await submit(m, 5 if m.section == "総務課" else 3)
        rows, values, flags, everything = await dump()
        assert_no_narrowing(rows, values, flags, everything)
    # With enough answers the groups come back: 総務課 as itself; 税務課 as 財務部, as the audience
    # allows (収納課's two promoters would be recognisable next to a shown 税務課).
    assert rows.count((city.departments["総務部"], city.sections["総務課"], None)) == 7
    assert rows.count((city.departments["財務部"], None, None)) == 6

    async with services.sessionmaker() as s, s.begin():
        closing = await s.get(SurveyRound, rnd.id)
        assert closing is not None
        await service.close_round(s, closing, closing.closes_at, services.settings)
    async with services.sessionmaker() as s:
        res = await compute_results(s, rnd.id)
        held = await s.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.held.is_not(None))
        )
    assert held == 0  # envelopes are erased at closing
    assert (res.invited, res.responded, res.overall.respondents) == (23, 13, 13)
    somu_group = res.groups[f"s:{city.sections['総務課']}"]
    assert somu_group.stats["m1"].dist == {"4": 3, "5": 4}
    assert res.groups[f"d:{city.departments['財務部']}"].stats["m1"].dist == {"1": 1, "3": 5}
    assert res.comments["comment"] == [comment]


async def test_a_round_closing_with_fewer_than_k_answers_keeps_only_their_count(services: Services) -> None:
    from storage.models import SurveyAnswerValue

    city = await make_city(services)
    rid = await run_round(services, city, "mindset", NOW, {"収納課": 4})  # 2 answers, k = 5
    async with services.sessionmaker() as s:
        res = await compute_results(s, rid)
        stored = await s.scalar(select(func.count()).select_from(SurveyAnswerValue))
        held = await s.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.held.is_not(None))
        )
    assert (res.responded, res.overall.respondents, res.overall.suppressed) == (2, 2, True)
    assert stored == 0 and held == 0


async def test_a_planned_reminder_with_no_one_to_reach_is_not_counted(services: Services) -> None:
    from sqlalchemy import update

    from storage.models import ConversationRef

    await make_city(services)
    async with services.sessionmaker() as s, s.begin():
        tpl = TEMPLATES["mindset"]
        survey = await service.create_survey(
            s, title=tpl.name, questions=tpl.questions(), anonymous=True, now=NOW
        )
        rnd = await service.create_round(
            s, survey, open_at=NOW, now=NOW, window_business_days=3,
            reminders=[{"days_before": 0, "at": "09:00"}],
        )  # fmt: skip
        await service.open_round(s, rnd, NOW, services.settings)
        await s.execute(update(ConversationRef).values(reachable=False))  # nobody can be reached
        due = datetime.fromisoformat(rnd.reminder_plan[0])
    report = await tick(services, due)
    assert report.reminded == {}
    async with services.sessionmaker() as s:
        rnd = await s.get(SurveyRound, rnd.id)
        assert rnd is not None
        reach = await service.round_reach(s, rnd)
        reminders = await s.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.purpose.like("reminder%"))
        )
    assert reminders == 0 and reach.reminders == [] and reach.skipped == 1


async def test_a_new_secret_key_mid_round_loses_sealed_groups_but_not_the_round(services: Services) -> None:
    """An operator rotates DXBOT_SECRET_KEY while a round is open: later answers and the closing
    still work; the answers sealed before count city-wide without their group."""
    city = await make_city(services)
    async with services.sessionmaker() as s, s.begin():
        tpl = TEMPLATES["mindset"]
        survey = await service.create_survey(
            s, title=tpl.name, questions=tpl.questions(), anonymous=True, now=NOW
        )
        rnd = await service.create_round(s, survey, open_at=NOW, now=NOW, window_business_days=3)
        await service.open_round(s, rnd, NOW, services.settings)
        rcp = {r.person_id: r.id for r in await _recipients(s, rnd.id)}
    somu = city.by_section("総務課")
    for i, m in enumerate(somu):
        async with services.sessionmaker() as s, s.begin():
            await service.submit_answer(
                s,
                {"round": rnd.id, "rcp": rcp[m.person_id], **answers_for(rnd.questions, 4)},
                person_id=m.person_id,
                reply_to_id=None,
                now=NOW + timedelta(hours=1),
                secret_key="old-secret" if i < 2 else "new-secret",
            )
    rotated = services.settings.model_copy(update={"secret_key": "new-secret"})
    async with services.sessionmaker() as s, s.begin():
        closing = await s.get(SurveyRound, rnd.id)
        assert closing is not None
        assert await service.close_round(s, closing, closing.closes_at, rotated)
    async with services.sessionmaker() as s:
        res = await compute_results(s, rnd.id)
    assert (res.responded, res.overall.respondents) == (7, 7)
    assert res.overall.stats["m1"].n == 5  # the two answers sealed under the old key are lost
