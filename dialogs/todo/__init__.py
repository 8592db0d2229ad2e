"""「未対応」: what waits for a promoter — announcements not yet confirmed, surveys not yet answered —
oldest deadline first, each with a button that posts that card again.

The items come from the features that own them (``WaitingSource`` functions the composition root
passes in); this feature only lists them.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.kit.feature import Feature
from dialogs.kit.router import Router
from dialogs.kit.waiting import WaitingSource


def feature(sources: Sequence[WaitingSource]) -> Feature:
    """「未対応」 over what other features say waits for a person (their ``Feature.waiting``)."""
    from dialogs.todo.handlers import build_router

    router: Router = build_router(tuple(sources))
    return Feature("todo", router)
