"""Install greetings are proactive: they go through the delivery queue, so a 429 during an install
burst delays a greeting instead of losing it, and the greetings share the app-wide rate."""

from __future__ import annotations

import pytest

from dialogs.engines.delivery.worker import drain
from tests.delivery.helpers import FAST
from tests.fakes.connector import Fault
from tests.support import STAFF, activity, running_bot, settings_for

pytestmark = pytest.mark.asyncio


async def test_a_greeting_answered_429_is_sent_again_not_lost(sqlite_url, connector):
    # Teams is saturated by an install burst: three 429s with Retry-After 3 s, longer than a reply
    # inside a turn may wait (bot/replies.py gives up after 8 s and the greeting was lost).
    connector.faults.append(Fault(status=429, retry_after=3, times=3, method="POST"))
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.post(activity(connector.url, type="installationUpdate", action="add"))
        await drain(bot.services, config=FAST)
        refused = [c for c in connector.calls if c.status == 429]
        texts = connector.texts_to(STAFF.conversation_id)
        assert len(refused) == 3
        assert len(texts) == 1 and "はじめまして" in texts[0]
        # Teams repeats the install event: one greeting still.
        await bot.post(activity(connector.url, type="installationUpdate", action="add"))
        await drain(bot.services, config=FAST)
    assert len(connector.texts_to(STAFF.conversation_id)) == 1
