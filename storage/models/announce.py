"""Announcements (お知らせ) from the DX division, and who each one went to.

The recipients are a snapshot taken when the announcement is sent (name, section, role as they were
that day), so "which sections were told, and who confirmed" can be proven after the April transfers.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class AnnouncementState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # waits for send_at
    SENDING = "sending"  # rows queued in the delivery engine
    SENT = "sent"  # every first copy settled (delivered, failed or unreachable)
    RECALLED = "recalled"  # withdrawn: delivered copies deleted
    DISCARDED = "discarded"  # a draft thrown away


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list] = mapped_column(JSON, default=list)  # [{"title": …, "url": …}], up to three
    importance: Mapped[str] = mapped_column(String(10), default="normal")  # normal | high (重要)
    # {"kind": "all" | "leaders" | "departments" | "sections", "ids": [...]}
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    to_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    ack_required: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[date | None] = mapped_column(Date)  # 確認期限 (a business day, JST)
    send_at: Mapped[datetime | None]  # None: at once
    state: Mapped[str] = mapped_column(String(16), default=AnnouncementState.DRAFT)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # went out after a downtime
    version: Mapped[int] = mapped_column(Integer, default=1)  # +1 per edit after sending
    reminders: Mapped[int] = mapped_column(Integer, default=0)  # manual 督促 sent so far
    # The automatic reminder of the current confirmation deadline: when it is due, when it went. An edit
    # that moves the deadline re-arms it (one per deadline); ``auto_reminders`` counts those that went.
    auto_reminder_at: Mapped[datetime | None]
    auto_reminded_at: Mapped[datetime | None]
    auto_reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_seq: Mapped[int] = mapped_column(Integer, default=0)
    # 伝達依頼: each section's promoters pass it on inside the section and report how (AnnouncementRelay).
    relay_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    relay_deadline: Mapped[date | None] = mapped_column(Date)  # 伝達期限 (a business day, JST)
    relay_reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # manual, so far
    relay_reminder_at: Mapped[datetime | None]  # as auto_reminder_at, for the relay deadline
    relay_reminded_at: Mapped[datetime | None]
    relay_auto_reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    form: Mapped[dict] = mapped_column(JSON, default=dict)  # the compose form as last submitted (drafts)

    source: Mapped[str] = mapped_column(String(10), default="teams")  # teams | cli | api
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    author_label: Mapped[str] = mapped_column(String(320), default="")  # email, "cli", "api:<key name>"
    author_locale: Mapped[str] = mapped_column(String(8), default="ja")
    # The caller's key (CLI --idempotency-key, HTTP Idempotency-Key): the same key never makes a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]  # when sending started
    finished_at: Mapped[datetime | None]  # when the last first copy settled
    recalled_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_announcements_state", "state"),
        Index("ix_announcements_idempotency_key", "idempotency_key", unique=True),
    )


class AnnouncementRecipient(Base):
    """One promoter an announcement was addressed to, as the roster stood that day."""

    __tablename__ = "announcement_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    department: Mapped[str] = mapped_column(String(100))
    section: Mapped[str] = mapped_column(String(100))
    section_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # leader | subleader
    sort_key: Mapped[int] = mapped_column(Integer, default=0)  # roster order
    confirmed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("announcement_id", "person_id", name="uq_announcement_recipients_person"),
    )


class AnnouncementRelay(Base):
    """「課内に伝達しました」: one report per section and announcement, by a leader or sub-leader of that
    section; a correction replaces it (``corrections`` counts them)."""

    __tablename__ = "announcement_relays"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"))
    section_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))  # meeting | mail | channel | circular | other
    reached: Mapped[int | None] = mapped_column(Integer)  # staff it reached, if the promoter said
    note: Mapped[str] = mapped_column(String(200), default="")  # その他: how
    reported_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    reporter_name: Mapped[str] = mapped_column(String(100), default="")
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)  # the first report
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    corrections: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("announcement_id", "section_id", name="uq_announcement_relays_section"),
        Index("ix_announcement_relays_announcement", "announcement_id"),
    )


class SectionChannel(Base):
    """A Teams channel or group chat where a section's staff are and the bot is installed, linked by one of
    the section's promoters or an admin from inside it: where 「課のチャネルに投稿」 posts."""

    __tablename__ = "section_channels"

    section_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(512))
    conversation_type: Mapped[str] = mapped_column(String(20))  # channel | groupChat
    service_url: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    bot_id: Mapped[str | None] = mapped_column(String(128))
    team_id: Mapped[str | None] = mapped_column(String(256))  # a channel: its team (whose members it has)
    title: Mapped[str] = mapped_column(String(256), default="")
    linked_by: Mapped[str] = mapped_column(String(320), default="")  # the linker's UPN or name
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnouncementMemberAck(Base):
    """A member of a section's channel pressed 「確認しました」 on the copy a promoter shared there."""

    __tablename__ = "announcement_member_acks"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"))
    section_id: Mapped[int] = mapped_column(Integer)
    aad_object_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256), default="")
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "announcement_id", "section_id", "aad_object_id", name="uq_announcement_member_acks_member"
        ),
    )


class AnnouncementSectionPost(Base):
    """A copy of an announcement posted into a section's channel (「課のチャネルに投稿」) and who shared it, as
    they were when they pressed: the copy keeps naming them, whoever corrects the section's report later."""

    __tablename__ = "announcement_section_posts"

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)  # the copy's row
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"))
    section_id: Mapped[int] = mapped_column(Integer)
    shared_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # None: not known (see 0019)
    sharer_name: Mapped[str] = mapped_column(String(100), default="")
    # The role they were sent the announcement in, in that section; "" / None: not its promoter.
    sharer_section: Mapped[str] = mapped_column(String(100), default="")
    sharer_role: Mapped[str | None] = mapped_column(String(16))  # leader | subleader
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_announcement_section_posts_announcement", "announcement_id"),)
