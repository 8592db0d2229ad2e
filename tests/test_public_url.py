"""DXBOT_PUBLIC_URL follows DXBOT_PORT when it is not set, so a bot on another port links to itself;
`make playground PORT=…` runs the bot (and points the playground) there."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.fakes.connector import FakeConnector
from tests.support import ADMIN, members_for, running_bot, settings_for

ROOT = Path(__file__).resolve().parents[1]


def test_public_url_defaults_to_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DXBOT_PUBLIC_URL", "DXBOT_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:3978"  # type: ignore[call-arg]
    monkeypatch.setenv("DXBOT_PORT", "3979")
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:3979"  # type: ignore[call-arg]
    monkeypatch.setenv("DXBOT_PUBLIC_URL", "https://dxbot.city.example.jp")
    assert Settings(_env_file=None).public_url == "https://dxbot.city.example.jp"  # type: ignore[call-arg]


@pytest.mark.asyncio
async def test_links_on_cards_use_the_bots_own_port(sqlite_url: str, connector: FakeConnector) -> None:
    connector.members = members_for(ADMIN)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email], port=3979), connector) as bot:
        await bot.say("ダッシュボード", user=ADMIN)
    assert "http://127.0.0.1:3979/dashboard" in connector.texts_to(ADMIN.conversation_id)[-1]


def test_make_playground_takes_the_bots_port() -> None:
    plan = subprocess.run(
        ["make", "-n", "playground", "PORT=3979"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    run = next(line for line in plan.splitlines() if "dxbot run" in line)
    assert "DXBOT_PORT=3979" in run.split("dxbot run")[0]  # the bot listens there
    assert "DXBOT_PORT=3979 e2e/playground.sh" in run  # and the playground talks to it
