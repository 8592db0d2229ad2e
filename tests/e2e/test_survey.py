"""A pulse survey round in the Agents Playground: the DX admin (佐藤 花子) creates 業務量 from its
template and opens a round; 「回答状況」 shows nobody has answered; the leader (鈴木 一郎, 総務課)
receives the invitation card, fills in its number inputs, the 0–10 drop-down, the checkboxes and the
free text, and sends it; the card turns into 回答済み; 「回答状況」 now counts one respondent more.

The invitation is in the city's language (DXBOT_LOCALE, Japanese). The admin's replies follow her
client's language, which the playground always labels en-US (see e2e/README.md): the test reads that
language off her first card, so it holds whichever way the bot reads it. Texts come from the catalogs.
Screenshots stay in test-artifacts/e2e/<test name>/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.settings import Settings
from dialogs.kit.i18n import t
from dialogs.survey import envelope
from storage.db import make_engine, make_sessionmaker
from storage.models import SurveyAnswerValue, SurveyRecipient, SurveyResponse, SurveyRound
from tests.e2e.conftest import BotServer, Card, DriveResult

ADMIN = "dx-admin@demo-city.example.jp"
LEADER = "leader@demo-city.example.jp"
SURVEY = "業務量"  # the built-in template, as a DX admin types it
CITY = "ja"  # DXBOT_LOCALE of the e2e bot: the invitation's language

# What the leader enters, by (a part of) each question's label on the card.
NONCORE, NONCORE_VALUE = "ノンコア業務", "30"
MANUAL, MANUAL_VALUE = "紙の書類や手作業", "4"
BUSY, BUSY_OPTION = "業務量の負担感", "7"
TARGETS, TARGET_OPTIONS = "減らせそうな作業", ("決裁・押印", "転記・集計")
COMMENT, COMMENT_VALUE = "減らしたい作業の具体例", "住民票の写しの交付申請を紙から電子申請に移したいです。"


def _locale(text: str, key: str) -> str:
    """The language the bot answered the admin in."""
    return "ja" if t(key, "ja").split("{")[0] in text else "en"


def _pattern(key: str, locale: str, **known: Any) -> re.Pattern[str]:
    """The catalog text of ``key`` with the ``known`` values filled in and any other placeholder free."""
    parts = re.split(r"\{(\w+)\}", t(key, locale))
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else re.escape(str(known[part])) if part in known else ".+?"
            for i, part in enumerate(parts)
        )
    )


def _rate(card: Card) -> tuple[int, int]:
    """(respondents, invited) from the response-rate line of a 回答状況 card, e.g. 「回答率 1% (1/100)」."""
    label = next(
        w for w in (t("survey.results.rate", "ja"), t("survey.results.rate", "en")) if w in card.text
    )
    m = re.search(re.escape(label) + r"\s*\d+%\s*\((\d+)/(\d+)\)", card.text)
    assert m, f"no response rate on the card: {card.text!r}"
    return int(m.group(1)), int(m.group(2))


def _department(card: Card, name: str) -> tuple[int, int]:
    """(respondents, invited) of one department on a 回答状況 card."""
    m = re.search(re.escape(name) + r"\s*\d+%\s*\((\d+)/(\d+)\)", card.text)
    assert m, f"no figure for {name} on the card: {card.text!r}"
    return int(m.group(1)), int(m.group(2))


def _assert_png(run: DriveResult, name: str) -> None:
    shot = run.artifacts / f"{name}.png"
    assert shot in run.screenshots and shot.exists(), f"no screenshot {shot}"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"{shot} is not a real screenshot"


def _stored(database_url: str, survey_id: int) -> dict[str, Any]:
    """The round's tracking rows and answers, as the bot stored them."""

    async def read() -> dict[str, Any]:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                rnd = await s.scalar(select(SurveyRound).where(SurveyRound.survey_id == survey_id))
                assert rnd is not None, f"no round of survey {survey_id}"
                responded = (
                    await s.scalars(
                        select(SurveyRecipient.person_id).where(
                            SurveyRecipient.round_id == rnd.id, SurveyRecipient.responded.is_(True)
                        )
                    )
                ).all()
                responses = (
                    await s.scalars(select(SurveyResponse).where(SurveyResponse.round_id == rnd.id))
                ).all()
                values: dict[str, list[Any]] = {}
                # While fewer than k have answered, an anonymous answer's values are sealed (PRIVACY.md):
                # what the page sent is read back with the bot's key, the table holds nothing yet.
                sealed = [
                    envelope.seal_open(Settings().secret_key, r.held).get("v", {})
                    for r in responses
                    if r.held
                ]
                for r in responses:
                    rows = await s.scalars(
                        select(SurveyAnswerValue)
                        .where(SurveyAnswerValue.response_id == r.id)
                        .order_by(SurveyAnswerValue.question_key, SurveyAnswerValue.seq)
                    )
                    for v in rows:
                        values.setdefault(v.question_key, []).append(
                            v.num if v.num is not None else v.choice if v.choice is not None else v.text
                        )
                return {
                    "status": rnd.status,
                    "anonymous": rnd.anonymous,
                    "responded": list(responded),
                    "people": [r.person_id for r in responses],
                    "values": values,
                    "sealed": sealed,
                }
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_leader_answers_the_invitation_admin_sees_the_rate_change(
    drive: Callable[..., DriveResult], e2e_bot: BotServer
) -> None:
    # The leader talks to the bot first (that is how the bot can reach him); the admin creates the
    # survey from its template.
    created = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},
            {"as": "admin", "chat": "Personal Chat"},
            {"as": "leader", "send": "ヘルプ"},
            {"as": "leader", "expect": {"card": True, "timeout": 30000}},
            {"as": "admin", "send": f"サーベイ 作成 {SURVEY}"},
            {"as": "admin", "expect": {"card": True, "text": SURVEY, "timeout": 30000}},
            {"as": "admin", "screenshot": "created", "card": SURVEY},
        ],
        users={"admin": ADMIN, "leader": LEADER},
    )
    card = [c for c in created.bot_cards("admin") if SURVEY in c.text][-1]
    loc = _locale(card.title + card.text, "survey.created.title")
    m = re.search(r"(?:番号|number) (\d+)", card.title)
    assert m, f"the created card names no survey number: {card.title!r}"
    survey_id = int(m.group(1))
    assert card.title == t("survey.created.title", loc, title=SURVEY, id=survey_id), card.title

    invitation = t("survey.card.title", CITY, title=SURVEY, label="")[:-2]  # 【パルスサーベイ】業務量
    status = t("survey.status.title", loc, title=SURVEY, label="").rstrip("() （）")
    answered = t("survey.card.answered", CITY)
    invite = {"as": "leader", "expect": {"card": True, "text": invitation, "timeout": 90000}}
    preview = t("survey.preview.title", loc, title=SURVEY)
    started = t("survey.start.done_title", loc)
    steps: list[dict[str, Any]] = [
        # the leader's tab is open before the invitation is sent: the playground shows only
        # what arrives while a tab is open
        {"as": "leader", "chat": "Personal Chat"},
        {"as": "admin", "chat": "Personal Chat"},
        {"as": "admin", "send": f"サーベイ 開始 {survey_id}"},
        # a preview first (who, how many, the card as recipients see it); 開始 on it opens the round
        {"as": "admin", "expect": {"card": True, "text": preview, "timeout": 30000}},
        {"as": "admin", "click": t("survey.preview.start", loc), "card": preview},
        {"as": "admin", "expect": {"text": started, "anywhere": True, "timeout": 30000}},
        {"as": "admin", "send": "回答状況"},
        {"as": "admin", "expect": {"card": True, "text": status, "timeout": 30000}},
        {"as": "admin", "screenshot": "status-before", "card": status},
        invite,  # the delivery engine's worker brings the invitation
        {"as": "leader", "screenshot": "invitation", "card": NONCORE},
        # A typed number is kept when the field loses focus to a click, as it does for a person;
        # two fills in a row (focus moved by script) lose the first on the card's next re-render.
        # So every number is followed by a click on another input.
        {"as": "leader", "fill": {"field": NONCORE, "value": NONCORE_VALUE}, "card": NONCORE},
        {"as": "leader", "choose": {"field": BUSY, "option": BUSY_OPTION}, "card": NONCORE},
        {"as": "leader", "fill": {"field": MANUAL, "value": MANUAL_VALUE}, "card": NONCORE},
        # The multi-select's checkboxes are named "<question> <option>" in this renderer, so they
        # are ticked by (a part of) their name.
        *[
            {"as": "leader", "toggle": {"title": option, "on": True}, "card": NONCORE}
            for option in TARGET_OPTIONS
        ],
        {"as": "leader", "fill": {"field": COMMENT, "value": COMMENT_VALUE}, "card": NONCORE},
        {"as": "leader", "screenshot": "filled", "card": NONCORE},
        {"as": "leader", "click": t("survey.card.submit", CITY), "card": NONCORE},
        {"as": "leader", "expect": {"text": answered, "anywhere": True, "timeout": 30000}},
        {"as": "leader", "screenshot": "answered", "card": answered},
        {"as": "leader", "screenshot": "leader-chat"},
        {"as": "admin", "send": "回答状況"},
        {"as": "admin", "expect": {"card": True, "text": status, "timeout": 30000}},
        {"as": "admin", "screenshot": "status-after", "card": status},
    ]
    run = drive(steps, users={"admin": ADMIN, "leader": LEADER}, timeout=480)

    # The admin: the round opened, and the live response rate went up by one respondent.
    rates = [c for c in run.bot_cards("admin") if status in c.title]
    assert len(rates) == 2, [c.title for c in run.bot_cards("admin")]
    (before, invited), (after, invited_after) = _rate(rates[0]), _rate(rates[1])
    assert invited == invited_after and invited >= 2, (rates[0].text, rates[1].text)
    opened = [c.text for c in run.bot_cards("admin") if started in c.text]
    assert opened and _pattern("survey.open.done", loc, invited=invited).search(opened[0]), opened
    assert after == before + 1, f"response rate did not go up by one: {before}/{invited} → {after}/{invited}"
    assert f"({after}/{invited})" in rates[1].text
    assert f"{after * 100 / invited:.0f}%" in rates[1].text, rates[1].text
    # 総務課 (the leader's section) is in 総務部: the department's figure counts him too
    dept = [_department(c, "総務部") for c in rates]
    assert dept[1] == (dept[0][0] + 1, dept[0][1]), dept

    # The leader: the invitation (as it arrived, before he answered; the card is replaced in place)
    # showed every question in Japanese with its inputs rendered: two numbers, the 0–10 drop-down,
    # seven checkboxes, a text area.
    arrived = run.results[steps.index(invite)]["cards"][-1]
    for label in (NONCORE, MANUAL, BUSY, TARGETS, COMMENT, t("survey.card.deadline", CITY)):
        assert label in arrived["text"], (label, arrived["text"])
    kinds = [i["type"] for i in arrived["inputs"]]
    assert kinds.count("checkbox") == 7 and kinds.count("textarea") == 1, arrived["inputs"]
    placeholders = [i["placeholder"] for i in arrived["inputs"]]
    assert {"0〜100%", "0〜60時間", t("survey.card.choose", CITY)} <= set(placeholders), placeholders
    assert t("survey.card.submit", CITY) in arrived["buttons"], arrived["buttons"]
    # The card he answered on turned into 回答済み with 回答を修正; nothing of the form is left on it.
    done = [c for c in run.bot_cards("leader") if answered in c.text]
    assert done, [c.text for c in run.bot_cards("leader")]
    assert done[-1].title.startswith(invitation), done[-1].title
    assert t("survey.card.edit", CITY) in done[-1].buttons, done[-1].buttons
    assert t("survey.card.submit", CITY) not in done[-1].buttons and not done[-1].inputs
    assert NONCORE not in done[-1].text

    # What the page sent is what the bot stored: one answer, with no link to the leader (anonymous).
    stored = _stored(e2e_bot.database_url, survey_id)
    assert stored["status"] == "open" and stored["anonymous"] is True, stored
    assert len(stored["responded"]) == after and stored["people"] == [None] * after, stored
    assert stored["values"] == {}, "an anonymous answer's values were readable with one respondent"
    (values,) = stored["sealed"]
    assert values["w_noncore"] == float(NONCORE_VALUE) and values["w_manual_hours"] == float(MANUAL_VALUE)
    assert values["w_busy"] == float(BUSY_OPTION)
    assert values["w_targets"] == ["approval", "transcribe"], values
    assert values["w_comment"] == COMMENT_VALUE, values

    _assert_png(created, "created")
    for name in ("status-before", "invitation", "filled", "answered", "leader-chat", "status-after"):
        _assert_png(run, name)
