"""Template 1.1-draft: the registry's third-party rating and systemic flag; bank tokens.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10

Institutions gain ``rating_agency``, ``rating_grade``, ``rating_date`` (五(十一), 六(十六)) and
``systemic`` (六(十四)); API tokens gain the ``bank`` role and its ``lender_code``.
Written out in full (not importing ``store.models``), like the revisions before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institutions") as batch:
        batch.add_column(sa.Column("rating_agency", sa.String(120), nullable=True))
        batch.add_column(sa.Column("rating_grade", sa.String(8), nullable=True))
        batch.add_column(sa.Column("rating_date", sa.String(10), nullable=True))
        batch.add_column(sa.Column("systemic", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("lender_code", sa.String(20), nullable=True))
        batch.drop_constraint(op.f("ck_api_tokens_token_role"), type_="check")
        batch.create_check_constraint(op.f("ck_api_tokens_token_role"), "role IN ('guarantor', 'bank', 'regulator', 'admin')")
        batch.create_check_constraint(op.f("ck_api_tokens_bank_lender"), "(role = 'bank') = (lender_code IS NOT NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM api_tokens WHERE role = 'bank'")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("ck_api_tokens_bank_lender"), type_="check")
        batch.drop_constraint(op.f("ck_api_tokens_token_role"), type_="check")
        batch.create_check_constraint(op.f("ck_api_tokens_token_role"), "role IN ('guarantor', 'regulator', 'admin')")
        batch.drop_column("lender_code")
    with op.batch_alter_table("institutions") as batch:
        batch.drop_column("systemic")
        batch.drop_column("rating_date")
        batch.drop_column("rating_grade")
        batch.drop_column("rating_agency")
