"""delivery: read receipts (既読) — the last-read message per chat, and when each copy was read

Revision ID: 0013_delivery_read
Revises: 0012_delivery_workers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0013_delivery_read"
down_revision: str | Sequence[str] | None = "0012_delivery_workers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows keep read_at NULL: nothing was known about them, so they count as "unknown".
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("read_at", storage.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_deliveries_conversation", ["conversation_id"], unique=False)
    op.create_table(
        "chat_read_marks",
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("last_read_message_id", sa.String(length=256), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_receipt_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_chat_read_marks")),
    )


def downgrade() -> None:
    op.drop_table("chat_read_marks")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_conversation")
        batch_op.drop_column("read_at")
