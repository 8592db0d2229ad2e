"""roster: pending imports from Teams, role values that the one-leader index sees, open-assignment index

0002 stored enum *names* ('LEADER') while the partial unique index tests ``role = 'leader'``, so the
one-leader rule was never enforced. The models now store the values; existing rows are lower-cased.

Revision ID: 0003_roster_reach
Revises: 0002_roster
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0003_roster_reach"
down_revision: str | Sequence[str] | None = "0002_roster"
branch_labels: str | Sequence[str] | None = ("roster",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE assignments SET role = lower(role)")
    op.execute("UPDATE division_roles SET role = lower(role)")
    op.create_table(
        "roster_pending_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("requested_by_aad", sa.String(length=64), nullable=False),
        sa.Column("requested_by_person_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_label", sa.String(length=320), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("plan_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_person_id"],
            ["people.id"],
            name=op.f("fk_roster_pending_imports_requested_by_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_pending_imports")),
        sa.UniqueConstraint("token", name=op.f("uq_roster_pending_imports_token")),
    )
    with op.batch_alter_table("roster_pending_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roster_pending_imports_requested_by_aad"), ["requested_by_aad"], unique=False
        )
    # Current holders are what every turn (role source), coverage and delivery read.
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_open_person",
            ["person_id", "section_id"],
            unique=False,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
    with op.batch_alter_table("division_roles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_division_roles_active",
            ["role", "person_id"],
            unique=False,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("division_roles", schema=None) as batch_op:
        batch_op.drop_index("ix_division_roles_active")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_open_person")
    with op.batch_alter_table("roster_pending_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_pending_imports_requested_by_aad"))
    op.drop_table("roster_pending_imports")
    op.execute("UPDATE division_roles SET role = upper(role)")
    op.execute("UPDATE assignments SET role = upper(role)")
