"""Create the cases table.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_KINDS = ("complaint", "compliment", "service_request")
CASE_STATUSES = ("new", "acknowledged", "in_progress", "resolved", "closed")


def upgrade() -> None:
    """Create the cases table and its indexes."""
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*CASE_KINDS, name="case_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(*CASE_STATUSES, name="case_status", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("division", sa.String(length=64), nullable=True),
        sa.Column("service_code", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_cases_idempotency_key")),
    )
    with op.batch_alter_table("cases") as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_reference"), ["reference"], unique=True)
        batch_op.create_index(batch_op.f("ix_cases_sender_id"), ["sender_id"], unique=False)


def downgrade() -> None:
    """Drop the cases table."""
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_sender_id"))
        batch_op.drop_index(batch_op.f("ix_cases_reference"))
    op.drop_table("cases")
