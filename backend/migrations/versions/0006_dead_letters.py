"""Keep reports the case API refused as invalid (dead letters), for staff.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the dead-letter list."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("sender_id", sa.String(length=255), nullable=True),
        sa.Column("report", _JSON, nullable=False),
        sa.Column("problems", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_dead_letters_idempotency_key")),
    )
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.create_index("ix_dead_letters_created_at_id", ["created_at", "id"], unique=False)


def downgrade() -> None:
    """Drop the dead-letter list."""
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.drop_index("ix_dead_letters_created_at_id")
    op.drop_table("dead_letters")
