"""Import every ORM model, so that `Base.metadata` describes all of the backend's tables (for Alembic)."""

from backend.cases.models import Case
from backend.database.base import Base

metadata = Base.metadata

__all__ = ["Case", "metadata"]
