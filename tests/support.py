"""Builders for test activities and a running app, shared by feature tests.

async with running_bot(settings, connector) as bot:
    await bot.send(message("ヘルプ", user=ADMIN))
    cards = connector.cards_to(ADMIN.conversation_id)
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.api import Services
from bot.app import SERVICES, create_app
from bot.settings import Settings
from tests.fakes.connector import FakeConnector

_ids = itertools.count(1)
TENANT = "00000000-0000-0000-0000-0000000000aa"
BOT_ID = "28:dxbot"


@dataclass(frozen=True)
class Person:
    user_id: str
    aad_object_id: str
    name: str
    email: str

    @property
    def conversation_id(self) -> str:
        return f"a:personal-{self.user_id}"


ADMIN = Person("29:admin", "aad-admin", "佐藤 花子", "dx-admin@demo-city.example.jp")
LEADER = Person("29:leader", "aad-leader", "鈴木 一郎", "leader@demo-city.example.jp")
STAFF = Person("29:staff", "aad-staff", "田中 次郎", "staff@demo-city.example.jp")


def members_for(*people: Person) -> dict[str, dict[str, Any]]:
    return {
        p.user_id: {
            "id": p.user_id,
            "name": p.name,
            "aadObjectId": p.aad_object_id,
            "email": p.email,
            "userPrincipalName": p.email,
        }
        for p in people
    }


def activity(
    service_url: str,
    *,
    user: Person = STAFF,
    text: str | None = None,
    value: dict[str, Any] | None = None,
    type: str = "message",
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    locale: str = "ja-JP",
    reply_to_id: str | None = None,
    channel_data: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    act: dict[str, Any] = {
        "type": type,
        "id": f"in-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user.user_id, "name": user.name, "aadObjectId": user.aad_object_id},
        "recipient": {"id": BOT_ID, "name": "DX推進ボット"},
        "conversation": {
            "id": conversation_id or user.conversation_id,
            "conversationType": conversation_type,
            "tenantId": TENANT,
        },
        "channelData": channel_data or {"tenant": {"id": TENANT}},
        "locale": locale,
    }
    if text is not None:
        act["text"] = text
    if value is not None:
        act["value"] = value
    if reply_to_id:
        act["replyToId"] = reply_to_id
    act.update(extra)
    return act


@dataclass
class RunningBot:
    client: TestClient
    connector: FakeConnector
    services: Services

    async def post(self, act: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        resp = await self.client.post("/api/messages", json=act, headers=headers)
        await resp.read()
        return resp.status

    async def say(self, text: str, user: Person = STAFF, **kw: Any) -> int:
        return await self.post(activity(self.connector.url, user=user, text=text, **kw))

    async def press(
        self, data: dict[str, Any], user: Person = STAFF, reply_to_id: str | None = None, **kw: Any
    ) -> int:
        return await self.post(
            activity(self.connector.url, user=user, value=data, reply_to_id=reply_to_id, **kw)
        )


@asynccontextmanager
async def running_bot(
    settings: Settings, connector: FakeConnector, clock: Any = None
) -> AsyncIterator[RunningBot]:
    app = create_app(settings, clock=clock)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield RunningBot(client, connector, app[SERVICES])
    finally:
        await client.close()


def settings_for(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": db_url, "background_jobs": False}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fixed_clock(at: datetime) -> Any:
    return lambda: at
