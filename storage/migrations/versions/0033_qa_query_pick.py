"""qa: the entry picked from 「どれが近いですか?」 on the logged question (answered by choice)

Revision ID: 0033_qa_query_pick
Revises: 0032_qa_phrasings
Create Date: 2026-12-06 03:00:00

A question shown three choices was logged as not answered, and stayed so when the asker picked one: the
dashboard listed it among the questions the bot could not answer. The pick is now kept on the question.
Questions logged before have no pick recorded (NULL), as nothing told which was picked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_qa_query_pick"
down_revision: str | Sequence[str] | None = "0032_qa_phrasings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("qa_queries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("picked_key", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qa_queries", schema=None) as batch_op:
        batch_op.drop_column("picked_key")
