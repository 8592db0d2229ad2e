"""A small city for survey tests: departments, sections, promoters with Teams chats the bot knows.

Rows go in with Core inserts naming only the columns these tests need, so other features adding
columns (with their own migrations) does not break them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Assignment,
    ConversationRef,
    Delivery,
    Department,
    Person,
    Section,
    TeamsAccount,
)
from tests.support import ADMIN, TENANT
from tests.support import Person as Chat

# (department, section, leaders, sub-leaders)
CITY = [
    ("総務部", "総務課", 1, 5),  # 6 promoters: big enough to be shown on its own
    ("総務部", "人事課", 1, 4),  # 5: shown on its own too, if they answer
    ("財務部", "税務課", 1, 2),
    ("財務部", "収納課", 1, 2),
]


@dataclass
class Member:
    person_id: int
    section: str
    department: str
    role: str
    chat: Chat


@dataclass
class City:
    members: list[Member] = field(default_factory=list)
    admin_person_id: int = 0
    sections: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)

    def by_section(self, name: str) -> list[Member]:
        return [m for m in self.members if m.section == name]


def _now() -> datetime:
    return datetime.now(UTC)


async def add_chat(session: AsyncSession, service_url: str, chat: Chat, person_id: int | None) -> None:
    now = _now()
    await session.execute(
        insert(TeamsAccount.__table__).values(
            tenant_id=TENANT,
            aad_object_id=chat.aad_object_id,
            upn=chat.email.lower() if chat.email else None,  # Teams' sign-in name; the roster lists it
            user_id=chat.user_id,
            name=chat.name,
            email=chat.email,
            person_id=person_id,
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.execute(
        insert(ConversationRef.__table__).values(
            conversation_id=chat.conversation_id,
            conversation_type="personal",
            service_url=service_url,
            tenant_id=TENANT,
            bot_id="28:dxbot",
            user_id=chat.user_id,
            aad_object_id=chat.aad_object_id,
            reference={},
            reachable=True,
            created_at=now,
            updated_at=now,
        )
    )


async def build_city(
    session: AsyncSession, service_url: str, since: date, layout: list[Any] | None = None
) -> City:
    city = City()
    pid = 100
    for order, (dept, sec, leaders, subs) in enumerate(layout or CITY):
        if dept not in city.departments:
            result = await session.execute(
                insert(Department.__table__)
                .values(name=dept, sort_order=order)
                .returning(Department.__table__.c.id)
            )
            city.departments[dept] = result.scalar_one()
        result = await session.execute(
            insert(Section.__table__)
            .values(department_id=city.departments[dept], name=sec, sort_order=order, active=True)
            .returning(Section.__table__.c.id)
        )
        city.sections[sec] = result.scalar_one()
        for i in range(leaders + subs):
            pid += 1
            role = "leader" if i < leaders else "subleader"
            email = f"p{pid}@city.example.jp"
            await session.execute(
                insert(Person.__table__).values(id=pid, name=f"職員{pid}", email=email, created_at=_now())
            )
            await session.execute(
                insert(Assignment.__table__).values(
                    section_id=city.sections[sec], person_id=pid, role=role, valid_from=since, valid_to=None
                )
            )
            chat = Chat(f"29:p{pid}", f"aad-p{pid}", f"職員{pid}", email)
            await add_chat(session, service_url, chat, pid)
            city.members.append(Member(pid, sec, dept, role, chat))
    # The DX admin: a roster person (so results can be addressed to them) with a chat.
    city.admin_person_id = 900
    await session.execute(
        insert(Person.__table__).values(id=900, name=ADMIN.name, email=ADMIN.email, created_at=_now())
    )
    await add_chat(session, service_url, ADMIN, 900)
    return city


async def invitation_activity(
    session: AsyncSession, round_id: int, person_id: int, purpose: str = "invite"
) -> str:
    activity = await session.scalar(
        select(Delivery.activity_id).where(
            Delivery.kind == "survey",
            Delivery.ref_id == round_id,
            Delivery.person_id == person_id,
            Delivery.purpose == purpose,
        )
    )
    assert activity, f"no delivered {purpose} for person {person_id}"
    return activity


def answers_for(
    questions: list[dict[str, Any]], score: int = 4, comment: str | None = None
) -> dict[str, Any]:
    """Card submit values for every question (scales get ``score``)."""
    data: dict[str, Any] = {}
    for q in questions:
        if q["type"] == "scale5":
            data[f"q.{q['key']}"] = str(score)
        elif q["type"] == "scale11":
            data[f"q.{q['key']}"] = "7"
        elif q["type"] == "single":
            data[f"q.{q['key']}"] = q["choices"][0]["key"]
        elif q["type"] == "multi":
            data[f"q.{q['key']}"] = q["choices"][0]["key"]
        elif q["type"] == "number":
            data[f"q.{q['key']}"] = str(q["min"])
        elif q["type"] == "text" and comment:
            data[f"q.{q['key']}"] = comment
    return data
