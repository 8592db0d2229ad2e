"""Services outside the web app: for CLI commands, benchmarks and background processes.

async with open_services(settings) as services:
    async with services.sessionmaker() as session: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from bot.api import Messenger, Services
from bot.connector import ConnectorMessenger, bot_token_provider, no_token
from bot.service_urls import ServiceUrls
from bot.settings import Settings
from storage.db import make_engine, make_sessionmaker


def default_messenger(settings: Settings, service_urls: ServiceUrls) -> ConnectorMessenger:
    """The Bot Connector client; it calls only service URLs that ``service_urls`` trusts."""
    tokens = (
        no_token
        if settings.local_mode
        else bot_token_provider(settings.app_id, settings.app_password, settings.app_tenant_id)
    )
    return ConnectorMessenger(tokens, app_id=settings.app_id, service_urls=service_urls)


@asynccontextmanager
async def open_services(settings: Settings, messenger: Messenger | None = None) -> AsyncIterator[Services]:
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    own = messenger is None
    msgr = messenger or default_messenger(settings, ServiceUrls(sessionmaker, local_mode=settings.local_mode))
    try:
        yield Services(settings, sessionmaker, msgr, lambda: datetime.now(UTC))
    finally:
        if own and isinstance(msgr, ConnectorMessenger):
            await msgr.close()
        await engine.dispose()
