"""Writes the roster files the tests read, as a city hall's Excel would: run once, commit the output.

    .venv/bin/python tests/roster/data/make_data.py

roster_cp932.csv         Shift_JIS (CP932), CRLF, a title row, No column, half/full-width forms, role spellings
roster_ja.xlsx           the same people in Excel: title row, merged 部 cells, a 備考 column, メール header
roster_bad_rows.csv      UTF-8 with BOM: one good row and seven bad ones, each a different mistake
roster_transfer_2027.csv UTF-8 without BOM, English headers: the April 2027 transfer of roster_cp932.csv
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

BASE = [
    # No, 部, 課, 役割, 氏名, メールアドレス — typed the way people type them
    ("1", "総務部　", "総務課", "リーダー", "鈴木　一郎", "Leader@Demo-City.example.jp"),
    ("2", "総務部", "総務課", "ｻﾌﾞﾘｰﾀﾞｰ", "山田 花子", "hanako.yamada@demo-city.example.jp"),
    ("3", "総務部", "人事課", "ＤＸ推進リーダー", "伊藤  健太", " kenta.ito@demo-city.example.jp "),
    ("4", "総務部", "人事課", "副リーダー", "小林 美咲", "misaki.kobayashi@demo-city.example.jp"),
    ("5", "財務部", "税務課", "リーダー", "中村 直樹", "naoki.nakamura@demo-city.example.jp"),
    ("6", "財務部", "税務 課", "サブリーダー", "渡辺 陽子", "yoko.watanabe@demo-city.example.jp"),
    ("7", "財務部", "税務課", "サブリーダー", "加藤 誠", "ｍａｋｏｔｏ.kato@demo-city.example.jp"),
    ("8", "市民生活部", "市民課", "ﾘｰﾀﾞｰ", "吉田 恵", "megumi.yoshida@demo-city.example.jp"),
    ("9", "市民生活部", "市民課", "サブ", "佐々木 亮", "ryo.sasaki@demo-city.example.jp"),
    ("10", "福祉部", "高齢介護課", "leader", "山本 大輔", "daisuke.yamamoto@demo-city.example.jp"),
    ("11", "福祉部", "高齢介護課", "Sub-Leader", "松本 由美", "yumi.matsumoto@demo-city.example.jp"),
    ("12", "都市整備部", "道路課", "リーダー", "井上 拓也", "takuya.inoue@demo-city.example.jp"),
    ("13", "都市整備部", "公園緑地課", "", "", ""),  # listed, nobody named yet
]


def _csv(rows: list[tuple[str, ...]]) -> str:
    return "".join(",".join(r) + "\r\n" for r in rows)


def cp932_csv() -> None:
    rows = [
        ("令和8年度 DX推進リーダー・サブリーダー名簿", "", "", "", "", ""),
        ("No", "部", "課", "役割", "氏名", "メールアドレス"),
    ]
    (HERE / "roster_cp932.csv").write_bytes(_csv(rows + BASE).encode("cp932"))


def ja_xlsx() -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "推進員名簿"
    sheet.append(["令和8年度 DX推進員名簿(みどり市)"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(["No", "部", "課", "役割", "氏名", "メール", "備考"])
    first = {}
    for no, dept, sec, role, name, mail in BASE:
        sheet.append(
            [
                int(no),
                dept.strip("　"),
                sec.replace(" ", ""),
                role,
                name,
                mail.strip(),
                "R8.4.1~" if no == "1" else None,
            ]
        )
        first.setdefault(dept.strip("　"), sheet.max_row)
    # 部 merged down over its rows, as many city Excel files do; the merged cells read as empty.
    rows_by_dept: dict[str, list[int]] = {}
    for r in range(4, sheet.max_row + 1):
        rows_by_dept.setdefault(sheet.cell(r, 2).value, []).append(r)
    for rows in rows_by_dept.values():
        if len(rows) > 1:
            sheet.merge_cells(start_row=rows[0], start_column=2, end_row=rows[-1], end_column=2)
    book.save(HERE / "roster_ja.xlsx")


def bad_rows_csv() -> None:
    rows = [
        ("部", "課", "役割", "氏名", "メールアドレス"),
        ("総務部", "総務課", "リーダー", "鈴木 一郎", "leader@demo-city.example.jp"),
        ("総務部", "総務課", "リーダー", "山田 花子", "hanako.yamada@demo-city.example.jp"),  # 3: two leaders
        ("総務部", "人事課", "課長", "伊藤 健太", "kenta.ito@demo-city.example.jp"),  # 4: unknown role
        ("財務部", "税務課", "リーダー", "中村 直樹", "naoki.nakamura@@demo-city"),  # 5: malformed email
        ("財務部", "税務課", "サブリーダー", "", "yoko.watanabe@demo-city.example.jp"),  # 6: no name
        ("市民生活部", "市民課", "リーダー", "鈴木 一郎", "LEADER@demo-city.example.jp"),  # 7: same person
        ("", "市民課", "サブリーダー", "佐々木 亮", "ryo.sasaki@demo-city.example.jp"),  # 8: no department
        ("福祉部", "高齢介護課", "リーダー", "山本 大輔", ""),  # 9: no email
    ]
    (HERE / "roster_bad_rows.csv").write_bytes(_csv(rows).encode("utf-8-sig"))


def transfer_csv() -> None:
    rows = [
        ("Department", "Section", "Role", "Name", "Email"),
        ("総務部", "総務課", "leader", "鈴木 一郎", "leader@demo-city.example.jp"),
        ("総務部", "総務課", "sub-leader", "斎藤 翔太", "shota.saito@demo-city.example.jp"),  # new
        ("総務部", "人事課", "leader", "小林 美咲", "misaki.kobayashi@demo-city.example.jp"),  # sub -> leader
        ("総務部", "人事課", "sub-leader", "伊藤 健太", "kenta.ito@demo-city.example.jp"),  # leader -> sub
        (
            "財務部",
            "税務課",
            "leader",
            "山田 花子",
            "hanako.yamada@demo-city.example.jp",
        ),  # moved from 総務課
        ("財務部", "税務課", "sub-leader", "渡辺 陽子", "yoko.watanabe@demo-city.example.jp"),
        ("財務部", "税務課", "sub-leader", "加藤 誠", "makoto.kato@demo-city.example.jp"),
        ("市民生活部", "市民課", "leader", "吉田 恵", "megumi.yoshida@demo-city.example.jp"),
        ("福祉部", "高齢介護課", "leader", "山本 大輔", "daisuke.yamamoto@demo-city.example.jp"),
        ("福祉部", "高齢介護課", "sub-leader", "松本 由美", "yumi.matsumoto@demo-city.example.jp"),
        ("都市整備部", "道路課", "leader", "井上 拓也", "takuya.inoue@demo-city.example.jp"),
        ("都市整備部", "公園緑地課", "leader", "林 彩", "aya.hayashi@demo-city.example.jp"),  # new
        # 中村 直樹 (税務課 leader) and 佐々木 亮 (市民課 sub) are not in the file: they end.
    ]
    (HERE / "roster_transfer_2027.csv").write_bytes(_csv(rows).encode("utf-8"))


if __name__ == "__main__":
    cp932_csv()
    ja_xlsx()
    bad_rows_csv()
    transfer_csv()
