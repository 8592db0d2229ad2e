"""Improvement cases (改善事例): a section's promoter submits what they improved and how many hours a
month it saves; the DX division publishes or sends it back; everyone can find published cases; the
hours add up per section, department, tool and fiscal year.

Teams: 「事例登録」, 「自分の事例」 (promoters), 「事例審査」, 「事例集計」, 「事例ダイジェスト」 (DX division),
「事例 RPA」 (anyone). Recognition (表彰): 「表彰開始 2026Q3」, 「表彰状況」, 「表彰締切」 (DX division),
「表彰投票」 (promoters: one vote each, not for their own section; nobody sees who voted). CLI: ``dxbot cases import FILE.xlsx`` for cases collected before the bot.
"""

from __future__ import annotations

from typing import Any

from dialogs.kit.feature import Feature


async def related_cases(turn: Any, question: str, answered: bool) -> dict[str, Any] | None:
    """For the QA search: published cases for a free-text question, as a card of cases (or None)."""
    from dialogs.cases import handlers

    return await handlers.related_cases_card(turn, question, answered)


def feature() -> Feature:
    from dialogs.cases import handlers, recognition_handlers
    from dialogs.cases.cli import register_cli
    from dialogs.cases.demo import seed_demo
    from dialogs.kit.router import Router

    return Feature(
        "cases",
        Router("cases").include(handlers.router, recognition_handlers.router),
        cli=register_cli,
        seed_demo=seed_demo,
        answer_sources=[related_cases],  # free text also finds improvement cases, shown as cases
    )
