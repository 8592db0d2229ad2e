"""survey: rounds are numbered per survey (第n回 of that survey), unique within it

Existing rounds are renumbered 1, 2, 3, … per survey in the order they were created, so that
DXマインド's thirteenth round is 第13回 whatever other surveys ran in between.

Revision ID: 0022_survey_round_number
Revises: 0021_survey_groups_index
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_survey_round_number"
down_revision: str | Sequence[str] | None = "0021_survey_groups_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    rounds = sa.table(
        "survey_rounds",
        sa.column("id", sa.Integer),
        sa.column("survey_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("created_at", sa.DateTime),
    )
    rows = bind.execute(
        sa.select(rounds.c.id, rounds.c.survey_id).order_by(
            rounds.c.survey_id, rounds.c.created_at, rounds.c.id
        )
    ).all()
    counter: dict[int, int] = {}
    for round_id, survey_id in rows:
        counter[survey_id] = counter.get(survey_id, 0) + 1
        bind.execute(sa.update(rounds).where(rounds.c.id == round_id).values(number=counter[survey_id]))
    with op.batch_alter_table("survey_rounds", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_survey_rounds_survey_number", ["survey_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("survey_rounds", schema=None) as batch_op:
        batch_op.drop_constraint("uq_survey_rounds_survey_number", type_="unique")
