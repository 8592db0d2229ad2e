"""announce: relay requests (伝達依頼) and the sections' relay reports

Revision ID: 0017_announce_relay
Revises: 0015_announce
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0017_announce_relay"
down_revision: str | Sequence[str] | None = "0015_announce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Announcements sent before this asked for no relay: false, no deadline.
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("relay_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("relay_deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("relay_reminders", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("relay_reminder_at", storage.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("relay_reminded_at", storage.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "announcement_relays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=False),
        sa.Column("reported_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_relays_announcement_id_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["people.id"], name=op.f("fk_announcement_relays_reported_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_relays")),
        sa.UniqueConstraint("announcement_id", "section_id", name="uq_announcement_relays_section"),
    )
    with op.batch_alter_table("announcement_relays", schema=None) as batch_op:
        batch_op.create_index("ix_announcement_relays_announcement", ["announcement_id"], unique=False)


def downgrade() -> None:
    op.drop_table("announcement_relays")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        for column in (
            "relay_reminded_at",
            "relay_reminder_at",
            "relay_reminders",
            "relay_deadline",
            "relay_required",
        ):
            batch_op.drop_column(column)
