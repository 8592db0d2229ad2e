"""The knowledge base tables on SQLite and PostgreSQL: version, synonyms seeded once, demo seed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.api import Services
from dialogs.qa import store
from dialogs.qa.search import load_synonyms
from dialogs.qa.seed import seed_demo
from dialogs.qa.service import KnowledgeBase
from storage.db import make_engine, make_sessionmaker
from storage.models import EntryStatus, KbEntry, SynonymGroup

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(db_url):
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_every_change_bumps_the_version_and_drafts_stay_out_of_the_index(sessions):
    async with sessions() as s, s.begin():
        v0 = await store.kb_version(s)
        await store.upsert_entry(
            s, store.EntryInput("net-1", "無線LANにつながらない", "再起動してください。"), actor="t", now=NOW
        )
        await store.upsert_entry(
            s,
            store.EntryInput("draft-1", "無線LANの申請", "下書きです。", status=EntryStatus.DRAFT),
            actor="t",
            now=NOW,
        )
        v2 = await store.kb_version(s)
    assert v2 == v0 + 2
    kb = KnowledgeBase()
    async with sessions() as s:
        index = await kb.index(s)
        assert [h.id for h in index.search("無線LAN", top_k=5)] == ["net-1"]
        assert await kb.index(s) is index  # unchanged version: no rebuild
    async with sessions() as s, s.begin():
        assert await store.delete_entry(s, "net-1") is not None
    async with sessions() as s:
        assert (await kb.index(s)).search("無線LAN") == []


async def test_synonyms_are_seeded_once_and_an_admin_deletion_sticks(sessions):
    async with sessions() as s, s.begin():
        assert await store.ensure_synonyms_seeded(s, NOW) is True
    async with sessions() as s, s.begin():
        assert await store.ensure_synonyms_seeded(s, NOW) is False
        groups = await store.synonym_groups(s)
        assert [g.terms for g in groups] == load_synonyms()
        await store.delete_synonym_group(s, groups[0].id, NOW)
    async with sessions() as s, s.begin():
        await store.ensure_synonyms_seeded(s, NOW)
        assert await s.scalar(select(func.count()).select_from(SynonymGroup)) == len(load_synonyms()) - 1


async def test_seed_demo_only_fills_an_empty_knowledge_base(db_url, sessions, capsys):
    services = Services(settings=None, sessionmaker=sessions, messenger=None, clock=lambda: NOW)  # type: ignore[arg-type]
    async with sessions() as s, s.begin():
        await store.upsert_entry(s, store.EntryInput("own-1", "独自の質問", "独自の回答"), actor="t", now=NOW)
    await seed_demo(services, True)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(KbEntry)) == 1
    await seed_demo(services, False)
    async with sessions() as s:
        count = await s.scalar(select(func.count()).select_from(KbEntry))
        owners = set(await s.scalars(select(KbEntry.owner).where(KbEntry.key != "own-1")))
    assert count >= 61 and owners == {"DX推進課"}


async def test_two_processes_starting_together_seed_the_synonyms_once(sessions):
    async def start() -> bool:
        async with sessions() as s, s.begin():
            return await store.ensure_synonyms_seeded(s, NOW)

    results = await asyncio.gather(start(), start())
    assert sorted(results) == [False, True]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(SynonymGroup)) == len(load_synonyms())
