"""The web portal: API tokens, warning confirmations, the audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Written out in full (not importing ``store.models``), like 0001 and 0002, so that this revision keeps
creating the same schema however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("institution_id", sa.String(18), nullable=True),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.institution_id"], name="fk_api_tokens_institution_id_institutions"
        ),
        sa.ForeignKeyConstraint(["created_by"], ["api_tokens.id"], name="fk_api_tokens_created_by_api_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.CheckConstraint(
            "role IN ('guarantor', 'regulator', 'admin')", name=op.f("ck_api_tokens_token_role")
        ),
        sa.CheckConstraint(
            "(role = 'guarantor') = (institution_id IS NOT NULL)", name=op.f("ck_api_tokens_guarantor_institution")
        ),
    )
    op.create_index("ix_api_tokens_institution_id", "api_tokens", ["institution_id"])

    op.create_table(
        "warning_confirmations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(32), nullable=False),
        sa.Column("finding_id", sa.BigInteger(), nullable=True),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("row", sa.BigInteger(), nullable=True),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("confirmed_by", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_warning_confirmations_submission_id_submissions"
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["api_tokens.id"], name="fk_warning_confirmations_confirmed_by_api_tokens"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_warning_confirmations"),
    )
    op.create_index("ix_warning_confirmations_submission_id", "warning_confirmations", ["submission_id"])

    op.create_table(
        "audit_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("institution_id", sa.String(64), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("route", sa.String(255), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", _json(), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name="fk_audit_events_token_id_api_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_token_id", "audit_events", ["token_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_token_id", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_warning_confirmations_submission_id", table_name="warning_confirmations")
    op.drop_table("warning_confirmations")
    op.drop_index("ix_api_tokens_institution_id", table_name="api_tokens")
    op.drop_table("api_tokens")
