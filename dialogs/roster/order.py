"""The roster's organisational order: departments and sections as the city lists them (the order of
the roster file), the one order every list of departments or sections follows.

    order = await roster_order(session)
    rates.sort(key=lambda r: order.section(r.section_id))
    stmt.order_by(*SECTION_ORDER)      # a query that joins Section and Department
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.roster import Department, Section

# ORDER BY for a query that joins Section to its Department.
SECTION_ORDER = (Department.sort_order, Department.id, Section.sort_order, Section.id)
DEPARTMENT_ORDER = (Department.sort_order, Department.id)

Key = tuple[int, int, int, int]
_LAST: Key = (1 << 30, 0, 0, 0)  # unknown (deleted) departments and sections go last


@dataclass(frozen=True)
class RosterOrder:
    sections: dict[int, Key] = field(default_factory=dict)
    departments: dict[int, Key] = field(default_factory=dict)

    def section(self, section_id: int | None) -> Key:
        return self.sections.get(section_id, _LAST) if section_id is not None else _LAST

    def department(self, department_id: int | None) -> Key:
        return self.departments.get(department_id, _LAST) if department_id is not None else _LAST

    def group(self, key: str) -> Key:
        """A group key as survey results name them: "s:12" (section), "d:3" (department)."""
        kind, _, raw = key.partition(":")
        try:
            ident = int(raw)
        except ValueError:
            return _LAST
        if kind == "s":
            return self.section(ident)
        if kind == "d":
            return self.department(ident)
        return _LAST


async def roster_order(session: AsyncSession) -> RosterOrder:
    """Every department and section (closed ones too, for history) with its place in the roster."""
    conn = await session.connection()  # plain rows: this runs on every card and page that lists sections
    rows = (
        await conn.execute(
            select(Section.id, Department.id, Department.sort_order, Section.sort_order).join(
                Department, Department.id == Section.department_id
            )
        )
    ).all()
    depts = (await conn.execute(select(Department.id, Department.sort_order))).all()
    return RosterOrder(
        sections={sid: (dorder or 0, did, sorder or 0, sid) for sid, did, dorder, sorder in rows},
        departments={did: (dorder or 0, did, -1, 0) for did, dorder in depts},
    )
