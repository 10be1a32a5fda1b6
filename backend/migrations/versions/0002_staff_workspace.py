"""Staff workspace: staff accounts, sessions, audit log, case history, and case handling fields and indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("agent", "division_reviewer", "supervisor", "admin")
CASE_STATUSES = ("new", "acknowledged", "in_progress", "resolved", "closed")
UPDATE_KINDS = (
    "status",
    "note",
    "contact",
    "corrective_action",
    "preventive_action",
    "assignment",
    "division",
    "category",
    "reclassification",
    "escalation",
    "reply",
    "forward",
)
CONTACT_METHODS = ("phone", "email", "sms", "chat", "letter", "in_person")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# Keyset paging of the staff list, newest first, within each usual filter.
CASE_LIST_INDEXES = {
    "ix_cases_created_at_id": ["created_at", "id"],
    "ix_cases_division_created_at": ["division", "created_at", "id"],
    "ix_cases_status_created_at": ["status", "created_at", "id"],
    "ix_cases_kind_created_at": ["kind", "created_at", "id"],
    "ix_cases_service_code_created_at": ["service_code", "created_at", "id"],
    "ix_cases_channel_created_at": ["channel", "created_at", "id"],
    "ix_cases_assignee_id_created_at": ["assignee_id", "created_at", "id"],
}


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    """Create the staff tables and the case history, and add handling fields and list indexes to cases."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", _enum(ROLES, "staff_role"), nullable=False),
        sa.Column("divisions", JSON_DOCUMENT, nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_user_id_staff_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions") as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_sessions_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("stage", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        for name in (
            "acknowledged_at",
            "escalated_at",
            "resolved_at",
            "closed_at",
            "acknowledge_due_at",
            "respond_due_at",
            "due_at",
            "respond_clock_started_at",
        ):
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_assignee_id_staff_users"), "staff_users", ["assignee_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(batch_op.f("ix_cases_due_at"), ["due_at"], unique=False)
        for name, columns in CASE_LIST_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    # The default only filled existing rows; the model sets the value from now on.
    with op.batch_alter_table("cases") as batch_op:
        batch_op.alter_column("stage", server_default=None)

    op.create_table(
        "case_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(UPDATE_KINDS, "update_kind"), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", _enum(CASE_STATUSES, "case_status"), nullable=False),
        sa.Column("old_value", sa.String(length=255), nullable=True),
        sa.Column("new_value", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("contact_method", _enum(CONTACT_METHODS, "contact_method"), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_users.id"], name=op.f("fk_case_updates_author_id_staff_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_updates_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_updates")),
    )
    with op.batch_alter_table("case_updates") as batch_op:
        batch_op.create_index("ix_case_updates_case_id_id", ["case_id", "id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=254), nullable=True),
        sa.Column("before", JSON_DOCUMENT, nullable=False),
        sa.Column("after", JSON_DOCUMENT, nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], name=op.f("fk_audit_log_actor_id_staff_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_audit_log_case_id_cases"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_audit_log_case_id_id", ["case_id", "id"], unique=False)


def downgrade() -> None:
    """Drop the staff tables and the case history, and remove the handling fields from cases."""
    op.drop_table("audit_log")
    op.drop_table("case_updates")
    with op.batch_alter_table("cases") as batch_op:
        for name in CASE_LIST_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_index(batch_op.f("ix_cases_due_at"))
        batch_op.drop_constraint(batch_op.f("fk_cases_assignee_id_staff_users"), type_="foreignkey")
        for name in (
            "respond_clock_started_at",
            "due_at",
            "respond_due_at",
            "acknowledge_due_at",
            "closed_at",
            "resolved_at",
            "escalated_at",
            "acknowledged_at",
            "assignee_id",
            "stage",
        ):
            batch_op.drop_column(name)
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
