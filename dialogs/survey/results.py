"""Results of a round and the trend over rounds, aggregated in SQL, suppressed where groups are small.

    res = await compute_results(session, round_id)      # RoundResults
    trend = await compute_trend(session, survey_id)       # Trend over the last 12 closed rounds

The database does the counting (GROUP BY round, department, section, role, question, value); Python
only merges those few hundred grouped rows into figures. For anonymous rounds every figure of a
group with fewer answers than the round's threshold is suppressed, comments included, and a group is
also suppressed when showing it would let its parent's figure reveal a small remainder
(department minus its shown sections, city minus its shown departments).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.kit.i18n import t
from dialogs.roster.order import RosterOrder, roster_order
from dialogs.survey.questions import ADOPTED_KEYS, Question, parse_questions
from storage.models import (
    Department,
    Section,
    Survey,
    SurveyAnswerValue,
    SurveyRecipient,
    SurveyResponse,
    SurveyRound,
)

DROP_MEAN = 0.5  # a group's mean falling this much between rounds is a notable drop
DROP_FAVOURABLE = 0.2  # … or its favourable share (or tool adoption) falling 20 points
DROP_MIN_N = 5  # groups smaller than this (or the round's threshold) swing too much to flag


@dataclass
class Rate:
    key: str  # "all", "d:3", "s:12"; merged small groups: "d:other", "s:other:3"
    name: str
    invited: int
    responded: int
    parent: str | None = None  # a section's department ("d:3")

    @property
    def rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0


@dataclass
class Stat:
    """One question's figures for one group. ``suppressed`` hides everything but the label."""

    n: int = 0
    total: float = 0.0
    dist: dict[str, int] = field(default_factory=dict)  # value or choice key -> count
    minimum: float | None = None
    maximum: float | None = None
    suppressed: bool = False

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n and not self.suppressed else None

    def share(self, keys: Iterable[str]) -> float | None:
        if self.suppressed or not self.n:
            return None
        return sum(self.dist.get(k, 0) for k in keys) / self.n

    @property
    def favourable(self) -> float | None:
        return self.share(("4", "5"))

    @property
    def neutral(self) -> float | None:
        return self.share(("3",))

    @property
    def unfavourable(self) -> float | None:
        return self.share(("1", "2"))

    @property
    def adopted(self) -> float | None:
        return self.share(ADOPTED_KEYS)

    def add(self, value: str, count: int, num: float | None) -> None:
        self.n += count
        self.dist[value] = self.dist.get(value, 0) + count
        if num is not None:
            self.total += num * count
            self.minimum = num if self.minimum is None else min(self.minimum, num)
            self.maximum = num if self.maximum is None else max(self.maximum, num)


@dataclass
class Group:
    key: str  # "all", "d:3", "s:12", "r:leader"
    kind: str  # all | department | section | role
    name: str
    respondents: int
    suppressed: bool = False
    parent: str | None = None
    stats: dict[str, Stat] = field(default_factory=dict)  # question key -> Stat


@dataclass
class RoundResults:
    round_id: int
    survey_id: int
    title: str
    label: str
    number: int
    status: str
    anonymous: bool
    threshold: int
    questions: list[Question]
    invited: int
    responded: int
    rates: list[Rate]  # all, departments, sections (tracking; no answer content)
    groups: dict[str, Group]  # "all", departments, sections, roles
    comments: dict[str, list[str]]  # question key -> texts (empty if suppressed)
    comments_suppressed: bool = False

    @property
    def rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0

    @property
    def overall(self) -> Group:
        return self.groups["all"]

    def scale_questions(self) -> list[Question]:
        return [q for q in self.questions if q.type == "scale5"]

    def tool_questions(self) -> list[Question]:
        return [q for q in self.questions if q.tool]

    def of_kind(self, kind: str) -> list[Group]:
        return [g for g in self.groups.values() if g.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        def stat(s: Stat) -> dict[str, Any]:
            if s.suppressed:
                return {"suppressed": True}
            return {
                "n": s.n,
                "mean": s.mean,
                "favourable": s.favourable,
                "neutral": s.neutral,
                "unfavourable": s.unfavourable,
                "adopted": s.adopted,
                "dist": s.dist,
                "min": s.minimum,
                "max": s.maximum,
            }

        return {
            "round_id": self.round_id,
            "title": self.title,
            "label": self.label,
            "anonymous": self.anonymous,
            "threshold": self.threshold,
            "invited": self.invited,
            "responded": self.responded,
            "rate": self.rate,
            "rates": [
                {"key": r.key, "name": r.name, "invited": r.invited, "responded": r.responded}
                for r in self.rates
            ],
            "groups": {
                k: {
                    "kind": g.kind,
                    "name": g.name,
                    "respondents": None if g.suppressed else g.respondents,
                    "suppressed": g.suppressed,
                    "stats": {q: stat(s) for q, s in g.stats.items()},
                }
                for k, g in self.groups.items()
            },
            "comments": self.comments,
        }


async def _names(session: AsyncSession) -> tuple[dict[int, str], dict[int, tuple[str, int]]]:
    depts = {i: n for i, n in (await _core(session, select(Department.id, Department.name))).all()}
    sections = {
        i: (n, d)
        for i, n, d in (await _core(session, select(Section.id, Section.name, Section.department_id))).all()
    }
    return depts, sections


async def response_rates(session: AsyncSession, round_id: int) -> list[Rate]:
    """Invited and responded, overall, by department and by section (from the tracking table)."""
    depts, sections = await _names(session)
    rows = (
        await _core(
            session,
            select(
                SurveyRecipient.department_id,
                SurveyRecipient.section_id,
                func.count(),
                func.sum(case((SurveyRecipient.responded.is_(True), 1), else_=0)),
            )
            .where(SurveyRecipient.round_id == round_id)
            .group_by(SurveyRecipient.department_id, SurveyRecipient.section_id),
        )
    ).all()
    total = Rate("all", "全体", 0, 0)
    by_dept: dict[int, Rate] = {}
    by_section: list[Rate] = []
    for dept, section, invited, responded in rows:
        responded = int(responded or 0)
        total.invited += invited
        total.responded += responded
        d = by_dept.setdefault(dept, Rate(f"d:{dept}", depts.get(dept, "—"), 0, 0))
        d.invited += invited
        d.responded += responded
        by_section.append(
            Rate(f"s:{section}", sections.get(section, ("—", 0))[0], invited, responded, parent=f"d:{dept}")
        )
    order = await roster_order(session)  # departments and sections as the roster lists them
    ordered_depts = sorted(by_dept.values(), key=lambda r: order.group(r.key))
    by_section.sort(key=lambda r: order.group(r.key))
    return [total, *ordered_depts, *by_section]


def participation(rates: list[Rate], k: int, locale: str = "ja") -> list[Rate]:
    """Response rates of an anonymous round as they may be shown: a department or section asked
    fewer than ``k`` people is not shown on its own (「会計課 1/1」 would say that person answered)
    but merged into 「その他(少人数)」; when that remainder itself would be under ``k``, the
    smallest shown neighbours join it, so no subtraction reveals a small group either."""
    total = rates[0]
    depts: list[Rate] = []
    sections: list[Rate] = []
    for r in rates[1:]:
        (depts if r.key.startswith("d:") else sections).append(r)

    def split(children: list[Rate], parent_invited: int) -> tuple[list[Rate], list[Rate]]:
        shown = [c for c in children if c.invited >= k]
        hidden = [c for c in children if c.invited < k]
        while shown:
            remainder = parent_invited - sum(c.invited for c in shown)
            if remainder == 0 or remainder >= k:
                break
            smallest = min(shown, key=lambda c: (c.invited, c.name))
            shown.remove(smallest)
            hidden.append(smallest)
        return shown, hidden

    def merged(key: str, name: str, hidden: list[Rate], parent: str | None = None) -> Rate:
        return Rate(
            key,
            name,
            sum(c.invited for c in hidden),
            sum(c.responded for c in hidden),
            parent=parent,
        )

    out_depts, hidden_depts = split(depts, total.invited)
    out: list[Rate] = [total, *out_depts]
    if hidden_depts and sum(d.invited for d in hidden_depts) >= k:
        out.append(merged("d:other", t("survey.rates.other_departments", locale), hidden_depts))
    for dept in out_depts:
        children = [s for s in sections if s.parent == dept.key]
        shown, hidden = split(children, dept.invited)
        out += shown
        if hidden and sum(c.invited for c in hidden) >= k and shown:
            out.append(
                merged(
                    f"s:other:{dept.key[2:]}",
                    t("survey.rates.other_sections", locale, dept=dept.name),
                    hidden,
                    dept.key,
                )
            )
    return out


async def _core(session: AsyncSession, stmt: Any) -> Any:
    """Run a column-only SELECT on the session's connection: Core rows, without the ORM's per-row
    processing (a year of a large city returns thousands of grouped rows)."""
    conn = await session.connection()
    return await conn.execute(stmt)


def _value_key(num: float | None, choice: str | None) -> str:
    if choice is not None:
        return choice
    assert num is not None
    return str(int(num)) if float(num).is_integer() else str(num)


async def _grouped(
    session: AsyncSession, round_ids: list[int], questions: list[Question]
) -> tuple[list[Any], list[Any], list[Any]]:
    """Three GROUP BY queries: value counts (scales and choices), number aggregates, respondents."""
    r, v = SurveyResponse, SurveyAnswerValue
    counted = [q.key for q in questions if q.type in ("scale5", "scale11", "single", "multi")]
    numbers = [q.key for q in questions if q.type == "number"]
    dims = (r.round_id, r.department_id, r.section_id, r.role)
    value_rows: list[Any] = []
    number_rows: list[Any] = []
    if counted:
        value_rows = list(
            (
                await _core(
                    session,
                    select(*dims, v.question_key, v.num, v.choice, func.count())
                    .select_from(r)
                    .join(v, v.response_id == r.id)
                    .where(r.round_id.in_(round_ids), v.question_key.in_(counted))
                    .group_by(*dims, v.question_key, v.num, v.choice),
                )
            ).all()
        )
    if numbers:
        number_rows = list(
            (
                await _core(
                    session,
                    select(
                        *dims, v.question_key, func.count(), func.sum(v.num), func.min(v.num), func.max(v.num)
                    )
                    .select_from(r)
                    .join(v, v.response_id == r.id)
                    .where(r.round_id.in_(round_ids), v.question_key.in_(numbers), v.num.is_not(None))
                    .group_by(*dims, v.question_key),
                )
            ).all()
        )
    respondent_rows = list(
        (
            await _core(session, select(*dims, func.count()).where(r.round_id.in_(round_ids)).group_by(*dims))
        ).all()
    )
    return value_rows, number_rows, respondent_rows


def _group_keys(dept: int | None, section: int | None, role: str | None) -> list[str]:
    keys = ["all"]
    if dept is not None:
        keys.append(f"d:{dept}")
    if section is not None:
        keys.append(f"s:{section}")
    if role is not None:
        keys.append(f"r:{role}")
    return keys


def _build_groups(
    round_id: int,
    value_rows: list[Any],
    number_rows: list[Any],
    respondent_rows: list[Any],
    depts: dict[int, str],
    sections: dict[int, tuple[str, int]],
) -> dict[str, Group]:
    groups: dict[str, Group] = {"all": Group("all", "all", "全体", 0)}

    def group(key: str) -> Group:
        if key not in groups:
            kind, _, ident = key.partition(":")
            if kind == "d":
                groups[key] = Group(key, "department", depts.get(int(ident), "—"), 0)
            elif kind == "s":
                name, dept = sections.get(int(ident), ("—", 0))
                groups[key] = Group(key, "section", name, 0, parent=f"d:{dept}")
            else:
                groups[key] = Group(key, "role", ident, 0)
        return groups[key]

    for rid, dept, section, role, count in respondent_rows:
        if rid != round_id:
            continue
        for key in _group_keys(dept, section, role):
            group(key).respondents += count
    for rid, dept, section, role, qkey, num, choice, count in value_rows:
        if rid != round_id:
            continue
        vkey = _value_key(num, choice)
        for key in _group_keys(dept, section, role):
            g = group(key)
            g.stats.setdefault(qkey, Stat()).add(vkey, count, num)
    for rid, dept, section, role, qkey, count, total, low, high in number_rows:
        if rid != round_id:
            continue
        for key in _group_keys(dept, section, role):
            s = group(key).stats.setdefault(qkey, Stat())
            s.n += count
            s.total += float(total or 0)
            s.minimum = low if s.minimum is None else min(s.minimum, low)
            s.maximum = high if s.maximum is None else max(s.maximum, high)
    return groups


def suppress(groups: dict[str, Group], k: int) -> None:
    """Mark groups under k answers suppressed, then apply complementary suppression so that no
    parent minus its shown children leaves a remainder between 1 and k-1."""
    for g in groups.values():
        if g.respondents < k:
            g.suppressed = True

    def complement(parent: Group, children: list[Group]) -> None:
        while True:
            shown = [c for c in children if not c.suppressed]
            remainder = parent.respondents - sum(c.respondents for c in shown)
            if parent.suppressed or not shown or remainder == 0 or remainder >= k:
                return
            smallest = min(shown, key=lambda c: c.respondents)
            smallest.suppressed = True

    overall = groups["all"]
    departments = [g for g in groups.values() if g.kind == "department"]
    complement(overall, departments)
    for dept in departments:
        complement(dept, [g for g in groups.values() if g.kind == "section" and g.parent == dept.key])
    complement(overall, [g for g in groups.values() if g.kind == "role"])
    for g in groups.values():
        if g.suppressed:
            for s in g.stats.values():
                s.suppressed = True


_KIND_RANK = {"all": 0, "department": 1, "section": 2, "role": 3}


def in_roster_order(groups: dict[str, Group], order: RosterOrder) -> dict[str, Group]:
    """Overall, then departments and sections as the roster lists them, then roles: every table,
    chart and export that walks ``groups`` (or ``of_kind``) reads like the roster."""
    ranked = sorted(
        groups.items(), key=lambda kv: (_KIND_RANK.get(kv[1].kind, 9), order.group(kv[0]), kv[1].name)
    )
    return dict(ranked)


async def compute_results(session: AsyncSession, round_id: int) -> RoundResults:
    rnd = await session.get(SurveyRound, round_id)
    if rnd is None:
        raise LookupError(round_id)
    survey = await session.get(Survey, rnd.survey_id)
    assert survey is not None
    questions = parse_questions(rnd.questions)
    depts, sections = await _names(session)
    value_rows, number_rows, respondent_rows = await _grouped(session, [rnd.id], questions)
    groups = _build_groups(rnd.id, value_rows, number_rows, respondent_rows, depts, sections)
    groups = in_roster_order(groups, await roster_order(session))
    if rnd.anonymous:
        suppress(groups, rnd.threshold)
    rates = await response_rates(session, rnd.id)
    invited, responded = rates[0].invited, rates[0].responded
    if rnd.anonymous:
        rates = participation(rates, rnd.threshold)
    comments: dict[str, list[str]] = {}
    comments_suppressed = rnd.anonymous and groups["all"].respondents < rnd.threshold
    text_keys = [q.key for q in questions if q.type == "text"]
    if text_keys and not comments_suppressed:
        rows = (
            await _core(
                session,
                select(SurveyAnswerValue.question_key, SurveyAnswerValue.text)
                .join(SurveyResponse, SurveyResponse.id == SurveyAnswerValue.response_id)
                .where(
                    SurveyResponse.round_id == rnd.id,
                    SurveyAnswerValue.question_key.in_(text_keys),
                    SurveyAnswerValue.text.is_not(None),
                )
                .order_by(SurveyAnswerValue.response_id),  # random ids: no answer order
            )
        ).all()
        for qkey, txt in rows:
            comments.setdefault(qkey, []).append(txt)
    return RoundResults(
        round_id=rnd.id,
        survey_id=survey.id,
        title=survey.title,
        label=rnd.label,
        number=rnd.number,
        status=rnd.status,
        anonymous=rnd.anonymous,
        threshold=rnd.threshold,
        questions=questions,
        invited=invited,
        responded=responded,
        rates=rates,
        groups=groups,
        comments=comments,
        comments_suppressed=comments_suppressed,
    )


# --- trend ----------------------------------------------------------------------------------------


@dataclass
class TrendPoint:
    round_id: int
    label: str
    value: float | None  # favourable share (scale5), mean (scale11/number), adoption (tools)
    mean: float | None
    n: int
    change: float | None = None  # against the previous round with a value


@dataclass
class Drop:
    group: str  # "d:3" / "s:12"
    kind: str
    name: str
    question: str
    before: float
    after: float
    measure: str  # "favourable" | "mean" | "adopted"


@dataclass
class Trend:
    survey_id: int
    rounds: list[tuple[int, str]]  # (round id, label), oldest first
    questions: list[Question]
    overall: dict[str, list[TrendPoint]]  # question key -> points
    by_group: dict[str, dict[str, list[TrendPoint]]]  # group key -> question key -> points
    group_names: dict[str, str]
    drops: list[Drop]

    def to_dict(self) -> dict[str, Any]:
        def pts(points: list[TrendPoint]) -> list[dict[str, Any]]:
            return [p.__dict__ for p in points]

        return {
            "survey_id": self.survey_id,
            "rounds": [{"id": i, "label": label} for i, label in self.rounds],
            "overall": {k: pts(v) for k, v in self.overall.items()},
            "by_group": {g: {k: pts(v) for k, v in qs.items()} for g, qs in self.by_group.items()},
            "group_names": self.group_names,
            "drops": [d.__dict__ for d in self.drops],
        }


def _measure(q: Question, s: Stat | None) -> tuple[float | None, str]:
    if s is None or s.suppressed or not s.n:
        return None, ""
    if q.tool:
        return s.adopted, "adopted"
    if q.type == "scale5":
        return s.favourable, "favourable"
    return s.mean, "mean"


async def _trend_groups(
    session: AsyncSession,
    round_ids: list[int],
    tracked: list[Question],
    depts: dict[int, str],
    sections: dict[int, tuple[str, int]],
) -> dict[int, dict[str, Group]]:
    """Per round, the overall, department and section groups with just what a trend needs: n, sum,
    favourable count (five-point) and adopted count (tools). SQL returns one row per (round,
    department, section, question) — a few thousand rows for a year of a large city."""
    r, v = SurveyResponse, SurveyAnswerValue
    out: dict[int, dict[str, Group]] = {rid: {"all": Group("all", "all", "全体", 0)} for rid in round_ids}
    if not tracked:
        return out
    favourable = func.sum(case((v.num >= 4, 1), else_=0))
    adopted = func.sum(case((v.choice.in_(ADOPTED_KEYS), 1), else_=0))
    dims = (r.round_id, r.department_id, r.section_id)
    rows = (
        await _core(
            session,
            select(*dims, v.question_key, func.count(), func.sum(v.num), favourable, adopted)
            .select_from(r)
            .join(v, v.response_id == r.id)
            .where(r.round_id.in_(round_ids), v.question_key.in_([q.key for q in tracked]))
            .group_by(*dims, v.question_key),
        )
    ).all()
    respondents = (
        await _core(session, select(*dims, func.count()).where(r.round_id.in_(round_ids)).group_by(*dims))
    ).all()

    def group(rid: int, key: str) -> Group:
        groups = out[rid]
        if key not in groups:
            kind, _, ident = key.partition(":")
            if kind == "d":
                groups[key] = Group(key, "department", depts.get(int(ident), "—"), 0)
            else:
                name, dept = sections.get(int(ident), ("—", 0))
                groups[key] = Group(key, "section", name, 0, parent=f"d:{dept}")
        return groups[key]

    for rid, dept, section, count in respondents:
        for key in _group_keys(dept, section, None):
            group(rid, key).respondents += count
    for rid, dept, section, qkey, count, total, fav, adopt in rows:
        for key in _group_keys(dept, section, None):
            stat = group(rid, key).stats.setdefault(qkey, Stat())
            stat.n += count
            stat.total += float(total or 0)
            # Counts stand in for the distribution: "5" for favourable, "daily" for adopted.
            stat.dist["5"] = stat.dist.get("5", 0) + int(fav or 0)
            stat.dist["daily"] = stat.dist.get("daily", 0) + int(adopt or 0)
    return out


async def compute_trend(
    session: AsyncSession, survey_id: int, last: int = 12, upto_round: int | None = None
) -> Trend:
    """Favourable share / mean / adoption per round for the survey's last ``last`` closed rounds,
    overall and per department and section (suppressed groups have no value), with notable drops."""
    cond = [SurveyRound.survey_id == survey_id, SurveyRound.status == "closed"]
    if upto_round is not None:
        cond.append(SurveyRound.id <= upto_round)
    rounds = list(
        (
            await session.scalars(
                select(SurveyRound).where(and_(*cond)).order_by(SurveyRound.open_at.desc()).limit(last)
            )
        ).all()
    )
    rounds.reverse()
    survey = await session.get(Survey, survey_id)
    questions = parse_questions(rounds[-1].questions if rounds else (survey.questions if survey else []))
    tracked = [q for q in questions if q.type in ("scale5", "scale11", "number") or q.tool]
    depts, sections = await _names(session)
    overall: dict[str, list[TrendPoint]] = {q.key: [] for q in tracked}
    by_group: dict[str, dict[str, list[TrendPoint]]] = defaultdict(lambda: defaultdict(list))
    names: dict[str, str] = {}
    drops: list[Drop] = []
    if rounds:
        by_round = await _trend_groups(session, [r.id for r in rounds], tracked, depts, sections)
        for rnd in rounds:
            groups = by_round[rnd.id]
            if rnd.anonymous:
                suppress(groups, rnd.threshold)
            for key, g in groups.items():
                if g.kind not in ("all", "department", "section"):
                    continue
                names[key] = g.name
                for q in tracked:
                    s = g.stats.get(q.key)
                    value, _ = _measure(q, s)
                    point = TrendPoint(
                        rnd.id,
                        rnd.label,
                        value,
                        s.mean if s else None,
                        0 if s is None or s.suppressed else s.n,
                    )
                    series = overall[q.key] if key == "all" else by_group[key][q.key]
                    prev = next((p for p in reversed(series) if p.value is not None), None)
                    if prev is not None and value is not None:
                        point.change = value - prev.value  # type: ignore[operator]
                    series.append(point)
        last_id = rounds[-1].id
        for gkey, qs in by_group.items():
            for q in tracked:
                series = qs.get(q.key) or []
                if len(series) < 2 or series[-1].round_id != last_id:
                    continue
                cur, prev = series[-1], series[-2]
                if cur.value is None or prev.value is None:
                    continue
                if min(cur.n, prev.n) < max(DROP_MIN_N, rounds[-1].threshold):
                    continue
                measure = "adopted" if q.tool else ("favourable" if q.type == "scale5" else "mean")
                threshold = DROP_FAVOURABLE if measure in ("favourable", "adopted") else DROP_MEAN
                if q.type == "scale11":
                    threshold = DROP_MEAN * 2
                if measure in ("favourable", "adopted"):
                    # Small groups swing by chance: also ask for a drop beyond ~2 standard errors.
                    pooled = (prev.value * prev.n + cur.value * cur.n) / (prev.n + cur.n)
                    se = math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / prev.n + 1 / cur.n))
                    threshold = max(threshold, 1.96 * se)
                if q.type == "number":
                    continue  # a rise or fall in hours is not "worse" by itself
                if prev.value - cur.value >= threshold:
                    drops.append(
                        Drop(
                            gkey,
                            "department" if gkey.startswith("d:") else "section",
                            names.get(gkey, gkey),
                            q.key,
                            prev.value,
                            cur.value,
                            measure,
                        )
                    )
        drops.sort(key=lambda d: d.after - d.before)
    return Trend(
        survey_id=survey_id,
        rounds=[(r.id, r.label) for r in rounds],
        questions=tracked,
        overall=overall,
        by_group={g: dict(qs) for g, qs in by_group.items()},
        group_names=names,
        drops=drops,
    )
