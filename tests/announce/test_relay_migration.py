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


def test_copies_posted_in_section_channels_before_keep_their_reporter_as_sharer(db_url):
    """0019_announce_section_posts: each copy already in a section's channel gets a record of who shared it,
    from its section's report (the reporter, in the role they were sent it in); a copy whose section has no
    report names nobody; other copies get no record."""
    _alembic(db_url, "downgrade", "0018_announce_auto_reminders")
    now = "'2026-04-01 00:00:00+00:00'"
    delivery = (
        "INSERT INTO deliveries (id, kind, ref_id, recipient_key, purpose, op, payload, state, priority,"
        " next_attempt_at, attempts, throttles, recreated, late, conversation_id, activity_id, created_at,"
        " updated_at) VALUES ({id}, 'announcement', 1, '{key}', '{purpose}', 'send', '{{}}', 'delivered', 90,"
        f" {now}, 1, 0, false, false, '{{conv}}', 'act-{{id}}', {now}, {now})"
    )
    recipient = (
        "INSERT INTO announcement_recipients (announcement_id, person_id, name, email, department, section,"
        " section_id, role, sort_key, confirmed_at) VALUES (1, {pid}, '{name}', '', '総務部', '{section}',"
        f" {{sid}}, '{{role}}', {{pid}}, {now})"
    )
    asyncio.run(
        _run(
            db_url,
            f"INSERT INTO people (id, name, email, created_at) VALUES (1, '鈴木 一郎', 'a@x.jp', {now}),"
            f" (2, '職員2', 'b@x.jp', {now})",
            "INSERT INTO announcements (id, title, body, links, importance, audience, to_channel, ack_required,"
            " state, late, version, reminders, progress_seq, form, source, author_label, author_locale,"
            " created_at, updated_at, relay_required, relay_reminders, auto_reminders, relay_auto_reminders)"
            f" VALUES (1, 'お知らせ', '本文', '[]', 'normal', '{{}}', false, true, 'sent', false, 1, 0, 0, '{{}}',"
            f" 'teams', '', 'ja', {now}, {now}, true, 0, 0, 0)",
            recipient.format(pid=1, name="鈴木 一郎", section="総務課", sid=10, role="leader"),
            recipient.format(pid=2, name="職員2", section="人事課", sid=20, role="leader"),
            "INSERT INTO announcement_relays (announcement_id, section_id, method, reached, note, reported_by,"
            f" reporter_name, reported_at, updated_at, corrections) VALUES (1, 10, 'channel', 12, '', 1,"
            f" '鈴木 一郎', {now}, {now}, 0)",
            delivery.format(id=1, key="person:1", purpose="initial", conv="c1"),
            delivery.format(id=2, key="conv:19:soumu", purpose="section-10", conv="19:soumu"),
            delivery.format(id=3, key="conv:19:jinji", purpose="section-20", conv="19:jinji"),
        )
    )
    _alembic(db_url, "upgrade", "heads")
    rows = asyncio.run(
        _run(
            db_url,
            "SELECT delivery_id, announcement_id, section_id, shared_by, sharer_name, sharer_section,"
            " sharer_role FROM announcement_section_posts ORDER BY delivery_id",
        )
    )
    assert [tuple(r) for r in rows] == [
        (2, 1, 10, 1, "鈴木 一郎", "総務課", "leader"),
        (3, 1, 20, None, "", "", None),
    ]
    _alembic(db_url, "downgrade", "0018_announce_auto_reminders")  # and back down cleanly
    assert asyncio.run(_run(db_url, "SELECT count(*) FROM deliveries")) == [(3,)]
