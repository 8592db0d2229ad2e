"""``dxbot roster …`` and ``dxbot admin …`` as the DX division's IT contact runs them."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bot.cli import main as dxbot
from tests.roster.conftest import DATA


@pytest.fixture
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("DXBOT_DATABASE_URL", db_url)
    monkeypatch.delenv("DXBOT_ADMINS", raising=False)
    return db_url


def test_import_dry_run_apply_and_transfer(cli_db, capsys):
    assert (
        dxbot(["roster", "import", str(DATA / "roster_cp932.csv"), "--dry-run", "--effective", "2026-04-01"])
        == 0
    )
    out = capsys.readouterr().out
    assert "追加 12人 / 異動・役割変更 0人 / 終了 0人 / 変更なし 0人" in out
    assert "確認のみです(--dry-run)。名簿は変更していません。" in out
    # The dry run wrote nothing: the real run still adds everyone.
    assert dxbot(["roster", "import", str(DATA / "roster_cp932.csv"), "--effective", "2026-04-01"]) == 0
    out = capsys.readouterr().out
    assert "追加 12人" in out and out.rstrip().endswith("名簿を更新しました。")
    assert (
        dxbot(["roster", "import", str(DATA / "roster_transfer_2027.csv"), "--effective", "2027-04-01"]) == 0
    )
    out = capsys.readouterr().out
    assert "適用日: 2027年4月1日(木)" in out
    assert "追加 2人 / 異動・役割変更 3人 / 終了 2人 / 変更なし 7人" in out
    assert "  → 山田 花子: 総務部 総務課 サブリーダー → 財務部 税務課 リーダー" in out
    assert "  - 中村 直樹(財務部 税務課 リーダー)" in out


def test_import_with_row_errors_exits_non_zero_and_writes_nothing(cli_db, capsys, tmp_path):
    assert dxbot(["roster", "import", str(DATA / "roster_bad_rows.csv")]) == 1
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0] == (
        "「roster_bad_rows.csv」に直していただきたい点が7件あります。名簿は変更していません。"
        "次の点を直して、もう一度ファイルを送ってください。"
    )
    assert [line.strip().split("「")[0] for line in err[1:]] == [f"{n}行目" for n in range(3, 10)]
    out = tmp_path / "after.csv"
    assert dxbot(["roster", "export", str(out)]) == 0
    assert out.read_bytes().decode("utf-8-sig").strip() == "部,課,役割,氏名,メールアドレス"
    assert dxbot(["roster", "import", str(tmp_path / "missing.xlsx")]) == 2


def test_export_and_import_back_is_a_no_op(cli_db, capsys, tmp_path):
    assert dxbot(["roster", "import", str(DATA / "roster_ja.xlsx")]) == 0
    for name in ("roster.xlsx", "roster.csv"):
        assert dxbot(["roster", "export", str(tmp_path / name)]) == 0
        capsys.readouterr()
        assert dxbot(["roster", "import", str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        assert "変更なし 12人" in out and "名簿はファイルと同じです。変更はありません。" in out
    assert dxbot(["roster", "export", str(tmp_path / "roster.txt")]) == 2


def test_coverage_lists_unreachable_sections_first(cli_db, capsys):
    assert dxbot(["roster", "import", str(DATA / "roster_cp932.csv")]) == 0
    capsys.readouterr()
    assert dxbot(["roster", "coverage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("カバー状況(") and "連絡が届く推進員 12人中0人" in lines[1]
    assert lines[2] == "× 総務部 総務課 — リーダー 鈴木 一郎(届かない) / サブリーダー 山田 花子(届かない)"
    assert "× 都市整備部 公園緑地課 — 推進員未設定" in lines


def test_coverage_lists_sections_only_when_some_are_unreachable_or_with_all(cli_db, capsys):
    assert dxbot(["roster", "import", str(DATA / "roster_cp932.csv")]) == 0
    asyncio.run(_reach_everyone(cli_db))
    capsys.readouterr()
    assert dxbot(["roster", "coverage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    sections = [line for line in lines if line[:2] in ("○ ", "△ ", "× ")]
    assert "連絡が届く推進員" in lines[1]
    reached = [line for line in sections if line.startswith("○ ")]
    assert reached == []  # sections everyone in is reached are not listed without --all
    assert lines[-1] == "全課の一覧は dxbot roster coverage --all で表示できます。"
    assert dxbot(["roster", "coverage", "--all"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("○ ")]
    assert listed, "--all lists every section"


def test_admin_bootstrap(cli_db, capsys):
    assert dxbot(["admin", "add", "Kato@City.example.jp", "--name", "加藤 恵"]) == 0
    assert dxbot(["admin", "add", "sato@city.example.jp", "--author"]) == 0
    assert dxbot(["admin", "list"]) == 0
    out = capsys.readouterr().out
    assert "kato@city.example.jp さんをDX推進課の管理者に追加しました。" in out
    assert "管理者\tkato@city.example.jp\t加藤 恵\t" in out
    assert "送信担当\tsato@city.example.jp\tsato\t" in out
    assert dxbot(["admin", "remove", "kato@city.example.jp"]) == 1
    assert "最後の管理者は外せません。" in capsys.readouterr().out
    assert dxbot(["admin", "remove", "sato@city.example.jp", "--author"]) == 0
    assert dxbot(["admin", "add", "not-an-email"]) == 1


def test_seed_demo_once(cli_db, capsys, tmp_path):
    assert dxbot(["seed-demo", "--if-empty"]) == 0
    assert "デモの市「みどり市」を登録しました: 14部・49課・推進員100人。" in capsys.readouterr().out
    assert dxbot(["seed-demo", "--if-empty"]) == 0
    assert "名簿が登録済みのため、デモの市は登録しませんでした。" in capsys.readouterr().out
    path = tmp_path / "demo.xlsx"
    assert dxbot(["roster", "export", str(path)]) == 0
    shutil.copy(path, tmp_path / "copy.xlsx")
    assert Path(tmp_path / "copy.xlsx").stat().st_size > 5000


async def _reach_everyone(db_url: str) -> None:
    """Everyone on the roster has added the bot (a Teams account and a personal chat)."""
    from sqlalchemy import select

    from bot.services import open_services
    from storage.models import Person
    from tests.delivery.helpers import add_account, add_chat
    from tests.support import settings_for

    async with open_services(settings_for(db_url)) as svc, svc.sessionmaker() as s, s.begin():
        for person in (await s.scalars(select(Person))).all():
            await add_account(s, person.id, f"aad-{person.id}", f"29:u{person.id}", person.email)
            await add_chat(
                s,
                "http://127.0.0.1:1/",
                f"a:p-{person.id}",
                user_id=f"29:u{person.id}",
                aad_object_id=f"aad-{person.id}",
            )
