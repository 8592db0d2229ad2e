"""Spreadsheets people send are read within bounds: a small file must not cost minutes or gigabytes.

The incident: an XLSX of 781 KB with a million rows took 72 s of CPU and 467 MB of memory in the
roster import. The files here are written by hand (tests/fakes/workbooks.py) at those sizes.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from dialogs.kit.i18n import t
from dialogs.qa.kbfile import read_kb
from dialogs.roster.cards import describe
from dialogs.roster.reader import read_roster
from dialogs.survey.loader import from_file
from dialogs.survey.questions import DefinitionError
from tests.fakes.workbooks import (
    HEADER,
    MB,
    ROW,
    many_parts,
    one_huge_row,
    roster_xlsx,
    table_xlsx,
    zip_bomb,
)


@dataclass
class Cost:
    cpu: float  # seconds of CPU in this process (less noisy than wall time on a shared machine)
    peak: int  # bytes allocated at the high point, as tracemalloc saw them


def cost_of(work: Callable[[], Any]) -> tuple[Any, Cost]:
    """Run ``work`` twice: timed, then traced (tracemalloc slows allocation-heavy code several times)."""
    started = time.process_time()
    result = work()
    cpu = time.process_time() - started
    tracemalloc.start()
    try:
        work()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, Cost(cpu, peak)


def refusal(work: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            work()
        except DefinitionError as exc:
            return exc.problems
        raise AssertionError("not refused")

    return run


def roster_message(parsed: Any) -> list[str]:
    return [describe(lambda key, **kw: t(key, "ja", **kw), p) for p in parsed.problems]


def test_a_million_row_xlsx_of_740_kb_is_refused_before_it_is_parsed(monkeypatch):
    data = roster_xlsx(rows=1_000_000)
    assert 700_000 < len(data) < 800_000
    _openpyxl_must_not_run(monkeypatch)
    parsed, cost = cost_of(lambda: read_roster(data, "名簿.xlsx"))
    assert [p.code for p in parsed.problems] == ["xlsx_too_big"]
    assert roster_message(parsed) == [
        "ファイル全体: Excelファイルの中身が大きすぎます(展開すると32 MBを超えます)。"
        "名簿のシートだけを残し、画像やほかのシートを削除して保存し直してから送ってください。"
    ]
    assert parsed.rows == []
    assert cost.cpu < 2 and cost.peak < 5 * MB, cost


def test_a_sheet_past_the_row_cap_is_read_only_up_to_the_cap(monkeypatch):
    # 60,000 rows in 6 MB of XML: small enough to open, so the rows are streamed and reading stops.
    data = roster_xlsx(rows=60_000)
    parsed, cost = cost_of(lambda: read_roster(data, "名簿.xlsx"))
    assert roster_message(parsed) == [
        "ファイル全体: 行が多すぎます(20000行まで)。名簿以外の行が含まれていないかご確認ください。"
    ]
    assert parsed.rows == [] and parsed.warnings == []  # nothing of a refused file is kept
    assert cost.peak < 64 * MB, cost
    assert cost.cpu < 10, cost  # about 1.5 s on an idle machine


def test_a_csv_past_the_row_cap_is_refused_the_same_way():
    lines = "部,課,役割,氏名,メールアドレス\r\n" + "総務部,総務課,,,\r\n" * 500_000
    parsed = read_roster(lines.encode("utf-8"), "名簿.csv")
    assert [(p.code, p.params) for p in parsed.problems] == [("too_many_rows", {"limit": 20_000})]


def _openpyxl_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("openpyxl was asked to parse a file that should have been refused")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: zip_bomb(unpacked=300 * MB), "xlsx_too_big"),
        (lambda: many_parts(5_000), "xlsx_too_big"),
    ],
)
def test_a_zip_bomb_is_refused_from_the_zip_directory_alone(
    monkeypatch, make: Callable[[], bytes], code: str
):
    data = make()
    assert len(data) < 1 * MB
    _openpyxl_must_not_run(monkeypatch)
    parsed, cost = cost_of(lambda: read_roster(data, "名簿.xlsx"))
    assert [p.code for p in parsed.problems] == [code]
    assert cost.cpu < 2 and cost.peak < 5 * MB, cost


def test_one_row_of_a_million_cells_is_refused_before_parsing():
    data = one_huge_row(cells=1_000_000)  # 22 MB of XML in one <row>: a dict per cell in openpyxl
    parsed, cost = cost_of(lambda: read_roster(data, "名簿.xlsx"))
    assert [p.code for p in parsed.problems] == ["xlsx_row_too_big"]
    assert cost.peak < 10 * MB, cost


def test_a_survey_sheet_of_200000_questions_stops_at_the_41st():
    data = table_xlsx(("キー", "種類", "質問"), ("q1", "5段階", "x"), rows=200_000)
    problems, cost = cost_of(refusal(lambda: from_file("サーベイ.xlsx", data)))
    assert problems == ["質問は40問までにしてください"]
    assert cost.cpu < 2 and cost.peak < 16 * MB, cost


def test_a_survey_sheet_with_a_cell_far_below_is_refused_with_the_row_cap_named():
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(("キー", "種類", "質問"))
    sheet.append(("q1", "5段階", "会議資料の電子化は進んでいる"))
    sheet.cell(row=100_000, column=1, value="メモ")  # a stray cell: never silently dropped
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(DefinitionError) as caught:
        from_file("サーベイ.xlsx", out.getvalue())
    assert caught.value.problems == [
        "Excelのシートの行が多すぎます(500行まで)。質問の定義(1行に1問)と設定だけを残して、もう一度送ってください。"
    ]


def test_a_faq_file_past_its_cap_is_refused_with_the_cap_named():
    data = table_xlsx(("id", "question", "answer"), ("q", "質問", "1"), rows=60_000)
    result, cost = cost_of(lambda: read_kb(data, "faq.xlsx"))
    assert [e.message for e in result.errors] == [
        "行が多すぎます(20000行まで)。よくある質問の行だけを残し、ファイルを分けてから取り込んでください。"
    ]
    assert result.rows == []
    assert cost.peak < 64 * MB, cost
    csv = ("id,question,answer\n" + "q,質問,答え\n" * 30_000).encode()
    assert [e.key for e in read_kb(csv, "faq.csv").errors] == ["qa.kbfile.too_many_rows"]


def test_merged_department_cells_still_fill_their_sections():
    """The streamed reader keeps what the full model did: a 部 merged down over its 課 rows (a guard
    for the streaming rewrite; the old reader did this too)."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet.append(("", "人事課", "リーダー", "伊藤 健太", "kenta.ito@demo-city.example.jp"))
    sheet.merge_cells("A2:A3")
    out = io.BytesIO()
    book.save(out)
    parsed = read_roster(out.getvalue(), "名簿.xlsx")
    assert parsed.problems == []
    assert [(r.department, r.section) for r in parsed.rows] == [("総務部", "総務課"), ("総務部", "人事課")]
