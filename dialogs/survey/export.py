"""Exports of a closed round: aggregates (suppressed as on screen) and anonymous answers, as CSV
(UTF-8 with BOM, so Excel opens it) and XLSX. Cells that start with = + - @ are escaped so a
spreadsheet never runs them.

    rows = aggregate_rows(results)           # header + rows
    data = to_csv(rows); data = to_xlsx(rows, sheet="集計")
    rows = await answer_rows(session, rnd)   # one row per response, no person
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.kit.i18n import t
from dialogs.survey.questions import parse_questions
from dialogs.survey.results import RoundResults
from storage.models import Department, Section, SurveyAnswerValue, SurveyResponse, SurveyRound

ROLE_JA = {"leader": "リーダー", "subleader": "サブリーダー"}


def safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _pct(value: float | None) -> Any:
    """A share as a percentage (0.8571 -> 85.7), as the results page shows it; empty when absent."""
    return "" if value is None else round(value * 100, 1)


def _mean(value: float | None) -> Any:
    return "" if value is None else round(value, 2)


def aggregate_rows(res: RoundResults, locale: str = "ja") -> list[list[Any]]:
    """The results page as a table for Excel: questions in their own words, shares in percent, and
    groups the page withholds marked (with why), never a figure for them."""

    def w(key: str, **kw: Any) -> str:
        return t(f"survey.export.{key}", locale, **kw)

    header = [
        w("round"),
        w("unit"),
        w("name"),
        w("respondents"),
        w("question"),
        w("answers"),
        w("mean"),
        w("favourable"),
        w("neutral"),
        w("unfavourable"),
        w("adopted"),
        w("note"),
    ]
    rows: list[list[Any]] = [header]
    round_name = t("survey.round.name", locale, title=res.title, number=res.number)
    hidden = w("hidden", k=res.threshold)
    order = {"all": 0, "department": 1, "section": 2, "role": 3}
    groups = sorted(res.groups.values(), key=lambda g: order[g.kind])  # within a kind: roster order
    for g in groups:
        name = w(f"role.{g.name}") if g.kind == "role" and g.name in ROLE_JA else g.name
        unit = w(f"unit.{g.kind}")
        for q in res.questions:
            if q.type == "text":
                continue
            question = q.tool or q.label(locale)
            s = g.stats.get(q.key)
            if g.suppressed:
                rows.append([round_name, unit, name, "", question, "", "", "", "", "", "", hidden])
                continue
            if s is None:
                continue
            scale = q.type == "scale5"
            rows.append(
                [
                    round_name,
                    unit,
                    name,
                    g.respondents,
                    question,
                    s.n,
                    _mean(s.mean),
                    _pct(s.favourable) if scale else "",
                    _pct(s.neutral) if scale else "",
                    _pct(s.unfavourable) if scale else "",
                    _pct(s.adopted) if q.tool else "",
                    "",
                ]
            )
    rows.append([])
    rows.append([w("rates"), w("name"), w("invited"), w("respondents"), w("rate")])
    for rate in res.rates:
        rows.append(["", rate.name, rate.invited, rate.responded, _pct(rate.rate)])
    return [[safe(c) for c in row] for row in rows]


async def answer_rows(session: AsyncSession, rnd: SurveyRound) -> list[list[Any]]:
    """One row per response: the stored (already generalised) department/section/role and the
    values. No person, no time, and rows ordered by their random id, not by when they came in.
    Anonymous rounds are exported only once sealed (closed)."""
    questions = parse_questions(rnd.questions)
    depts: dict[int, str] = {
        i: n for i, n in (await session.execute(select(Department.id, Department.name))).all()
    }
    sections: dict[int, str] = {
        i: n for i, n in (await session.execute(select(Section.id, Section.name))).all()
    }
    header = ["部", "課", "役割", *[q.tool or q.text for q in questions]]
    rows: list[list[Any]] = [header]
    if rnd.anonymous and not rnd.sealed:
        return rows
    labels = {q.key: {c.key: c.label for c in q.choices} for q in questions}
    responses = (
        await session.execute(
            select(
                SurveyResponse.id,
                SurveyResponse.department_id,
                SurveyResponse.section_id,
                SurveyResponse.role,
            )
            .where(SurveyResponse.round_id == rnd.id)
            .order_by(SurveyResponse.id)
        )
    ).all()
    values: dict[str, dict[str, list[Any]]] = {}
    for rid, qkey, num, choice, txt in (
        await session.execute(
            select(
                SurveyAnswerValue.response_id,
                SurveyAnswerValue.question_key,
                SurveyAnswerValue.num,
                SurveyAnswerValue.choice,
                SurveyAnswerValue.text,
            )
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswerValue.response_id)
            .where(SurveyResponse.round_id == rnd.id)
            .order_by(SurveyAnswerValue.response_id, SurveyAnswerValue.question_key, SurveyAnswerValue.seq)
        )
    ).all():
        cell = values.setdefault(rid, {}).setdefault(qkey, [])
        if num is not None:
            cell.append(int(num) if float(num).is_integer() else num)
        elif choice is not None:
            cell.append(labels.get(qkey, {}).get(choice, choice))
        else:
            cell.append(txt)
    if rnd.anonymous and len(responses) < rnd.threshold:
        return rows  # too few answers in the whole round: nothing may be shown
    for rid, dept, section, role in responses:
        row: list[Any] = [
            depts.get(dept, "") if dept is not None else "(非表示)",
            sections.get(section, "") if section is not None else "(非表示)",
            ROLE_JA.get(role or "", "(非表示)"),
        ]
        for q in questions:
            cell = values.get(rid, {}).get(q.key, [])
            row.append("、".join(str(c) for c in cell) if len(cell) != 1 else cell[0])
        rows.append([safe(c) for c in row])
    return rows


def to_csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], sheet: str) -> bytes:
    from openpyxl import Workbook  # only when someone exports

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31]
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
