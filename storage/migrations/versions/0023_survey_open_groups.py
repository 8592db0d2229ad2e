"""survey: anonymous answers of an open round keep their group sealed until enough people answered

``survey_responses.held``: an envelope (AES-GCM under a key derived from DXBOT_SECRET_KEY, which is
not in the database) with the answer's group and, while the round has fewer answers than its
threshold, its values. Erased at closing. Existing rows keep NULL (they are stored as before).

Revision ID: 0023_survey_open_groups
Revises: 0022_survey_round_number
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_survey_open_groups"
down_revision: str | Sequence[str] | None = "0022_survey_round_number"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_column("held")
