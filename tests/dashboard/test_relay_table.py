"""The お知らせ page's per-section relay table, after a relay request went through the bot (HTTP, fake
connector, delivery worker): every section from delivered to relayed, checked against the records
themselves; the section no promoter was reached in is named and marked; the CSV holds the same rows."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import func, select

from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import format_datetime_ja
from storage.models.announce import (
    AnnouncementMemberAck,
    AnnouncementRecipient,
    AnnouncementRelay,
)
from storage.models.delivery import Delivery
from tests.announce.conftest import build_city
from tests.announce.relay_flow import (
    button,
    copy_in,
    in_section_channel,
    link_section_channel,
    post_to_section_channel,
    promoter,
    send,
)
from tests.dashboard.conftest import form_token
from tests.dashboard.pagetext import Page, read_csv
from tests.delivery.helpers import FAST, conv_of
from tests.support import ADMIN, LEADER, STAFF, activity, running_bot, settings_for

pytestmark = pytest.mark.asyncio
CAPTION = "課ごとの伝達状況"


async def _page(client, path: str) -> Page:
    resp = await client.get(path)
    body = await resp.text()
    assert resp.status == 200, body[:500]
    return Page.parse(body)


async def _from_the_records(bot, ann_id: int) -> list[list[str]]:
    """The table as the records say it should read, without the dashboard's or the relay store's code."""
    async with bot.services.sessionmaker() as s:
        recipients = (
            await s.scalars(
                select(AnnouncementRecipient)
                .where(AnnouncementRecipient.announcement_id == ann_id)
                .order_by(AnnouncementRecipient.sort_key)
            )
        ).all()
        copies = {
            pid: (state, read_at)
            for pid, state, read_at in (
                await s.execute(
                    select(Delivery.person_id, Delivery.state, Delivery.read_at).where(
                        Delivery.kind == "announcement",
                        Delivery.ref_id == ann_id,
                        Delivery.purpose == "initial",
                        Delivery.op == "send",
                    )
                )
            ).all()
        }
        reports = {
            r.section_id: r
            for r in (
                await s.scalars(select(AnnouncementRelay).where(AnnouncementRelay.announcement_id == ann_id))
            ).all()
        }
        acks = dict(
            (
                await s.execute(
                    select(AnnouncementMemberAck.section_id, func.count())
                    .where(AnnouncementMemberAck.announcement_id == ann_id)
                    .group_by(AnnouncementMemberAck.section_id)
                )
            ).all()
        )
    by_section: dict[int, list[AnnouncementRecipient]] = defaultdict(list)
    for r in recipients:
        by_section[r.section_id].append(r)
    methods = {"channel": "課の Teams チャネル", "meeting": "課内会議"}
    rows = []
    for sid, people in by_section.items():
        states = [copies.get(p.person_id, ("", None)) for p in people]
        delivered = sum(1 for state, _ in states if state == "delivered")
        pending = sum(1 for state, _ in states if state in ("queued", "sending"))
        read = sum(1 for state, at in states if state == "delivered" and at is not None)
        rep = reports.get(sid)
        if rep is not None:
            relay = "伝達済み"
        elif not delivered and not pending:
            relay = "未伝達(推進員に届いていません)"
        else:
            relay = "未伝達"
        members = "—"
        if rep is not None and rep.method == "channel":
            members = f"{rep.reached}人中{acks.get(sid, 0)}人"
        rows.append(
            [
                people[0].department,
                people[0].section,
                str(len(people)),
                str(delivered),
                str(read),
                str(sum(1 for p in people if p.confirmed_at is not None)),
                relay,
                methods[rep.method] if rep else "—",
                format_datetime_ja(rep.updated_at) if rep else "—",
                rep.reporter_name if rep else "—",
                str(rep.reached) if rep and rep.reached is not None else "—",
                members,
            ]
        )
    return rows


async def test_the_announcements_page_shows_every_section_from_delivered_to_relayed(
    sqlite_url, connector
) -> None:
    connector.numeric_ids = True  # Teams message ids, which read receipts are compared by
    async with running_bot(settings_for(sqlite_url, admins=[ADMIN.email]), connector) as bot:
        await build_city(bot.services, connector.url, connector)
        await link_section_channel(bot, connector)
        connector.blocked.add(conv_of(102))  # 人事課's only promoter blocked the bot: nobody there can relay
        ann_id, _ = await send(bot, connector)

        # 総務課: the leader posts it to the section's channel, two of its three members confirm.
        shared = await post_to_section_channel(
            bot, connector, ann_id, LEADER, copy_in(connector, LEADER.conversation_id)
        )
        ack = button(bot.connector.activities[shared]["attachments"][0]["content"], "announce.member_ack")
        for member in (STAFF, promoter(101)):
            await in_section_channel(bot, member, value=ack, reply_to_id=shared)
        # 税務課: the leader reads it (a read receipt) and confirms, and has not relayed yet.
        tax_copy = copy_in(connector, conv_of(103))
        receipt = activity(
            connector.url,
            user=promoter(103),
            type="event",
            name="application/vnd.microsoft.readReceipt",
            value={"lastReadMessageId": tax_copy},
        )
        assert await bot.post(receipt) < 300
        await bot.press({"action": "announce.ack", "id": ann_id}, user=promoter(103), reply_to_id=tax_copy)
        await drain(bot.services, config=FAST)

        client = bot.client
        resp = await client.post(
            "/dashboard/login",
            data={"email": ADMIN.email, "csrf": await form_token(client)},
            allow_redirects=False,
        )
        assert resp.status == 303
        p = await _page(client, f"/dashboard/announcements?announcement={ann_id}")
        table = p.table(CAPTION)
        expected = await _from_the_records(bot, ann_id)
        assert table.rows == expected
        assert [r[1] for r in table.rows] == ["総務課", "人事課", "税務課"]  # roster order, none left out
        by_section = dict(zip(table.column("課"), table.rows, strict=True))
        assert by_section["総務課"][6:] == [
            "伝達済み",
            "課の Teams チャネル",
            by_section["総務課"][8],
            "鈴木 一郎",
            "3",
            "3人中2人",
        ]
        assert by_section["人事課"][6] == "未伝達(推進員に届いていません)"
        assert table.row_classes[table.column("課").index("人事課")] == "alert"
        assert by_section["税務課"][3:7] == ["1", "1", "1", "未伝達"]

        # The CSV beside it holds the same rows.
        link = p.csv_links[[t.caption for t in p.tables].index(table.caption)]
        rows = read_csv(await (await client.get(link.replace("&amp;", "&"))).read())
        assert rows[0] == table.header
        assert [r[:7] for r in rows[1:]] == [r[:7] for r in table.rows]
        assert [r[11] for r in rows[1:]] == ["3人中2人", "", ""]

        # In English, the same table.
        en = await _page(client, f"/dashboard/announcements?announcement={ann_id}&lang=en")
        en_table = en.table("Relay by section")
        assert en_table.header[6:8] == ["Relay", "How"]
        assert en_table.rows[1][6] == "Not relayed (no promoter reached)" and en_table.rows[0][11] == "2 of 3"

        # An announcement that asked for no relay has no such table.
        plain_id, _ = await send(
            bot, connector, title="庁内報のお知らせ", relay_required="false", relay_deadline=""
        )
        p = await _page(client, f"/dashboard/announcements?announcement={plain_id}")
        assert not [t for t in p.tables if t.caption.startswith(CAPTION)]
