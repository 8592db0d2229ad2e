"""The roster commands in Teams, through the HTTP path and the fake connector, over the demo city."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.kit.business_days import format_date_ja
from dialogs.roster.demo import fiscal_year_start
from dialogs.roster.network import today_jst
from storage.models.roster import DivisionRole
from storage.models.shared import AuditEntry
from tests.cards import title
from tests.roster.helpers import AUTHOR, card_texts, demo_bot, facts_of, last_card, last_text
from tests.support import ADMIN, LEADER, STAFF

pytestmark = pytest.mark.asyncio


async def test_roster_summary_counts_the_demo_city(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("名簿", user=STAFF)
    card = last_card(connector, STAFF)
    facts = facts_of(card)
    assert title(card) == "名簿の概要"
    assert facts["部"] == "14" and facts["課"] == "49"
    assert facts["推進員"] == "100人(リーダー47人・サブリーダー53人)"
    assert facts["リーダー未設定の課"] == "2課" and facts["推進員のいない課"] == "1課"
    assert "最終取り込み" in facts
    # The two are named, in the roster's order (経済観光部 before 消防本部, as in the roster file).
    assert "リーダー未設定の課: 経済観光部 雇用労働課、消防本部 予防課" in card_texts(card)


async def test_leaderless_sections_are_capped_in_roster_order(sqlite_url, connector):
    """Ten sections lose their leader: the first eight are named in roster order, then 「ほか2課」."""
    from sqlalchemy import delete

    from storage.models.roster import Assignment, Department, PromoterRole, Section

    async with demo_bot(sqlite_url, connector) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            rows = (
                await s.execute(
                    select(Section.id, Department.name, Section.name)
                    .join(Department, Department.id == Section.department_id)
                    .order_by(Department.sort_order.desc(), Section.sort_order.desc())
                )
            ).all()
            # The last sections of the roster lose their leaders (ids and names are in no useful order).
            chosen = [r for r in rows if r[2] not in ("雇用労働課", "予防課")][:8]
            await s.execute(
                delete(Assignment).where(
                    Assignment.section_id.in_([r[0] for r in chosen]), Assignment.role == PromoterRole.LEADER
                )
            )
        await bot.say("名簿", user=STAFF)
    line = next(
        t
        for t in card_texts(last_card(connector, STAFF))
        if t.startswith("リーダー未設定の課: ") and "、" in t
    )
    expected = sorted([*chosen, *[r for r in rows if r[2] in ("雇用労働課", "予防課")]], key=rows.index)
    expected.reverse()  # the roster's order: rows were read last first
    names = [f"{d} {sec}" for _, d, sec in expected]
    assert line == f"リーダー未設定の課: {'、'.join(names[:8])}、ほか2課"


@pytest.mark.parametrize("query", ["税務課", "税務 課", "財務部　税務課", "財務部税務課", "税務"])
async def test_who_promotes_a_section_tolerates_width_and_spaces(sqlite_url, connector, query):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say(f"担当 {query}", user=STAFF)
    card = last_card(connector, STAFF)
    assert title(card) == "財務部 税務課のDX推進員"
    facts = facts_of(card)
    assert "@demo-city.example.jp" in facts["リーダー"]
    assert facts["サブリーダー"].count("@demo-city.example.jp") == 2  # 税務課 has two sub-leaders


async def test_who_suggests_close_names_or_says_not_found(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("担当 税金課", user=STAFF)
        suggestion = last_text(connector, STAFF)
        await bot.say("担当 宇宙開発課", user=STAFF)
        not_found = last_text(connector, STAFF)
        await bot.say("担当", user=STAFF)
        usage = last_text(connector, STAFF)
        await bot.say("担当 福祉部", user=STAFF)
    assert suggestion.startswith("「税金課」に近い課:") and "税務課(財務部)" in suggestion
    assert (
        not_found
        == "「宇宙開発課」という課は見つかりませんでした。課名を確かめて「担当 課名」と送ってください。"
    )
    assert "担当 税務課" in usage
    titles = [b["text"] for b in last_card(connector, STAFF)["body"] if b.get("style") == "heading"]
    assert titles == [
        f"福祉部 {s}のDX推進員" for s in ("福祉総務課", "障がい福祉課", "高齢介護課", "生活支援課")
    ]


async def test_vacant_section_says_not_set(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("担当 予防課", user=STAFF)
    assert facts_of(last_card(connector, STAFF)) == {"リーダー": "未設定", "サブリーダー": "未設定"}


async def test_my_role_for_leader_admin_and_staff(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("私の役割", user=LEADER)
        await bot.say("私の役割", user=ADMIN)
        await bot.say("私の役割", user=STAFF)
        since = format_date_ja(fiscal_year_start(today_jst(bot.services.clock())))
    leader = card_texts(last_card(connector, LEADER))
    assert f"・総務部 総務課のリーダー({since}から)" in leader
    assert "鈴木 一郎(leader@demo-city.example.jp)" in leader
    assert "・DX推進課の管理者" in card_texts(last_card(connector, ADMIN))
    staff = card_texts(last_card(connector, STAFF))
    assert any(
        "名簿にあなたのメールアドレス(staff@demo-city.example.jp)が見つかりませんでした" in t for t in staff
    )


async def test_admin_changes_are_audited_and_the_last_admin_stays(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("管理者削除 dx-admin@demo-city.example.jp", user=ADMIN)
        last_admin = last_text(connector, ADMIN)
        await bot.say("管理者追加 kato@demo-city.example.jp 加藤 恵", user=ADMIN)
        added = last_text(connector, ADMIN)
        await bot.say("送信担当追加 KATO@demo-city.example.jp", user=ADMIN)
        await bot.say("送信担当削除 takahashi.miho@demo-city.example.jp", user=ADMIN)
        await bot.say("管理者追加", user=ADMIN)
        usage = last_text(connector, ADMIN)
        await bot.say("管理者削除 dx-admin@demo-city.example.jp", user=ADMIN)  # now allowed: 加藤さん remains
        removed = last_text(connector, ADMIN)
        await bot.say("監査ログ", user=ADMIN)  # and she is no admin any more
        refused = last_text(connector, ADMIN)
        async with bot.services.sessionmaker() as s:
            audit = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
            roles = (await s.scalars(select(DivisionRole).where(DivisionRole.revoked_at.is_(None)))).all()
    assert last_admin.startswith("最後の管理者は外せません。")
    assert added == "kato@demo-city.example.jp さんをDX推進課の管理者に追加しました。"
    assert removed == "dx-admin@demo-city.example.jp さんをDX推進課の管理者から外しました。"
    assert "例: 「管理者追加 kato@city.example.jp」" in usage
    assert refused.startswith("申し訳ありません。")
    changes = [
        (a.action, a.detail.get("email"), a.detail.get("role"), a.actor_label)
        for a in audit
        if a.action.startswith("division.")
    ]
    # The demo's two grants, then the four changes made from Teams, each with who did it.
    assert changes[2:] == [
        ("division.grant", "kato@demo-city.example.jp", "admin", ADMIN.email),
        ("division.grant", "kato@demo-city.example.jp", "author", ADMIN.email),
        ("division.revoke", "takahashi.miho@demo-city.example.jp", "author", ADMIN.email),
        ("division.revoke", "dx-admin@demo-city.example.jp", "admin", ADMIN.email),
    ]
    assert sorted((r.role.value) for r in roles) == ["admin", "author"]


async def test_audit_log_and_admin_list_for_admins(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("管理者追加 kato@demo-city.example.jp", user=ADMIN)
        await bot.say("監査ログ", user=ADMIN)
        audit = card_texts(last_card(connector, ADMIN))
        await bot.say("管理者一覧", user=ADMIN)
        admins = card_texts(last_card(connector, ADMIN))
    assert audit[0] == "監査ログ(新しい順)"
    assert "dx-admin@demo-city.example.jp: kato@demo-city.example.jp さんを管理者に追加しました" in audit[1]
    assert any("コマンドライン: 名簿を取り込みました(「みどり市(デモ)」" in line for line in audit)
    assert any(line.startswith("・佐藤 花子(dx-admin@demo-city.example.jp)") for line in admins)
    assert any(line.startswith("・高橋 美穂(takahashi.miho@demo-city.example.jp)") for line in admins)


PROTECTED = [
    ("カバー状況", "DX推進課(お知らせ・サーベイの送信担当)"),
    ("管理者追加 kato@demo-city.example.jp", "DX推進課の管理者"),
    ("管理者削除 dx-admin@demo-city.example.jp", "DX推進課の管理者"),
    ("送信担当追加 kato@demo-city.example.jp", "DX推進課の管理者"),
    ("送信担当削除 takahashi.miho@demo-city.example.jp", "DX推進課の管理者"),
    ("管理者一覧", "DX推進課の管理者"),
    ("監査ログ", "DX推進課の管理者"),
    ("名簿取り込み", "DX推進課の管理者"),
]


@pytest.mark.parametrize(("command", "who"), PROTECTED)
async def test_protected_commands_refuse_staff_and_promoters_politely(sqlite_url, connector, command, who):
    async with demo_bot(sqlite_url, connector) as bot:
        async with bot.services.sessionmaker() as s:
            before = len((await s.scalars(select(AuditEntry))).all())
        for person in (STAFF, LEADER):
            await bot.say(command, user=person)
            text = last_text(connector, person)
            assert text == (
                f"申し訳ありません。この操作は{who}の方だけが行えます。"
                "必要な場合はDX推進課の管理者にご相談ください。"
            )
            assert connector.cards_to(person.conversation_id) == []
        async with bot.services.sessionmaker() as s:
            assert len((await s.scalars(select(AuditEntry))).all()) == before


@pytest.mark.parametrize("action", ["roster.apply", "roster.cancel", "roster.install"])
async def test_protected_buttons_refuse_staff(sqlite_url, connector, action):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.press({"action": action, "token": "x"}, user=STAFF)
    assert last_text(connector, STAFF).startswith(
        "申し訳ありません。この操作はDX推進課の管理者の方だけが行えます。"
    )


async def test_author_sees_coverage_but_may_not_manage_admins(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("カバー状況", user=AUTHOR)
        await bot.say("管理者追加 kato@demo-city.example.jp", user=AUTHOR)
    assert title(last_card(connector, AUTHOR)).startswith("カバー状況(")
    assert "DX推進課の管理者の方だけ" in last_text(connector, AUTHOR)


async def test_admin_sees_coverage_card_with_unreachable_sections_first(sqlite_url, connector):
    async with demo_bot(sqlite_url, connector) as bot:
        await bot.say("ヘルプ", user=LEADER)  # the leader has the bot: reachable from now on
        await bot.say("カバー状況", user=ADMIN)
    card = last_card(connector, ADMIN)
    texts = card_texts(card)
    facts = facts_of(card)
    assert texts[0].startswith("カバー状況(") and texts[0].endswith("時点)")
    assert facts["課"] == "49"
    assert facts["誰にも届かない課"] == "48課" and facts["一部に届かない課"] == "1課"
    assert facts["連絡が届く推進員"] == "100人中1人"
    assert "**誰にも届かない課(48)**" in texts and "**一部に届かない課(1)**" in texts
    lines = [t for t in texts if t.startswith("**") and " — " in t]
    assert len(lines) == 30  # the card lists 30 sections; the rest are counted
    assert (
        "ほか19課あります。すべての課は、「ダッシュボード」と送って開くダッシュボードの概要で確認できます。"
        in texts
    )
    assert "リーダー未設定の課: 経済観光部 雇用労働課、消防本部 予防課" in texts
    # Sections nobody can be reached in come first, named without a state each; then 総務課 with its gap.
    assert lines[0] == "**総務部 人事課** — リーダー 中村 陽子 / サブリーダー 松本 千尋"
    assert lines[-1] == "**総務部 総務課** — リーダー 鈴木 一郎(届く) / サブリーダー 佐藤 翔太(届かない)"
    # Admins learn, in their terms, that the app could be installed from here once IT sets it up;
    # no command-line or setting names reach the card.
    assert any("情報システム課にアプリの一括追加を設定してもらうと" in t for t in texts)
    assert not [t for t in texts if "dxbot" in t.lower() or "DXBOT_" in t]
    assert "actions" not in card
