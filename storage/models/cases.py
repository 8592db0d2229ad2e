"""Improvement cases (改善事例) and recognition rounds (表彰).

A case belongs to the section that made the improvement; the department is kept as it was when the
case was submitted, so a later reorganisation does not move past hours saved between departments.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ImprovementCase(Base):
    __tablename__ = "improvement_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tools: Mapped[list] = mapped_column(JSON, default=list)  # tool names from the survey's tool list
    work: Mapped[str] = mapped_column(String(200), default="")  # the work affected (e.g. 「給与明細の配付」)
    hours_before: Mapped[float] = mapped_column(Float)  # per month
    hours_after: Mapped[float] = mapped_column(Float)  # per month
    staff: Mapped[int] = mapped_column(Integer)  # staff involved in the work
    file_url: Mapped[str | None] = mapped_column(String(1000))
    started_on: Mapped[date] = mapped_column(Date)  # when the improvement took effect
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)  # April–March, named by its April
    state: Mapped[str] = mapped_column(String(12), default="submitted")  # submitted|returned|published
    review_comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(12), default="teams")  # teams | import
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None] = mapped_column(index=True)

    @property
    def hours_saved(self) -> float:
        return max(0.0, self.hours_before - self.hours_after)

    __table_args__ = (Index("ix_improvement_cases_state_fy", "state", "fiscal_year"),)


class RecognitionRound(Base):
    """A nomination and voting period the DX division opens (a quarter, a fiscal year)."""

    __tablename__ = "recognition_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[date] = mapped_column(Date)  # cases published in [from, to] are candidates
    period_to: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    results: Mapped[list] = mapped_column(JSON, default=list)  # [{case_id, title, section, votes}] at closing


class RecognitionVote(Base):
    """One vote per person per round. The voter is kept only to enforce that rule; nobody but the
    database sees who voted for what (the DX division sees counts)."""

    __tablename__ = "recognition_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("recognition_rounds.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("improvement_cases.id"), index=True)
    voter_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("round_id", "voter_person_id", name="uq_recognition_votes_voter"),)
