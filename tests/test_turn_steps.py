"""Steps around a turn: a feature's own (``Feature.before_turn``, run by the dispatcher) and the bot's
pipeline (bot/turn.py), without HTTP where that is simpler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.api import Role, Turn
from dialogs.kit.dispatch import dispatch
from dialogs.kit.router import Router, RouteTable
from tests.support import ADMIN, running_bot, settings_for
from tests.test_dispatch import RecordingTurn

pytestmark = pytest.mark.asyncio
Next = Callable[[], Awaitable[None]]


def _table(runs: list[str]) -> RouteTable:
    router = Router("test")

    @router.command("状況", role=Role.AUTHOR)
    async def status(turn: Any, args: str) -> None:
        runs.append("status")

    return RouteTable([router])


async def test_feature_steps_run_in_order_around_the_route_and_see_the_identity() -> None:
    runs: list[str] = []

    async def first(turn: Turn, nxt: Next) -> None:
        runs.append(f"first:{turn.identity.has(Role.AUTHOR)}")
        await nxt()
        runs.append("first:after")

    async def second(turn: Turn, nxt: Next) -> None:
        runs.append("second")
        await nxt()

    turn = RecordingTurn(text="状況", roles=frozenset({Role.ANYONE, Role.AUTHOR}))
    await dispatch(turn, _table(runs), [first, second])  # type: ignore[arg-type]
    assert runs == ["first:True", "second", "status", "first:after"]


async def test_a_feature_step_that_does_not_go_on_ends_the_turn() -> None:
    runs: list[str] = []

    async def maintenance(turn: Turn, nxt: Next) -> None:
        await turn.reply("ただいまメンテナンス中です。")

    turn = RecordingTurn(text="状況", roles=frozenset({Role.ANYONE, Role.AUTHOR}))
    await dispatch(turn, _table(runs), [maintenance])  # type: ignore[arg-type]
    assert runs == [] and turn.replies == ["ただいまメンテナンス中です。"]


async def test_declarations_still_hold_behind_feature_steps() -> None:
    runs: list[str] = []

    async def passthrough(turn: Turn, nxt: Next) -> None:
        await nxt()

    turn = RecordingTurn(text="状況")  # no AUTHOR role
    await dispatch(turn, _table(runs), [passthrough])  # type: ignore[arg-type]
    assert runs == [] and "だけが行えます" in turn.replies[0]


async def test_the_bot_runs_its_pipeline_in_the_documented_order(sqlite_url, connector) -> None:
    """bot/turn.py's docstring lists the steps the bot runs, in order; identity is read inside the turn's
    transaction."""
    import re

    import bot.turn
    from bot.turn import DxBot

    seen: list[str] = []
    steps: list[str] = []
    original = DxBot.read_identity

    async def spy(self: DxBot, state: Any, nxt: Next) -> None:
        steps[:] = [s.__name__.replace("spy", "read_identity") for s in self.steps]  # the spy stands in
        seen.append(
            f"identity:{state.session is not None}:{state.session and state.session.in_transaction()}"
        )
        await original(self, state, nxt)

    DxBot.read_identity = spy  # type: ignore[method-assign]
    try:
        async with running_bot(settings_for(sqlite_url), connector) as running:
            await running.say("ヘルプ", user=ADMIN)
    finally:
        DxBot.read_identity = original  # type: ignore[method-assign]
    documented = re.findall(r"^\d\. ``(\w+)``", bot.turn.__doc__ or "", re.MULTILINE)
    assert steps and documented == steps
    assert seen == ["identity:True:True"]
