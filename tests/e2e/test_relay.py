"""A relay request in the Agents Playground: the DX admin sends an announcement asking for relay; the
leader of 総務課 (鈴木 一郎) has linked the group chat 「DX推進リーダー連絡会」 as the section's channel,
confirms, and posts it there with 「課のチャネルに投稿」; a member there presses 確認しました; the admin's card
shows the section as relayed with 1 member confirmed.

Each mock user has a playground of their own, and the bot posts into the group chat of the playground it
was linked from (the leader's): there the leader, a member of the chat, is the member who confirms.

Screenshots stay in test-artifacts/e2e/<test name>/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dialogs.kit.business_days import JST, add_business_days, format_date_ja
from dialogs.kit.i18n import t
from tests.e2e.conftest import DriveResult
from tests.e2e.steps import compose_to_leaders

ADMIN = "dx-admin@demo-city.example.jp"
LEADER = "leader@demo-city.example.jp"
GROUP = "DX推進リーダー連絡会"
TITLE = "生成AI利用ガイドラインの周知のお願い"
SHARED = "さんが共有しました"  # the first line of the copy posted in the section's channel


def test_relay_by_posting_to_the_section_channel_counts_a_member(drive: Callable[..., DriveResult]) -> None:
    loc = "ja"
    # The leader talks to the bot (so it can reach him) and makes the group chat 総務課's channel.
    drive(
        [
            {"chat": "Personal Chat"},
            {"send": "ヘルプ"},
            {"expect": {"card": True, "timeout": 30000}},
            {"chat": GROUP},
            {"send": "ここを課のチャネルにする 総務課", "mention": True},
            {"expect": {"text": "総務課のチャネルにしました", "timeout": 30000}},
        ],
        user=LEADER,
    )
    today = datetime.now(UTC).astimezone(JST).date()
    deadline = add_business_days(today, 3).isoformat()
    relay_deadline = add_business_days(today, 5).isoformat()
    compose = t("announce.compose.title", loc)
    preview = t("announce.preview.title", loc)
    progress = t("announce.progress.title", loc, title=TITLE)
    change_title = t("announce.relay.deadline.title", loc, title=TITLE)
    changed = t("announce.relay.deadline.done_title", loc)
    later = add_business_days(today, 8)
    run = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},  # open before anything is sent to them
            {"as": "admin", "chat": "Personal Chat"},
            *compose_to_leaders(loc, TITLE, "課内への周知をお願いします。", deadline),
            {"as": "admin", "toggle": {"title": t("announce.field.relay", loc), "on": True}, "card": compose},
            {
                "as": "admin",
                "fill": {"field": t("announce.field.relay_deadline", loc), "value": relay_deadline},
                "card": compose,
            },
            {"as": "admin", "click": t("announce.btn.preview", loc), "card": compose},
            {"as": "admin", "expect": {"text": preview, "anywhere": True, "timeout": 30000}},
            {"as": "admin", "click": t("announce.btn.send", loc), "card": preview},
            {"as": "leader", "expect": {"card": True, "text": TITLE, "timeout": 60000}},
            {"as": "leader", "click": t("announce.btn.ack", loc), "card": TITLE},
            {"as": "leader", "expect": {"text": "【伝達依頼】", "anywhere": True, "timeout": 30000}},
            {"as": "leader", "screenshot": "relay-request", "card": TITLE},
            {"as": "leader", "click": t("announce.relay.btn.post", loc), "card": TITLE},
            {"as": "leader", "expect": {"text": "課のチャネルに投稿します", "timeout": 30000}},
            {"as": "leader", "screenshot": "relayed", "card": TITLE},
            {"as": "leader", "chat": GROUP},
            {
                "as": "leader",
                "expect": {"card": True, "text": SHARED, "anywhere": True, "timeout": 60000},
            },
            {"as": "leader", "click": t("announce.btn.ack", loc), "card": SHARED},
            {"as": "leader", "expect": {"text": "確認した人: 1人", "anywhere": True, "timeout": 30000}},
            {"as": "leader", "screenshot": "channel-copy", "card": SHARED},
            {"as": "admin", "wait": 6000},  # the progress card is refreshed every couple of seconds
            {"as": "admin", "screenshot": "author-card", "card": progress},
            # The DX division moves the relay deadline later (伝達期限を変更 → a card with the date → 変更する).
            {"as": "admin", "click": t("announce.relay.btn.deadline", loc), "card": progress},
            {"as": "admin", "expect": {"card": True, "text": change_title, "timeout": 30000}},
            {
                "as": "admin",
                "fill": {"field": t("announce.relay.deadline.field", loc), "value": later.isoformat()},
                "card": change_title,
            },
            {"as": "admin", "screenshot": "deadline-form", "card": change_title},
            {"as": "admin", "click": t("announce.relay.btn.deadline_apply", loc), "card": change_title},
            {"as": "admin", "expect": {"text": changed, "anywhere": True, "timeout": 30000}},
            {"as": "admin", "screenshot": "deadline-changed", "card": changed},
        ],
        users={"admin": ADMIN, "leader": LEADER},
        timeout=420,
    )
    shared = [c for c in run.bot_cards("leader") if SHARED in c.title + c.text][-1]
    assert "鈴木 一郎さんが共有しました" in shared.text and "確認した人: 1人" in shared.text, shared.text
    author = [c for c in run.bot_cards("admin") if c.title == progress or progress in c.text][-1]
    assert t("announce.relay.fig.relayed", loc) in author.text, author.text
    # n of m: the playground's group chat has its six mock users, one of whom confirmed.
    assert t("announce.relay.fig.members", loc) in author.text and "6人中1人" in author.text, author.text
    # The new deadline, in the words the card uses (e.g. 2026年12月17日(木)), and nothing refused.
    done = [c for c in run.bot_cards("admin") if changed in c.title + c.text][-1]
    assert format_date_ja(later) in done.text, done.text
