"""A demo city that has been running for a year: what the dashboard tests, e2e and bench look at.

    await seed_everything(services)     # every feature's own demo seed, then the activity below
    python -m tests.dashboard.demo sqlite+aiosqlite:///tmp/demo.db     # migrate and seed a file

The features' seeds give みどり市 (roster), twelve monthly rounds of DXマインド and ツール活用
(surveys) and the starter knowledge base. On top, through the features' models and public functions,
this adds what a year of use leaves behind: Teams accounts and personal chats for most promoters
(some blocked, a few sections with nobody reachable), six announcements with deliveries and
confirmations, and the question log, feedback and tickets. Deterministic (fixed random seed).
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import datetime, timedelta

from sqlalchemy import func, literal, select, update

from bot.api import Message, Services
from dialogs.engines import delivery
from dialogs.kit.business_days import JST
from dialogs.roster.network import current_promoters, today_jst
from storage.models import ConversationRef, Delivery, DeliveryState, TeamsAccount
from storage.models.announce import Announcement, AnnouncementRecipient, AnnouncementRelay, AnnouncementState
from storage.models.qa import Feedback, KbEntry, QueryLog, Ticket, TicketStatus

TENANT = "00000000-0000-0000-0000-0000000000aa"
SERVICE_URL = "https://smba.trafficmanager.net/jp/"
# Sections where nobody has added the bot yet (so the overview has something to point at).
SILENT_SECTIONS = {"契約検査課", "資産税課", "生活安全課", "環境衛生課", "農林課", "下水道課"}
BLOCKED_SHARE = 0.06
NOT_INSTALLED_SHARE = 0.12

ANNOUNCEMENTS = [
    # (title, days ago, ack required, confirm share among delivered, leaders only, importance)
    ("情報セキュリティ自己点検のお願い", 150, True, 0.97, False, "high"),
    ("Teams会議の録画・文字起こし研修のご案内", 110, False, 0.0, False, "normal"),
    ("電子申請システム操作説明会の開催について", 75, True, 0.9, False, "normal"),
    ("RPA導入希望調査(各課1件まで)", 42, True, 0.82, True, "normal"),
    ("生成AI利用ガイドライン(第2版)の公開について", 14, True, 0.7, False, "high"),
    ("ペーパーレス会議の試行について", 2, True, 0.35, False, "normal"),
]
UNANSWERED = [
    "庁内の複合機でスキャンしたPDFをTeamsに直接保存できますか",
    "会計年度任用職員もCopilotを使えますか",
    "課のSharePointの容量がいっぱいと言われました",
    "LGWAN端末からTeamsの会議に入れません",
    "RPAのライセンスは課ごとに申請が必要ですか",
    "電子決裁の代決はどう設定しますか",
    "公用スマホでTeamsの通知が来ません",
    "外部の事業者とチャットできますか",
    "議事録の自動作成を議会でも使えますか",
    "アンケート結果をExcelに出す方法",
    "申請書の様式をFormsで作ってよいですか",
    "テレワーク用の端末の予約方法",
]
TICKET_QUESTIONS = [
    "住民向けの電子申請で、添付ファイルの上限を上げられますか",
    "課の共有メールボックスをTeamsに連携したいです",
    "Copilotで作った文書を公開してよいか確認したいです",
    "RPAのシナリオが動かなくなりました(税務課)",
    "AI-OCRの読み取り精度が低い帳票があります",
    "会議室のWeb会議用カメラが足りません",
    "ローコードで作った申請アプリを他課にも広げたい",
    "生成AIの研修資料を課内で使ってよいですか",
    "Teamsのチームを課ごとに作り直したいです",
    "情報セキュリティ研修の受講状況を確認したい",
    "電子申請の手数料のキャッシュレス決済について",
    "ペーパーレス会議用のタブレットの貸出について",
    "Formsの回答を個人名なしで集計したい",
    "共同編集で版が分かれてしまいました",
]


def _at(now: datetime, days_ago: float, hour: int = 10) -> datetime:
    """A business-hours moment ``days_ago`` days before now (JST)."""
    moment = (
        (now - timedelta(days=days_ago)).astimezone(JST).replace(hour=hour, minute=7, second=0, microsecond=0)
    )
    while moment.weekday() >= 5:
        moment -= timedelta(days=1)
    return moment


async def seed_reach(services: Services, rng: random.Random) -> dict[int, bool]:
    """Teams accounts and personal chats for most promoters; returns person id -> reachable."""
    now = services.clock()
    reach: dict[int, bool] = {}
    async with services.sessionmaker() as session, session.begin():
        promoters = await current_promoters(session, today_jst(now))
        for p in promoters:
            if p.person_id in reach:
                continue
            if p.section in SILENT_SECTIONS or rng.random() < NOT_INSTALLED_SHARE:
                reach[p.person_id] = False
                continue  # never added the bot: no account, no chat
            blocked = rng.random() < BLOCKED_SHARE
            aad = f"aad-demo-{p.person_id}"
            session.add(
                TeamsAccount(
                    aad_object_id=aad, user_id=f"29:demo-{p.person_id}", name=p.name, email=p.email,
                    tenant_id=TENANT, person_id=p.person_id, locale="ja-JP", created_at=now, last_seen_at=now,
                )
            )  # fmt: skip
            session.add(
                ConversationRef(
                    conversation_id=f"a:demo-{p.person_id}", conversation_type="personal", service_url=SERVICE_URL,
                    tenant_id=TENANT, bot_id="28:dxbot", user_id=f"29:demo-{p.person_id}", aad_object_id=aad,
                    reference={}, reachable=not blocked, unreachable_reason="blocked" if blocked else None,
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
            reach[p.person_id] = not blocked
    return reach


async def seed_announcements(services: Services, rng: random.Random, reach: dict[int, bool]) -> None:
    now = services.clock()
    async with services.sessionmaker() as session, session.begin():
        promoters = await current_promoters(session, today_jst(now))
        for title, days_ago, ack, confirm_share, leaders_only, importance in ANNOUNCEMENTS:
            sent_at = _at(now, days_ago)
            people = [p for p in promoters if not leaders_only or p.role.value == "leader"]
            ann = Announcement(
                title=title, body=f"{title}。詳細は添付の資料をご確認ください。", importance=importance,
                audience={"kind": "leaders" if leaders_only else "all", "ids": []}, ack_required=ack,
                deadline=(sent_at + timedelta(days=10)).date() if ack else None, state=AnnouncementState.SENT.value,
                author_label="dx-admin@demo-city.example.jp", created_at=sent_at, updated_at=sent_at,
                sent_at=sent_at, finished_at=sent_at + timedelta(minutes=3),
            )  # fmt: skip
            # The last two ask each section to pass them on (伝達依頼): the page shows the relay table.
            if days_ago <= 14:
                ann.relay_required = True
                ann.relay_deadline = (sent_at + timedelta(days=14)).date()
            session.add(ann)
            await session.flush()
            await delivery.enqueue(
                session,
                "announcement",
                ann.id,
                [
                    delivery.DeliveryItem(delivery.Recipient(person_id=p.person_id), Message(text=title))
                    for p in people
                ],
                now=sent_at,
            )
            still_sending = days_ago < 3
            keys_by_state: dict[DeliveryState, list[str]] = {}
            confirmed_at: dict[int, datetime] = {}
            for order, p in enumerate(people):
                reachable = reach.get(p.person_id, False)
                pending = still_sending and reachable and rng.random() < 0.06
                delivered = reachable and not pending
                confirmed = ack and delivered and rng.random() < confirm_share
                if confirmed:
                    confirmed_at[p.person_id] = min(now, sent_at + timedelta(hours=rng.randint(1, 70)))
                session.add(
                    AnnouncementRecipient(
                        announcement_id=ann.id, person_id=p.person_id, name=p.name, email=p.email,
                        department=p.department, section=p.section, section_id=p.section_id, role=p.role.value,
                        sort_key=order,
                        confirmed_at=confirmed_at.get(p.person_id),
                    )
                )  # fmt: skip
                state = (
                    DeliveryState.QUEUED
                    if pending
                    else DeliveryState.DELIVERED
                    if delivered
                    else DeliveryState.UNREACHABLE
                )
                keys_by_state.setdefault(state, []).append(f"person:{p.person_id}")
            # What the worker would have recorded: one UPDATE per outcome.
            for state, keys in keys_by_state.items():
                values: dict[str, object] = {"state": state.value}
                if state is DeliveryState.DELIVERED:
                    values |= {"attempts": 1, "delivered_at": sent_at + timedelta(minutes=2), "last_status": 201,
                               "activity_id": literal(f"demo-{ann.id}-") + Delivery.recipient_key}  # fmt: skip
                elif state is DeliveryState.UNREACHABLE:
                    values |= {"attempts": 1, "error": "no_conversation"}
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.kind == "announcement",
                        Delivery.ref_id == ann.id,
                        Delivery.recipient_key.in_(keys),
                    )
                    .values(**values)
                )
            if ann.relay_required:
                # A promoter reports after confirming, never later than now.
                relayed: set[int] = set()
                for p in people:
                    if p.section_id in relayed or p.person_id not in confirmed_at or rng.random() > 0.6:
                        continue
                    relayed.add(p.section_id)
                    at = min(now, confirmed_at[p.person_id] + timedelta(hours=rng.randint(1, 48)))
                    session.add(
                        AnnouncementRelay(
                            announcement_id=ann.id, section_id=p.section_id,
                            method=rng.choice(["meeting", "mail", "channel", "circular"]),
                            reached=rng.randint(5, 30), reported_by=p.person_id, reporter_name=p.name,
                            reported_at=at, updated_at=at,
                        )
                    )  # fmt: skip
            if still_sending:
                ann.state = AnnouncementState.SENDING.value
                ann.finished_at = None


async def seed_questions(services: Services, rng: random.Random) -> None:
    now = services.clock()
    async with services.sessionmaker() as session, session.begin():
        keys = list((await session.scalars(select(KbEntry.key).order_by(KbEntry.id))).all())
        if not keys:
            return
        # A few entries answer badly: they collect "not helpful".
        weak = set(keys[3:40:9])
        weights = [1 / (rank + 1) ** 0.9 for rank in range(len(keys))]
        shuffled = keys[:]
        rng.shuffle(shuffled)
        for _ in range(720):
            days_ago = rng.uniform(0, 200)
            at = _at(now, days_ago, hour=rng.randint(9, 17))
            if rng.random() < 0.17:
                text = rng.choice(UNANSWERED)
                session.add(QueryLog(at=at, query=text, top_key=rng.choice(keys), score=0.12, answered=False))
                continue
            key = rng.choices(shuffled, weights=weights)[0]
            log = QueryLog(at=at, query=f"{key} について", top_key=key, score=0.7, answered=True)
            session.add(log)
            if rng.random() < 0.35:
                helpful = rng.random() < (0.3 if key in weak else 0.85)
                session.add(Feedback(entry_key=key, helpful=helpful, query=log.query, at=at))
        for i, question in enumerate(TICKET_QUESTIONS):
            created = _at(now, [0.1, 1, 2, 4, 6, 9, 15, 20, 30, 45, 60, 80, 95, 120][i], hour=11)
            status = (
                [TicketStatus.OPEN] * 4
                + [TicketStatus.CLAIMED] * 3
                + [TicketStatus.ANSWERED] * 5
                + [TicketStatus.CLOSED] * 2
            )
            st = status[(i * 5) % len(status)]
            answered_at = (
                created + timedelta(days=rng.randint(1, 5))
                if st in (TicketStatus.ANSWERED, TicketStatus.CLOSED)
                else None
            )
            session.add(
                Ticket(
                    question=question, status=st, asker_user_id=f"29:demo-asker-{i}", asker_name="",
                    service_url=SERVICE_URL, tenant_id=TENANT, locale="ja", created_at=created,
                    claimed_at=created + timedelta(hours=3) if st != TicketStatus.OPEN else None,
                    assignee_name="佐藤 花子" if st != TicketStatus.OPEN else None,
                    answer="ご確認ください。" if answered_at else None, answered_by="佐藤 花子" if answered_at else None,
                    answered_at=answered_at, closed_at=answered_at if st == TicketStatus.CLOSED else None,
                )
            )  # fmt: skip


async def seed_activity(services: Services, seed: int = 2026) -> None:
    """The year of use on top of the features' demo seeds (once: does nothing if accounts exist)."""
    async with services.sessionmaker() as session:
        if await session.scalar(select(func.count()).select_from(Announcement)):
            return
    rng = random.Random(seed)
    reach = await seed_reach(services, rng)
    await seed_announcements(services, rng, reach)
    await seed_questions(services, rng)


async def seed_everything(services: Services) -> None:
    from dialogs.composition import features

    # The roster first, whatever order features() has: the other demos build on the city's people.
    seeders = sorted((f for f in features() if f.seed_demo), key=lambda f: f.name != "roster")
    for feature in seeders:
        assert feature.seed_demo is not None
        await feature.seed_demo(services, True)
    await seed_activity(services)


async def _seed_file(url: str) -> None:
    from bot.services import open_services
    from bot.settings import Settings

    async with open_services(Settings(database_url=url, app_id="")) as services:
        await seed_everything(services)


def main(url: str) -> None:
    """Migrate the database at ``url`` and fill it with the demo (for e2e and bench)."""
    from storage.migrate import upgrade_sync

    upgrade_sync(url)
    asyncio.run(_seed_file(url))


if __name__ == "__main__":
    main(sys.argv[1])
