"""Reading the promoter network as it stands on a given day (JST), for this and other features.

day = today_jst(services.clock())
rows = await current_promoters(session, day)       # who to send an announcement to
holders = await promoters_of_section(session, section_id, day)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.roster import Assignment, Department, Person, PromoterRole, Section

JST = ZoneInfo("Asia/Tokyo")


def today_jst(now: datetime) -> date:
    return now.astimezone(JST).date()


def held_on(day: date) -> ColumnElement[bool]:
    """An assignment holds on ``day``: started on or before it, and not yet ended (valid_to is exclusive)."""
    return and_(
        Assignment.valid_from <= day,
        or_(Assignment.valid_to.is_(None), Assignment.valid_to > day),
    )


@dataclass(frozen=True)
class Promoter:
    assignment_id: int
    person_id: int
    name: str
    email: str
    role: PromoterRole
    section_id: int
    section: str
    department: str
    valid_from: date


async def current_promoters(session: AsyncSession, day: date) -> list[Promoter]:
    """Every leader and sub-leader holding on ``day``, in roster order (department, section, leader first)."""
    return await current_promoters_where(session, day)


async def promoters_of_section(session: AsyncSession, section_id: int, day: date) -> list[Promoter]:
    return await current_promoters_where(session, day, Section.id == section_id)


async def current_promoters_where(
    session: AsyncSession, day: date, *conditions: ColumnElement[bool]
) -> list[Promoter]:
    stmt = (
        select(
            Assignment.id,
            Person.id,
            Person.name,
            Person.email,
            Assignment.role,
            Section.id,
            Section.name,
            Department.name,
            Assignment.valid_from,
        )
        .join(Person, Person.id == Assignment.person_id)
        .join(Section, Section.id == Assignment.section_id)
        .join(Department, Department.id == Section.department_id)
        .where(held_on(day), *conditions)
        .order_by(
            Department.sort_order, Department.id, Section.sort_order, Section.id, Assignment.role, Person.name
        )
    )
    return [Promoter(*row) for row in (await session.execute(stmt)).all()]
