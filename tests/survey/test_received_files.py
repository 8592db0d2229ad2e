"""A survey definition sent in Teams is read whole, or not at all (the same path as roster files)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Survey
from tests.fakes.files import FileHost
from tests.support import ADMIN, activity, members_for, running_bot, settings_for

QUESTIONS = "".join(f"  - {{key: q{i}, type: 5段階, text: 質問{i}}}\n" for i in range(1, 11))


def _definition() -> bytes:
    # About 1.5 MB: the questions first, then a long description (a pasted memo), as people write them.
    memo = "庁内のペーパーレス化について、" * 35_000
    return f"title: 庁内ペーパーレス調査\nquestions:\n{QUESTIONS}description: {memo}\n".encode()


@pytest.fixture
async def host() -> AsyncIterator[FileHost]:
    server = FileHost()
    await server.start()
    yield server
    await server.stop()


def sent_file(connector: Any, url: str, name: str) -> dict[str, Any]:
    return activity(
        connector.url,
        user=ADMIN,
        text="",
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": name,
                "content": {"downloadUrl": url, "fileType": name.rsplit(".", 1)[-1]},
            }
        ],
    )


async def _surveys(bot: Any) -> list[Survey]:
    async with bot.services.sessionmaker() as s:
        return list((await s.scalars(select(Survey))).all())


async def test_a_definition_in_small_chunks_is_read_whole(sqlite_url, connector, host):
    connector.members = members_for(ADMIN)
    data = _definition()
    assert len(data) > 1_000_000
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)
        await bot.post(sent_file(connector, host.add("survey.yaml", data, chunk=4096), "survey.yaml"))
        surveys = await _surveys(bot)
    assert [s.title for s in surveys] == ["庁内ペーパーレス調査"]
    assert len(surveys[0].questions) == 10
    assert surveys[0].description == "庁内のペーパーレス化について、" * 35_000


@pytest.mark.parametrize("mode", ["cut", "cut_chunked"])
async def test_a_definition_cut_short_creates_nothing(sqlite_url, connector, host, mode):
    connector.members = members_for(ADMIN)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)
        await bot.post(sent_file(connector, host.add("survey.yaml", _definition(), mode=mode), "survey.yaml"))
        assert await _surveys(bot) == []
    assert connector.texts_to(ADMIN.conversation_id)[-1] == (
        "ファイル「survey.yaml」を最後まで受け取れませんでした(通信が途中で切れました)。"
        "途中までの内容では何も処理していません。お手数ですが、もう一度送ってください。"
    )
