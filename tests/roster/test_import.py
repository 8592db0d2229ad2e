"""Importing real roster files into the database (SQLite and PostgreSQL): apply, transfer, refuse, export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from dialogs.kit.i18n import t
from dialogs.roster import importer
from dialogs.roster.cards import describe
from dialogs.roster.exporter import export_roster
from dialogs.roster.importer import Actor, apply_plan, plan_import
from dialogs.roster.reader import read_roster
from storage.models.roster import Assignment, Person, PromoterRole, Section
from storage.models.shared import AuditEntry
from tests.roster.conftest import (
    APRIL_2026,
    APRIL_2027,
    import_data,
    import_file,
    open_posts,
    recorded_statements,
    snapshot,
)

BASE_POSTS = {
    "leader@demo-city.example.jp": ("総務部", "総務課", "leader"),
    "hanako.yamada@demo-city.example.jp": ("総務部", "総務課", "subleader"),
    "kenta.ito@demo-city.example.jp": ("総務部", "人事課", "leader"),
    "misaki.kobayashi@demo-city.example.jp": ("総務部", "人事課", "subleader"),
    "naoki.nakamura@demo-city.example.jp": ("財務部", "税務課", "leader"),
    "yoko.watanabe@demo-city.example.jp": ("財務部", "税務課", "subleader"),
    "makoto.kato@demo-city.example.jp": ("財務部", "税務課", "subleader"),
    "megumi.yoshida@demo-city.example.jp": ("市民生活部", "市民課", "leader"),
    "ryo.sasaki@demo-city.example.jp": ("市民生活部", "市民課", "subleader"),
    "daisuke.yamamoto@demo-city.example.jp": ("福祉部", "高齢介護課", "leader"),
    "yumi.matsumoto@demo-city.example.jp": ("福祉部", "高齢介護課", "subleader"),
    "takuya.inoue@demo-city.example.jp": ("都市整備部", "道路課", "leader"),
}


async def test_cp932_csv_imports_the_whole_network(sessions):
    plan = await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    assert plan.ok and len(plan.added) == 12 and not plan.moved and not plan.ended
    snap = await snapshot(sessions)
    assert open_posts(snap) == BASE_POSTS
    assert "鈴木 一郎" in dict((e, n) for e, n in snap["people"]).values()
    assert ("都市整備部", "公園緑地課", True) in snap["sections"]  # listed with nobody: a vacancy
    assert [d for d, _ in snap["departments"]] == sorted(
        ["総務部", "財務部", "市民生活部", "福祉部", "都市整備部"]
    )
    assert all(a[4] == APRIL_2026 and a[5] is None for a in snap["assignments"])


async def test_xlsx_with_japanese_headers_gives_the_same_roster(sessions):
    plan = await import_file(sessions, "roster_ja.xlsx", APRIL_2026)
    assert plan.ok and len(plan.added) == 12
    assert open_posts(await snapshot(sessions)) == BASE_POSTS
    # The CSV of the same people, imported after, changes nothing.
    again = await import_file(sessions, "roster_cp932.csv", APRIL_2027, apply=False)
    assert not again.has_changes and again.unchanged == 12


async def test_file_with_bad_rows_changes_nothing_and_reports_each_row(sessions):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    before = await snapshot(sessions)
    plan = await import_file(sessions, "roster_bad_rows.csv", APRIL_2027)
    assert not plan.ok
    assert sorted({p.row for p in plan.problems}) == [3, 4, 5, 6, 7, 8, 9]
    assert await snapshot(sessions) == before
    with pytest.raises(ValueError):
        async with sessions() as s, s.begin():
            await apply_plan(s, plan, Actor("cli"))


async def test_transfer_ends_old_assignments_and_starts_new_ones_with_history_kept(sessions):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    plan = await import_file(sessions, "roster_transfer_2027.csv", APRIL_2027)
    assert plan.ok
    assert sorted(c.email.split("@")[0] for c in plan.added) == ["aya.hayashi", "shota.saito"]
    assert sorted(c.email.split("@")[0] for c in plan.moved) == [
        "hanako.yamada",
        "kenta.ito",
        "misaki.kobayashi",
    ]
    assert sorted(c.email.split("@")[0] for c in plan.ended) == ["naoki.nakamura", "ryo.sasaki"]
    assert plan.unchanged == 7

    snap = await snapshot(sessions)
    posts = open_posts(snap)
    assert posts["hanako.yamada@demo-city.example.jp"] == ("財務部", "税務課", "leader")
    assert posts["misaki.kobayashi@demo-city.example.jp"] == ("総務部", "人事課", "leader")
    assert posts["kenta.ito@demo-city.example.jp"] == ("総務部", "人事課", "subleader")
    assert "naoki.nakamura@demo-city.example.jp" not in posts
    history = {
        e: [(a[2], a[3].value, a[4], a[5]) for a in snap["assignments"] if a[0] == e]
        for e in ("hanako.yamada@demo-city.example.jp", "naoki.nakamura@demo-city.example.jp")
    }
    assert history["hanako.yamada@demo-city.example.jp"] == [
        ("総務課", "subleader", APRIL_2026, APRIL_2027),
        ("税務課", "leader", APRIL_2027, None),
    ]
    assert history["naoki.nakamura@demo-city.example.jp"] == [("税務課", "leader", APRIL_2026, APRIL_2027)]
    # Unchanged people keep their original assignment (no churn).
    assert [a for a in snap["assignments"] if a[0] == "leader@demo-city.example.jp"] == [
        ("leader@demo-city.example.jp", "総務部", "総務課", PromoterRole.LEADER, APRIL_2026, None)
    ]
    async with sessions() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "roster.import"))).all()
    assert [e.detail["moved"] for e in entries] == [0, 3]


async def test_export_then_import_is_a_no_op(sessions, tmp_path):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    await import_file(sessions, "roster_transfer_2027.csv", APRIL_2027)
    before = await snapshot(sessions)
    for name in ("roster.csv", "roster.xlsx"):
        async with sessions() as s:
            data = await export_roster(s, name)
        plan = await import_data(sessions, data, name, date(2027, 5, 1))
        assert plan.ok and not plan.has_changes, plan.summary()
        assert plan.unchanged == 12
        assert await snapshot(sessions) == before


async def test_export_escapes_cells_that_spreadsheets_would_run(sessions):
    text = (
        "部,課,役割,氏名,メールアドレス\n"
        '総務部,総務課,リーダー,=HYPERLINK("http://x"),leader@demo-city.example.jp\n'
        "総務部,総務課,サブリーダー,@SUM(1),sub@demo-city.example.jp\n"
        "+81部,-課,サブリーダー,普通 太郎,futsu@demo-city.example.jp\n"
    )
    await import_data(sessions, text.encode(), "r.csv", APRIL_2026)
    async with sessions() as s:
        raw_csv = await export_roster(s, "r.csv")
        raw_xlsx = await export_roster(s, "r.xlsx")
    assert raw_csv.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 correctly
    cells = [c for row in csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))) for c in row]
    assert (
        '\'=HYPERLINK("http://x")' in cells and "'@SUM(1)" in cells and "'+81部" in cells and "'-課" in cells
    )
    assert not any(c[:1] in "=+-@" for c in cells if c)
    sheet = load_workbook(io.BytesIO(raw_xlsx)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert '\'=HYPERLINK("http://x")' in values
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value)
    # And the escaped file imports back to the same names.
    plan = await import_data(sessions, raw_xlsx, "r.xlsx", date(2026, 5, 1), apply=False)
    assert plan.ok and not plan.has_changes


async def test_apply_is_one_transaction(sessions, monkeypatch):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    before = await snapshot(sessions)

    real_insert = importer.insert

    def failing_insert(entity):
        if entity is Assignment:
            raise RuntimeError("disk full")  # after departments, people and ended assignments were written
        return real_insert(entity)

    monkeypatch.setattr(importer, "insert", failing_insert)
    with pytest.raises(RuntimeError):
        await import_file(sessions, "roster_transfer_2027.csv", APRIL_2027)
    assert await snapshot(sessions) == before


async def test_database_refuses_two_open_leaders_in_one_section(sessions):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    async with sessions() as s:
        section_id = await s.scalar(select(Section.id).where(Section.name == "総務課"))
        person_id = await s.scalar(
            select(Person.id).where(Person.email == "hanako.yamada@demo-city.example.jp")
        )
    with pytest.raises(IntegrityError):
        async with sessions() as s, s.begin():
            await s.execute(
                insert(Assignment).values(
                    section_id=section_id,
                    person_id=person_id,
                    role=PromoterRole.LEADER,
                    valid_from=APRIL_2027,
                )
            )


async def test_effective_date_before_current_start_is_refused(sessions):
    await import_file(sessions, "roster_cp932.csv", APRIL_2027)
    plan = await import_file(sessions, "roster_transfer_2027.csv", APRIL_2026)
    assert [p.code for p in plan.problems] == ["effective_before_latest"]
    text = describe(lambda k, **kw: t(k, "ja", **kw), plan.problems[0])
    assert text == (
        "名簿には2027年4月1日(木)付けの変更がすでに登録されています。"
        "それより前の日付(2026年4月1日(水))では適用できません。適用日を2027年4月1日(木)以降にしてください。"
    )
    # A scheduled change (ended in the future) counts too: an earlier import would overlap it.
    await import_file(sessions, "roster_transfer_2027.csv", date(2027, 6, 1))
    plan = await import_file(sessions, "roster_cp932.csv", date(2027, 5, 1), apply=False)
    assert [p.code for p in plan.problems] == ["effective_before_latest"]


async def test_sections_leave_and_return_and_names_change(sessions):
    await import_file(sessions, "roster_cp932.csv", APRIL_2026)
    smaller = (
        "部,課,役割,氏名,メールアドレス\n"
        "総務部,総務課,リーダー,鈴木 一郎,leader@demo-city.example.jp\n"
        "総務部,総務課,サブリーダー,山田(佐藤) 花子,hanako.yamada@demo-city.example.jp\n"
    )
    plan = await import_data(sessions, smaller.encode(), "small.csv", APRIL_2027)
    assert ("都市整備部", "公園緑地課") in plan.closed_sections
    assert plan.renamed == [("hanako.yamada@demo-city.example.jp", "山田 花子", "山田(佐藤) 花子")]
    assert [w.code for w in plan.warnings][:1] == ["many_ended"]  # 10 of 12 would end: is it the full list?
    snap = await snapshot(sessions)
    assert ("財務部", "税務課", False) in snap["sections"]
    back = await import_file(sessions, "roster_cp932.csv", date(2027, 5, 1))
    assert ("財務部", "税務課") in back.reopened_sections
    assert ("財務部", "税務課", True) in (await snapshot(sessions))["sections"]


async def test_dry_run_plan_writes_nothing(sessions):
    plan = await import_file(sessions, "roster_cp932.csv", APRIL_2026, apply=False)
    assert len(plan.added) == 12
    assert (await snapshot(sessions))["assignments"] == []


async def test_plan_reads_with_bulk_queries(sessions, db_url):
    """5,000 people are checked with a handful of statements, not one per row."""
    rows = ["部,課,役割,氏名,メールアドレス"]
    for i in range(2000):
        rows.append(
            f"部{i % 10},課{i // 2},{'リーダー' if i % 2 == 0 else 'サブリーダー'},職員 {i},p{i}@city.example.jp"
        )
    data = "\n".join(rows).encode()
    async with sessions() as s, s.begin():
        with recorded_statements(s) as statements:
            plan = await plan_import(s, read_roster(data, "big.csv"), APRIL_2026)
            await apply_plan(s, plan, Actor("cli"))
    assert len(plan.added) == 2000
    assert len(statements) < 40, len(statements)
