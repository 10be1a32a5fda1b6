"""Count failed sign-ins per client address (and email) instead of locking accounts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the failure counts; drop the accounts' own lock, which anyone knowing an email could set."""
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
        sa.UniqueConstraint("address", "email", name=op.f("uq_sign_in_failures_address")),
    )
    with op.batch_alter_table("sign_in_failures") as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_window_started_at"), ["window_started_at"], unique=False)
    # ALTER TABLE ... DROP COLUMN, never a copy of the table: on SQLite, dropping the old copy of staff_users would
    # delete every session and unlink the audit log from its authors through their foreign keys.
    with op.batch_alter_table("staff_users", recreate="never") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")


def downgrade() -> None:
    """Give the accounts their lock back (unlocked) and drop the failure counts."""
    with op.batch_alter_table("staff_users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sign_in_failures") as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_window_started_at"))
    op.drop_table("sign_in_failures")
