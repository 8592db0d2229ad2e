"""The roster in the Agents Playground: the leader has talked to the bot, the DX admin asks
「カバー状況」 and reads the coverage card; staff asking the same are refused politely.
Screenshots stay in test-artifacts/e2e/<test name>/."""

from __future__ import annotations

from collections.abc import Callable

from dialogs.kit.i18n import t
from tests.e2e.conftest import DriveResult

LEADER = "leader@demo-city.example.jp"
STAFF = "staff@demo-city.example.jp"


def _locale(text: str, key: str) -> str:
    """The playground sends its own process's locale; the bot answers in it."""
    return "ja" if t(key, "ja").split("{")[0] in text else "en"


def test_admin_reads_the_coverage_card(drive: Callable[..., DriveResult]) -> None:
    # 鈴木 一郎 (総務課 leader) writes to the bot first, so the bot can reach him from now on.
    drive(
        [{"chat": "Personal Chat"}, {"send": "私の役割"}, {"expect": {"card": True, "timeout": 30000}}],
        user=LEADER,
    )
    run = drive(
        [
            {"chat": "Personal Chat"},
            {"send": "カバー状況"},
            {"expect": {"card": True, "timeout": 30000}},
            {"screenshot": "coverage-card", "card": ""},
        ]
    )
    card = run.bot_cards()[-1]
    loc = _locale(card.title + card.text, "roster.cov.title")
    assert card.title.startswith(t("roster.cov.title", loc).split("{")[0]), card.title
    for key in ("roster.cov.none", "roster.cov.partial", "roster.cov.complete", "roster.cov.promoters"):
        assert t(key, loc) in card.text, (key, card.text)
    assert t("roster.cov.promoters_value", loc, total=100, reachable=1) in card.text, card.text
    # Sections nobody can be reached in come first; then 総務課, where the leader is reachable.
    assert card.text.index("中村 陽子") < card.text.index("鈴木 一郎"), card.text
    assert (
        t(
            "roster.cov.holder",
            loc,
            role=t("roster.role.leader", loc),
            name="鈴木 一郎",
            state=t("roster.cov.ok", loc),
        )
        in card.text
    )
    shot = run.artifacts / "coverage-card.png"
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_staff_asking_for_coverage_is_refused_politely(drive: Callable[..., DriveResult]) -> None:
    run = drive(
        [{"chat": "Personal Chat"}, {"send": "カバー状況"}, {"expect": {"timeout": 30000}}],
        user=STAFF,
    )
    reply = run.bot_messages()[-1].text
    loc = _locale(reply, "core.forbidden")
    assert reply.startswith(t("core.forbidden", loc, role=t("core.role.author", loc))[:10]), reply
    assert not run.bot_cards()
