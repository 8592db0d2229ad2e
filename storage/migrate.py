"""Alembic, driven from code: ``dxbot db upgrade`` and the readiness probe use this.

await upgrade("sqlite+aiosqlite:///./data/dxbot.sqlite3")
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_sync(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "heads") -> None:
    # env.py runs its own event loop for the async engine, so run it off this loop's thread.
    await asyncio.to_thread(upgrade_sync, url, revision)


def expected_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def current_heads(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))


async def is_migrated(engine: AsyncEngine) -> bool:
    return await current_heads(engine) == expected_heads()
