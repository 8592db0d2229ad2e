"""qa: phrasings learned from use (別の聞き方), candidates waiting for the DX division

Revision ID: 0032_qa_phrasings
Revises: 0031_qa_ticket_messages
Create Date: 2026-12-05 04:30:00

A new table only; approved phrasings are copied into qa_entries.alternates, which already exists,
so entries and their search need no migration of data.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0032_qa_phrasings"
down_revision: str | Sequence[str] | None = "0031_qa_ticket_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qa_phrasings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "ticket", "feedback", "choice", "typed", name="phrasingsource", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("candidate", "approved", "rejected", name="phrasingstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_phrasings")),
    )
    with op.batch_alter_table("qa_phrasings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_phrasings_entry_key"), ["entry_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_phrasings_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("qa_phrasings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_phrasings_status"))
        batch_op.drop_index(batch_op.f("ix_qa_phrasings_entry_key"))
    op.drop_table("qa_phrasings")
