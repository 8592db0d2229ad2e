"""「ダッシュボード」 in the bot tells an admin where the dashboard is; others are refused politely."""

from __future__ import annotations

from tests.fakes.connector import FakeConnector
from tests.support import ADMIN, STAFF, members_for, running_bot, settings_for


async def test_an_admin_is_told_where_the_dashboard_is(sqlite_url: str, connector: FakeConnector) -> None:
    connector.members = members_for(ADMIN, STAFF)
    settings = settings_for(sqlite_url, admins=[ADMIN.email], public_url="http://127.0.0.1:3978")
    async with running_bot(settings, connector) as bot:
        assert await bot.say("ダッシュボード", user=ADMIN) in (200, 201)
        reply = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "http://127.0.0.1:3978/dashboard" in reply
        assert "管理者を選んでサインイン" in reply  # local mode: how to sign in

        await bot.say("ダッシュボード", user=STAFF)
        refusal = connector.texts_to(STAFF.conversation_id)[-1]
        assert "/dashboard" not in refusal
