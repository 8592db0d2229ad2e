"""デジタル目安箱: the idea reaches the DX division's channel and nothing anywhere says who sent it."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import inspect, text

from dialogs.qa.tickets import housekeeping
from storage.models import Suggestion
from tests.qa.feature_support import DESK, all_text, cards_with_ids, find_action, in_desk, last_card, settle
from tests.support import ADMIN, STAFF, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio
BODY = "会議資料の紙の印刷をやめて、Teamsで画面共有にしませんか。毎週の定例で30枚ほど刷っています。"
# Transport bookkeeping: every message updates the sender's reference and last-seen time.
TRANSPORT_TABLES = {"conversation_refs", "teams_accounts"}


def _identity_strings() -> list[str]:
    return [STAFF.user_id, STAFF.aad_object_id, STAFF.name, STAFF.email, STAFF.conversation_id]


def _contains(row: str, value: str) -> bool:
    """``value`` in a row as text, also as JSON columns store it on SQLite (\\uXXXX escapes)."""
    return value in row or json.dumps(value)[1:-1] in row


async def _snapshot(bot) -> dict[str, set[str]]:
    """Every row of every table in the database, as text."""
    async with bot.services.sessionmaker() as s:
        conn = await s.connection()
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        out: dict[str, set[str]] = {}
        for name in names:
            rows = (await s.execute(text(f'SELECT * FROM "{name}"'))).all()
            out[name] = {" | ".join(str(v) for v in r) for r in rows}
    return out


async def test_a_suggestion_reaches_the_channel_with_no_identity_anywhere(db_url, connector, caplog):
    caplog.set_level(logging.INFO)
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(settings_for(db_url, admins=[ADMIN.email]), connector) as bot:
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await bot.say("目安箱", user=STAFF)
        form_id, form = last_card(connector, STAFF.conversation_id)
        explained = all_text(form)
        assert "記録せず" in explained and "お返事することはできません" in explained

        before = await _snapshot(bot)
        caplog.clear()
        await bot.press(
            {**find_action(form, "qa.box.send"), "kind": "idea", "body": BODY},
            user=STAFF,
            reply_to_id=form_id,
        )
        # Not posted while the sender is there: the next housekeeping round posts the batch.
        assert not [c for _, c in cards_with_ids(connector, DESK) if BODY in all_text(c)]
        await housekeeping(bot.services)
        await settle(bot)
        after = await _snapshot(bot)

        # The sender is told plainly, in place of the form.
        sent = all_text(connector.activities[form_id]["attachments"][0]["content"])
        assert "匿名" in sent and "個別のお返事はできません" in sent
        assert BODY not in sent  # the text does not stay on screen for the next person to read

        # The channel card carries the idea and nothing about the sender.
        posted = [c for _, c in cards_with_ids(connector, DESK) if BODY in all_text(c)]
        assert len(posted) == 1
        for ident in _identity_strings():
            assert ident not in repr(posted[0])
        assert "アイデア・提案" in all_text(posted[0])

        # Every table: the new or changed rows name no one; the text is only in the suggestion and in
        # the delivery row that carried it to the channel (addressed to the channel, nobody else).
        changed = {name: after[name] - before.get(name, set()) for name in after}
        assert len(changed["qa_suggestions"]) == 1
        carried = [row for row in changed["deliveries"] if _contains(row, BODY)]
        assert len(carried) == 1 and DESK in carried[0] and "qa-box" in carried[0]
        for name, rows in changed.items():
            for row in rows:
                if name not in TRANSPORT_TABLES:
                    for ident in _identity_strings():
                        assert not _contains(row, ident), f"{name} stores {ident!r}"
                if name not in ("qa_suggestions", "deliveries"):
                    assert not _contains(row, BODY), f"{name} stores the suggestion"
        # The row keeps the day only: no time that could be matched against last-seen times.
        columns = {c.name: c.type.python_type for c in Suggestion.__table__.columns}
        assert set(columns) == {"id", "kind", "body", "received_on", "posted"}
        assert "datetime" not in [t.__name__ for t in columns.values()]

        # Nor do the logs.
        for record in caplog.records:
            message = record.getMessage()
            assert BODY not in message
            for ident in _identity_strings():
                assert ident not in message


async def test_empty_suggestions_are_refused_and_kept_when_no_channel_is_set(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.say("目安箱", user=STAFF)
        form_id, form = last_card(connector, STAFF.conversation_id)
        await bot.press({**find_action(form, "qa.box.send"), "body": "  "}, user=STAFF, reply_to_id=form_id)
        assert "内容が空です" in all_text(connector.activities[form_id]["attachments"][0]["content"])

        await bot.press(
            {**find_action(form, "qa.box.send"), "kind": "complaint", "body": BODY},
            user=STAFF,
            reply_to_id=form_id,
        )
        # The sender reads no set-up wording; the suggestion waits (no channel, no admin reachable).
        sent = all_text(connector.activities[form_id]["attachments"][0]["content"])
        assert "目安箱に送りました" in sent
        assert not any("窓口" in t or "設定" in t for t in connector.texts_to(STAFF.conversation_id))
        await in_desk(bot, ADMIN, text="ここを問い合わせ窓口にする")
        await settle(bot)
        posted = [c for _, c in cards_with_ids(connector, DESK) if BODY in all_text(c)]
        assert len(posted) == 1 and "困りごと・苦情" in all_text(posted[0])
