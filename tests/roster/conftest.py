"""Helpers for roster tests: sessions on the migrated test database, importing files, reading it all back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.roster.importer import Actor, ImportPlan, apply_plan, plan_import
from dialogs.roster.reader import read_roster
from storage.db import make_engine, make_sessionmaker
from storage.models.roster import Assignment, Department, Person, Section

DATA = Path(__file__).parent / "data"
APRIL_2026 = date(2026, 4, 1)
APRIL_2027 = date(2027, 4, 1)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def import_data(
    sessions: async_sessionmaker[AsyncSession], data: bytes, name: str, effective: date, apply: bool = True
) -> ImportPlan:
    async with sessions() as s, s.begin():
        plan = await plan_import(s, read_roster(data, name), effective)
        if apply and plan.ok:
            await apply_plan(s, plan, Actor("cli"), name)
    return plan


async def import_file(
    sessions: async_sessionmaker[AsyncSession], name: str, effective: date, apply: bool = True
) -> ImportPlan:
    return await import_data(sessions, (DATA / name).read_bytes(), name, effective, apply)


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple]]:
    """Everything the roster holds, in a stable order, to compare before and after."""
    async with sessions() as s:
        departments = (
            await s.execute(select(Department.name, Department.sort_order).order_by(Department.name))
        ).all()
        sections = (
            await s.execute(
                select(Department.name, Section.name, Section.active)
                .join(Department, Department.id == Section.department_id)
                .order_by(Department.name, Section.name)
            )
        ).all()
        people = (await s.execute(select(Person.email, Person.name).order_by(Person.email))).all()
        assignments = (
            await s.execute(
                select(
                    Person.email,
                    Department.name,
                    Section.name,
                    Assignment.role,
                    Assignment.valid_from,
                    Assignment.valid_to,
                )
                .join(Person, Person.id == Assignment.person_id)
                .join(Section, Section.id == Assignment.section_id)
                .join(Department, Department.id == Section.department_id)
                .order_by(Person.email, Assignment.valid_from, Assignment.id)
            )
        ).all()
    return {
        "departments": [tuple(r) for r in departments],
        "sections": [tuple(r) for r in sections],
        "people": [tuple(r) for r in people],
        "assignments": [tuple(r) for r in assignments],
    }


def open_posts(snap: dict[str, list[tuple]]) -> dict[str, tuple]:
    """email -> (department, section, role) of the open assignments."""
    return {a[0]: (a[1], a[2], a[3].value) for a in snap["assignments"] if a[5] is None}


@contextmanager
def recorded_statements(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs (executemany counts once)."""
    engine = session.bind.sync_engine  # type: ignore[union-attr]
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
