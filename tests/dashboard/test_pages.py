"""What the DX division reads on each page, checked against the database itself (not against the
dashboard's own code): reach, unconfirmed sections, survey figures only where the anonymity threshold
allows, the ticket backlog; CSV beside every table; English; nothing fetched from elsewhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from storage.db import make_engine, make_sessionmaker
from storage.models import (
    ConversationRef,
    Department,
    Survey,
    SurveyResponse,
    SurveyRound,
    TeamsAccount,
)
from storage.models.announce import Announcement, AnnouncementRecipient, AnnouncementRelay
from storage.models.delivery import Delivery
from storage.models.qa import Ticket, TicketStatus
from storage.models.roster import Assignment, Person, Section
from tests.dashboard.conftest import ADMIN_EMAIL, dashboard_app, form_token, local_settings
from tests.dashboard.demo import SILENT_SECTIONS, TENANT
from tests.dashboard.pagetext import Page, read_csv

PAGES = ("overview", "announcements", "surveys", "questions")
SUPPRESSED = "非表示(少人数)"
NUMBER = re.compile(r"^\d+(\.\d+)?%?$")


@asynccontextmanager
async def signed_in(db_url: str, **settings: object) -> AsyncIterator[TestClient]:
    async with dashboard_app(local_settings(db_url, **settings)) as client:
        form = {"email": ADMIN_EMAIL, "csrf": await form_token(client)}
        resp = await client.post("/dashboard/login", data=form, allow_redirects=False)
        assert resp.status == 303
        yield client


async def page(client: TestClient, path: str) -> Page:
    resp = await client.get(path)
    body = await resp.text()
    assert resp.status == 200, body[:500]
    return Page.parse(body)


async def csv_of(client: TestClient, link: str) -> list[list[str]]:
    resp = await client.get(link.replace("&amp;", "&"))
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    return read_csv(await resp.read())


# --- every page ------------------------------------------------------------------------------------


async def test_every_table_has_a_csv_with_the_same_rows(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        for name in PAGES:
            p = await page(client, f"/dashboard/{name}")
            assert p.tables, name
            assert len(p.csv_links) == len(p.tables), (name, p.csv_links)
            for table, link in zip(p.tables, p.csv_links, strict=True):
                rows = await csv_of(client, link)
                assert rows[0][0] == table.header[0], (name, table.caption)
                assert len(rows) - 1 == len(table.rows), (name, table.caption)
                if table.rows:
                    assert rows[1][0] == table.rows[0][0]


async def test_pages_fetch_nothing_from_elsewhere_and_use_no_inline_style_or_script(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        for name in PAGES:
            resp = await client.get(f"/dashboard/{name}")
            body = await resp.text()
            p = Page.parse(body)
            for tag, attr, value in p.attributes:
                if attr in ("src", "href", "action"):
                    assert not re.match(r"^(https?:)?//", value), (name, tag, attr, value)
                assert attr != "style" and not attr.startswith("on"), (name, tag, attr)
            assert "<script>" not in body and "<style" not in body
            csp = resp.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
            assert p.charts >= 1 and len(p.chart_titles) >= p.charts, name


async def test_english_is_one_click_away_and_keeps_the_filters(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        ja = await page(client, "/dashboard/questions?days=30")
        switch = next(v for tag, attr, v in ja.attributes if tag == "a" and attr == "href" and "lang=en" in v)
        assert switch == "/dashboard/questions?days=30&lang=en"
        en = await page(client, switch)
        assert en.lang == "en"
        assert en.h1 == "Questions"
        assert en.nav == ["Overview", "Announcements", "Surveys", "Questions", "Results"]
        assert "last 30 days" in en.text
        assert "LOCAL MODE" in en.text
        overview = await page(client, "/dashboard/overview?lang=en")
        assert overview.table("Sections without a reachable promoter").header[:2] == ["Department", "Section"]
        assert "総務部" in overview.text  # the roster's own names stay as they are


async def test_an_unknown_page_or_table_is_a_polite_404(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        resp = await client.get("/dashboard/payroll")
        assert resp.status == 404 and "ページが見つかりません" in await resp.text()
        assert (await client.get("/dashboard/csv/overview/salaries.csv")).status == 404


# --- overview --------------------------------------------------------------------------------------


async def test_overview_lists_exactly_the_sections_nobody_can_be_reached_in(demo_url: str) -> None:
    engine = make_engine(demo_url)
    sessions = make_sessionmaker(engine)
    today = datetime.now(UTC).date()
    async with sessions() as s:
        # Independently: sections with no holder whose Teams account has a usable personal chat.
        holders = (
            await s.execute(
                select(Section.name, Person.email)
                .select_from(Section)
                .outerjoin(Assignment, (Assignment.section_id == Section.id) & Assignment.valid_to.is_(None))
                .outerjoin(Person, Person.id == Assignment.person_id)
                .where(Section.active.is_(True))
            )
        ).all()
        reachable_emails = set(
            (
                await s.scalars(
                    select(TeamsAccount.email)
                    .join(ConversationRef, ConversationRef.aad_object_id == TeamsAccount.aad_object_id)
                    .where(
                        ConversationRef.reachable.is_(True), ConversationRef.conversation_type == "personal"
                    )
                )
            ).all()
        )
    by_section: dict[str, list[str | None]] = {}
    for section, email in holders:
        by_section.setdefault(section, []).append(email)
    expected = {sec for sec, emails in by_section.items() if not any(e in reachable_emails for e in emails)}
    assert SILENT_SECTIONS <= expected and "予防課" in expected and today

    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/overview")
        gaps = p.table("推進員に連絡できない課")
        assert set(gaps.column("課")) == expected
        assert "推進員が名簿にいません" in gaps.rows[gaps.column("課").index("予防課")]
        tile = re.search(r"誰にも連絡できない課 (\d+)", p.text)
        assert tile and int(tile.group(1)) == len(expected)

        # The promoters of 農林課 add the bot: the section leaves the list.
        async with sessions() as s, s.begin():
            people = (
                await s.execute(
                    select(Person.id, Person.email)
                    .join(Assignment, Assignment.person_id == Person.id)
                    .join(Section, Section.id == Assignment.section_id)
                    .where(Section.name == "農林課", Assignment.valid_to.is_(None))
                )
            ).all()
            pid, email = people[0]
            s.add(
                TeamsAccount(
                    aad_object_id="aad-new", user_id="29:new", email=email, tenant_id=TENANT, person_id=pid
                )
            )
            s.add(ConversationRef(conversation_id="a:new", conversation_type="personal", service_url="https://smba.example/",
                                  aad_object_id="aad-new", user_id="29:new", reference={}, reachable=True))  # fmt: skip
        p = await page(client, "/dashboard/overview")
        assert "農林課" not in p.table("推進員に連絡できない課").column("課")
    await engine.dispose()


# --- announcements ---------------------------------------------------------------------------------


async def test_announcements_show_unconfirmed_sections_and_shares_from_the_records(demo_url: str) -> None:
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s:
        ann = await s.scalar(
            select(Announcement)
            .where(Announcement.ack_required.is_(True))
            .order_by(Announcement.sent_at.desc())
        )
        assert ann is not None
        recipients = (
            await s.scalars(
                select(AnnouncementRecipient).where(AnnouncementRecipient.announcement_id == ann.id)
            )
        ).all()
        delivered = await s.scalar(
            select(func.count()).where(Delivery.kind == "announcement", Delivery.ref_id == ann.id,
                                       Delivery.purpose == "initial", Delivery.state == "delivered")
        )  # fmt: skip
        relayed = await s.scalar(
            select(func.count(func.distinct(AnnouncementRelay.section_id))).where(
                AnnouncementRelay.announcement_id == ann.id
            )
        )
    await engine.dispose()
    assert ann.relay_required and relayed
    confirmed_sections = {r.section for r in recipients if r.confirmed_at is not None}
    unconfirmed = {r.section for r in recipients} - confirmed_sections
    assert unconfirmed and confirmed_sections

    async with signed_in(demo_url) as client:
        p = await page(client, f"/dashboard/announcements?announcement={ann.id}")
        table = p.table(f"未確認の課:{ann.title}")
        assert set(table.column("課")) == unconfirmed
        listing = p.table("お知らせ一覧")
        row = listing.rows[listing.column("お知らせ").index(ann.title)]
        header = listing.header
        assert row[header.index("対象者")] == str(len(recipients))
        assert row[header.index("届いた割合")] == f"{delivered / len(recipients) * 100:.0f}%"
        confirmed = sum(1 for r in recipients if r.confirmed_at)
        assert row[header.index("確認した割合")] == f"{confirmed / len(recipients) * 100:.0f}%"
        assert row[header.index("未確認の課")] == str(len(unconfirmed))
        # Relay reports counted per section; no read receipt came: 0% read, never a guess.
        sections = len({r.section_id for r in recipients})
        assert row[header.index("伝達済みの課")] == f"{relayed}/{sections}課"
        assert row[header.index("既読の割合")] == "0%"

        # Every promoter of one of those sections confirms: it drops off the list at once.
        section = sorted(unconfirmed)[0]
        engine = make_engine(demo_url)
        async with make_sessionmaker(engine)() as s, s.begin():
            await s.execute(
                update(AnnouncementRecipient)
                .where(
                    AnnouncementRecipient.announcement_id == ann.id, AnnouncementRecipient.section == section
                )
                .values(confirmed_at=datetime.now(UTC))
            )
        await engine.dispose()
        p = await page(client, f"/dashboard/announcements?announcement={ann.id}")
        assert section not in p.table(f"未確認の課:{ann.title}").column("課")


# --- surveys: the anonymity threshold ----------------------------------------------------------------


async def _respondents(
    db_url: str, survey_title: str
) -> tuple[int, dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """(threshold, respondents per (round label, department name), per (round label, section name))."""
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as s:
        survey = await s.scalar(select(Survey).where(Survey.title == survey_title))
        assert survey is not None
        rows = (
            await s.execute(
                select(SurveyRound.label, Department.name, Section.name, func.count())
                .select_from(SurveyResponse)
                .join(SurveyRound, SurveyRound.id == SurveyResponse.round_id)
                .outerjoin(Department, Department.id == SurveyResponse.department_id)
                .outerjoin(Section, Section.id == SurveyResponse.section_id)
                .where(SurveyRound.survey_id == survey.id)
                .group_by(SurveyRound.label, Department.name, Section.name)
            )
        ).all()
    await engine.dispose()
    by_dept: dict[tuple[str, str], int] = {}
    by_section: dict[tuple[str, str], int] = {}
    for label, dept, section, n in rows:
        if dept:
            by_dept[(label, dept)] = by_dept.get((label, dept), 0) + n
        if section:
            by_section[(label, section)] = by_section.get((label, section), 0) + n
    return survey.threshold, by_dept, by_section


async def test_mindset_figures_appear_only_for_departments_at_or_over_the_threshold(demo_url: str) -> None:
    k, by_dept, _ = await _respondents(demo_url, "DXマインド")
    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/surveys")
        survey_id = next(v for tag, attr, v in p.attributes if tag == "option" and attr == "value")
        grid = p.table("部ごとの推移")
        rows = await csv_of(client, p.csv_links[[t.caption for t in p.tables].index(grid.caption)])
    labels = grid.header[1:]
    shown = withheld = 0
    for row in grid.rows:
        dept = row[0]
        for label, cell in zip(labels, row[1:], strict=True):
            n = by_dept.get((label, dept), 0)
            if NUMBER.match(cell):
                shown += 1
                assert n >= k, f"{dept} {label}: a figure for {n} respondents (threshold {k})"
            else:
                withheld += 1
                # suppressed by the survey feature, or merged into the city as a whole when stored
                assert cell == SUPPRESSED if n else cell in (SUPPRESSED, "—"), (dept, label, cell, n)
    assert shown and withheld, "the demo should show both: figures and withheld groups"
    # The CSV says the same, never a number where the page hides one.
    for html_row, csv_row in zip(grid.rows, rows[1:], strict=True):
        for html_cell, csv_cell in zip(html_row[1:], csv_row[1:], strict=True):
            assert (html_cell == SUPPRESSED) == (csv_cell == SUPPRESSED)
    assert survey_id


async def test_an_anonymous_tool_survey_shows_no_section_under_the_threshold(demo_url: str) -> None:
    """The demo's tool survey is named (every section shown, as its own results do). Made anonymous,
    the heatmap and its CSV hide every section with fewer respondents than the threshold."""
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        tools = await s.scalar(select(Survey).where(Survey.title == "ツール活用"))
        assert tools is not None
        await s.execute(update(SurveyRound).where(SurveyRound.survey_id == tools.id).values(anonymous=True))
    await engine.dispose()
    k, _, by_section = await _respondents(demo_url, "ツール活用")
    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/surveys")
        heat = p.table("課ごとのツール活用")
        latest = heat.caption.rsplit(" ", 1)[-1]
        rows = await csv_of(client, p.csv_links[[t.caption for t in p.tables].index(heat.caption)])
    assert heat.rows
    for row in heat.rows:
        n = by_section.get((latest, row[0]), 0)
        for cell in row[2:]:
            assert not NUMBER.match(cell) or n >= k, f"{row[0]}: {cell} from {n} respondents"
    assert all(not NUMBER.match(c) for r in rows[1:] for c in r[2:] if by_section.get((latest, r[0]), 0) < k)
    assert any(cell == SUPPRESSED for row in heat.rows for cell in row[2:])


async def test_anonymous_response_rates_show_no_department_asked_fewer_than_the_threshold(
    demo_url: str,
) -> None:
    """A department of two promoters asked in the latest DXマインド round: 「臨時対策室 1/2」 would say who
    answered. The page and its CSV merge it away, as the survey feature's own cards do."""
    from storage.models import SurveyRecipient

    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        survey = await s.scalar(select(Survey).where(Survey.title == "DXマインド"))
        assert survey is not None and survey.anonymous
        latest = await s.scalar(
            select(SurveyRound)
            .where(SurveyRound.survey_id == survey.id, SurveyRound.status == "closed")
            .order_by(SurveyRound.open_at.desc())
            .limit(1)
        )
        assert latest is not None
        k, label = latest.threshold, latest.label
        dept = Department(name="臨時対策室", sort_order=99)
        s.add(dept)
        await s.flush()
        section = Section(department_id=dept.id, name="臨時対策課", sort_order=99, active=True)
        s.add(section)
        await s.flush()
        for i, answered in enumerate((True, False)):
            person = Person(name=f"会計{i}", email=f"kaikei{i}@city.example.jp", created_at=datetime.now(UTC))
            s.add(person)
            await s.flush()
            s.add(
                SurveyRecipient(
                    round_id=latest.id,
                    person_id=person.id,
                    department_id=dept.id,
                    section_id=section.id,
                    role="leader",
                    responded=answered,
                )
            )
        invited = dict(
            (
                await s.execute(
                    select(Department.name, func.count())
                    .join(SurveyRecipient, SurveyRecipient.department_id == Department.id)
                    .where(SurveyRecipient.round_id == latest.id)
                    .group_by(Department.name)
                )
            ).all()
        )
    await engine.dispose()
    assert invited["臨時対策室"] == 2 < k
    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/surveys")
        table = p.table("部ごとの回答率")
        assert label in table.caption
        rows = await csv_of(client, p.csv_links[[t.caption for t in p.tables].index(table.caption)])
    for shown in (table.rows, rows[1:]):
        names = [r[0] for r in shown]
        assert "臨時対策室" not in names, names
        for name, asked, *_ in shown:
            assert int(asked) >= k, (name, asked)
            assert name in invited or "少人数" in name, name


async def test_survey_response_rates_come_from_who_was_asked_and_answered(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/surveys")
        rates = p.table("回答率の推移")
    assert len(rates.rows) == 12
    for label, invited, responded, rate in rates.rows:
        assert f"{int(responded) / int(invited) * 100:.0f}%" == rate, label


# --- questions -------------------------------------------------------------------------------------


async def test_the_backlog_is_every_open_ticket_oldest_first_with_overdue_marked(demo_url: str) -> None:
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s:
        waiting = (
            await s.scalars(
                select(Ticket)
                .where(Ticket.status.in_((TicketStatus.OPEN, TicketStatus.CLAIMED)))
                .order_by(Ticket.created_at)
            )
        ).all()
    await engine.dispose()
    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/questions")
        backlog = p.table("対応待ちの問い合わせ")
    assert backlog.column("番号") == [f"#{t.id}" for t in waiting]
    ages = [int(a) for a in backlog.column("経過営業日")]
    assert ages == sorted(ages, reverse=True)
    for age, overdue, css in zip(ages, backlog.column("期限超過"), backlog.row_classes, strict=True):
        assert (overdue == "はい") == (age > 2) == ("alert" in css)


async def test_unanswered_questions_are_counted_by_wording(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        p = await page(client, "/dashboard/questions?days=all")
        unanswered = p.table("ボットが答えられなかった質問")
        counts = [int(c) for c in unanswered.column("回数")]
    assert counts == sorted(counts, reverse=True)
    assert len(set(unanswered.column("質問"))) == len(unanswered.rows)  # one row per wording
    assert "アンケート結果をExcelに出す方法" in unanswered.column("質問")  # as asked, not lower-cased


async def test_a_new_installation_shows_every_page_with_what_is_missing(sqlite_url: str) -> None:
    """No roster, no survey, no announcement, no question yet: every page still opens and says so."""
    async with signed_in(sqlite_url, admins=[ADMIN_EMAIL]) as client:
        overview = await page(client, "/dashboard/overview")
        assert "推進員の名簿がまだ登録されていません。" in overview.text
        assert "すべての課に、連絡できる推進員がいます。" not in overview.text  # not when there are none
        assert (await page(client, "/dashboard/announcements")).text.count(
            "まだ送信したお知らせはありません。"
        ) == 1
        assert "まだ締め切ったサーベイの回がありません。" in (await page(client, "/dashboard/surveys")).text
        questions = await page(client, "/dashboard/questions")
        assert "この期間の質問はありません。" in questions.text
        assert "対応待ちの問い合わせはありません。" in questions.text


async def test_a_csv_downloaded_after_viewing_is_the_table_that_was_on_screen(demo_url: str) -> None:
    async with signed_in(demo_url) as client:
        shown = await page(client, "/dashboard/overview")
        gaps = shown.table("推進員に連絡できない課")
        link = shown.csv_links[[t.caption for t in shown.tables].index(gaps.caption)]
        # Meanwhile a promoter of 農林課 adds the bot.
        engine = make_engine(demo_url)
        async with make_sessionmaker(engine)() as s, s.begin():
            pid, email = (
                await s.execute(
                    select(Person.id, Person.email)
                    .join(Assignment, Assignment.person_id == Person.id)
                    .join(Section, Section.id == Assignment.section_id)
                    .where(Section.name == "農林課", Assignment.valid_to.is_(None))
                )
            ).first()  # type: ignore[misc]
            s.add(TeamsAccount(aad_object_id="aad-late", user_id="29:late", email=email, person_id=pid))
            s.add(ConversationRef(conversation_id="a:late", conversation_type="personal", service_url="https://smba.example/",
                                  aad_object_id="aad-late", user_id="29:late", reference={}, reachable=True))  # fmt: skip
        await engine.dispose()
        rows = await csv_of(client, link)
        assert [r[1] for r in rows[1:]] == gaps.column("課")  # what the admin saw, 農林課 included
        again = await page(client, "/dashboard/overview")  # reloading shows the news
        assert "農林課" not in again.table("推進員に連絡できない課").column("課")
        rows = await csv_of(client, again.csv_links[0])
        assert "農林課" not in [r[1] for r in rows[1:]]
