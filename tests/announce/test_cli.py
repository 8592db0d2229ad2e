"""``dxbot announce send|export`` as a city's batch job would run them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.services import open_services
from dialogs.kit.business_days import JST, add_business_days
from tests.announce.conftest import build_city, now_utc
from tests.support import settings_for


def test_cli_send_and_export(sqlite_url, connector_sync, tmp_path: Path, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("DXBOT_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)

    async def seed() -> None:
        async with open_services(settings_for(sqlite_url)) as svc:
            await build_city(svc, connector_sync.url, connector_sync)

    asyncio.run(seed())
    deadline = add_business_days(now_utc().astimezone(JST).date(), 3).isoformat()
    code = main(
        [
            "announce",
            "send",
            "--title",
            "庁内LAN停止のお知らせ",
            "--body",
            "土曜日に停止します。",
            "--audience",
            "departments:財務部",
            "--deadline",
            deadline,
            "--link",
            "詳細|https://intra.example.jp/lan",
            "--wait",
        ]
    )
    assert code == 0
    assert main(["announce", "send", "--title", "x", "--body", "y", "--audience", "sections:無い課"]) == 2
    out = tmp_path / "status.xlsx"
    assert main(["announce", "export", "1", str(out)]) == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("部", "課", "役割", "氏名")
    assert {r[3]: r[4] for r in rows[1:]} == {"職員103": "配信済み", "職員104": "未接続"}
