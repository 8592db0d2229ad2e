"""Hours saved add up per section, department, tool and fiscal year (April–March), on SQLite and
PostgreSQL; only published cases count; the Excel import is all rows or none."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from dialogs.cases import service
from dialogs.cases.importer import import_cases, read_xlsx
from storage.db import make_engine, make_sessionmaker
from storage.models import Department, ImprovementCase, Section

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 12, 1, 1, tzinfo=UTC)


async def _city(session):
    homes = {}
    for dname, sections in [("総務部", ["総務課", "人事課"]), ("財務部", ["税務課"])]:
        d = Department(name=dname)
        session.add(d)
        await session.flush()
        for sname in sections:
            s = Section(department_id=d.id, name=sname)
            session.add(s)
            await session.flush()
            homes[sname] = service.Home(s.id, d.id, sname, dname)
    return homes


def _case(tools, before, after, started, staff=5):
    return service.CaseInput("t", "", tools, "w", before, after, staff, started)


async def test_sums_per_section_department_tool_and_fiscal_year(db_url):
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            homes = await _city(s)
            plan = [
                ("総務課", ["RPA"], 100, 40, date(2026, 3, 31), True),  # FY2025 (the last day of March)
                ("総務課", ["RPA", "AI-OCR"], 50, 20, date(2026, 4, 1), True),  # FY2026 (the first of April)
                ("人事課", ["生成AI"], 10, 4, date(2026, 5, 1), True),
                ("税務課", ["AI-OCR"], 80, 30, date(2025, 4, 1), True),
                ("税務課", ["RPA"], 999, 0, date(2026, 6, 1), False),  # waiting for review: not counted
            ]
            for sec, tools, before, after, started, published in plan:
                case = await service.submit(s, _case(tools, before, after, started), homes[sec], None, NOW)
                if published:
                    service.publish(case, None, NOW)
                elif sec == "税務課":
                    service.send_back(case, None, "根拠を", NOW)
        async with make_sessionmaker(engine)() as s:
            years = {r.key: (r.hours_per_month, r.cases) for r in await service.savings(s, "fiscal_year")}
            assert years == {2025: (110.0, 2), 2026: (36.0, 2)}
            tools = {r.label: (r.hours_per_month, r.cases) for r in await service.savings(s, "tool")}
            assert tools == {"RPA": (90.0, 2), "AI-OCR": (80.0, 2), "生成AI": (6.0, 1)}
            depts = {r.label: r.hours_per_month for r in await service.savings(s, "department", 2026)}
            assert depts == {"総務部": 36.0}
            sections = [(r.label, r.hours_per_month) for r in await service.savings(s, "section")]
            assert sections == [("総務部 総務課", 90.0), ("財務部 税務課", 50.0), ("総務部 人事課", 6.0)]
            assert await service.total_saved(s) == (146.0, 4)
            assert await service.total_saved(s, 2025) == (110.0, 2)
    finally:
        await engine.dispose()


async def test_hours_must_be_sane_numbers():
    tools = ["RPA", "生成AI"]
    base = {"title": "x", "work": "y", "tools": "RPA", "staff": "2", "started_on": "2026-04-01"}
    case, problems = service.validate({**base, "hours_before": "10000", "hours_after": "10"}, tools)
    assert case is None and [k for k, _ in problems] == ["cases.error.hours_insane"]
    assert problems[0][1]["limit"] == "320"
    case, problems = service.validate({**base, "hours_before": "３００", "hours_after": "10"}, tools)
    assert case is not None and case.hours_before == 300  # full-width digits are numbers too
    for bad in ("abc", "-5", "nan", "inf"):
        case, problems = service.validate({**base, "hours_before": bad, "hours_after": "1"}, tools)
        assert case is None and problems[0][0] == "cases.error.not_hours", bad
    case, problems = service.validate({**base, "hours_before": "5", "hours_after": "8"}, tools)
    assert [k for k, _ in problems] == ["cases.error.after_more"]
    case, problems = service.validate({**base, "minutes_before": "30", "hours_after": "1"}, tools)
    assert [k for k, _ in problems] == ["cases.error.minutes_times"]
    case, problems = service.validate(
        {**base, "tools": "Excelマクロ", "hours_before": "5", "hours_after": "1"}, tools
    )
    assert [k for k, _ in problems] == ["cases.error.tool_unknown"]
    case, problems = service.validate(
        {**base, "staff": "0", "hours_before": "5", "hours_after": "1", "started_on": "2099-01-01"},
        tools,
        date(2026, 12, 1),
    )
    assert {k for k, _ in problems} == {"cases.error.staff", "cases.error.date_future"}


def _xlsx(rows):
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HEADER = ["部", "課", "事例名", "対象業務", "ツール", "改善前時間", "改善後時間", "人数", "実施日"]


async def test_import_all_rows_or_none(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await _city(s)
        bad = [
            HEADER,
            ["総務部", "総務課", "照合をRPAで", "照合", "RPA", 40, 10, 3, datetime(2025, 5, 1)],
            ["財務部", "存在しない課", "x", "y", "RPA", 4, 1, 1, "2025-05-01"],
            ["財務部", "税務課", "多すぎる", "入力", "RPA、AI-OCR", 10000, 10, 2, "2025-05-01"],
        ]
        async with make_sessionmaker(engine)() as s, s.begin():
            problems, count = await import_cases(s, read_xlsx(_xlsx(bad)), NOW)
        assert count == 0 and len(problems) == 2
        assert "3行目" in problems[0] and "存在しない課" in problems[0]
        assert "4行目" in problems[1] and "2人で働ける時間" in problems[1]
        async with make_sessionmaker(engine)() as s:
            assert await s.scalar(select(func.count()).select_from(ImprovementCase)) == 0
        good = [
            bad[0],
            bad[1],
            ["財務部", "税務課", "入力をAI-OCRで", "入力", "RPA、AI-OCR", 60, 10, 2, "2025-05-01"],
        ]
        async with make_sessionmaker(engine)() as s, s.begin():
            problems, count = await import_cases(s, read_xlsx(_xlsx(good)), NOW)
        assert (problems, count) == ([], 2)
        async with make_sessionmaker(engine)() as s:
            assert await service.total_saved(s, 2025) == (80.0, 2)
            cases = (await s.scalars(select(ImprovementCase).order_by(ImprovementCase.id))).all()
            assert [c.tools for c in cases] == [["RPA"], ["RPA", "AI-OCR"]]
            assert {c.state for c in cases} == {"published"}
        problems, _ = await import_cases(None, read_xlsx(_xlsx([["部", "課"]])), NOW)  # type: ignore[arg-type]
        assert "事例名" in problems[0]
    finally:
        await engine.dispose()
