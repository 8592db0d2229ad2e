"""delivery: indexes the claim walks in order (queued by priority and time, expired leases)

Revision ID: 0011_delivery_claim
Revises: 0010_delivery
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_delivery_claim"
down_revision: str | Sequence[str] | None = "0010_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index(
            "ix_deliveries_claim", ["state", "priority", "next_attempt_at", "id"], unique=False
        )
        batch_op.create_index("ix_deliveries_lease", ["state", "claimed_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_lease")
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.create_index("ix_deliveries_due", ["state", "next_attempt_at"], unique=False)
