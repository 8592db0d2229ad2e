"""qa: a message log on each ticket (the DX division's answers and the asker's replies)

Revision ID: 0031_qa_ticket_messages
Revises: 0030_qa
Create Date: 2026-12-05 04:00:00

Existing answered tickets get their answer as the first message, so the exchange shown on the
cards starts where the ticket stands.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0031_qa_ticket_messages"
down_revision: str | Sequence[str] | None = "0030_qa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qa_ticket_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column(
            "author",
            sa.Enum("asker", "division", name="ticketauthor", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("author_name", sa.String(length=256), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["qa_tickets.id"],
            name=op.f("fk_qa_ticket_messages_ticket_id_qa_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_ticket_messages")),
    )
    with op.batch_alter_table("qa_ticket_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_ticket_messages_ticket_id"), ["ticket_id"], unique=False)
    # The answers given so far become the first message of their ticket.
    op.execute(
        "INSERT INTO qa_ticket_messages (ticket_id, author, author_name, body, at) "
        "SELECT id, 'division', COALESCE(answered_by, ''), answer, COALESCE(answered_at, created_at) "
        "FROM qa_tickets WHERE answer IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    with op.batch_alter_table("qa_ticket_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_ticket_messages_ticket_id"))
    op.drop_table("qa_ticket_messages")
