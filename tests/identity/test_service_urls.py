"""Outbound calls only where they belong: the Messenger sends and looks up members only at service
URLs seen on authenticated requests (in local mode: this machine's loopback URLs)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.api import Address, Message, SendError
from bot.connector import ConnectorMessenger
from storage.db import make_engine, make_sessionmaker
from storage.models import ConversationRef, TeamsAccount
from tests.fakes.connector import FakeConnector
from tests.roster.helpers import demo_bot
from tests.support import ADMIN, activity, members_for

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _outside_ip() -> str | None:
    """An address of this machine that is not loopback (where a stranger's server could listen)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
            ip = probe.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


async def test_local_mode_never_calls_a_strangers_service_url(db_url, connector):
    """The attack: someone who reaches the port claims to be the admin and names their own server as
    serviceUrl. The bot must neither ask that server for the 'member's' address nor send it anything."""
    ip = _outside_ip()
    if ip is None:
        pytest.skip("no non-loopback address on this machine")
    stranger = FakeConnector(members=members_for(ADMIN))
    runner = web.AppRunner(stranger.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, ip, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with demo_bot(db_url, connector) as bot:
            for text in ("ヘルプ", "名簿", "管理者一覧"):
                status = await bot.post(activity(f"http://{ip}:{port}/", user=ADMIN, text=text))
                assert status < 500
            async with bot.services.sessionmaker() as s:
                refs = (await s.scalars(select(ConversationRef))).all()
                accounts = (await s.scalars(select(TeamsAccount))).all()
    finally:
        await runner.cleanup()
    assert stranger.calls == []
    assert refs == [] and accounts == []


async def test_authenticated_mode_trusts_https_urls_seen_on_authenticated_requests(db_url):
    from bot.service_urls import ServiceUrls

    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    seen = "https://smba.trafficmanager.net/jp/"
    try:
        first = ServiceUrls(sessions, local_mode=False)
        assert not await first.allows(seen)
        async with sessions() as s, s.begin():
            await first.note(s, seen, NOW)
            await first.note(s, "http://smba.trafficmanager.net/jp/", NOW)  # never over plain http
            await first.note(s, "https://user:pw@smba.trafficmanager.net/jp/", NOW)
        # Another process (a second bot, the delivery worker, the CLI) learns it from the database.
        other = ServiceUrls(sessions, local_mode=False)
        assert await other.allows(seen)
        assert not await other.allows("http://smba.trafficmanager.net/jp/")
        assert not await other.allows("https://user:pw@smba.trafficmanager.net/jp/")
        assert not await other.allows("https://smba.elsewhere.example/")
        assert not await other.allows("http://127.0.0.1:3978/")  # loopback is trusted in local mode only
        assert await ServiceUrls(sessions, local_mode=True).allows("http://127.0.0.1:3978/")
        assert not await ServiceUrls(sessions, local_mode=True).allows("https://smba.trafficmanager.net/jp/")
    finally:
        await engine.dispose()


async def test_a_send_to_an_unseen_service_url_is_refused_before_any_connection(db_url):
    from bot.connector import UNTRUSTED
    from bot.service_urls import ServiceUrls

    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    calls: list[str] = []

    async def token() -> str:
        calls.append("token")  # the bot's token must not even be fetched for such a call
        return "secret-token"

    messenger = ConnectorMessenger(token, service_urls=ServiceUrls(sessions, local_mode=False))
    address = Address(conversation_id="a:1", service_url="https://smba.invalid/", user_id="29:x")
    try:
        for call in (
            messenger.send(address, Message(text="お知らせ")),
            messenger.member(address, "29:x"),
            messenger.update(address, "act-1", Message(text="更新")),
            messenger.delete(address, "act-1"),
            messenger.create_personal_conversation(address),
        ):
            with pytest.raises(SendError) as refused:
                await call
            assert refused.value.status == 403 and refused.value.reason == UNTRUSTED
            assert refused.value.unreachable and not refused.value.retryable
    finally:
        await messenger.close()
        await engine.dispose()
    assert calls == []


async def test_an_announcement_to_a_chat_at_an_untrusted_url_is_unreachable_not_retried(db_url, connector):
    """A stored chat whose service URL was never trusted (here: not loopback in local mode) is
    reported unreachable with its reason; the other recipients get the message."""
    from bot.services import open_services
    from dialogs.engines.delivery import DeliveryItem, DeliveryState, Recipient, deliveries, enqueue
    from dialogs.engines.delivery.worker import drain
    from tests.delivery.helpers import FAST, add_people, conv_of
    from tests.support import settings_for

    settings = settings_for(db_url)
    async with open_services(settings) as services:
        assert isinstance(services.messenger, ConnectorMessenger)
        async with services.sessionmaker() as s, s.begin():
            await add_people(s, connector.url, [1])
            await add_people(s, "https://smba.invalid/", [2])
        items = [DeliveryItem(Recipient(person_id=p), Message(text="お知らせです")) for p in (1, 2)]
        async with services.sessionmaker() as s, s.begin():
            await enqueue(s, "announcement", 1, items)
        await drain(services, config=FAST)
        async with services.sessionmaker() as s:
            rows = {r.person_id: r for r in await deliveries(s, "announcement", 1)}
            ref = await s.scalar(select(ConversationRef).where(ConversationRef.conversation_id == conv_of(2)))
    assert rows[1].state == DeliveryState.DELIVERED
    assert (rows[2].state, rows[2].error) == (DeliveryState.UNREACHABLE, "untrusted_service_url")
    assert rows[2].attempts <= 1
    assert ref is not None and ref.reachable is False and ref.unreachable_reason == "untrusted_service_url"
    assert len(connector.sent_to(conv_of(1))) == 1
