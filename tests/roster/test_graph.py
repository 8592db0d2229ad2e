"""Proactive installation of the app for promoters the bot cannot reach, against a local fake Graph."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.cli import main as dxbot
from storage.models.shared import AuditEntry
from tests.roster.fake_graph import FakeGraph
from tests.roster.helpers import card_texts, demo_bot, last_card, last_text
from tests.support import ADMIN, LEADER


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


def graph_settings(graph: FakeGraph) -> dict[str, str]:
    return {
        "graph_tenant_id": "tenant-midori",
        "graph_client_id": "client-1",
        "graph_client_secret": "s3cret",
        "graph_teams_app_id": "catalog-app-9",
        "graph_login_url": graph.url,
        "graph_base_url": graph.url + "v1.0",
    }


async def test_coverage_offers_installation_and_the_button_installs_for_the_unreachable(
    sqlite_url, connector, graph
):
    graph.answers = {
        "yoko.nakamura@demo-city.example.jp": [409],  # installed already, never talked to the bot
        "chihiro.matsumoto@demo-city.example.jp": [404],  # not in the tenant
        "shota.sato@demo-city.example.jp": [429, 201],  # throttled once
    }
    async with demo_bot(sqlite_url, connector, **graph_settings(graph)) as bot:
        await bot.say("ヘルプ", user=LEADER)  # reachable: must not be installed again
        await bot.say("カバー状況", user=ADMIN)
        card = last_card(connector, ADMIN)
        assert [a["title"] for a in card["actions"]] == ["未追加の99人にアプリを追加する"]
        await bot.press(card["actions"][0]["data"], user=ADMIN)
        reply = last_text(connector, ADMIN)
        async with bot.services.sessionmaker() as s:
            entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "roster.app_install"))
    users = {c["user"] for c in graph.installs}
    assert len(users) == 99 and LEADER.email not in users
    assert [c["status"] for c in graph.installs if c["user"] == "shota.sato@demo-city.example.jp"] == [
        429,
        201,
    ]
    assert all(
        c["body"] == {"teamsApp@odata.bind": graph.url + "v1.0/appCatalogs/teamsApps/catalog-app-9"}
        for c in graph.installs
    )
    assert graph.token_requests[0]["tenant"] == "tenant-midori"
    assert graph.token_requests[0]["grant_type"] == "client_credentials"
    assert graph.token_requests[0]["scope"] == "https://graph.microsoft.com/.default"
    assert reply.startswith(
        "アプリの追加を99人に依頼しました。追加済み97人、すでに追加されていた方1人、Teamsに見つからない方1人、"
    )
    assert (
        entry.detail["installed"] == 97 and entry.detail["already"] == 1 and entry.actor_label == ADMIN.email
    )


async def test_bad_graph_credentials_are_explained(sqlite_url, connector, graph):
    graph.token_status = 401
    async with demo_bot(sqlite_url, connector, **graph_settings(graph)) as bot:
        await bot.press({"action": "roster.install"}, user=ADMIN)
    assert last_text(connector, ADMIN).startswith("Microsoft Graph にサインインできませんでした。")
    assert graph.installs == []


async def test_without_graph_settings_there_is_no_button_and_pressing_explains(sqlite_url, connector, graph):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("カバー状況", user=ADMIN)
        card = last_card(connector, ADMIN)
        await bot.press({"action": "roster.install"}, user=ADMIN)
    assert "actions" not in card
    # In the DX division's terms: what IT can set up, and what it then offers; no setting names.
    assert any("情報システム課にアプリの一括追加を設定してもらうと" in t for t in card_texts(card))
    assert not [t for t in card_texts(card) if "DXBOT_" in t or "dxbot" in t]
    said = last_text(connector, ADMIN)
    assert said.startswith("アプリの一括追加がまだ設定されていないため、追加できませんでした。")
    assert "DXBOT_" not in said


def test_cli_install_app(sqlite_url, graph_sync, monkeypatch, capsys):
    url, fake = graph_sync
    monkeypatch.setenv("DXBOT_DATABASE_URL", sqlite_url)
    assert dxbot(["seed-demo"]) == 0
    assert dxbot(["roster", "install-app", "--dry-run"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "leader@demo-city.example.jp" in listed and len([x for x in listed if "@" in x]) >= 100
    for key, value in graph_settings(fake).items():
        monkeypatch.setenv(f"DXBOT_{key.upper()}", value)
    assert dxbot(["roster", "install-app"]) == 0
    assert "アプリの追加を100人に依頼しました。追加済み100人" in capsys.readouterr().out
    assert len(fake.installed()) == 100


@pytest.fixture
def graph_sync():
    """A fake Graph on its own thread and loop, for the synchronous CLI tests."""
    import asyncio
    import threading

    fake = FakeGraph()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield fake.url, fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
