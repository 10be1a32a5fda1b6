"""Import every ORM model, so that `Base.metadata` describes all of the backend's tables (for Alembic)."""

from backend.cases.models import Case, CaseUpdate
from backend.database.base import Base
from backend.staff.models import AuditEntry, SignInFailure, StaffSession, StaffUser

metadata = Base.metadata

__all__ = ["AuditEntry", "Case", "CaseUpdate", "SignInFailure", "StaffSession", "StaffUser", "metadata"]
