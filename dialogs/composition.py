"""The composition root: which features the bot has, in which order, and what they offer each other.

Imported by ``bot/`` only (``tests/test_layers.py`` checks it): the transport asks here for the route
table, the role sources, the jobs, the CLI and the web routes; a feature never does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache

from bot.api import Services
from dialogs import announce, cases, dashboard, qa, report, roster, survey, todo
from dialogs import help as help_feature
from dialogs.engines import delivery
from dialogs.kit.dispatch import TurnStep
from dialogs.kit.feature import Feature, ProgressListener
from dialogs.kit.identity import RoleSource
from dialogs.kit.router import RouteTable


@cache
def features() -> tuple[Feature, ...]:
    """Every feature, in matching order (a file goes to the first file route that accepts it)."""
    first = {
        "announce": announce.feature(),
        "survey": survey.feature(),  # before the roster: its file filter is the narrower one
        "cases": cases.feature(),  # before the roster: Excel with 「事例」 is cases, not a roster
        "roster": roster.feature(),
    }
    # Free text also finds what other features offer (improvement cases), each shown as its own card.
    qa_feature = qa.feature(answer_sources=[s for f in first.values() for s in f.answer_sources])
    offered = (*first.values(), qa_feature, dashboard.feature(), report.feature())
    listeners: dict[str, list[ProgressListener]] = {}
    for feature in offered:
        for kind, listener in feature.progress.items():
            listeners.setdefault(kind, []).append(listener)
    # 「未対応」 lists what the features say waits for a person (announcements, surveys).
    todo_feature = todo.feature(sources=[source for f in offered for source in f.waiting])
    return (help_feature.feature(route_table), todo_feature, delivery.feature(listeners), *offered)


# Demo data builds on the roster (surveys need its sections and promoters), whatever the routing order.
SEED_ORDER = ("roster", "qa", "survey", "announce")


def seeders() -> list[Callable[[Services, bool], Awaitable[None]]]:
    """The features' demo seeds, the roster first."""
    ranked = sorted(
        features(), key=lambda f: SEED_ORDER.index(f.name) if f.name in SEED_ORDER else len(SEED_ORDER)
    )
    return [f.seed_demo for f in ranked if f.seed_demo]


@cache
def role_sources() -> tuple[RoleSource, ...]:
    """Who the features know a sender to be, asked on every turn that reads roles."""
    return tuple(source for f in features() for source in f.role_sources)


@cache
def turn_steps() -> tuple[TurnStep, ...]:
    """The features' own steps around every message turn, in the order of features()."""
    return tuple(step for f in features() for step in f.before_turn)


@cache
def route_table() -> RouteTable:
    return RouteTable(f.router for f in features())
