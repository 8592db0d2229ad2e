"""Driver steps several e2e tests take the same way (see e2e/driver.mjs for what a step is)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dialogs.kit.i18n import t


def compose_to_leaders(
    loc: str, title: str, body: str, deadline: str, *, on_open: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The admin opens 「お知らせ」 and fills the form: title, body, audience 各課のリーダー, a confirmation
    deadline (ISO date). ``on_open`` runs once the empty form shows (a screenshot, say). The steps stop
    before 確認 (preview), so a test can add more fields."""
    compose = t("announce.compose.title", loc)
    return [
        {"as": "admin", "send": "お知らせ"},
        {"as": "admin", "expect": {"card": True, "text": compose, "timeout": 30000}},
        *on_open,
        {"as": "admin", "fill": {"field": t("announce.field.title", loc), "value": title}, "card": compose},
        {"as": "admin", "fill": {"field": t("announce.field.body", loc), "value": body}, "card": compose},
        {
            "as": "admin",
            "choose": {
                "field": t("announce.field.audience", loc),
                "option": t("announce.audience.leaders", loc),
            },
            "card": compose,
        },
        {
            "as": "admin",
            "fill": {"field": t("announce.field.deadline", loc), "value": deadline},
            "card": compose,
        },
    ]
