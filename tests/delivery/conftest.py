from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.api import Services
from bot.connector import ConnectorMessenger
from bot.services import open_services
from tests.support import settings_for


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    """Services on a migrated database (SQLite and PostgreSQL) with a real HTTP messenger."""
    messenger = ConnectorMessenger(timeout=5)
    async with open_services(settings_for(db_url), messenger=messenger) as svc:
        yield svc
    await messenger.close()
