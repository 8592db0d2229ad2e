"""The dispatcher enforces what a route declares, one test per property: kind, role, scopes.

Plus the concrete case from issue #11 through HTTP: 「ここをDX推進課チャンネルにする」 in a 1:1 chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.api import Conversation, FileAttachment, Identity, Role, User
from dialogs.announce.service import CHANNEL_KEY
from dialogs.kit.dispatch import dispatch
from dialogs.kit.i18n import t
from dialogs.kit.router import Router, RouteTable, by_extension
from storage.models import AppSetting
from tests.support import ADMIN, activity, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio


@dataclass
class RecordingTurn:
    """Just enough of ``bot.api.Turn`` for the dispatcher: it records replies."""

    text: str = ""
    value: dict[str, Any] | None = None
    conversation_type: str = "personal"
    roles: frozenset[Role] = frozenset({Role.ANYONE})
    attachments: list[FileAttachment] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    locale: str = "ja"
    correlation_id: str = "test"

    @property
    def identity(self) -> Identity:
        return Identity(roles=self.roles)

    @property
    def conversation(self) -> Conversation:
        return Conversation(id="conv", type=self.conversation_type)

    @property
    def user(self) -> User:
        return User(id="29:u", aad_object_id="aad-u", name="利用者")

    def t(self, key: str, **kwargs: Any) -> str:
        return t(key, self.locale, **kwargs)

    async def reply(self, text: str) -> str | None:
        self.replies.append(text)
        return "act-1"


def table_with_runs() -> tuple[RouteTable, list[str]]:
    runs: list[str] = []
    router = Router("test")

    @router.command("チャネル専用", scopes=("channel", "groupChat"))
    async def channel_only(turn: Any, args: str) -> None:
        runs.append("channel_only")

    @router.command("管理者専用", role=Role.ADMIN)
    async def admin_only(turn: Any, args: str) -> None:
        runs.append("admin_only")

    @router.action("test.personal", scopes=("personal",))
    async def personal_action(turn: Any, data: dict[str, Any]) -> None:
        runs.append("personal_action")

    @router.on_file(
        accepts=by_extension("csv"), scopes=("personal",), scope_hint="roster.import.personal_only"
    )
    async def personal_file(turn: Any) -> None:
        runs.append("personal_file")

    return RouteTable([router]), runs


async def test_role_a_route_for_admins_does_not_run_for_staff() -> None:
    table, runs = table_with_runs()
    staff = RecordingTurn(text="管理者専用")
    await dispatch(staff, table)
    assert runs == [] and "DX推進課の管理者の方だけ" in staff.replies[0]
    await dispatch(RecordingTurn(text="管理者専用", roles=frozenset({Role.ADMIN})), table)
    assert runs == ["admin_only"]


async def test_scopes_of_a_command_a_channel_command_does_not_run_in_a_personal_chat() -> None:
    table, runs = table_with_runs()
    personal = RecordingTurn(text="チャネル専用", conversation_type="personal")
    await dispatch(personal, table)
    assert runs == []
    assert personal.replies == [
        "「チャネル専用」は、ここでは使えません。"
        "チームのチャネル(ボットをメンションして)かグループチャット(ボットをメンションして)で送ってください。"
    ]
    english = RecordingTurn(text="チャネル専用", locale="en")
    await dispatch(english, table)
    assert "team channel" in english.replies[0] and runs == []
    for kind in ("channel", "groupChat"):
        await dispatch(RecordingTurn(text="チャネル専用", conversation_type=kind), table)
    assert runs == ["channel_only", "channel_only"]


async def test_scopes_of_a_card_action_a_personal_button_does_not_run_in_a_channel() -> None:
    table, runs = table_with_runs()
    channel = RecordingTurn(value={"action": "test.personal"}, conversation_type="channel")
    await dispatch(channel, table)
    assert runs == [] and "ボットとの個人チャット" in channel.replies[0]
    await dispatch(RecordingTurn(value={"action": "test.personal"}), table)
    assert runs == ["personal_action"]


async def test_scopes_of_a_file_route_its_hint_says_where_to_send_it() -> None:
    table, runs = table_with_runs()
    csv = FileAttachment("名簿.csv", "https://files.example/1")
    channel = RecordingTurn(attachments=[csv], conversation_type="channel")
    await dispatch(channel, table)
    assert runs == [] and channel.replies == [t("roster.import.personal_only")]
    await dispatch(RecordingTurn(attachments=[csv]), table)
    assert runs == ["personal_file"]


async def test_kind_a_card_submit_is_never_taken_for_a_typed_message() -> None:
    table, runs = table_with_runs()
    stale = RecordingTurn(value={"verb": "old-card-button"})  # a submit that names no action
    await dispatch(stale, table)
    assert runs == [] and stale.replies == [t("core.unknown_action")]


async def test_the_dx_channel_cannot_be_set_from_a_one_to_one_chat(sqlite_url, connector) -> None:
    connector.members = members_for(ADMIN)
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        status = await bot.post(activity(connector.url, user=ADMIN, text="ここをDX推進課チャンネルにする"))
        assert status in (200, 201)
        async with bot.services.sessionmaker() as s:
            stored = await s.scalar(
                select(func.count()).select_from(AppSetting).where(AppSetting.key == CHANNEL_KEY)
            )
        texts = connector.texts_to(ADMIN.conversation_id)
    assert stored == 0, "the admin's personal chat was stored as the DX division channel"
    assert texts == [
        "「ここをDX推進課チャンネルにする」は、ここでは使えません。"
        "チームのチャネル(ボットをメンションして)かグループチャット(ボットをメンションして)で送ってください。"
    ]
