"""A DX admin sends the roster file in Teams: dry-run card, 「適用する」, and everything that can go wrong.

Through the real HTTP path; the file is served by a small local web server, as Teams' download URL is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from dialogs.roster.importer import Actor, apply_plan, plan_import
from dialogs.roster.reader import read_roster
from storage.models.roster import PendingImport
from storage.models.shared import AuditEntry
from tests.roster.conftest import DATA, open_posts, snapshot
from tests.roster.helpers import (
    ADMIN2,
    card_texts,
    demo_bot,
    facts_of,
    last_card,
    last_card_activity,
    last_text,
)
from tests.support import ADMIN, LEADER, STAFF, activity

pytestmark = pytest.mark.asyncio


class FileServer:
    """Serves named files like Teams' downloadUrl, and counts the downloads."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []
        self.url = ""

    async def serve(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append(name)
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    server = FileServer()
    app = web.Application()
    app.router.add_get("/files/{name}", server.serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/files/"  # type: ignore[union-attr]
    yield server
    await runner.cleanup()


def file_activity(connector, files: FileServer, name: str, user=ADMIN, text: str = "", **kw: Any) -> dict:
    if name not in files.files and (DATA / name).exists():
        files.files[name] = (DATA / name).read_bytes()
    return activity(
        connector.url,
        user=user,
        text=text,
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": name,
                "contentUrl": f"https://city.sharepoint.example/{name}",
                "content": {
                    "downloadUrl": files.url + name,
                    "uniqueId": "u1",
                    "fileType": name.rsplit(".", 1)[-1],
                },
            }
        ],
        **kw,
    )


async def _pending(bot) -> list[PendingImport]:
    async with bot.services.sessionmaker() as s:
        return list((await s.scalars(select(PendingImport).order_by(PendingImport.id))).all())


async def test_admin_sends_xlsx_sees_dry_run_then_applies(db_url, connector, files):
    async with demo_bot(db_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_ja.xlsx"))
        aid, card = last_card_activity(connector, ADMIN)
        texts = card_texts(card)
        facts = facts_of(card)
        assert texts[0] == "名簿の取り込み内容の確認"
        assert "まだ名簿は変わっていません" in texts[1]
        assert facts["追加"] == "12人" and facts["終了"] == "0人" and facts["新しい課"] == "7課"
        assert "・4行目 総務部 総務課 リーダー 鈴木 一郎" in texts
        assert [a["title"] for a in card["actions"]] == ["適用する", "取り消す"]
        assert (await snapshot(_sessions(bot)))["assignments"] == []  # nothing written yet
        pending = await _pending(bot)
        assert [(p.status, p.requested_by_aad, p.file_name) for p in pending] == [
            ("pending", ADMIN.aad_object_id, "roster_ja.xlsx")
        ]
        token = card["actions"][0]["data"]["token"]
        assert token == pending[0].token

        await bot.press({"action": "roster.apply", "token": token}, user=ADMIN, reply_to_id=aid)
        updated = connector.activities[aid]["attachments"][0]["content"]
        assert card_texts(updated)[0] == "名簿を更新しました"
        assert (
            "追加12人・異動0人・終了0人を反映しました(dx-admin@demo-city.example.jp、"
            in card_texts(updated)[1]
        )
        assert "actions" not in updated
        snap = await snapshot(_sessions(bot))
        assert len(open_posts(snap)) == 12
        pending = await _pending(bot)
        assert pending[0].status == "applied" and pending[0].content == b""  # the file is not kept
        async with bot.services.sessionmaker() as s:
            entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "roster.import"))
        assert entry.actor_label == ADMIN.email and entry.detail["file"] == "roster_ja.xlsx"

        # A second press does nothing more.
        await bot.press({"action": "roster.apply", "token": token}, user=ADMIN, reply_to_id=aid)
        assert last_text(connector, ADMIN) == "この取り込みはすでに適用済みです。"
        assert await snapshot(_sessions(bot)) == snap
    assert files.downloads == ["roster_ja.xlsx"]


def _sessions(bot):
    return bot.services.sessionmaker


async def test_only_the_admin_who_sent_the_file_can_apply_it(sqlite_url, connector, files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email, ADMIN2.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_cp932.csv"))
        _, card = last_card_activity(connector, ADMIN)
        token = card["actions"][0]["data"]["token"]
        await bot.press({"action": "roster.apply", "token": token}, user=ADMIN2)
        assert last_text(connector, ADMIN2).startswith(
            "この取り込みは、ファイルを送った管理者(dx-admin@demo-city.example.jp)だけが適用・取り消しできます。"
        )
        await bot.press({"action": "roster.cancel", "token": token}, user=ADMIN2)
        assert (await snapshot(_sessions(bot)))["assignments"] == []
        assert (await _pending(bot))[0].status == "pending"


async def test_staff_sending_a_file_get_a_polite_refusal_and_it_is_never_read(sqlite_url, connector, files):
    async with demo_bot(sqlite_url, connector, admins=[ADMIN.email]) as bot:
        before = await snapshot(_sessions(bot))
        for person in (STAFF, LEADER):
            await bot.post(file_activity(connector, files, "roster_cp932.csv", user=person))
            assert last_text(connector, person) == (
                "申し訳ありません。この操作はDX推進課の管理者の方だけが行えます。"
                "必要な場合はDX推進課の管理者にご相談ください。"
            )
        assert await snapshot(_sessions(bot)) == before
        assert await _pending(bot) == []
    assert files.downloads == []


async def test_bad_rows_are_listed_and_nothing_is_kept(sqlite_url, connector, files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_bad_rows.csv"))
        card = last_card(connector, ADMIN)
        assert await _pending(bot) == []
    texts = card_texts(card)
    assert texts[0] == "名簿を取り込めませんでした"
    assert texts[1].startswith(
        "「roster_bad_rows.csv」に直していただきたい点が7件あります。名簿は変更していません。"
    )
    rows = [t for t in texts if t.startswith("・")]
    assert [r.split("行目")[0] for r in rows] == ["・3", "・4", "・5", "・6", "・7", "・8", "・9"]
    assert "actions" not in card


async def test_applying_rechecks_against_the_roster_as_it_is_then(sqlite_url, connector, files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_transfer_2027.csv", text="2027年4月1日"))
        aid, card = last_card_activity(connector, ADMIN)
        assert facts_of(card)["適用日"] == "2027年4月1日(木)"
        assert facts_of(card)["追加"] == "12人"
        token = card["actions"][0]["data"]["token"]
        # Meanwhile the base roster is imported from the command line.
        async with bot.services.sessionmaker() as s, s.begin():
            base = read_roster(
                files.files.get("roster_cp932.csv") or (DATA / "roster_cp932.csv").read_bytes(), "x.csv"
            )
            await apply_plan(s, await plan_import(s, base, date(2026, 4, 1)), Actor("cli"))
        await bot.press({"action": "roster.apply", "token": token}, user=ADMIN, reply_to_id=aid)
        rechecked = connector.activities[aid]["attachments"][0]["content"]
        texts = card_texts(rechecked)
        assert texts[1].startswith("確認のあとで名簿が変わったため、内容を確認し直しました。")
        facts = facts_of(rechecked)
        assert (facts["追加"], facts["異動・役割変更"], facts["終了"]) == ("2人", "3人", "2人")
        assert "・中村 直樹(財務部 税務課 リーダー)" in texts
        assert len(open_posts(await snapshot(_sessions(bot)))) == 12  # not applied yet: the admin looks again
        await bot.press({"action": "roster.apply", "token": token}, user=ADMIN, reply_to_id=aid)
        assert card_texts(connector.activities[aid]["attachments"][0]["content"])[0] == "名簿を更新しました"
        posts = open_posts(await snapshot(_sessions(bot)))
        assert posts["hanako.yamada@demo-city.example.jp"] == ("財務部", "税務課", "leader")
        assert "naoki.nakamura@demo-city.example.jp" not in posts


async def test_a_newer_file_supersedes_the_waiting_one(sqlite_url, connector, files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_cp932.csv"))
        _, first = last_card_activity(connector, ADMIN)
        await bot.post(file_activity(connector, files, "roster_transfer_2027.csv"))
        await bot.press({"action": "roster.apply", "token": first["actions"][0]["data"]["token"]}, user=ADMIN)
        assert last_text(connector, ADMIN) == (
            "この取り込みは、あとから送られたファイルに置き換わりました。新しい確認カードから操作してください。"
        )
        assert [p.status for p in await _pending(bot)] == ["superseded", "pending"]
        assert (await snapshot(_sessions(bot)))["assignments"] == []


async def test_cancel_expiry_group_chat_and_unreadable_date(sqlite_url, connector, files):
    now = [datetime(2026, 11, 24, 1, 0, tzinfo=UTC)]
    async with demo_bot(sqlite_url, connector, seed=False, clock=lambda: now[0], admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_cp932.csv"))
        aid, card = last_card_activity(connector, ADMIN)
        assert facts_of(card)["適用日"] == "2026年11月24日(火)"  # today in JST by default
        await bot.press(
            {"action": "roster.cancel", "token": card["actions"][1]["data"]["token"]},
            user=ADMIN,
            reply_to_id=aid,
        )
        assert (
            card_texts(connector.activities[aid]["attachments"][0]["content"])[0]
            == "取り込みを取り消しました"
        )
        assert (await _pending(bot))[-1].status == "cancelled"

        await bot.post(file_activity(connector, files, "roster_cp932.csv"))
        aid, card = last_card_activity(connector, ADMIN)
        now[0] += timedelta(hours=25)
        await bot.press({"action": "roster.apply", "token": card["actions"][0]["data"]["token"]}, user=ADMIN)
        assert last_text(connector, ADMIN).startswith("この確認カードは有効期限(24時間)が切れました。")
        assert (await snapshot(_sessions(bot)))["assignments"] == []

        await bot.post(
            file_activity(
                connector,
                files,
                "roster_cp932.csv",
                conversation_id="19:group@thread.v2",
                conversation_type="groupChat",
            )
        )
        group = [b.get("text") for b in connector.sent_to("19:group@thread.v2")]
        assert group[-1].startswith("名簿ファイルは、ボットとの個人チャットで送ってください。")

        await bot.post(file_activity(connector, files, "roster_cp932.csv", text="来年度の4月から"))
        assert last_text(connector, ADMIN).startswith("適用日「来年度の4月から」を読み取れませんでした。")

        files.files["gone.xlsx"] = b""
        del files.files["gone.xlsx"]
        await bot.post(file_activity(connector, files, "gone.xlsx"))
        assert (
            last_text(connector, ADMIN)
            == "ファイル「gone.xlsx」を受け取れませんでした。お手数ですが、もう一度送ってください。"
            "続く場合は、少し時間をおいてからお試しください。"
        )


async def test_a_file_that_matches_the_roster_says_so_without_buttons(sqlite_url, connector, files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_cp932.csv", text="2026-04-01"))
        aid, card = last_card_activity(connector, ADMIN)
        await bot.press(
            {"action": "roster.apply", "token": card["actions"][0]["data"]["token"]},
            user=ADMIN,
            reply_to_id=aid,
        )
        await bot.post(file_activity(connector, files, "roster_ja.xlsx"))
        _, same = last_card_activity(connector, ADMIN)
    assert "「roster_ja.xlsx」は今の名簿と同じです。変更はありません。" in card_texts(same)
    assert "actions" not in same


async def test_the_waiting_import_survives_a_restart(sqlite_url, connector, files):
    """The dry run is kept in the database, not in the process: a new process can apply it."""
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await bot.post(file_activity(connector, files, "roster_cp932.csv"))
        aid, card = last_card_activity(connector, ADMIN)
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as restarted:
        await restarted.press(card["actions"][0]["data"], user=ADMIN, reply_to_id=aid)
        assert len(open_posts(await snapshot(_sessions(restarted)))) == 12
    assert card_texts(connector.activities[aid]["attachments"][0]["content"])[0] == "名簿を更新しました"
