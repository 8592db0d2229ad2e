"""Pulse surveys: definitions, schedules, rounds, who was asked (tracking) and what was answered.

Two sides are kept apart on purpose (see dialogs/survey/PRIVACY.md):
- ``SurveyRecipient`` knows *who* was asked and *whether* they answered (for reminders and the
  response rate), never what they answered;
- ``SurveyResponse`` / ``SurveyAnswerValue`` hold *what* was answered. In an anonymous round a
  response carries only the group attributes needed for breakdowns (department, section, role,
  coarsened where a group is small), a random id, and a hash of an edit key that only the
  respondent's card holds; no person, no delivery or activity id, no time. While the round is
  open, a group is written only once k respondents share it (until then it is sealed in ``held``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Survey(Base):
    """A questionnaire: built from a template, a file, or in Teams. Rounds copy its questions."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(32))  # mindset | tools | workload | None
    description: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list] = mapped_column(JSON)  # list of question dicts (dialogs/survey/questions.py)
    anonymous: Mapped[bool] = mapped_column(default=True)
    threshold: Mapped[int] = mapped_column(Integer, default=5)  # smallest group whose figures are shown
    archived: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SurveySchedule(Base):
    """When rounds open, for whom, and for how long. ``next_run_at`` is the claim point."""

    __tablename__ = "survey_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # monthly | quarterly | cron
    nth_business_day: Mapped[int] = mapped_column(Integer, default=2)
    at_time: Mapped[str] = mapped_column(String(5), default="10:00")  # HH:MM JST
    cron: Mapped[str | None] = mapped_column(String(100))
    audience: Mapped[dict] = mapped_column(
        JSON
    )  # {"roles": [...], "department_ids": [...], "section_ids": [...]}
    window_business_days: Mapped[int] = mapped_column(Integer, default=5)
    close_time: Mapped[str] = mapped_column(String(5), default="17:00")
    reminders: Mapped[list] = mapped_column(JSON)  # [{"days_before": 2, "at": "10:00"}, …]
    active: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyRound(Base):
    """One asking of a survey: scheduled → open → closed. Questions and privacy rules are frozen."""

    __tablename__ = "survey_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("survey_schedules.id"))
    number: Mapped[int] = mapped_column(Integer, default=1)  # 第n回 of this survey (1, 2, … per survey)
    label: Mapped[str] = mapped_column(String(60), default="")  # 2026年4月
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled|open|closed|cancelled
    open_at: Mapped[datetime]  # planned opening (the schedule's fire time)
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)  # opened well after open_at (the bot was down)
    questions: Mapped[list] = mapped_column(JSON)
    anonymous: Mapped[bool] = mapped_column(default=True)
    threshold: Mapped[int] = mapped_column(Integer, default=5)
    audience: Mapped[dict] = mapped_column(JSON)
    window_business_days: Mapped[int] = mapped_column(Integer, default=5)
    close_time: Mapped[str] = mapped_column(String(5), default="17:00")
    reminder_rules: Mapped[list] = mapped_column(JSON, default=list)
    reminder_plan: Mapped[list] = mapped_column(JSON, default=list)  # ISO datetimes (UTC), ascending
    reminders_done: Mapped[int] = mapped_column(Integer, default=0)
    # Group sizes of the audience at opening: which group attributes an anonymous answer may keep.
    granularity: Mapped[dict] = mapped_column(JSON, default=dict)
    invited: Mapped[int] = mapped_column(Integer, default=0)
    sealed: Mapped[bool] = mapped_column(default=False)  # anonymous groups coarsened after closing
    results_posted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("schedule_id", "open_at", name="uq_survey_rounds_schedule_open"),
        UniqueConstraint("survey_id", "number", name="uq_survey_rounds_survey_number"),
        Index("ix_survey_rounds_status", "status"),
    )


class SurveyRecipient(Base):
    """Response tracking: a person asked in a round, and whether they have answered (not what)."""

    __tablename__ = "survey_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(Integer)
    section_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # leader | subleader
    responded: Mapped[bool] = mapped_column(default=False)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("round_id", "person_id", name="uq_survey_recipients_round_person"),)


class SurveyResponse(Base):
    """What one respondent answered in a round. Anonymous rounds: no person, no time (see above).

    The id is random and, on SQLite, the table has no rowid, so storage order does not follow the
    order in which people answered.
    """

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(Integer)
    section_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(16))
    # Named rounds only:
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime | None]
    # Anonymous rounds only: sha256 of the edit key held by the respondent's card.
    edit_key_hash: Mapped[str | None] = mapped_column(String(64))
    # Anonymous rounds while open: the group (and, while the round has fewer than k answers, the
    # values) sealed with a key that is not in the database (dialogs/survey/envelope.py). The
    # columns above carry a group only once at least k respondents share it; erased at closing.
    held: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("round_id", "person_id", name="uq_survey_responses_round_person"),
        UniqueConstraint("round_id", "edit_key_hash", name="uq_survey_responses_round_key"),
        # Covers the GROUP BY of results and trends: no lookup into the table per response.
        Index("ix_survey_responses_groups", "round_id", "department_id", "section_id", "role", "id"),
        {"sqlite_with_rowid": False},
    )


class SurveyAnswerValue(Base):
    """One value of a response: a number (scales, numbers), a choice key, or a text."""

    __tablename__ = "survey_answer_values"

    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)  # several choices: 0, 1, …
    num: Mapped[float | None] = mapped_column(Float)
    choice: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = ({"sqlite_with_rowid": False},)
