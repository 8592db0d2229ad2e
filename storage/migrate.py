"""Alembic, driven from code: ``dxbot db upgrade`` and the readiness probe use this.

await upgrade("sqlite+aiosqlite:///./data/dxbot.sqlite3")
"""

from __future__ import annotations

import ast
import asyncio
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_sync(url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "heads") -> None:
    # env.py runs its own event loop for the async engine, so run it off this loop's thread.
    await asyncio.to_thread(upgrade_sync, url, revision)


@cache
def expected_heads() -> frozenset[str]:
    """The revisions no other revision builds on, read from the migration files' ``revision`` and
    ``down_revision`` assignments. The serving process needs only this for /readyz, and importing
    Alembic for it would cost 10 MB of every bot's memory; tests/test_migrate.py checks that the
    answer is Alembic's own."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                for target in targets:
                    if isinstance(target, ast.Name) and node.value is not None:
                        values[target.id] = ast.literal_eval(node.value)
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(d for d in down if isinstance(d, str))
    return frozenset(revisions - parents)  # cached: not to be changed by a caller


async def current_heads(engine: AsyncEngine) -> set[str]:
    """The revisions the database is at (empty if it was never migrated)."""
    async with engine.connect() as conn:
        try:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:
            return set()  # no alembic_version table yet
        return {row[0] for row in rows}


async def is_migrated(engine: AsyncEngine) -> bool:
    return await current_heads(engine) == expected_heads()
