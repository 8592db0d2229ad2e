"""The help card offers each feature's main actions as buttons, for what this person may do here,
and a button runs its command exactly as if typed."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs.composition import route_table
from dialogs.help import MAIN_ACTIONS
from dialogs.kit.router import fold
from tests.announce.conftest import actions, build_city, card_ids, card_text
from tests.support import ADMIN, LEADER, STAFF, running_bot, settings_for


def _buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in actions(card) if a.get("action") == "help.run"}


def test_every_main_action_names_a_command_of_its_feature() -> None:
    routers = {r.name: r for r in route_table().routers}
    for feature, aliases in MAIN_ACTIONS.items():
        known = {fold(a) for c in routers[feature].commands for a in c.aliases}
        for alias in aliases:
            assert fold(alias) in known, f"help button {alias!r} names no command of {feature}"


@pytest.mark.asyncio
async def test_help_buttons_follow_the_role_and_run_the_command(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        for who in (ADMIN, LEADER, STAFF):
            await bot.say("ヘルプ", user=who)
        admin = _buttons(connector.cards_to(ADMIN.conversation_id)[-1])
        leader = _buttons(connector.cards_to(LEADER.conversation_id)[-1])
        staff = _buttons(connector.cards_to(STAFF.conversation_id)[-1])
        assert {"お知らせ作成", "未確認の課", "回答状況", "カバー状況", "未対応"} <= set(admin)
        assert {"未対応", "私の役割", "自分の問い合わせ", "目安箱"} <= set(leader)
        assert "お知らせ作成" not in leader and "カバー状況" not in leader
        assert "お知らせ作成" not in staff and "回答状況" not in staff and "目安箱" in staff
        # Typed commands are still listed, one short line each.
        assert "**担当 税務課**" in card_text(connector, card_ids(connector, LEADER.conversation_id)[-1])

        # The leader presses 未対応 on the help card: the list's answer comes, the help card stays.
        help_id = card_ids(connector, LEADER.conversation_id)[-1]
        help_before = connector.activities[help_id]
        data = {k: v for k, v in leader["未対応"].items() if k != "title"}
        await bot.press(data, user=LEADER, reply_to_id=help_id)
        assert "未対応の項目はありません" in connector.texts_to(LEADER.conversation_id)[-1]
        assert connector.activities[help_id] == help_before

        # お知らせ作成 opens the compose form as a new card, not over the help card.
        admin_help = card_ids(connector, ADMIN.conversation_id)[-1]
        data = {k: v for k, v in admin["お知らせ作成"].items() if k != "title"}
        await bot.press(data, user=ADMIN, reply_to_id=admin_help)
        newest = card_ids(connector, ADMIN.conversation_id)[-1]
        assert newest != admin_help and "お知らせを作成" in card_text(connector, newest)
        assert "できること" in card_text(connector, admin_help)

        # A forged button for an admin command is refused for a staff member, as typing it would be.
        await bot.press({"action": "help.run", "command": "カバー状況"}, user=STAFF)
        assert "送信担当)の方だけ" in connector.texts_to(STAFF.conversation_id)[-1]


@pytest.mark.asyncio
async def test_channel_help_offers_no_personal_only_buttons(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await bot.say(
            "ヘルプ",
            user=ADMIN,
            conversation_id="19:dx@thread.tacv2",
            conversation_type="channel",
        )
        card = connector.cards_to("19:dx@thread.tacv2")[-1]
        buttons = _buttons(card)
        assert "未対応" not in buttons and "自分の問い合わせ" not in buttons
        assert "私の役割" in buttons
