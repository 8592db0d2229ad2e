"""0018_announce_auto_reminders on SQLite and PostgreSQL: an announcement whose automatic reminder (to
confirm, to relay) went before counts it once; one whose reminder did not go counts none."""

from __future__ import annotations

import asyncio

from tests.identity.test_migration import _alembic, _run


def test_automatic_reminders_that_went_before_are_counted(db_url):
    _alembic(db_url, "downgrade", "0017_announce_relay")
    now = "'2026-04-01 00:00:00+00:00'"
    columns = (
        "id, title, body, links, importance, audience, to_channel, ack_required, state, late, version,"
        " reminders, progress_seq, form, source, author_label, author_locale, created_at, updated_at,"
        " relay_required, relay_reminders, auto_reminder_at, auto_reminded_at, relay_reminder_at,"
        " relay_reminded_at"
    )
    # sent, asked for confirmation and relay, two reminders by hand
    common = (
        "'お知らせ', '本文', '[]', 'normal', '{}', false, true, 'sent', false, 1, 2, 0, '{}', 'teams', '', 'ja',"
        f" {now}, {now}, true, 0, {now}"
    )
    asyncio.run(
        _run(
            db_url,
            f"INSERT INTO announcements ({columns}) VALUES (1, {common}, {now}, {now}, NULL)",
            f"INSERT INTO announcements ({columns}) VALUES (2, {common}, NULL, {now}, {now})",
        )
    )
    _alembic(db_url, "upgrade", "heads")
    rows = asyncio.run(
        _run(
            db_url,
            "SELECT id, reminders, auto_reminders, relay_auto_reminders FROM announcements ORDER BY id",
        )
    )
    assert [tuple(r) for r in rows] == [(1, 2, 1, 0), (2, 2, 0, 1)]
    _alembic(db_url, "downgrade", "0017_announce_relay")  # and back down cleanly
    rows = asyncio.run(
        _run(
            db_url,
            "SELECT id, auto_reminded_at IS NOT NULL, relay_reminded_at IS NOT NULL FROM announcements"
            " ORDER BY id",
        )
    )
    assert [(r[0], bool(r[1]), bool(r[2])) for r in rows] == [(1, True, False), (2, False, True)]
