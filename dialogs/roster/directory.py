"""Questions about the roster: the 「名簿」 summary, 「担当 税務課」 and 「私の役割」.

summary = await roster_summary(session, day)
found = await find_sections(session, "税務 課")   # width- and space-tolerant, suggests close names
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.roster.network import held_on
from dialogs.roster.normalize import fold
from dialogs.roster.order import SECTION_ORDER
from storage.models.roster import (
    Assignment,
    Department,
    DivisionRole,
    DivisionRoleKind,
    Person,
    PromoterRole,
    Section,
)
from storage.models.shared import AuditEntry


@dataclass(frozen=True)
class RosterSummary:
    departments: int
    sections: int
    promoters: int
    leaders: int
    subleaders: int
    sections_without_leader: int
    sections_without_promoter: int
    last_import: datetime | None
    leaderless: list[str] = field(
        default_factory=list
    )  # 「部 課」 of the sections without a leader, roster order


async def roster_summary(session: AsyncSession, day: date) -> RosterSummary:
    sections = (
        await session.scalar(select(func.count()).select_from(Section).where(Section.active.is_(True))) or 0
    )
    departments = (
        await session.scalar(
            select(func.count(distinct(Section.department_id))).where(Section.active.is_(True))
        )
        or 0
    )
    held = (
        select(Assignment.section_id, Assignment.person_id, Assignment.role)
        .join(Section, Section.id == Assignment.section_id)
        .where(held_on(day), Section.active.is_(True))
        .subquery()
    )
    promoters = await session.scalar(select(func.count(distinct(held.c.person_id)))) or 0
    by_role = dict(
        (await session.execute(select(held.c.role, func.count()).group_by(held.c.role))).tuples().all()
    )
    with_leader = (
        await session.scalar(
            select(func.count(distinct(held.c.section_id))).where(held.c.role == PromoterRole.LEADER)
        )
        or 0
    )
    with_anyone = await session.scalar(select(func.count(distinct(held.c.section_id)))) or 0
    last_import = await session.scalar(
        select(func.max(AuditEntry.at)).where(AuditEntry.action == "roster.import")
    )
    leaderless = (
        await session.execute(
            select(Department.name, Section.name)
            .join(Department, Department.id == Section.department_id)
            .where(
                Section.active.is_(True),
                Section.id.not_in(select(held.c.section_id).where(held.c.role == PromoterRole.LEADER)),
            )
            .order_by(*SECTION_ORDER)
        )
    ).all()
    return RosterSummary(
        departments=departments,
        sections=sections,
        promoters=promoters,
        leaders=by_role.get(PromoterRole.LEADER, 0),
        subleaders=by_role.get(PromoterRole.SUBLEADER, 0),
        sections_without_leader=sections - with_leader,
        sections_without_promoter=sections - with_anyone,
        last_import=last_import,
        leaderless=[f"{dept} {sec}" for dept, sec in leaderless],
    )


@dataclass(frozen=True)
class SectionRef:
    id: int
    department: str
    section: str

    @property
    def label(self) -> str:
        return f"{self.department} {self.section}"


@dataclass
class SectionSearch:
    matches: list[SectionRef] = field(default_factory=list)
    suggestions: list[SectionRef] = field(default_factory=list)


async def find_sections(session: AsyncSession, query: str, limit: int = 8) -> SectionSearch:
    """Exact section (or 部+課, or 部 for all its sections); else a unique partial match; else suggestions."""
    key = fold(query)
    result = SectionSearch()
    if not key:
        return result
    rows = (
        await session.execute(
            select(Section.id, Department.name, Section.name)
            .join(Department, Department.id == Section.department_id)
            .where(Section.active.is_(True))
            .order_by(Department.sort_order, Department.id, Section.sort_order, Section.id)
        )
    ).all()
    refs = [SectionRef(sid, dept, sec) for sid, dept, sec in rows]
    exact = [r for r in refs if key in (fold(r.section), fold(r.department + r.section))]
    if exact:
        result.matches = exact
        return result
    whole_department = [r for r in refs if fold(r.department) == key]
    if whole_department:
        result.matches = whole_department
        return result
    partial = [r for r in refs if key in fold(r.department + r.section)]
    if len(partial) == 1:
        result.matches = partial
        return result
    if partial:
        result.suggestions = partial[:limit]
        return result
    scored = []
    for r in refs:
        score = max(
            difflib.SequenceMatcher(None, key, fold(r.section)).ratio(),
            difflib.SequenceMatcher(None, key, fold(r.department + r.section)).ratio(),
        )
        if score >= 0.5:
            scored.append((-score, r.id, r))
    result.suggestions = [r for _, _, r in sorted(scored)[:limit]]
    return result


@dataclass(frozen=True)
class HeldPost:
    department: str
    section: str
    role: PromoterRole
    since: date
    until: date | None  # set when the assignment already has an end date (a transfer ahead)


@dataclass
class PersonRoles:
    name: str
    email: str
    posts: list[HeldPost]
    upcoming: list[HeldPost]
    division: list[DivisionRoleKind]


async def person_roles(session: AsyncSession, person_id: int, day: date) -> PersonRoles | None:
    person = await session.get(Person, person_id)
    if person is None:
        return None
    rows = (
        await session.execute(
            select(Department.name, Section.name, Assignment.role, Assignment.valid_from, Assignment.valid_to)
            .join(Section, Section.id == Assignment.section_id)
            .join(Department, Department.id == Section.department_id)
            .where(
                Assignment.person_id == person_id,
                (Assignment.valid_to.is_(None)) | (Assignment.valid_to > day),
            )
            .order_by(Assignment.valid_from)
        )
    ).all()
    posts = [HeldPost(d, s, PromoterRole(r), f, t) for d, s, r, f, t in rows if f <= day]
    upcoming = [HeldPost(d, s, PromoterRole(r), f, t) for d, s, r, f, t in rows if f > day]
    division = [
        DivisionRoleKind(k)
        for k in (
            await session.scalars(
                select(DivisionRole.role)
                .where(DivisionRole.person_id == person_id, DivisionRole.revoked_at.is_(None))
                .order_by(DivisionRole.role)
            )
        ).all()
    ]
    return PersonRoles(person.name, person.email, posts, upcoming, division)
