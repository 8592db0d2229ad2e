"""announce: relay requests (伝達依頼) and the sections' relay reports

Revision ID: 0017_announce_relay
Revises: 0016_announce_idempotency
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0017_announce_relay"
down_revision: str | Sequence[str] | None = "0016_announce_idempotency"
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
    op.create_table(
        "section_channels",
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("conversation_type", sa.String(length=20), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("bot_id", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.String(length=256), nullable=True),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("linked_by", sa.String(length=320), nullable=False),
        sa.Column("linked_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("section_id", name=op.f("pk_section_channels")),
    )
    op.create_table(
        "announcement_member_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("confirmed_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_member_acks_announcement_id_announcements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_member_acks")),
        sa.UniqueConstraint(
            "announcement_id", "section_id", "aad_object_id", name="uq_announcement_member_acks_member"
        ),
    )


def downgrade() -> None:
    op.drop_table("announcement_member_acks")
    op.drop_table("section_channels")
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
