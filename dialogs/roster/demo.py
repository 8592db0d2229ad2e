"""The demo city, みどり市: 14 departments, 49 sections, about 100 promoters, for ``dxbot seed-demo``.

The Agents Playground's mock users are mapped so a newcomer can try both sides at once:
dx-admin@demo-city.example.jp (佐藤 花子) is a DX division admin, leader@demo-city.example.jp
(鈴木 一郎) leads 総務部 総務課, staff@demo-city.example.jp (田中 次郎) holds no role.
No conversation references are invented: coverage honestly shows most promoters unreachable until
they add the bot.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.api import Services
from dialogs.roster.admins import audit, grant
from dialogs.roster.importer import Actor, apply_plan, plan_import
from dialogs.roster.network import today_jst
from dialogs.roster.reader import ParsedRoster, RosterRow
from storage.models.roster import Department, DivisionRoleKind, Person, PromoterRole

CITY = "みどり市"
DOMAIN = "demo-city.example.jp"
ADMIN = ("佐藤 花子", f"dx-admin@{DOMAIN}")
LEADER = ("鈴木 一郎", f"leader@{DOMAIN}")
STAFF_EMAIL = f"staff@{DOMAIN}"
AUTHOR = ("高橋 美穂", f"takahashi.miho@{DOMAIN}")

DEPARTMENTS: list[tuple[str, list[str]]] = [
    ("総務部", ["総務課", "人事課", "危機管理課", "情報システム課", "契約検査課"]),
    ("企画政策部", ["企画課", "広報広聴課", "秘書課"]),  # DX推進課 is the hub itself, not a member
    ("財務部", ["財政課", "税務課", "収納課", "資産税課", "管財課"]),
    ("市民生活部", ["市民課", "保険年金課", "市民協働課", "生活安全課", "文化スポーツ課"]),
    ("福祉部", ["福祉総務課", "障がい福祉課", "高齢介護課", "生活支援課"]),
    ("健康こども部", ["健康推進課", "こども家庭課", "保育課", "子育て支援課"]),
    ("環境部", ["環境政策課", "ごみ対策課", "環境衛生課"]),
    ("経済観光部", ["商工振興課", "観光課", "農林課", "雇用労働課"]),
    ("都市整備部", ["都市計画課", "建築指導課", "道路課", "公園緑地課", "住宅課"]),
    ("上下水道部", ["水道総務課", "浄水課", "下水道課"]),
    ("教育委員会事務局", ["教育総務課", "学校教育課", "生涯学習課", "図書館"]),
    ("会計室", ["会計課"]),
    ("議会事務局", ["議事課"]),
    ("消防本部", ["消防総務課", "予防課"]),
]
# A few sections look like real ones: two sub-leaders, none, a leader still to be named, nobody yet.
TWO_SUBLEADERS = {
    "税務課", "市民課", "学校教育課", "高齢介護課", "保険年金課", "子育て支援課", "道路課", "都市計画課",
    "環境政策課",
}  # fmt: skip
NO_SUBLEADER = {"秘書課", "会計課", "議事課", "浄水課"}
NO_LEADER = {"雇用労働課"}
VACANT = {"予防課"}

SURNAMES = [
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"), ("伊藤", "ito"),
    ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"), ("小林", "kobayashi"), ("加藤", "kato"),
    ("吉田", "yoshida"), ("山田", "yamada"), ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"),
    ("井上", "inoue"), ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
    ("山崎", "yamazaki"), ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"), ("阿部", "abe"),
    ("石川", "ishikawa"), ("山下", "yamashita"), ("中島", "nakajima"), ("石井", "ishii"), ("小川", "ogawa"),
    ("前田", "maeda"), ("岡田", "okada"), ("長谷川", "hasegawa"), ("藤田", "fujita"), ("後藤", "goto"),
    ("近藤", "kondo"), ("村上", "murakami"), ("遠藤", "endo"), ("青木", "aoki"), ("坂本", "sakamoto"),
    ("福田", "fukuda"), ("太田", "ota"), ("西村", "nishimura"), ("藤井", "fujii"), ("岡本", "okamoto"),
    ("松田", "matsuda"), ("中川", "nakagawa"), ("原田", "harada"), ("小野", "ono"), ("竹内", "takeuchi"),
    ("金子", "kaneko"), ("和田", "wada"), ("中野", "nakano"), ("原", "hara"), ("藤原", "fujiwara"),
    ("村田", "murata"), ("上田", "ueda"), ("横山", "yokoyama"), ("宮崎", "miyazaki"), ("谷口", "taniguchi"),
]  # fmt: skip
GIVEN_NAMES = [
    ("翔太", "shota"), ("大輔", "daisuke"), ("健太", "kenta"), ("拓也", "takuya"), ("直樹", "naoki"),
    ("誠", "makoto"), ("亮", "ryo"), ("哲也", "tetsuya"), ("和也", "kazuya"), ("悠斗", "yuto"),
    ("美咲", "misaki"), ("陽子", "yoko"), ("恵", "megumi"), ("由美", "yumi"), ("彩", "aya"),
    ("真由美", "mayumi"), ("優子", "yuko"), ("理恵", "rie"), ("沙織", "saori"), ("智子", "tomoko"),
    ("裕子", "hiroko"), ("奈々", "nana"), ("千尋", "chihiro"), ("大樹", "daiki"), ("蓮", "ren"),
    ("浩二", "koji"), ("修", "osamu"), ("聡", "satoshi"), ("香織", "kaori"), ("明美", "akemi"),
]  # fmt: skip


def fiscal_year_start(day: date) -> date:
    """April 1 of the fiscal year ``day`` falls in (Japanese fiscal years start in April)."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _people() -> list[tuple[str, str]]:
    """Distinct (name, email) pairs, never one of the mock users."""
    out: list[tuple[str, str]] = []
    seen = {ADMIN[1], LEADER[1], STAFF_EMAIL, AUTHOR[1]}
    for i in range(len(SURNAMES) * len(GIVEN_NAMES)):
        surname, s_roman = SURNAMES[(i * 7) % len(SURNAMES)]
        given, g_roman = GIVEN_NAMES[(i * 11 + i // len(SURNAMES)) % len(GIVEN_NAMES)]
        email = f"{g_roman}.{s_roman}@{DOMAIN}"
        if email in seen:
            continue
        seen.add(email)
        out.append((f"{surname} {given}", email))
    return out


def demo_rows() -> list[RosterRow]:
    people = iter(_people())
    rows: list[RosterRow] = []
    number = 1  # as if row 1 were the header of a file

    def add(dept: str, sec: str, role: PromoterRole | None, person: tuple[str, str] = ("", "")) -> None:
        nonlocal number
        number += 1
        rows.append(RosterRow(number, dept, sec, role, person[0], person[1]))

    for dept, sections in DEPARTMENTS:
        for sec in sections:
            if sec in VACANT:
                add(dept, sec, None)
                continue
            if sec not in NO_LEADER:
                add(dept, sec, PromoterRole.LEADER, LEADER if sec == "総務課" else next(people))
            subs = 0 if sec in NO_SUBLEADER else 2 if sec in TWO_SUBLEADERS else 1
            for _ in range(subs):
                add(dept, sec, PromoterRole.SUBLEADER, next(people))
    return rows


async def seed_demo(services: Services, only_if_empty: bool) -> None:
    now = services.clock()
    async with services.sessionmaker() as session, session.begin():
        existing = await session.scalar(select(func.count()).select_from(Department)) or 0
        if existing and only_if_empty:
            print(
                "名簿が登録済みのため、デモの市は登録しませんでした。 / Roster exists; demo city not seeded."
            )
            return
        others = await session.scalar(
            select(func.count()).select_from(Person).where(Person.email.not_like(f"%@{DOMAIN}"))
        )
        if others:
            print(
                "実際の名簿があるため、デモの市は登録しません。 / Real roster data found; demo city not seeded."
            )
            return
        rows = demo_rows()
        parsed = ParsedRoster(rows=rows, data_rows=len(rows))
        plan = await plan_import(session, parsed, fiscal_year_start(today_jst(now)))
        actor = Actor("cli")
        if plan.has_changes:
            await apply_plan(session, plan, actor, f"{CITY}(デモ)", now)
        await grant(session, ADMIN[1], DivisionRoleKind.ADMIN, actor, now, name=ADMIN[0])
        await grant(session, AUTHOR[1], DivisionRoleKind.AUTHOR, actor, now, name=AUTHOR[0])
        audit(session, actor, "roster.demo_seed", now, city=CITY)
    promoters = sum(1 for r in rows if r.role)
    sections = len({(r.department, r.section) for r in rows})
    print(
        f"デモの市「{CITY}」を登録しました: {len(DEPARTMENTS)}部・{sections}課・推進員{promoters}人。"
        f" 管理者 {ADMIN[1]}、総務課リーダー {LEADER[1]}。"
    )
