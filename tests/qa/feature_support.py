"""Helpers for the QA feature's HTTP-path tests: the inquiry channel, cards and their activity ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.fakes.connector import FakeConnector
from tests.support import TENANT, Person, RunningBot

DESK = "19:dx-division@thread.tacv2"
DESK_CHANNEL_DATA = {
    "tenant": {"id": TENANT},
    "team": {"id": "19:dx-team@thread.tacv2"},
    "channel": {"id": DESK},
}


class Clock:
    """A clock tests move by hand: ``clock.now = ...``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def jst(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    from dialogs.kit.business_days import JST

    return datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(UTC)


async def in_desk(
    bot: RunningBot,
    user: Person,
    *,
    text: str | None = None,
    value: dict[str, Any] | None = None,
    reply_to_id: str | None = None,
) -> int:
    """A message or a card press in the DX division's channel."""
    from tests.support import activity

    act = activity(
        bot.connector.url,
        user=user,
        text=text,
        value=value,
        conversation_id=DESK,
        conversation_type="channel",
        channel_data=DESK_CHANNEL_DATA,
        reply_to_id=reply_to_id,
    )
    return await bot.post(act)


def cards_with_ids(connector: FakeConnector, conversation_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(activity id, card) of the cards posted into a conversation, oldest first, as they are now
    (a card updated in place shows its new content; a deleted one is left out)."""
    result = []
    for aid in _post_ids(connector, conversation_id):
        body = connector.activities.get(aid)
        if body is None:
            continue
        for att in body.get("attachments", []):
            result.append((aid, att["content"]))
    return result


def _post_ids(connector: FakeConnector, conversation_id: str) -> list[str]:
    """Activity ids the fake connector gave to posts into ``conversation_id``, in order."""
    return [
        c.created
        for c in connector.calls
        if c.method == "POST"
        and c.activity_id is None
        and c.status == 201
        and c.conversation_id == conversation_id
        and c.created
    ]


def last_card(connector: FakeConnector, conversation_id: str) -> tuple[str, dict[str, Any]]:
    cards = cards_with_ids(connector, conversation_id)
    assert cards, f"no card was sent to {conversation_id}"
    return cards[-1]


def all_text(card: dict[str, Any]) -> str:
    """Every text a card shows (TextBlocks, facts, button titles, input values), for assertions."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "label"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def find_action(card: dict[str, Any], action: str) -> dict[str, Any]:
    """The data of the first submit button with ``action`` anywhere in the card."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if (
                node.get("type") == "Action.Submit"
                and isinstance(data, dict)
                and data.get("action") == action
            ):
                found.append(dict(data))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    assert found, f"no {action!r} button in the card"
    return found[0]


def has_action(card: dict[str, Any], action: str) -> bool:
    try:
        find_action(card, action)
    except AssertionError:
        return False
    return True


async def settle(bot: RunningBot) -> None:
    """Let the delivery engine send what the turns queued, and what its progress reports queue in turn
    (an answer delivered → the channel card updated)."""
    from dialogs.engines.delivery.worker import drain

    for _ in range(3):
        await drain(bot.services, within=30.0, horizon=1.0)
