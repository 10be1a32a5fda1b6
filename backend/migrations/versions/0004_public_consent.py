"""Record whether the resident agreed to publish their words and the place in the public Open311 feed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the consent, false for the assistant's cases so far; Open311 clients publish by design."""
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("public_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
    cases = sa.table("cases", sa.column("channel", sa.String()), sa.column("public_consent", sa.Boolean()))
    op.execute(cases.update().where(cases.c.channel == "open311").values(public_consent=True))


def downgrade() -> None:
    """Remove it."""
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("public_consent")
