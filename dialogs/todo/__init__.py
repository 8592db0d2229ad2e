"""「未対応」: what waits for a promoter — announcements not yet confirmed, surveys not yet answered —
oldest deadline first, each with a button that posts that card again.

The items come from the features that own them (``WaitingSource`` functions the composition root
passes in); this feature only lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dialogs.router import Router
from dialogs.waiting import WaitingSource

if TYPE_CHECKING:
    from dialogs.registry import Feature


def feature(sources: Sequence[WaitingSource]) -> Feature:
    from dialogs.registry import Feature
    from dialogs.todo.handlers import build_router

    router: Router = build_router(tuple(sources))
    return Feature("todo", router)
