"""Every figure of the quarterly report, read from the database in one place.

    q = Quarter.parse("2026Q3")            # fiscal quarters: Q1 = April–June … Q4 = January–March
    figures = await collect(session, q)    # the deck and the workbook draw only from this

This module reads other features' tables (announcements, questions, cases) directly, and only here:
the report is a read-only view across features. Each section carries a one-line finding computed from
its own numbers (never written by hand), or None when the quarter has no data for it.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.kit.business_days import JST
from storage.models import (
    AppSetting,
    ImprovementCase,
    QueryLog,
    RecognitionRound,
    Section,
    Survey,
    SurveyRound,
    Ticket,
)
from storage.models.announce import Announcement, AnnouncementRecipient
from storage.models.roster import Department

CITY_SETTING = "city.name"
_QUARTER = re.compile(r"(\d{4})\s*[qQ]([1-4])")


@dataclass(frozen=True)
class Quarter:
    fiscal_year: int
    number: int  # 1 = April–June (the Japanese fiscal year)

    @classmethod
    def parse(cls, raw: str) -> Quarter | None:
        m = _QUARTER.fullmatch(unicodedata.normalize("NFKC", raw or "").strip())
        if not m or not 2000 <= int(m.group(1)) <= 2100:
            return None
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        fy = day.year if day.month >= 4 else day.year - 1
        return cls(fy, (day.month - 4) % 12 // 3 + 1)

    @property
    def first_day(self) -> date:
        month = 4 + (self.number - 1) * 3
        return date(self.fiscal_year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.fiscal_year + (self.number == 4), self.number % 4 + 1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.fiscal_year - (self.number == 1), (self.number - 2) % 4 + 1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC, for the quarter's days in Japan time."""
        start = datetime.combine(self.first_day, time(), JST).astimezone(UTC)
        end = datetime.combine(self.next.first_day, time(), JST).astimezone(UTC)
        return start, end

    @property
    def key(self) -> str:
        return f"{self.fiscal_year}Q{self.number}"

    @property
    def label(self) -> str:
        first = self.first_day
        last_month = (first.month + 1) % 12 + 1
        return f"{self.fiscal_year}年度 第{self.number}四半期({first.month}月〜{last_month}月)"


@dataclass
class DepartmentReach:
    department: str
    recipients: int = 0
    confirmed: int = 0  # of recipients of announcements that asked for confirmation
    asked: int = 0

    @property
    def rate(self) -> float | None:
        return self.confirmed / self.asked if self.asked else None


@dataclass
class Questions:
    asked: int = 0
    answered_by_bot: int = 0  # outright, or an entry picked from 「どれが近いですか?」
    answered_by_choice: int = 0  # of those, picked from the choices
    escalated: int = 0
    answered_by_division: int = 0
    median_days: float | None = None

    @property
    def bot_rate(self) -> float | None:
        return self.answered_by_bot / self.asked if self.asked else None


@dataclass
class CaseFigures:
    published: int = 0
    hours_per_month: float = 0.0
    by_department: list[tuple[str, float, int]] = field(default_factory=list)  # (name, hours, cases)
    by_tool: list[tuple[str, float, int]] = field(default_factory=list)
    titles: list[tuple[str, str, float]] = field(default_factory=list)  # (title, section, hours)
    fiscal_year_hours: float = 0.0  # April to the end of this quarter
    fiscal_year_cases: int = 0


@dataclass
class SurveyBlock:
    """One survey's last round closed in the quarter, against the last round before the quarter.

    Every value comes from the survey's own results (dialogs/survey/results.py), with its anonymity
    threshold applied there: a suppressed figure is None here and is never drawn or written."""

    template: str  # mindset | tools | workload
    title: str
    label: str
    prev_label: str | None
    responded: int
    anonymous: bool
    threshold: int
    # (question, this round, previous round): favourable share, adoption share, or mean
    items: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    # departments × items (tools: adoption; workload: mean non-core %); only groups shown by the survey
    rows: list[str] = field(default_factory=list)
    matrix: list[list[float | None]] = field(default_factory=list)
    hidden_groups: int = 0  # departments left out because their figures are suppressed


@dataclass
class Figures:
    city: str
    quarter: Quarter
    announcements: int
    reach: list[DepartmentReach]
    questions: Questions
    previous_questions: Questions
    cases: CaseFigures
    previous_cases: CaseFigures
    surveys: dict[str, SurveyBlock] = field(default_factory=dict)
    recognition: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)  # (round, results)
    findings: dict[str, str | None] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return (
            self.announcements == 0
            and self.questions.asked == 0
            and self.questions.escalated == 0
            and (self.cases.published == 0)
        )


async def city_name(session: AsyncSession) -> str:
    row = await session.get(AppSetting, CITY_SETTING)
    return str(row.value.get("name") or "") if row and isinstance(row.value, dict) else ""


async def reach(session: AsyncSession, q: Quarter) -> tuple[int, list[DepartmentReach]]:
    start, end = q.bounds()
    sent = (
        (Announcement.sent_at >= start) & (Announcement.sent_at < end) & (Announcement.recalled_at.is_(None))
    )
    count = int(await session.scalar(select(func.count()).select_from(Announcement).where(sent)) or 0)
    rows = await session.execute(
        select(
            AnnouncementRecipient.department,
            Announcement.ack_required,
            func.count(),
            func.count(AnnouncementRecipient.confirmed_at),
        )
        .join(Announcement, Announcement.id == AnnouncementRecipient.announcement_id)
        .where(sent)
        .group_by(AnnouncementRecipient.department, Announcement.ack_required)
    )
    by_dept: dict[str, DepartmentReach] = {}
    for dept, ack, n, confirmed in rows.all():
        d = by_dept.setdefault(dept, DepartmentReach(dept))
        d.recipients += n
        if ack:
            d.asked += n
            d.confirmed += confirmed
    order = {
        name: i
        for i, name in enumerate(
            (
                await session.scalars(select(Department.name).order_by(Department.sort_order, Department.id))
            ).all()
        )
    }
    return count, sorted(by_dept.values(), key=lambda d: (order.get(d.department, len(order)), d.department))


async def questions(session: AsyncSession, q: Quarter) -> Questions:
    start, end = q.bounds()
    by_choice = and_(QueryLog.answered.is_(False), QueryLog.picked_key.is_not(None))
    asked, outright, picked = (
        await session.execute(
            select(
                func.count(), func.count().filter(QueryLog.answered.is_(True)), func.count().filter(by_choice)
            ).where(QueryLog.at >= start, QueryLog.at < end)
        )
    ).one()
    escalated = int(
        await session.scalar(select(func.count()).where(Ticket.created_at >= start, Ticket.created_at < end))
        or 0
    )
    waits = [
        (answered_at - created).total_seconds() / 86400
        for created, answered_at in (
            await session.execute(
                select(Ticket.created_at, Ticket.answered_at).where(
                    Ticket.answered_at >= start, Ticket.answered_at < end
                )
            )
        ).all()
        if answered_at is not None
    ]
    return Questions(
        asked=int(asked or 0),
        answered_by_bot=int(outright or 0) + int(picked or 0),
        answered_by_choice=int(picked or 0),
        escalated=escalated,
        answered_by_division=len(waits),
        median_days=round(statistics.median(waits), 1) if waits else None,
    )


async def cases(session: AsyncSession, q: Quarter) -> CaseFigures:
    start, end = q.bounds()
    fy_start, _ = Quarter(q.fiscal_year, 1).bounds()
    rows = (
        await session.execute(
            select(ImprovementCase, Section.name, Department.name)
            .join(Section, Section.id == ImprovementCase.section_id)
            .join(Department, Department.id == ImprovementCase.department_id)
            .where(
                ImprovementCase.state == "published",
                ImprovementCase.published_at >= fy_start,
                ImprovementCase.published_at < end,
            )
            .order_by(ImprovementCase.published_at, ImprovementCase.id)
        )
    ).all()
    out = CaseFigures()
    by_dept: dict[str, list[float]] = defaultdict(list)
    by_tool: dict[str, list[float]] = defaultdict(list)
    for case, section, dept in rows:
        saved = case.hours_saved
        out.fiscal_year_hours += saved
        out.fiscal_year_cases += 1
        assert case.published_at is not None
        if case.published_at < start:
            continue
        out.published += 1
        out.hours_per_month += saved
        by_dept[dept].append(saved)
        for tool in case.tools:
            by_tool[tool].append(saved)
        out.titles.append((case.title, f"{dept} {section}", round(saved, 1)))

    def ranked(groups: dict[str, list[float]]) -> list[tuple[str, float, int]]:
        items = [(name, round(sum(v), 1), len(v)) for name, v in groups.items()]
        return sorted(items, key=lambda x: (-x[1], x[0]))

    out.by_department = ranked(by_dept)
    out.by_tool = ranked(by_tool)
    out.hours_per_month = round(out.hours_per_month, 1)
    out.fiscal_year_hours = round(out.fiscal_year_hours, 1)
    out.titles.sort(key=lambda x: -x[2])
    return out


SURVEY_TEMPLATES = ("mindset", "tools", "workload")
NONCORE = "w_noncore"


async def _last_closed(
    session: AsyncSession, template: str, start: datetime, end: datetime
) -> SurveyRound | None:
    return await session.scalar(
        select(SurveyRound)
        .join(Survey, Survey.id == SurveyRound.survey_id)
        .where(
            Survey.template == template,
            SurveyRound.status == "closed",
            SurveyRound.closed_at >= start,
            SurveyRound.closed_at < end,
        )
        .order_by(SurveyRound.closed_at.desc(), SurveyRound.id.desc())
        .limit(1)
    )


def _item_value(template: str, stat: Any) -> float | None:
    if stat is None or stat.suppressed:
        return None
    if template == "mindset":
        return stat.favourable
    if template == "tools":
        return stat.adopted
    return stat.mean


async def survey_block(session: AsyncSession, q: Quarter, template: str) -> SurveyBlock | None:
    from dialogs.survey.results import compute_results

    start, end = q.bounds()
    rnd = await _last_closed(session, template, start, end)
    if rnd is None:
        return None
    prev_rnd = await session.scalar(
        select(SurveyRound)
        .where(
            SurveyRound.survey_id == rnd.survey_id,
            SurveyRound.status == "closed",
            SurveyRound.closed_at < start,
        )
        .order_by(SurveyRound.closed_at.desc(), SurveyRound.id.desc())
        .limit(1)
    )
    res = await compute_results(session, rnd.id)
    prev = await compute_results(session, prev_rnd.id) if prev_rnd is not None else None
    if template == "mindset":
        questions = res.scale_questions()
    elif template == "tools":
        questions = res.tool_questions()
    else:
        questions = [x for x in res.questions if x.key == NONCORE]
    block = SurveyBlock(
        template,
        res.title,
        res.label,
        prev.label if prev else None,
        res.responded if not res.overall.suppressed else 0,
        res.anonymous,
        res.threshold,
    )
    for question in questions:
        name = question.tool or question.text
        now = _item_value(template, res.overall.stats.get(question.key))
        before = _item_value(template, prev.overall.stats.get(question.key)) if prev else None
        block.items.append((name, now, before))
    if template in ("tools", "workload"):
        for group in res.of_kind("department"):
            values = [
                None if group.suppressed else _item_value(template, group.stats.get(x.key)) for x in questions
            ]
            if group.suppressed or all(v is None for v in values):
                block.hidden_groups += 1
                continue
            block.rows.append(group.name)
            block.matrix.append(values)
    return block


async def recognition(session: AsyncSession, q: Quarter) -> list[tuple[str, list[dict[str, Any]]]]:
    """Recognition rounds closed in the quarter, with their kept results (counts only)."""
    start, end = q.bounds()
    rounds = await session.scalars(
        select(RecognitionRound)
        .where(
            RecognitionRound.state == "closed",
            RecognitionRound.closed_at >= start,
            RecognitionRound.closed_at < end,
        )
        .order_by(RecognitionRound.closed_at)
    )
    return [(r.title, list(r.results or [])) for r in rounds.all()]


def _pt(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    diff = round((now - before) * 100)
    return f"(前四半期比 {'+' if diff >= 0 else '−'}{abs(diff)}pt)"


def _hours(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def findings(f: Figures) -> dict[str, str | None]:
    """One line per section, computed from the figures; None where there is nothing to say."""
    out: dict[str, str | None] = {}
    asked = [d for d in f.reach if d.rate is not None]
    if asked:
        total = sum(d.confirmed for d in asked) / sum(d.asked for d in asked)
        low = min(asked, key=lambda d: (d.rate, d.department))
        out["reach"] = (
            f"お知らせ{f.announcements}件の確認率は全体で{round(total * 100)}%、"
            f"最も低いのは{low.department}({round((low.rate or 0) * 100)}%)"
        )
    elif f.announcements:
        out["reach"] = f"お知らせ{f.announcements}件を配信(確認を求めたものはありません)"
    else:
        out["reach"] = None
    qs, prev = f.questions, f.previous_questions
    if qs.asked or qs.escalated:
        line = f"質問{qs.asked}件のうちボットが{qs.answered_by_bot}件に回答"
        if qs.answered_by_choice:
            line += f"(うち選択肢から{qs.answered_by_choice}件)"
        if qs.bot_rate is not None:
            line += f"(回答率{round(qs.bot_rate * 100)}%{_pt(qs.bot_rate, prev.bot_rate)})"
        line += f"、DX推進課へ{qs.escalated}件"
        if qs.median_days is not None:
            line += f"・回答までの中央値{_hours(qs.median_days)}日"
        out["questions"] = line
    else:
        out["questions"] = None
    mindset = f.surveys.get("mindset")
    out["mindset"] = None
    if mindset and any(v is not None for _, v, _ in mindset.items):
        compared = [(n, v, b) for n, v, b in mindset.items if v is not None and b is not None]
        if compared:
            name, now, before = max(compared, key=lambda x: abs(x[1] - x[2]))  # type: ignore[operator]
            out["mindset"] = f"「{name}」の肯定的回答が{round((now or 0) * 100)}%{_pt(now, before)}"
        else:
            name, now, _ = max(
                ((n, v, b) for n, v, b in mindset.items if v is not None), key=lambda x: x[1] or 0
            )
            out["mindset"] = f"肯定的回答が最も多いのは「{name}」({round((now or 0) * 100)}%)"
    tools = f.surveys.get("tools")
    out["tools"] = None
    if tools and any(v is not None for _, v, _ in tools.items):
        compared = [(n, v, b) for n, v, b in tools.items if v is not None and b is not None]
        if compared:
            name, now, before = max(compared, key=lambda x: x[1] - x[2])  # type: ignore[operator]
            out["tools"] = (
                f"{name}の週1回以上の利用が{_pt(now, before).strip('()')}(全体 {round((now or 0) * 100)}%)"
            )
        else:
            name, now, _ = max(
                ((n, v, b) for n, v, b in tools.items if v is not None), key=lambda x: x[1] or 0
            )
            out["tools"] = f"週1回以上の利用が最も多いのは{name}({round((now or 0) * 100)}%)"
    work = f.surveys.get("workload")
    out["workload"] = None
    if work and work.items and work.items[0][1] is not None:
        _, avg, prev_avg = work.items[0]
        line = f"ノンコア業務の割合は平均{round(avg or 0)}%"
        if prev_avg is not None:
            diff = round((avg or 0) - prev_avg)
            line += f"(前四半期比 {'+' if diff >= 0 else '−'}{abs(diff)}pt)"
        out["workload"] = line
    out["recognition"] = None
    winners = [(title, results[0]) for title, results in f.recognition if results]
    if winners:
        title, first = winners[-1]
        out["recognition"] = (
            f"表彰「{title}」の第1位は「{first['title']}」({first['section']}・{first['votes']}票)"
        )
    elif f.recognition:
        out["recognition"] = f"表彰「{f.recognition[-1][0]}」は投票がありませんでした"
    c, pc = f.cases, f.previous_cases
    if c.published:
        diff = c.published - pc.published
        line = (
            f"改善事例{c.published}件を公開(前四半期比 {'+' if diff >= 0 else '−'}{abs(diff)}件)、"
            f"月{_hours(c.hours_per_month)}時間の削減"
        )
        if c.by_tool:
            line += f"。最も削減したツールは{c.by_tool[0][0]}(月{_hours(c.by_tool[0][1])}時間)"
        out["cases"] = line
    else:
        out["cases"] = None
    return out


async def collect(session: AsyncSession, q: Quarter) -> Figures:
    count, by_dept = await reach(session, q)
    f = Figures(
        city=await city_name(session),
        quarter=q,
        announcements=count,
        reach=by_dept,
        questions=await questions(session, q),
        previous_questions=await questions(session, q.previous),
        cases=await cases(session, q),
        previous_cases=await cases(session, q.previous),
    )
    f.recognition = await recognition(session, q)
    for template in SURVEY_TEMPLATES:
        block = await survey_block(session, q, template)
        if block is not None:
            f.surveys[template] = block
    f.findings = findings(f)
    return f


def as_rows(f: Figures) -> dict[str, list[list[Any]]]:
    """The same figures as sheets of rows (header first), for the workbook and for tests."""
    sheets: dict[str, list[list[Any]]] = {}
    names = {"mindset": "意識調査", "tools": "ツール活用", "workload": "業務量"}
    for key, block in f.surveys.items():
        scale = 1 if key == "workload" else 100
        unit = "平均(%)" if key == "workload" else ("週1回以上(%)" if key == "tools" else "肯定的回答(%)")
        sheets[names[key]] = [["項目", f"{block.label} {unit}", f"{block.prev_label or '前回'} {unit}"]] + [
            [n, None if v is None else round(v * scale, 1), None if b is None else round(b * scale, 1)]
            for n, v, b in block.items
        ]
        if block.rows:
            sheets[names[key] + "(部別)"] = [["部", *[n for n, _, _ in block.items]]] + [
                [row, *[None if v is None else round(v * scale, 1) for v in values]]
                for row, values in zip(block.rows, block.matrix, strict=True)
            ]
    return sheets | {
        "お知らせの確認": [["部", "受信者", "確認を求めた数", "確認済み", "確認率(%)"]]
        + [
            [
                d.department,
                d.recipients,
                d.asked,
                d.confirmed,
                None if d.rate is None else round(d.rate * 100, 1),
            ]
            for d in f.reach
        ],
        "質問対応": [
            ["項目", "今四半期", "前四半期"],
            ["質問数", f.questions.asked, f.previous_questions.asked],
            ["ボットが回答", f.questions.answered_by_bot, f.previous_questions.answered_by_bot],
            [
                "うち選択肢から選ばれた",
                f.questions.answered_by_choice,
                f.previous_questions.answered_by_choice,
            ],
            ["DX推進課へ", f.questions.escalated, f.previous_questions.escalated],
            ["DX推進課が回答", f.questions.answered_by_division, f.previous_questions.answered_by_division],
            ["回答までの中央値(日)", f.questions.median_days, f.previous_questions.median_days],
        ],
        "改善事例(部別)": [["部", "削減時間(時間/月)", "件数"]] + [list(r) for r in f.cases.by_department],
        "改善事例(ツール別)": [["ツール", "削減時間(時間/月)", "件数"]] + [list(r) for r in f.cases.by_tool],
        "改善事例(一覧)": [["事例", "課", "削減時間(時間/月)"]] + [list(r) for r in f.cases.titles],
        "表彰": [["表彰", "順位", "事例", "課", "得票"]]
        + [
            [title, r["place"], r["title"], r["section"], r["votes"]]
            for title, results in f.recognition
            for r in results
        ],
    }
