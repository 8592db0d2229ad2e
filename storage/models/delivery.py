"""The delivery engine's durable state: one row per (message, recipient), and the live workers.

A row is keyed by (kind, ref_id, recipient_key, purpose), so enqueueing the same thing twice is a
no-op. ``op`` is "send" for a new message, "update"/"delete" for a change to the copy that the row
``target_id`` delivered (edit and recall of an announcement).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its time (next_attempt_at)
    SENDING = "sending"  # claimed by a worker until claimed_until
    DELIVERED = "delivered"  # done; activity_id is the Teams message
    FAILED = "failed"  # gave up after the allowed attempts
    UNREACHABLE = "unreachable"  # 403/404 or no conversation with the recipient: error says why
    CANCELLED = "cancelled"  # withdrawn before it went out (recall)
    SKIPPED = "skipped"  # an update/delete whose target was never delivered or was superseded


PENDING_STATES = (DeliveryState.QUEUED, DeliveryState.SENDING)


class DeliveryOp(enum.StrEnum):
    SEND = "send"
    UPDATE = "update"
    DELETE = "delete"


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "announcement", "survey", "qa", …
    ref_id: Mapped[int] = mapped_column(Integer)  # the feature's object (announcement id, …)
    recipient_key: Mapped[str] = mapped_column(String(600))  # "person:12", "aad:…", "conv:…"
    purpose: Mapped[str] = mapped_column(String(80), default="initial")  # "initial", "reminder-1", …
    op: Mapped[str] = mapped_column(String(10), default=DeliveryOp.SEND)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))  # update/delete: the send row

    person_id: Mapped[int | None] = mapped_column(Integer)
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(512))  # where it went (after resolution)
    address: Mapped[dict | None] = mapped_column(JSON)  # bot.api.Address fields, once resolved
    payload: Mapped[dict] = mapped_column(JSON)  # bot.api.Message fields

    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED)
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower goes first
    not_before: Mapped[datetime | None]  # a scheduled send: due from this moment
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    throttles: Mapped[int] = mapped_column(Integer, default=0)  # of those attempts, answered 429
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    recreated: Mapped[bool] = mapped_column(Boolean, default=False)  # personal chat re-created once
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # went out well after not_before

    activity_id: Mapped[str | None] = mapped_column(String(256))
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)  # last HTTP status (None: timeout)
    error: Mapped[str | None] = mapped_column(String(64))  # blocked, uninstalled, no_conversation, …
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "recipient_key", "purpose", name="uq_deliveries_key"),
        # The claim walks these in order: queued rows by priority and time, expired leases by time.
        Index("ix_deliveries_claim", "state", "priority", "next_attempt_at", "id"),
        Index("ix_deliveries_lease", "state", "claimed_until"),
        Index("ix_deliveries_ref", "kind", "ref_id", "state"),
        Index("ix_deliveries_activity", "activity_id"),
        Index("ix_deliveries_target", "target_id"),
    )


class DeliveryWorker(Base):
    """A running worker's heartbeat. A worker whose heartbeat is stale, or whose process is gone
    (same host, ``pid`` no longer running), is dead: its claimed rows are taken over at once."""

    __tablename__ = "delivery_workers"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    pid: Mapped[int | None] = mapped_column(Integer)


class DeliveryBudget(Base):
    """The app-wide send budget all workers draw from (a token bucket in GCRA form): ``tat`` is the
    epoch second at which the next slot is free. Workers book a few slots at a time with one UPDATE."""

    __tablename__ = "delivery_budget"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # "app"
    tat: Mapped[float] = mapped_column(Float, default=0.0)
