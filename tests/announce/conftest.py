"""A small city for announcement tests: two departments, three sections, five promoters.

総務部 総務課: LEADER (the Agents Playground's leader user, leader) and 職員101 (sub-leader)
総務部 人事課: 職員102 (leader)
財務部 税務課: 職員103 (leader) and 職員104 (sub-leader, has blocked the bot)
ADMIN (DX division, from DXBOT_ADMINS) writes the announcements.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from storage.models import Assignment, Department, Person, PromoterRole, Section
from tests.delivery.helpers import FAST, add_account, add_chat, conv_of
from tests.support import ADMIN, LEADER, members_for


@dataclass
class City:
    leader_id: int = 0
    sections: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)


async def build_city(services: Any, service_url: str, connector: Any) -> City:
    city = City()
    async with services.sessionmaker() as s, s.begin():
        for order, (dept, sections) in enumerate([("総務部", ["総務課", "人事課"]), ("財務部", ["税務課"])]):
            d = Department(name=dept, sort_order=order)
            s.add(d)
            await s.flush()
            city.departments[dept] = d.id
            for i, name in enumerate(sections):
                sec = Section(department_id=d.id, name=name, sort_order=i, active=True)
                s.add(sec)
                await s.flush()
                city.sections[name] = sec.id
        leader = Person(name=LEADER.name, email=LEADER.email)
        s.add(leader)
        await s.flush()
        city.leader_id = leader.id
        since = date(2025, 4, 1)
        s.add(
            Assignment(
                section_id=city.sections["総務課"],
                person_id=leader.id,
                role=PromoterRole.LEADER,
                valid_from=since,
            )
        )
        for pid, section, role in [
            (101, "総務課", "subleader"),
            (102, "人事課", "leader"),
            (103, "税務課", "leader"),
            (104, "税務課", "subleader"),
        ]:
            s.add(Person(id=pid, name=f"職員{pid}", email=f"p{pid}@city.example.jp"))
            await s.flush()
            s.add(
                Assignment(
                    section_id=city.sections[section],
                    person_id=pid,
                    role=PromoterRole(role),
                    valid_from=since,
                )
            )
            await add_account(s, pid, f"aad-{pid}", f"29:u{pid}", f"p{pid}@city.example.jp")
            await add_chat(s, service_url, conv_of(pid), user_id=f"29:u{pid}", aad_object_id=f"aad-{pid}")
            city.people[f"職員{pid}"] = pid
    connector.blocked.add(conv_of(104))
    connector.members = members_for(ADMIN, LEADER)
    return city


@pytest.fixture
def worker_config() -> Any:
    return FAST


def card_ids(connector: Any, conversation_id: str) -> list[str]:
    """Activity ids of the cards posted into a conversation, oldest first."""
    return [c.created for c in connector.posts() if c.conversation_id == conversation_id and c.created]


def card(connector: Any, activity_id: str) -> dict[str, Any]:
    body = connector.activities[activity_id]
    return body["attachments"][0]["content"]


def card_text(connector: Any, activity_id: str) -> str:
    """Every string in a card, joined: what a person reading it would see."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "title", "value", "label") and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(card(connector, activity_id))
    return "\n".join(out)


def inputs(card_json: dict[str, Any]) -> dict[str, Any]:
    """The values a card's inputs hold (what Teams would submit unchanged)."""
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node.get("value", "")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(card_json)
    return found


def actions(card_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit's data and Action.OpenUrl's url, in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append({"title": node["title"], **node.get("data", {})})
            elif node.get("type") == "Action.OpenUrl":
                found.append({"title": node["title"], "url": node["url"]})
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(card_json)
    return found


def now_utc() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def connector_sync():
    """A fake connector on a thread of its own, for tests that call the CLI (which runs its own loop)."""
    import threading

    from tests.fakes.connector import FakeConnector

    fake = FakeConnector()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


async def edit_sent(
    bot: Any, connector: Any, ann_id: int, reply_to_id: str | None = None, **changes: str
) -> None:
    """The author edits a sent announcement (内容を編集 → 確認 → 更新) with ``changes`` to the form, and the
    worker sends the updates."""
    from dialogs.engines.delivery.worker import drain
    from storage.models.announce import Announcement

    await bot.press({"action": "announce.revise", "id": ann_id}, user=ADMIN, reply_to_id=reply_to_id)
    revise_id = card_ids(connector, ADMIN.conversation_id)[-1]
    values = {**inputs(card(connector, revise_id)), **changes}
    await bot.press(
        {"action": "announce.revise_preview", "id": ann_id, **values}, user=ADMIN, reply_to_id=revise_id
    )
    async with bot.services.sessionmaker() as s:
        version = (await s.get(Announcement, ann_id)).version
    await bot.press(
        {"action": "announce.apply_edit", "id": ann_id, "version": version}, user=ADMIN, reply_to_id=revise_id
    )
    await drain(bot.services, config=FAST)
