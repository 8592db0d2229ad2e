"""Steps of a relay request as the people in it take them, through HTTP and the fake connector: the admin
sends with a relay request, promoters confirm and report or post to their section's channel, members
there confirm. Shared by the relay tests and the dashboard's relay table test.

    ann_id, author_card = await send(bot, connector)
    await link_section_channel(bot, connector)            # 総務課's team channel, LEADER links it
    leader_card = copy_in(connector, LEADER.conversation_id)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import JST, add_business_days
from storage.models import TeamsAccount
from tests.announce.conftest import actions, card, card_ids, card_text, inputs, now_utc
from tests.delivery.helpers import FAST
from tests.support import ADMIN, LEADER, STAFF, TENANT, Person, activity, members_for

SECTION_CHANNEL = "19:soumu-ka@thread.tacv2"
SECTION_TEAM = "19:team-soumu@thread.tacv2"


def promoter(pid: int) -> Person:
    return Person(f"29:u{pid}", f"aad-{pid}", f"職員{pid}", f"p{pid}@city.example.jp")


def form(**kw: Any) -> dict[str, Any]:
    today = now_utc().astimezone(JST).date()
    values = {
        "title": "生成AI利用ガイドラインのお知らせ",
        "body": "生成AIの利用ガイドラインを定めました。課内への周知をお願いします。",
        "importance": "normal",
        "audience": "all",
        "ack_required": "true",
        "deadline": add_business_days(today, 3).isoformat(),
        "relay_required": "true",
        "relay_deadline": add_business_days(today, 5).isoformat(),
        "send_mode": "now",
    }
    values.update(kw)
    return values


async def send(bot: Any, connector: Any, user: Person = ADMIN, **kw: Any) -> tuple[int, str]:
    """The admin composes, previews and sends; every copy is delivered. (announcement id, author's card)"""
    locale = kw.pop("locale", "ja-JP")
    await bot.say("お知らせ", user=user, locale=locale)
    compose_id = card_ids(connector, user.conversation_id)[-1]
    await bot.press(
        {"action": "announce.preview", **form(**kw)}, user=user, reply_to_id=compose_id, locale=locale
    )
    ann_id = next(a["id"] for a in actions(card(connector, compose_id)) if a.get("action") == "announce.send")
    await bot.press(
        {"action": "announce.send", "id": ann_id}, user=user, reply_to_id=compose_id, locale=locale
    )
    await drain(bot.services, config=FAST)
    return ann_id, compose_id


def copy_in(connector: Any, conversation_id: str, title: str = "生成AI利用ガイドライン") -> str:
    """The activity id of the announcement's card in a conversation."""
    return next(
        i
        for i in card_ids(connector, conversation_id)
        if connector.activities[i].get("attachments") and title in card_text(connector, i)
    )


def button(card_json: dict[str, Any], action: str) -> dict[str, Any]:
    """What pressing the card's button for ``action`` submits (its data, without the title)."""
    found = next(a for a in actions(card_json) if a.get("action") == action)
    return {k: v for k, v in found.items() if k != "title"}


def relay_press(card_json: dict[str, Any], **override: Any) -> dict[str, Any]:
    data = button(card_json, "announce.relay")
    data.update(inputs(card_json))
    data.update(override)
    return data


def in_channel(
    user: Person, text: str | None = None, value: dict | None = None, reply_to_id: str | None = None
) -> dict[str, Any]:
    return activity(
        "",  # filled in by the caller
        user=user,
        text=text,
        value=value,
        reply_to_id=reply_to_id,
        conversation_id=SECTION_CHANNEL,
        conversation_type="channel",
        channel_data={
            "tenant": {"id": TENANT},
            "team": {"id": SECTION_TEAM, "name": "総務課"},
            "channel": {"id": SECTION_CHANNEL, "name": "一般"},
        },
    )


async def in_section_channel(bot: Any, user: Person, **kw: Any) -> int:
    act = in_channel(user, **kw)
    act["serviceUrl"] = bot.connector.url
    return await bot.post(act)


async def recognise_promoters_everywhere(bot: Any) -> None:
    """The city's accounts in the tenant the activities come from, so promoters are recognised anywhere."""
    async with bot.services.sessionmaker() as s, s.begin():
        await s.execute(update(TeamsAccount).where(TeamsAccount.tenant_id == "").values(tenant_id=TENANT))


def seat_section_team(connector: Any) -> None:
    """The team behind 総務課's channel: three people and the bot."""
    connector.members = {
        **members_for(ADMIN, LEADER, STAFF, promoter(101)),
        "28:dxbot": {"id": "28:dxbot"},
    }
    connector.conversation_members[SECTION_TEAM] = [LEADER.user_id, STAFF.user_id, "29:u101", "28:dxbot"]


async def link_section_channel(bot: Any, connector: Any) -> None:
    """総務課's leader links the team channel as the section's channel, from inside it (after LEADER,
    職員101 and 職員102 opened their personal chats with the bot)."""
    await recognise_promoters_everywhere(bot)
    for person in (LEADER, promoter(101), promoter(102)):
        await bot.say("ヘルプ", user=person)
    seat_section_team(connector)
    await in_section_channel(bot, LEADER, text="<at>DX推進ボット</at> ここを課のチャネルにする")
    assert "ここを総務課のチャネルにしました" in connector.texts_to(SECTION_CHANNEL)[-1]


async def post_to_section_channel(bot: Any, connector: Any, ann_id: int, who: Person, card_id: str) -> str:
    """``who`` confirms their copy and presses 「課のチャネルに投稿」; returns the channel copy's id."""
    await bot.press({"action": "announce.ack", "id": ann_id}, user=who, reply_to_id=card_id)
    before = len([c for c in connector.posts() if c.conversation_id == SECTION_CHANNEL])
    await bot.press(button(card(connector, card_id), "announce.relay_post"), user=who, reply_to_id=card_id)
    await drain(bot.services, config=FAST)
    posted = [c for c in connector.posts() if c.conversation_id == SECTION_CHANNEL][before:]
    assert len(posted) == 1 and posted[0].created
    return posted[0].created
