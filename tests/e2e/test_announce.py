"""An announcement in the Agents Playground: the DX admin composes, previews and sends; the leader
(鈴木 一郎, 総務課) receives the card and confirms; the admin's card shows the confirmation.

The playground labels every activity en-US whatever its user reads; the bot answers such requests in
the city's language (DXBOT_LOCALE, Japanese), as a Japanese Teams client would see it. Texts come from
the catalogs.
Screenshots stay in test-artifacts/e2e/<test name>/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dialogs.kit.business_days import JST, add_business_days
from dialogs.kit.i18n import t
from tests.e2e.conftest import DriveResult

ADMIN = "dx-admin@demo-city.example.jp"
LEADER = "leader@demo-city.example.jp"
TITLE = "Teams会議の録画研修のご案内"


def test_admin_sends_leader_confirms_admin_sees_it(drive: Callable[..., DriveResult]) -> None:
    # The leader has talked to the bot before: that is how the bot can reach him.
    drive(
        [{"chat": "Personal Chat"}, {"send": "ヘルプ"}, {"expect": {"card": True, "timeout": 30000}}],
        user=LEADER,
    )
    loc = "ja"  # the city's language, which the bot uses in the playground; see the module docstring
    deadline = add_business_days(datetime.now(UTC).astimezone(JST).date(), 5).isoformat()
    compose = t("announce.compose.title", loc)
    preview = t("announce.preview.title", loc)
    run = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},  # open before anything is sent to it
            {"as": "admin", "chat": "Personal Chat"},
            {"as": "admin", "send": "お知らせ"},
            {"as": "admin", "expect": {"card": True, "text": compose, "timeout": 30000}},
            {
                "as": "admin",
                "fill": {"field": t("announce.field.title", loc), "value": TITLE},
                "card": compose,
            },
            {
                "as": "admin",
                "fill": {"field": t("announce.field.body", loc), "value": "4月15日 14時から研修を行います。"},
                "card": compose,
            },
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
            {"as": "admin", "click": t("announce.btn.preview", loc), "card": compose},
            {"as": "admin", "expect": {"text": preview, "anywhere": True, "timeout": 30000}},
            {"as": "admin", "screenshot": "preview", "card": preview},
            {"as": "admin", "click": t("announce.btn.send", loc), "card": preview},
            {"as": "leader", "expect": {"card": True, "text": TITLE, "timeout": 60000}},
            {"as": "leader", "screenshot": "received", "card": TITLE},
            {"as": "leader", "click": t("announce.btn.ack", "ja"), "card": TITLE},
            {"as": "leader", "expect": {"text": "確認済み", "anywhere": True, "timeout": 30000}},
            {"as": "leader", "screenshot": "confirmed", "card": TITLE},
            {
                "as": "admin",
                "expect": {"text": t("announce.fig.confirmed", loc), "anywhere": True, "timeout": 30000},
            },
            {"as": "admin", "wait": 6000},  # the progress card is refreshed every couple of seconds
            {
                "as": "admin",
                "screenshot": "author-card",
                "card": t("announce.progress.title", loc, title=TITLE),
            },
        ],
        users={"admin": ADMIN, "leader": LEADER},
    )
    leader_card = [c for c in run.bot_cards("leader") if TITLE in c.title + c.text][-1]
    assert "確認済み" in leader_card.text, leader_card.text
    author = [c for c in run.bot_cards("admin") if TITLE in c.title + c.text][-1]
    assert t("announce.fig.confirmed", loc) in author.text, author.text
    assert "1/" in author.text, author.text
