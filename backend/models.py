"""Import every ORM model, so that `Base.metadata` describes all of the backend's tables (for Alembic)."""

from backend.audit.models import AuditEntry
from backend.cases.models import Case, CaseUpdate
from backend.database.base import Base
from backend.dead_letters.models import DeadLetter
from backend.staff.models import SignInFailure, StaffSession, StaffUser

metadata = Base.metadata

__all__ = ["AuditEntry", "Case", "CaseUpdate", "DeadLetter", "SignInFailure", "StaffSession", "StaffUser", "metadata"]
