"""Question answering for DX promoters: knowledge base files and the embedded Japanese search.

The feature around the search (``dialogs.qa.search``) and the files (``dialogs.qa.kbfile``):

- answers.py      free text → answer card or 「見つかりませんでした」, feedback, related questions
- small_talk.py   「ありがとう」「おはようございます」 recognised, so they get a friendly line
- tickets.py      「DX推進課に質問する」 → the inquiry channel, states, answers back, reminders
- ticket_lists.py 「問い合わせ一覧」 (DX division) and 「自分の問い合わせ」 (the asker)
- suggestions.py  デジタル目安箱 (no identity stored)
- admin.py        FAQ追加 / FAQ編集 / FAQ削除 / FAQ一覧 / 同義語
- service.py      the per-process search index, rebuilt when the database version moves on
- store.py        the knowledge base tables;  outbox.py  where proactive messages go
- cli.py          dxbot faq import / export / search;  seed.py  the starter knowledge base

Importing the package stays light (the search library imports it too): ``feature()`` imports the
modules with routes and joins their routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dialogs.kit.feature import Feature

if TYPE_CHECKING:
    from dialogs.qa.answers import AnswerSource


def feature(answer_sources: Sequence[AnswerSource] = ()) -> Feature:
    """``answer_sources``: other features' results for a free-text question, each shown as its own card
    after the answer (the improvement cases); the composition root passes what features offer."""
    from bot.api import Job, Services
    from dialogs.kit.router import Router
    from dialogs.qa import admin, answers, learning, suggestions, ticket_lists, tickets
    from dialogs.qa.cli import register
    from dialogs.qa.outbox import KIND
    from dialogs.qa.seed import seed_demo
    from dialogs.qa.service import on_startup, poll_versions

    async def startup(services: Services) -> None:
        answers.use_answer_sources(services, answer_sources)
        await on_startup(services)

    router = Router("qa").include(
        answers.router, learning.router, tickets.router, ticket_lists.router, suggestions.router, admin.router
    )
    return Feature(
        "qa",
        router,
        startup=startup,
        jobs=[Job("qa.index", poll_versions), Job("qa.housekeeping", tickets.run_housekeeping)],
        cli=register,
        seed_demo=seed_demo,
        # Given to the delivery engine by the composition root, so a separate `dxbot delivery worker`
        # process reports too.
        progress={KIND: tickets.on_delivery_progress},
    )
