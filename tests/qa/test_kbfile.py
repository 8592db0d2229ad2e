"""Knowledge-base files as the DX division prepares them in Excel: CSV (UTF-8 / Shift_JIS) and XLSX."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from dialogs.qa.kbfile import KbRow, read_kb, write_kb, write_kb_csv, write_kb_xlsx

ROOT = Path(__file__).resolve().parents[2]

ROWS = [
    KbRow(
        "teams-rec",
        "Teams会議を録画するには?",
        "**録画** の手順:\n1. 「その他」を押す\n2. 「レコーディングを開始」を選ぶ",
        ["会議の録画方法", "レコーディングしたい"],
        ["Teams", "録画"],
        "https://intranet.example.lg.jp/dx/teams/recording",
    ),
    KbRow(
        "formula",
        "=1+1 と表示したい",
        "- 箇条書きで始まる回答\n- 2行目",
        ["+81の電話番号", "@メンション"],
        ["-"],
        "",
    ),
    KbRow("plain", '質問,カンマ"引用符"入り', "回答です。", [], [], ""),
]


def same(a: list[KbRow], b: list[KbRow]) -> bool:
    strip = [(r.id, r.question, r.answer, r.alternates, r.tags, r.url) for r in a]
    return strip == [(r.id, r.question, r.answer, r.alternates, r.tags, r.url) for r in b]


@pytest.mark.parametrize("bom", [True, False])
def test_csv_round_trip(bom: bool) -> None:
    data = write_kb_csv(ROWS, bom=bom)
    assert data.startswith(b"\xef\xbb\xbf") == bom
    result = read_kb(data, "faq.csv")
    assert result.ok
    assert same(result.rows, ROWS)
    assert [r.row for r in result.rows] == [2, 3, 4]


def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "faq.xlsx"
    write_kb(path, ROWS)
    result = read_kb(path)
    assert result.ok
    assert same(result.rows, ROWS)


def test_export_escapes_cells_that_excel_would_run() -> None:
    text = write_kb_csv(ROWS).decode("utf-8-sig")
    assert "'=1+1" in text and "'- 箇条書き" in text and "'+81" in text
    sheet = load_workbook(io.BytesIO(write_kb_xlsx(ROWS))).active
    cells = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row if c.value}
    assert "'=1+1 と表示したい" in cells
    assert all(t == "s" for t in cells.values())  # strings, never formulas


def test_cp932_csv_with_japanese_headers_is_detected() -> None:
    text = "ID,質問,回答,言い換え,タグ,URL\r\nq1,電子申請とは?,市民がネットで申請できる仕組みです。,オンライン申請|ネット申請,電子申請,\r\n"
    result = read_kb(text.encode("cp932"), "faq.csv")
    assert result.ok, [e.message for e in result.errors]
    (row,) = result.rows
    assert (row.id, row.question, row.alternates, row.tags) == (
        "q1",
        "電子申請とは?",
        ["オンライン申請", "ネット申請"],
        ["電子申請"],
    )


def test_utf8_without_bom_and_extra_columns_are_accepted() -> None:
    text = "id,question,answer,owner\nq1,質問,回答,DX推進課\n\n,,,\nq2,質問2,回答2,\n"
    result = read_kb(text.encode("utf-8"), "faq.csv")
    assert result.ok
    assert [r.id for r in result.rows] == ["q1", "q2"]
    assert [r.row for r in result.rows] == [2, 5]  # blank lines are skipped but counted


def test_bad_rows_are_reported_in_polite_japanese_with_row_and_column() -> None:
    text = (
        "id,question,answer,url\n"
        "a1,質問1,回答1,https://intranet.example.lg.jp/x\n"
        "a2,,回答2,\n"  # row 3: question empty
        "a1,質問3,回答3,\n"  # row 4: duplicate id
        "a4,質問4,,intranet/x\n"  # row 5: answer empty, bad url
    )
    result = read_kb(text.encode("utf-8"), "faq.csv")
    assert [r.id for r in result.rows] == ["a1"]
    messages = [e.message for e in result.errors]
    assert messages == [
        "3行目の「question」列が空です。質問文を入力してください。",
        "4行目の「id」列の「a1」は2行目と重複しています。別のIDにしてください。",
        "5行目の「answer」列が空です。回答文を入力してください。",
    ]
    assert [(e.row, e.column) for e in result.errors] == [(3, "question"), (4, "id"), (5, "answer")]
    assert [(w.row, w.column) for w in result.warnings] == [(5, "url")]
    assert result.errors[0].text("en") == 'Row 3: the "question" column is empty. Please enter the question.'


def test_odd_link_cells_keep_the_row_and_the_first_link() -> None:
    text = (
        "id,question,answer,url\n"
        "b1,質問1,回答1,詳しくは https://www.city.example.lg.jp/a.html と https://www.city.example.lg.jp/b.html\n"
        "b2,質問2,回答2,市役所ホームページ参照\n"
    )
    result = read_kb(text.encode("utf-8"), "faq.csv")
    assert not result.errors
    assert [(r.id, r.url) for r in result.rows] == [
        ("b1", "https://www.city.example.lg.jp/a.html"),
        ("b2", ""),
    ]
    assert [w.message for w in result.warnings] == [
        "3行目の「url」列に http:// または https:// で始まるURLが見つからなかったため、リンクなしで取り込みました。"
        "必要ならURLを直してもう一度取り込んでください。"
    ]


def test_long_answers_of_a_city_faq_are_accepted() -> None:
    text = "id,question,answer\n" + "c1,長い回答の質問," + "あ" * 20_000 + "\n"
    result = read_kb(text.encode("utf-8"), "faq.csv")
    assert not result.errors and len(result.rows[0].answer) == 20_000


def test_messages_use_the_column_name_the_user_wrote() -> None:
    result = read_kb("番号,質問,回答\n1,,答え\n".encode("cp932"), "faq.csv")
    assert [e.message for e in result.errors] == ["2行目の「質問」列が空です。質問文を入力してください。"]


def test_missing_required_column() -> None:
    result = read_kb("id,question\n1,質問\n".encode(), "faq.csv")
    assert result.rows == []
    assert [e.message for e in result.errors] == [
        "1行目に必須の列「answer」(回答文)がありません。列名を確認してください。"
    ]


def test_xlsx_bad_rows_and_numbers_as_ids() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "question", "answer"])
    ws.append([101, "質問", "回答"])
    ws.append([102, "質問", None])
    buf = io.BytesIO()
    wb.save(buf)
    result = read_kb(buf.getvalue(), "faq.xlsx")
    assert [r.id for r in result.rows] == ["101"]  # not "101.0"
    assert [e.message for e in result.errors] == ["3行目の「answer」列が空です。回答文を入力してください。"]


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"", "faq.csv", "ファイルにデータがありません"),
        (b"\xff\xfe\x00\x01garbage\x80\x81", "faq.csv", "ファイルを読み込めませんでした"),
        (b"not a zip", "faq.xlsx", "ファイルを読み込めませんでした"),
        (b"id,question,answer\n", "faq.pdf", "ファイルの形式に対応していません"),
    ],
)
def test_unreadable_files(data: bytes, name: str, expected: str) -> None:
    result = read_kb(data, name)
    assert result.rows == []
    assert result.errors[0].message.startswith(expected)


def test_starter_knowledge_base_is_valid() -> None:
    result = read_kb(ROOT / "dialogs/qa/data/starter_faq.csv")
    assert result.ok, [e.message for e in result.errors]
    assert len(result.rows) >= 60
    for row in result.rows:
        assert row.question.endswith(("?", "？", "。")), row.id
        assert row.url.startswith("https://intranet.example.lg.jp/"), row.id
        assert "です" in row.answer or "ます" in row.answer, row.id
        assert all(link.startswith("https://intranet.example.lg.jp/") for link in _links(row.answer)), row.id


def _links(markdown: str) -> list[str]:
    import re

    return re.findall(r"\]\(([^)]+)\)", markdown)


def test_phrasings_column_one_per_line_round_trips_in_csv_and_xlsx() -> None:
    """別の聞き方: one cell, one phrasing per line (Alt+Enter in Excel), so a city can bring its own."""
    text = (
        "ID,質問,回答,別の聞き方\r\n"
        'c1,転入届の出し方,市民課へ。,"引っ越してきた、手続きは?\n市外から越してきました | 転入したい\n\n"\r\n'
    )
    result = read_kb(text.encode("utf-8"), "faq.csv")
    assert result.ok, [e.message for e in result.errors]
    (row,) = result.rows
    assert row.alternates == ["引っ越してきた、手続きは?", "市外から越してきました", "転入したい"]
    csv_text = write_kb_csv(result.rows).decode("utf-8-sig")
    assert '"引っ越してきた、手続きは?\n市外から越してきました\n転入したい"' in csv_text
    assert read_kb(write_kb_csv(result.rows), "faq.csv").rows[0].alternates == row.alternates
    sheet = load_workbook(io.BytesIO(write_kb_xlsx(result.rows))).active
    assert sheet["D2"].value == "引っ越してきた、手続きは?\n市外から越してきました\n転入したい"
    assert read_kb(write_kb_xlsx(result.rows), "faq.xlsx").rows[0].alternates == row.alternates
