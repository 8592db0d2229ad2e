"""A running bot over the demo city, as the tests of commands and the Teams import need it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dialogs.roster.demo import seed_demo
from tests.fakes.connector import FakeConnector
from tests.support import ADMIN, LEADER, STAFF, Person, RunningBot, members_for, running_bot, settings_for

AUTHOR = Person("29:author", "aad-author", "高橋 美穂", "takahashi.miho@demo-city.example.jp")
ADMIN2 = Person("29:admin2", "aad-admin2", "伊藤 誠", "makoto.ito@demo-city.example.jp")
PEOPLE = (ADMIN, LEADER, STAFF, AUTHOR, ADMIN2)


@asynccontextmanager
async def demo_bot(
    db_url: str, connector: FakeConnector, seed: bool = True, clock: Any = None, **settings: Any
) -> AsyncIterator[RunningBot]:
    connector.members = members_for(*PEOPLE)
    async with running_bot(settings_for(db_url, **settings), connector, clock=clock) as bot:
        if seed:
            await seed_demo(bot.services, True)
        yield bot


def card_texts(card: dict[str, Any]) -> list[str]:
    """Every text a user sees on a card: text blocks, facts (title: value) and button titles."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node["text"])
            if node.get("type") == "FactSet":
                out.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
            if node.get("type", "").startswith("Action."):
                out.append(node["title"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return out


def last_card(connector: FakeConnector, person: Person) -> dict[str, Any]:
    cards = connector.cards_to(person.conversation_id)
    assert cards, connector.texts_to(person.conversation_id)
    return cards[-1]


def last_text(connector: FakeConnector, person: Person) -> str:
    texts = [b.get("text") for b in connector.sent_to(person.conversation_id) if not b.get("attachments")]
    assert texts, "no plain text reply"
    return texts[-1] or ""


def last_card_activity(connector: FakeConnector, person: Person) -> tuple[str, dict[str, Any]]:
    """(activity id, card) of the newest card sent into this person's chat."""
    found = None
    for call in connector.calls:
        if call.conversation_id == person.conversation_id and call.method == "POST" and call.body:
            if call.body.get("attachments"):
                found = call
    assert found is not None
    aid = next(a for a, body in connector.activities.items() if body is found.body)
    return aid, found.body["attachments"][0]["content"]


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    """Title -> value of every FactSet on the card."""
    out: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                out.update({f["title"]: f["value"] for f in node["facts"]})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return out


DEPARTMENTS = (
    "総務部",
    "企画部",
    "財務部",
    "市民部",
    "福祉部",
    "健康部",
    "環境部",
    "経済部",
    "建設部",
    "教育部",
)


def city_sections(n: int = 200) -> list[tuple[str, str]]:
    """(部, 課) of a large city, in roster order: 10 departments of n/10 sections each."""
    per = n // len(DEPARTMENTS)
    return [(d, f"{d[:-1]}第{j}課") for d in DEPARTMENTS for j in range(1, per + 1)]


def city_roster_csv(sections: list[tuple[str, str]]) -> bytes:
    """A roster file with a leader and a sub-leader in each section (400 promoters for 200 sections)."""
    lines = ["部,課,役割,氏名,メールアドレス"]
    for i, (dept, sec) in enumerate(city_sections()):
        if (dept, sec) not in sections:
            continue
        lines.append(f"{dept},{sec},リーダー,推進 一郎{i:03d},leader{i:03d}@demo-city.example.jp")
        lines.append(f"{dept},{sec},サブリーダー,推進 花子{i:03d},sub{i:03d}@demo-city.example.jp")
    return ("\n".join(lines) + "\n").encode("utf-8")
