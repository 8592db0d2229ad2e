"""Interactive replies survive the connector's 429/5xx within a few seconds, then give up quietly."""

from __future__ import annotations

import time

import pytest

from bot import replies
from tests.cards import title
from tests.fakes.connector import FakeConnector, Fault
from tests.support import STAFF, running_bot, settings_for

pytestmark = pytest.mark.asyncio


def _card_posts(connector: FakeConnector) -> list[int]:
    return [
        c.status for c in connector.calls if c.method == "POST" and c.conversation_id == STAFF.conversation_id
    ]


async def test_a_throttled_help_card_arrives_once_after_retry_after(sqlite_url, connector) -> None:
    connector.faults.append(Fault(status=429, retry_after=1, times=1, method="POST"))
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        started = time.monotonic()
        assert await bot.say("ヘルプ") in (200, 201)
        elapsed = time.monotonic() - started
    cards = connector.cards_to(STAFF.conversation_id)
    assert [title(c) for c in cards] == ["DX推進ボットでできること"]
    assert connector.texts_to(STAFF.conversation_id) == []  # no generic apology
    assert _card_posts(connector) == [429, 201]
    assert 1.0 <= elapsed < 4.0  # Retry-After was honoured, not hammered


async def test_a_card_update_is_retried_after_a_502(sqlite_url, connector) -> None:
    from types import SimpleNamespace

    from bot.activity import activity_from_json
    from bot.api import Address, Identity, Message
    from bot.connector import ConnectorMessenger
    from bot.services import open_services
    from bot.turn import BotTurn
    from tests.support import activity

    messenger = ConnectorMessenger(timeout=5)
    async with open_services(settings_for(sqlite_url), messenger=messenger) as services:
        aid = await messenger.send(Address(STAFF.conversation_id, connector.url), Message(text="元の内容"))
        context = SimpleNamespace(activity=activity_from_json(activity(connector.url, text="x")))
        turn = BotTurn(context, None, services, Identity(), "test")  # type: ignore[arg-type]
        connector.faults.append(Fault(status=502, times=2, method="PUT"))
        await turn.update_card(aid, {"type": "AdaptiveCard", "version": "1.5", "body": []})
    await messenger.close()
    assert connector.activities[aid]["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert [c.status for c in connector.calls if c.method == "PUT"] == [502, 502, 200]


async def test_a_connector_failing_for_good_costs_a_bounded_time_and_no_crash(
    sqlite_url, connector, monkeypatch
) -> None:
    monkeypatch.setattr(replies, "REPLY_BUDGET", 3.0)
    connector.faults.append(Fault(status=500, times=10_000, method="POST"))
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        started = time.monotonic()
        status = await bot.say("ヘルプ")
        elapsed = time.monotonic() - started
        assert status in (200, 201)  # Teams is told the activity was taken; the failure is logged
        connector.faults.clear()
        assert await bot.say("ヘルプ") in (200, 201)  # the bot is still serving
    attempts = _card_posts(connector)
    assert elapsed < 3.0 + 1.0, elapsed
    assert attempts[:-1] == [500] * (len(attempts) - 1) and len(attempts) >= 4  # backoff, not one try
    assert attempts[-1] == 201 and len(connector.cards_to(STAFF.conversation_id)) == 1


async def test_a_hanging_connector_is_cut_off_at_the_budget(sqlite_url, connector, monkeypatch) -> None:
    monkeypatch.setattr(replies, "REPLY_BUDGET", 1.5)
    connector.faults.append(Fault(status=0, delay=4, times=5, method="POST"))
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        started = time.monotonic()
        assert await bot.say("ヘルプ") in (200, 201)
        assert time.monotonic() - started < 1.5 + 1.0
