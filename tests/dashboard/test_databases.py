"""Every page and every CSV on both databases the bot supports (the queries group, trim and
aggregate; PostgreSQL is stricter about all three)."""

from __future__ import annotations

import asyncio

from tests.dashboard.demo import main as seed_demo
from tests.dashboard.pagetext import Page, read_csv
from tests.dashboard.test_pages import PAGES, signed_in


def test_every_page_and_csv_on_sqlite_and_postgresql(db_url: str) -> None:
    seed_demo(db_url)

    async def check() -> None:
        async with signed_in(db_url) as client:
            for name in PAGES:
                resp = await client.get(f"/dashboard/{name}")
                body = await resp.text()
                assert resp.status == 200, (name, body[:500])
                page = Page.parse(body)
                assert page.tables and page.charts, name
                assert all(t.rows for t in page.tables[:1]), name
                for link in page.csv_links:
                    got = await client.get(link.replace("&amp;", "&"))
                    assert got.status == 200, link
                    assert read_csv(await got.read())[0], link
            questions = Page.parse(await (await client.get("/dashboard/questions?days=all")).text())
            assert questions.table("ボットが答えられなかった質問").rows

    asyncio.run(check())
