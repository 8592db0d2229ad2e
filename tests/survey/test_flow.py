"""What the DX division sees around a round: the start preview and its 開始 / 取消, results of the survey
named, and closing (with 取消, and one results card), through the bot's HTTP endpoint.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update

from dialogs.engines.delivery.worker import drain
from dialogs.survey import service
from dialogs.survey.jobs import tick
from storage.models import ConversationRef, Delivery, Survey, SurveyRound
from tests.cards import title
from tests.fakes.connector import FakeConnector
from tests.support import ADMIN, running_bot, settings_for
from tests.survey.helpers import build_city

SATURDAY = datetime(2026, 6, 6, 1, 0, tzinfo=UTC)  # Saturday 10:00 JST
MONDAY_9 = datetime(2026, 6, 8, 0, 0, tzinfo=UTC)  # the next business day, 9:00 JST
TUESDAY = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)  # Tuesday 10:00 JST
LAYOUT = [("総務部", "総務課", 1, 5), ("財務部", "税務課", 1, 5)]  # 12 promoters


def dump(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def last_card(connector: FakeConnector, conversation_id: str) -> tuple[str, dict[str, Any]]:
    """The newest card posted into a conversation, with its activity id (for in-place updates)."""
    for call in reversed(connector.replies()):
        body = call.body or {}
        if call.conversation_id == conversation_id and body.get("attachments"):
            return str(getattr(call, "created", "")), body["attachments"][0]["content"]
    raise AssertionError(f"no card in {conversation_id}")


def action(card: dict[str, Any], name: str, **match: Any) -> dict[str, Any]:
    for a in card.get("actions", []):
        data = a.get("data", {})
        if data.get("action") == name and all(data.get(k) == v for k, v in match.items()):
            return dict(data)
    raise AssertionError(f"no {name} button on {[a.get('title') for a in card.get('actions', [])]}")


def buttons(card: dict[str, Any]) -> list[str]:
    out = [a["title"] for a in card.get("actions", [])]
    for item in card.get("body", []):
        if item.get("type") == "ActionSet":
            out += [a["title"] for a in item["actions"]]
    return out


async def count(bot: Any, model: Any, *where: Any) -> int:
    async with bot.services.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def create(bot: Any, template: str) -> int:
    await bot.say(f"サーベイ 作成 {template}", user=ADMIN)
    async with bot.services.sessionmaker() as s:
        survey_id = await s.scalar(select(func.max(Survey.id)))
    assert survey_id
    return int(survey_id)


async def start(bot: Any, connector: FakeConnector, name: str) -> None:
    """「サーベイ 開始 <name>」 and 開始 on its preview."""
    await bot.say(f"サーベイ 開始 {name}", user=ADMIN)
    aid, preview = last_card(connector, ADMIN.conversation_id)
    await bot.press(action(preview, "survey.start"), user=ADMIN, reply_to_id=aid)


async def test_start_on_a_saturday_previews_first_and_starts_once(
    db_url: str, connector: FakeConnector
) -> None:
    settings = settings_for(db_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: SATURDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            city = await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
            # two promoters never added the bot: the preview says they will not get it
            for m in city.members[-2:]:
                await s.execute(
                    update(ConversationRef)
                    .where(ConversationRef.conversation_id == m.chat.conversation_id)
                    .values(reachable=False)
                )
        await create(bot, "DXマインド")

        await bot.say("サーベイ 開始 DXマインド", user=ADMIN)
        aid, preview = last_card(connector, ADMIN.conversation_id)
        shown = dump(preview)
        # nothing has been sent or created yet
        assert await count(bot, SurveyRound) == 0 and await count(bot, Delivery) == 0
        assert "開始の確認: DXマインド" in shown
        assert "リーダーとサブリーダー(全庁)" in shown and "12人(2課)" in shown
        assert "届かない見込み" in shown and "2人(ボットをまだ追加していない方)" in shown
        assert "本日 2026年6月6日(土) は土曜日です" in shown
        assert "2026年6月12日(金) 17:00" in shown  # 5 business days from Monday
        # the question card as recipients see it: the first mindset question and its five answers
        assert "【パルスサーベイ】DXマインド" in shown and "とてもそう思う" in shown
        assert buttons(preview) == ["開始", "翌営業日に開始(2026年6月8日(月) 9:00)", "取消"]
        assert all(a.get("associatedInputs") == "none" for a in preview["actions"])

        start_data = action(preview, "survey.start")
        await bot.press(start_data, user=ADMIN, reply_to_id=aid)
        done = dump(connector.activities[aid]["attachments"][0]["content"])
        assert "「DXマインド 第1回」を開始しました" in done and "12人にご案内" in done
        assert await count(bot, SurveyRound, SurveyRound.status == "open") == 1
        invitations = await count(bot, Delivery, Delivery.kind == "survey")
        assert invitations == 12

        # the same 開始 again (a second click, a replayed request): no second round, and it says so
        await bot.press(start_data, user=ADMIN)
        assert "すでに使われています" in connector.texts_to(ADMIN.conversation_id)[-1]
        assert await count(bot, SurveyRound) == 1
        assert await count(bot, Delivery, Delivery.kind == "survey") == invitations


async def test_cancel_sends_nothing_and_a_cancelled_preview_cannot_start(
    sqlite_url: str, connector: FakeConnector
) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: TUESDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        survey_id = await create(bot, "DXマインド")
        await bot.say("サーベイ 開始", user=ADMIN)  # no survey named: which one?
        _, which = last_card(connector, ADMIN.conversation_id)
        assert "どのサーベイですか" in dump(which) and buttons(which) == [f"{survey_id}. DXマインド"]
        await bot.press({"action": "survey.open", "survey": survey_id}, user=ADMIN)
        aid, preview = last_card(connector, ADMIN.conversation_id)
        assert "土曜日" not in dump(preview) and len(preview["actions"]) == 2  # a business day: no warning
        await bot.press(action(preview, "survey.start.cancel"), user=ADMIN, reply_to_id=aid)
        assert "開始を取り消しました" in dump(connector.activities[aid]["attachments"][0]["content"])
        assert "どなたにも送信していません" in dump(connector.activities[aid]["attachments"][0]["content"])

        await bot.press(action(preview, "survey.start"), user=ADMIN)
        assert "取り消し済みか期限切れ" in connector.texts_to(ADMIN.conversation_id)[-1]
        assert await count(bot, SurveyRound) == 0 and await count(bot, Delivery) == 0


async def test_a_stale_preview_does_not_start_a_second_round(
    sqlite_url: str, connector: FakeConnector
) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: TUESDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        await create(bot, "DXマインド")
        await bot.say("サーベイ 開始 DXマインド", user=ADMIN)
        _, first = last_card(connector, ADMIN.conversation_id)
        await bot.say("サーベイ 開始 DXマインド", user=ADMIN)
        _, second = last_card(connector, ADMIN.conversation_id)
        await bot.press(action(second, "survey.start"), user=ADMIN)
        await bot.press(action(first, "survey.start"), user=ADMIN)
        assert "開始しませんでした" in connector.texts_to(ADMIN.conversation_id)[-1]
        assert await count(bot, SurveyRound) == 1


async def test_next_business_day_button_opens_on_monday(sqlite_url: str, connector: FakeConnector) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    clock = {"now": SATURDAY}
    async with running_bot(settings, connector, clock=lambda: clock["now"]) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        await create(bot, "DXマインド")
        await bot.say("サーベイ 開始 DXマインド", user=ADMIN)
        aid, preview = last_card(connector, ADMIN.conversation_id)
        await bot.press(
            action(preview, "survey.start", when="next_business_day"), user=ADMIN, reply_to_id=aid
        )
        assert "2026年6月8日(月) 9:00 に開始" in dump(connector.activities[aid]["attachments"][0]["content"])
        assert await count(bot, Delivery) == 0
        assert await count(bot, SurveyRound, SurveyRound.status == "scheduled") == 1
        clock["now"] = MONDAY_9
        report = await tick(bot.services, MONDAY_9)
        assert len(report.opened) == 1 and await count(bot, Delivery, Delivery.kind == "survey") == 12


async def _close(bot: Any, survey_id: int) -> None:
    async with bot.services.sessionmaker() as s, s.begin():
        rnd = await service.latest_round(s, survey_id, ("open",))
        assert rnd is not None
        assert await service.close_round(s, rnd, TUESDAY, bot.services.settings)


async def test_results_of_the_survey_named(sqlite_url: str, connector: FakeConnector) -> None:
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: TUESDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        mindset = await create(bot, "DXマインド")
        tools = await create(bot, "ツール活用")
        await start(bot, connector, "DXマインド")
        await _close(bot, mindset)
        await start(bot, connector, "ツール活用")
        await _close(bot, tools)  # closed last: the one a bare 「結果」 used to show for every name
        await start(bot, connector, "DXマインド")  # 第2回, running

        await bot.say("サーベイ 結果 DXマインド", user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        heading = title(card)
        assert heading.startswith("結果: DXマインド 第1回(2026年6月2日(火)〜"), heading
        assert "ツール活用" not in dump(card)
        async with bot.services.sessionmaker() as s:
            running = await service.latest_round(s, mindset, ("open",))
        assert running is not None
        assert action(card, "survey.status")["round"] == running.id  # the running round's 回答状況
        assert "「DXマインド 第2回」を実施中です" in dump(card)

        # A round named as the cards name it: 第1回 is shown, the running 第2回 is not closed yet.
        await bot.say("サーベイ 結果 DXマインド 第1回", user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        assert card["body"][0]["text"].startswith("結果: DXマインド 第1回")
        await bot.say("サーベイ 結果 DXマインド 2", user=ADMIN)
        said = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "「DXマインド 第2回」はまだ締め切っていません" in said, said

        await bot.say("サーベイ 結果 ツール", user=ADMIN)  # a part of the name
        _, card = last_card(connector, ADMIN.conversation_id)
        assert title(card).startswith("結果: ツール活用 第1回")

        await bot.say("サーベイ 結果", user=ADMIN)  # two surveys: which one?
        _, card = last_card(connector, ADMIN.conversation_id)
        assert "どのサーベイですか" in dump(card)
        assert buttons(card) == [f"{mindset}. DXマインド", f"{tools}. ツール活用"]
        await bot.press({"action": "survey.results", "survey": tools}, user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        assert title(card).startswith("結果: ツール活用 第1回")

        await bot.say("サーベイ 結果 防災訓練", user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        assert "「防災訓練」というサーベイは見つかりませんでした" in dump(card)
        assert len(buttons(card)) == 2


async def test_close_has_cancel_and_posts_one_results_card(db_url: str, connector: FakeConnector) -> None:
    settings = settings_for(db_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: TUESDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        survey_id = await create(bot, "DXマインド")
        await start(bot, connector, "DXマインド")
        await drain(bot.services)  # the invitations are out before the round closes
        async with bot.services.sessionmaker() as s:
            rnd = await service.latest_round(s, survey_id)
        assert rnd is not None

        await bot.say("サーベイ 締切 DXマインド", user=ADMIN)
        aid, confirm = last_card(connector, ADMIN.conversation_id)
        assert buttons(confirm) == ["締め切る", "取消"]
        await bot.press(action(confirm, "survey.close.cancel"), user=ADMIN, reply_to_id=aid)
        assert "引き続き回答を受け付けます" in dump(connector.activities[aid]["attachments"][0]["content"])
        assert await count(bot, SurveyRound, SurveyRound.status == "open") == 1

        await bot.say("サーベイ 締切 DXマインド", user=ADMIN)
        aid, confirm = last_card(connector, ADMIN.conversation_id)
        await bot.press(action(confirm, "survey.close"), user=ADMIN, reply_to_id=aid)
        await drain(bot.services)
        assert "「DXマインド 第1回」を締め切りました" in dump(
            connector.activities[aid]["attachments"][0]["content"]
        )
        results = [c for c in connector.cards_to(ADMIN.conversation_id) if "結果: DXマインド" in dump(c)]
        assert len(results) == 1, f"{len(results)} results cards"


def test_the_mindset_card_asks_with_labelled_drop_downs() -> None:
    from dialogs.survey.questions import card_inputs, parse_questions
    from dialogs.survey.templates import TEMPLATES

    questions = parse_questions(TEMPLATES["mindset"].questions())
    scales = [q for q in questions if q.type == "scale5"]
    assert len(scales) == 8
    for number, q in enumerate(scales, start=1):
        (element,) = card_inputs(q, "ja", number)
        assert element["style"] == "compact", "five radio buttons per question made the card ~2,000 px tall"
        assert element["label"].startswith(f"{number}. ") and element["isRequired"]
        assert (
            element["errorMessage"] == "この質問は必須です。" and element["placeholder"] == "選んでください"
        )
        assert [c["title"] for c in element["choices"]][0] == "5 とてもそう思う"


async def test_closing_from_elsewhere_shows_the_card_here_once_and_posts_it_once(
    sqlite_url: str, connector: FakeConnector
) -> None:
    """Results go to the DX group chat (「サーベイ 結果送信先」); an admin closing from her own chat sees the
    card there, and the group chat gets it once too."""
    group = "19:dx-division@thread.v2"
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: TUESDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        await bot.say("サーベイ 結果送信先", user=ADMIN, conversation_id=group, conversation_type="groupChat")
        assert "この会話にお送りします" in connector.texts_to(group)[-1]
        survey_id = await create(bot, "DXマインド")
        await start(bot, connector, "DXマインド")
        await drain(bot.services)
        async with bot.services.sessionmaker() as s:
            rnd = await service.latest_round(s, survey_id)
        assert rnd is not None
        await bot.say("サーベイ 締切 DXマインド", user=ADMIN)
        aid, confirm = last_card(connector, ADMIN.conversation_id)
        await bot.press(action(confirm, "survey.close"), user=ADMIN, reply_to_id=aid)
        await drain(bot.services)
        # the confirmation turned into what happened, with no button left to press twice
        decided = connector.activities[aid]["attachments"][0]["content"]
        assert "actions" not in decided
        assert "結果カードはDX推進課の結果送信先にもお送りします" in dump(decided)
        for conversation in (ADMIN.conversation_id, group):
            results = [c for c in connector.cards_to(conversation) if "結果: DXマインド" in dump(c)]
            assert len(results) == 1, (conversation, len(results))


async def test_choosing_among_surveys_keeps_what_was_typed_after_the_name(
    sqlite_url: str, connector: FakeConnector
) -> None:
    """「サーベイ 開始 DX 3」 matches two surveys: the button pressed still opens for 3 business days;
    「回答状況 DXマインド 1」 on two DXマインド surveys: the button shows that survey's 第1回."""
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=lambda: TUESDAY) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            await build_city(s, connector.url, date(2026, 4, 1), LAYOUT)
        first = await create(bot, "DXマインド")
        second = await create(bot, "DXマインド")

        await bot.say("サーベイ 開始 DX 3", user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        assert "当てはまるサーベイが複数あります" in dump(card)
        assert buttons(card) == [f"{first}. DXマインド", f"{second}. DXマインド"]
        choice = next(
            a["data"] for item in card["body"] if item.get("type") == "ActionSet" for a in item["actions"]
        )
        await bot.press(choice, user=ADMIN)
        aid, preview = last_card(connector, ADMIN.conversation_id)
        assert "開始の確認" in dump(preview)
        await bot.press(action(preview, "survey.start"), user=ADMIN, reply_to_id=aid)
        async with bot.services.sessionmaker() as s:
            rnd = await service.latest_round(s, first)
        assert rnd is not None and rnd.status == "open"
        # 3 business days from Tuesday 6/2: Thursday 6/4 17:00 JST (the default 5 would be Monday 6/8)
        assert rnd.closes_at.replace(tzinfo=UTC) == datetime(2026, 6, 4, 8, 0, tzinfo=UTC)

        await bot.say("回答状況 DXマインド 1", user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        assert "当てはまるサーベイが複数あります" in dump(card)
        choice = next(
            a["data"] for item in card["body"] if item.get("type") == "ActionSet" for a in item["actions"]
        )
        assert choice["survey"] == first and choice["number"] == 1
        await bot.press(choice, user=ADMIN)
        _, card = last_card(connector, ADMIN.conversation_id)
        assert action(card, "survey.status")["round"] == rnd.id
