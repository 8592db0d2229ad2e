"""Starting a survey round in the Agents Playground: the DX admin (佐藤 花子) creates DXマインド and sends
「サーベイ 開始」; a preview comes first (audience, how many get it, the card as recipients see it, 開始 /
取消); nothing is sent until she presses 開始; then the leader (鈴木 一郎) receives the invitation, whose
eight five-point questions are labelled drop-downs (the card used to be about 2,000 px tall).

The admin's words follow her client's language (the playground says en-US, see e2e/README.md); the test
reads it off her first card. Screenshots stay in test-artifacts/e2e/<test name>/.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dialogs.kit.i18n import t
from storage.db import make_engine, make_sessionmaker
from storage.models import SurveyRecipient, SurveyRound
from tests.e2e.conftest import BotServer, DriveResult

ADMIN = "dx-admin@demo-city.example.jp"
LEADER = "leader@demo-city.example.jp"
SURVEY = "DXマインド"
CITY = "ja"  # DXBOT_LOCALE of the e2e bot: the invitation's language
FIRST_QUESTION = "DXを自分ごととして捉えている"
# The invitation card was ~2,000 px tall with five radio buttons per question (1,972 px, 446 px wide, in
# the playground before the change); with drop-downs it must fit in well under that.
MAX_CARD_HEIGHT = 1300


def _locale(text: str, key: str) -> str:
    return "ja" if t(key, "ja").split("{")[0] in text else "en"


def _png_height(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"{path} is not a real screenshot"
    return int(struct.unpack(">I", data[20:24])[0])


def _rounds(database_url: str, survey_id: int) -> list[tuple[str, int, int]]:
    """(status, invited, tracking rows) of every round of the survey."""

    async def read() -> list[tuple[str, int, int]]:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                rounds = (
                    await s.scalars(select(SurveyRound).where(SurveyRound.survey_id == survey_id))
                ).all()
                out = []
                for r in rounds:
                    n = await s.scalar(
                        select(func.count())
                        .select_from(SurveyRecipient)
                        .where(SurveyRecipient.round_id == r.id)
                    )
                    out.append((r.status, r.invited, int(n or 0)))
                return out
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_admin_sees_the_preview_then_starts_and_the_leader_gets_a_compact_card(
    drive: Callable[..., DriveResult], e2e_bot: BotServer
) -> None:
    created = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},
            {"as": "admin", "chat": "Personal Chat"},
            {"as": "leader", "send": "ヘルプ"},
            {"as": "leader", "expect": {"card": True, "timeout": 30000}},
            {"as": "admin", "send": f"サーベイ 作成 {SURVEY}"},
            {"as": "admin", "expect": {"card": True, "text": SURVEY, "timeout": 30000}},
        ],
        users={"admin": ADMIN, "leader": LEADER},
    )
    card = [c for c in created.bot_cards("admin") if SURVEY in c.text][-1]
    loc = _locale(card.title + card.text, "survey.created.title")
    m = re.search(r"(?:番号|number) (\d+)", card.title)
    assert m, card.title
    survey_id = int(m.group(1))

    preview_title = t("survey.preview.title", loc, title=SURVEY)
    started = t("survey.start.done_title", loc)
    invitation = t("survey.card.title", CITY, title=SURVEY, label="")[:-2]  # 【パルスサーベイ】DXマインド
    preview_step = {"as": "admin", "expect": {"card": True, "text": preview_title, "timeout": 30000}}
    invite = {"as": "leader", "expect": {"card": True, "text": invitation, "timeout": 90000}}
    steps: list[dict[str, Any]] = [
        {"as": "leader", "chat": "Personal Chat"},
        {"as": "admin", "chat": "Personal Chat"},
        {"as": "admin", "send": f"サーベイ 開始 {survey_id}"},
        preview_step,
        {"as": "admin", "screenshot": "preview", "card": preview_title},
        {"as": "leader", "wait": 3000},
        {"as": "leader", "snapshot": "before-start"},
        {"as": "admin", "click": t("survey.preview.start", loc), "card": preview_title},
        {"as": "admin", "expect": {"text": started, "anywhere": True, "timeout": 30000}},
        {"as": "admin", "screenshot": "started", "card": started},
        invite,
        {"as": "leader", "screenshot": "invitation", "card": FIRST_QUESTION},
        {"as": "leader", "choose": {"field": FIRST_QUESTION, "option": "4 " + t("survey.scale5.4", CITY)}, "card": FIRST_QUESTION},
        {"as": "leader", "screenshot": "invitation-chosen", "card": FIRST_QUESTION},
    ]  # fmt: skip
    run = drive(steps, users={"admin": ADMIN, "leader": LEADER}, timeout=480)

    # The preview: who, how many, the card as the leader will see it, and the two buttons.
    preview = run.results[steps.index(preview_step)]["cards"][-1]
    text = preview["text"]
    for key in ("survey.preview.audience", "survey.preview.count", "survey.card.deadline"):
        assert t(key, loc) in text, (key, text)
    assert invitation in text and FIRST_QUESTION in text, text
    assert t("survey.preview.start", loc) in preview["buttons"], preview["buttons"]
    assert t("survey.preview.cancel", loc) in preview["buttons"], preview["buttons"]
    count = re.search(r"(\d+)(?:人| people)", text.split(t("survey.preview.count", loc), 1)[1])
    assert count, text
    previewed = int(count.group(1))

    # Nothing was sent while the preview was open: the invitation came only after 開始.
    waiting = run.results[steps.index({"as": "leader", "snapshot": "before-start"})]["messages"]
    assert not [m for m in waiting if invitation in m["text"]], waiting
    rounds = _rounds(e2e_bot.database_url, survey_id)
    assert len(rounds) == 1, rounds
    status, invited, tracked = rounds[0]
    assert status == "open" and invited == tracked == previewed, (rounds, previewed)
    done = [c for c in run.bot_cards("admin") if started in c.title or started in c.text]
    assert done and str(previewed) in done[-1].text, [c.text for c in run.bot_cards("admin")]
    assert t("survey.preview.start", loc) not in done[-1].buttons  # the preview cannot be pressed again

    # The leader's card: eight labelled drop-downs instead of forty radio buttons.
    arrived = run.results[steps.index(invite)]["cards"][-1]
    kinds = [i["type"] for i in arrived["inputs"]]
    assert "radio" not in kinds, kinds
    choose = t("survey.card.choose", CITY)
    assert sum(1 for i in arrived["inputs"] if i.get("placeholder") == choose) >= 8, arrived["inputs"]
    height = _png_height(run.artifacts / "invitation.png")
    print(f"invitation card height: {height} px")  # noqa: T201 - reported with -s
    assert height < MAX_CARD_HEIGHT, f"the invitation card is {height} px tall"
    for name in ("preview", "started", "invitation", "invitation-chosen"):
        assert (run.artifacts / f"{name}.png") in run.screenshots
