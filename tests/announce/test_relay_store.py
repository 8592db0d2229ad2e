"""Relay reports and the per-section status on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from dialogs.announce.relay import store
from storage.db import make_engine, make_sessionmaker
from storage.models import (
    Announcement,
    AnnouncementRecipient,
    AnnouncementRelay,
    ChatReadMark,
    Delivery,
    Person,
)
from storage.models.announce import AnnouncementMemberAck

T0 = datetime(2026, 4, 1, tzinfo=UTC)
pytestmark = pytest.mark.asyncio


async def test_one_report_per_section_corrected_by_either_promoter(db_url) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            await s.execute(
                insert(Person),
                [{"id": i, "name": f"職員{i}", "email": f"p{i}@city.example.jp"} for i in (1, 2, 3)],
            )
            await s.execute(
                insert(Announcement),
                [{"id": 7, "title": "お知らせ", "state": "sent", "ack_required": True, "relay_required": True,
                  "audience": {"kind": "all"}, "links": [], "form": {}}],
            )  # fmt: skip
            await s.execute(
                insert(AnnouncementRecipient),
                [
                    {"announcement_id": 7, "person_id": pid, "name": f"職員{pid}", "email": "", "department": "総務部",
                     "section": sec, "section_id": sid, "role": role, "sort_key": pid,
                     "confirmed_at": T0 if pid != 3 else None}
                    for pid, sec, sid, role in [(1, "総務課", 10, "leader"), (2, "総務課", 10, "subleader"),
                                                (3, "税務課", 20, "leader")]
                ],
            )  # fmt: skip
            base = {"kind": "announcement", "ref_id": 7, "op": "send", "purpose": "initial", "payload": {}}
            await s.execute(
                insert(Delivery),
                [
                    {**base, "recipient_key": "person:1", "person_id": 1, "conversation_id": "c1",
                     "state": "delivered", "activity_id": "1733390000001", "read_at": T0},
                    {**base, "recipient_key": "person:2", "person_id": 2, "conversation_id": "c2",
                     "state": "delivered", "activity_id": "1733390000002"},
                    {**base, "recipient_key": "person:3", "person_id": 3, "conversation_id": "c3",
                     "state": "unreachable"},
                ],
            )  # fmt: skip
            s.add(ChatReadMark(conversation_id="c2", last_read_message_id="1", last_read_seq=1))
            s.add(AnnouncementMemberAck(announcement_id=7, section_id=10, aad_object_id="aad-x", name="x"))
        async with sessions() as s, s.begin():
            ann = await s.get(Announcement, 7)
            first = await store.report(
                s, ann, copy_person_id=1, claimed_section_id=10, method="meeting", reached=12, note="", now=T0
            )
            assert first.ok and not first.corrected
            forged = await store.report(
                s, ann, copy_person_id=1, claimed_section_id=20, method="mail", reached=None, note="", now=T0
            )
            assert not forged.ok and forged.reason == "forged"
            unconfirmed = await store.report(
                s, ann, copy_person_id=3, claimed_section_id=20, method="mail", reached=None, note="", now=T0
            )
            assert not unconfirmed.ok and unconfirmed.reason == "confirm_first"
        async with sessions() as s, s.begin():
            ann = await s.get(Announcement, 7)
            later = T0 + timedelta(hours=1)
            second = await store.report(
                s,
                ann,
                copy_person_id=2,
                claimed_section_id=None,
                method="other",
                reached=None,
                note="朝礼",
                now=later,
            )
            assert second.ok and second.corrected
        async with sessions() as s:
            rows = (await s.scalars(select(AnnouncementRelay))).all()
            assert [(r.section_id, r.method, r.note, r.reporter_name, r.corrections) for r in rows] == [
                (10, "other", "朝礼", "職員2", 1)
            ]
            sections = await store.section_status(s, 7)
            soumu, zeimu = sections
            assert (
                soumu.section,
                soumu.promoters,
                soumu.delivered,
                soumu.read,
                soumu.unread,
                soumu.confirmed,
            ) == ("総務課", 2, 2, 1, 1, 2)
            assert soumu.relayed and soumu.members_confirmed == 1
            assert (zeimu.section, zeimu.relayed, zeimu.reachable) == ("税務課", False, False)
            summary = store.summarize(sections)
            assert (summary.relayed, summary.sections, summary.unreachable) == (1, 2, ["税務課"])
    finally:
        await engine.dispose()


async def test_a_section_channel_copy_names_who_posted_it_whoever_reports_later(db_url) -> None:
    """「課のチャネルに投稿」 records who shared the copy with it; the copy, redrawn after the other promoter
    corrected the section's report, still names the one who posted."""
    from bot.api import Address
    from dialogs.announce.relay import channels
    from dialogs.engines import delivery
    from dialogs.engines.delivery import DeliveryItem, Recipient

    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            await s.execute(
                insert(Person),
                [{"id": i, "name": f"職員{i}", "email": f"p{i}@city.example.jp"} for i in (1, 2)],
            )
            await s.execute(
                insert(Announcement),
                [{"id": 7, "title": "お知らせ", "state": "sent", "ack_required": True, "relay_required": True,
                  "audience": {"kind": "all"}, "links": [], "form": {}}],
            )  # fmt: skip
            await s.execute(
                insert(AnnouncementRecipient),
                [
                    {"announcement_id": 7, "person_id": pid, "name": f"職員{pid}", "email": "", "department": "総務部",
                     "section": "総務課", "section_id": 10, "role": role, "sort_key": pid, "confirmed_at": T0}
                    for pid, role in [(1, "leader"), (2, "subleader")]
                ],
            )  # fmt: skip
        async with sessions() as s, s.begin():
            ann = await s.get(Announcement, 7)
            assert ann is not None
            posted = await store.report(
                s, ann, copy_person_id=1, claimed_section_id=10, method="channel", reached=3, note="", now=T0
            )
            assert posted.ok and posted.recipient is not None
            where = Recipient(
                address=Address(conversation_id="19:soumu", service_url="https://smba.example/")
            )
            message = channels.channel_message(
                "ja", ann, section_id=10, sharer=channels.sharer_from(posted.recipient), confirmed=0
            )
            item = DeliveryItem(where, message, purpose=channels.purpose_of(10))
            assert await delivery.enqueue(s, "announcement", 7, [item], now=T0) == 1
            await channels.record_post(s, ann, where, 10, posted.recipient, T0)
        async with sessions() as s, s.begin():
            ann = await s.get(Announcement, 7)
            corrected = await store.report(
                s,
                ann,
                copy_person_id=2,
                claimed_section_id=10,
                method="meeting",
                reached=None,
                note="",
                now=T0,
            )
            assert corrected.ok and corrected.corrected
        async with sessions() as s:
            ann = await s.get(Announcement, 7)
            assert ann is not None
            row = await s.scalar(select(Delivery).where(Delivery.purpose == "section-10"))
            assert row is not None
            redrawn = [
                await channels.channel_message_for(s, "ja", ann, row),
                *(await channels.section_channel_messages(s, "ja", ann)).values(),
            ]
            assert len(redrawn) == 2
            for m in redrawn:
                assert m.card is not None
                assert (
                    m.card["body"][0]["items"][0]["text"] == "総務課 DX推進リーダー 職員1さんが共有しました。"
                )
    finally:
        await engine.dispose()
