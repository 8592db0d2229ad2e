"""``dxbot announce send|export`` as a city's batch job would run them."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

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
    assert code == 3  # 職員104 has not added the bot: --wait exits by outcome (3: some not reached)
    assert main(["announce", "send", "--title", "x", "--body", "y", "--audience", "sections:無い課"]) == 2
    out = tmp_path / "status.xlsx"
    assert main(["announce", "export", "1", str(out)]) == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("部", "課", "役割", "氏名")
    assert {r[3]: r[4] for r in rows[1:]} == {"職員103": "配信済み", "職員104": "未接続"}
    # joinable with the city's systems: roster id, email, stable status and reason codes
    assert rows[0][8:] == ("名簿ID", "メールアドレス", "状況コード", "理由コード", "既読", "既読日時")
    assert {r[8]: r[9:12] for r in rows[1:]} == {
        "103": ("p103@city.example.jp", "delivered", None),
        "104": ("p104@city.example.jp", "not_reachable", "blocked"),
    }


def _json_out(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def test_cli_automation_json_exit_codes_dry_run_and_idempotency(
    sqlite_url, connector_sync, tmp_path: Path, monkeypatch, capsys
):
    from bot.cli import main

    monkeypatch.setenv("DXBOT_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)

    async def seed() -> None:
        async with open_services(settings_for(sqlite_url)) as svc:
            await build_city(svc, connector_sync.url, connector_sync)

    asyncio.run(seed())
    base = ["announce", "send", "--title", "研修のご案内", "--body", "受講してください。"]
    # No silent default of everyone: --audience is required.
    with pytest.raises(SystemExit) as exc:
        main(base)
    assert exc.value.code == 2

    # --dry-run: whom it would reach and the holiday warning; nothing is stored or queued.
    day = now_utc().astimezone(JST).date() + timedelta(days=2)
    while day.weekday() != 6:
        day += timedelta(days=1)
    sunday = f"{day.isoformat()} 10:00"
    code = main([*base, "--audience", "departments:財務部", "--at", sunday, "--dry-run", "--json"])
    plan = _json_out(capsys)
    assert code == 0
    assert plan["dry_run"] is True
    # 職員104 has a chat but blocked the bot: Teams only says so at send time.
    assert (plan["recipients"], plan["reachable"], plan["not_reachable"]) == (2, 2, 0)
    assert plan["audience"] == "財務部"
    assert plan["warnings"] and "日曜日" in plan["warnings"][0]
    assert main(["announce", "list", "--json"]) == 0
    assert _json_out(capsys) == {"announcements": []}
    main([*base, "--audience", "departments:財務部", "--at", sunday, "--dry-run"])
    text = capsys.readouterr().out
    assert "送信・保存はしていません" in text and "2人" in text and "未接続 0人" in text

    # send --json --wait: the id, where to follow it, and an exit code by outcome.
    send = [*base, "--audience", "departments:財務部", "--idempotency-key", "job-2026-04-01", "--json"]
    code = main([*send, "--wait"])
    captured = capsys.readouterr()
    first = json.loads(captured.out.strip().splitlines()[-1])
    assert not [line for line in captured.err.splitlines() if line.startswith("{")]  # no JSON logs unasked
    assert code == 3 and first["exit_code"] == 3
    assert first["replayed"] is False
    assert first["status_command"] == f"dxbot announce status {first['id']} --json"
    assert first["status"]["counts"]["delivered"] == 1
    assert first["status"]["counts"]["not_reachable"] == 1
    assert first["status"]["reasons"] == {"blocked": 1}
    posts = len(connector_sync.posts())

    # The same key again: the same announcement, nothing sent twice.
    assert main(send) == 0
    again = _json_out(capsys)
    assert (again["id"], again["replayed"]) == (first["id"], True)
    assert main(["announce", "list", "--json"]) == 0
    assert len(_json_out(capsys)["announcements"]) == 1
    assert len(connector_sync.posts()) == posts

    # status / delivery status: the same codes, exit 3 while someone is not reached, 1 when unknown.
    assert main(["announce", "status", str(first["id"]), "--json"]) == 3
    status = _json_out(capsys)
    assert status["not_delivered"] == 1 and status["counts"]["send_failed"] == 0
    assert main(["announce", "status", str(first["id"])]) == 3
    text = capsys.readouterr().out
    assert "未接続 1" in text and "ボットをブロックしている 1" in text
    assert main(["announce", "status", "999", "--json"]) == 1
    assert _json_out(capsys)["error"] == "not_found"
    assert main(["delivery", "status", "announcement", str(first["id"]), "--json"]) == 3
    delivery = _json_out(capsys)
    assert delivery["counts"]["delivered"] == 1 and delivery["counts"]["not_reachable"] == 1
    assert delivery["reasons"] == {"blocked": 1}
    assert main(["delivery", "status", "announcement", "999"]) == 1
    assert main(["announce", "export", str(first["id"]), str(tmp_path / "s.csv"), "--json"]) == 0
    assert _json_out(capsys) == {"id": first["id"], "file": str(tmp_path / "s.csv"), "format": "csv"}

    # Logs as JSON lines only when asked.
    assert main(["--log-format", "json", *base, "--audience", "leaders", "--wait"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err and all(json.loads(line)["level"] for line in err if line.strip())
