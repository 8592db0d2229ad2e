"""A leader's 「未対応」 list in the Agents Playground: the DX admin (佐藤 花子) opens a survey round and
sends an announcement that asks for a confirmation; the leader (鈴木 一郎, 総務課) sends 「未対応」, sees
both, presses the announcement's button, gets the card again and confirms on it; 「未対応」 then no
longer lists the announcement. Screenshots stay in test-artifacts/e2e/<test name>/."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from dialogs.kit.business_days import JST, add_business_days, format_date_ja
from dialogs.kit.i18n import t
from tests.e2e.conftest import DriveResult

ADMIN = "dx-admin@demo-city.example.jp"
LEADER = "leader@demo-city.example.jp"
TITLE = "電子申請システム説明会のご案内"
SURVEY = "ツール活用"
CITY = "ja"  # the bot writes to promoters in the city's language (DXBOT_LOCALE)


def _assert_png(run: DriveResult, name: str) -> None:
    shot = run.artifacts / f"{name}.png"
    assert shot in run.screenshots and shot.exists(), f"no screenshot {shot}"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"{shot} is not a real screenshot"


def test_leader_sees_what_waits_reopens_the_announcement_and_confirms(
    drive: Callable[..., DriveResult],
) -> None:
    # The leader has talked to the bot (so it can reach him); the admin creates the survey.
    created = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},
            {"as": "admin", "chat": "Personal Chat"},
            {"as": "leader", "send": "ヘルプ"},
            {"as": "leader", "expect": {"card": True, "timeout": 30000}},
            {"as": "admin", "send": f"サーベイ 作成 {SURVEY}"},
            {"as": "admin", "expect": {"card": True, "text": SURVEY, "timeout": 30000}},
        ],
        users={"admin": ADMIN, "leader": LEADER},
    )
    card = [c for c in created.bot_cards("admin") if SURVEY in c.text + c.title][-1]
    m = re.search(r"(?:番号|number) (\d+)", card.title)
    assert m, f"the created card names no survey number: {card.title!r}"
    survey_id = int(m.group(1))

    deadline = add_business_days(datetime.now(UTC).astimezone(JST).date(), 5)
    compose = t("announce.compose.title", "ja")
    preview = t("announce.preview.title", "ja")
    todo = t("todo.title", CITY, n="").split("(")[0]  # 未対応の項目
    invitation = t("survey.card.title", CITY, title=SURVEY, label="")[:-2]
    start_preview = t("survey.preview.title", CITY, title=SURVEY)
    run = drive(
        [
            {"as": "leader", "chat": "Personal Chat"},  # open before anything is sent to it
            {"as": "admin", "chat": "Personal Chat"},
            {"as": "admin", "send": f"サーベイ 開始 {survey_id}"},
            # a preview first; 開始 on it opens the round
            {"as": "admin", "expect": {"card": True, "text": start_preview, "timeout": 30000}},
            {"as": "admin", "click": t("survey.preview.start", CITY), "card": start_preview},
            {
                "as": "admin",
                "expect": {"text": t("survey.start.done_title", CITY), "anywhere": True, "timeout": 30000},
            },
            {"as": "admin", "send": "お知らせ"},
            {"as": "admin", "expect": {"card": True, "text": compose, "timeout": 30000}},
            {
                "as": "admin",
                "fill": {"field": t("announce.field.title", "ja"), "value": TITLE},
                "card": compose,
            },
            {
                "as": "admin",
                "fill": {
                    "field": t("announce.field.body", "ja"),
                    "value": "5月20日 15時から説明会を行います。",
                },
                "card": compose,
            },
            {
                "as": "admin",
                "choose": {
                    "field": t("announce.field.audience", "ja"),
                    "option": t("announce.audience.leaders", "ja"),
                },
                "card": compose,
            },
            {
                "as": "admin",
                "fill": {"field": t("announce.field.deadline", "ja"), "value": deadline.isoformat()},
                "card": compose,
            },
            {"as": "admin", "click": t("announce.btn.preview", "ja"), "card": compose},
            {"as": "admin", "expect": {"text": preview, "anywhere": True, "timeout": 30000}},
            {"as": "admin", "click": t("announce.btn.send", "ja"), "card": preview},
            # Both arrive (the delivery worker brings them); the leader does neither yet.
            {
                "as": "leader",
                "expect": {"card": True, "text": invitation, "anywhere": True, "timeout": 90000},
            },
            {"as": "leader", "expect": {"card": True, "text": TITLE, "anywhere": True, "timeout": 90000}},
            {"as": "leader", "send": "未対応"},
            {"as": "leader", "expect": {"card": True, "text": todo, "timeout": 30000}},
            {"as": "leader", "screenshot": "todo-list", "card": todo},
            {"as": "leader", "click": t("todo.open.announce", CITY), "card": todo},
            {"as": "leader", "expect": {"card": True, "text": TITLE, "timeout": 30000}},
            {"as": "leader", "screenshot": "reopened", "card": TITLE},
            {"as": "leader", "click": t("announce.btn.ack", CITY), "card": TITLE},
            {"as": "leader", "expect": {"text": "確認済み", "anywhere": True, "timeout": 30000}},
            {"as": "leader", "screenshot": "confirmed", "card": TITLE},
            {"as": "leader", "send": "未対応"},
            {"as": "leader", "expect": {"card": True, "text": todo, "timeout": 30000}},
            {"as": "leader", "screenshot": "todo-after", "card": todo},
        ],
        users={"admin": ADMIN, "leader": LEADER},
        timeout=480,
    )
    lists = [c for c in run.bot_cards("leader") if todo in c.title]
    assert len(lists) == 2, [c.title for c in run.bot_cards("leader")]
    first, after = lists
    assert TITLE in first.text and SURVEY in first.text, first.text
    assert t("todo.due.announce", CITY, when=format_date_ja(deadline)) in first.text, first.text
    assert TITLE not in after.text and SURVEY in after.text, after.text
    confirmed = [c for c in run.bot_cards("leader") if TITLE in c.title + c.text and "確認済み" in c.text]
    assert confirmed, "the reopened card did not turn to 確認済み"
    for name in ("todo-list", "reopened", "confirmed", "todo-after"):
        _assert_png(run, name)
