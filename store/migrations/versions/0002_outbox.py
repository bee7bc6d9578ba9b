"""Publication: credit-information feed states, the outbox, delivery receipts, feed feedback.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written out in full (not importing ``store.models``), like 0001, so that this revision keeps creating
the same schema however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
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
        "feed_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_id", sa.String(18), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("state_key", sa.String(255), nullable=False),
        sa.Column("accepted_key", sa.String(255), nullable=True),
        sa.Column("record_counts", _json(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.institution_id"], name="fk_feed_states_institution_id_institutions"
        ),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], name="fk_feed_states_submission_id_submissions"),
        sa.ForeignKeyConstraint(["base_id"], ["feed_states.id"], name="fk_feed_states_base_id_feed_states"),
        sa.PrimaryKeyConstraint("id", name="pk_feed_states"),
        sa.UniqueConstraint("submission_id", name="uq_feed_states_submission_id"),
    )
    op.create_index("ix_feed_states_institution_id_period", "feed_states", ["institution_id", "period"])

    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("institution_id", sa.String(18), nullable=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("file_name", sa.String(64), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("endpoint", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("body_key", sa.String(255), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("body_bytes", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_key", sa.String(255), nullable=True),
        sa.Column("feedback_rejected", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.institution_id"], name="fk_outbox_items_institution_id_institutions"
        ),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], name="fk_outbox_items_submission_id_submissions"),
        sa.ForeignKeyConstraint(["feed_id"], ["feed_states.id"], name="fk_outbox_items_feed_id_feed_states"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_items"),
        _one_of("outbox_items", "kind", "outbox_kind", "pboc", "cbrc", "cbrc_summary"),
        _one_of("outbox_items", "state", "outbox_state", "pending", "sending", "delivered", "failed"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_items_idempotency_key"),
    )
    op.create_index("ix_outbox_items_state_next_attempt_at", "outbox_items", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_items_period_kind", "outbox_items", ["period", "kind"])
    op.create_index("ix_outbox_items_feed_id", "outbox_items", ["feed_id"])

    op.create_table(
        "delivery_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbox_item_id", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("receipt", _json(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_item_id"], ["outbox_items.id"], name="fk_delivery_receipts_outbox_item_id_outbox_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_receipts"),
        sa.UniqueConstraint("outbox_item_id", name="uq_delivery_receipts_outbox_item_id"),
    )

    op.create_table(
        "feed_feedback",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("outbox_item_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(64), nullable=False),
        sa.Column("record_no", sa.Integer(), nullable=False),
        sa.Column("account_code", sa.String(255), nullable=False),
        sa.Column("report_date_code", sa.String(2), nullable=False),
        sa.Column("error_code", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feed_states.id"], name="fk_feed_feedback_feed_id_feed_states"),
        sa.ForeignKeyConstraint(
            ["outbox_item_id"], ["outbox_items.id"], name="fk_feed_feedback_outbox_item_id_outbox_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feed_feedback"),
    )
    op.create_index("ix_feed_feedback_feed_id", "feed_feedback", ["feed_id"])
    op.create_index("ix_feed_feedback_outbox_item_id", "feed_feedback", ["outbox_item_id"])


def downgrade() -> None:
    op.drop_index("ix_feed_feedback_outbox_item_id", table_name="feed_feedback")
    op.drop_index("ix_feed_feedback_feed_id", table_name="feed_feedback")
    op.drop_table("feed_feedback")
    op.drop_table("delivery_receipts")
    op.drop_index("ix_outbox_items_feed_id", table_name="outbox_items")
    op.drop_index("ix_outbox_items_period_kind", table_name="outbox_items")
    op.drop_index("ix_outbox_items_state_next_attempt_at", table_name="outbox_items")
    op.drop_table("outbox_items")
    op.drop_index("ix_feed_states_institution_id_period", table_name="feed_states")
    op.drop_table("feed_states")
