"""The leader asks a question in the Agents Playground, reads the answer card and presses 「役に立った」;
the feedback is stored with the question. Screenshots stay in test-artifacts/e2e/<test name>/."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select

from dialogs.kit.i18n import t
from storage.db import make_engine, make_sessionmaker
from storage.models import Feedback
from tests.e2e.conftest import BotServer, DriveResult

QUESTION = "Teams会議を録画するにはどうすればいいですか"


def _feedback(database_url: str) -> list[tuple[str, bool, str]]:
    async def read() -> list[tuple[str, bool, str]]:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                rows = await s.scalars(select(Feedback).order_by(Feedback.id))
                return [(r.entry_key, r.helpful, r.query) for r in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_leader_asks_reads_the_answer_and_finds_it_helpful(
    drive: Callable[..., DriveResult], e2e_bot: BotServer
) -> None:
    leader = "leader@demo-city.example.jp"
    asked = drive(
        [
            {"chat": "Personal Chat"},
            {"send": QUESTION},
            {"expect": {"card": True, "text": "録画", "timeout": 30000}},
            {"screenshot": "answer-card", "card": "録画"},
        ],
        user=leader,
    )
    answer = asked.bot_cards()[-1]
    assert "録画" in answer.text, answer.text
    # The bot answers in the language the client sends (the playground says en-US, Teams ja-JP).
    locale = "ja" if t("qa.answer.label", "ja") in answer.text else "en"
    helpful, thanks = t("qa.answer.helpful", locale), t("qa.answer.thanks_helpful", locale)[:12]
    assert helpful in answer.buttons and t("qa.answer.not_helpful", locale) in answer.buttons

    # A new page does not show the earlier conversation, so the press happens in a run of its own.
    pressed = drive(
        [
            {"chat": "Personal Chat"},
            {"send": QUESTION},
            {"expect": {"card": True, "text": "録画", "timeout": 30000}},
            {"click": helpful, "card": "録画"},
            {"expect": {"text": thanks, "anywhere": True, "timeout": 30000}},
            {"screenshot": "after-feedback", "card": thanks},
        ],
        user=leader,
    )
    updated = [c for c in pressed.bot_cards() if thanks in c.text]
    assert updated and "録画" in updated[-1].text  # the same card, updated in place
    assert helpful not in updated[-1].buttons

    stored = [f for f in _feedback(e2e_bot.database_url) if f[2] == QUESTION]
    assert len(stored) == 1 and stored[0][1] is True, stored
