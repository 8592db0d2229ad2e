"""The real HTTP path: an activity in through /api/messages, replies out to a fake Bot Connector."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.engines.delivery.worker import drain
from storage.models import ConversationRef, TeamsAccount
from tests.cards import by_id, title
from tests.support import ADMIN, STAFF, TENANT, activity, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio


async def test_help_reply_and_reference_stored(sqlite_url, connector):
    connector.members = members_for(STAFF)
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        status = await bot.say("ヘルプ", user=STAFF)
        assert status in (200, 201)
        cards = connector.cards_to(STAFF.conversation_id)
        assert len(cards) == 1
        assert title(cards[0]) == "DX推進ボットでできること"
        async with bot.services.sessionmaker() as s:
            ref = await s.scalar(select(ConversationRef))
            account = await s.scalar(select(TeamsAccount))
        assert ref.conversation_id == STAFF.conversation_id
        assert ref.service_url == connector.url
        assert ref.reachable and ref.aad_object_id == STAFF.aad_object_id
        assert account.email == STAFF.email


async def test_width_and_case_insensitive_commands_and_english(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.say("ﾍﾙﾌﾟ")
        await bot.say("HELP", locale="en-US")
    cards = connector.cards_to(STAFF.conversation_id)
    assert [title(c) for c in cards] == [
        "DX推進ボットでできること",
        "What DX Promoter Bot can do",
    ]


async def test_free_text_is_never_met_with_silence(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        assert await bot.say("こんにちは、よろしく") in (200, 201)
    assert connector.sent_to(STAFF.conversation_id), "free text got no reply"


async def test_empty_message_points_to_help(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.say("   ")
    texts = connector.texts_to(STAFF.conversation_id)
    assert texts and "ヘルプ" in texts[-1]


async def test_admin_from_settings_sees_admin_help(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)
        await bot.say("ヘルプ", user=STAFF)
    admin_card = connector.cards_to(ADMIN.conversation_id)[0]
    staff_card = connector.cards_to(STAFF.conversation_id)[0]
    assert "管理者" in by_id(admin_card, "help.you")["text"]
    assert "管理者" not in by_id(staff_card, "help.you")["text"]

    def groups(card: dict) -> list[str]:
        return [i["text"] for i in by_id(card, "help.commands")["items"] if i.get("type") == "TextBlock"]

    # Commands come in groups under each feature's name; a staff member sees no group they cannot use.
    assert groups(admin_card)[:4] == ["基本", "未対応", "お知らせ", "パルスサーベイ"]
    assert "お知らせ" not in groups(staff_card) and "よくある質問・問い合わせ" in groups(staff_card)
    assert not any(g.startswith("help.") for g in groups(admin_card) + groups(staff_card))


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b'{"type": ""}', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 400),
        (b'{"type": "message", "from": 5, "conversation": "x"}', "application/json", 400),
        (b"\xff\xfe garbage", "application/json", 400),
    ],
)
async def test_bad_input_is_400_never_500(sqlite_url, connector, body, content_type, expected):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        resp = await bot.client.post("/api/messages", data=body, headers={"Content-Type": content_type})
        assert resp.status == expected
        assert "message" in await resp.json()


async def test_body_over_256kb_is_413(sqlite_url, connector):
    big = activity(connector.url, text="あ" * 100_000)  # ~300 KB in UTF-8
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        status = await bot.post(big)
    assert status == 413
    assert connector.calls == []


async def test_unknown_activity_types_are_accepted_and_ignored(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        for kind in ("typing", "messageReaction", "somethingNew", "event"):
            status = await bot.post(activity(connector.url, type=kind))
            assert 200 <= status < 300
    assert connector.replies() == []


async def test_missing_or_invalid_token_is_401_with_app_id(sqlite_url, connector):
    settings = settings_for(
        sqlite_url,
        app_id="11111111-2222-3333-4444-555555555555",
        app_password="x",
        app_tenant_id=TENANT,
        secret_key="k" * 32,
    )
    async with running_bot(settings, connector) as bot:
        assert await bot.post(activity(connector.url, text="ヘルプ")) == 401
        bad = {"Authorization": "Bearer not-a-real-token"}
        assert await bot.post(activity(connector.url, text="ヘルプ"), headers=bad) == 401
    assert connector.replies() == []


async def test_tenant_outside_allowed_list_is_refused(sqlite_url, connector):
    settings = settings_for(sqlite_url, allowed_tenants=["another-tenant"])
    async with running_bot(settings, connector) as bot:
        assert await bot.say("ヘルプ") == 403
    assert connector.replies() == []


async def test_allowed_tenant_passes(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url, allowed_tenants=[TENANT]), connector) as bot:
        assert await bot.say("ヘルプ") in (200, 201)
    assert len(connector.cards_to(STAFF.conversation_id)) == 1


async def test_uninstall_marks_reference_unreachable(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.post(activity(connector.url, type="installationUpdate", action="add"))
        await bot.post(activity(connector.url, type="installationUpdate", action="remove"))
        async with bot.services.sessionmaker() as s:
            ref = await s.scalar(select(ConversationRef))
    assert ref is not None and ref.reachable is False and ref.unreachable_reason == "uninstalled"


async def test_turn_failure_is_apologised_in_japanese_with_reference(sqlite_url, connector, monkeypatch):
    import dialogs.help

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(dialogs.help, "help_card", broken)
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        status = await bot.say("ヘルプ")
    assert status < 500
    text = connector.texts_to(STAFF.conversation_id)[-1]
    assert "申し訳ありません" in text and "お問い合わせ番号" in text
    assert "boom" not in text and "Traceback" not in text


async def test_health_and_readiness(sqlite_url, tmp_path, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        assert (await bot.client.get("/healthz")).status == 200
        assert (await bot.client.get("/readyz")).status == 200
    empty = f"sqlite+aiosqlite:///{tmp_path}/empty.sqlite3"
    async with running_bot(settings_for(empty), connector) as bot:
        assert (await bot.client.get("/healthz")).status == 200
        resp = await bot.client.get("/readyz")
        assert resp.status == 503


async def test_repeated_messages_do_not_rewrite_the_reference(sqlite_url, connector):
    from datetime import UTC, datetime, timedelta

    times = iter([datetime(2026, 4, 1, tzinfo=UTC) + timedelta(minutes=m) for m in range(10)])
    async with running_bot(settings_for(sqlite_url), connector, clock=lambda: next(times)) as bot:
        await bot.say("ヘルプ")
        async with bot.services.sessionmaker() as s:
            first = (await s.scalar(select(ConversationRef))).updated_at
        await bot.say("ヘルプ")
        async with bot.services.sessionmaker() as s:
            second = (await s.scalar(select(ConversationRef))).updated_at
    assert second == first


async def test_install_in_personal_chat_greets_in_japanese(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.post(activity(connector.url, type="installationUpdate", action="add"))
        await drain(bot.services)  # the greeting goes out through the delivery queue
        await bot.post(activity(connector.url, type="installationUpdate", action="remove"))
    texts = connector.texts_to(STAFF.conversation_id)
    assert len(texts) == 1 and "はじめまして" in texts[0] and "ヘルプ" in texts[0]


async def test_shutdown_lets_a_running_turn_finish(sqlite_url, connector):
    import asyncio

    connector.latency = 1.0  # the reply takes a second to reach "Teams"
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        turn = asyncio.create_task(bot.say("ヘルプ"))
        await asyncio.sleep(0.3)
        closing = asyncio.create_task(bot.client.app.shutdown())
        await asyncio.sleep(0.2)
        assert not closing.done(), "shutdown did not wait for the running turn"
        assert await turn in (200, 201)
        await closing
    assert len(connector.cards_to(STAFF.conversation_id)) == 1


async def test_a_chat_marked_unreachable_is_reachable_again_when_the_user_writes(sqlite_url, connector):
    from storage.references import mark_unreachable

    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.say("ヘルプ")
        async with bot.services.sessionmaker() as s, s.begin():
            # A send failed with 403 in the meantime (the user had blocked the bot).
            await mark_unreachable(s, STAFF.conversation_id, "blocked", bot.services.clock())
        await bot.say("ヘルプ")  # seconds later, unblocked
        async with bot.services.sessionmaker() as s:
            ref = await s.scalar(select(ConversationRef))
    assert ref.reachable and ref.unreachable_reason is None


async def test_channel_reference_keeps_team_and_channel(sqlite_url, connector):
    data = {
        "tenant": {"id": TENANT},
        "team": {"id": "19:team", "name": "DX推進課"},
        "channel": {"id": "19:chan@thread.tacv2", "name": "問い合わせ窓口"},
    }
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.post(
            activity(
                connector.url,
                type="conversationUpdate",
                conversation_id="19:chan@thread.tacv2",
                conversation_type="channel",
                channel_data=data,
                membersAdded=[{"id": "28:dxbot"}],
            )
        )
        async with bot.services.sessionmaker() as s:
            ref = await s.scalar(select(ConversationRef))
    assert (ref.conversation_type, ref.team_id, ref.channel_id) == (
        "channel",
        "19:team",
        "19:chan@thread.tacv2",
    )
    assert ref.title == "DX推進課 / 問い合わせ窓口"
    assert ref.user_id is None and ref.aad_object_id is None


async def test_the_playground_gets_the_city_language_not_its_fixed_en_us(sqlite_url, connector):
    """The Agents Playground labels every activity en-US; the bot answers in DXBOT_LOCALE there."""
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        act = activity(connector.url, text="help", locale="en-US")
        assert await bot.post(act, headers={"x-ms-agents-playground": "true"}) in (200, 201)
        await bot.say("help", locale="en-US")  # a real Teams client in English still gets English
    titles = [title(c) for c in connector.cards_to(STAFF.conversation_id)]
    assert titles == ["DX推進ボットでできること", "What DX Promoter Bot can do"]


async def test_installing_is_enough_for_the_bot_to_know_who_it_can_reach(sqlite_url, connector):
    connector.members = members_for(STAFF)
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.post(activity(connector.url, type="installationUpdate", action="add"))
        async with bot.services.sessionmaker() as s:
            account = await s.scalar(select(TeamsAccount))
    assert account is not None and account.email == STAFF.email
