"""The dashboard's 成果 page: hours saved per department and tool over fiscal years and recognition
results, equal to the database's; a fiscal-year filter; CSV beside every table; polite when empty."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dialogs.cases import service
from storage.db import make_engine, make_sessionmaker
from storage.models import RecognitionRound
from tests.cases.test_savings import _case, _city
from tests.dashboard.conftest import ADMIN_EMAIL
from tests.dashboard.test_pages import csv_of, page, signed_in

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 1, 1, tzinfo=UTC)


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            homes = await _city(s)
            for sec, tools, before, after, started in [
                ("総務課", ["RPA"], 100, 40, date(2025, 6, 1)),
                ("総務課", ["RPA", "AI-OCR"], 50, 20, date(2026, 5, 1)),
                ("税務課", ["AI-OCR"], 80, 30, date(2026, 7, 1)),
            ]:
                case = await service.submit(s, _case(tools, before, after, started), homes[sec], None, NOW)
                service.publish(case, None, NOW)
            waiting = await service.submit(
                s, _case(["RPA"], 500, 0, date(2026, 8, 1)), homes["人事課"], None, NOW
            )
            assert waiting.state == "submitted"
            s.add(
                RecognitionRound(
                    title="2025年度", period_from=date(2025, 4, 1), period_to=date(2026, 3, 31), state="closed",
                    closed_at=NOW, results=[{"place": 1, "case_id": 1, "title": "t", "section": "総務部 総務課", "votes": 12}],
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


async def test_results_page_shows_the_databases_sums(sqlite_url: str) -> None:
    async with signed_in(sqlite_url, admins=[ADMIN_EMAIL]) as client:
        empty = await page(client, "/dashboard/results")
        assert "公開された改善事例はまだありません" in empty.text and not empty.tables
        await _seed(sqlite_url)
        p = await page(client, "/dashboard/results")
        assert p.h1 == "成果" and "成果" in p.nav
        depts = p.table("部別の削減時間")
        assert depts.header == ["部", "2025年度", "2026年度", "合計(時間/月)", "件数"]
        assert depts.rows == [["総務部", "60", "30", "90", "2"], ["財務部", "0", "50", "50", "1"]]
        tools = p.table("ツール別の削減時間")
        assert tools.rows == [["AI-OCR", "0", "80", "80", "2"], ["RPA", "60", "30", "90", "2"]][::-1]
        assert p.table("表彰の結果").rows == [["2025年度", "1", "t", "総務部 総務課", "12"]]
        assert "確認待ち" in p.text and p.charts >= 2
        for table, link in zip(p.tables, p.csv_links, strict=True):
            rows = await csv_of(client, link)
            assert len(rows) - 1 == len(table.rows) and rows[0][0] == table.header[0]
        fy = await page(client, "/dashboard/results?fy=2025")
        assert fy.table("部別の削減時間").rows == [["総務部", "60", "60", "1"]]
        assert len(fy.table("公開された事例").rows) == 1
        en = await page(client, "/dashboard/results?lang=en")
        assert en.h1 == "Results" and en.table("Hours saved per department").header[0] == "Department"
