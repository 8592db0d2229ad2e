"""Reach: for every active section, are a leader and sub-leaders named, and can the bot write to each?

    report = await coverage(session, day)
    report.sections[0]   # sections with no reachable promoter come first

A promoter is reachable when one of their Teams accounts (matched by email, or linked by the role
source) has a personal conversation reference the bot may still use. One query answers it for the
whole network; the reachability test is an indexed EXISTS per holder, so 60 sections and several
thousand cost the same kind of plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.roster.network import held_on
from storage.models import ConversationRef, TeamsAccount
from storage.models.roster import Assignment, Department, Person, PromoterRole, Section

NONE_REACHABLE, PARTIAL, COMPLETE = 0, 1, 2


@dataclass(frozen=True)
class Holder:
    person_id: int
    name: str
    email: str
    role: PromoterRole
    reachable: bool


@dataclass
class SectionCoverage:
    section_id: int
    department: str
    section: str
    leader: Holder | None = None
    subleaders: list[Holder] = field(default_factory=list)
    order: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def holders(self) -> list[Holder]:
        return ([self.leader] if self.leader else []) + self.subleaders

    @property
    def reachable(self) -> int:
        return sum(h.reachable for h in self.holders)

    @property
    def status(self) -> int:
        """0: nobody in this section can be reached; 1: a gap (no leader, or someone unreachable); 2: all set."""
        if self.reachable == 0:
            return NONE_REACHABLE
        if self.leader is None or self.reachable < len(self.holders):
            return PARTIAL
        return COMPLETE


@dataclass
class CoverageReport:
    day: date
    sections: list[SectionCoverage]

    @property
    def promoters(self) -> int:
        return sum(len(s.holders) for s in self.sections)

    @property
    def reachable_promoters(self) -> int:
        return sum(s.reachable for s in self.sections)

    def count(self, status: int) -> int:
        return sum(1 for s in self.sections if s.status == status)

    @property
    def without_leader(self) -> int:
        return sum(1 for s in self.sections if s.leader is None)

    def unreachable(self) -> list[Holder]:
        return [h for s in self.sections for h in s.holders if not h.reachable]


def reachable_clause() -> object:
    """EXISTS a usable personal chat with one of this person's Teams accounts."""
    return (
        exists()
        .where(
            or_(
                TeamsAccount.person_id == Person.id,
                # not linked yet: the account the link will be made to (by UPN, dialogs/kit/identity.py)
                and_(TeamsAccount.person_id.is_(None), TeamsAccount.upn == Person.email),
            ),
            ConversationRef.aad_object_id == TeamsAccount.aad_object_id,
            ConversationRef.conversation_type == "personal",
            ConversationRef.reachable.is_(True),
        )
        .correlate(Person)
    )


async def reachable_people(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    """Of these people, those with a personal chat the bot can write into (``reachable_clause``):
    the one count behind coverage, an announcement's and a survey round's preview."""
    if not person_ids:
        return set()
    reach = cast(ColumnElement[bool], reachable_clause())
    return set(await session.scalars(select(Person.id).where(Person.id.in_(person_ids), reach)))


async def coverage(session: AsyncSession, day: date) -> CoverageReport:
    reach = reachable_clause()
    stmt = (
        select(
            Section.id,
            Department.name,
            Section.name,
            Department.sort_order,
            Department.id,
            Section.sort_order,
            Assignment.role,
            Person.id,
            Person.name,
            Person.email,
            reach.label("reachable"),  # type: ignore[attr-defined]
        )
        .select_from(Section)
        .join(Department, Department.id == Section.department_id)
        .outerjoin(Assignment, and_(Assignment.section_id == Section.id, held_on(day)))
        .outerjoin(Person, Person.id == Assignment.person_id)
        .where(Section.active.is_(True))
    )
    by_section: dict[int, SectionCoverage] = {}
    for sid, dept, sec, dept_order, dept_id, sec_order, role, pid, name, email, ok in (
        await session.execute(stmt)
    ).all():
        entry = by_section.get(sid)
        if entry is None:
            entry = by_section[sid] = SectionCoverage(
                sid, dept, sec, order=(dept_order, dept_id, sec_order, sid)
            )
        if pid is None:
            continue
        holder = Holder(pid, name, email, PromoterRole(role), bool(ok))
        if holder.role is PromoterRole.LEADER:
            entry.leader = holder
        else:
            entry.subleaders.append(holder)
    for entry in by_section.values():
        entry.subleaders.sort(key=lambda h: h.name)
    ordered = sorted(by_section.values(), key=lambda s: (s.status, s.order))
    return CoverageReport(day, ordered)
