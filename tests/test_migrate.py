"""storage/migrate.py reads the heads without Alembic; the answer must be Alembic's own."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import alembic_config, current_heads, expected_heads, is_migrated, upgrade


def test_expected_heads_are_alembics_heads() -> None:
    assert expected_heads() == set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    assert len(expected_heads()) >= 4  # one branch per feature


@pytest.mark.asyncio
async def test_a_new_database_is_not_migrated_until_upgraded(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/m.sqlite3"
    engine = make_engine(url)
    try:
        assert await current_heads(engine) == set()
        assert not await is_migrated(engine)
        await upgrade(url)
        assert await is_migrated(engine)
        async with engine.begin() as conn:  # one branch behind
            await conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0033_qa_query_pick'"))
        assert not await is_migrated(engine)
    finally:
        await engine.dispose()
