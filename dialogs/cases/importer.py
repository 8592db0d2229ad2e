"""Cases collected before the bot, from an Excel sheet: all rows or none.

    problems, count = await import_cases(session, rows, now)   # rows: the sheet, header first

Headings (the first row; order free): 部, 課, 事例名, 対象業務, ツール (「RPA、AI-OCR」), 改善前時間,
改善後時間 (hours per month), 人数, 実施日; optional: 取り組んだこと, 資料. Every row is checked exactly
like the Teams form; imported cases are published at once (the DX division collected them).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.cases import service
from dialogs.kit.i18n import t as translate
from storage.models import Department, Section

HEADINGS = {
    "部": "department",
    "課": "section",
    "事例名": "title",
    "取り組んだこと": "description",
    "対象業務": "work",
    "ツール": "tools",
    "改善前時間": "hours_before",
    "改善後時間": "hours_after",
    "人数": "staff",
    "実施日": "started_on",
    "資料": "file_url",
}
REQUIRED = ("部", "課", "事例名", "対象業務", "ツール", "改善前時間", "改善後時間", "人数", "実施日")
MAX_ROWS = 5000


def read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True, max_row=MAX_ROWS + 1)]
    wb.close()
    return rows


async def import_cases(
    session: AsyncSession, rows: list[list[Any]], now: datetime, locale: str = "ja"
) -> tuple[list[str], int]:
    """Check every row, then add them all as published cases; (problems, 0) adds nothing."""

    def t(key: str, **kw: Any) -> str:
        return translate(key, locale, **kw)

    if not rows:
        return [t("cases.import.empty")], 0
    header = [str(c or "").strip() for c in rows[0]]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        return [t("cases.import.header", missing="、".join(missing))], 0
    columns = {HEADINGS[h]: i for i, h in enumerate(header) if h in HEADINGS}
    sections = {
        (d, s): (sid, did)
        for sid, did, s, d in (
            await session.execute(
                select(Section.id, Department.id, Section.name, Department.name).join(
                    Department, Department.id == Section.department_id
                )
            )
        ).all()
    }
    tools = await service.tool_names(session)
    today = now.date()
    problems: list[str] = []
    parsed: list[tuple[service.CaseInput, service.Home]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c not in (None, "") for c in row):
            continue
        form = {key: (row[i] if i < len(row) else None) for key, i in columns.items()}
        dept, sec = str(form.get("department") or "").strip(), str(form.get("section") or "").strip()
        ids = sections.get((dept, sec))
        if ids is None:
            problems.append(t("cases.import.section_unknown", row=number, section=sec, department=dept))
        case, row_problems = service.validate(form, tools, today)
        for key, params in row_problems:
            problems.append(t("cases.import.row", row=number, message=t(key, **params)))
        if case is not None and ids is not None:
            parsed.append((case, service.Home(ids[0], ids[1], sec, dept)))
    if problems:
        return problems, 0
    if not parsed:
        return [t("cases.import.empty")], 0
    for case_input, home in parsed:
        added = await service.submit(session, case_input, home, None, now, source="import")
        service.publish(added, None, now)
    return [], len(parsed)
