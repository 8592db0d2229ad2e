"""The quarterly deck opens with python-pptx and holds the slides, native charts and figures the
database has; an empty quarter says so instead of drawing empty charts; the link is signed."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import pytest
from openpyxl import load_workbook
from pptx import Presentation
from sqlalchemy import select

from dialogs.cases import service
from dialogs.report.deck import build_deck, build_workbook
from dialogs.report.figures import Quarter, collect
from storage.db import make_engine, make_sessionmaker
from storage.models import AppSetting, Person, QueryLog, RecognitionRound, Ticket
from storage.models.announce import Announcement, AnnouncementRecipient
from tests.announce.conftest import build_city
from tests.cases.test_savings import _case, _city
from tests.support import ADMIN, running_bot, settings_for

pytestmark = pytest.mark.asyncio
Q3 = Quarter(2026, 3)  # October–December 2026
IN_Q3 = datetime(2026, 10, 20, 1, tzinfo=UTC)
IN_Q2 = datetime(2026, 8, 20, 1, tzinfo=UTC)


async def test_fiscal_quarters():
    assert Quarter.parse("2026Q3") == Q3 and Quarter.parse("２０２６ｑ４") == Quarter(2026, 4)
    assert Quarter.parse("2026Q5") is None and Quarter.parse("Q3") is None
    start, end = Quarter(2026, 4).bounds()
    assert start == datetime(2026, 12, 31, 15, tzinfo=UTC) and end == datetime(2027, 3, 31, 15, tzinfo=UTC)
    assert Quarter.containing(date(2027, 3, 31)) == Quarter(2026, 4)
    assert Quarter.containing(date(2026, 4, 1)) == Quarter(2026, 1)
    assert Quarter(2026, 1).previous == Quarter(2025, 4)


async def _fill(session):
    homes = await _city(session)
    session.add(AppSetting(key="city.name", value={"name": "みどり市"}))
    for home, tools, before, after, when in [
        ("総務課", ["RPA"], 100, 40, IN_Q3),
        ("税務課", ["RPA", "AI-OCR"], 50, 20, IN_Q3),
        ("人事課", ["生成AI"], 10, 4, IN_Q2),
    ]:
        case = await service.submit(
            session, _case(tools, before, after, when.date()), homes[home], None, when
        )
        service.publish(case, None, when)
    ann = Announcement(title="研修", ack_required=True, state="sent", sent_at=IN_Q3)
    session.add(ann)
    await session.flush()
    for i, (dept, confirmed) in enumerate([("総務部", True), ("総務部", False), ("財務部", True)]):
        person = Person(name=f"n{i}", email=f"{i}@x")
        session.add(person)
        await session.flush()
        session.add(
            AnnouncementRecipient(
                announcement_id=ann.id, person_id=person.id, name=f"n{i}", email=f"{i}@x", department=dept,
                section="s", section_id=1, role="leader", confirmed_at=IN_Q3 if confirmed else None,
            )
        )  # fmt: skip
    session.add(
        RecognitionRound(
            title="2026年度 第2四半期", period_from=date(2026, 7, 1), period_to=date(2026, 9, 30), state="closed",
            closed_at=IN_Q3, results=[{"place": 1, "case_id": 1, "title": "照合をRPAで", "section": "財務部 税務課", "votes": 7}],
        )
    )  # fmt: skip
    for i in range(4):
        session.add(QueryLog(at=IN_Q3, query=f"q{i}", answered=i < 3))
    session.add(QueryLog(at=IN_Q2, query="old", answered=False))
    for days in (1, 3):
        session.add(
            Ticket(question="?", asker_user_id="29:x", service_url="https://s", created_at=IN_Q3,
                   answered_at=IN_Q3 + timedelta(days=days))
        )  # fmt: skip


async def test_deck_and_workbook_hold_the_databases_figures(db_url):
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await _fill(s)
        async with make_sessionmaker(engine)() as s:
            f = await collect(s, Q3)
    finally:
        await engine.dispose()
    assert f.findings[
        "cases"
    ] == "改善事例2件を公開(前四半期比 +1件)、月90時間の削減。最も削減したツールは RPA(月90時間)".replace(
        " RPA", "RPA"
    )
    assert (
        f.findings["questions"]
        == "質問4件のうちボットが3件に回答(回答率75%(前四半期比 +75pt))、DX推進課へ2件・回答までの中央値2日"
    )
    assert f.findings["reach"] == "お知らせ1件の確認率は全体で67%、最も低いのは総務部(50%)"

    prs = Presentation(io.BytesIO(build_deck(f)))
    texts = [
        "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame) for slide in prs.slides
    ]
    assert "みどり市 DX推進 四半期レポート" in texts[0] and "2026年度 第3四半期(10月〜12月)" in texts[0]
    charts = {
        texts[i].split("\n")[0]: sh.chart
        for i, slide in enumerate(prs.slides)
        for sh in slide.shapes
        if sh.has_chart
    }
    reach = charts["お知らせの確認状況(部別)"]
    assert list(reach.plots[0].categories) == ["総務部", "財務部"]
    assert list(reach.series[0].values) == [50.0, 100.0]
    depts = charts["改善事例と削減時間(部別・時間/月)"]
    assert dict(zip(depts.plots[0].categories, depts.series[0].values, strict=True)) == {
        "総務部": 60.0,
        "財務部": 30.0,
    }
    tools = charts["改善事例と削減時間(ツール別・時間/月)"]
    assert dict(zip(tools.plots[0].categories, tools.series[0].values, strict=True)) == {
        "RPA": 90.0,
        "AI-OCR": 30.0,
    }
    qs = charts["質問への対応"]
    assert [list(s.values) for s in qs.series] == [[1, 0, 0, 0], [4, 3, 2, 2]]
    assert any(f.findings["cases"] in t for t in texts)

    assert (
        f.findings["recognition"] == "表彰「2026年度 第2四半期」の第1位は「照合をRPAで」(財務部 税務課・7票)"
    )
    assert any("第1位 照合をRPAで(財務部 税務課)・7票" in t for t in texts), texts[-3:]

    wb = load_workbook(io.BytesIO(build_workbook(f)))
    rows = list(wb["改善事例(ツール別)"].values)
    assert rows[1:] == [("RPA", 90, 2), ("AI-OCR", 30, 1)]
    assert list(wb["表彰"].values)[1:] == [("2026年度 第2四半期", 1, "照合をRPAで", "財務部 税務課", 7)]


async def test_empty_quarter_says_so_without_charts(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await _fill(s)
        async with make_sessionmaker(engine)() as s:
            f = await collect(s, Quarter(2024, 1))
    finally:
        await engine.dispose()
    assert f.empty
    prs = Presentation(io.BytesIO(build_deck(f)))
    assert len(prs.slides) == 1
    assert not any(sh.has_chart for sh in prs.slides[0].shapes)
    assert "この四半期のデータはありません" in "".join(sh.text_frame.text for sh in prs.slides[0].shapes)


async def test_teams_command_answers_with_signed_links(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await bot.say("四半期レポート 2026Q9", user=ADMIN)
        assert "2026Q3 のように" in connector.texts_to(ADMIN.conversation_id)[-1]
        await bot.say("四半期レポート 2026Q3", user=ADMIN)
        card = connector.cards_to(ADMIN.conversation_id)[-1]
        assert "データはありません" in str(card)
        urls = [a["url"] for a in card["actions"]]
        pptx = urlparse(urls[0])
        resp = await bot.client.get(f"{pptx.path}?{pptx.query}")
        assert resp.status == 200
        assert len(Presentation(io.BytesIO(await resp.read())).slides) == 1
        tampered = pptx.query.replace("exp=", "exp=9")
        assert (await bot.client.get(f"{pptx.path}?{tampered}")).status == 403
        assert (await bot.client.get(f"{pptx.path}?exp=1&sig=%%%")).status == 400


async def _demo_city(bot):
    from dialogs.composition import seeders

    for seed in seeders():
        await seed(bot.services, False)


def _deck_texts(data: bytes) -> str:
    prs = Presentation(io.BytesIO(data))
    out = []
    for slide in prs.slides:
        for sh in slide.shapes:
            if sh.has_text_frame:
                out.append(sh.text_frame.text)
            if sh.has_table:
                out += [c.text for row in sh.table.rows for c in row.cells]
            if sh.has_chart:
                out += [str(c) for c in sh.chart.plots[0].categories]
                out += [str(v) for s in sh.chart.series for v in s.values]
    return "\n".join(out)


async def test_survey_figures_are_the_surveys_own_and_nothing_under_the_threshold(sqlite_url, connector):
    from sqlalchemy import update

    from dialogs.kit.business_days import to_jst
    from dialogs.survey.results import compute_results
    from storage.models import Survey, SurveyRound

    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector) as bot:
        await _demo_city(bot)
        sm = bot.services.sessionmaker
        async with sm() as s, s.begin():
            tools_id = await s.scalar(select_id(Survey, "tools"))
            mindset_id = await s.scalar(select_id(Survey, "mindset"))
            # The tool survey made anonymous with a threshold some departments do not reach, and the
            # mindset survey with one nobody reaches: those figures must not appear anywhere.
            await s.execute(
                update(SurveyRound)
                .where(SurveyRound.survey_id == tools_id)
                .values(anonymous=True, threshold=9)
            )
            await s.execute(
                update(SurveyRound).where(SurveyRound.survey_id == mindset_id).values(threshold=10_000)
            )
            last = await s.scalar(select_last(SurveyRound, tools_id))
        quarter = Quarter.containing(to_jst(last.closed_at).date())
        async with sm() as s:
            f = await collect(s, quarter)
            tools_res = await compute_results(s, last.id)
        deck = _deck_texts(build_deck(f))
        wb = load_workbook(io.BytesIO(build_workbook(f)))

    tools = f.surveys["tools"]
    shown = {g.name for g in tools_res.of_kind("department") if not g.suppressed}
    hidden = {g.name for g in tools_res.of_kind("department") if g.suppressed}
    assert shown and hidden, "the test needs both kinds of department"
    assert set(tools.rows) == shown and tools.hidden_groups == len(hidden)
    for row, values in zip(tools.rows, tools.matrix, strict=True):
        group = next(g for g in tools_res.of_kind("department") if g.name == row)
        expected = [group.stats[q.key].adopted for q in tools_res.tool_questions()]
        assert values == expected
    heat_sheet = [r[0] for r in list(wb["ツール活用(部別)"].values)[1:]]
    assert set(heat_sheet) == shown
    heat_slide = next(
        sl for sl in Presentation(io.BytesIO(build_deck(f))).slides if any(sh.has_table for sh in sl.shapes)
    )
    table_names = {
        sh.table.cell(i, 0).text
        for sh in heat_slide.shapes
        if sh.has_table
        for i in range(1, len(sh.table.rows))
    }
    assert table_names.isdisjoint(hidden) and table_names <= shown
    # Overall adoption per tool, as the survey computes it, in the chart and the workbook.
    assert [v for _, v, _ in tools.items] == [
        tools_res.overall.stats[q.key].adopted for q in tools_res.tool_questions()
    ]
    # Mindset: every group under the threshold, so no figure and no chart, only the words.
    assert all(v is None for _, v, _ in f.surveys["mindset"].items) and f.findings["mindset"] is None
    mindset_sheet = list(wb["意識調査"].values)[1:]
    assert all(row[1] is None for row in mindset_sheet)
    assert "DXマインド(肯定的回答の割合)\nこの四半期のデータはありません。" in deck


def select_id(model, template):
    return select(model.id).where(model.template == template).limit(1)


def select_last(model, survey_id):
    return (
        select(model)
        .where(model.survey_id == survey_id, model.status == "closed")
        .order_by(model.closed_at.desc())
        .limit(1)
    )
