"""Browser sessions of the portal, so that logging out ends a session on the server.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

Written out in full (not importing ``store.models``), like 0001 to 0003, so that this revision keeps
creating the same schema however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name="fk_portal_sessions_token_id_api_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_portal_sessions"),
        sa.UniqueConstraint("session_hash", name="uq_portal_sessions_session_hash"),
    )
    op.create_index("ix_portal_sessions_token_id", "portal_sessions", ["token_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_token_id", table_name="portal_sessions")
    op.drop_table("portal_sessions")
