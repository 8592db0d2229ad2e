"""A roster file sent in Teams is read whole, or not at all.

The incident: a 373 KB roster CSV of 101 valid rows was read as 35 rows (one buffered chunk), and the
dry-run card proposed ending 65 promoters' assignments. Here the demo city's own roster (101 rows,
100 promoters) is sent back as several MB, served in 4 KB chunks through the real HTTP path.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from dialogs.roster.exporter import roster_rows
from storage.models.roster import PendingImport
from tests.fakes.files import FileHost
from tests.fakes.workbooks import roster_xlsx
from tests.roster.conftest import snapshot
from tests.roster.helpers import card_texts, demo_bot, facts_of, last_card
from tests.support import ADMIN, STAFF, activity

MB = 1024 * 1024


@pytest.fixture
async def host() -> AsyncIterator[FileHost]:
    server = FileHost()
    await server.start()
    yield server
    await server.stop()


def sent_file(connector: Any, url: str, name: str, text: str = "") -> dict[str, Any]:
    return activity(
        connector.url,
        user=ADMIN,
        text=text,
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": name,
                "content": {"downloadUrl": url, "fileType": name.rsplit(".", 1)[-1]},
            }
        ],
    )


def _note(size: int) -> str:
    """A long 備考 cell (a pasted memo): random letters, so the file does not shrink when zipped."""
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


async def _current_roster_with_notes(bot: Any, note_bytes: int) -> list[tuple[str, ...]]:
    async with bot.services.sessionmaker() as s:
        rows = await roster_rows(s)
    assert len(rows) == 101
    header = ("部", "課", "役割", "氏名", "メールアドレス", "備考")
    return [header] + [(*row, _note(note_bytes)) for row in rows]


def _csv(rows: list[tuple[str, ...]]) -> bytes:
    return "".join(",".join(r) + "\r\n" for r in rows).encode("utf-8")


def _xlsx(rows: list[tuple[str, ...]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名簿")
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _pending(bot: Any) -> list[PendingImport]:
    async with bot.services.sessionmaker() as s:
        return list((await s.scalars(select(PendingImport))).all())


@pytest.mark.parametrize(
    ("name", "mode", "note_bytes"),
    [
        ("名簿_373KB.csv", "chunked", 3_600),  # the size of the incident's file
        ("名簿_4MB.csv", "chunked", 40_000),
        ("名簿_4MB.xlsx", "length", 40_000),
    ],
)
async def test_a_roster_of_several_mb_in_small_chunks_is_read_whole(
    sqlite_url, connector, host, name, mode, note_bytes
):
    async with demo_bot(sqlite_url, connector, admins=[ADMIN.email]) as bot:
        rows = await _current_roster_with_notes(bot, note_bytes)
        data = _xlsx(rows) if name.endswith(".xlsx") else _csv(rows)
        assert len(data) > 350_000
        await bot.post(sent_file(connector, host.add(name, data, mode=mode, chunk=4096), name))
        card = last_card(connector, ADMIN)
        texts = card_texts(card)
        # The file is the roster as it stands: nobody is ended, nothing needs applying.
        assert texts[0] == "名簿の取り込み内容の確認", texts
        assert f"「{name}」は今の名簿と同じです。変更はありません。" in texts
        facts = facts_of(card)
        assert facts["終了"] == "0人" and facts["追加"] == "0人"
        assert facts["変更なし"] == "100人"
        assert await _pending(bot) == []


@pytest.mark.parametrize("mode", ["cut", "cut_chunked"])
async def test_a_download_cut_short_is_refused_and_proposes_nothing(sqlite_url, connector, host, mode):
    async with demo_bot(sqlite_url, connector, admins=[ADMIN.email]) as bot:
        before = await snapshot(bot.services.sessionmaker)
        data = _csv(await _current_roster_with_notes(bot, 3_600))
        await bot.post(sent_file(connector, host.add("名簿.csv", data, mode=mode), "名簿.csv"))
        assert connector.texts_to(ADMIN.conversation_id)[-1] == (
            "ファイル「名簿.csv」を最後まで受け取れませんでした(通信が途中で切れました)。"
            "途中までの内容では何も処理していません。お手数ですが、もう一度送ってください。"
        )
        assert connector.cards_to(ADMIN.conversation_id) == []  # no dry-run card, no 適用する
        assert await _pending(bot) == []
        assert await snapshot(bot.services.sessionmaker) == before


async def test_a_file_over_10_mb_is_refused_with_the_limit_named(sqlite_url, connector, host):
    async with demo_bot(sqlite_url, connector, admins=[ADMIN.email]) as bot:
        data = _csv(await _current_roster_with_notes(bot, 110_000))
        assert len(data) > 10 * MB
        await bot.post(sent_file(connector, host.add("名簿.csv", data), "名簿.csv"))
        assert connector.texts_to(ADMIN.conversation_id)[-1] == (
            "ファイル「名簿.csv」が大きすぎます(10 MBまで)。名簿以外のシートや画像を削除してから送ってください。"
        )
        assert connector.cards_to(ADMIN.conversation_id) == []
        assert await _pending(bot) == []


async def test_others_are_answered_while_a_big_file_is_parsed(sqlite_url, connector, host):
    """Parsing runs in a worker thread: a staff member's 「ヘルプ」 does not wait for the admin's file."""
    async with demo_bot(sqlite_url, connector, admins=[ADMIN.email]) as bot:
        await bot.say("ヘルプ", user=STAFF)
        data = roster_xlsx(rows=60_000)  # 6 MB of XML: a second or more of parsing before it is refused
        upload = asyncio.create_task(
            bot.post(sent_file(connector, host.add("名簿.xlsx", data, mode="length"), "名簿.xlsx"))
        )
        # the whole file is on its way and parsing starts (or the upload ended early: that fails below)
        served = asyncio.create_task(host.done["名簿.xlsx"].wait())
        await asyncio.wait({served, upload}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        served.cancel()
        calls_before = len(connector.calls)
        await bot.say("ヘルプ", user=STAFF)
        assert not upload.done(), "the file was finished before the help was answered"
        await upload
        order = [c.conversation_id for c in connector.calls[calls_before:] if c.method == "POST"]
        assert order == [STAFF.conversation_id, ADMIN.conversation_id]
        assert card_texts(connector.cards_to(STAFF.conversation_id)[-1])[0] == "DX推進ボットでできること"
        assert (
            "・ファイル全体: 行が多すぎます(20000行まで)。名簿以外の行が含まれていないかご確認ください。"
            in (card_texts(last_card(connector, ADMIN)))
        )
        assert await _pending(bot) == []
