"""identity: Teams accounts keyed by (tenant, object id) with their UPN; trusted service URLs

Accounts keep the UPN that made their roster link; service URLs are those seen on authenticated
requests.

Existing accounts get their tenant from the stored conversation references where it was missing
(else ''), and are asked for their UPN again on their next message (``email_checked_at`` cleared).
Existing roster links (``person_id``) are kept. Service URLs of stored references that use https are
taken as trusted: an authenticated bot stored them from authenticated requests, and without them
proactive sends would stop until each URL is seen again.

Revision ID: 0005_account_tenant
Revises: 0003_roster_reach
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0005_account_tenant"
down_revision: str | Sequence[str] | None = "0003_roster_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE teams_accounts SET tenant_id = ("
        " SELECT r.tenant_id FROM conversation_refs r"
        " WHERE r.aad_object_id = teams_accounts.aad_object_id AND r.tenant_id IS NOT NULL"
        " ORDER BY r.updated_at DESC LIMIT 1)"
        " WHERE tenant_id IS NULL"
    )
    op.execute("UPDATE teams_accounts SET tenant_id = '' WHERE tenant_id IS NULL")
    # Object ids were unique on their own so far: lower-casing the tenant cannot make two rows one.
    op.execute("UPDATE teams_accounts SET tenant_id = lower(tenant_id)")
    op.execute("UPDATE teams_accounts SET email_checked_at = NULL")
    with op.batch_alter_table("teams_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upn", sa.String(length=320), nullable=True))
        batch_op.alter_column(
            "tenant_id", existing_type=sa.String(length=64), nullable=False, server_default=""
        )
        batch_op.drop_constraint("uq_teams_accounts_aad_object_id", type_="unique")
        batch_op.create_unique_constraint("uq_teams_accounts_tenant_id", ["tenant_id", "aad_object_id"])
        batch_op.create_index("ix_teams_accounts_aad_object_id", ["aad_object_id"], unique=False)
        batch_op.create_index("ix_teams_accounts_upn", ["upn"], unique=False)

    op.create_table(
        "trusted_service_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("first_seen_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_service_urls")),
        sa.UniqueConstraint("url", name=op.f("uq_trusted_service_urls_url")),
    )
    op.execute(
        "INSERT INTO trusted_service_urls (url, first_seen_at)"
        " SELECT service_url, MIN(created_at) FROM conversation_refs"
        " WHERE service_url LIKE 'https://%' GROUP BY service_url"
    )


def downgrade() -> None:
    op.drop_table("trusted_service_urls")
    # Two tenants' accounts with one object id cannot share the old unique key: keep the newest.
    op.execute(
        "DELETE FROM teams_accounts WHERE id NOT IN ("
        " SELECT MAX(id) FROM teams_accounts GROUP BY aad_object_id)"
    )
    with op.batch_alter_table("teams_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_teams_accounts_upn")
        batch_op.drop_index("ix_teams_accounts_aad_object_id")
        batch_op.drop_constraint("uq_teams_accounts_tenant_id", type_="unique")
        batch_op.create_unique_constraint("uq_teams_accounts_aad_object_id", ["aad_object_id"])
        batch_op.alter_column(
            "tenant_id", existing_type=sa.String(length=64), nullable=True, server_default=None
        )
        batch_op.drop_column("upn")
