"""A roster import that would end many roles: a red warning on the dry-run card and a second confirmation.

A truncated upload once proposed to end 65 of 100 promoters' roles, and one press of 「適用する」 would have
done it. Through the real HTTP path, on a city of 200 sections and 400 promoters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from dialogs.kit.i18n import t as translate
from dialogs.roster import cards
from dialogs.roster.importer import mass_end
from dialogs.roster.pending import confirmation_code
from storage.models.roster import PendingImport
from storage.models.shared import AuditEntry
from tests.roster import test_teams_import
from tests.roster.conftest import import_data, open_posts, snapshot
from tests.roster.helpers import (
    card_texts,
    city_roster_csv,
    city_sections,
    demo_bot,
    facts_of,
    last_card,
    last_card_activity,
    last_text,
)
from tests.roster.test_teams_import import file_activity
from tests.support import ADMIN, activity

pytestmark = pytest.mark.asyncio
serve_files = test_teams_import.files  # the ``files`` fixture: Teams' download URLs, served locally

SECTIONS = city_sections(200)
TRUNCATED = SECTIONS[:140]  # the upload stopped after 140 of 200 sections: 120 of 400 roles would end
REFUSED = (
    "この取り込みでは120人の推進員の役割が終了するため、確認が必要です。名簿は変更していません。"
    "確認カードの「120人の役割を終了することを確認しました」にチェックを入れてから、"
    "もう一度「適用する」を押してください。"
)


async def _city(bot) -> None:
    """The full roster of 400 promoters, as imported last April."""
    plan = await import_data(
        bot.services.sessionmaker, city_roster_csv(SECTIONS), "全庁.csv", date(2026, 4, 1)
    )
    assert len(plan.added) == 400


async def _pending(bot) -> list[PendingImport]:
    async with bot.services.sessionmaker() as s:
        return list((await s.scalars(select(PendingImport).order_by(PendingImport.id))).all())


def _toggle(card: dict[str, Any]) -> dict[str, Any] | None:
    return next((e for e in card["body"] if e.get("type") == "Input.Toggle"), None)


def _warning(card: dict[str, Any]) -> dict[str, Any] | None:
    return next((e for e in card["body"] if e.get("style") == "attention"), None)


async def test_a_truncated_file_is_shown_in_red_and_applies_only_once_confirmed(
    db_url, connector, serve_files
):
    async with demo_bot(db_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await _city(bot)
        serve_files.files["名簿_途中まで.csv"] = city_roster_csv(TRUNCATED)
        await bot.post(file_activity(connector, serve_files, "名簿_途中まで.csv", text="2027年4月1日"))
        aid, card = last_card_activity(connector, ADMIN)
        assert facts_of(card)["終了"] == "120人"
        warning = _warning(card)
        assert warning is not None, card_texts(card)
        lines = [item["text"] for item in warning["items"]]
        assert lines[0] == "ご注意ください: 多くの推進員の役割が終了します"
        assert warning["items"][0]["color"] == "Attention"
        assert lines[1] == (
            "この取り込みを適用すると、今の推進員の役割400件のうち120件(約30%)が終了し、"
            "120人が推進員ではなくなります。"
        )
        # The 60 sections left out, in roster order: the first ten by name, then how many more.
        first_ten = "、".join(f"{d} {s}" for d, s in SECTIONS[140:150])
        assert lines[2] == f"役割が終了する課(60課): {first_ten}、ほか50課"
        assert first_ten.startswith("経済部 経済第1課、経済部 経済第2課")
        assert "途中までしか入っていないファイル" in lines[3] and "別の部のファイル" in lines[3]
        toggle = _toggle(card)
        assert toggle is not None
        assert toggle["title"] == "120人の役割を終了することを確認しました"
        assert toggle["isRequired"] is True and toggle["valueOff"] == ""
        assert [a["title"] for a in card["actions"]] == ["適用する", "取り消す"]
        assert card["actions"][1]["associatedInputs"] == "none"  # cancelling needs no tick
        token = card["actions"][0]["data"]["token"]
        before = await snapshot(bot.services.sessionmaker)

        # Applying without the tick (an old client, a forged or replayed submit) changes nothing.
        for forged in (
            {},
            {"confirm_mass_end": ""},
            {"confirm_mass_end": "true"},
            {"confirm_mass_end": "確認"},
        ):
            await bot.press({"action": "roster.apply", "token": token, **forged}, user=ADMIN, reply_to_id=aid)
            assert last_text(connector, ADMIN) == REFUSED
        assert await snapshot(bot.services.sessionmaker) == before
        assert [p.status for p in await _pending(bot)] == ["pending"]
        again = connector.activities[aid]["attachments"][0]["content"]
        assert card_texts(again)[0] == "名簿の取り込み内容の確認"
        assert _toggle(again)["valueOn"] == toggle["valueOn"]  # type: ignore[index]

        # Ticked: what the card's toggle sends with the button.
        await bot.press(
            {"action": "roster.apply", "token": token, "confirm_mass_end": toggle["valueOn"]},
            user=ADMIN,
            reply_to_id=aid,
        )
        applied = connector.activities[aid]["attachments"][0]["content"]
        assert card_texts(applied)[0] == "名簿を更新しました"
        posts = open_posts(await snapshot(bot.services.sessionmaker))
        assert len(posts) == 280 and "leader140@demo-city.example.jp" not in posts
        async with bot.services.sessionmaker() as s:
            entry = await s.scalar(
                select(AuditEntry).where(AuditEntry.action == "roster.import").order_by(AuditEntry.id.desc())
            )
        assert entry.detail["ended"] == 120 and entry.detail["mass_end_confirmed"] is True
        assert entry.actor_label == ADMIN.email
        await bot.post(activity(connector.url, user=ADMIN, text="監査ログ"))
        assert any(
            line.endswith("終了120人)。多くの役割の終了を確認のうえ適用しました")
            for line in card_texts(last_card(connector, ADMIN))
        )


async def test_a_confirmation_fits_only_the_import_it_was_given_for(sqlite_url, connector, serve_files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await _city(bot)
        serve_files.files["途中まで.csv"] = city_roster_csv(TRUNCATED)
        await bot.post(file_activity(connector, serve_files, "途中まで.csv", text="2027-04-01"))
        _, first = last_card_activity(connector, ADMIN)
        first_code = _toggle(first)["valueOn"]  # type: ignore[index]
        # Then another department's file alone: 360 of 400 roles would end.
        serve_files.files["福祉部.csv"] = city_roster_csv([k for k in SECTIONS if k[0] == "福祉部"])
        await bot.post(file_activity(connector, serve_files, "福祉部.csv", text="2027-04-01"))
        aid, second = last_card_activity(connector, ADMIN)
        assert _warning(second)["items"][1]["text"].startswith(  # type: ignore[index]
            "この取り込みを適用すると、今の推進員の役割400件のうち360件(約90%)が終了し"
        )
        token = second["actions"][0]["data"]["token"]
        before = await snapshot(bot.services.sessionmaker)
        await bot.press(
            {"action": "roster.apply", "token": token, "confirm_mass_end": first_code},
            user=ADMIN,
            reply_to_id=aid,
        )
        assert last_text(connector, ADMIN).startswith(
            "この取り込みでは360人の推進員の役割が終了するため、確認が必要です。"
        )
        assert await snapshot(bot.services.sessionmaker) == before
        # The first card's own confirmation no longer applies anything: that import was replaced.
        await bot.press(
            {
                "action": "roster.apply",
                "token": first["actions"][0]["data"]["token"],
                "confirm_mass_end": first_code,
            },
            user=ADMIN,
        )
        assert last_text(connector, ADMIN).startswith(
            "この取り込みは、あとから送られたファイルに置き換わりました。"
        )
        assert await snapshot(bot.services.sessionmaker) == before
        # The second card's tick is bound to its own import and plan.
        pending = (await _pending(bot))[-1]
        assert pending.token == token
        assert _toggle(second)["valueOn"] == confirmation_code(token, pending.plan_digest)  # type: ignore[index]


def _without(emails: set[str]) -> bytes:
    """The full roster without the rows of these people."""
    rows = city_roster_csv(SECTIONS).decode().splitlines()
    return ("\n".join(r for r in rows if r.rsplit(",", 1)[-1] not in emails) + "\n").encode()


async def test_below_the_thresholds_the_import_is_as_before(sqlite_url, connector, serve_files):
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await _city(bot)
        # Five sub-leaders leave: up to 10 people and up to 20 % end without the extra confirmation.
        serve_files.files["5人減.csv"] = _without({f"sub{i:03d}@demo-city.example.jp" for i in range(80, 85)})
        await bot.post(file_activity(connector, serve_files, "5人減.csv", text="2027-04-01"))
        aid, card = last_card_activity(connector, ADMIN)
        assert facts_of(card)["終了"] == "5人"
        assert _warning(card) is None and _toggle(card) is None
        assert [(a["title"], a.get("style")) for a in card["actions"]] == [
            ("適用する", "positive"),
            ("取り消す", None),
        ]
        await bot.press(card["actions"][0]["data"], user=ADMIN, reply_to_id=aid)
        assert card_texts(connector.activities[aid]["attachments"][0]["content"])[0] == "名簿を更新しました"
        assert len(open_posts(await snapshot(bot.services.sessionmaker))) == 395


@pytest.mark.parametrize(("share", "count"), [(0.2, 4), (0.01, 10)])
async def test_the_thresholds_come_from_the_settings(sqlite_url, connector, serve_files, share, count):
    """Five of 400 ending: more than 4 people, or more than 1 %, needs the confirmation."""
    settings = {"roster_max_end_share": share, "roster_max_end_count": count}
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email], **settings) as bot:
        await _city(bot)
        # Three sub-leaders of 総務部 leave, and 教育部 教育第19課 (both promoters) is not in the file.
        gone = {f"sub{i:03d}@demo-city.example.jp" for i in range(3)}
        gone |= {"leader198@demo-city.example.jp", "sub198@demo-city.example.jp"}
        serve_files.files["5人減.csv"] = _without(gone)
        await bot.post(file_activity(connector, serve_files, "5人減.csv", text="2027-04-01"))
        aid, card = last_card_activity(connector, ADMIN)
        assert facts_of(card)["終了"] == "5人"
        assert _toggle(card)["title"] == "5人の役割を終了することを確認しました"  # type: ignore[index]
        assert _warning(card)["items"][2]["text"] == (  # type: ignore[index]
            "役割が終了する課(4課): 総務部 総務第1課、総務部 総務第2課、総務部 総務第3課、教育部 教育第19課"
        )
        await bot.press(card["actions"][0]["data"], user=ADMIN, reply_to_id=aid)
        assert last_text(connector, ADMIN).startswith("この取り込みでは5人の推進員の役割が終了するため")
        assert len(open_posts(await snapshot(bot.services.sessionmaker))) == 400


async def test_the_warning_reads_in_english_too():
    from dialogs.roster.importer import Change, ImportPlan, Post
    from storage.models.roster import PromoterRole

    plan = ImportPlan(effective=date(2027, 4, 1), current=100)
    plan.changes = [
        Change("ended", f"P{i}", f"p{i}@x.jp", Post("総務部", f"課{i % 30}", PromoterRole.LEADER))
        for i in range(65)
    ]
    guard = mass_end(plan, 0.2, 10)
    assert guard is not None
    en = cards.mass_end_lines(lambda key, **kw: translate(key, locale="en", **kw), guard)
    assert en[0] == (
        "Applying this import ends 65 of the 100 current promoter roles (about 65%); "
        "65 people would no longer be promoters."
    )
    assert en[1].startswith("Sections where roles end (30): ") and en[1].endswith(", and 20 more")
    assert mass_end(plan, 0.7, 65) is None  # at the thresholds, not over them


async def test_a_card_from_before_the_thresholds_changed_gets_the_tick(sqlite_url, connector, serve_files):
    """The card was shown without the guard; the operator lowered the count, then the admin pressed."""
    async with demo_bot(sqlite_url, connector, seed=False, admins=[ADMIN.email]) as bot:
        await _city(bot)
        serve_files.files["5人減.csv"] = _without({f"sub{i:03d}@demo-city.example.jp" for i in range(5)})
        await bot.post(file_activity(connector, serve_files, "5人減.csv", text="2027-04-01"))
        aid, card = last_card_activity(connector, ADMIN)
        assert _toggle(card) is None
    async with demo_bot(
        sqlite_url, connector, seed=False, admins=[ADMIN.email], roster_max_end_count=4
    ) as restarted:
        await restarted.press(card["actions"][0]["data"], user=ADMIN, reply_to_id=aid)
        assert last_text(connector, ADMIN).startswith("この取り込みでは5人の推進員の役割が終了するため")
        assert len(open_posts(await snapshot(restarted.services.sessionmaker))) == 400
        again = connector.activities[aid]["attachments"][0]["content"]
        toggle = _toggle(again)
        assert toggle is not None and toggle["title"] == "5人の役割を終了することを確認しました"
        await restarted.press(
            {**again["actions"][0]["data"], "confirm_mass_end": toggle["valueOn"]},
            user=ADMIN,
            reply_to_id=aid,
        )
        assert card_texts(connector.activities[aid]["attachments"][0]["content"])[0] == "名簿を更新しました"
        assert len(open_posts(await snapshot(restarted.services.sessionmaker))) == 395
