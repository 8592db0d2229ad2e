"""Announcements (お知らせ) from the DX division, and who each one went to.

The recipients are a snapshot taken when the announcement is sent (name, section, role as they were
that day), so "which sections were told, and who confirmed" can be proven after the April transfers.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    auto_reminder_at: Mapped[datetime | None]
    auto_reminded_at: Mapped[datetime | None]
    progress_seq: Mapped[int] = mapped_column(Integer, default=0)
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
