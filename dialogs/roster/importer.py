"""A roster file is the full list of current promoters: compare it with the roster, then apply.

    parsed = read_roster(data, "名簿.xlsx")
    plan = await plan_import(session, parsed, effective=date(2027, 4, 1))
    if plan.ok:
        await apply_plan(session, plan, actor=Actor("cli"))

People absent from the file have their assignments ended on the effective date (``valid_to``), new ones
start on it, and someone who moves section (or role) has the old assignment ended and a new one started.
Nothing is deleted. ``apply_plan`` writes with bulk statements inside the caller's transaction, so either
everything is written or (on any error) nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.roster.reader import ParsedRoster, Problem, RosterRow
from storage.models.roster import Assignment, Department, Person, PromoterRole, Section
from storage.models.shared import AuditEntry

SectionKey = tuple[str, str]  # (department name, section name)
_CHUNK = 900  # bound parameters per IN (...) query, well inside SQLite's and asyncpg's limits


@dataclass(frozen=True)
class Post:
    """A place in the network: section and role."""

    department: str
    section: str
    role: PromoterRole


@dataclass(frozen=True)
class Change:
    kind: str  # "added" | "moved" | "ended"
    name: str
    email: str
    before: Post | None = None
    after: Post | None = None
    row: int | None = None  # the file row, for added and moved


@dataclass(frozen=True)
class _Open:
    id: int
    person_id: int
    email: str
    name: str
    post: Post
    valid_from: date


@dataclass(frozen=True)
class Actor:
    """Who applies: a roster person (Teams) or the command line."""

    label: str  # email, or "cli"
    person_id: int | None = None


@dataclass
class ImportPlan:
    effective: date
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (email, old name, new name)
    new_departments: list[str] = field(default_factory=list)
    new_sections: list[SectionKey] = field(default_factory=list)
    closed_sections: list[SectionKey] = field(default_factory=list)
    reopened_sections: list[SectionKey] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows: int = 0
    current: int = 0  # open assignments before the import
    # Roster order (department, then section) of the sections known before the import.
    section_rank: dict[SectionKey, tuple[int, int, int]] = field(default_factory=dict, repr=False)
    # What apply needs, resolved against the database at plan time.
    _rows: list[RosterRow] = field(default_factory=list, repr=False)
    _end_ids: list[int] = field(default_factory=list, repr=False)
    _starts: list[RosterRow] = field(default_factory=list, repr=False)
    _renames: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def added(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "added"]

    @property
    def moved(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "moved"]

    @property
    def ended(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "ended"]

    @property
    def has_changes(self) -> bool:
        return bool(
            self.changes
            or self.renamed
            or self.new_sections
            or self.closed_sections
            or self.reopened_sections
            or self.new_departments
        )

    def digest(self) -> str:
        """A fingerprint of what the dry run showed, to notice when the roster changed in between."""
        payload = {
            "effective": self.effective.isoformat(),
            "changes": sorted(
                [c.kind, c.email, _post_list(c.before), _post_list(c.after)] for c in self.changes
            ),
            "renamed": sorted(self.renamed),
            "new_sections": sorted(self.new_sections),
            "closed": sorted(self.closed_sections),
            "reopened": sorted(self.reopened_sections),
        }
        raw = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "moved": len(self.moved),
            "ended": len(self.ended),
            "unchanged": self.unchanged,
            "renamed": len(self.renamed),
            "new_sections": len(self.new_sections),
            "closed_sections": len(self.closed_sections),
            "reopened_sections": len(self.reopened_sections),
        }


def _post_list(post: Post | None) -> list[str] | None:
    return [post.department, post.section, post.role.value] if post else None


async def _open_assignments(session: AsyncSession) -> list[_Open]:
    stmt = (
        select(
            Assignment.id,
            Person.id,
            Person.email,
            Person.name,
            Department.name,
            Section.name,
            Assignment.role,
            Assignment.valid_from,
        )
        .join(Person, Person.id == Assignment.person_id)
        .join(Section, Section.id == Assignment.section_id)
        .join(Department, Department.id == Section.department_id)
        .where(Assignment.valid_to.is_(None))
        .order_by(Assignment.id)
    )
    return [
        _Open(aid, pid, email, name, Post(dept, sec, role), start)
        for aid, pid, email, name, dept, sec, role, start in (await session.execute(stmt)).all()
    ]


async def _people_by_email(session: AsyncSession, emails: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(emails), _CHUNK):
        chunk = emails[i : i + _CHUNK]
        rows = await session.execute(
            select(Person.email, Person.id, Person.name).where(Person.email.in_(chunk))
        )
        for email, pid, name in rows.all():
            found[email] = (pid, name)
    return found


async def plan_import(session: AsyncSession, parsed: ParsedRoster, effective: date) -> ImportPlan:
    """Compare the file with the open assignments. Reads only; safe for a dry run."""
    plan = ImportPlan(effective=effective, problems=list(parsed.problems), warnings=list(parsed.warnings))
    plan.rows = parsed.data_rows
    if parsed.problems:
        return plan
    rows = parsed.rows
    plan._rows = rows
    # History is a line: a change dated before the latest recorded one would overlap it.
    latest = max(
        (
            d
            for d in (
                await session.execute(select(func.max(Assignment.valid_from), func.max(Assignment.valid_to)))
            ).one()
            if d
        ),
        default=None,
    )
    if latest is not None and effective < latest:
        plan.problems.append(
            Problem(
                "effective_before_latest",
                params={"latest": latest.isoformat(), "effective": effective.isoformat()},
            )
        )
        return plan

    departments = set((await session.scalars(select(Department.name))).all())
    sections: dict[SectionKey, bool] = {}
    for dept, sec, active, dept_order, sec_order, sid in (
        await session.execute(
            select(
                Department.name,
                Section.name,
                Section.active,
                Department.sort_order,
                Section.sort_order,
                Section.id,
            ).join(Department, Department.id == Section.department_id)
        )
    ).all():
        sections[(dept, sec)] = active
        plan.section_rank[(dept, sec)] = (dept_order, sec_order, sid)
    open_rows = await _open_assignments(session)
    plan.current = len(open_rows)
    open_by_email: dict[str, list[_Open]] = defaultdict(list)
    for o in open_rows:
        open_by_email[o.email].append(o)
    promoters = [r for r in rows if r.role is not None]
    people = await _people_by_email(session, [r.email for r in promoters])

    seen_sections: set[SectionKey] = set()
    for r in rows:
        key = (r.department, r.section)
        if key not in seen_sections:
            seen_sections.add(key)
            if r.department not in departments and r.department not in plan.new_departments:
                plan.new_departments.append(r.department)
            if key not in sections:
                plan.new_sections.append(key)
            elif not sections[key]:
                plan.reopened_sections.append(key)

    in_file: set[str] = set()
    for r in promoters:
        assert r.role is not None
        in_file.add(r.email)
        target = Post(r.department, r.section, r.role)
        current = open_by_email.get(r.email, [])
        known = people.get(r.email)
        if known and known[1] != r.name:
            plan.renamed.append((r.email, known[1], r.name))
            plan._renames[known[0]] = r.name
        keep = next((o for o in current if o.post == target), None)
        for o in current:
            if o is not keep:
                plan._end_ids.append(o.id)
        if keep is not None:
            plan.unchanged += 1
            continue
        plan._starts.append(r)
        if current:
            plan.changes.append(Change("moved", r.name, r.email, current[0].post, target, r.row))
        else:
            plan.changes.append(Change("added", r.name, r.email, None, target, r.row))

    for email, current in open_by_email.items():
        if email in in_file:
            continue
        for o in current:
            plan._end_ids.append(o.id)
            plan.changes.append(Change("ended", o.name, o.email, o.post, None))

    for key, active in sections.items():
        if active and key not in seen_sections:
            plan.closed_sections.append(key)

    current_people = len(open_by_email)
    if current_people >= 10 and len(plan.ended) * 2 > current_people:
        plan.warnings.insert(
            0, Problem("many_ended", params={"ended": len(plan.ended), "current": current_people})
        )
    plan.changes.sort(key=lambda c: ("added moved ended".split().index(c.kind), c.row or 0, c.email))
    return plan


@dataclass(frozen=True)
class MassEnd:
    """An import that would end more assignments than the guard allows, so applying needs a confirmation.

    Only assignments ended without a new one for the person count: a move keeps them in the network.
    """

    ended: int  # assignments that end
    people: int  # people who stop being promoters
    current: int  # open assignments before the import
    sections: list[SectionKey]  # where they end, in roster order
    max_share: float
    max_count: int

    @property
    def percent(self) -> int:
        return round(self.ended * 100 / self.current) if self.current else 100


def mass_end(plan: ImportPlan, max_share: float, max_count: int) -> MassEnd | None:
    """The guard: more than ``max_count`` assignments, or more than ``max_share`` of them, would end.

    guard = mass_end(plan, settings.roster_max_end_share, settings.roster_max_end_count)
    """
    ended = plan.ended
    n = len(ended)
    if n == 0 or (n <= max_count and n <= plan.current * max_share + 1e-9):
        return None
    keys = {(c.before.department, c.before.section) for c in ended if c.before is not None}
    unknown = (1 << 30, 1 << 30, 1 << 30)
    order = sorted(keys, key=lambda k: (plan.section_rank.get(k, unknown), k))
    return MassEnd(n, len({c.email for c in ended}), plan.current, order, max_share, max_count)


async def apply_plan(
    session: AsyncSession,
    plan: ImportPlan,
    actor: Actor,
    file_name: str = "",
    now: datetime | None = None,
    mass_end_confirmed: bool = False,
) -> None:
    """Write the plan in the caller's transaction with bulk statements. Raises if the plan has problems.

    ``mass_end_confirmed`` is recorded in the audit log: someone confirmed ending more than the guard allows.
    """
    if not plan.ok:
        raise ValueError("a roster plan with problems cannot be applied")
    rows = plan._rows

    # Departments and sections, in the file's order.
    dept_order: dict[str, int] = {}
    section_order: dict[SectionKey, int] = {}
    for r in rows:
        dept_order.setdefault(r.department, len(dept_order) + 1)
        section_order.setdefault((r.department, r.section), len(section_order) + 1)
    if plan.new_departments:
        await session.execute(
            insert(Department), [{"name": d, "sort_order": dept_order[d]} for d in plan.new_departments]
        )
    dept_rows = (await session.execute(select(Department.id, Department.name, Department.sort_order))).all()
    dept_ids = {name: did for did, name, _ in dept_rows}
    dept_updates = [
        {"id": did, "sort_order": dept_order[name]}
        for did, name, order in dept_rows
        if name in dept_order and order != dept_order[name]
    ]
    if dept_updates:
        await session.execute(update(Department), dept_updates)
    if plan.new_sections:
        await session.execute(
            insert(Section),
            [
                {"department_id": dept_ids[d], "name": s, "sort_order": section_order[(d, s)], "active": True}
                for d, s in plan.new_sections
            ],
        )
    section_rows = (
        await session.execute(
            select(Section.id, Department.name, Section.name, Section.sort_order, Section.active).join(
                Department, Department.id == Section.department_id
            )
        )
    ).all()
    section_ids: dict[SectionKey, int] = {}
    section_updates = []
    for sid, dept, sec, order, active in section_rows:
        key = (dept, sec)
        section_ids[key] = sid
        want_active = key in section_order
        want_order = section_order.get(key, order)
        if want_active != active or want_order != order:
            section_updates.append({"id": sid, "sort_order": want_order, "active": want_active})
    if section_updates:
        await session.execute(update(Section), section_updates)

    # People: new ones inserted, changed names updated.
    promoters = [r for r in rows if r.role is not None]
    people = await _people_by_email(session, [r.email for r in promoters])
    new_people = [{"name": r.name, "email": r.email} for r in promoters if r.email not in people]
    if new_people:
        await session.execute(insert(Person), new_people)
        people.update(await _people_by_email(session, [p["email"] for p in new_people]))
    if plan._renames:
        await session.execute(
            update(Person), [{"id": pid, "name": name} for pid, name in plan._renames.items()]
        )

    # Assignments: end first, so the one-leader index never sees two open leaders of a section.
    if plan._end_ids:
        await session.execute(
            update(Assignment), [{"id": aid, "valid_to": plan.effective} for aid in plan._end_ids]
        )
    if plan._starts:
        await session.execute(
            insert(Assignment),
            [
                {
                    "section_id": section_ids[(r.department, r.section)],
                    "person_id": people[r.email][0],
                    "role": r.role,
                    "valid_from": plan.effective,
                    "valid_to": None,
                }
                for r in plan._starts
            ],
        )
    session.add(
        AuditEntry(
            at=now or datetime.now(UTC),
            actor_person_id=actor.person_id,
            actor_label=actor.label,
            action="roster.import",
            detail={
                "file": file_name,
                "effective": plan.effective.isoformat(),
                **plan.summary(),
                **({"mass_end_confirmed": True} if mass_end_confirmed else {}),
            },
        )
    )
    await session.flush()
