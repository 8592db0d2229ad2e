"""0013_delivery_read and 0017_announce_relay on SQLite and PostgreSQL: announcements sent before keep
asking for no relay, copies delivered before count as 既読不明 (never read, never unread)."""

from __future__ import annotations

import asyncio

from tests.identity.test_migration import _alembic, _run


def test_existing_announcements_and_deliveries_are_migrated(db_url):
    _alembic(db_url, "downgrade", "0016_announce_idempotency")
    _alembic(db_url, "downgrade", "0012_delivery_workers")
    now = "'2026-04-01 00:00:00+00:00'"
    asyncio.run(
        _run(
            db_url,
            "INSERT INTO announcements (id, title, body, links, importance, audience, to_channel, ack_required,"
            " state, late, version, reminders, progress_seq, form, source, author_label, author_locale,"
            f" created_at, updated_at) VALUES (1, 'お知らせ', '本文', '[]', 'normal', '{{}}', false, true, 'sent',"
            f" false, 1, 0, 0, '{{}}', 'teams', '', 'ja', {now}, {now})",
            "INSERT INTO deliveries (kind, ref_id, recipient_key, purpose, op, payload, state, priority,"
            " next_attempt_at, attempts, throttles, recreated, late, conversation_id, activity_id, created_at,"
            f" updated_at) VALUES ('announcement', 1, 'person:1', 'initial', 'send', '{{}}', 'delivered', 100,"
            f" {now}, 1, 0, false, false, 'c1', '1733390000001', {now}, {now})",
        )
    )
    _alembic(db_url, "upgrade", "heads")
    rows = asyncio.run(
        _run(
            db_url,
            "SELECT a.relay_required, a.relay_deadline, a.relay_reminders, d.read_at FROM announcements a"
            " JOIN deliveries d ON d.ref_id = a.id",
        )
    )
    assert [(bool(r[0]), r[1], r[2], r[3]) for r in rows] == [(False, None, 0, None)]
    assert asyncio.run(_run(db_url, "SELECT count(*) FROM announcement_relays")) == [(0,)]
    _alembic(db_url, "downgrade", "0016_announce_idempotency")  # and back down cleanly
    _alembic(db_url, "downgrade", "0012_delivery_workers")
