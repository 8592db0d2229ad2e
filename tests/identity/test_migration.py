"""0005_account_tenant on SQLite and PostgreSQL: existing accounts keep their roster link, get their
tenant from the stored conversation references, and are asked for their UPN again."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import alembic_config


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command

    getattr(command, action)(alembic_config(url), revision)


async def _run(url: str, *statements: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            rows: list[tuple] = []
            for sql in statements:
                result = await conn.execute(text(sql))
                if result.returns_rows:
                    rows = [tuple(r) for r in result.all()]
            return rows
    finally:
        await engine.dispose()


def test_existing_accounts_and_service_urls_are_migrated(db_url):
    _alembic(db_url, "downgrade", "0003_roster_reach")
    now = "'2026-04-01 00:00:00+00:00'"
    asyncio.run(
        _run(
            db_url,
            "INSERT INTO people (id, name, email, created_at) VALUES (1, '佐藤 花子', 'dx-admin@city.example.jp', "
            + now
            + ")",
            # known tenant on the account; tenant only on the reference; tenant nowhere
            "INSERT INTO teams_accounts (aad_object_id, user_id, name, email, tenant_id, person_id, email_checked_at,"
            " created_at, last_seen_at) VALUES"
            f" ('aad-1', '29:1', 'a', 'dx-admin@city.example.jp', 'TENANT-A', 1, {now}, {now}, {now}),"
            f" ('aad-2', '29:2', 'b', NULL, NULL, NULL, {now}, {now}, {now}),"
            f" ('aad-3', '29:3', 'c', NULL, NULL, NULL, NULL, {now}, {now})",
            "INSERT INTO conversation_refs (conversation_id, conversation_type, service_url, tenant_id, aad_object_id,"
            " reference, reachable, created_at, updated_at) VALUES"
            f" ('c1', 'personal', 'https://smba.example/jp/', 'tenant-a', 'aad-1', '{{}}', true, {now}, {now}),"
            f" ('c2', 'personal', 'https://smba.example/jp/', 'tenant-b', 'aad-2', '{{}}', true, {now}, {now}),"
            f" ('c3', 'personal', 'http://127.0.0.1:9/', NULL, 'aad-3', '{{}}', true, {now}, {now})",
        )
    )
    _alembic(db_url, "upgrade", "heads")
    accounts = asyncio.run(
        _run(
            db_url,
            "SELECT aad_object_id, tenant_id, person_id, upn, email_checked_at FROM teams_accounts ORDER BY aad_object_id",
        )
    )
    assert accounts == [
        ("aad-1", "tenant-a", 1, None, None),
        ("aad-2", "tenant-b", None, None, None),
        ("aad-3", "", None, None, None),
    ]
    urls = asyncio.run(_run(db_url, "SELECT url FROM trusted_service_urls"))
    assert urls == [("https://smba.example/jp/",)]
    # The same object id in a second tenant is a second account now.
    asyncio.run(
        _run(
            db_url,
            "INSERT INTO teams_accounts (aad_object_id, user_id, name, tenant_id, created_at, last_seen_at)"
            f" VALUES ('aad-1', '29:x', 'x', 'tenant-z', {now}, {now})",
        )
    )
    _alembic(db_url, "downgrade", "0003_roster_reach")
    _alembic(db_url, "upgrade", "heads")
