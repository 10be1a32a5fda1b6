"""Count wrong guesses of the phone's last 4 digits per case, and lock the check after too many.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the guess counter and the lock time to cases."""
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("phone_guesses", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("phone_check_locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Remove them."""
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("phone_check_locked_until")
        batch_op.drop_column("phone_guesses")
