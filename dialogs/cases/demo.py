"""Demo cases for みどり市 (``dxbot seed-demo``): published cases over three fiscal years and two
waiting for review, so 「事例」, 「事例集計」 and the quarterly report have something true to show."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.api import Services
from dialogs.cases import service
from storage.models import AppSetting, Assignment, Department, ImprovementCase, RecognitionVote, Section

# (department, section, title, work, tools, hours before, after, staff, start, published?)
CASES: list[tuple[str, str, str, str, list[str], float, float, int, date, bool]] = [
    ("財務部", "税務課", "課税資料の入力をRPAで自動化", "課税資料の入力", ["RPA"], 120, 30, 6, date(2024, 6, 3), True),
    ("市民生活部", "市民課", "転入届の受付をAI-OCRで読み取り", "転入届の入力", ["AI-OCR"], 80, 35, 8, date(2024, 9, 2), True),
    ("総務部", "人事課", "給与明細の配付を電子化", "給与明細の配付", ["電子申請"], 40, 4, 3, date(2024, 11, 1), True),
    ("福祉部", "高齢介護課", "介護認定の通知をRPAで作成", "認定通知の作成", ["RPA"], 60, 20, 5, date(2025, 1, 15), True),
    ("総務部", "総務課", "庁議資料をペーパーレス化", "会議資料の印刷・配付", ["ペーパーレス会議", "共同編集"], 30, 6, 4, date(2025, 4, 7), True),
    ("健康こども部", "保育課", "保育園の入園申込を電子申請に", "入園申込の受付", ["電子申請"], 90, 40, 6, date(2025, 6, 2), True),
    ("都市整備部", "道路課", "道路占用の問合せ回答を生成AIで下書き", "問い合わせ対応", ["生成AI"], 25, 12, 3, date(2025, 7, 1), True),
    ("財務部", "収納課", "口座振替の照合をRPAで", "口座振替の照合", ["RPA"], 50, 10, 4, date(2025, 8, 18), True),
    ("企画政策部", "広報広聴課", "市民の声の分類に生成AI", "意見の分類・集計", ["生成AI"], 20, 8, 2, date(2025, 10, 1), True),
    ("経済観光部", "商工振興課", "補助金申請をローコードアプリで受付", "補助金申請の受付", ["ローコード", "電子申請"], 45, 15, 3, date(2025, 11, 4), True),
    ("教育委員会事務局", "学校教育課", "学校との連絡をTeamsチャットに", "電話・FAXでの連絡", ["Teams チャット"], 35, 15, 5, date(2026, 4, 6), True),
    ("環境部", "ごみ対策課", "粗大ごみ受付を電子申請に", "電話受付", ["電子申請"], 70, 30, 4, date(2026, 5, 11), True),
    ("上下水道部", "水道総務課", "検針票の入力をAI-OCRで", "検針票の入力", ["AI-OCR", "RPA"], 55, 15, 4, date(2026, 6, 1), True),
    ("市民生活部", "保険年金課", "窓口案内の想定問答を生成AIで作成", "案内文の作成", ["生成AI"], 16, 6, 3, date(2026, 7, 13), True),
    ("総務部", "契約検査課", "入札結果の公表をローコードで", "結果表の作成", ["ローコード"], 18, 6, 2, date(2026, 8, 3), True),
    ("消防本部", "消防総務課", "当直日誌を共同編集に", "日誌の転記", ["共同編集"], 12, 4, 6, date(2026, 9, 1), True),
    ("福祉部", "障がい福祉課", "支給決定通知のWeb会議での説明", "来庁しての説明", ["Web会議"], 24, 10, 3, date(2026, 10, 5), True),
    ("財務部", "資産税課", "家屋調査の写真整理をAI-OCRで", "写真の整理", ["AI-OCR"], 30, 12, 3, date(2026, 11, 2), False),
    ("健康こども部", "健康推進課", "健診予約を電子申請に", "電話予約の受付", ["電子申請"], 40, 18, 4, date(2026, 11, 16), False),
]  # fmt: skip


async def seed_demo(services: Services, only_if_empty: bool) -> None:
    now = services.clock()
    async with services.sessionmaker() as session, session.begin():
        if await session.scalar(select(func.count()).select_from(ImprovementCase)):
            return
        if await session.get(AppSetting, "city.name") is None:  # the report's title
            from dialogs.roster.demo import CITY

            session.add(AppSetting(key="city.name", value={"name": CITY}))
        ids = {
            (d, s): (sid, did)
            for sid, did, s, d in (
                await session.execute(
                    select(Section.id, Department.id, Section.name, Department.name).join(
                        Department, Department.id == Section.department_id
                    )
                )
            ).all()
        }
        added = 0
        for dept, sec, title, work, tools, before, after, staff, start, published in CASES:
            if (dept, sec) not in ids:
                continue
            home = service.Home(*ids[(dept, sec)], sec, dept)
            data = service.CaseInput(
                title,
                f"{work}の手順を見直し、{'・'.join(tools)}を使いました。",
                tools,
                work,
                before,
                after,
                staff,
                start,
            )
            case = await service.submit(session, data, home, None, now, source="import")
            if published:
                service.publish(case, None, now)
                # Published a few weeks after it started, as it would have been.
                case.published_at = case.reviewed_at = min(now, _moment(start + timedelta(days=30)))
            added += 1
        rounds = await _past_recognition(session, now)
    if added:
        print(
            f"改善事例 {added}件と表彰{rounds}回を登録しました。 / {added} improvement cases, {rounds} award rounds seeded."
        )


# (title, first day, last day, closed on): past rounds, closed and announced
ROUNDS = [
    ("2025年度", date(2025, 4, 1), date(2026, 3, 31), date(2026, 4, 20)),
    ("2026年度 第1四半期", date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 21)),
]


async def _past_recognition(session: Any, now: datetime) -> int:
    """Closed rounds with votes from the demo promoters (each for another section's case)."""
    from dialogs.cases import recognition

    voters = (
        await session.execute(
            select(Assignment.person_id, Assignment.section_id)
            .where(Assignment.valid_to.is_(None))
            .order_by(Assignment.id)
        )
    ).all()
    done = 0
    for title, first, last, closed_on in ROUNDS:
        closed_at = _moment(closed_on)
        if closed_at > now:
            continue
        rnd = await recognition.open_round(session, title, first, last, None, _moment(last))
        candidates = await recognition.candidates(session, rnd)
        if not candidates:
            await session.delete(rnd)
            continue
        seen: set[int] = set()
        for i, (person_id, section_id) in enumerate(voters):
            if person_id in seen or i % 3 == 2:  # about two in three promoters vote
                continue
            seen.add(person_id)
            options = [c for c in candidates if c.case.section_id != section_id]
            if options:
                pick = options[(i * i) % len(options)]  # uneven, so the round has a winner
                session.add(RecognitionVote(round_id=rnd.id, case_id=pick.case.id, voter_person_id=person_id))
        await session.flush()
        await recognition.close_round(session, rnd, closed_at)
        done += 1
    return done


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, tzinfo=UTC)  # 10:00 in Japan
