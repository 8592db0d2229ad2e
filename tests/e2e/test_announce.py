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
from tests.e2e.steps import compose_to_leaders

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
            *compose_to_leaders(loc, TITLE, "4月15日 14時から研修を行います。", deadline),
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
            # the progress card is refreshed every couple of seconds (later on a loaded machine)
            {"as": "admin", "expect": {"text": "1/", "anywhere": True, "timeout": 60000}},
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


RECALL_TITLE = "庁内LAN停止のお知らせ(回収の確認)"


def test_recall_where_the_connector_cannot_delete_says_the_copy_stayed(
    drive: Callable[..., DriveResult],
) -> None:
    """The playground's connector answers every DELETE with 501 DeleteActivityAPINotImplemented, as
    some tenants' policies or a stale chat can: the author's card must say the copy is still there,
    name who has it and offer 再試行, never 「すべて削除しました」."""
    drive(
        [{"chat": "Personal Chat"}, {"send": "ヘルプ"}, {"expect": {"card": True, "timeout": 30000}}],
        user=LEADER,
    )
    loc = "ja"
    deadline = add_business_days(datetime.now(UTC).astimezone(JST).date(), 5).isoformat()
    compose = t("announce.compose.title", loc)
    preview = t("announce.preview.title", loc)
    progress = t("announce.progress.title", loc, title=RECALL_TITLE)
    run = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},
            {"as": "admin", "chat": "Personal Chat"},
            *compose_to_leaders(
                loc,
                RECALL_TITLE,
                "4月5日(土)に停止します。\n時間: 9時から17時",
                deadline,
                on_open=[
                    {"as": "admin", "screenshot": "compose-hint", "card": compose},
                    {"as": "admin", "snapshot": "compose"},
                ],
            ),
            {"as": "admin", "click": t("announce.btn.preview", loc), "card": compose},
            {"as": "admin", "expect": {"text": preview, "anywhere": True, "timeout": 30000}},
            {"as": "admin", "click": t("announce.btn.send", loc), "card": preview},
            {"as": "leader", "expect": {"card": True, "text": RECALL_TITLE, "timeout": 60000}},
            {"as": "leader", "screenshot": "received", "card": RECALL_TITLE},
            {"as": "admin", "wait": 4000},  # the send settles and the progress card is refreshed
            {"as": "admin", "click": t("announce.btn.recall", loc), "card": progress},
            {
                "as": "admin",
                "expect": {"card": True, "text": t("announce.recall.title", loc), "timeout": 30000},
            },
            {
                "as": "admin",
                "click": t("announce.btn.recall_confirm", loc),
                "card": t("announce.recall.title", loc),
            },
            {"as": "admin", "expect": {"text": "削除できませんでした", "anywhere": True, "timeout": 30000}},
            {"as": "admin", "wait": 3000},
            {"as": "admin", "screenshot": "author-card-after-recall", "card": progress},
            {"as": "admin", "click": t("announce.btn.retry", loc), "card": progress},
            {"as": "admin", "expect": {"text": "もう一度削除します", "timeout": 30000}},
            {"as": "admin", "wait": 5000},  # the retry is answered 501 again
            {"as": "admin", "screenshot": "author-card-after-retry", "card": progress},
            {"as": "leader", "screenshot": "leader-still-has-it", "card": RECALL_TITLE},
        ],
        users={"admin": ADMIN, "leader": LEADER},
    )
    shown = next(r for r in run.results if isinstance(r, dict) and r.get("label") == "compose")
    hint = [c["text"] for m in shown["messages"] for c in m.get("cards", []) if compose in c["text"]][-1]
    assert "**文字**" in hint and "[表示する文字](https://…)" in hint, hint  # not rendered as Markdown
    received = [c for c in run.bot_cards("leader") if RECALL_TITLE in c.title + c.text][-1]
    lines = [x.strip() for x in received.text.splitlines()]
    assert "4月5日(土)に停止します。" in lines and "時間: 9時から17時" in lines, received.text
    author = [c for c in run.bot_cards("admin") if c.title == progress][-1]
    assert "すべて削除しました" not in author.text, author.text
    assert "1件は削除できませんでした" in author.text, author.text
    assert "Teamsがこの操作に対応していない(501): 1件" in author.text, author.text
    assert "残っている方: 鈴木 一郎" in author.text, author.text
    assert t("announce.btn.retry", loc) in author.buttons, author.buttons
