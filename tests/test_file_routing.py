"""Files sent to the bot reach the feature that handles their kind: survey definitions, rosters, others."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import select

from storage.models import Survey
from tests.support import ADMIN, STAFF, activity, members_for, running_bot, settings_for

SURVEY_YAML = """
title: 庁内ペーパーレス調査
anonymous: false
questions:
  - {type: 5段階, text: 会議資料の電子化は進んでいる}
  - {type: 自由記述, text: ご意見}
""".encode()


def _serve(body: bytes):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=body)

    return handler


@pytest.fixture
async def files() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/files/survey.yaml", _serve(SURVEY_YAML))
    app.router.add_get("/files/broken.yaml", _serve("questions: [{type: 5段階}]".encode()))
    app.router.add_get("/files/notes.pdf", _serve(b"%PDF-1.4"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/files/"
    await runner.cleanup()


def file_message(service_url: str, base: str, name: str, user=ADMIN, text: str = "") -> dict:
    return activity(
        service_url,
        user=user,
        text=text,
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": name,
                "content": {"downloadUrl": base + name, "fileType": name.rsplit(".", 1)[-1]},
            }
        ],
    )


async def test_a_yaml_survey_definition_sent_in_teams_creates_the_survey(sqlite_url, connector, files):
    connector.members = members_for(ADMIN)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)  # the bot learns who she is
        assert await bot.post(file_message(connector.url, files, "survey.yaml")) in (200, 201)
        async with bot.services.sessionmaker() as s:
            surveys = (await s.scalars(select(Survey))).all()
    assert [s.title for s in surveys] == ["庁内ペーパーレス調査"]
    assert len(surveys[0].questions) == 2


async def test_a_broken_definition_is_explained_and_creates_nothing(sqlite_url, connector, files):
    connector.members = members_for(ADMIN)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.say("ヘルプ", user=ADMIN)
        await bot.post(file_message(connector.url, files, "broken.yaml"))
        async with bot.services.sessionmaker() as s:
            assert (await s.scalars(select(Survey))).all() == []
    assert connector.texts_to(ADMIN.conversation_id), "the admin was told nothing"


async def test_staff_cannot_create_surveys_by_file(sqlite_url, connector, files):
    connector.members = members_for(STAFF)
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.post(file_message(connector.url, files, "survey.yaml", user=STAFF))
        async with bot.services.sessionmaker() as s:
            assert (await s.scalars(select(Survey))).all() == []
    assert "申し訳ありません" in connector.texts_to(STAFF.conversation_id)[-1]


async def test_an_unknown_kind_of_file_gets_a_polite_pointer(sqlite_url, connector, files):
    connector.members = members_for(ADMIN)
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await bot.post(file_message(connector.url, files, "notes.pdf"))
    text = connector.texts_to(ADMIN.conversation_id)[-1]
    assert "notes.pdf" in text and "扱えません" in text
