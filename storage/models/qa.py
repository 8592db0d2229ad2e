"""Question answering: the knowledge base, its synonyms, feedback, the query log, tickets to the
DX division and the anonymous suggestion box (デジタル目安箱).

Feedback and the query log keep the entry's own id as text (no foreign key), so reports still read
after an entry is deleted. Neither stores who asked. Suggestions store no identity at all.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class TicketStatus(enum.StrEnum):
    OPEN = "open"  # 未対応
    CLAIMED = "claimed"  # 対応中
    ANSWERED = "answered"  # 回答済み
    CLOSED = "closed"  # クローズ


def _values(enum_cls: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


class KbEntry(Base):
    """One question and its answer. ``key`` is the entry's own id, as in the CSV/XLSX files."""

    __tablename__ = "qa_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    question: Mapped[str] = mapped_column(Text)
    alternates: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)  # the Markdown subset Teams renders
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(1000))
    owner: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[EntryStatus] = mapped_column(
        Enum(EntryStatus, native_enum=False, length=16, values_callable=_values),
        default=EntryStatus.PUBLISHED,
        index=True,
    )
    source_ticket_id: Mapped[int | None] = mapped_column(Integer)  # drafted from this ticket
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))  # a display name, or "cli"


class SynonymGroup(Base):
    """Terms the search treats as one word (テレワーク = 在宅勤務 = リモートワーク); the first leads."""

    __tablename__ = "qa_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbState(Base):
    """One row: the knowledge base version. Every change increments it, so every process notices
    and rebuilds its search index."""

    __tablename__ = "qa_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    synonyms_seeded: Mapped[bool] = mapped_column(Boolean, default=False)


class QueryLog(Base):
    """A question someone asked (text only, no asker), for "most asked" and "unanswered" reports."""

    __tablename__ = "qa_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    query: Mapped[str] = mapped_column(Text)
    top_key: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[bool] = mapped_column(Boolean)  # answered outright: above the confidence threshold
    # The entry the asker picked from 「どれが近いですか?」: answered by choice (the latest pick).
    picked_key: Mapped[str | None] = mapped_column(String(100))


class Feedback(Base):
    """「役に立った」/「役に立たなかった」 on an answer, with the question that led to it."""

    __tablename__ = "qa_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(100), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    query: Mapped[str] = mapped_column(Text)
    query_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    """A question passed to the DX division, and its way to an answer."""

    __tablename__ = "qa_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[TicketStatus] = mapped_column(
        Enum(TicketStatus, native_enum=False, length=16, values_callable=_values),
        default=TicketStatus.OPEN,
        index=True,
    )
    # The asker, so the answer reaches them: their Teams ids and the service they wrote from.
    asker_aad_object_id: Mapped[str | None] = mapped_column(String(64))
    asker_user_id: Mapped[str] = mapped_column(String(256))
    asker_name: Mapped[str] = mapped_column(String(256), default="")
    asker_person_id: Mapped[int | None] = mapped_column(Integer)
    service_url: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    bot_id: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    query_id: Mapped[int | None] = mapped_column(Integer)
    # The card in the inquiry channel, updated in place at every step.
    channel_conversation_id: Mapped[str | None] = mapped_column(String(512))
    channel_activity_id: Mapped[str | None] = mapped_column(String(256))
    assignee_name: Mapped[str | None] = mapped_column(String(256))
    assignee_aad_object_id: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(256))
    answer_delivered_at: Mapped[datetime | None]
    answer_delivery_error: Mapped[str | None] = mapped_column(String(200))
    entry_key: Mapped[str | None] = mapped_column(String(100))  # the knowledge base entry it became
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_reminded_on: Mapped[date | None] = mapped_column(Date)  # JST day of the last reminder

    __table_args__ = (Index("ix_qa_tickets_asker", "asker_aad_object_id"),)


class TicketAuthor(enum.StrEnum):
    ASKER = "asker"  # the staff member who asked
    DIVISION = "division"  # someone in the DX division


class TicketMessage(Base):
    """One message on a ticket after the question: an answer from the DX division, or the asker's
    reply to it (返信する). The ticket's ``answer`` is the latest answer; this is the whole exchange."""

    __tablename__ = "qa_ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("qa_tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[TicketAuthor] = mapped_column(
        Enum(TicketAuthor, native_enum=False, length=16, values_callable=_values)
    )
    author_name: Mapped[str] = mapped_column(String(256), default="")
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PhrasingStatus(enum.StrEnum):
    CANDIDATE = "candidate"  # 言い換え候補: waits for the DX division
    APPROVED = "approved"  # copied into the entry's alternates, searched with it
    REJECTED = "rejected"  # kept, so the same text is not proposed again


class PhrasingSource(enum.StrEnum):
    TICKET = "ticket"  # 「既存のFAQで回答」 on a ticket: the ticket's question
    FEEDBACK = "feedback"  # 役に立たなかった, then another entry marked 役に立った for the same question
    CHOICE = "choice"  # picked from 「どれが近いですか?」
    TYPED = "typed"  # typed by the DX division


class Phrasing(Base):
    """Another way of asking for an entry (別の聞き方), learned from use. Approved ones are copied into
    the entry's ``alternates`` (what the search and the files read); this row keeps where it came from
    and the decision. No asker is stored."""

    __tablename__ = "qa_phrasings"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[PhrasingSource] = mapped_column(
        Enum(PhrasingSource, native_enum=False, length=16, values_callable=_values)
    )
    status: Mapped[PhrasingStatus] = mapped_column(
        Enum(PhrasingStatus, native_enum=False, length=16, values_callable=_values),
        default=PhrasingStatus.CANDIDATE,
        index=True,
    )
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(256))


class Suggestion(Base):
    """An idea or complaint for the デジタル目安箱. No identity, by design: no user, no conversation,
    and only the day it arrived (an exact time could be matched against when people were last seen)."""

    __tablename__ = "qa_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # idea | complaint | other
    body: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)  # JST
    posted: Mapped[bool] = mapped_column(Boolean, default=False)  # reached the DX division's channel
