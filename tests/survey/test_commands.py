"""「サーベイ」 and 「回答状況」 through the bot, and the signed links the results card points to."""

from __future__ import annotations

import json
import re
from csv import reader
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

from sqlalchemy import select

from dialogs.engines.delivery.worker import drain
from dialogs.survey import links
from storage.models import AuditEntry, Survey, SurveyRound
from tests.fakes.connector import FakeConnector
from tests.support import ADMIN, STAFF, activity, running_bot, settings_for
from tests.survey.helpers import answers_for, build_city, invitation_activity

NOW = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)  # Tuesday 10:00 JST
LAYOUT = [("総務部", "総務課", 1, 5), ("財務部", "税務課", 1, 5)]


def text_of(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_staff_are_refused_politely(sqlite_url: str, connector: FakeConnector) -> None:
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        for command in ("サーベイ", "サーベイ 作成 DXマインド", "回答状況"):
            await bot.say(command, user=STAFF)
    replies = connector.texts_to(STAFF.conversation_id)
    assert len(replies) == 3 and all("DX推進課" in r and "申し訳ありません" in r for r in replies)


async def test_admin_runs_a_round_from_teams_and_sees_the_rate_change(
    db_url: str, connector: FakeConnector
) -> None:
    settings = settings_for(db_url, admins=[ADMIN.email], public_url="https://bot.example.jp")
    clock = {"now": NOW}
    async with running_bot(settings, connector, clock=lambda: clock["now"]) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            city = await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        # Build a survey in Teams (no YAML): the builder card's inputs.
        await bot.press({"action": "survey.builder.form"}, user=ADMIN)
        assert "サーベイを自分で作る" in text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        await bot.press(
            {
                "action": "survey.builder.save",
                "title": "研修アンケート",
                "anonymous": "true",
                "threshold": "5",
                "q1_text": "研修は役に立った",
                "q1_type": "scale5",
                "q1_required": "true",
                "q2_text": "受講した研修",
                "q2_type": "multi",
                "q2_options": "Excel、生成AI、RPA 上限2",
            },
            user=ADMIN,
        )
        assert "研修アンケート" in text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        async with bot.services.sessionmaker() as s:
            survey = await s.scalar(select(Survey))
            assert survey is not None and len(survey.questions) == 2 and survey.anonymous

        await bot.say(f"サーベイ 開始 {survey.id} 3", user=ADMIN)
        preview = connector.cards_to(ADMIN.conversation_id)[-1]
        assert "開始の確認" in text_of(preview) and "12人" in text_of(preview)
        await bot.press(preview["actions"][0]["data"], user=ADMIN)
        assert "12人にご案内" in text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        await drain(bot.services)
        async with bot.services.sessionmaker() as s:
            rnd = await s.scalar(select(SurveyRound))
            assert rnd is not None and rnd.status == "open"
            leader = city.by_section("総務課")[0]
            aid = await invitation_activity(s, rnd.id, leader.person_id)

        await bot.say("回答状況", user=ADMIN)
        assert "0% (0/12)" in text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        card = connector.activities[aid]["attachments"][0]["content"]
        data = {**card["actions"][0]["data"], **answers_for(rnd.questions, 4)}
        await bot.press(data, user=leader.chat, reply_to_id=aid)
        await bot.say("回答状況", user=ADMIN)
        status = text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "8% (1/12)" in status and "総務部" in status

        await bot.say("サーベイ 延長 研修アンケート 2", user=ADMIN)
        assert (
            "2026年6月8日(月) 17:00" in connector.texts_to(ADMIN.conversation_id)[-1]
        )  # 6/4 + 2 business days

        # Close early, after the confirmation card; the results card comes back with signed links.
        await bot.say("サーベイ 締切 研修アンケート", user=ADMIN)
        confirm = connector.cards_to(ADMIN.conversation_id)[-1]
        assert "締め切りの確認" in text_of(confirm)
        clock["now"] = NOW + timedelta(hours=3)
        await bot.press(confirm["actions"][0]["data"], user=ADMIN)
        await drain(bot.services)
        results = text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "結果: 研修アンケート 第1回" in results and "回答が5人未満のため表示しません" in results
        async with bot.services.sessionmaker() as s:
            actions = [a for (a,) in (await s.execute(select(AuditEntry.action))).all()]
        assert {"survey.create", "survey.open", "survey.extend", "survey.close"} <= set(actions)

        # The leader's late answer is refused politely.
        before = len(connector.texts_to(leader.chat.conversation_id))
        await bot.press(data, user=leader.chat, reply_to_id=aid)
        assert "締め切られた" in connector.texts_to(leader.chat.conversation_id)[before]


async def test_signed_links_serve_results_charts_and_exports(
    sqlite_url: str, connector: FakeConnector
) -> None:
    from bot.services import open_services
    from dialogs.survey.demo import seed_demo as survey_seed
    from tests.survey.helpers import build_city as build

    settings = settings_for(sqlite_url, public_url="https://bot.example.jp")
    async with open_services(settings) as services:
        async with services.sessionmaker() as s, s.begin():
            await build(
                s, connector.url, date(2025, 4, 1), [("総務部", f"第{i}課", 1, 3) for i in range(1, 7)]
            )
        await survey_seed(services, True)
        async with services.sessionmaker() as s:
            rounds = (await s.scalars(select(SurveyRound).order_by(SurveyRound.id))).all()
    assert len(rounds) == 24 and all(r.status == "closed" for r in rounds)
    latest = rounds[11]
    now = datetime.now(UTC)
    token = links.sign(settings.secret_key, round_id=latest.id, now=now, days=14)
    base = f"/survey/r/{token}"
    async with running_bot(settings, connector) as bot:
        page = await bot.client.get(base)
        html = await page.text()
        assert page.status == 200 and "回答率" in html and "肯定的な回答の割合" in html
        assert "<script" not in html
        png = await bot.client.get(f"{base}/chart/favourable.png")
        assert (
            png.status == 200
            and png.content_type == "image/png"
            and (await png.read())[:8] == b"\x89PNG\r\n\x1a\n"
        )
        csv = await bot.client.get(f"{base}/export/aggregates.csv")
        assert csv.status == 200
        table = list(reader(StringIO((await csv.read()).decode("utf-8-sig"))))
        # As the results page says it: the question in words, shares in percent; no internal key.
        header = table[0]
        assert "質問キー" not in header and "質問" in header, header
        favourable = header.index("肯定的(4〜5)の割合(%)")
        overall = [r for r in table[1:] if len(r) == len(header) and r[1] == "全体"]
        assert overall and all(not re.fullmatch(r"[a-z]+\d+", r[header.index("質問")]) for r in overall)
        assert any("DX" in r[header.index("質問")] for r in overall)
        shares = [float(r[favourable]) for r in overall if r[favourable]]
        assert shares and all(0 <= v <= 100 for v in shares) and max(shares) > 1, shares
        assert overall[0][0].startswith("DXマインド 第") and overall[0][0].endswith("回"), overall[0][0]
        rates_at = next(i for i, r in enumerate(table) if r[:1] == ["回答率"])
        assert table[rates_at][4] == "回答率(%)" and float(table[rates_at + 1][4]) > 1
        xlsx = await bot.client.get(f"{base}/export/answers.xlsx")
        assert xlsx.status == 200 and (await xlsx.read())[:2] == b"PK"
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert (await bot.client.get(f"/survey/r/{forged}")).status == 404
        other = links.sign(settings.secret_key, round_id=latest.id + 1, now=now)
        assert (await bot.client.get(f"/survey/r/{token.split('.')[0]}.{other.split('.')[1]}")).status == 404
        expired = links.sign(settings.secret_key, round_id=latest.id, now=now - timedelta(days=30), days=14)
        response = await bot.client.get(f"/survey/r/{expired}")
        assert response.status == 410 and "有効期限" in await response.text()
        assert (await bot.client.get(f"{base}/chart/secret.png")).status == 404


def round_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    out = list(card.get("actions", []))
    for item in card.get("body", []):
        if item.get("type") == "ActionSet":
            out += item["actions"]
    return out


async def test_round_commands_take_the_survey_and_its_round_number_as_the_cards_show_them(
    sqlite_url: str, connector: FakeConnector
) -> None:
    """DXマインド has a closed 第1回 and a running 第2回; 業務量 runs its 第1回 (the bot's round 2). Typing
    what a card says reaches that survey's round, never another survey's round with that database id."""
    from dialogs.survey import service

    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: NOW) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        await bot.say("サーベイ 作成 DXマインド", user=ADMIN)
        await bot.say("サーベイ 作成 業務量", user=ADMIN)
        async with bot.services.sessionmaker() as s, s.begin():
            mindset, workload = (await s.scalars(select(Survey).order_by(Survey.id))).all()
            first = await service.create_round(s, mindset, open_at=NOW, now=NOW)
            await service.open_round(s, first, NOW, bot.services.settings)
            work = await service.create_round(s, workload, open_at=NOW, now=NOW)
            await service.open_round(s, work, NOW, bot.services.settings)
            assert await service.close_round(s, first, NOW, bot.services.settings)
            second = await service.create_round(s, mindset, open_at=NOW, now=NOW)
            await service.open_round(s, second, NOW, bot.services.settings)
            ids = {"m1": first.id, "w1": work.id, "m2": second.id}
            deadlines = {work.id: work.closes_at, second.id: second.closes_at}
        assert (work.number, second.number) == (1, 2) and ids == {"m1": 1, "w1": 2, "m2": 3}

        async def closes(round_id: int) -> datetime:
            async with bot.services.sessionmaker() as s:
                rnd = await s.get(SurveyRound, round_id)
                assert rnd is not None
                return rnd.closes_at

        def last() -> dict[str, Any]:
            return connector.cards_to(ADMIN.conversation_id)[-1]

        # 「回答状況 DXマインド 2」 is DXマインド 第2回 (the bot's round 3), not 業務量's round with id 2.
        await bot.say("回答状況 DXマインド 2", user=ADMIN)
        assert [b["data"].get("round") for b in round_buttons(last())][0] == ids["m2"]
        await bot.say("回答状況 DXマインド 第1回", user=ADMIN)  # a closed round, named as the card does
        assert round_buttons(last())[0]["data"]["round"] == ids["m1"]
        await bot.say("回答状況 業務量", user=ADMIN)  # no number: its running round
        assert round_buttons(last())[0]["data"]["round"] == ids["w1"]
        await bot.say("回答状況 DXマインド 5", user=ADMIN)
        assert "「DXマインド」に第5回はありません" in connector.texts_to(ADMIN.conversation_id)[-1]

        await bot.say("サーベイ 延長 業務量 2", user=ADMIN)
        said = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "「業務量」第1回の回答期限を" in said, said
        assert await closes(ids["w1"]) > deadlines[ids["w1"]]
        assert await closes(ids["m2"]) == deadlines[ids["m2"]]

        # No survey named while two run: one button per round, named as the cards name it, with the days.
        await bot.say("サーベイ 延長 3", user=ADMIN)
        card = last()
        assert "どの回ですか" in text_of(card)
        pick = {b["title"]: b["data"] for b in round_buttons(card)}
        assert set(pick) == {"DXマインド 第2回", "業務量 第1回"}
        await bot.press(pick["DXマインド 第2回"], user=ADMIN)
        said = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "「DXマインド」第2回の回答期限を" in said, said
        assert await closes(ids["m2"]) > deadlines[ids["m2"]]

        await bot.say("サーベイ 締切 業務量", user=ADMIN)
        confirm = last()
        assert "締め切りの確認" in text_of(confirm) and "業務量" in text_of(confirm)
        assert {b["data"]["round"] for b in round_buttons(confirm)} == {ids["w1"]}
        await bot.say("サーベイ 督促 DXマインド 1", user=ADMIN)  # 第1回 is closed: nothing is sent
        assert "回答受付中ではありません" in connector.texts_to(ADMIN.conversation_id)[-1]

        # The usage message says the new form.
        await bot.say("サーベイ 延長 DXマインド", user=ADMIN)
        assert "「サーベイ 延長 DXマインド 3」" in connector.texts_to(ADMIN.conversation_id)[-1]

        await bot.say("サーベイ", user=ADMIN)
        listing = text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "直近: 第2回" in listing and "直近: 第1回" in listing


async def test_response_rate_and_reminders_say_who_was_actually_reached(
    db_url: str, connector: FakeConnector
) -> None:
    from sqlalchemy import update

    from storage.models import ConversationRef

    settings = settings_for(db_url, admins=[ADMIN.email])
    clock = {"now": NOW}
    connector.numeric_ids = True  # Teams-like message ids, for read receipts
    async with running_bot(settings, connector, clock=lambda: clock["now"]) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            city = await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
            # Three of 税務課 never added the bot (or blocked it): no card can reach them.
            cut_off = city.by_section("税務課")[3:]
            await s.execute(
                update(ConversationRef)
                .where(ConversationRef.conversation_id.in_([m.chat.conversation_id for m in cut_off]))
                .values(reachable=False)
            )
        await bot.say("サーベイ 作成 DXマインド", user=ADMIN)
        async with bot.services.sessionmaker() as s:
            survey = await s.scalar(select(Survey))
            assert survey is not None, connector.texts_to(ADMIN.conversation_id)
        await bot.say(f"サーベイ 開始 {survey.id}", user=ADMIN)
        preview = connector.cards_to(ADMIN.conversation_id)[-1]
        await bot.press(preview["actions"][0]["data"], user=ADMIN)  # 開始 on the preview
        await drain(bot.services)
        async with bot.services.sessionmaker() as s:
            rnd = await s.scalar(select(SurveyRound))
            assert rnd is not None
        for m in city.by_section("総務課")[:2]:
            async with bot.services.sessionmaker() as s:
                aid = await invitation_activity(s, rnd.id, m.person_id)
            card = connector.activities[aid]["attachments"][0]["content"]
            await bot.press(
                {**card["actions"][0]["data"], **answers_for(rnd.questions, 4)}, user=m.chat, reply_to_id=aid
            )

        # 既読: of those who have not answered, one read the card, one has read receipts on but has read
        # only older messages, the other five never sent a receipt (unknown, never "unread").
        waiting = city.by_section("総務課")[2:4]
        async with bot.services.sessionmaker() as s:
            seen = await invitation_activity(s, rnd.id, waiting[0].person_id)
            unseen = await invitation_activity(s, rnd.id, waiting[1].person_id)
        for member, last_read in ((waiting[0], seen), (waiting[1], str(int(unseen) - 1))):
            receipt = activity(
                connector.url,
                user=member.chat,
                type="event",
                name="application/vnd.microsoft.readReceipt",
                value={"lastReadMessageId": last_read},
            )
            assert await bot.post(receipt) < 300

        await bot.say("回答状況", user=ADMIN)
        status = text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        # In words: answered, has the card and has not answered, never received it.
        assert '"title": "回答済み", "value": "2人"' in status
        assert '"title": "未回答(カードは届いています)", "value": "7人"' in status
        assert '"value": "既読 1人・未読 1人・既読不明 5人"' in status
        assert '"title": "未回答(カードが届いていません)", "value": "3人"' in status
        assert "督促はまだ送っていません" in status
        # Anonymous: no department of fewer than 5 people is shown on its own (none here), and the
        # card says how small groups are handled.
        assert "5人未満の部・課は単独では表示せず" in status

        clock["now"] = NOW + timedelta(hours=2)
        await bot.say("サーベイ 督促 DXマインド", user=ADMIN)
        said = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "未回答の10人のうち、ボットとのチャットがある7人に督促をお送りします" in said, said
        assert "残りの3人はボットとのチャットがないため" in said
        await drain(bot.services)
        await bot.say("回答状況", user=ADMIN)
        status = text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "7人に送信(届いた 7人・届かなかった 0人・送信中 0人)" in status, status

        # Everyone reachable answers; a reminder now has no one to reach: not sent, not counted.
        for m in [*city.by_section("総務課")[2:], *city.by_section("税務課")[:3]]:
            async with bot.services.sessionmaker() as s:
                aid = await invitation_activity(s, rnd.id, m.person_id)
            card = connector.activities[aid]["attachments"][0]["content"]
            await bot.press(
                {**card["actions"][0]["data"], **answers_for(rnd.questions, 4)}, user=m.chat, reply_to_id=aid
            )
        sent_before = len(connector.posts())
        await bot.say("サーベイ 督促 DXマインド", user=ADMIN)
        said = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "未回答の3人は、いずれもボットとのチャットがないため、督促を送れませんでした" in said, said
        await drain(bot.services)
        assert len(connector.posts()) == sent_before + 1  # only the reply to the admin
        await bot.say("回答状況", user=ADMIN)
        status = text_of(connector.cards_to(ADMIN.conversation_id)[-1])
        assert status.count("人に送信(") == 1  # still the one reminder that went out
