"""The promoter network: departments (部), sections (課), people, and who holds which role when.

History is kept: an assignment that ends gets ``valid_to``; it is never deleted.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow


class PromoterRole(enum.StrEnum):
    LEADER = "leader"  # DX推進リーダー
    SUBLEADER = "subleader"  # DX推進サブリーダー


class DivisionRoleKind(enum.StrEnum):
    ADMIN = "admin"
    AUTHOR = "author"


def _values(kind: type[enum.Enum]) -> list[str]:
    # Store the lower-case values ('leader'), which the partial unique index below names, not the names.
    return [str(m.value) for m in kind]


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    sections: Mapped[list[Section]] = relationship(back_populates="department", order_by="Section.sort_order")


class Section(Base):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(String(100), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department] = relationship(back_populates="sections")

    __table_args__ = (UniqueConstraint("department_id", "name", name="uq_sections_department_name"),)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320), unique=True)  # always lower-case
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """A person holding a promoter role in a section from ``valid_from`` to ``valid_to`` (open: None)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[PromoterRole] = mapped_column(
        Enum(PromoterRole, native_enum=False, length=16, values_callable=_values)
    )
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # the first day it no longer holds

    section: Mapped[Section] = relationship()
    person: Mapped[Person] = relationship()

    __table_args__ = (
        # One leader per section at a time.
        Index(
            "uq_assignments_one_leader",
            "section_id",
            unique=True,
            sqlite_where=text("role = 'leader' AND valid_to IS NULL"),
            postgresql_where=text("role = 'leader' AND valid_to IS NULL"),
        ),
        # Current holders: what the role source, coverage and delivery read on every turn.
        Index(
            "ix_assignments_open_person",
            "person_id",
            "section_id",
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
    )


class DivisionRole(Base):
    """A DX division role (admin or author) held by a person; revoked rows are kept."""

    __tablename__ = "division_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[DivisionRoleKind] = mapped_column(
        Enum(DivisionRoleKind, native_enum=False, length=16, values_callable=_values)
    )
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_division_roles_active",
            "role",
            "person_id",
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


class PendingImport(Base):
    """A roster file an admin sent in Teams, waiting for 「適用する」: only that admin may apply it.

    The file itself is kept until the admin decides, so applying re-reads and re-checks it against the
    roster as it is then; afterwards the content is cleared (no personal data kept longer than needed).
    """

    __tablename__ = "roster_pending_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # in the card's buttons
    requested_by_aad: Mapped[str] = mapped_column(String(64), index=True)  # the Teams account that sent it
    requested_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    requested_by_label: Mapped[str] = mapped_column(String(320))
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    effective: Mapped[date] = mapped_column(Date)
    plan_digest: Mapped[str] = mapped_column(String(64))  # what the dry run showed
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|applied|cancelled|superseded
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
