"""Reading roster files as city halls export them: encodings, headers, widths, roles, and every mistake."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from dialogs.kit.i18n import t
from dialogs.roster.cards import describe
from dialogs.roster.handlers import parse_effective
from dialogs.roster.normalize import escape_cell, org_name, parse_role, person_name, unescape_cell
from dialogs.roster.reader import read_roster
from storage.models.roster import PromoterRole

DATA = Path(__file__).parent / "data"
L, S = PromoterRole.LEADER, PromoterRole.SUBLEADER
EXPECTED_BASE = [
    ("総務部", "総務課", L, "鈴木 一郎", "leader@demo-city.example.jp"),
    ("総務部", "総務課", S, "山田 花子", "hanako.yamada@demo-city.example.jp"),
    ("総務部", "人事課", L, "伊藤 健太", "kenta.ito@demo-city.example.jp"),
    ("総務部", "人事課", S, "小林 美咲", "misaki.kobayashi@demo-city.example.jp"),
    ("財務部", "税務課", L, "中村 直樹", "naoki.nakamura@demo-city.example.jp"),
    ("財務部", "税務課", S, "渡辺 陽子", "yoko.watanabe@demo-city.example.jp"),
    ("財務部", "税務課", S, "加藤 誠", "makoto.kato@demo-city.example.jp"),
    ("市民生活部", "市民課", L, "吉田 恵", "megumi.yoshida@demo-city.example.jp"),
    ("市民生活部", "市民課", S, "佐々木 亮", "ryo.sasaki@demo-city.example.jp"),
    ("福祉部", "高齢介護課", L, "山本 大輔", "daisuke.yamamoto@demo-city.example.jp"),
    ("福祉部", "高齢介護課", S, "松本 由美", "yumi.matsumoto@demo-city.example.jp"),
    ("都市整備部", "道路課", L, "井上 拓也", "takuya.inoue@demo-city.example.jp"),
    ("都市整備部", "公園緑地課", None, "", ""),
]


def _rows(parsed):
    return [(r.department, r.section, r.role, r.name, r.email) for r in parsed.rows]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cp932_csv_with_title_row_widths_and_role_spellings():
    data = (DATA / "roster_cp932.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really Shift_JIS, as Excel's 「CSV (コンマ区切り)」 writes it
    parsed = read_roster(data, "roster_cp932.csv")
    assert parsed.problems == []
    assert _rows(parsed) == EXPECTED_BASE
    assert parsed.rows[0].row == 3  # rows are numbered as in the file: title, header, then data


def test_xlsx_with_japanese_headers_merged_department_cells_and_remarks_column():
    parsed = read_roster((DATA / "roster_ja.xlsx").read_bytes(), "roster_ja.xlsx")
    assert parsed.problems == []
    assert _rows(parsed) == EXPECTED_BASE
    assert parsed.rows[0].row == 4


def test_utf8_without_bom_and_english_headers():
    parsed = read_roster((DATA / "roster_transfer_2027.csv").read_bytes(), "transfer.csv")
    assert parsed.problems == []
    assert len(parsed.rows) == 12
    assert parsed.rows[1].role is S and parsed.rows[1].name == "斎藤 翔太"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932", "utf-16"])
def test_every_encoding_excel_writes(encoding):
    text = (
        "部,課,役割,氏名,メールアドレス\r\n総務部,総務課,リーダー,鈴木 一郎,leader@demo-city.example.jp\r\n"
    )
    if encoding == "utf-16":
        text = text.replace(",", "\t")  # Excel's 「Unicode テキスト」 is tab-separated UTF-16
    parsed = read_roster(text.encode(encoding), "r.csv")
    assert parsed.problems == []
    assert _rows(parsed) == [("総務部", "総務課", L, "鈴木 一郎", "leader@demo-city.example.jp")]


@pytest.mark.parametrize(
    ("spelling", "role"),
    [
        ("リーダー", L), ("ﾘｰﾀﾞｰ", L), ("DX推進リーダー", L), ("ＤＸ推進リーダー", L), ("leader", L), ("LEADER", L),
        ("サブリーダー", S), ("ｻﾌﾞﾘｰﾀﾞｰ", S), ("副リーダー", S), ("sub-leader", S), ("Sub Leader", S), ("subleader", S),
        ("DX推進サブリーダー", S), (" サブリーダー　", S),
        ("課長", None), ("メンバー", None), ("", None),
    ],
)  # fmt: skip
def test_role_spellings(spelling, role):
    assert parse_role(spelling) is role


def test_names_are_normalised():
    assert org_name("　総務部 ") == "総務部"
    assert org_name("税務 課") == "税務課"
    assert org_name("ｿﾞｳｾﾞｲ課") == "ゾウゼイ課"
    assert org_name("ICT Promotion Office") == "ICT Promotion Office"
    assert person_name("鈴木　　一郎") == "鈴木 一郎"
    assert person_name("ｽｽﾞｷ ｲﾁﾛｳ") == "スズキ イチロウ"


def test_bad_rows_are_each_reported_by_row_and_column_in_japanese_with_a_next_step():
    parsed = read_roster((DATA / "roster_bad_rows.csv").read_bytes(), "roster_bad_rows.csv")
    found = [(p.row, p.column, p.code) for p in parsed.problems]
    assert found == [
        (3, "role", "two_leaders"),
        (4, "role", "role_unknown"),
        (5, "email", "email_format"),
        (6, "name", "required"),
        (7, "email", "duplicate_person"),
        (8, "department", "required"),
        (9, "email", "required"),
    ]
    text = [describe(lambda k, **kw: t(k, "ja", **kw), p) for p in parsed.problems]
    assert text[0].startswith("3行目「役割」: 総務部 総務課のリーダーは2行目にもいます。")
    assert "「サブリーダー」にしてください" in text[0]
    assert text[1] == (
        "4行目「役割」: 役割「課長」は使えません。「リーダー」または「サブリーダー」(「副リーダー」も可)と入力してください。"
    )
    assert "naoki.nakamura@@demo-city" in text[2] and "のように入力してください" in text[2]
    assert text[3].startswith("6行目「氏名」: 「氏名」が空欄です。入力してください。")
    assert "2行目にもあります" in text[4]
    assert text[5].startswith("8行目「部」")
    assert text[6].startswith("9行目「メールアドレス」")
    assert all(line.endswith("。") for line in text)


def test_xlsx_problems_name_the_column_letter():
    data = _xlsx(
        [
            ["部", "課", "役割", "氏名", "メールアドレス", "内線"],
            ["総務部", "総務課", "リーダー", "鈴木 一郎", "suzuki@city"],
        ]
    )
    parsed = read_roster(data, "r.xlsx")
    lines = [describe(lambda k, **kw: t(k, "ja", **kw), p) for p in parsed.problems]
    assert lines[0].startswith("1行目・F列: 見出し「内線」は名簿では使いません。")
    assert lines[1].startswith(
        "2行目・E列「メールアドレス」: メールアドレス「suzuki@city」の形式が正しくありません。"
    )


def test_missing_column_and_missing_header():
    parsed = read_roster("部,課,役割,氏名\n総務部,総務課,リーダー,鈴木 一郎\n".encode(), "r.csv")
    assert [(p.code, p.column) for p in parsed.problems] == [("missing_column", "email")]
    parsed = read_roster(b"a,b,c\n1,2,3\n", "r.csv")
    assert [p.code for p in parsed.problems] == ["no_header"]
    assert describe(lambda k, **kw: t(k, "ja", **kw), parsed.problems[0]).startswith(
        "ファイル全体: 見出しの行が見つかりません。"
    )


def test_files_that_cannot_be_read_say_what_to_do():
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    assert [p.code for p in read_roster(xls, "名簿.xls").problems] == ["xls_format"]
    assert [p.code for p in read_roster(b"PK\x03\x04broken", "名簿.xlsx").problems] == ["unreadable_xlsx"]
    assert [p.code for p in read_roster(b"", "x.csv").problems] == ["empty_file"]
    assert [p.code for p in read_roster(b"\x81\x00\xff\xfe\xfd", "x.csv").problems] != []
    only_header = read_roster("部,課,役割,氏名,メールアドレス\n".encode(), "x.csv")
    assert [p.code for p in only_header.problems] == ["no_rows"]


def test_formula_escape_round_trip():
    for value in ("=SUM(A1)", "+81-3", "-1", "@cmd", "普通の名前"):
        assert unescape_cell(escape_cell(value)) == value
    assert escape_cell("=1+1") == "'=1+1"
    assert escape_cell("鈴木") == "鈴木"


def test_effective_date_written_with_the_file():
    today = date(2027, 3, 20)
    assert parse_effective("", today) is None
    assert parse_effective("名簿を更新します", today) is None
    assert parse_effective("2027-04-01", today) == date(2027, 4, 1)
    assert parse_effective("適用日 2027年4月1日", today) == date(2027, 4, 1)
    assert parse_effective("２０２７／４／１付け", today) == date(2027, 4, 1)
    assert parse_effective("4月1日付けで", today) == date(2027, 4, 1)
    assert parse_effective("12月28日", today) == date(2026, 12, 28)
    with pytest.raises(ValueError):
        parse_effective("2027-13-45", today)
    assert parse_effective("4/1付", today) == date(2027, 4, 1)
    with pytest.raises(ValueError):
        parse_effective("来年度の4月から", today)
