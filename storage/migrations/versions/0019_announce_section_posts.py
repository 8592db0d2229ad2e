"""announce: who shared each copy posted into a section's channel, recorded when it is posted

The copy named the sharer from the section's relay report as it stands now, so a correction of the
report by the other promoter made them the sharer at the next redraw. Copies posted before this take the
reporter of their section's report now: the best record there is (right unless it was corrected since).

Revision ID: 0019_announce_section_posts
Revises: 0018_announce_auto_reminders
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0019_announce_section_posts"
down_revision: str | Sequence[str] | None = "0018_announce_auto_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcement_section_posts",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("shared_by", sa.Integer(), nullable=True),
        sa.Column("sharer_name", sa.String(length=100), nullable=False),
        sa.Column("sharer_section", sa.String(length=100), nullable=False),
        sa.Column("sharer_role", sa.String(length=16), nullable=True),
        sa.Column("posted_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_announcement_section_posts_delivery_id_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_section_posts_announcement_id_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["shared_by"], ["people.id"], name=op.f("fk_announcement_section_posts_shared_by_people")
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_announcement_section_posts")),
    )
    with op.batch_alter_table("announcement_section_posts", schema=None) as batch_op:
        batch_op.create_index("ix_announcement_section_posts_announcement", ["announcement_id"], unique=False)
    # Every copy already posted (purpose "section-<section id>"), with its section's report's reporter and
    # the role that person was sent the announcement in there.
    op.execute(
        """
        INSERT INTO announcement_section_posts
            (delivery_id, announcement_id, section_id, shared_by, sharer_name, sharer_section, sharer_role,
             posted_at)
        SELECT p.id, p.ref_id, p.section_id, r.reported_by, COALESCE(r.reporter_name, ''),
               COALESCE(ar.section, ''), ar.role, p.created_at
        FROM (
            SELECT d.id, d.ref_id, d.created_at, CAST(SUBSTR(d.purpose, 9) AS INTEGER) AS section_id
            FROM deliveries d
            JOIN announcements a ON a.id = d.ref_id
            WHERE d.kind = 'announcement' AND d.op = 'send' AND d.purpose LIKE 'section-%'
        ) p
        LEFT JOIN announcement_relays r ON r.announcement_id = p.ref_id AND r.section_id = p.section_id
        LEFT JOIN announcement_recipients ar
            ON ar.announcement_id = p.ref_id AND ar.person_id = r.reported_by AND ar.section_id = p.section_id
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("announcement_section_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_announcement_section_posts_announcement")
    op.drop_table("announcement_section_posts")
