"""Improvement cases: checking what a promoter typed, the review states, search and the sums.

    case_input, errors = validate(form, tool_names)     # errors: [(catalog key, params)]
    case = await submit(session, case_input, home, person_id, now)
    await publish(session, case, reviewer_id, now)       # or send_back(…, comment)
    rows = await savings(session, "tool", fiscal_year=2026)

Hours are per month. A case gives either hours before/after, or minutes per time × times per month
(「1回30分×月20回」); both become hours. What a section can save is bounded by what its staff work:
a month has about 160 working hours per person, so hours before may not exceed staff × 160.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Assignment, Department, ImprovementCase, Section, Survey

HOURS_PER_PERSON_MONTH = 160.0  # a full-time month (about 20 days × 8 hours)
MAX_STAFF = 2000
MAX_TOOLS = 10
SUBMITTED, RETURNED, PUBLISHED = "submitted", "returned", "published"
Problem = tuple[str, dict[str, Any]]  # (catalog key, format params)


def fiscal_year(day: date) -> int:
    """The Japanese fiscal year (April–March), named by the calendar year of its April."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    return date(fy, 4, 1), date(fy + 1, 3, 31)


@dataclass
class CaseInput:
    title: str
    description: str
    tools: list[str]
    work: str
    hours_before: float
    hours_after: float
    staff: int
    started_on: date
    file_url: str | None = None
    section_id: int | None = None  # chosen on the card when the promoter serves several sections

    @property
    def hours_saved(self) -> float:
        return self.hours_before - self.hours_after


def _number(raw: Any) -> float | None:
    """A number as typed: 「１２．５」, '12.5', '1,200'; None if empty; NaN if not a number."""
    if raw is None:
        return None
    value = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan


def _hours(form: dict[str, Any], which: str, problems: list[Problem]) -> float | None:
    """Hours per month from ``hours_<which>`` or ``minutes_<which>`` × ``times_<which>``."""
    label = f"cases.field.hours_{which}"
    hours = _number(form.get(f"hours_{which}"))
    minutes = _number(form.get(f"minutes_{which}"))
    times = _number(form.get(f"times_{which}"))
    if hours is not None:
        if math.isnan(hours) or hours < 0:
            problems.append(("cases.error.not_hours", {"field": label}))
            return None
        return hours
    if minutes is None and times is None:
        problems.append(("cases.error.hours_missing", {"field": label}))
        return None
    if (
        minutes is None
        or times is None
        or math.isnan(minutes)
        or math.isnan(times)
        or minutes < 0
        or times < 0
    ):
        problems.append(("cases.error.minutes_times", {"field": label}))
        return None
    if times > 10_000 or minutes > 24 * 60:
        problems.append(("cases.error.minutes_times_range", {"field": label}))
        return None
    return round(minutes * times / 60.0, 2)


def _text(form: dict[str, Any], key: str, limit: int) -> str:
    return str(form.get(key) or "").strip()[:limit]


def validate(
    form: dict[str, Any], tool_names: list[str], today: date | None = None
) -> tuple[CaseInput | None, list[Problem]]:
    """The case a card (or an Excel row) describes, or the problems, each a sentence with its reason."""
    problems: list[Problem] = []
    title = _text(form, "title", 400)
    if not title:
        problems.append(("cases.error.title_missing", {}))
    elif len(title) > 200:
        problems.append(("cases.error.title_long", {"max": 200}))
    description = _text(form, "description", 4000)
    work = _text(form, "work", 400)
    if not work:
        problems.append(("cases.error.work_missing", {}))
    elif len(work) > 200:
        problems.append(("cases.error.work_long", {"max": 200}))
    raw_tools = form.get("tools") or ""
    if isinstance(raw_tools, list):
        tools = [str(x).strip() for x in raw_tools if str(x).strip()]
    else:
        tools = [x.strip() for x in str(raw_tools).replace("、", ",").split(",") if x.strip()]
    known = {unicodedata.normalize("NFKC", n).lower(): n for n in tool_names}
    chosen: list[str] = []
    for name in tools:
        match = known.get(unicodedata.normalize("NFKC", name).lower())
        if match is None:
            problems.append(("cases.error.tool_unknown", {"tool": name, "tools": "、".join(tool_names)}))
        elif match not in chosen:
            chosen.append(match)
    if not tools:
        problems.append(("cases.error.tools_missing", {}))
    if len(chosen) > MAX_TOOLS:
        problems.append(("cases.error.tools_many", {"max": MAX_TOOLS}))
    staff_raw = _number(form.get("staff"))
    staff: int | None = None
    if (
        staff_raw is None
        or math.isnan(staff_raw)
        or staff_raw != int(staff_raw)
        or not 1 <= staff_raw <= MAX_STAFF
    ):
        problems.append(("cases.error.staff", {"max": MAX_STAFF}))
    else:
        staff = int(staff_raw)
    before = _hours(form, "before", problems)
    after = _hours(form, "after", problems)
    if before is not None and after is not None:
        if after > before:
            problems.append(("cases.error.after_more", {"before": _fmt(before), "after": _fmt(after)}))
        if staff is not None and before > staff * HOURS_PER_PERSON_MONTH:
            problems.append(
                (
                    "cases.error.hours_insane",
                    {
                        "hours": _fmt(before),
                        "staff": staff,
                        "limit": _fmt(staff * HOURS_PER_PERSON_MONTH),
                        "per": _fmt(HOURS_PER_PERSON_MONTH),
                    },
                )
            )
    started = _date(form.get("started_on"), today)
    if started is None:
        problems.append(("cases.error.date", {}))
    elif today is not None and started > today:
        problems.append(("cases.error.date_future", {}))
    file_url = _text(form, "file_url", 1200) or None
    if file_url and (not file_url.startswith(("https://", "http://")) or len(file_url) > 1000):
        problems.append(("cases.error.file_url", {}))
    section_id = None
    if form.get("section_id"):
        try:
            section_id = int(str(form["section_id"]))
        except ValueError:
            problems.append(("cases.error.section", {}))
    if problems:
        return None, problems
    assert before is not None and after is not None and staff is not None and started is not None
    return (
        CaseInput(title, description, chosen, work, before, after, staff, started, file_url, section_id),
        [],
    )


def _date(raw: Any, today: date | None) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    value = unicodedata.normalize("NFKC", str(raw or "")).strip().replace("/", "-")
    if not value:
        return today
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _fmt(hours: float) -> str:
    return f"{hours:,.1f}".rstrip("0").rstrip(".")


fmt_hours = _fmt


# --- who may submit for which section ---------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    section_id: int
    department_id: int
    section: str
    department: str


async def sections_of(session: AsyncSession, person_id: int | None, day: date) -> list[Home]:
    """The sections a person currently serves as leader or sub-leader (the roster's assignments)."""
    if person_id is None:
        return []
    rows = await session.execute(
        select(Section.id, Department.id, Section.name, Department.name)
        .join(Assignment, Assignment.section_id == Section.id)
        .join(Department, Department.id == Section.department_id)
        .where(
            Assignment.person_id == person_id,
            Assignment.valid_from <= day,
            or_(Assignment.valid_to.is_(None), Assignment.valid_to > day),
        )
        .order_by(Department.sort_order, Section.sort_order)
        .distinct()
    )
    return [Home(*row) for row in rows.all()]


async def tool_names(session: AsyncSession) -> list[str]:
    """The survey's tool list: the newest ツール活用 survey's tools, else the template's defaults."""
    from dialogs.survey.templates import DEFAULT_TOOLS

    survey = await session.scalar(
        select(Survey)
        .where(Survey.template == "tools", Survey.archived.is_(False))
        .order_by(Survey.id.desc())
        .limit(1)
    )
    if survey is not None:
        names = [q["tool"] for q in survey.questions if isinstance(q, dict) and q.get("tool")]
        if names:
            return names
    return [name for _, name in DEFAULT_TOOLS]


# --- lifecycle ---------------------------------------------------------------------------------------


def apply(case: ImprovementCase, data: CaseInput) -> None:
    case.title = data.title
    case.description = data.description
    case.tools = list(data.tools)
    case.work = data.work
    case.hours_before = data.hours_before
    case.hours_after = data.hours_after
    case.staff = data.staff
    case.started_on = data.started_on
    case.fiscal_year = fiscal_year(data.started_on)
    case.file_url = data.file_url


async def submit(
    session: AsyncSession,
    data: CaseInput,
    home: Home,
    person_id: int | None,
    now: datetime,
    source: str = "teams",
) -> ImprovementCase:
    case = ImprovementCase(
        section_id=home.section_id,
        department_id=home.department_id,
        state=SUBMITTED,
        source=source,
        submitted_by=person_id,
        submitted_at=now,
        review_comment="",
    )
    apply(case, data)
    session.add(case)
    await session.flush()
    return case


def resubmit(case: ImprovementCase, data: CaseInput, now: datetime) -> None:
    """A returned case, corrected by its section: back to the DX division's queue."""
    apply(case, data)
    case.state = SUBMITTED
    case.submitted_at = now


def publish(case: ImprovementCase, reviewer_id: int | None, now: datetime) -> None:
    case.state = PUBLISHED
    case.reviewed_by = reviewer_id
    case.reviewed_at = now
    case.published_at = now
    case.review_comment = ""


def send_back(case: ImprovementCase, reviewer_id: int | None, comment: str, now: datetime) -> None:
    case.state = RETURNED
    case.reviewed_by = reviewer_id
    case.reviewed_at = now
    case.review_comment = comment


# --- reading ------------------------------------------------------------------------------------------


@dataclass
class CaseView:
    case: ImprovementCase
    section: str
    department: str


async def views(session: AsyncSession, where: Any, limit: int = 50, order: Any = None) -> list[CaseView]:
    rows = await session.execute(
        select(ImprovementCase, Section.name, Department.name)
        .join(Section, Section.id == ImprovementCase.section_id)
        .join(Department, Department.id == ImprovementCase.department_id)
        .where(where)
        .order_by(*(order if order is not None else [ImprovementCase.id]))
        .limit(limit)
    )
    return [CaseView(c, s, d) for c, s, d in rows.all()]


async def pending(session: AsyncSession, limit: int = 10) -> list[CaseView]:
    return await views(session, ImprovementCase.state == SUBMITTED, limit)


async def count_pending(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(ImprovementCase.state == SUBMITTED)) or 0)


async def mine(session: AsyncSession, section_ids: list[int], limit: int = 20) -> list[CaseView]:
    return await views(
        session, ImprovementCase.section_id.in_(section_ids), limit, [ImprovementCase.id.desc()]
    )


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


async def search(
    session: AsyncSession, query: str, tool_list: list[str], limit: int = 5
) -> tuple[list[CaseView], int]:
    """Published cases matching every word of ``query`` (a tool name matches the case's tools; other
    words the title, description, work, section or department). Newest first, with the total."""
    words = [w for w in _fold(query).replace("　", " ").split() if w]
    tools = {_fold(n): n for n in tool_list}
    published = await views(
        session,
        ImprovementCase.state == PUBLISHED,
        limit=100_000,
        order=[ImprovementCase.published_at.desc()],
    )
    found: list[CaseView] = []
    for v in published:
        c = v.case
        hay = _fold(" ".join([c.title, c.description, c.work, v.section, v.department, *c.tools]))
        case_tools = {_fold(t) for t in c.tools}
        if all((w in case_tools) if w in tools else (w in hay) for w in words):
            found.append(v)
    return found[:limit], len(found)


# Words that say a question is about examples from other sections (「他の課の事例はありますか」).
CASE_WORDS = ("事例", "取り組み", "取組", "改善例", "実例", "他の課", "ほかの課", "成功例", "好事例")
# Bigrams of question phrasing, not of content: they match every case title equally.
_QUESTION_BIGRAMS = {
    "ある",
    "りま",
    "ます",
    "すか",
    "です",
    "した",
    "して",
    "いる",
    "ない",
    "事例",
    "の事",
    "例は",
    "例を",
    "を教",
    "教え",
    "えて",
    "くだ",
    "ださ",
    "さい",
}


def _bigrams(value: str) -> set[str]:
    folded = "".join(_fold(value).split())
    return {folded[i : i + 2] for i in range(len(folded) - 1)} - _QUESTION_BIGRAMS


async def related(
    session: AsyncSession, question: str, tool_list: list[str], answered: bool, limit: int = 3
) -> list[CaseView]:
    """Published cases for a free-text question (the QA search's other half): asked about cases
    (「RPAの事例はありますか」), or nothing in the FAQ answered it. A case matches on a tool the question
    names, or on at least two shared character pairs with its title or work; best first."""
    folded = _fold(question)
    tools = {_fold(t) for t in tool_list if _fold(t) in folded}
    if answered and not any(w in folded for w in CASE_WORDS):
        return []
    words = _bigrams(question)
    for t in tools:
        words -= _bigrams(t)  # the tool counts once, below, not again through its letters
    if not words and not tools:
        return []
    scored: list[tuple[float, CaseView]] = []
    for v in await views(
        session,
        ImprovementCase.state == PUBLISHED,
        limit=100_000,
        order=[ImprovementCase.published_at.desc()],
    ):
        c = v.case
        shared_tools = len(tools & {_fold(t) for t in c.tools})
        overlap = len(words & _bigrams(f"{c.title} {c.work}"))
        if shared_tools or overlap >= 2:
            scored.append((shared_tools * 3 + overlap, v))
    scored.sort(key=lambda sv: -sv[0])  # stable: newest first among equals
    return [v for _, v in scored[:limit]]


# --- sums ---------------------------------------------------------------------------------------------


@dataclass
class Saving:
    label: str
    hours_per_month: float = 0.0
    cases: int = 0
    key: Any = None
    by_year: dict[int, float] = field(default_factory=dict)

    @property
    def hours_per_year(self) -> float:
        return self.hours_per_month * 12


BY = ("section", "department", "tool", "fiscal_year")


async def savings(session: AsyncSession, by: str, fiscal_year: int | None = None) -> list[Saving]:
    """Hours saved per month by published cases, grouped ``by`` section, department, tool or fiscal
    year, largest first (fiscal years in order). A case with several tools counts in full for each of
    its tools, so the tool rows may add up to more than the total."""
    if by not in BY:
        raise ValueError(by)
    conditions = [ImprovementCase.state == PUBLISHED]
    if fiscal_year is not None:
        conditions.append(ImprovementCase.fiscal_year == fiscal_year)
    rows = await session.execute(
        select(
            ImprovementCase.section_id,
            Section.name,
            ImprovementCase.department_id,
            Department.name,
            ImprovementCase.tools,
            ImprovementCase.fiscal_year,
            ImprovementCase.hours_before,
            ImprovementCase.hours_after,
        )
        .join(Section, Section.id == ImprovementCase.section_id)
        .join(Department, Department.id == ImprovementCase.department_id)
        .where(and_(*conditions))
    )
    groups: dict[Any, Saving] = {}
    for sec_id, sec, dept_id, dept, tools, fy, before, after in rows.all():
        saved = max(0.0, before - after)
        if by == "section":
            keys = [((sec_id,), f"{dept} {sec}")]
        elif by == "department":
            keys = [((dept_id,), dept)]
        elif by == "tool":
            keys = [((name,), name) for name in (tools or [])]
        else:
            keys = [((fy,), str(fy))]
        for key, label in keys:
            g = groups.get(key)
            if g is None:
                g = groups[key] = Saving(label, key=key[0])
            g.hours_per_month += saved
            g.cases += 1
            g.by_year[fy] = g.by_year.get(fy, 0.0) + saved
    out = list(groups.values())
    if by == "fiscal_year":
        out.sort(key=lambda s: s.key)
    else:
        out.sort(key=lambda s: (-s.hours_per_month, s.label))
    for s in out:
        s.hours_per_month = round(s.hours_per_month, 2)
    return out


async def total_saved(session: AsyncSession, fiscal_year: int | None = None) -> tuple[float, int]:
    rows = await savings(session, "fiscal_year", fiscal_year)
    return round(sum(r.hours_per_month for r in rows), 2), sum(r.cases for r in rows)


def by_department_and_tool(views_: list[CaseView]) -> dict[str, dict[str, int]]:
    """Counts of published cases per department and per tool (for the 一覧 card)."""
    out: dict[str, dict[str, int]] = {"department": defaultdict(int), "tool": defaultdict(int)}
    for v in views_:
        out["department"][v.department] += 1
        for name in v.case.tools:
            out["tool"][name] += 1
    return {k: dict(v) for k, v in out.items()}
