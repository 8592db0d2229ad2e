"""The one place where features are composed: their routers (in matching order), start-up hooks,
background jobs, CLI commands and web routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bot.api import HttpRoute, Job, Services
from dialogs import announce as announce_feature
from dialogs import dashboard as dashboard_feature
from dialogs import help as help_feature
from dialogs import qa as qa_feature
from dialogs import roster as roster_feature
from dialogs import survey as survey_feature
from dialogs.engines import delivery as delivery_feature
from dialogs.kit.router import Router, RouteTable


@dataclass
class Feature:
    name: str
    router: Router
    startup: Callable[[Services], Awaitable[None]] | None = None
    jobs: list[Job] = field(default_factory=list)
    cli: Callable[[Any], None] | None = None  # (argparse subparsers) -> None
    http: list[HttpRoute] = field(default_factory=list)
    # Demo data for `dxbot seed-demo`: async (services, only_if_empty) -> None, in the order of features().
    seed_demo: Callable[[Services, bool], Awaitable[None]] | None = None


@cache
def features() -> tuple[Feature, ...]:
    return (
        Feature("help", help_feature.router),
        delivery_feature.feature(),
        announce_feature.feature(),
        survey_feature.feature(),  # before the roster: its file filter is the narrower one
        roster_feature.feature(),
        qa_feature.feature(),
        dashboard_feature.feature(),
    )


# Demo data builds on the roster (surveys need its sections and promoters), whatever the routing order.
SEED_ORDER = ("roster", "qa", "survey", "announce")


def seeders() -> list[Callable[[Services, bool], Awaitable[None]]]:
    """The features' demo seeds, the roster first."""
    ranked = sorted(
        features(), key=lambda f: SEED_ORDER.index(f.name) if f.name in SEED_ORDER else len(SEED_ORDER)
    )
    return [f.seed_demo for f in ranked if f.seed_demo]


@cache
def route_table() -> RouteTable:
    return RouteTable(f.router for f in features())
