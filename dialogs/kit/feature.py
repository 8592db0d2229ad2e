"""The contract between a feature package and the composition root (``dialogs/composition.py``).

Every feature package exposes one ``feature()`` that returns a ``Feature`` built from its router. What a
feature offers the rest of the bot is a field here, and the composition root wires it; nothing registers
itself in a global list when a module is imported.

    def feature() -> Feature:
        from dialogs.roster.handlers import router
        return Feature("roster", router, role_sources=[roster_roles], cli=register_cli)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.api import HttpRoute, Job, Services, Turn
from dialogs.kit.dispatch import TurnStep
from dialogs.kit.router import Router

if TYPE_CHECKING:  # importing a feature package stays light: no SQLAlchemy models
    from dialogs.kit.identity import RoleSource
    from dialogs.kit.waiting import WaitingSource

# Called by the delivery worker with the ids (``ref_id``) whose rows of one kind changed state; batched,
# and always once after the last row of a ref finished. See dialogs/engines/delivery/README.md.
ProgressListener = Callable[[Services, set[int]], Awaitable[None]]


@dataclass
class Feature:
    name: str
    router: Router
    startup: Callable[[Services], Awaitable[None]] | None = None
    jobs: list[Job] = field(default_factory=list)
    cli: Callable[[Any], None] | None = None  # (argparse subparsers) -> None
    http: list[HttpRoute] = field(default_factory=list)
    # Demo data for `dxbot seed-demo`: async (services, only_if_empty) -> None; the root orders them.
    seed_demo: Callable[[Services, bool], Awaitable[None]] | None = None
    # Who this feature knows a sender to be (the roster: promoters, DX division roles), for every turn.
    role_sources: list[RoleSource] = field(default_factory=list)
    # Delivery kind (the ``kind`` the feature enqueues under) -> what to do when its rows progress.
    progress: dict[str, ProgressListener] = field(default_factory=dict)
    # Steps around every message turn, after identity and before routing (dialogs.kit.dispatch).
    before_turn: list[TurnStep] = field(default_factory=list)
    # What waits for a person in this feature (「未対応」 lists them): async (session, person_id, now).
    waiting: list[WaitingSource] = field(default_factory=list)
    # Results for a free-text question, shown after the QA answer: async (turn, question, answered) -> card.
    answer_sources: list[Callable[[Turn, str, bool], Awaitable[dict[str, Any] | None]]] = field(
        default_factory=list
    )
