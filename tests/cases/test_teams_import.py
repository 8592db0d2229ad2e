"""Cases collected before the bot, sent as Excel in Teams with 「事例」: imported all or none; the
same kind of file without 「事例」 is still a roster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import func, select

from storage.models import ImprovementCase
from tests.announce.conftest import build_city
from tests.cases.test_savings import HEADER, _xlsx
from tests.support import ADMIN, LEADER, running_bot, settings_for
from tests.test_file_routing import _serve, file_message

pytestmark = pytest.mark.asyncio
GOOD = _xlsx([HEADER, ["総務部", "総務課", "照合をRPAで", "照合", "RPA", 40, 10, 3, "2025-05-01"],
              ["財務部", "税務課", "入力をAI-OCRで", "入力", "AI-OCR、RPA", 60, 10, 2, "2025-06-01"]])  # fmt: skip
BAD = _xlsx([HEADER, ["総務部", "総務課", "照合をRPAで", "照合", "RPA", 40, 10, 3, "2025-05-01"],
             ["財務部", "税務課", "多すぎる", "入力", "RPA", 10000, 10, 2, "2025-06-01"]])  # fmt: skip


@pytest.fixture
async def files() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/files/good.xlsx", _serve(GOOD))
    app.router.add_get("/files/bad.xlsx", _serve(BAD))
    app.router.add_get("/files/broken.xlsx", _serve(b"not a workbook"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/files/"
    await runner.cleanup()


async def _count(bot) -> int:
    async with bot.services.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(ImprovementCase)) or 0)


async def test_excel_with_cases_is_imported_all_or_none(sqlite_url, connector, files):
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=ADMIN)
        await bot.say("ヘルプ", user=LEADER)

        await bot.post(file_message(connector.url, files, "bad.xlsx", text="事例"))
        reply = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "1件も登録していません" in reply and "3行目" in reply and "2人で働ける時間" in reply
        assert await _count(bot) == 0
        await bot.post(file_message(connector.url, files, "broken.xlsx", text="事例"))
        assert "Excelファイルとして読めませんでした" in connector.texts_to(ADMIN.conversation_id)[-1]

        # A promoter cannot import; the file is not taken for a roster either.
        await bot.post(file_message(connector.url, files, "good.xlsx", user=LEADER, text="事例"))
        assert "DX推進課" in connector.texts_to(LEADER.conversation_id)[-1]
        assert await _count(bot) == 0

        await bot.post(file_message(connector.url, files, "good.xlsx", text="事例の取り込み"))
        assert "2件の事例を取り込みました" in connector.texts_to(ADMIN.conversation_id)[-1]
        assert await _count(bot) == 2

        # Without 「事例」 the same Excel goes to the roster import (which finds no roster columns).
        before = len(connector.sent_to(ADMIN.conversation_id))
        await bot.post(file_message(connector.url, files, "good.xlsx"))
        after = connector.sent_to(ADMIN.conversation_id)[before:]
        assert after and not any("事例を取り込みました" in str(b) for b in after)
        assert "名簿" in str(after)
        assert await _count(bot) == 2
