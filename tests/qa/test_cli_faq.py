"""``dxbot faq import / export / search`` on both databases, and the batch path a benchmark uses."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from dialogs.qa.kbfile import read_kb
from storage.db import make_engine, make_sessionmaker
from storage.models import KbEntry

ROOT = Path(__file__).resolve().parents[2]

CSV_UTF8 = """id,question,answer,alternates,tags,url
A-101,住民票の写しはどこで取れますか,"市民課の窓口か、マイナンバーカードでコンビニ交付を利用できます。",住民票を取りたい|住民票の発行,住民票|証明書,https://city.example.jp/juminhyo
A-102,粗大ごみの出し方を教えてください,粗大ごみ受付センターに電話かWebで申し込み、処理券を貼って出します。,大型ごみを捨てたい,ごみ,
A-103,児童手当の申請に必要なものは?,"申請書、請求者名義の口座がわかるもの、マイナンバーが確認できるものが必要です。",,子育て|手当,
"""


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("DXBOT_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setattr("bot.logging_setup.configure", lambda *a, **k: None)
    return db_url


def _search(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: bytes, *args: str):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    assert main(["faq", "search", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _entries(url: str) -> dict[str, KbEntry]:
    async def load() -> dict[str, KbEntry]:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as s:
                return {e.key: e for e in await s.scalars(select(KbEntry))}
        finally:
            await engine.dispose()

    return asyncio.run(load())


def test_import_search_export_round_trip(cli_env, tmp_path, monkeypatch, capsys):
    src = tmp_path / "faq.csv"
    src.write_text(CSV_UTF8, encoding="utf-8")
    assert main(["faq", "import", str(src)]) == 0
    assert "新規 3 件" in capsys.readouterr().out
    entries = _entries(cli_env)
    assert set(entries) == {"A-101", "A-102", "A-103"}
    assert entries["A-101"].alternates == ["住民票を取りたい", "住民票の発行"]
    assert entries["A-101"].url == "https://city.example.jp/juminhyo"
    assert entries["A-101"].status == "published"

    queries = "住民票がほしい\n大きな家具を捨てたい\n\n児童手当の手続きで要るもの\n".encode()
    lines = _search(monkeypatch, capsys, queries, "--top", "2")
    assert [line["query"] for line in lines] == [
        "住民票がほしい",
        "大きな家具を捨てたい",
        "",
        "児童手当の手続きで要るもの",
    ]
    assert lines[0]["results"][0]["id"] == "A-101"
    assert lines[1]["results"][0]["id"] == "A-102"
    assert lines[2]["results"] == []
    assert lines[3]["results"][0]["id"] == "A-103"
    assert all(len(line["results"]) <= 2 for line in lines)
    assert all(isinstance(r["score"], float) for line in lines for r in line["results"])
    scores = [r["score"] for r in lines[0]["results"]]
    assert scores == sorted(scores, reverse=True)

    # One query on the command line, as JSON and as text for people.
    assert main(["faq", "search", "--json", "粗大ごみの申し込み"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["query"] == "粗大ごみの申し込み" and one["results"][0]["id"] == "A-102"
    assert main(["faq", "search", "粗大ごみの申し込み"]) == 0
    assert "[A-102] 粗大ごみの出し方を教えてください" in capsys.readouterr().out

    for name in ("out.csv", "out.xlsx"):
        assert main(["faq", "export", str(tmp_path / name)]) == 0
        back = read_kb(tmp_path / name)
        assert back.ok
        assert {r.id: (r.question, r.answer, r.alternates, r.tags, r.url) for r in back.rows} == {
            k: (e.question, e.answer, e.alternates, e.tags, e.url or "") for k, e in entries.items()
        }


def test_cp932_with_only_the_required_columns(cli_env, tmp_path, monkeypatch, capsys):
    src = tmp_path / "sjis.csv"
    src.write_bytes(
        "id,question,answer\r\n"
        "Q1,犬の登録はどこでしますか,保健所で登録してください。\r\n"
        "Q2,図書館の開館時間は?,午前9時から午後7時までです。\r\n".encode("cp932")
    )
    assert main(["faq", "import", str(src)]) == 0
    assert "新規 2 件" in capsys.readouterr().out
    lines = _search(
        monkeypatch, capsys, "飼い犬の登録をしたい\n図書館は何時まで開いていますか\n".encode(), "--top", "1"
    )
    assert [line["results"][0]["id"] for line in lines] == ["Q1", "Q2"]


def test_errors_by_row_in_japanese_and_nothing_is_imported(cli_env, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(CSV_UTF8, encoding="utf-8")
    assert main(["faq", "import", str(good)]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,question,answer\nB-1,新しい質問,新しい回答\nA-101,,回答だけ\nB-1,重複,重複\n",
        encoding="utf-8",
    )
    assert main(["faq", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "3行目" in err and "4行目" in err and "重複" in err
    assert "何も取り込んでいません" in err
    entries = _entries(cli_env)
    assert "B-1" not in entries  # the good row of the bad file is not imported either
    assert entries["A-101"].question == "住民票の写しはどこで取れますか"


def test_upsert_by_id_and_replace(cli_env, tmp_path, capsys):
    first = tmp_path / "first.csv"
    first.write_text(CSV_UTF8, encoding="utf-8")
    assert main(["faq", "import", str(first)]) == 0
    update = tmp_path / "update.csv"
    update.write_text(
        "id,question,answer\nA-101,住民票の写しの取り方,コンビニでも取れます。\nA-200,新規,新規の回答\n",
        "utf-8",
    )
    assert main(["faq", "import", str(update)]) == 0
    assert "新規 1 件、更新 1 件、削除 0 件" in capsys.readouterr().out
    entries = _entries(cli_env)
    assert set(entries) == {"A-101", "A-102", "A-103", "A-200"}
    assert entries["A-101"].answer == "コンビニでも取れます。"
    assert main(["faq", "import", "--replace", str(update)]) == 0
    assert "削除 2 件" in capsys.readouterr().out
    assert set(_entries(cli_env)) == {"A-101", "A-200"}


def test_missing_file_and_bad_export_name_are_explained(cli_env, tmp_path, capsys):
    assert main(["faq", "import", str(tmp_path / "none.csv")]) == 2
    assert "見つかりません" in capsys.readouterr().err
    assert main(["faq", "export", str(tmp_path / "out.txt")]) == 2
    assert ".csv か .xlsx" in capsys.readouterr().err


def test_the_real_command_on_a_fresh_database_as_a_benchmark_runs_it(tmp_path):
    """`dxbot faq import` then `dxbot faq search` with queries on stdin, on a database never set up."""
    env = {**os.environ, "DXBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bench.sqlite3"}
    src = tmp_path / "faq.csv"
    src.write_text(CSV_UTF8, encoding="utf-8")
    dxbot = str(Path(sys.executable).parent / "dxbot")
    done = subprocess.run(
        [dxbot, "faq", "import", str(src)], env=env, cwd=tmp_path, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    queries = "住民票がほしい\n粗大ごみ\n".encode()
    done = subprocess.run(
        [dxbot, "faq", "search", "--top", "3"],
        input=queries,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]  # logs stay on stderr
    assert [line["results"][0]["id"] for line in lines] == ["A-101", "A-102"]


def test_a_file_without_the_phrasings_column_keeps_the_learned_phrasings(cli_env, tmp_path, capsys):
    """Approved phrasings live in the entries' alternates: a city's file without that column updates the
    questions and answers but must not wipe what the bot learned."""
    src = tmp_path / "faq.csv"
    src.write_text(CSV_UTF8, encoding="utf-8")
    assert main(["faq", "import", str(src)]) == 0
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "id,question,answer\nA-101,住民票の写しの取り方,市民課かコンビニで取れます。\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["faq", "import", str(plain)]) == 0
    assert "別の聞き方" in capsys.readouterr().out
    entry = _entries(cli_env)["A-101"]
    assert entry.question == "住民票の写しの取り方"
    assert entry.alternates == ["住民票を取りたい", "住民票の発行"]
    # With the column, the file's phrasings (one per line) are the entry's.
    withcol = tmp_path / "with.csv"
    withcol.write_text(
        'id,question,answer,別の聞き方\nA-101,住民票の写しの取り方,市民課かコンビニで取れます。,"会社に住所の証明を出す\n就職先に出す住民票"\n',
        encoding="utf-8",
    )
    assert main(["faq", "import", str(withcol)]) == 0
    assert _entries(cli_env)["A-101"].alternates == ["会社に住所の証明を出す", "就職先に出す住民票"]
