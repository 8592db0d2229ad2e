"""announce: how many automatic reminders went, to confirm and to relay (one per deadline; a moved deadline
re-arms it, so ``auto_reminded_at`` / ``relay_reminded_at`` alone no longer say how many)

Revision ID: 0018_announce_auto_reminders
Revises: 0017_announce_relay
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_announce_auto_reminders"
down_revision: str | Sequence[str] | None = "0017_announce_relay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_reminders", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("relay_auto_reminders", sa.Integer(), nullable=False, server_default="0")
        )
    # Before this, at most one of each went per announcement: the one its time stamp says went.
    op.execute("UPDATE announcements SET auto_reminders = 1 WHERE auto_reminded_at IS NOT NULL")
    op.execute("UPDATE announcements SET relay_auto_reminders = 1 WHERE relay_reminded_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_column("relay_auto_reminders")
        batch_op.drop_column("auto_reminders")
