"""survey: covering index for the results and trend GROUP BY

Revision ID: 0021_survey_groups_index
Revises: 0020_survey
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_survey_groups_index"
down_revision: str | Sequence[str] | None = "0020_survey"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_survey_responses_groups",
        "survey_responses",
        ["round_id", "department_id", "section_id", "role", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_survey_responses_groups", table_name="survey_responses")
