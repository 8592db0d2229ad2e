"""Conversation references on SQLite and PostgreSQL: stored, kept current, marked unreachable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage.db import make_engine, make_sessionmaker
from storage.models import ConversationRef
from storage.references import mark_unreachable, personal_address, upsert_reference

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def _ref(cid: str, service_url: str, **kw):
    base = dict(
        conversation_id=cid,
        conversation_type="personal",
        service_url=service_url,
        tenant_id="t1",
        bot_id="28:bot",
        user_id="29:u",
        aad_object_id="aad-u",
        team_id=None,
        channel_id=None,
        reference={"conversation": {"id": cid}},
    )
    base.update(kw)
    return base


async def test_reference_is_upserted_and_follows_changes(db_url):
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            await upsert_reference(s, now=T0, **_ref("c1", "https://smba.one/"))
        async with sessions() as s, s.begin():
            await upsert_reference(s, now=T0 + timedelta(days=1), **_ref("c1", "https://smba.two/"))
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(ConversationRef)) == 1
            row = await s.scalar(select(ConversationRef))
            assert row.service_url == "https://smba.two/"
            assert row.updated_at == T0 + timedelta(days=1)
            assert row.created_at == T0
            addr = await personal_address(s, "aad-u")
            assert addr is not None and addr.service_url == "https://smba.two/"
        async with sessions() as s, s.begin():
            await mark_unreachable(s, "c1", "uninstalled", T0 + timedelta(days=2))
        async with sessions() as s:
            assert await personal_address(s, "aad-u") is None
            row = await s.scalar(select(ConversationRef))
            assert row.unreachable_reason == "uninstalled"
        # Writing again (the user reinstalled) makes it reachable again.
        async with sessions() as s, s.begin():
            await upsert_reference(s, now=T0 + timedelta(days=3), **_ref("c1", "https://smba.two/"))
        async with sessions() as s:
            assert await personal_address(s, "aad-u") is not None
    finally:
        await engine.dispose()


async def test_migrations_reach_head(db_url):
    from storage.migrate import is_migrated

    engine = make_engine(db_url)
    try:
        assert await is_migrated(engine)
    finally:
        await engine.dispose()
