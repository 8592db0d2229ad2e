"""delivery: worker pids (a restarted worker recognises a dead peer) and one shared send budget

Revision ID: 0012_delivery_workers
Revises: 0011_delivery_claim
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_delivery_workers"
down_revision: str | Sequence[str] | None = "0011_delivery_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
    op.create_table(
        "delivery_budget",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_budget")),
    )


def downgrade() -> None:
    op.drop_table("delivery_budget")
    with op.batch_alter_table("delivery_workers", schema=None) as batch_op:
        batch_op.drop_column("pid")
