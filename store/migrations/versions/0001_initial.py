"""Initial schema: registry, submissions, findings, late filings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Written out in full (not importing ``store.models``) so that this revision keeps creating the same
schema however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _one_of(table: str, column: str, enum_name: str, *values: str) -> sa.CheckConstraint:
    """The CHECK that ``sa.Enum(native_enum=False)`` makes, under the models' naming convention."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{enum_name}"))


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("institution_id", sa.String(18), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("focus_small_micro_agri", sa.Boolean(), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("license_no", sa.String(64), nullable=False),
        sa.Column("pboc_area_code", sa.String(14), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("pull_url", sa.String(2048), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", name="pk_institutions"),
        _one_of("institutions", "kind", "institution_kind", "government", "commercial", "mixed"),
        _one_of("institutions", "status", "institution_status", "active", "suspended", "exited"),
    )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        # No foreign key to institutions: packages from unknown guarantors are recorded too (FMT-006).
        sa.Column("institution_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("package_sha256", sa.String(64), nullable=False),
        sa.Column("package_bytes", sa.BigInteger(), nullable=False),
        sa.Column("blob_key", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("template_version", sa.String(16), nullable=True),
        sa.Column("finding_counts", _json(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        _one_of("submissions", "source", "submission_source", "upload", "landing", "pull", "cli"),
        _one_of(
            "submissions",
            "state",
            "submission_state",
            *("received", "validating", "rejected", "needs_confirmation", "accepted", "published"),
        ),
        sa.UniqueConstraint(
            "institution_id", "period", "sequence", name="uq_submissions_institution_id_period_sequence"
        ),
    )
    op.create_index(
        "ix_submissions_institution_id_period_package_sha256",
        "submissions",
        ["institution_id", "period", "package_sha256"],
    )
    op.create_index("ix_submissions_period_state", "submissions", ["period", "state"])

    op.create_table(
        "findings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("row", sa.BigInteger(), nullable=True),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_findings_submission_id_submissions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
    )
    op.create_index("ix_findings_submission_id_rule_id", "findings", ["submission_id", "rule_id"])

    op.create_table(
        "late_filings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_id", sa.String(18), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.institution_id"],
            name="fk_late_filings_institution_id_institutions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_late_filings"),
        sa.UniqueConstraint("institution_id", "period", name="uq_late_filings_institution_id_period"),
    )
    op.create_index("ix_late_filings_period", "late_filings", ["period"])


def downgrade() -> None:
    op.drop_index("ix_late_filings_period", table_name="late_filings")
    op.drop_table("late_filings")
    op.drop_index("ix_findings_submission_id_rule_id", table_name="findings")
    op.drop_table("findings")
    op.drop_index("ix_submissions_period_state", table_name="submissions")
    op.drop_index("ix_submissions_institution_id_period_package_sha256", table_name="submissions")
    op.drop_table("submissions")
    op.drop_table("institutions")
