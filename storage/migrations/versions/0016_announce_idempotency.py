"""announce: an idempotency key per announcement (CLI --idempotency-key, HTTP Idempotency-Key)

Revision ID: 0016_announce_idempotency
Revises: 0015_announce
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_announce_idempotency"
down_revision: str | Sequence[str] | None = "0015_announce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_announcements_idempotency_key", ["idempotency_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index("ix_announcements_idempotency_key")
        batch_op.drop_column("idempotency_key")
